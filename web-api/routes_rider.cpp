// The rider's mini-program (CONTRACT B): profile, nearby stations, sockets, sessions, wallet,
// payments, IC cards. A rider only ever reaches its own rows: another rider's session is 404.
#include "common/ledger.hpp"
#include "common/log.hpp"
#include "common/payments.hpp"
#include "common/socket_code.hpp"
#include "web-api/device_cache.hpp"
#include "web-api/geo.hpp"
#include "web-api/identity_store.hpp"
#include "web-api/notifications.hpp"
#include "web-api/openapi_schemas.hpp"
#include "web-api/prepaid_amounts.hpp"
#include "web-api/routes_common.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace pilehub::api {
namespace {

/// The rider at the channel's provider (WeChat openid, Alipay user_id): the identity they logged in
/// with (CONTRACT F.1). The sandbox needs none.
std::string payer_at(db::Database& d, std::int64_t account_id, const std::string& channel) {
    if (channel == "sandbox")
        return "";
    auto subject = IdentityStore(d).subject_of(account_id, channel);
    if (!subject)
        fail(ErrorCode::Conflict,
             fmt::format("paying with {} needs the rider's {} identity: log in once with the {} mini-program", channel,
                         channel, channel));
    return *subject;
}

/// A provider's notification as received: the body and the headers providers sign.
payments::CallbackRequest callback_request(const Request& req) {
    payments::CallbackRequest cb;
    cb.body = req.body_text();
    for (const char* h :
         {"content-type", "wechatpay-signature", "wechatpay-timestamp", "wechatpay-nonce", "wechatpay-serial"})
        if (auto v = req.header(h))
            cb.headers[h] = *v;
    return cb;
}

/// Free and total sockets and guns of stations (StationCounts: together and per kind), from the
/// registry, live sessions, open faults, presence and the ports' last reported state; served from
/// s.station_counts for stations counted within settings.station_counts_ttl_ms.
std::map<std::int64_t, StationCounts> station_counts(Services& s, CatalogStore& cat,
                                                     const std::vector<std::int64_t>& ids) {
    std::map<std::int64_t, StationCounts> out;
    const auto now = s.now();
    std::vector<std::int64_t> missing;
    for (auto id : ids) {
        if (auto c = s.station_counts.get(id, now, s.settings.station_counts_ttl_ms))
            out[id] = *c;
        else
            missing.push_back(id);
    }
    if (missing.empty())
        return out;
    const auto generation = s.station_counts.generation();
    std::map<std::int64_t, StationCounts> counted;
    for (auto id : missing)
        counted[id] = StationCounts{};
    SocketStates states(s, cat, missing);
    for (const auto& p : cat.rider_ports(missing))
        counted[p.station_id].add(p.kind, states.availability(p.device_id, p.n) == sockets::Availability::Free);
    for (const auto& [id, c] : counted) {
        s.station_counts.put(id, c, now, generation);
        out[id] = c;
    }
    return out;
}

/// `free_sockets`, `total_sockets` (every socket and gun, as before cars), then `ebike` and `ev`:
/// `{free, total}` each.
void write_counts(json::Writer& w, const StationCounts& c) {
    w.field("free_sockets", c.all.free).field("total_sockets", c.all.total);
    for (const auto& [key, k] : {std::pair{"ebike", &c.ebike}, std::pair{"ev", &c.ev}})
        w.key(key).begin_object().field("free", k->free).field("total", k->total).end_object();
}

/// A gun's OCPP status (its last `conn/{n}/state` st; null before it reported one), connector and rating.
void write_gun(json::Writer& w, Services& s, CatalogStore& cat, const std::string& device_id, int n) {
    const auto live = s.devices ? s.devices->port(device_id, n) : std::nullopt;
    w.nullable_field("ocpp_status", live && !live->st.empty() ? std::optional(live->st) : std::nullopt);
    const auto gun = cat.gun(device_id, n);
    w.nullable_field("rated_power_w", gun ? std::optional(gun->rated_power_w) : std::nullopt);
    w.nullable_field("connector_type", gun ? gun->connector_type : std::nullopt);
    w.nullable_field("current_type", gun ? std::optional(gun->current_type) : std::nullopt);
}

/// The longest `mode` text a start request may carry (longer: invalid_request); a word that is
/// not a billing::Mode is invalid_mode.
constexpr std::size_t kMaxModeWordLen = 16;

/// `max_fen`: any integer reaches the handler, so a value out of range is `invalid_amount` (422)
/// like one the station does not offer, rather than the generic invalid_request.
FieldSpec max_fen_field() {
    auto f = integer("max_fen", false, 1, svc::kMaxPrepaidFen,
                     "The rider's prepaid amount, fen: the session stops as quota_reached when its cost reaches it. "
                     "One of the station's prepaid_amounts_fen when it has some; else any amount in range "
                     "(invalid_amount otherwise).");
    f.min.reset();
    f.max.reset();
    return f;
}

/// Whether the gun serves a parking space whose active reservation is another account's: such a
/// gun is not offered to `account_id` (CONTRACT E.1).
bool gun_reserved_for_other(db::Database& d, std::int64_t account_id, const std::string& device_id, int n) {
    const auto holder = ParkingStore(d).gun_reserved_by(device_id, n);
    return holder && *holder != account_id;
}

const SessionRow& own_session(const std::optional<SessionRow>& row, const Principal& who) {
    // Another rider's session is indistinguishable from none at all.
    if (!row || row->account_id != who.id)
        fail(ErrorCode::NotFound, "no such session");
    return *row;
}

/// `{session: {...}}` (start, stop) or, for GET /sessions/{id}, the session's fields at the top
/// level with its power curve (CONTRACT B).
std::string session_reply(Services& s, const SessionRow& row, bool detail) {
    json::Writer w;
    w.begin_object();
    if (!detail)
        w.key("session").begin_object();
    write_session(w, s, row, false);
    if (detail && s.telemetry) {
        auto tele = s.telemetry->get();
        write_curve(w, s, session_samples(*tele, row.id, 500));
    }
    if (!detail)
        w.end_object();
    w.end_object();
    return w.str();
}

} // namespace

void add_rider_routes(Router& r, Services& s) {
    r.add(
        Route::make(Method::Get, "/api/v1/me", "me", "rider", "Profile, wallet and bound card")
            .rider()
            .returns(schemas::object(
                R"("id":{"type":"integer","format":"int64"},"phone":{"type":"string"},"name":{"type":"string"},)"
                R"("frozen":{"type":"boolean"},"created_at":{"type":"string","format":"date-time"},)"
                R"("wallet":{"type":"object","additionalProperties":false,)"
                R"("required":["balance_fen","bonus_fen","arrears_fen"],"properties":{"balance_fen":{"type":"integer"},)"
                R"("bonus_fen":{"type":"integer"},"arrears_fen":{"type":"integer"}}},)"
                R"("card":{"type":"object","nullable":true,"additionalProperties":false,)"
                R"("required":["card_no","name","status"],"properties":{"card_no":{"type":"string"},)"
                R"("name":{"type":"string"},"status":{"type":"string"}}},)"
                R"("active_sessions":{"type":"array","items":{"type":"string"}})",
                R"("id","phone","name","frozen","created_at","wallet","card","active_sessions")"))
            .handle([&s](Request& req) {
                auto d = s.core->get();
                AccountStore accounts(*d);
                auto a = accounts.account(req.who.id);
                if (!a)
                    fail(ErrorCode::Unauthorized, "the account no longer exists");
                json::Writer w;
                w.begin_object();
                w.field("id", a->id).field("phone", a->phone).field("name", a->name).field("frozen", a->frozen);
                w.field("created_at", when(s, a->created_at));
                w.key("wallet")
                    .begin_object()
                    .field("balance_fen", a->balance_fen)
                    .field("bonus_fen", a->bonus_fen)
                    .field("arrears_fen", a->arrears_fen)
                    .end_object();
                w.key("card");
                if (auto c = accounts.active_card(a->id))
                    w.begin_object()
                        .field("card_no", c->card_no)
                        .field("name", c->name)
                        .field("status", c->status)
                        .end_object();
                else
                    w.null();
                SessionFilter f;
                f.account_id = a->id;
                f.state = "active";
                f.limit = 10;
                w.key("active_sessions").begin_array();
                for (const auto& row : SessionStore(*d).sessions(f))
                    w.value(row.id);
                w.end_array();
                w.end_object();
                return Response::json(w.str());
            }));

    r.add(Route::make(Method::Put, "/api/v1/me", "me.update", "rider", "Change the profile name")
              .rider()
              .field(str("name", true, 64, "Display name."))
              .returns(schemas::object(R"("updated":{"type":"boolean"})", R"("updated")"))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  const auto name = b.req_str("name", 64);
                  req.check_body();
                  auto d = s.core->get();
                  AccountStore(*d).set_name(req.who.id, name);
                  return Response::json(R"({"updated":true})");
              }));

    r.add(
        Route::make(Method::Get, "/api/v1/stations/nearby", "stations.nearby", "rider",
                    "Stations within a radius, nearest first, with free and total sockets (also e-bike and car apart) "
                    "and open_now")
            .rider()
            .q(number("lat", true, -90, 90, "Latitude, degrees (WGS 84)."))
            .q(number("lon", true, -180, 180, "Longitude, degrees."))
            .q(integer("radius_m", false, 1, 50000, "Search radius in metres (default 5000)."))
            .q(integer("limit", false, 1, 200, "At most this many stations (default 50)."))
            .returns(schemas::list_of(
                "stations",
                schemas::object(
                    std::string(R"("id":{"type":"integer","format":"int64"},"name":{"type":"string"},)"
                                R"("address":{"type":"string"},"lat":{"type":"number"},"lon":{"type":"number"},)"
                                R"("distance_m":{"type":"integer"},"open_hours":{"type":"string"},)"
                                R"("open_now":{"type":"boolean"},)") +
                        schemas::kCountsProps,
                    std::string(R"("id","name","address","lat","lon","distance_m","open_hours","open_now",)") +
                        schemas::kCountsRequired)))
            .handle([&s](Request& req) {
                const double lat = *req.query_num("lat"), lon = *req.query_num("lon");
                const double radius =
                    static_cast<double>(req.query_int("radius_m").value_or(s.settings.default_radius_m));
                const auto limit = static_cast<std::size_t>(req.query_int("limit").value_or(50));
                const auto box = geo::bounding_box(lat, lon, radius);
                auto d = s.core->get();
                CatalogStore cat(*d);
                struct Hit {
                    StationRow st;
                    double dist;
                };
                std::vector<Hit> hits;
                for (auto& st : cat.visible_stations_in_box(box.lat_min_e6, box.lat_max_e6, box.lon_min_e6,
                                                            box.lon_max_e6, box.lon_wraps, box.all_lon)) {
                    const double dist = geo::distance_m(lat, lon, static_cast<double>(st.lat_e6) / 1e6,
                                                        static_cast<double>(st.lon_e6) / 1e6);
                    if (dist <= radius)
                        hits.push_back(Hit{std::move(st), dist});
                }
                std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
                    return a.dist != b.dist ? a.dist < b.dist : a.st.id < b.st.id;
                });
                if (hits.size() > limit)
                    hits.resize(limit);
                std::vector<std::int64_t> ids;
                for (const auto& h : hits)
                    ids.push_back(h.st.id);
                const auto counts = station_counts(s, cat, ids);
                const auto now = s.now();
                json::Writer w;
                w.begin_object().key("stations").begin_array();
                for (const auto& h : hits) {
                    const auto& st = h.st;
                    const auto hours = geo::parse_open_hours(st.open_hours);
                    const auto tz = billing::find_time_zone(st.timezone);
                    const bool open =
                        hours && geo::open_at(*hours, now, tz ? tz->utc_offset_s : s.settings.utc_offset_s);
                    const auto c = counts.find(st.id);
                    w.begin_object().field("id", st.id).field("name", st.name).field("address", st.address);
                    w.field("lat", static_cast<double>(st.lat_e6) / 1e6)
                        .field("lon", static_cast<double>(st.lon_e6) / 1e6);
                    w.field("distance_m", static_cast<std::int64_t>(std::llround(h.dist)));
                    w.field("open_hours", st.open_hours).field("open_now", open);
                    write_counts(w, c == counts.end() ? StationCounts{} : c->second);
                    w.end_object();
                }
                w.end_array().end_object();
                return Response::json(w.str());
            }));

    r.add(Route::make(Method::Get, "/api/v1/stations/{id}", "stations.get", "rider",
                      "A station with its sockets and guns, their states, free counts per kind, prepaid amounts and "
                      "tariff")
              .rider()
              .param(id_param())
              .returns(schemas::object(
                  std::string(R"("id":{"type":"integer","format":"int64"},"name":{"type":"string"},)"
                              R"("address":{"type":"string"},"lat":{"type":"number"},"lon":{"type":"number"},)"
                              R"("open_hours":{"type":"string"},"open_now":{"type":"boolean"},)"
                              R"("sockets":{"type":"array","items":{"type":"object","additionalProperties":false,)"
                              R"("required":["code","kind","state"],"properties":{"code":{"type":"string"},)"
                              R"("kind":{"type":"string","enum":["socket","ev_gun"]},"state":{"type":"string"}}}},)") +
                      schemas::kCountsProps + "," + schemas::kPrepaidProps + R"(,"tariff":)" +
                      R"({"type":"object","nullable":true,"additionalProperties":false,"required":["name","version",)" +
                      schemas::kModesRequired +
                      R"(],"properties":{"name":{"type":"string"},"version":{"type":"integer"},)" +
                      schemas::kModesProps + "}}",
                  std::string(R"("id","name","address","lat","lon","open_hours","open_now","sockets",)") +
                      schemas::kCountsRequired + R"(,"prepaid_amounts_fen","tariff")"))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  auto st = cat.station(req.param_int("id"));
                  if (!st || !st->visible)
                      fail(ErrorCode::NotFound, "no such station");
                  const auto hours = geo::parse_open_hours(st->open_hours);
                  const auto tz = billing::find_time_zone(st->timezone);
                  json::Writer w;
                  w.begin_object();
                  w.field("id", st->id).field("name", st->name).field("address", st->address);
                  w.field("lat", static_cast<double>(st->lat_e6) / 1e6)
                      .field("lon", static_cast<double>(st->lon_e6) / 1e6);
                  w.field("open_hours", st->open_hours);
                  w.field("open_now",
                          hours && geo::open_at(*hours, s.now(), tz ? tz->utc_offset_s : s.settings.utc_offset_s));
                  // The station's own view counts live, from the states it lists (no shared count).
                  StationCounts counts;
                  w.key("sockets").begin_array();
                  SocketStates states(s, cat, {st->id});
                  for (const auto& p : cat.rider_ports({st->id})) {
                      const auto a = states.availability(p.device_id, p.n);
                      counts.add(p.kind, a == sockets::Availability::Free);
                      w.begin_object()
                          .field("code", sockets::socket_code({p.device_id, p.n}))
                          .field("kind", rider_port_kind(p.kind))
                          .field("state", sockets::rider_word(a))
                          .end_object();
                  }
                  w.end_array();
                  write_counts(w, counts);
                  write_prepaid_amounts(w, cat.prepaid_amounts(st->id));
                  if (auto t = cat.tariff_in_force(st->id, std::nullopt, std::nullopt, s.now())) {
                      w.key("tariff").begin_object().field("name", t->second.name).field("version", t->first.version);
                      write_modes(w, t->second, s.now());
                      w.end_object();
                  } else {
                      w.key("tariff").null();
                  }
                  w.end_object();
                  return Response::json(w.str());
              }));

    r.add(
        Route::make(Method::Get, "/api/v1/sockets/{code}", "sockets.get", "rider",
                    "A socket or EV gun by the code in its QR (<device_id>-<n>): state (a gun also its OCPP status, "
                    "connector and rating), station, prepaid amounts, modes with prices")
            .rider()
            .param(key_param("code", "The socket code, e.g. demo-e00001-3."))
            .refuses({ErrorCode::UnknownSocket})
            .returns(schemas::object(
                std::string(R"("code":{"type":"string"},"device_id":{"type":"string"},"n":{"type":"integer"},)"
                            R"("kind":{"type":"string","enum":["socket","ev_gun"]},"state":{"type":"string"},)"
                            R"("reserved":{"type":"boolean"},"ocpp_status":{"type":"string","nullable":true},)"
                            R"("rated_power_w":{"type":"integer","nullable":true},)"
                            R"("connector_type":{"type":"string","nullable":true},)"
                            R"("current_type":{"type":"string","nullable":true},)"
                            R"("station":{"type":"object","additionalProperties":false,)"
                            R"("required":["id","name","address","open_hours"],)"
                            R"("properties":{"id":{"type":"integer","format":"int64"},"name":{"type":"string"},)"
                            R"("address":{"type":"string"},"open_hours":{"type":"string"}}},)") +
                    schemas::kPrepaidProps +
                    R"(,"tariff":{"type":"object","nullable":true,"additionalProperties":false,)"
                    R"("required":["name","version","level"],"properties":{"name":{"type":"string"},)"
                    R"("version":{"type":"integer"},"level":{"type":"string"}}},)" +
                    schemas::kModesProps,
                R"("code","device_id","n","kind","state","reserved","station","prepaid_amounts_fen","tariff","modes")"))
            .handle([&s](Request& req) {
                const auto code = req.param("code");
                auto parsed = sockets::parse_socket_code(code);
                if (!parsed)
                    fail(ErrorCode::UnknownSocket, "no such socket");
                auto d = s.core->get();
                CatalogStore cat(*d);
                if (!cat.port_visible(parsed->device_id, parsed->n))
                    fail(ErrorCode::UnknownSocket, "no such socket");
                auto dev = cat.device(parsed->device_id);
                auto st = cat.station(dev->station_id.value_or(0)); // port_visible: it is installed
                json::Writer w;
                w.begin_object().field("code", code).field("device_id", dev->id).field("n", parsed->n);
                w.field("kind", rider_port_kind(dev->kind));
                w.field("state", socket_state(s, cat, dev->id, parsed->n));
                // A gun serving a space another rider has reserved is not offered to this one (CONTRACT E.1).
                w.field("reserved", gun_reserved_for_other(*d, req.who.id, dev->id, parsed->n));
                if (dev->kind == "ev_charger")
                    write_gun(w, s, cat, dev->id, parsed->n);
                w.key("station")
                    .begin_object()
                    .field("id", st->id)
                    .field("name", st->name)
                    .field("address", st->address);
                w.field("open_hours", st->open_hours).end_object();
                write_prepaid_amounts(w, cat.prepaid_amounts(st->id));
                if (auto t = cat.tariff_in_force(st->id, dev->area_id, dev->id, s.now())) {
                    w.key("tariff")
                        .begin_object()
                        .field("name", t->second.name)
                        .field("version", t->first.version)
                        .field("level", billing::to_string(t->first.level()))
                        .end_object();
                    write_modes(w, t->second, s.now());
                } else {
                    w.key("tariff").null();
                    w.key("modes").begin_array().end_array();
                }
                w.end_object();
                return Response::json(w.str());
            }));

    r.add(Route::make(Method::Post, "/api/v1/sessions", "sessions.start", "rider",
                      "Start charging at a socket (answered within 1 s with the starting session)")
              .rider()
              .field(str("socket", true, svc::kMaxSocketCodeLen, "Socket code <device_id>-<n>."))
              .field(str("mode", true, kMaxModeWordLen, "time, power or energy (as the socket's tariff offers)."))
              .field(integer("minutes", false, svc::kMinMinutes, svc::kMaxMinutes,
                             "Time mode: the duration chosen from the tariff's options."))
              .field(max_fen_field())
              .ok(202)
              .refuses({ErrorCode::UnknownSocket, ErrorCode::SocketBusy, ErrorCode::SessionLimit,
                        ErrorCode::DeviceOffline, ErrorCode::BalanceTooLow, ErrorCode::AccountFrozen,
                        ErrorCode::Arrears, ErrorCode::SocketFaulted, ErrorCode::InvalidMode, ErrorCode::InvalidAmount,
                        ErrorCode::Timeout, ErrorCode::SpaceReserved, ErrorCode::DeviceNotInstalled})
              // The session as stored, or (when it cannot be read back) what sessiond answered.
              .returns(schemas::one_of_key(
                  "session", R"({"anyOf":[{"$ref":"#/components/schemas/Session"},)" +
                                 schemas::object(R"("id":{"type":"string"},"state":{"type":"string"},)"
                                                 R"("socket":{"type":"string"},"mode":{"type":"string"},)"
                                                 R"("minutes":{"type":"integer"},"max_fen":{"type":"integer"})",
                                                 R"("id","state","socket","mode")") +
                                 "]}"))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  const auto socket = b.req_str("socket", svc::kMaxSocketCodeLen);
                  const auto mode_word = b.req_str("mode", kMaxModeWordLen);
                  const auto minutes = b.opt_int("minutes", svc::kMinMinutes, svc::kMaxMinutes);
                  const auto max_fen = b.opt_int("max_fen");
                  req.check_body();
                  auto parsed = sockets::parse_socket_code(socket);
                  if (!parsed)
                      fail(ErrorCode::UnknownSocket, "no such socket");
                  const auto mode = billing::parse_mode(mode_word);
                  if (!mode)
                      fail(ErrorCode::InvalidMode, "mode must be time, power or energy");
                  if (*mode == billing::Mode::Time && !minutes)
                      fail(ErrorCode::InvalidMode, "time mode needs minutes");
                  {
                      auto d = s.core->get();
                      CatalogStore cat(*d);
                      if (!cat.port_visible(parsed->device_id, parsed->n)) {
                          // CONTRACT G "Lifecycle": a device in stock or retired says so.
                          const auto dev = cat.device(parsed->device_id);
                          if (dev && dev->lifecycle != "installed" && cat.port(dev->id, parsed->n))
                              fail(ErrorCode::DeviceNotInstalled, "this socket's device is not installed");
                          fail(ErrorCode::UnknownSocket, "no such socket");
                      }
                      if (gun_reserved_for_other(*d, req.who.id, parsed->device_id, parsed->n))
                          fail(ErrorCode::SpaceReserved, "this gun serves a parking space reserved for another rider");
                      if (max_fen)
                          if (const auto why = max_fen_problem(
                                  *max_fen, cat.prepaid_amounts(cat.device(parsed->device_id)->station_id.value_or(0))))
                              fail(ErrorCode::InvalidAmount, *why);
                  }
                  svc::StartRequest start;
                  start.account_id = req.who.id;
                  start.socket = socket;
                  start.mode = *mode;
                  start.minutes = minutes;
                  if (max_fen)
                      start.max_fen = Fen(*max_fen);
                  const auto started =
                      reply_data<svc::StartReply>(call_sessiond(s, start, s.settings.rpc_timeout_ms)).session;
                  auto d = s.core->get();
                  if (auto row = SessionStore(*d).session(started.id); row && row->account_id == req.who.id)
                      return Response::json(session_reply(s, *row, false), 202);
                  json::Writer out;
                  out.begin_object().key("session").begin_object().field("id", started.id);
                  out.field("state", svc::to_string(started.state)).field("socket", started.socket);
                  out.field("mode", billing::to_string(started.mode)).opt_field("minutes", started.minutes);
                  if (started.max_fen)
                      out.field("max_fen", started.max_fen->value());
                  out.end_object().end_object();
                  return Response::json(out.str(), 202);
              }));

    r.add(Route::make(Method::Get, "/api/v1/sessions", "sessions.list", "rider", "The rider's sessions, newest first")
              .rider()
              .q(str_enum("state", false, {"active", "all"}, "active (running) or all (default)."))
              .q(limit_param())
              .q(offset_param())
              .returns(schemas::list_of("sessions", schemas::ref("Session")))
              .handle([&s](Request& req) {
                  SessionFilter f;
                  f.account_id = req.who.id;
                  f.state = req.query("state").value_or("all") == "active" ? "active" : "";
                  f.limit = req.query_int("limit").value_or(50);
                  f.offset = req.query_int("offset").value_or(0);
                  return Response::json(sessions_reply(s, f, false));
              }));

    r.add(Route::make(Method::Get, "/api/v1/sessions/{id}", "sessions.get", "rider",
                      "One of the rider's sessions, live, with its power curve")
              .rider()
              .param(key_param("id", "Session id."))
              .refuses({ErrorCode::NotFound})
              .returns(
                  schemas::object(std::string(schemas::kSessionProps) +
                                      R"(,"curve":{"type":"array","items":{"$ref":"#/components/schemas/CurvePoint"}})",
                                  schemas::kSessionRequired))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  const auto row = SessionStore(*d).session(req.param("id"));
                  return Response::json(session_reply(s, own_session(row, req.who), true));
              }));

    r.add(Route::make(Method::Post, "/api/v1/sessions/{id}/stop", "sessions.stop", "rider",
                      "Stop one of the rider's sessions")
              .rider()
              .param(key_param("id", "Session id."))
              .ok(202)
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict, ErrorCode::DeviceOffline, ErrorCode::Timeout})
              .returns(schemas::one_of_key("session", schemas::ref("Session")))
              .handle([&s](Request& req) {
                  {
                      auto d = s.core->get();
                      const auto row = SessionStore(*d).session(req.param("id"));
                      if (!svc::holds_socket(own_session(row, req.who).state))
                          fail(ErrorCode::Conflict, "the session has already ended");
                  }
                  call_sessiond(s, svc::StopRequest{req.param("id"), svc::StopCause::UserStop, "rider"},
                                s.settings.rpc_timeout_ms);
                  auto d = s.core->get();
                  const auto row = SessionStore(*d).session(req.param("id"));
                  return Response::json(session_reply(s, own_session(row, req.who), false), 202);
              }));

    // ---- wallet and payments ----
    r.add(
        Route::make(Method::Get, "/api/v1/wallet", "wallet.get", "rider", "Balances and the recharge packages on offer")
            .rider()
            .returns(schemas::object(
                R"("balance_fen":{"type":"integer"},"bonus_fen":{"type":"integer"},"available_fen":{"type":"integer"},)"
                R"("frozen":{"type":"boolean"},"arrears_fen":{"type":"integer"},"refundable_fen":{"type":"integer"},)"
                R"("packages":{"type":"array","items":{"type":"object","additionalProperties":false,)"
                R"("required":["id","name","pay_fen","bonus_fen"],"properties":{"id":{"type":"integer","format":"int64"},)"
                R"("name":{"type":"string"},"pay_fen":{"type":"integer"},"bonus_fen":{"type":"integer"}}}},)"
                R"("online_recharge":{"type":"boolean"},"channels":{"type":"array","items":{"type":"string"}})",
                R"("balance_fen","bonus_fen","available_fen","frozen","arrears_fen","refundable_fen","packages",)"
                R"("online_recharge","channels")"))
            .handle([&s](Request& req) {
                auto d = s.core->get();
                ledger::Ledger l(*d, *s.clock);
                auto wallet = l.wallet(req.who.id);
                if (!wallet)
                    fail(ErrorCode::NotFound, "no wallet");
                json::Writer w;
                w.begin_object()
                    .field("balance_fen", wallet->balance_fen.value())
                    .field("bonus_fen", wallet->bonus_fen.value());
                w.field("available_fen", wallet->available().value()).field("frozen", wallet->frozen);
                w.field("arrears_fen", wallet->arrears_fen.value());
                w.field("refundable_fen", l.refundable(req.who.id).value());
                w.key("packages").begin_array();
                for (const auto& p : l.packages(true))
                    w.begin_object()
                        .field("id", p.id)
                        .field("name", p.name)
                        .field("pay_fen", p.pay_fen.value())
                        .field("bonus_fen", p.bonus_fen.value())
                        .end_object();
                w.end_array().field("online_recharge", !s.payment_provider.empty());
                // The channels a recharge may name, the default first.
                w.key("channels").begin_array();
                if (!s.payment_provider.empty())
                    w.value(s.payment_provider);
                for (const auto& c : s.providers.names())
                    if (c != s.payment_provider)
                        w.value(c);
                w.end_array().end_object();
                return Response::json(w.str());
            }));

    r.add(
        Route::make(Method::Get, "/api/v1/wallet/ledger", "wallet.ledger", "rider", "The rider's ledger, newest first")
            .rider()
            .q(limit_param())
            .q(integer("before_id", false, 1, INT64_MAX, "Page on: entries older than this id."))
            .returns(schemas::list_of("entries", schemas::ref("LedgerEntry")))
            .handle([&s](Request& req) {
                auto d = s.core->get();
                AccountStore accounts(*d);
                json::Writer w;
                w.begin_object().key("entries").begin_array();
                for (const auto& e :
                     accounts.ledger(req.who.id, req.query_int("limit").value_or(50), req.query_int("before_id")))
                    write_ledger_entry(w, s, e, false);
                w.end_array().end_object();
                return Response::json(w.str());
            }));

    r.add(Route::make(Method::Post, "/api/v1/wallet/recharge", "wallet.recharge", "rider",
                      "Create a payment order for an amount or a recharge package through a channel; the provider's "
                      "notification credits the wallet once")
              .rider()
              .field(integer("amount_fen", false, 1, payments::Payments::kMaxRechargeFen, "Amount to pay, fen."))
              .field(integer("package_id", false, 1, INT64_MAX, "Or a recharge package."))
              .field(str_enum("channel", false, {"wechat", "alipay", "sandbox"},
                              "wechat, alipay or sandbox (development); default: the installation's first channel."))
              .ok(201)
              .answers("`{payment_id, channel, amount_fen, pay_params, payment}`: pay_params for wechat are "
                       "wx.requestPayment's `{appId, timeStamp, nonceStr, package, signType, paySign}`, for alipay "
                       "`{trade_no}`")
              .refuses({ErrorCode::AccountFrozen, ErrorCode::NotFound, ErrorCode::Unsupported, ErrorCode::Conflict})
              .returns(schemas::object(
                  R"("payment_id":{"type":"string"},"channel":{"type":"string"},"amount_fen":{"type":"integer"},)"
                  R"("payment":{"$ref":"#/components/schemas/Payment"},)"
                  R"("pay_params":{"type":"object","nullable":true})",
                  R"("payment_id","channel","amount_fen","payment","pay_params")"))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  const auto amount = b.opt_int("amount_fen", 1, payments::Payments::kMaxRechargeFen);
                  const auto package = b.opt_int("package_id", 1, INT64_MAX);
                  const auto channel = b.opt_str("channel", 16).value_or(s.payment_provider);
                  req.check_body();
                  if (amount.has_value() == package.has_value())
                      fail(ErrorCode::InvalidRequest, "give exactly one of amount_fen and package_id");
                  if (channel.empty())
                      fail(ErrorCode::Unsupported, "online recharge is not configured on this installation");
                  if (!s.providers.find(channel))
                      fail(ErrorCode::Unsupported,
                           fmt::format("payment channel `{}` is not configured on this installation", channel));
                  auto d = s.core->get();
                  payments::OrderRequest o;
                  o.account_id = req.who.id;
                  if (amount)
                      o.amount_fen = Fen(*amount);
                  o.package_id = package;
                  o.provider = channel;
                  o.payer_id = payer_at(*d, req.who.id, channel);
                  auto created = payments::Payments(*d, s.providers, *s.clock).create_order(o);
                  if (created.status != payments::CreateStatus::Created) {
                      const auto code = payments::error_code(created.status).value_or(ErrorCode::Internal);
                      fail(code,
                           created.detail.empty() ? std::string(payments::to_string(created.status)) : created.detail);
                  }
                  json::Writer w;
                  w.begin_object()
                      .field("payment_id", created.order->id)
                      .field("channel", created.order->provider)
                      .field("amount_fen", created.order->amount_fen.value());
                  w.key("payment");
                  write_payment(w, s, *created.order);
                  w.key("pay_params");
                  if (auto doc = json::parse(created.params->json); doc)
                      w.raw_value(*doc);
                  else
                      w.null();
                  w.end_object();
                  return Response::json(w.str(), 201);
              }));

    r.add(
        Route::make(Method::Get, "/api/v1/payments/{id}", "payments.get", "rider", "One of the rider's payment orders")
            .rider()
            .param(key_param("id", "Payment id."))
            .refuses({ErrorCode::NotFound})
            .returns(schemas::one_of_key("payment", schemas::ref("Payment")))
            .handle([&s](Request& req) {
                auto d = s.core->get();
                payments::Payments pay(*d, s.providers, *s.clock);
                auto o = pay.order(req.param("id"));
                if (!o || o->account_id != req.who.id)
                    fail(ErrorCode::NotFound, "no such payment");
                json::Writer w;
                w.begin_object().key("payment");
                write_payment(w, s, *o);
                w.end_object();
                return Response::json(w.str());
            }));

    r.add(Route::make(Method::Post, "/api/v1/pay/sandbox/{payment_id}/confirm", "pay.sandbox.confirm", "payments",
                      "Development mode only: pay one of the rider's own sandbox orders (the provider's callback; "
                      "credits once)")
              .rider()
              .param(key_param("payment_id", "Payment id."))
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .returns(schemas::object(
                  R"("status":{"type":"string"},"payment":{"$ref":"#/components/schemas/Payment"})", R"("status")"))
              .handle([&s](Request& req) {
                  if (!s.providers.find("sandbox"))
                      fail(ErrorCode::NotFound, "the sandbox payment provider exists only in development mode");
                  auto d = s.core->get();
                  payments::Payments pay(*d, s.providers, *s.clock);
                  // Another rider's order answers exactly like one that does not exist.
                  const auto order = pay.order(req.param("payment_id"));
                  if (!order || order->account_id != req.who.id)
                      fail(ErrorCode::NotFound, "no such payment");
                  auto res = pay.sandbox_confirm(order->id);
                  if (!payments::acknowledge(res.status)) {
                      const auto code = payments::error_code(res.status).value_or(ErrorCode::Internal);
                      fail(code, res.detail.empty() ? std::string(payments::to_string(res.status)) : res.detail);
                  }
                  json::Writer w;
                  w.begin_object().field("status", payments::to_string(res.status));
                  if (res.order) {
                      w.key("payment");
                      write_payment(w, s, *res.order);
                  }
                  w.end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/pay/{provider}/callback", "pay.callback", "payments",
                      "A payment provider's signed notification (the sandbox's; wechat and alipay also have "
                      "/pay/notify/{channel}); credits the wallet once")
              .param(key_param("provider", "Provider name (sandbox, wechat, alipay)."))
              .returns(schemas::object(R"("code":{"type":"string","enum":["SUCCESS"]})", R"("code")"))
              .refuses({ErrorCode::NotFound})
              .handle([&s](Request& req) {
                  auto* provider = s.providers.find(req.param("provider"));
                  if (!provider)
                      fail(ErrorCode::NotFound, "no such payment provider");
                  auto d = s.core->get();
                  const auto out = handle_notification(s, *d, *provider, callback_request(req));
                  return Response::json(
                      provider->ack_body(out.status),
                      payments::acknowledge(out.status)
                          ? 200
                          : http_status(payments::error_code(out.status).value_or(ErrorCode::InvalidRequest)));
              }));

    for (const char* channel : {"wechat", "alipay"}) {
        r.add(Route::make(Method::Post, fmt::format("/api/v1/pay/notify/{}", channel),
                          fmt::format("pay.notify.{}", channel), "payments",
                          std::string(channel) == "wechat"
                              ? "WeChat Pay API v3 notification (signed headers, AES-256-GCM resource): a payment "
                                "credits once, a refund settles its part; answered as WeChat Pay expects"
                              : "Alipay asynchronous notification (form-encoded, RSA2): a payment credits once, a "
                                "refund settles its part; answered `success` or `fail`")
                  // The provider's own answer: WeChat Pay's is empty on success (any JSON schema holds it), Alipay's
                  // the text success or fail.
                  .produce(std::string(channel) == "wechat" ? "application/json" : "text/plain")
                  .returns(R"({"description":"WeChat Pay: an empty body on success, {code: FAIL, message} otherwise"})")
                  .refuses({ErrorCode::NotFound})
                  .handle([&s, channel](Request& req) {
                      auto* provider = s.providers.find(channel);
                      if (!provider)
                          fail(ErrorCode::NotFound, fmt::format("payment channel `{}` is not configured", channel));
                      auto d = s.core->get();
                      const auto out = handle_notification(s, *d, *provider, callback_request(req));
                      return Response{provider->ack_status(out.status),
                                      provider->ack_body(out.status),
                                      provider->ack_content_type(),
                                      {}};
                  }));
    }

    // ---- IC cards ----
    r.add(Route::make(Method::Post, "/api/v1/cards/bind", "cards.bind", "rider",
                      "Bind an issued IC card to the rider's account (one card per account; its fee is debited)")
              .rider()
              .field(str("card_no", true, 32, "The number printed on the card."))
              .field(str("name", false, 64, "A label for the card."))
              .refuses({ErrorCode::UnknownCard, ErrorCode::CardLost, ErrorCode::Conflict, ErrorCode::BalanceTooLow,
                        ErrorCode::AccountFrozen})
              .returns(schemas::one_of_key("card", schemas::ref("Card")))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  const auto card_no = b.req_str("card_no", 32);
                  const auto name = b.opt_str("name", 64).value_or("");
                  req.check_body();
                  auto d = s.core->get();
                  AccountStore accounts(*d);
                  auto c = accounts.card(card_no);
                  if (!c)
                      fail(ErrorCode::UnknownCard, "no such card; cards are issued by the operator");
                  if (c->status == "lost" || c->status == "replaced")
                      fail(ErrorCode::CardLost, "this card was reported lost or replaced");
                  if (c->account_id && *c->account_id != req.who.id)
                      fail(ErrorCode::Conflict, "this card is bound to another account");
                  if (auto mine = accounts.active_card(req.who.id); mine && mine->card_no != card_no)
                      fail(ErrorCode::Conflict, "the account already has a card; unbind it first");
                  // The rider pays the card's fee like a bind at the counter: once per card and rider, and not
                  // again for a card already bound to this account (its binder paid it then).
                  const auto fee =
                      c->account_id == req.who.id && c->status == "active"
                          ? std::nullopt
                          : std::optional(CardFee{req.who.id, c->fee_fen,
                                                  fmt::format("card_fee:{}:rider:{}", card_no, req.who.id), "rider"});
                  check_card_change(accounts.bind_card_charging(card_no, req.who.id, name, s.now(), fee, *s.clock),
                                    "the card changed meanwhile; try again");
                  json::Writer w;
                  w.begin_object().key("card");
                  write_card(w, s, *accounts.card(card_no));
                  w.end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/cards/unbind", "cards.unbind", "rider", "Unbind the rider's card")
              .rider()
              .refuses({ErrorCode::NotFound})
              .returns(schemas::object(R"("card_no":{"type":"string"},"status":{"type":"string","enum":["unbound"]})",
                                       R"("card_no","status")"))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  AccountStore accounts(*d);
                  auto c = accounts.active_card(req.who.id);
                  if (!c || !accounts.unbind_card(c->card_no))
                      fail(ErrorCode::NotFound, "the account has no bound card");
                  json::Writer w;
                  w.begin_object().field("card_no", c->card_no).field("status", "unbound").end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/cards/report-lost", "cards.report_lost", "rider",
                      "Report the rider's card lost: it starts nothing from now on")
              .rider()
              .refuses({ErrorCode::NotFound})
              .returns(schemas::object(R"("card_no":{"type":"string"},"status":{"type":"string","enum":["lost"]})",
                                       R"("card_no","status")"))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  AccountStore accounts(*d);
                  auto c = accounts.active_card(req.who.id);
                  if (!c || !accounts.set_card_status(c->card_no, "active", "lost"))
                      fail(ErrorCode::NotFound, "the account has no bound card");
                  json::Writer w;
                  w.begin_object().field("card_no", c->card_no).field("status", "lost").end_object();
                  return Response::json(w.str());
              }));
}

} // namespace pilehub::api
