// Parking (CONTRACT E.2, E.3): a rider's plates, a station's spaces, reservations and parking
// orders; the operator's spaces, locks and snapshots (asked of parkingd), captures, whitelist,
// plate certification, reservations, orders and lock decisions. parkingd owns arrivals,
// departures, fees, captures and lock commands: these routes write configuration and requests only.
#include "common/ledger.hpp"
#include "common/log.hpp"
#include "common/parking.hpp"
#include "common/socket_code.hpp"
#include "common/svc/parkingd_rpc.hpp"
#include "web-api/openapi_schemas.hpp"
#include "web-api/parking_store.hpp"
#include "web-api/routes_common.hpp"

#include <fmt/format.h>

#include <map>

namespace pilehub::api {
namespace {

/// The colours a rider's plate may have: the words parking::parse_plate_color reads.
std::vector<std::string> plate_colors() {
    std::vector<std::string> out;
    for (auto c : {payloads::PlateColor::Blue, payloads::PlateColor::Yellow, payloads::PlateColor::Green,
                   payloads::PlateColor::White, payloads::PlateColor::Black, payloads::PlateColor::YellowGreen})
        out.emplace_back(payloads::to_string(c));
    return out;
}

/// The `state` filter of the operator's reservation list: `active` and every state word.
std::vector<std::string> reservation_states() {
    std::vector<std::string> out{"active"};
    for (auto st : {parking::ReservationState::Reserved, parking::ReservationState::Occupying,
                    parking::ReservationState::Completed, parking::ReservationState::Cancelled,
                    parking::ReservationState::TimedOut})
        out.emplace_back(parking::to_string(st));
    return out;
}

/// A list's page: `limit` (default 50) and `offset`.
template <typename Filter> void page(Filter& f, const Request& req) {
    f.limit = req.query_int("limit").value_or(50);
    f.offset = req.query_int("offset").value_or(0);
}

/// The `station_id` query of an operator's list: refused (404) outside the operator's scope.
std::optional<std::int64_t> station_query(const Request& req) {
    const auto station = req.query_int("station_id");
    if (station)
        require_station(req.who, *station);
    return station;
}

/// A plate as it is stored, or invalid_request.
std::string plate_of(const std::string& raw) {
    auto p = parking::normalise_plate(raw);
    if (!p)
        fail(ErrorCode::InvalidRequest, "not a plate number");
    return *p;
}

parking::SpaceId space_id_of(const std::string& text) {
    auto id = parking::parse_space_id(text);
    if (!id)
        fail(ErrorCode::UnknownSpace, "no such space");
    return *id;
}

/// The space, if the operator sees its station; unknown_space otherwise.
SpaceRow space_in_scope(ParkingStore& ps, const Principal& who, const std::string& text) {
    auto row = ps.space(space_id_of(text));
    if (!row || !who.sees_station(row->station_id))
        fail(ErrorCode::UnknownSpace, "no such space");
    return *row;
}

void write_lock(json::Writer& w, const SpaceRow& sp) {
    w.key("lock");
    if (!sp.has_lock)
        w.null();
    else
        w.begin_object().field("st", sp.lock_st).field("alarm", sp.lock_alarm).end_object();
}

/// A space as riders see it (CONTRACT E.2); `admin` adds its settings, station, open lock fault and
/// (when `online` is given) whether its camera is online.
void write_space(json::Writer& w, const Services& s, const SpaceRow& sp, bool admin, std::optional<bool> online) {
    w.begin_object().field("id", sp.id.str()).field("name", sp.name).field("state", space_state(sp));
    write_lock(w, sp);
    w.nullable_field("ev_gun", sp.ev_gun);
    if (admin) {
        w.field("station_id", sp.station_id).field("camera_id", sp.id.camera).field("n", sp.id.n);
        w.field("lock_type", sp.has_lock ? "ground_lock" : "none").field("enabled", sp.enabled);
        w.nullable_field("side", sp.side);
        w.field("camera_enabled", sp.camera_enabled).field("occupied", sp.occupied);
        w.nullable_field("reservation_state", sp.reservation_state);
        w.nullable_field("camera_online", online);
        w.key("fault");
        if (sp.fault_cause) {
            w.begin_object().field("cause", *sp.fault_cause).field("detail", sp.fault_detail);
            write_time(w, s, "opened_at", sp.fault_opened_at);
            w.end_object();
        } else {
            w.null();
        }
    }
    w.end_object();
}

void write_reservation(json::Writer& w, const Services& s, const ReservationRow& r, bool admin) {
    w.begin_object().field("id", r.id).field("state", r.state).field("space", r.space.str()).field("plate", r.plate);
    w.field("station_id", r.station_id).field("created_at", when(s, r.created_at));
    w.field("expires_at", when(s, r.expires_at));
    write_time(w, s, "arrived_at", r.arrived_at);
    write_time(w, s, "ended_at", r.ended_at);
    w.nullable_field("ended_by", r.ended_by).nullable_field("occupancy_id", r.occupancy_id);
    if (admin)
        w.field("account_id", r.account_id).field("phone", r.phone);
    w.end_object();
}

/// `{reservation: {...}}`.
std::string reservation_reply(const Services& s, const ReservationRow& r) {
    json::Writer w;
    w.begin_object().key("reservation");
    write_reservation(w, s, r, false);
    w.end_object();
    return w.str();
}

void write_order(json::Writer& w, const Services& s, const OrderRow& o, bool admin) {
    w.begin_object().field("id", o.id).field("station_id", o.station_id).field("space", o.space.str());
    w.nullable_field("plate", o.plate).nullable_field("color", o.color);
    w.field("arrived_at", when(s, o.arrived_at));
    write_time(w, s, "left_at", o.left_at);
    w.nullable_field("duration_s", o.duration_s).nullable_field("charging_s", o.charging_s);
    w.nullable_field("billable_s", o.billable_s).nullable_field("fee_fen", o.fee_fen);
    w.field("owed_fen", o.owed_fen).field("state", o.state).field("whitelisted", o.whitelisted);
    write_time(w, s, "paid_at", o.paid_at);
    if (admin)
        w.nullable_field("account_id", o.account_id).nullable_field("reservation_id", o.reservation_id);
    w.end_object();
}

/// `{reservations: [...]}` of a filter, as the rider or (`admin`) the operator sees them.
std::string reservations_reply(Services& s, const ReservationFilter& f, bool admin) {
    auto d = s.core->get();
    json::Writer w;
    w.begin_object().key("reservations").begin_array();
    for (const auto& row : ParkingStore(*d).reservations(f))
        write_reservation(w, s, row, admin);
    w.end_array().end_object();
    return w.str();
}

/// `{orders: [...]}` of a filter, as the rider or (`admin`) the operator sees them.
std::string orders_reply(Services& s, const OrderFilter& f, bool admin) {
    auto d = s.core->get();
    json::Writer w;
    w.begin_object().key("orders").begin_array();
    for (const auto& o : ParkingStore(*d).orders(f))
        write_order(w, s, o, admin);
    w.end_array().end_object();
    return w.str();
}

void write_plate(json::Writer& w, const Services& s, const PlateRow& p, bool admin) {
    w.begin_object().field("plate", p.plate).field("color", p.color).field("certified", p.certified);
    write_time(w, s, "certified_at", p.certified_at);
    if (admin)
        w.field("account_id", p.account_id).field("phone", p.phone).nullable_field("certified_by", p.certified_by);
    w.field("created_at", when(s, p.created_at)).end_object();
}

void write_whitelist(json::Writer& w, const Services& s, const WhitelistRow& e) {
    w.begin_object().field("id", e.id).field("station_id", e.station_id).field("plate", e.plate);
    w.field("note", e.note).field("enabled", e.enabled).field("created_by", e.created_by);
    w.field("created_at", when(s, e.created_at)).end_object();
}

/// A reservation refused before it is made (CONTRACT E.2), in the order a rider can act on.
struct ReservationAsk {
    std::int64_t account_id = 0;
    std::string space, plate;
};

/// Makes a rider's reservation or refuses it: unknown_space, plate_not_certified, account_frozen,
/// balance_too_low (under the station tariff's start minimum), reservation_limit, space_busy. It is
/// held for the station tariff's `parking.reservation_hold_minutes` (default 120).
ReservationRow make_reservation(Services& s, const ReservationAsk& ask) {
    const auto id = space_id_of(ask.space);
    const auto plate = parking::normalise_plate(ask.plate);
    auto d = s.core->get();
    ParkingStore ps(*d);
    CatalogStore cat(*d);
    const auto sp = ps.space(id);
    const auto station = sp ? cat.station(sp->station_id) : std::nullopt;
    if (!sp || space_state(*sp) == "disabled" || !station || !station->visible)
        fail(ErrorCode::UnknownSpace, "no such space");
    const auto held = plate ? ps.plate(*plate) : std::nullopt;
    if (!held || held->account_id != ask.account_id || !held->certified)
        fail(ErrorCode::PlateNotCertified, "reserve with one of your plates an operator has certified");
    const auto wallet = ledger::Ledger(*d, *s.clock).wallet(ask.account_id);
    if (!wallet)
        fail(ErrorCode::Unauthorized, "the account no longer exists");
    if (wallet->frozen)
        fail(ErrorCode::AccountFrozen, "the account is frozen");
    const auto now = s.now();
    const auto tariff = cat.tariff_in_force(sp->station_id, sp->area_id, std::nullopt, now);
    const auto min = tariff ? tariff->second.min_start_balance_fen : billing::kDefaultMinStartBalanceFen;
    if (wallet->available() < min)
        fail(ErrorCode::BalanceTooLow, fmt::format("a reservation needs a balance of {} fen", min.value()));
    const auto parking = tariff && tariff->second.parking ? *tariff->second.parking : parking::default_parking();
    NewReservation r{ask.account_id, sp->station_id, id, *plate, now, now + parking.reservation_hold_minutes * 60'000};
    const auto [outcome, rid] = ps.reserve(r);
    if (outcome == Reserve::ReservationLimit)
        fail(ErrorCode::ReservationLimit, "the account already holds a reservation");
    if (outcome == Reserve::SpaceBusy)
        fail(ErrorCode::SpaceBusy, "the space is occupied or reserved");
    return *ps.reservation(*rid);
}

const ReservationRow& own_reservation(const std::optional<ReservationRow>& r, const Principal& who) {
    // Another rider's reservation is indistinguishable from none at all.
    if (!r || r->account_id != who.id)
        fail(ErrorCode::NotFound, "no such reservation");
    return *r;
}

/// The refusals of parkingd's lock and snapshot answers (docs/topics.md "Parkingd RPC"): no answer
/// is timeout, an offline camera device_offline, an unknown space unknown_space, anything else the
/// camera's failure.
[[noreturn]] void fail_from_parkingd(const rpc::Reply& r) {
    if (r.status == "timeout")
        fail(ErrorCode::Timeout, r.msg.empty() ? "parkingd or the camera did not answer in time" : r.msg);
    if (r.code == to_string(ErrorCode::DeviceOffline))
        fail(ErrorCode::DeviceOffline, r.msg.empty() ? "the camera is offline" : r.msg);
    if (r.code == to_string(ErrorCode::UnknownSpace))
        fail(ErrorCode::UnknownSpace, r.msg.empty() ? "no such space" : r.msg);
    fail(ErrorCode::DeviceFailed, r.msg.empty() ? fmt::format("the camera failed ({})", r.code) : r.msg);
}

/// Sends one parkingd request (svc::LockRequest, svc::SnapshotRequest) and answers its reply's
/// data when it is `ok`; refuses otherwise (fail_from_parkingd).
template <typename Rep, typename Req> Rep call_parkingd(Services& s, const Req& request) {
    const auto r = s.rpc ? s.rpc->call(std::string(svc::kParkingdService), request,
                                       std::chrono::milliseconds(s.settings.command_timeout_ms))
                         : rpc::Reply::refuse("timeout", "parkingd is not connected", "timeout");
    if (!r.ok())
        fail_from_parkingd(r);
    auto x = svc::decode<Rep>(r.data_json);
    if (!x) {
        log::error("parkingd answered a {} this API cannot read: {}", svc::Traits<Rep>::kName, x.error());
        fail(ErrorCode::Internal, "parkingd answered in an unexpected shape");
    }
    return std::move(x).value();
}

} // namespace

void add_parking_routes(Router& r, Services& s) {
    r.add(Route::make(Method::Get, "/api/v1/me/plates", "me.plates.list", "rider-parking", "The rider's plates")
              .answers("{plates: [{plate, color, certified, certified_at, created_at}]}")
              .rider()
              .returns(schemas::list_of("plates", schemas::ref("Plate")))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  json::Writer w;
                  w.begin_object().key("plates").begin_array();
                  for (const auto& p : ParkingStore(*d).plates_of(req.who.id))
                      write_plate(w, s, p, false);
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/me/plates", "me.plates.add", "rider-parking",
                      "Register a plate (stored normalised: upper case, without spaces or separators); 201 when new, "
                      "200 with the plate when the rider holds it already; an operator certifies it before it reserves")
              .answers("{plate, color, certified, certified_at, created_at}")
              .rider()
              .field(str("plate", true, 64, "The plate number, e.g. 京A12345."))
              .field(str_enum("color", true, plate_colors(), "The plate's colour (green, yellow_green: new energy)."))
              .ok(201)
              .also_ok(200)
              .refuses({ErrorCode::PlateTaken})
              .returns(schemas::ref("Plate"))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  const auto raw = b.req_str("plate", 64);
                  const auto color = b.req_str("color", 16);
                  req.check_body();
                  const auto plate = plate_of(raw);
                  auto d = s.core->get();
                  ParkingStore ps(*d);
                  const auto added = ps.add_plate(req.who.id, plate, color, s.now());
                  if (added == PlateAdded::Taken)
                      fail(ErrorCode::PlateTaken, "another account holds this plate");
                  json::Writer w;
                  write_plate(w, s, *ps.plate(plate), false);
                  return Response::json(w.str(), added == PlateAdded::Added ? 201 : 200);
              }));

    r.add(Route::make(Method::Delete, "/api/v1/me/plates/{plate}", "me.plates.remove", "rider-parking",
                      "Remove one of the rider's plates (refused while an active reservation holds it)")
              .answers("{plate, removed: true}")
              .rider()
              .param(text_param("plate", 64, "The plate (percent-encoded)."))
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .returns(
                  schemas::object(R"("plate":{"type":"string"},"removed":{"type":"boolean"})", R"("plate","removed")"))
              .handle([&s](Request& req) {
                  const auto plate = parking::normalise_plate(req.param("plate"));
                  auto d = s.core->get();
                  const auto removed =
                      plate ? ParkingStore(*d).remove_plate(req.who.id, *plate) : PlateRemoved::NotMine;
                  if (removed == PlateRemoved::NotMine)
                      fail(ErrorCode::NotFound, "no such plate");
                  if (removed == PlateRemoved::Reserved)
                      fail(ErrorCode::Conflict, "an active reservation holds this plate");
                  json::Writer w;
                  w.begin_object().field("plate", *plate).field("removed", true).end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Get, "/api/v1/stations/{id}/spaces", "stations.spaces", "rider-parking",
                      "A station's parking spaces: state free, occupied, reserved or disabled; the lock (null: none); "
                      "the EV gun it serves")
              .answers("{spaces: [{id: <camera>-<n>, name, state: free|occupied|reserved|disabled, lock: {st, "
                       "alarm}|null, ev_gun}]}")
              .rider()
              .param(id_param())
              .refuses({ErrorCode::NotFound})
              .returns(schemas::list_of("spaces", schemas::ref("Space")))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  const auto st = CatalogStore(*d).station(req.param_int("id"));
                  if (!st || !st->visible)
                      fail(ErrorCode::NotFound, "no such station");
                  json::Writer w;
                  w.begin_object().key("spaces").begin_array();
                  for (const auto& sp : ParkingStore(*d).spaces(st->id, std::nullopt))
                      write_space(w, s, sp, false, std::nullopt);
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/reservations", "reservations.create", "rider-parking",
                      "Reserve a space for one of the rider's certified plates; held for the station tariff's "
                      "parking.reservation_hold_minutes (default 120). One active reservation per account")
              .answers("{reservation: {id, state: reserved, space, plate, station_id, created_at, expires_at, "
                       "arrived_at, ended_at, ended_by, occupancy_id}}")
              .rider()
              .field(str("space", true, svc::kMaxSpaceIdLen, "The space id <camera id>-<n>."))
              .field(str("plate", true, 64, "One of the rider's certified plates."))
              .ok(201)
              .refuses({ErrorCode::UnknownSpace, ErrorCode::SpaceBusy, ErrorCode::ReservationLimit,
                        ErrorCode::PlateNotCertified, ErrorCode::AccountFrozen, ErrorCode::BalanceTooLow})
              .returns(schemas::one_of_key("reservation", schemas::ref("Reservation")))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  ReservationAsk ask;
                  ask.account_id = req.who.id;
                  ask.space = b.req_str("space", svc::kMaxSpaceIdLen);
                  ask.plate = b.req_str("plate", 64);
                  req.check_body();
                  return Response::json(reservation_reply(s, make_reservation(s, ask)), 201);
              }));

    r.add(Route::make(Method::Get, "/api/v1/reservations", "reservations.list", "rider-parking",
                      "The rider's reservations, newest first")
              .answers("{reservations: [{id, state, space, plate, station_id, created_at, expires_at, ...}]}")
              .rider()
              .q(str_enum("state", false, {"active", "all"}, "active (reserved or occupying) or all (default)."))
              .q(limit_param())
              .q(offset_param())
              .returns(schemas::list_of("reservations", schemas::ref("Reservation")))
              .handle([&s](Request& req) {
                  ReservationFilter f;
                  f.account_id = req.who.id;
                  f.state = req.query("state").value_or("all") == "active" ? "active" : "";
                  page(f, req);
                  return Response::json(reservations_reply(s, f, false));
              }));

    r.add(Route::make(Method::Get, "/api/v1/reservations/{id}", "reservations.get", "rider-parking",
                      "One of the rider's reservations")
              .answers("{reservation: {id, state, space, plate, station_id, created_at, expires_at, ...}}")
              .rider()
              .param(id_param())
              .refuses({ErrorCode::NotFound})
              .returns(schemas::one_of_key("reservation", schemas::ref("Reservation")))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  const auto row = ParkingStore(*d).reservation(req.param_int("id"));
                  return Response::json(reservation_reply(s, own_reservation(row, req.who)));
              }));

    r.add(Route::make(Method::Post, "/api/v1/reservations/{id}/cancel", "reservations.cancel", "rider-parking",
                      "Cancel one of the rider's reservations while the car has not arrived")
              .answers("{reservation: {..., state: cancelled, ended_by: rider}}")
              .rider()
              .param(id_param())
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .returns(schemas::one_of_key("reservation", schemas::ref("Reservation")))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  ParkingStore ps(*d);
                  own_reservation(ps.reservation(req.param_int("id")), req.who);
                  if (!ps.end_reservation(req.param_int("id"), {parking::ReservationState::Reserved},
                                          parking::ReservationState::Cancelled, "rider", s.now()))
                      fail(ErrorCode::Conflict, "only a reservation whose car has not arrived can be cancelled");
                  return Response::json(reservation_reply(s, *ps.reservation(req.param_int("id"))));
              }));

    r.add(Route::make(Method::Get, "/api/v1/parking/orders", "parking.orders", "rider-parking",
                      "The stays of the rider's plates (parking orders), newest first")
              .answers("{orders: [{id, station_id, space, plate, color, arrived_at, left_at, duration_s, charging_s, "
                       "billable_s, fee_fen, owed_fen, state: open|paid|unpaid|free, whitelisted, paid_at}]}")
              .rider()
              .q(limit_param())
              .q(offset_param())
              .returns(schemas::list_of("orders", schemas::ref("ParkingOrder")))
              .handle([&s](Request& req) {
                  OrderFilter f;
                  f.holder = req.who.id;
                  page(f, req);
                  return Response::json(orders_reply(s, f, false));
              }));
}

void add_admin_parking_routes(Router& r, Services& s) {
    r.add(
        Route::make(Method::Get, "/api/v1/admin/spaces", "admin.spaces.list", "admin-parking",
                    "Parking spaces with state, lock, EV gun, open lock fault and the camera's presence")
            .answers(
                "{spaces: [{id, name, state, lock, ev_gun, station_id, camera_id, n, lock_type, enabled, "
                "camera_enabled, occupied, reservation_state, camera_online, fault: {cause, detail, opened_at}|null}]}")
            .admin("devices.read")
            .q(integer("station_id", false, 1, INT64_MAX, "One station."))
            .refuses({ErrorCode::NotFound})
            .returns(schemas::list_of("spaces", schemas::ref("AdminSpace")))
            .handle([&s](Request& req) {
                const auto station = station_query(req);
                auto d = s.core->get();
                CatalogStore cat(*d);
                std::map<std::string, bool> online;
                json::Writer w;
                w.begin_object().key("spaces").begin_array();
                for (const auto& sp : ParkingStore(*d).spaces(station, scope_of(req.who))) {
                    auto it = online.find(sp.id.camera);
                    if (it == online.end())
                        it = online.emplace(sp.id.camera, device_online(s, cat, sp.id.camera)).first;
                    write_space(w, s, sp, true, it->second);
                }
                w.end_array().end_object();
                return Response::json(w.str());
            }));

    r.add(Route::make(Method::Put, "/api/v1/admin/spaces/{id}", "admin.spaces.update", "admin-parking",
                      "Change a space: name, lock type, the EV gun it serves (a gun of a charger at the same station; "
                      "null: none), enabled, the side of its camera. Members left out keep their value")
              .answers("the space as GET /admin/spaces lists it")
              .admin("devices.write")
              .param(key_param("id", "Space id <camera id>-<n>."))
              .field(str("name", false, 64, "Name shown to riders."))
              .field(str_enum("lock_type", false, {"ground_lock", "none"}, "ground_lock or none."))
              .field(str("ev_gun", false, svc::kMaxSocketCodeLen, "The gun <charger id>-<n> it serves; null: none."))
              .field(boolean("enabled", false, "Offered to riders."))
              .field(str_enum("side", false, {"left", "right"},
                              "Which side of its camera the space lies on (seed 003 相机管理)."))
              .refuses({ErrorCode::UnknownSpace, ErrorCode::InvalidConnector})
              .returns(schemas::ref("AdminSpace"))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  ParkingStore ps(*d);
                  const auto sp = space_in_scope(ps, req.who, req.param("id"));
                  auto b = req.body();
                  SpaceSettings set{sp.name, sp.has_lock, sp.ev_gun, sp.enabled, sp.side};
                  set.name = b.opt_str("name", 64).value_or(set.name);
                  if (const auto lock = b.opt_str("lock_type", 16))
                      set.has_lock = *lock == "ground_lock";
                  set.enabled = b.opt_bool("enabled").value_or(set.enabled);
                  if (const auto side = b.opt_str("side", 8))
                      set.side = *side;
                  // `"ev_gun": null` clears the gun (the body reader treats null as absent).
                  const bool gun_given = req.document()->HasMember("ev_gun");
                  const auto gun = b.opt_str("ev_gun", svc::kMaxSocketCodeLen);
                  req.check_body();
                  if (gun_given) {
                      set.ev_gun.reset();
                      if (gun && !gun->empty()) {
                          const auto code = sockets::parse_socket_code(*gun);
                          if (!code || !ps.gun_at_station(code->device_id, code->n, sp.station_id))
                              fail(ErrorCode::InvalidConnector,
                                   "ev_gun must be a gun of an EV charger at the space's station");
                          set.ev_gun = sockets::socket_code(*code);
                      }
                  }
                  ps.update_space(sp.id, set);
                  json::Writer w;
                  write_space(w, s, *ps.space(sp.id), true, std::nullopt);
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/spaces/{id}/lock", "admin.spaces.lock", "admin-parking",
                      "Raise or lower a space's ground lock through parkingd, answered once the camera answered")
              .answers("{space, lock: {st, alarm}} once the camera answered")
              .admin("devices.command")
              .param(key_param("id", "Space id <camera id>-<n>."))
              .field(str_enum("action", true, {"raise", "lower"}, "raise or lower."))
              .refuses({ErrorCode::UnknownSpace, ErrorCode::DeviceOffline, ErrorCode::DeviceFailed, ErrorCode::Timeout})
              .returns(
                  schemas::object(R"("space":{"type":"string"},"lock":{"type":"object","additionalProperties":false,)"
                                  R"("required":["st","alarm"],"properties":{"st":{"type":"string"},)"
                                  R"("alarm":{"type":"boolean"}}})",
                                  R"("space","lock")"))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  const auto action = b.req_str("action", 8);
                  req.check_body();
                  {
                      auto d = s.core->get();
                      ParkingStore ps(*d);
                      space_in_scope(ps, req.who, req.param("id"));
                  }
                  svc::LockRequest q;
                  q.space = space_id_of(req.param("id")).str();
                  q.action = action == "lower" ? payloads::LockAction::Lower : payloads::LockAction::Raise;
                  q.operator_name = req.who.name;
                  const auto rep = call_parkingd<svc::LockReply>(s, q);
                  json::Writer w;
                  w.begin_object().field("space", rep.space).key("lock").begin_object();
                  w.field("st", payloads::to_string(rep.lock.st)).field("alarm", rep.lock.alarm);
                  w.end_object().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/spaces/{id}/snapshot", "admin.spaces.snapshot", "admin-parking",
                      "Ask the space's camera for a picture through parkingd; answers the capture recorded")
              .answers("{capture: {id, image_url}}")
              .admin("devices.command")
              .param(key_param("id", "Space id <camera id>-<n>."))
              .refuses({ErrorCode::UnknownSpace, ErrorCode::DeviceOffline, ErrorCode::DeviceFailed, ErrorCode::Timeout})
              .returns(schemas::one_of_key("capture", schemas::object(R"("id":{"type":"integer","format":"int64"},)"
                                                                      R"("image_url":{"type":"string"})",
                                                                      R"("id","image_url")")))
              .handle([&s](Request& req) {
                  {
                      auto d = s.core->get();
                      ParkingStore ps(*d);
                      space_in_scope(ps, req.who, req.param("id"));
                  }
                  const auto rep = call_parkingd<svc::SnapshotReply>(
                      s, svc::SnapshotRequest{space_id_of(req.param("id")).str(), req.who.name});
                  json::Writer w;
                  w.begin_object().key("capture").begin_object().field("id", rep.capture_id);
                  w.field("image_url", rep.image_url).end_object().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/captures", "admin.captures.list", "admin-parking",
                      "Captures (plate reads with an image, and snapshots), newest first")
              .answers("{captures: [{id, station_id, camera_id, space, source, plate, color, direction, confidence, "
                       "image_url, at}]}")
              .admin("monitor.read")
              .q(integer("station_id", false, 1, INT64_MAX, "One station."))
              .q(str("device", false, 48, "One camera."))
              .q(str("space", false, svc::kMaxSpaceIdLen, "One space <camera id>-<n>."))
              .q(str("plate", false, 64, "One plate."))
              .q(str("from", false, 40, "From (RFC 3339 or YYYY-MM-DD)."))
              .q(str("to", false, 40, "Before (RFC 3339 or YYYY-MM-DD)."))
              .q(limit_param())
              .q(offset_param())
              .refuses({ErrorCode::NotFound, ErrorCode::UnknownSpace})
              .returns(schemas::list_of(
                  "captures",
                  schemas::object(
                      R"("id":{"type":"integer","format":"int64"},"station_id":{"type":"integer","format":"int64"},)"
                      R"("camera_id":{"type":"string"},"space":{"type":"integer"},"source":{"type":"string"},)"
                      R"("plate":{"type":"string","nullable":true},"color":{"type":"string","nullable":true},)"
                      R"("direction":{"type":"string","nullable":true},)"
                      R"("confidence":{"type":"integer","nullable":true},"image_url":{"type":"string"},)"
                      R"("at":{"type":"string","format":"date-time"})",
                      R"("id","station_id","camera_id","space","source","plate","color","direction",)"
                      R"("confidence","image_url","at")")))
              .handle([&s](Request& req) {
                  CaptureFilter f;
                  f.station_id = station_query(req);
                  f.scope = scope_of(req.who);
                  f.device = req.query("device").value_or("");
                  if (const auto sp = req.query("space")) {
                      const auto id = space_id_of(*sp);
                      f.device = id.camera;
                      f.space = id.n;
                  }
                  if (const auto p = req.query("plate"))
                      f.plate = plate_of(*p);
                  f.from = query_time(s, req, "from");
                  f.to = query_time(s, req, "to");
                  page(f, req);
                  auto d = s.core->get();
                  json::Writer w;
                  w.begin_object().key("captures").begin_array();
                  for (const auto& c : ParkingStore(*d).captures(f)) {
                      w.begin_object().field("id", c.id).field("station_id", c.station_id);
                      w.field("camera_id", c.camera_id).field("space", c.space).field("source", c.source);
                      w.nullable_field("plate", c.plate).nullable_field("color", c.color);
                      w.nullable_field("direction", c.direction).nullable_field("confidence", c.confidence);
                      w.field("image_url", c.image_url).field("at", when(s, c.at)).end_object();
                  }
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/parking/decisions", "admin.parking.decisions", "admin-parking",
                      "Lock decisions at arrivals, allowed or refused, each with its capture's image, newest first")
              .answers("{decisions: [{id, station_id, space, plate, color, allowed, reason, capture_id, image_url, "
                       "occupancy_id, at}]}")
              .admin("monitor.read")
              .q(integer("station_id", false, 1, INT64_MAX, "One station."))
              .q(boolean("allowed", false, "Only allowed (true) or refused (false) ones."))
              .q(limit_param())
              .q(offset_param())
              .refuses({ErrorCode::NotFound})
              .returns(schemas::list_of(
                  "decisions",
                  schemas::object(
                      R"("id":{"type":"integer","format":"int64"},"station_id":{"type":"integer","format":"int64"},)"
                      R"("space":{"type":"string"},"plate":{"type":"string","nullable":true},)"
                      R"("color":{"type":"string","nullable":true},"allowed":{"type":"boolean"},)"
                      R"("reason":{"type":"string"},"capture_id":{"type":"integer","nullable":true},)"
                      R"("image_url":{"type":"string","nullable":true},)"
                      R"("occupancy_id":{"type":"integer","nullable":true},)"
                      R"("at":{"type":"string","format":"date-time"})",
                      R"("id","station_id","space","plate","color","allowed","reason","capture_id",)"
                      R"("image_url","occupancy_id","at")")))
              .handle([&s](Request& req) {
                  DecisionFilter f;
                  f.station_id = station_query(req);
                  f.scope = scope_of(req.who);
                  f.allowed = req.query_bool("allowed");
                  page(f, req);
                  auto d = s.core->get();
                  json::Writer w;
                  w.begin_object().key("decisions").begin_array();
                  for (const auto& x : ParkingStore(*d).decisions(f)) {
                      w.begin_object().field("id", x.id).field("station_id", x.station_id);
                      w.field("space", x.space.str()).nullable_field("plate", x.plate).nullable_field("color", x.color);
                      w.field("allowed", x.allowed).field("reason", x.reason);
                      w.nullable_field("capture_id", x.capture_id).nullable_field("image_url", x.image_url);
                      w.nullable_field("occupancy_id", x.occupancy_id).field("at", when(s, x.at)).end_object();
                  }
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    // ---- whitelist ----
    r.add(Route::make(Method::Get, "/api/v1/admin/whitelist", "admin.whitelist.list", "admin-parking",
                      "Plates a station lets park for free")
              .answers("{whitelist: [{id, station_id, plate, note, enabled, created_by, created_at}]}")
              .admin("stations.read")
              .q(integer("station_id", false, 1, INT64_MAX, "One station."))
              .refuses({ErrorCode::NotFound})
              .returns(schemas::list_of("whitelist", schemas::ref("WhitelistEntry")))
              .handle([&s](Request& req) {
                  const auto station = station_query(req);
                  auto d = s.core->get();
                  json::Writer w;
                  w.begin_object().key("whitelist").begin_array();
                  for (const auto& e : ParkingStore(*d).whitelist(station, scope_of(req.who)))
                      write_whitelist(w, s, e);
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/whitelist", "admin.whitelist.add", "admin-parking",
                      "Add a plate to a station's whitelist")
              .answers("{id, station_id, plate, note, enabled, created_by, created_at}")
              .admin("stations.write")
              .field(str("plate", true, 64, "The plate."))
              .field(integer("station_id", true, 1, INT64_MAX, "The station."))
              .field(str("note", false, 200, "Why (staff car, ...)."))
              .ok(201)
              .refuses({ErrorCode::NotFound, ErrorCode::Duplicate})
              .returns(schemas::ref("WhitelistEntry"))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  WhitelistRow e;
                  const auto raw = b.req_str("plate", 64);
                  e.station_id = b.req_int("station_id", 1, INT64_MAX);
                  e.note = b.opt_str("note", 200).value_or("");
                  req.check_body();
                  e.plate = plate_of(raw);
                  e.created_by = req.who.name;
                  e.created_at = s.now();
                  require_station(req.who, e.station_id);
                  auto d = s.core->get();
                  if (!CatalogStore(*d).station(e.station_id))
                      fail(ErrorCode::NotFound, "no such station");
                  ParkingStore ps(*d);
                  const auto id = ps.add_whitelist(e);
                  if (!id)
                      fail(ErrorCode::Duplicate, "the station's whitelist has this plate");
                  json::Writer w;
                  write_whitelist(w, s, *ps.whitelist_entry(*id));
                  return Response::json(w.str(), 201);
              }));

    r.add(Route::make(Method::Put, "/api/v1/admin/whitelist/{id}", "admin.whitelist.update", "admin-parking",
                      "Switch a whitelist entry on or off, or change its note")
              .answers("{id, station_id, plate, note, enabled, created_by, created_at}")
              .admin("stations.write")
              .param(id_param())
              .field(boolean("enabled", false, "In force."))
              .field(str("note", false, 200, "Note."))
              .refuses({ErrorCode::NotFound})
              .returns(schemas::ref("WhitelistEntry"))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  ParkingStore ps(*d);
                  auto e = ps.whitelist_entry(req.param_int("id"));
                  if (!e || !req.who.sees_station(e->station_id))
                      fail(ErrorCode::NotFound, "no such whitelist entry");
                  auto b = req.body();
                  e->enabled = b.opt_bool("enabled").value_or(e->enabled);
                  e->note = b.opt_str("note", 200).value_or(e->note);
                  req.check_body();
                  ps.update_whitelist(e->id, e->enabled, e->note);
                  json::Writer w;
                  write_whitelist(w, s, *ps.whitelist_entry(e->id));
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Delete, "/api/v1/admin/whitelist/{id}", "admin.whitelist.remove", "admin-parking",
                      "Remove a whitelist entry")
              .answers("{id, removed: true}")
              .admin("stations.write")
              .param(id_param())
              .refuses({ErrorCode::NotFound})
              .returns(schemas::object(R"("id":{"type":"integer","format":"int64"},"removed":{"type":"boolean"})",
                                       R"("id","removed")"))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  ParkingStore ps(*d);
                  const auto e = ps.whitelist_entry(req.param_int("id"));
                  if (!e || !req.who.sees_station(e->station_id))
                      fail(ErrorCode::NotFound, "no such whitelist entry");
                  ps.remove_whitelist(e->id);
                  json::Writer w;
                  w.begin_object().field("id", e->id).field("removed", true).end_object();
                  return Response::json(w.str());
              }));

    // ---- plates ----
    r.add(
        Route::make(Method::Get, "/api/v1/admin/plates", "admin.plates.list", "admin-parking",
                    "Riders' plates with the holder's phone, newest first (scoped operators: accounts opened at "
                    "their stations)")
            .answers("{plates: [{plate, color, certified, certified_at, account_id, phone, certified_by, created_at}]}")
            .admin("users.read")
            .q(boolean("certified", false, "Only certified (true) or uncertified (false) plates."))
            .q(limit_param())
            .q(offset_param())
            .returns(schemas::list_of("plates", schemas::ref("AdminPlate")))
            .handle([&s](Request& req) {
                auto d = s.core->get();
                json::Writer w;
                w.begin_object().key("plates").begin_array();
                for (const auto& p :
                     ParkingStore(*d).plates(req.query_bool("certified"), scope_of(req.who),
                                             req.query_int("limit").value_or(50), req.query_int("offset").value_or(0)))
                    write_plate(w, s, p, true);
                w.end_array().end_object();
                return Response::json(w.str());
            }));

    r.add(Route::make(Method::Post, "/api/v1/admin/plates/{plate}/certify", "admin.plates.certify", "admin-parking",
                      "Certify a rider's plate (车主认证): it may reserve from now on")
              .answers("{plate, color, certified: true, certified_at, account_id, phone, certified_by, created_at}")
              .admin("users.write")
              .param(text_param("plate", 64, "The plate (percent-encoded)."))
              .refuses({ErrorCode::NotFound})
              .returns(schemas::ref("AdminPlate"))
              .handle([&s](Request& req) {
                  const auto plate = parking::normalise_plate(req.param("plate"));
                  auto d = s.core->get();
                  ParkingStore ps(*d);
                  const auto p = plate ? ps.plate(*plate) : std::nullopt;
                  const auto holder = p ? AccountStore(*d).account(p->account_id) : std::nullopt;
                  // A station-scoped operator certifies the plates of accounts opened at its stations only.
                  if (!holder || !(req.who.all_stations ||
                                   (holder->home_station_id && req.who.sees_station(*holder->home_station_id))))
                      fail(ErrorCode::NotFound, "no such plate");
                  ps.certify(*plate, req.who.name, s.now());
                  json::Writer w;
                  write_plate(w, s, *ps.plate(*plate), true);
                  return Response::json(w.str());
              }));

    // ---- reservations and orders ----
    r.add(Route::make(Method::Get, "/api/v1/admin/reservations", "admin.reservations.list", "admin-parking",
                      "Reservations, newest first")
              .answers("{reservations: [{id, state, space, plate, station_id, created_at, expires_at, ..., account_id, "
                       "phone}]}")
              .admin("sessions.read")
              .q(integer("station_id", false, 1, INT64_MAX, "One station."))
              .q(str_enum("state", false, reservation_states(), "active (reserved or occupying) or one state."))
              .q(limit_param())
              .q(offset_param())
              .refuses({ErrorCode::NotFound})
              .returns(schemas::list_of("reservations", schemas::ref("AdminReservation")))
              .handle([&s](Request& req) {
                  ReservationFilter f;
                  f.station_id = station_query(req);
                  f.scope = scope_of(req.who);
                  f.state = req.query("state").value_or("");
                  page(f, req);
                  return Response::json(reservations_reply(s, f, true));
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/reservations/{id}/end", "admin.reservations.end", "admin-parking",
                      "End an active reservation (completed, ended by the operator)")
              .answers("{reservation: {..., state: completed, ended_by: <operator>}}")
              .admin("sessions.stop")
              .param(id_param())
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .returns(schemas::one_of_key("reservation", schemas::ref("AdminReservation")))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  ParkingStore ps(*d);
                  const auto row = ps.reservation(req.param_int("id"));
                  if (!row || !req.who.sees_station(row->station_id))
                      fail(ErrorCode::NotFound, "no such reservation");
                  if (!ps.end_reservation(row->id,
                                          {parking::ReservationState::Reserved, parking::ReservationState::Occupying},
                                          parking::ReservationState::Completed, req.who.name, s.now()))
                      fail(ErrorCode::Conflict, "the reservation has already ended");
                  json::Writer w;
                  w.begin_object().key("reservation");
                  write_reservation(w, s, *ps.reservation(row->id), true);
                  w.end_object();
                  return Response::json(w.str());
              }));

    r.add(
        Route::make(Method::Get, "/api/v1/admin/parking-orders", "admin.parking_orders.list", "admin-parking",
                    "Parking orders (stays and their fees), newest first")
            .answers(
                "{orders: [{id, station_id, space, plate, ..., fee_fen, owed_fen, state, account_id, reservation_id}]}")
            .admin("sessions.read")
            .q(integer("station_id", false, 1, INT64_MAX, "One station."))
            .q(str_enum("state", false, parking_order_states(), "One state."))
            .q(str("from", false, 40, "Arrived from (RFC 3339 or YYYY-MM-DD)."))
            .q(str("to", false, 40, "Arrived before (RFC 3339 or YYYY-MM-DD)."))
            .q(limit_param())
            .q(offset_param())
            .refuses({ErrorCode::NotFound})
            .returns(schemas::list_of("orders", schemas::ref("AdminParkingOrder")))
            .handle([&s](Request& req) {
                auto f = parking_order_filter(s, req);
                page(f, req);
                return Response::json(orders_reply(s, f, true));
            }));
}

std::vector<std::string> parking_order_states() {
    std::vector<std::string> out;
    for (auto st : {parking::OccupancyState::Open, parking::OccupancyState::Paid, parking::OccupancyState::Unpaid,
                    parking::OccupancyState::Free})
        out.emplace_back(parking::to_string(st));
    return out;
}

OrderFilter parking_order_filter(const Services& s, const Request& req) {
    OrderFilter f;
    f.station_id = station_query(req);
    f.scope = scope_of(req.who);
    f.state = req.query("state").value_or("");
    f.from = query_time(s, req, "from");
    f.to = query_time(s, req, "to");
    return f;
}

} // namespace pilehub::api
