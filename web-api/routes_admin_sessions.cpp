// Sessions as operators see them (filters, detail with power curve and bill lines, force-end),
// presence log, fault records and incidents.
#include "common/incidents.hpp"
#include "common/ledger.hpp"
#include "common/log.hpp"
#include "common/pricing.hpp"
#include "web-api/account_store.hpp"
#include "web-api/money_controls.hpp"
#include "web-api/monitor_store.hpp"
#include "web-api/openapi_schemas_admin.hpp"
#include "web-api/routes_common.hpp"

#include <fmt/format.h>

namespace pilehub::api {
namespace {

SessionRow session_in_scope(SessionStore& store, const Principal& who, const std::string& id) {
    auto row = store.session(id);
    if (!row || !who.sees_station(row->station_id))
        fail(ErrorCode::NotFound, "no such session");
    return *row;
}

/// The bill: billingd's settlement if there is one, else the same engine run on what is recorded.
void write_bill(json::Writer& w, Services& s, db::Database& core, const SessionRow& row,
                const std::vector<SampleRow>& curve) {
    if (const auto settled = SessionStore(core).settlement(row.id)) {
        w.key("bill").begin_object().field("source", "settlement").field("priced_fen", settled->priced_fen);
        w.field("debited_fen", settled->debited_fen)
            .field("shortfall_fen", settled->shortfall_fen)
            .field("note", settled->note);
        w.field("settled_at", when(s, settled->settled_at)).key("detail");
        if (auto doc = json::parse(settled->bill); doc)
            w.raw_value(*doc);
        else
            w.null();
        w.end_object();
        return;
    }
    w.key("bill");
    if (!row.tariff_id || !row.started_at) {
        w.null();
        return;
    }
    const auto stored = CatalogStore(core).tariff(*row.tariff_id);
    if (!stored) {
        w.null();
        return;
    }
    auto tariff = billing::parse_tariff(stored->document);
    auto mode = billing::parse_mode(row.mode);
    if (!tariff || !mode) {
        w.null();
        return;
    }
    std::vector<billing::Sample> samples;
    for (const auto& p : curve)
        samples.push_back(billing::Sample{p.t, p.energy_wh, p.power_w});
    billing::PricingInput in;
    in.mode = *mode;
    in.start_ms = *row.started_at;
    in.stop_ms = row.ended_at.value_or(s.now());
    in.minutes = row.minutes;
    in.samples = samples;
    const std::string reason = row.stop_reason.value_or("");
    in.stop_reason = reason;
    auto bill =
        svc::holds_socket(row.state) ? billing::running_cost(*tariff, in, s.now()) : billing::price(*tariff, in);
    if (!bill) {
        w.null();
        return;
    }
    w.begin_object()
        .field("source", svc::holds_socket(row.state) ? "running" : "recomputed")
        .field("tariff_version", stored->version)
        .key("detail");
    billing::write_bill(w, *bill);
    w.end_object();
}

/// A session's order refunds (CONTRACT F.3) in its detail: what may still be refunded and each refund.
void write_order_refunds(json::Writer& w, const Services& s, db::Database& core, const std::string& session_id) {
    const auto o = ledger::Ledger(core, *s.clock).order_refunds(session_id);
    w.key("refunds").begin_object();
    w.field("refunded_fen", o ? (o->back_real + o->back_bonus).value() : 0);
    w.field("refundable_fen", o ? o->refundable().value() : 0).key("entries").begin_array();
    if (o)
        for (const auto& e : o->entries)
            w.begin_object()
                .field("id", e.id)
                .field("amount_fen", (e.real_fen + e.bonus_fen).value())
                .field("real_fen", e.real_fen.value())
                .field("bonus_fen", e.bonus_fen.value())
                .field("reason", e.note)
                .field("operator", e.operator_name)
                .field("at", when(s, e.at))
                .end_object();
    w.end_array().end_object();
}

/// An order refund's members as write_order_refunds and the refund route write them.
oas::Members refund_entry_members() {
    using namespace oas;
    return {{"amount_fen", kInt}, {"real_fen", kInt}, {"bonus_fen", kInt},
            {"reason", kStr},     {"operator", kStr}, {"at", kTime}};
}

/// write_order_refunds' `refunds`.
std::string order_refunds_schema() {
    using namespace oas;
    return obj({{"refunded_fen", kInt},
                {"refundable_fen", kInt},
                {"entries", arr(obj(Members{{"id", kInt}} + refund_entry_members()))}});
}

/// A session's detail: write_session, events, write_bill (a settlement, or the engine's running or
/// recomputed bill, or null), refunds, curve.
std::string session_detail_schema() {
    using namespace oas;
    const auto event = obj({{"at", kTime}, {"from", kStrN}, {"to", kStr}, {"reason", kStr}, {"actor", kStr}});
    const auto bill = obj_n({{"source", words_of({"settlement", "running", "recomputed"})},
                             {"?priced_fen", kInt},
                             {"?debited_fen", kInt},
                             {"?shortfall_fen", kInt},
                             {"?note", kStr},
                             {"?settled_at", kTime},
                             {"?tariff_version", kInt},
                             {"detail", kAnyObjN}});
    return obj(
        session_members() +
        Members{{"events", arr(event)}, {"bill", bill}, {"refunds", order_refunds_schema()}, {"curve", curve()}});
}

/// The filter of `GET /admin/presence-log` and `GET /admin/faults` from their query (the route
/// table has checked each value), scoped to the caller's stations.
MonitorFilter monitor_filter(const Services& s, const Request& req) {
    MonitorFilter f;
    f.device_id = req.query("device").value_or("");
    f.station_id = req.query_int("station_id");
    f.from = query_time(s, req, "from");
    f.to = query_time(s, req, "to");
    f.scope = scope_of(req.who);
    f.limit = req.query_int("limit").value_or(50);
    f.offset = req.query_int("offset").value_or(0);
    return f;
}

/// The `kind` filter's words: every incident kind.
std::vector<std::string> incident_kind_words() {
    return {incidents::kKinds.begin(), incidents::kKinds.end()};
}

/// The filter of `GET /admin/incidents` from its query (the route table has checked each value).
IncidentFilter incident_filter(const Services& s, const Request& req) {
    IncidentFilter f;
    f.kind = req.query("kind").value_or("");
    f.device_id = req.query("device").value_or("");
    f.station_id = req.query_int("station_id");
    f.from = query_time(s, req, "from");
    f.to = query_time(s, req, "to");
    if (f.from && f.to && *f.from >= *f.to)
        fail(ErrorCode::InvalidRequest, "from must be before to");
    f.scope = scope_of(req.who);
    f.limit = req.query_int("limit").value_or(50);
    f.offset = req.query_int("offset").value_or(0);
    return f;
}

/// `{incidents: [{id, kind, device_id, station_id, session_id, detail, at}]}`.
std::string incidents_reply(const Services& s, const std::vector<IncidentRow>& rows) {
    json::Writer w;
    w.begin_object().key("incidents").begin_array();
    for (const auto& r : rows) {
        w.begin_object().field("id", r.id).field("kind", r.kind).field("device_id", r.device_id).key("station_id");
        if (r.station_id)
            w.value(*r.station_id);
        else
            w.null();
        w.key("session_id");
        if (r.session_id)
            w.value(*r.session_id);
        else
            w.null();
        w.field("detail", r.detail).field("at", when(s, r.at)).end_object();
    }
    w.end_array().end_object();
    return w.str();
}

} // namespace

void add_admin_session_routes(Router& r, Services& s) {
    r.add(
        Route::make(Method::Get, "/api/v1/admin/sessions", "admin.sessions.list", "admin-sessions",
                    "Sessions in scope by station, device, rider, state, start method, kind (e-bike or car) and date, "
                    "newest first")
            .admin("sessions.read")
            .q(integer("station_id", false, 1, INT64_MAX, "One station."))
            .q(str("device_id", false, 48, "One device."))
            .q(integer("account_id", false, 1, INT64_MAX, "One rider."))
            .q(str("phone", false, 20, "One rider, by phone number (exactly)."))
            .q(str_enum("state", false, session_state_words([](svc::SessionState) { return true; }),
                        "A state, or active (every state that holds its socket)."))
            .q(str_enum("method", false, {"app", "card", "operator"}, "How it was started (operator: commissioning)."))
            .q(session_kind_param())
            .q(str("from", false, 40, "Created from (RFC 3339 or YYYY-MM-DD)."))
            .q(str("to", false, 40, "Created before (RFC 3339 or YYYY-MM-DD)."))
            .q(limit_param())
            .q(offset_param())
            .returns(oas::list_of("sessions", oas::obj(oas::session_members())))
            .handle([&s](Request& req) {
                SessionFilter f;
                f.kind = req.query("kind").value_or("");
                f.station_id = req.query_int("station_id");
                f.device_id = req.query("device_id").value_or("");
                f.account_id = req.query_int("account_id");
                f.phone = req.query("phone").value_or("");
                f.state = req.query("state").value_or("");
                f.method = req.query("method").value_or("");
                f.from = query_time(s, req, "from");
                f.to = query_time(s, req, "to");
                f.scope = scope_of(req.who);
                f.limit = req.query_int("limit").value_or(50);
                f.offset = req.query_int("offset").value_or(0);
                return Response::json(sessions_reply(s, f, true));
            }));

    r.add(Route::make(Method::Get, "/api/v1/admin/sessions/{id}", "admin.sessions.get", "admin-sessions",
                      "A session with its transitions, power curve and bill lines")
              .admin("sessions.read")
              .param(key_param("id", "Session id."))
              .refuses({ErrorCode::NotFound})
              .returns(session_detail_schema())
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  SessionStore store(*d);
                  const auto row = session_in_scope(store, req.who, req.param("id"));
                  std::vector<SampleRow> curve;
                  if (s.telemetry) {
                      auto tele = s.telemetry->get();
                      curve = session_samples(*tele, row.id, 100000);
                  }
                  json::Writer w;
                  w.begin_object();
                  write_session(w, s, row, true);
                  w.key("events").begin_array();
                  for (const auto& e : store.events(row.id)) {
                      w.begin_object().field("at", when(s, e.at));
                      w.key("from");
                      if (e.from_state)
                          w.value(*e.from_state);
                      else
                          w.null();
                      w.field("to", e.to_state).field("reason", e.reason).field("actor", e.actor).end_object();
                  }
                  w.end_array();
                  write_bill(w, s, *d, row, curve);
                  write_order_refunds(w, s, *d, row.id);
                  std::vector<SampleRow> thin = curve;
                  if (thin.size() > 500) {
                      auto tele = s.telemetry->get();
                      thin = session_samples(*tele, row.id, 500);
                  }
                  write_curve(w, s, thin);
                  w.end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/sessions/{id}/stop", "admin.sessions.stop", "admin-sessions",
                      "Force-end a session (a suspended or settling one is settled on its last report)")
              .admin("sessions.stop")
              .param(key_param("id", "Session id."))
              .ok(202)
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict, ErrorCode::Timeout})
              .returns(oas::obj({{"session", oas::obj(oas::session_members())}}))
              .handle([&s](Request& req) {
                  {
                      auto d = s.core->get();
                      SessionStore store(*d);
                      if (!svc::holds_socket(session_in_scope(store, req.who, req.param("id")).state))
                          fail(ErrorCode::Conflict, "the session has already ended");
                  }
                  call_sessiond(s, svc::ForceEndRequest{req.param("id"), req.who.name}, s.settings.rpc_timeout_ms);
                  auto d = s.core->get();
                  SessionStore store(*d);
                  const auto row = session_in_scope(store, req.who, req.param("id"));
                  json::Writer out;
                  out.begin_object().key("session").begin_object();
                  write_session(out, s, row, true);
                  out.end_object().end_object();
                  return Response::json(out.str(), 202);
              }));

    r.add(
        Route::make(Method::Post, "/api/v1/admin/sessions/{id}/refund", "admin.sessions.refund", "admin-sessions",
                    "Order refund: part or all of a completed session's cost back to the rider's wallet (real "
                    "money back up to what the session took from real money, the rest as bonus; never more than "
                    "its cost minus what was refunded of it). Requires an Idempotency-Key; counts toward the "
                    "operator's daily refund limit")
            .admin("wallet.refund")
            .param(key_param("id", "Session id."))
            .field(integer("amount_fen", true, 1, ledger::kMaxAmountFen, "Amount given back, fen."))
            .field(str("reason", true, 200, "Why."))
            .ok(201)
            .moves_money()
            .refuses({ErrorCode::NotFound, ErrorCode::Conflict, ErrorCode::RefundExceedsCost, ErrorCode::LimitExceeded})
            .returns(oas::obj(
                {{"refund",
                  oas::obj(oas::Members{{"id", oas::kInt}, {"session_id", oas::kStr}, {"account_id", oas::kInt}} +
                           refund_entry_members())},
                 {"refunds", order_refunds_schema()}}))
            .handle([&s](Request& req) {
                auto b = req.body();
                const auto amount = Fen(b.req_int("amount_fen", 1, ledger::kMaxAmountFen));
                const auto reason = b.req_str("reason", 200);
                req.check_body();
                auto d = s.core->get();
                SessionStore store(*d);
                const auto row = session_in_scope(store, req.who, req.param("id"));
                ledger::OrderRefund order;
                order.session_id = row.id;
                order.amount_fen = amount;
                order.meta = ledger::Meta{fmt::format("refund_order:{}:{}", req.who.name, *idempotency_key(req)),
                                          row.id, req.who.name, reason};
                const auto p = AccountStore(*d).refund_order(order, *s.clock, [&] {
                    if (auto refused =
                            check_refund_day_limit(*d, s.settings, req.who.role, req.who.id, amount, s.now()))
                        throw *refused;
                });
                if (p.outcome == ledger::Outcome::UnknownSession)
                    fail(ErrorCode::Conflict, "only a completed, settled session can be refunded");
                if (p.outcome == ledger::Outcome::ExceedsCost)
                    fail(ErrorCode::RefundExceedsCost,
                         "more than the session debited minus what was already refunded of it");
                check_posting(p);
                json::Writer w;
                w.begin_object().key("refund").begin_object();
                w.field("id", p.entry->id).field("session_id", row.id).field("account_id", p.entry->account_id);
                w.field("amount_fen", (p.entry->real_fen + p.entry->bonus_fen).value())
                    .field("real_fen", p.entry->real_fen.value())
                    .field("bonus_fen", p.entry->bonus_fen.value())
                    .field("reason", p.entry->note)
                    .field("operator", p.entry->operator_name)
                    .field("at", when(s, p.entry->at));
                w.end_object();
                write_order_refunds(w, s, *d, row.id);
                w.end_object();
                return Response::json(w.str(), 201);
            }));

    r.add(Route::make(Method::Get, "/api/v1/admin/presence-log", "admin.presence_log", "admin-monitor",
                      "Devices' online/offline transitions, newest first")
              .admin("monitor.read")
              .q(str("device", false, 48, "One device."))
              .q(integer("station_id", false, 1, INT64_MAX, "One station."))
              .q(str("from", false, 40, "From (RFC 3339 or YYYY-MM-DD)."))
              .q(str("to", false, 40, "Before (RFC 3339 or YYYY-MM-DD)."))
              .q(limit_param())
              .q(offset_param())
              .returns(oas::list_of("entries", oas::obj({{"id", oas::kInt},
                                                         {"device_id", oas::kStr},
                                                         {"online", oas::kBool},
                                                         {"boot", oas::kInt},
                                                         {"at", oas::kTime},
                                                         {"reason", oas::kStr}})))
              .handle([&s](Request& req) {
                  const auto f = monitor_filter(s, req);
                  auto d = s.core->get();
                  json::Writer w;
                  w.begin_object().key("entries").begin_array();
                  for (const auto& e : MonitorStore(*d).presence_log(f)) {
                      w.begin_object().field("id", e.id).field("device_id", e.device_id).field("online", e.online);
                      w.field("boot", e.boot).field("at", when(s, e.at)).field("reason", e.reason).end_object();
                  }
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(
        Route::make(Method::Get, "/api/v1/admin/faults", "admin.faults", "admin-monitor", "Fault records, newest first")
            .admin("monitor.read")
            .q(str("device", false, 48, "One device."))
            .q(integer("station_id", false, 1, INT64_MAX, "One station."))
            .q(boolean("open", false, "Only faults not cleared yet."))
            .q(str("from", false, 40, "Opened from (RFC 3339 or YYYY-MM-DD)."))
            .q(str("to", false, 40, "Opened before (RFC 3339 or YYYY-MM-DD)."))
            .q(limit_param())
            .q(offset_param())
            .returns(oas::list_of("faults", oas::obj({{"id", oas::kInt},
                                                      {"device_id", oas::kStr},
                                                      {"n", oas::kInt},
                                                      {"code", oas::kStr},
                                                      {"bit", oas::kIntN},
                                                      {"opened_at", oas::kTime},
                                                      {"cleared_at", oas::kTimeN}})))
            .handle([&s](Request& req) {
                auto f = monitor_filter(s, req);
                f.open_only = req.query_bool("open").value_or(false);
                auto d = s.core->get();
                json::Writer w;
                w.begin_object().key("faults").begin_array();
                for (const auto& e : MonitorStore(*d).faults(f)) {
                    w.begin_object().field("id", e.id).field("device_id", e.device_id).field("n", e.n);
                    w.field("code", e.code).key("bit");
                    if (e.bit)
                        w.value(*e.bit);
                    else
                        w.null();
                    w.field("opened_at", when(s, e.opened_at));
                    write_time(w, s, "cleared_at", e.cleared_at);
                    w.end_object();
                }
                w.end_array().end_object();
                return Response::json(w.str());
            }));

    r.add(Route::make(Method::Get, "/api/v1/admin/incidents", "admin.incidents", "admin-monitor",
                      "Incidents operators should look at (sessions settled by a time-out, clamped session records), "
                      "newest first")
              .admin("monitor.read")
              .q(str_enum("kind", false, incident_kind_words(), "One kind."))
              .q(str("device", false, 48, "One device."))
              .q(integer("station_id", false, 1, INT64_MAX, "One station (the device's)."))
              .q(str("from", false, 40, "From (RFC 3339 or YYYY-MM-DD)."))
              .q(str("to", false, 40, "Before (RFC 3339 or YYYY-MM-DD); after from."))
              .q(limit_param())
              .q(offset_param())
              .returns(oas::list_of("incidents", oas::obj({{"id", oas::kInt},
                                                           {"kind", oas::words_of(incident_kind_words())},
                                                           {"device_id", oas::kStr},
                                                           {"station_id", oas::kIntN},
                                                           {"session_id", oas::kStrN},
                                                           {"detail", oas::kStr},
                                                           {"at", oas::kTime}})))
              .handle([&s](Request& req) {
                  const auto f = incident_filter(s, req);
                  auto d = s.core->get();
                  return Response::json(incidents_reply(s, MonitorStore(*d).incidents(f)));
              }));
}

} // namespace pilehub::api
