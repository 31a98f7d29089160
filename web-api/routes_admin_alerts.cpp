// Alerts as operators see them (CONTRACT G): the list, one alert, acknowledge and resolve. alertd
// raises and resolves them (workers/alertd); the state machine is common/alerts.hpp.
#include "common/alerts.hpp"
#include "web-api/alert_store.hpp"
#include "web-api/openapi_schemas_admin.hpp"
#include "web-api/routes_common.hpp"

namespace pilehub::api {
namespace {

std::vector<std::string> words(const auto& list) {
    return {list.begin(), list.end()};
}

void write_alert(json::Writer& w, const Services& s, const AlertRow& a) {
    w.begin_object().field("id", a.id).field("kind", a.kind).key("device_id");
    if (a.device_id)
        w.value(*a.device_id);
    else
        w.null();
    w.field("n", a.n).field("subject", a.subject).field("state", a.state).field("severity", a.severity);
    w.field("detail", a.detail).field("opened_at", when(s, a.opened_at)).field("last_seen", when(s, a.last_seen));
    w.key("acked_by");
    if (a.acked_by)
        w.value(*a.acked_by);
    else
        w.null();
    write_time(w, s, "acked_at", a.acked_at);
    w.key("resolved_by");
    if (a.resolved_by)
        w.value(*a.resolved_by);
    else
        w.null();
    write_time(w, s, "resolved_at", a.resolved_at);
    w.key("station_id");
    if (a.station_id)
        w.value(*a.station_id);
    else
        w.null();
    w.end_object();
}

/// The alert if the operator sees it (its device's station in scope; an alert of no device: unscoped
/// operators only), else 404.
AlertRow alert_in_scope(AlertStore& store, const Principal& who, std::int64_t id) {
    auto a = store.get(id);
    const auto scope = scope_of(who);
    if (!a || (scope && (!a->station_id || !scope->count(*a->station_id))))
        fail(ErrorCode::NotFound, "no such alert");
    return *a;
}

Response one(const Services& s, const AlertRow& a) {
    json::Writer w;
    write_alert(w, s, a);
    return Response::json(w.str());
}

/// Acknowledges or resolves alert `{id}` as the operator: 404 unknown or out of scope, 409 when its
/// state does not allow it (an acknowledged alert acknowledged again, a resolved one).
Response change(Services& s, Request& req, alerts::Event event) {
    auto d = s.core->get();
    AlertStore store(*d);
    const auto id = req.param_int("id");
    alert_in_scope(store, req.who, id);
    switch (store.change(id, event, req.who.name, s.now())) {
    case AlertChange::NotFound:
        fail(ErrorCode::NotFound, "no such alert");
    case AlertChange::WrongState:
        fail(ErrorCode::Conflict,
             event == alerts::Event::Ack ? "only an open alert can be acknowledged" : "the alert is resolved already");
    case AlertChange::Done:
        break;
    }
    return one(s, *store.get(id));
}

constexpr const char* kShape = "{id, kind, device_id, n, subject, state, severity, detail, opened_at, last_seen, "
                               "acked_by, acked_at, resolved_by, resolved_at, station_id}";

std::string alert_schema() {
    using namespace oas;
    return obj({{"id", kInt},
                {"kind", words_of(alerts::kKinds)},
                {"device_id", kStrN},
                {"n", kInt},
                {"subject", kStr},
                {"state", words_of(alerts::kStates)},
                {"severity", kStr},
                {"detail", kStr},
                {"opened_at", kTime},
                {"last_seen", kTime},
                {"acked_by", kStrN},
                {"acked_at", kTimeN},
                {"resolved_by", kStrN},
                {"resolved_at", kTimeN},
                {"station_id", kIntN}});
}

} // namespace

void add_admin_alert_routes(Router& r, Services& s) {
    r.add(Route::make(Method::Get, "/api/v1/admin/alerts", "admin.alerts.list", "admin-monitor",
                      "Alerts (device offline, fault, over-temperature, lock fault, stuck session, payment anomaly), "
                      "newest first")
              .answers(std::string("{alerts: [") + kShape + "]}")
              .returns(oas::list_of("alerts", alert_schema()))
              .admin("monitor.read")
              .q(str_enum("state", false, words(alerts::kStates), "One state."))
              .q(str_enum("kind", false, words(alerts::kKinds), "One kind."))
              .q(str("device", false, 48, "One device."))
              .q(integer("station_id", false, 1, INT64_MAX, "The alerts of one station's devices."))
              .q(str("from", false, 40, "Opened from (RFC 3339 or YYYY-MM-DD)."))
              .q(str("to", false, 40, "Opened before (RFC 3339 or YYYY-MM-DD)."))
              .q(limit_param())
              .q(offset_param())
              .handle([&s](Request& req) {
                  AlertFilter f;
                  f.state = req.query("state").value_or("");
                  f.kind = req.query("kind").value_or("");
                  f.device_id = req.query("device").value_or("");
                  f.station_id = req.query_int("station_id");
                  if (f.station_id)
                      require_station(req.who, *f.station_id);
                  f.from = query_time(s, req, "from");
                  f.to = query_time(s, req, "to");
                  f.scope = scope_of(req.who);
                  f.limit = req.query_int("limit").value_or(50);
                  f.offset = req.query_int("offset").value_or(0);
                  auto d = s.core->get();
                  json::Writer w;
                  w.begin_object().key("alerts").begin_array();
                  for (const auto& a : AlertStore(*d).list(f))
                      write_alert(w, s, a);
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/alerts/{id}", "admin.alerts.get", "admin-monitor", "One alert")
              .answers(kShape)
              .returns(alert_schema())
              .admin("monitor.read")
              .param(id_param())
              .refuses({ErrorCode::NotFound})
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  AlertStore store(*d);
                  return one(s, alert_in_scope(store, req.who, req.param_int("id")));
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/alerts/{id}/ack", "admin.alerts.ack", "admin-monitor",
                      "Acknowledge an open alert (recorded with the operator and the time). While its condition "
                      "persists no new alert of the same kind and device is opened")
              .answers(std::string("the alert: ") + kShape)
              .returns(alert_schema())
              .admin("devices.command")
              .param(id_param())
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .handle([&s](Request& req) { return change(s, req, alerts::Event::Ack); }));

    r.add(Route::make(Method::Post, "/api/v1/admin/alerts/{id}/resolve", "admin.alerts.resolve", "admin-monitor",
                      "Resolve an open or acknowledged alert (recorded with the operator and the time); a new one "
                      "opens only after its condition cleared and came back")
              .answers(std::string("the alert: ") + kShape)
              .returns(alert_schema())
              .admin("devices.command")
              .param(id_param())
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .handle([&s](Request& req) { return change(s, req, alerts::Event::Resolve); }));
}

} // namespace pilehub::api
