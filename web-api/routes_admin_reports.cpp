// The dashboard (today, cumulative, 7 days, top riders; every figure from the ledger and the
// sessions) and the CSV / XLSX exports of sessions and the ledger.
#include "web-api/export_formats.hpp"
#include "web-api/openapi_schemas_admin.hpp"
#include "web-api/report_store.hpp"
#include "web-api/routes_common.hpp"

#include <fmt/format.h>

#include <map>

namespace pilehub::api {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kMaxExportRows = 200'000;

void write_figures(json::Writer& w, const Figures& f) {
    w.begin_object().field("recharge_fen", f.recharge_fen).field("bonus_given_fen", f.bonus_given_fen);
    w.field("charge_fen", f.charge_fen).field("charge_real_fen", f.charge_real_fen).field("refund_fen", f.refund_fen);
    w.field("card_fee_fen", f.card_fee_fen).field("parking_fen", f.parking_fen).field("energy_wh", f.energy_wh);
    w.field("sessions", f.sessions);
    w.field("charging_s", f.charging_s).field("new_accounts", f.new_accounts).end_object();
}

void write_kind(json::Writer& w, const char* key, const KindFigures& k) {
    w.key(key).begin_object().field("charge_fen", k.charge_fen).field("energy_wh", k.energy_wh);
    w.field("sessions", k.sessions).field("charging_s", k.charging_s).end_object();
}

void write_by_kind(json::Writer& w, const FiguresByKind& f) {
    w.begin_object();
    write_kind(w, "ebike", f.ebike);
    write_kind(w, "ev", f.ev);
    w.end_object();
}

std::string local_date(EpochMs t, std::int32_t off) {
    return billing::format_rfc3339(t, off).substr(0, 10);
}

std::string fen_text(std::int64_t fen) {
    return Fen(fen).yuan_string();
}

std::string dashboard_schema() {
    using namespace oas;
    const auto figures = obj({{"recharge_fen", kInt},
                              {"bonus_given_fen", kInt},
                              {"charge_fen", kInt},
                              {"charge_real_fen", kInt},
                              {"refund_fen", kInt},
                              {"card_fee_fen", kInt},
                              {"parking_fen", kInt},
                              {"energy_wh", kInt},
                              {"sessions", kInt},
                              {"charging_s", kInt},
                              {"new_accounts", kInt}});
    const auto kind = obj({{"charge_fen", kInt}, {"energy_wh", kInt}, {"sessions", kInt}, {"charging_s", kInt}});
    const auto by_kind = obj({{"ebike", kind}, {"ev", kind}});
    const auto day = obj({{"date", kDate},
                          {"recharge_fen", kInt},
                          {"charge_fen", kInt},
                          {"energy_wh", kInt},
                          {"sessions", kInt},
                          {"charging_s", kInt},
                          {"new_accounts", kInt}});
    const auto rider = obj({{"account_id", kInt},
                            {"phone", kStr},
                            {"name", kStr},
                            {"spent_fen", kInt},
                            {"sessions", kInt},
                            {"energy_wh", kInt}});
    return obj({{"timezone", kStr},
                {"date", kDate},
                {"today", figures},
                {"total", figures},
                {"by_kind", obj({{"today", by_kind}, {"total", by_kind}})},
                {"series", arr(day)},
                {"top_riders", arr(rider)}});
}

} // namespace

void add_admin_report_routes(Router& r, Services& s) {
    r.add(Route::make(Method::Get, "/api/v1/admin/dashboard", "admin.dashboard", "admin-reports",
                      "Today and cumulative recharges, charging revenue, kWh, sessions, charging time, new accounts; "
                      "e-bikes and cars apart (by_kind); 7-day series; top riders")
              .admin("dashboard.read")
              .q(integer("station_id", false, 1, INT64_MAX, "One station (default: every station in scope)."))
              .refuses({ErrorCode::NotFound})
              .returns(dashboard_schema())
              .handle([&s](Request& req) {
                  const auto station = req.query_int("station_id");
                  if (station)
                      require_station(req.who, *station);
                  const auto off = s.settings.utc_offset_s;
                  const auto now = s.now();
                  const auto today = billing::next_local_midnight(now, off) - kDayMs;
                  const auto scope = scope_of(req.who);
                  auto d = s.core->get();
                  ReportStore rep(*d);
                  json::Writer w;
                  w.begin_object().field("timezone", s.settings.timezone).field("date", local_date(now, off));
                  w.key("today");
                  write_figures(w, rep.figures(today, today + kDayMs, scope, station));
                  w.key("total");
                  write_figures(w, rep.figures(0, INT64_MAX, scope, station));
                  // E-bikes and cars apart: the session figures of today and of all time per kind.
                  w.key("by_kind").begin_object().key("today");
                  write_by_kind(w, rep.figures_by_kind(today, today + kDayMs, scope, station));
                  w.key("total");
                  write_by_kind(w, rep.figures_by_kind(0, INT64_MAX, scope, station));
                  w.end_object();
                  w.key("series").begin_array();
                  for (int i = 6; i >= 0; --i) {
                      const auto from = today - i * kDayMs;
                      const auto f = rep.figures(from, from + kDayMs, scope, station);
                      w.begin_object().field("date", local_date(from, off)).field("recharge_fen", f.recharge_fen);
                      w.field("charge_fen", f.charge_fen).field("energy_wh", f.energy_wh).field("sessions", f.sessions);
                      w.field("charging_s", f.charging_s).field("new_accounts", f.new_accounts).end_object();
                  }
                  w.end_array();
                  w.key("top_riders").begin_array();
                  for (const auto& t : rep.top_riders(today - 29 * kDayMs, today + kDayMs, scope, station, 10))
                      w.begin_object()
                          .field("account_id", t.account_id)
                          .field("phone", t.phone)
                          .field("name", t.name)
                          .field("spent_fen", t.spent_fen)
                          .field("sessions", t.sessions)
                          .field("energy_wh", t.energy_wh)
                          .end_object();
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/exports/sessions", "admin.exports.sessions", "admin-reports",
                      "Sessions (orders) as CSV or XLSX: e-bike and car orders apart (kind), electricity and service "
                      "amounts of settled ones")
              .admin("exports.read")
              .q(format_param())
              .q(str("from", false, 40, "Created from (RFC 3339 or YYYY-MM-DD)."))
              .q(str("to", false, 40, "Created before (RFC 3339 or YYYY-MM-DD)."))
              .q(integer("station_id", false, 1, INT64_MAX, "One station."))
              .q(str_enum("state", false, session_state_words(svc::is_ended),
                          "Only this state: active (every state that holds its socket), completed or failed."))
              .q(session_kind_param())
              .produce("text/csv")
              .handle([&s](Request& req) {
                  SessionFilter f;
                  f.kind = req.query("kind").value_or("");
                  f.from = query_time(s, req, "from");
                  f.to = query_time(s, req, "to");
                  f.station_id = req.query_int("station_id");
                  f.state = req.query("state").value_or("");
                  f.scope = scope_of(req.who);
                  f.limit = kMaxExportRows;
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  std::map<std::int64_t, std::string> station_names;
                  exports::Table t;
                  t.name = "sessions";
                  // Columns added for cars go at the end, so older readers of the export keep theirs.
                  t.headers = {"session_id",      "state",      "method",      "account_id", "phone",     "card_no",
                               "station_id",      "station",    "device_id",   "socket",     "mode",      "minutes",
                               "created_at",      "started_at", "ended_at",    "duration_s", "energy_wh", "max_power_w",
                               "cost_fen",        "cost_yuan",  "stop_reason", "kind",       "max_fen",   "soc_pct",
                               "electricity_fen", "service_fen"};
                  for (const auto& row : SessionStore(*d).sessions(f)) {
                      auto it = station_names.find(row.station_id);
                      if (it == station_names.end()) {
                          auto st = cat.station(row.station_id);
                          it = station_names.emplace(row.station_id, st ? st->name : "").first;
                      }
                      auto opt_time = [&](std::optional<EpochMs> v) { return v ? when(s, *v) : std::string(); };
                      auto opt_int = [](std::optional<std::int64_t> v) {
                          return v ? exports::Cell(*v) : exports::Cell(std::string());
                      };
                      t.rows.push_back({row.id,
                                        std::string(svc::to_string(row.state)),
                                        row.method,
                                        row.account_id,
                                        row.phone,
                                        row.card_no.value_or(""),
                                        row.station_id,
                                        it->second,
                                        row.device_id,
                                        std::int64_t{row.n},
                                        row.mode,
                                        opt_int(row.minutes),
                                        when(s, row.created_at),
                                        opt_time(row.started_at),
                                        opt_time(row.ended_at),
                                        row.duration_s,
                                        row.energy_wh,
                                        row.max_power_w,
                                        opt_int(row.cost_fen),
                                        row.cost_fen ? fen_text(*row.cost_fen) : std::string(),
                                        row.stop_reason.value_or(""),
                                        row.kind,
                                        opt_int(row.max_fen),
                                        opt_int(row.soc_pct),
                                        opt_int(row.electricity_fen),
                                        opt_int(row.service_fen)});
                  }
                  return send_table(t, req.query("format").value_or("csv"), "sessions");
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/exports/ledger", "admin.exports.ledger", "admin-reports",
                      "The ledger (account statements) as CSV or XLSX")
              .admin("exports.read")
              .q(format_param())
              .q(str("from", false, 40, "From (RFC 3339 or YYYY-MM-DD)."))
              .q(str("to", false, 40, "Before (RFC 3339 or YYYY-MM-DD)."))
              .q(str_enum("kind", false, ledger_kind_words(), "One kind."))
              .q(integer("account_id", false, 1, INT64_MAX, "One account."))
              .produce("text/csv")
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  AccountStore accounts(*d);
                  std::map<std::int64_t, bool> visible;
                  auto sees = [&](std::int64_t account) {
                      if (req.who.all_stations)
                          return true;
                      auto it = visible.find(account);
                      if (it == visible.end()) {
                          auto a = accounts.account(account);
                          it = visible
                                   .emplace(account,
                                            a && a->home_station_id && req.who.sees_station(*a->home_station_id))
                                   .first;
                      }
                      return it->second;
                  };
                  exports::Table t;
                  t.name = "ledger";
                  t.headers = {"id",         "at",          "account_id", "phone", "kind",     "real_fen", "bonus_fen",
                               "real_after", "bonus_after", "real_yuan",  "ref",   "operator", "note"};
                  for (const auto& e : accounts.ledger_between(
                           query_time(s, req, "from").value_or(0), query_time(s, req, "to").value_or(INT64_MAX),
                           req.query_int("account_id"), req.query("kind").value_or(""), kMaxExportRows, 0)) {
                      if (!sees(e.account_id))
                          continue;
                      t.rows.push_back({e.id, when(s, e.at), e.account_id, e.phone, e.kind, e.real_fen, e.bonus_fen,
                                        e.real_after, e.bonus_after, fen_text(e.real_fen), e.ref, e.op, e.note});
                  }
                  return send_table(t, req.query("format").value_or("csv"), "ledger");
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/exports/parking-orders", "admin.exports.parking_orders",
                      "admin-reports", "Parking orders (stays and their fees) as CSV or XLSX")
              .admin("exports.read")
              .q(format_param())
              .q(integer("station_id", false, 1, INT64_MAX, "One station."))
              .q(str_enum("state", false, parking_order_states(), "One state."))
              .q(str("from", false, 40, "Arrived from (RFC 3339 or YYYY-MM-DD)."))
              .q(str("to", false, 40, "Arrived before (RFC 3339 or YYYY-MM-DD)."))
              .produce("text/csv")
              .refuses({ErrorCode::NotFound})
              .handle([&s](Request& req) {
                  auto f = parking_order_filter(s, req);
                  f.limit = kMaxExportRows;
                  auto d = s.core->get();
                  exports::Table t;
                  t.name = "parking_orders";
                  t.headers = {"id",       "station_id", "space",       "plate",      "color",   "arrived_at",
                               "left_at",  "duration_s", "charging_s",  "billable_s", "fee_fen", "fee_yuan",
                               "owed_fen", "state",      "whitelisted", "account_id", "paid_at"};
                  auto opt_time = [&](std::optional<EpochMs> v) { return v ? when(s, *v) : std::string(); };
                  auto opt_int = [](std::optional<std::int64_t> v) {
                      return v ? exports::Cell(*v) : exports::Cell(std::string());
                  };
                  for (const auto& o : ParkingStore(*d).orders(f))
                      t.rows.push_back({o.id, o.station_id, o.space.str(), o.plate.value_or(""), o.color.value_or(""),
                                        when(s, o.arrived_at), opt_time(o.left_at), opt_int(o.duration_s),
                                        opt_int(o.charging_s), opt_int(o.billable_s), opt_int(o.fee_fen),
                                        o.fee_fen ? fen_text(*o.fee_fen) : std::string(), o.owed_fen, o.state,
                                        std::int64_t{o.whitelisted ? 1 : 0}, opt_int(o.account_id),
                                        opt_time(o.paid_at)});
                  return send_table(t, req.query("format").value_or("csv"), "parking_orders");
              }));
}

} // namespace pilehub::api
