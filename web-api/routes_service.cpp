// Customer service (issue 14; seeds 003 §3.6.4–5, 004 故障管理): riders report a fault on a socket
// (text and an optional photo URL) and follow it; operators see the reports of their stations,
// assign, resolve or reject them (web-api/fault_rules.hpp), and keep call records and repair
// records, each listed, filtered and exported.
#include "common/payloads/envelope.hpp"
#include "common/socket_code.hpp"
#include "web-api/access_store.hpp"
#include "web-api/device_placement.hpp"
#include "web-api/fault_rules.hpp"
#include "web-api/openapi_schemas.hpp"
#include "web-api/rbac.hpp"
#include "web-api/routes_common.hpp"
#include "web-api/service_store.hpp"

#include <fmt/format.h>

namespace pilehub::api {
namespace {

constexpr std::int64_t kMaxServiceExportRows = 200'000;
// Field bounds, in bytes (spelled once: each route's FieldSpec and its body read use these).
constexpr std::size_t kPhoneBytes = 20;    ///< a phone number
constexpr std::size_t kNameBytes = 64;     ///< a person's or staff member's name
constexpr std::size_t kDeviceIdBytes = 48; ///< topics::valid_device_id
constexpr std::size_t kPartsBytes = 500;   ///< a repair's parts
constexpr std::size_t kTimeBytes = 40;     ///< an RFC 3339 time or a date
constexpr std::size_t kWordBytes = 32;     ///< an enum word (validated by its FieldSpec)
constexpr std::int64_t kMaxPort = payloads::kMaxSockets;

/// A list filter with the query's page (`limit`, default 50, and `offset`).
template <typename Filter> Filter paged(Filter f, const Request& req) {
    f.limit = req.query_int("limit").value_or(50);
    f.offset = req.query_int("offset").value_or(0);
    return f;
}

/// A list filter of the operator's scope narrowed to the query's `station_id` (outside the scope:
/// 404) and period (`from`, `to`).
template <typename Filter> Filter scoped_filter(const Services& s, const Request& req) {
    Filter f;
    f.station_id = req.query_int("station_id");
    if (f.station_id)
        require_station(req.who, *f.station_id);
    f.scope = scope_of(req.who);
    f.from = query_time(s, req, "from");
    f.to = query_time(s, req, "to");
    return f;
}

/// A filter for an export: every row (up to kMaxServiceExportRows).
template <typename Filter> Filter all_rows(Filter f) {
    f.limit = kMaxServiceExportRows;
    return f;
}

/// `{<key>: [...]}`, each row written by `write`.
template <typename Row, typename Write>
std::string list_reply(std::string_view key, const std::vector<Row>& rows, const Write& write) {
    json::Writer w;
    w.begin_object().key(key).begin_array();
    for (const auto& row : rows)
        write(w, row);
    w.end_array().end_object();
    return w.str();
}

/// `{<key>: {...}}`, the one row written by `write`.
template <typename Write> std::string one_reply(std::string_view key, const Write& write) {
    json::Writer w;
    w.begin_object().key(key);
    write(w);
    w.end_object();
    return w.str();
}

std::vector<std::string> words(std::span<const std::string_view> ws) {
    return {ws.begin(), ws.end()};
}

/// The `state` filter of the operators' report list: every state word and `pending` (open or assigned).
std::vector<std::string> report_states() {
    std::vector<std::string> out{"pending"};
    for (auto st : service::all_fault_states())
        out.emplace_back(service::to_string(st));
    return out;
}

/// A text the rules accept, or invalid_request naming the field.
std::string checked_text(const std::string& field, std::string text, std::size_t max_chars) {
    if (const auto why = service::text_problem(text, max_chars))
        fail(ErrorCode::InvalidRequest, fmt::format("{} {}", field, *why));
    return text;
}

std::string opt_time_text(const Services& s, std::optional<EpochMs> t) {
    return t ? when(s, *t) : std::string();
}

exports::Cell opt_cell(std::optional<std::int64_t> v) {
    return v ? exports::Cell(*v) : exports::Cell(std::string());
}

/// A body time (RFC 3339 or YYYY-MM-DD), `now` when absent, or invalid_request.
EpochMs body_time(const Services& s, const std::optional<std::string>& text, const std::string& field) {
    if (!text)
        return s.now();
    const auto t = parse_time(s, *text);
    if (!t)
        fail(ErrorCode::InvalidRequest, fmt::format("{} must be an RFC 3339 time or a date YYYY-MM-DD", field));
    return *t;
}

// ---- fault reports ----

/// A report as the rider (`admin` false) or the operator sees it: riders do not see who handles it.
void write_report(json::Writer& w, const Services& s, const FaultReportRow& r, bool admin) {
    w.begin_object().field("id", r.id).field("state", service::to_string(r.state));
    w.field("socket", r.socket_code).field("device_id", r.device_id).field("n", r.n);
    w.field("category", r.category).field("text", r.text).nullable_field("photo_url", r.photo_url);
    w.nullable_field("session_id", r.session_id).field("created_at", when(s, r.created_at));
    w.nullable_field("resolution", r.resolution);
    write_time(w, s, "resolved_at", r.resolved_at);
    if (admin) {
        w.field("account_id", r.account_id).field("phone", r.phone).field("station_id", r.station_id);
        w.nullable_field("assignee", r.assignee);
        write_time(w, s, "assigned_at", r.assigned_at);
        w.nullable_field("resolved_by", r.resolved_by);
    }
    w.end_object();
}

std::string report_reply(const Services& s, const FaultReportRow& r, bool admin) {
    return one_reply("report", [&](json::Writer& w) { write_report(w, s, r, admin); });
}

std::string reports_reply(const Services& s, const std::vector<FaultReportRow>& rows, bool admin) {
    return list_reply("reports", rows, [&](json::Writer& w, const FaultReportRow& r) { write_report(w, s, r, admin); });
}

/// The report, if the operator sees its station; not_found otherwise.
FaultReportRow report_in_scope(ServiceStore& store, const Principal& who, std::int64_t id) {
    auto r = store.report(id);
    if (!r || !who.sees_station(r->station_id))
        fail(ErrorCode::NotFound, "no such fault report");
    return *r;
}

/// The socket a rider names: `socket_code`, or `device_id` and `n`; unknown_socket unless it exists.
sockets::SocketRef reported_socket(const std::optional<std::string>& code, const std::optional<std::string>& device,
                                   std::optional<std::int64_t> n) {
    if (code && (device || n))
        fail(ErrorCode::InvalidRequest, "name the socket by socket_code or by device_id and n, not both");
    if (code) {
        auto parsed = sockets::parse_socket_code(*code);
        if (!parsed)
            fail(ErrorCode::UnknownSocket, "no such socket");
        return *parsed;
    }
    if (!device || !n)
        fail(ErrorCode::InvalidRequest, "name the socket: socket_code, or device_id and n");
    return sockets::SocketRef{*device, static_cast<int>(*n)};
}

/// What a rider reports (POST /fault-reports), before it is checked.
struct FaultAsk {
    std::int64_t account_id = 0;
    sockets::SocketRef socket;
    std::string text;
    std::optional<std::string> photo_url;
    std::string category;
    std::optional<std::string> session_id;
};

/// Writes a rider's report or refuses it: invalid_request (text, photo URL), unknown_socket,
/// not_found (a session that is not the rider's), rate_limited (kMaxOpenReports pending already).
FaultReportRow submit_report(Services& s, const FaultAsk& ask) {
    NewFaultReport nr;
    nr.text = checked_text("text", ask.text, service::kMaxTextChars);
    if (ask.photo_url)
        if (const auto why = service::photo_url_problem(*ask.photo_url))
            fail(ErrorCode::InvalidRequest, "photo_url " + *why);
    auto d = s.core->get();
    CatalogStore cat(*d);
    const auto dev = cat.device(ask.socket.device_id);
    if (!dev || !dev->station_id || !cat.port(ask.socket.device_id, ask.socket.n)) // stock: no socket to ride
        fail(ErrorCode::UnknownSocket, "no such socket");
    if (ask.session_id) {
        // Another rider's session is indistinguishable from none at all.
        const auto sess = SessionStore(*d).session(*ask.session_id);
        if (!sess || sess->account_id != ask.account_id)
            fail(ErrorCode::NotFound, "no such session");
    }
    nr.account_id = ask.account_id;
    nr.station_id = *dev->station_id;
    nr.device_id = ask.socket.device_id;
    nr.n = ask.socket.n;
    nr.socket_code = sockets::socket_code(ask.socket);
    nr.session_id = ask.session_id;
    nr.category = ask.category;
    nr.photo_url = ask.photo_url;
    nr.now = s.now();
    ServiceStore store(*d);
    const auto id = store.add_report(nr, service::kMaxOpenReports);
    if (!id)
        fail(ErrorCode::RateLimited,
             fmt::format("at most {} reports may wait for an answer at once", service::kMaxOpenReports));
    return *store.report(*id);
}

std::vector<FieldSpec> report_filter_params() {
    return {str_enum("state", false, report_states(), "One state, or pending (open or assigned)."),
            integer("station_id", false, 1, INT64_MAX, "One station."),
            str("device", false, kDeviceIdBytes, "One device."),
            str("phone", false, kPhoneBytes, "The rider's phone."),
            str("from", false, kTimeBytes, "Reported from (RFC 3339 or YYYY-MM-DD)."),
            str("to", false, kTimeBytes, "Reported before (RFC 3339 or YYYY-MM-DD).")};
}

/// The operator's report filter: its scope, narrowed by the query (a station outside it: 404).
FaultReportFilter report_filter(const Services& s, const Request& req) {
    auto f = scoped_filter<FaultReportFilter>(s, req);
    f.state = req.query("state").value_or("");
    f.device = req.query("device").value_or("");
    f.phone = req.query("phone").value_or("");
    return f;
}

/// Moves a report by an operator's action (service::next_state): conflict when the action is not
/// allowed in its state or it changed meanwhile.
FaultReportRow move_report(Services& s, const Request& req, service::FaultAction action, const std::string& by,
                           const std::string& text) {
    auto d = s.core->get();
    ServiceStore store(*d);
    const auto row = report_in_scope(store, req.who, req.param_int("id"));
    const auto to = service::next_state(row.state, action);
    if (!to)
        fail(ErrorCode::Conflict, fmt::format("the report is already {}", service::to_string(row.state)));
    if (!store.move_report(FaultMove{row.id, row.state, *to, by, text, s.now()}))
        fail(ErrorCode::Conflict, "the report changed meanwhile; reload it");
    return *store.report(row.id);
}

/// The staff member a report is assigned to: an enabled staff account that sees the report's
/// station, else invalid_request.
std::string assignee(db::Database& d, const std::string& username, std::int64_t station_id) {
    const auto login = AccessStore(d).login(username);
    if (login && login->enabled) {
        const auto access = rbac::load_access(d, login->id);
        if (access.all_stations || access.station_ids.count(station_id) > 0)
            return username;
    }
    fail(ErrorCode::InvalidRequest, "admin must be an enabled staff member who sees the report's station");
}

// ---- calls and repairs ----

/// `caller_phone`: 3 to 20 bytes, the bounds of service_calls' CHECK, so that a shorter one is
/// refused invalid_request here rather than by the table (a constraint: 409 conflict).
FieldSpec caller_phone_field(bool required) {
    auto f = str("caller_phone", required, kPhoneBytes, "The caller's phone, 3 to 20 characters.");
    f.min = 3;
    return f;
}

void write_call(json::Writer& w, const Services& s, const ServiceCallRow& c) {
    w.begin_object().field("id", c.id).field("caller_phone", c.caller_phone).field("caller_name", c.caller_name);
    w.nullable_field("account_id", c.account_id).field("category", c.category).field("summary", c.summary);
    w.field("handled_by", c.handled_by).nullable_field("station_id", c.station_id);
    w.nullable_field("fault_report_id", c.fault_report_id).field("called_at", when(s, c.called_at));
    w.field("created_at", when(s, c.created_at)).end_object();
}

std::string call_reply(const Services& s, const ServiceCallRow& c) {
    return one_reply("call", [&](json::Writer& w) { write_call(w, s, c); });
}

/// The call, if the operator sees it (its station; a call without one: unscoped operators only).
ServiceCallRow call_in_scope(ServiceStore& store, const Principal& who, std::int64_t id) {
    auto c = store.call(id);
    if (!c || !(c->station_id ? who.sees_station(*c->station_id) : who.all_stations))
        fail(ErrorCode::NotFound, "no such call");
    return *c;
}

/// Refuses (404) an account or fault report a call links to that the operator does not see.
void check_call_links(db::Database& d, const Principal& who, const ServiceCallRow& c) {
    if (c.account_id) {
        AccountStore accounts(d);
        user_in_scope(accounts, who, *c.account_id);
    }
    if (c.fault_report_id) {
        ServiceStore store(d);
        report_in_scope(store, who, *c.fault_report_id);
    }
}

std::vector<FieldSpec> call_filter_params() {
    return {integer("station_id", false, 1, INT64_MAX, "One station."),
            str("phone", false, kPhoneBytes, "The caller's phone."),
            str("handled_by", false, kNameBytes, "The staff member who took the call."),
            str_enum("category", false, words(service::call_categories()), "One category."),
            str("from", false, kTimeBytes, "Called from (RFC 3339 or YYYY-MM-DD)."),
            str("to", false, kTimeBytes, "Called before (RFC 3339 or YYYY-MM-DD).")};
}

ServiceCallFilter call_filter(const Services& s, const Request& req) {
    auto f = scoped_filter<ServiceCallFilter>(s, req);
    f.phone = req.query("phone").value_or("");
    f.handled_by = req.query("handled_by").value_or("");
    f.category = req.query("category").value_or("");
    return f;
}

void write_repair(json::Writer& w, const Services& s, const RepairRow& r) {
    w.begin_object().field("id", r.id).field("station_id", r.station_id).field("device_id", r.device_id);
    w.nullable_field("n", r.n).nullable_field("fault_report_id", r.fault_report_id);
    w.field("description", r.description).field("parts", r.parts).field("technician", r.technician);
    w.field("technician_phone", r.technician_phone).field("started_at", when(s, r.started_at));
    write_time(w, s, "finished_at", r.finished_at);
    w.nullable_field("outcome", r.outcome).field("created_by", r.created_by);
    w.field("created_at", when(s, r.created_at)).end_object();
}

std::string repair_reply(const Services& s, const RepairRow& r) {
    return one_reply("repair", [&](json::Writer& w) { write_repair(w, s, r); });
}

RepairRow repair_in_scope(ServiceStore& store, const Principal& who, std::int64_t id) {
    auto r = store.repair(id);
    if (!r || !who.sees_station(r->station_id))
        fail(ErrorCode::NotFound, "no such repair");
    return *r;
}

std::vector<FieldSpec> repair_filter_params() {
    return {integer("station_id", false, 1, INT64_MAX, "One station."),
            str("device", false, kDeviceIdBytes, "One device."),
            str("technician", false, kNameBytes, "One technician."),
            str_enum("state", false, {"open", "finished"}, "open (not finished) or finished."),
            str("from", false, kTimeBytes, "Started from (RFC 3339 or YYYY-MM-DD)."),
            str("to", false, kTimeBytes, "Started before (RFC 3339 or YYYY-MM-DD).")};
}

RepairFilter repair_filter(const Services& s, const Request& req) {
    auto f = scoped_filter<RepairFilter>(s, req);
    f.device = req.query("device").value_or("");
    f.technician = req.query("technician").value_or("");
    f.state = req.query("state").value_or("");
    return f;
}

/// An operator list (`service.read`): its filter parameters, then `limit` and `offset`; a station
/// outside the operator's scope is 404.
Route admin_list(std::string path, std::string operation_id, std::string summary, std::string answers,
                 std::vector<FieldSpec> params) {
    auto r = Route::make(Method::Get, std::move(path), std::move(operation_id), "admin-service", std::move(summary));
    for (auto& p : params)
        r.q(std::move(p));
    r.q(limit_param()).q(offset_param()).answers(std::move(answers)).admin("service.read");
    return r.refuses({ErrorCode::NotFound});
}

/// An export of a list as CSV or XLSX (`exports.read`), with the list's filter parameters.
Route admin_export(std::string path, std::string operation_id, std::string summary, std::vector<FieldSpec> params) {
    auto r = Route::make(Method::Get, std::move(path), std::move(operation_id), "admin-reports", std::move(summary));
    r.admin("exports.read").q(format_param());
    for (auto& p : params)
        r.q(std::move(p));
    return r.produce("text/csv").refuses({ErrorCode::NotFound});
}

/// `GET <path>/{id}` (`service.read`): one row the operator sees (`in_scope`, else 404), as `reply` writes it.
template <typename Row>
Route admin_one(Services& s, std::string path, std::string operation_id, std::string summary,
                Row (*in_scope)(ServiceStore&, const Principal&, std::int64_t),
                std::string (*reply)(const Services&, const Row&)) {
    return Route::make(Method::Get, std::move(path), std::move(operation_id), "admin-service", std::move(summary))
        .answers("the row as the list shows it")
        .admin("service.read")
        .param(id_param())
        .refuses({ErrorCode::NotFound})
        .handle([&s, in_scope, reply](Request& req) {
            auto d = s.core->get();
            ServiceStore store(*d);
            return Response::json(reply(s, in_scope(store, req.who, req.param_int("id"))));
        });
}

/// `{report: {...}}` as operators see it.
std::string admin_report_reply(const Services& s, const FaultReportRow& r) {
    return report_reply(s, r, true);
}

void add_rider_fault_routes(Router& r, Services& s) {
    r.add(Route::make(Method::Post, "/api/v1/fault-reports", "fault_reports.add", "rider-service",
                      "Report a fault on a socket or gun (by socket_code, or device_id and n) with a text and "
                      "optionally a photo URL; a rider has at most 3 reports pending")
              .answers("{report: {id, state: open, socket, device_id, n, category, text, photo_url, session_id, "
                       "created_at, resolution, resolved_at}}")
              .rider()
              .field(str("socket_code", false, svc::kMaxSocketCodeLen, "Socket code <device_id>-<n> (its QR)."))
              .field(str("device_id", false, kDeviceIdBytes, "The device, with n."))
              .field(integer("n", false, 1, kMaxPort, "The socket (gun) number, with device_id."))
              .field(
                  str("text", true, service::utf8_bytes(service::kMaxTextChars), "What is wrong, 1 to 500 characters."))
              .field(str("photo_url", false, service::kMaxUrlBytes, "A photo of it: an http:// or https:// URL."))
              .field(str_enum("category", false, words(service::fault_categories()), "What kind of fault (other)."))
              .field(str("session_id", false, svc::kMaxSessionIdLen, "The rider's session it happened in."))
              .ok(201)
              .refuses({ErrorCode::UnknownSocket, ErrorCode::NotFound, ErrorCode::RateLimited})
              .returns(schemas::one_of_key("report", schemas::ref("FaultReport")))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  const auto code = b.opt_str("socket_code", svc::kMaxSocketCodeLen);
                  const auto device = b.opt_str("device_id", kDeviceIdBytes);
                  const auto n = b.opt_int("n", 1, kMaxPort);
                  auto text = b.req_str("text", service::utf8_bytes(service::kMaxTextChars));
                  const auto photo = b.opt_str("photo_url", service::kMaxUrlBytes);
                  const auto category = b.opt_str("category", kWordBytes).value_or("other");
                  const auto session_id = b.opt_str("session_id", svc::kMaxSessionIdLen);
                  req.check_body();
                  const FaultAsk ask{req.who.id, reported_socket(code, device, n), std::move(text), photo, category,
                                     session_id};
                  return Response::json(report_reply(s, submit_report(s, ask), false), 201);
              }));

    r.add(Route::make(Method::Get, "/api/v1/fault-reports", "fault_reports.list", "rider-service",
                      "The rider's fault reports, newest first")
              .answers("{reports: [{id, state, socket, ..., resolution, resolved_at}]}")
              .rider()
              .q(str_enum("state", false, report_states(), "One state, or pending (open or assigned)."))
              .q(limit_param())
              .q(offset_param())
              .returns(schemas::list_of("reports", schemas::ref("FaultReport")))
              .handle([&s](Request& req) {
                  auto f = paged(FaultReportFilter{}, req);
                  f.account_id = req.who.id;
                  f.state = req.query("state").value_or("");
                  auto d = s.core->get();
                  return Response::json(reports_reply(s, ServiceStore(*d).reports(f), false));
              }));

    r.add(Route::make(Method::Get, "/api/v1/fault-reports/{id}", "fault_reports.get", "rider-service",
                      "One of the rider's fault reports")
              .answers("{report: {...}}")
              .rider()
              .param(id_param())
              .refuses({ErrorCode::NotFound})
              .returns(schemas::one_of_key("report", schemas::ref("FaultReport")))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  const auto row = ServiceStore(*d).report(req.param_int("id"));
                  // Another rider's report is indistinguishable from none at all.
                  if (!row || row->account_id != req.who.id)
                      fail(ErrorCode::NotFound, "no such fault report");
                  return Response::json(report_reply(s, *row, false));
              }));
}

void add_admin_fault_routes(Router& r, Services& s) {
    r.add(admin_list("/api/v1/admin/fault-reports", "admin.fault_reports.list",
                     "Riders' fault reports at the operator's stations, newest first",
                     "{reports: [{id, state, socket, ..., account_id, phone, station_id, assignee, assigned_at, "
                     "resolved_by}]}",
                     report_filter_params())
              .returns(schemas::list_of("reports", schemas::ref("AdminFaultReport")))
              .handle([&s](Request& req) {
                  const auto f = paged(report_filter(s, req), req);
                  auto d = s.core->get();
                  return Response::json(reports_reply(s, ServiceStore(*d).reports(f), true));
              }));

    r.add(admin_export("/api/v1/admin/exports/fault-reports", "admin.exports.fault_reports",
                       "Fault reports as CSV or XLSX (the list's filters)", report_filter_params())
              .handle([&s](Request& req) {
                  const auto f = all_rows(report_filter(s, req));
                  auto d = s.core->get();
                  exports::Table t;
                  t.name = "fault_reports";
                  t.headers = {"id",          "created_at", "station_id",  "socket",     "account_id", "phone",
                               "category",    "text",       "photo_url",   "session_id", "state",      "assignee",
                               "assigned_at", "resolution", "resolved_by", "resolved_at"};
                  for (const auto& x : ServiceStore(*d).reports(f))
                      t.rows.push_back({x.id, when(s, x.created_at), x.station_id, x.socket_code, x.account_id, x.phone,
                                        x.category, x.text, x.photo_url.value_or(""), x.session_id.value_or(""),
                                        std::string(service::to_string(x.state)), x.assignee.value_or(""),
                                        opt_time_text(s, x.assigned_at), x.resolution.value_or(""),
                                        x.resolved_by.value_or(""), opt_time_text(s, x.resolved_at)});
                  return send_table(t, req.query("format").value_or("csv"), "fault_reports");
              }));

    r.add(admin_one(s, "/api/v1/admin/fault-reports/{id}", "admin.fault_reports.get", "One fault report",
                    report_in_scope, admin_report_reply)
              .returns(schemas::one_of_key("report", schemas::ref("AdminFaultReport"))));

    r.add(Route::make(Method::Post, "/api/v1/admin/fault-reports/{id}/assign", "admin.fault_reports.assign",
                      "admin-service",
                      "Assign (or hand over) an open or assigned report to a staff member who sees its station")
              .answers("{report: {..., state: assigned, assignee, assigned_at}}")
              .admin("service.write")
              .param(id_param())
              .field(str("admin", true, kNameBytes, "The staff member's user name."))
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .returns(schemas::one_of_key("report", schemas::ref("AdminFaultReport")))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  const auto username = b.req_str("admin", kNameBytes);
                  req.check_body();
                  std::string who;
                  {
                      auto d = s.core->get();
                      ServiceStore store(*d);
                      who = assignee(*d, username, report_in_scope(store, req.who, req.param_int("id")).station_id);
                  }
                  const auto row = move_report(s, req, service::FaultAction::Assign, who, "");
                  return Response::json(report_reply(s, row, true));
              }));

    for (const auto action : {service::FaultAction::Resolve, service::FaultAction::Reject}) {
        const bool resolve = action == service::FaultAction::Resolve;
        const std::string field = resolve ? "resolution" : "reason";
        r.add(
            Route::make(Method::Post, fmt::format("/api/v1/admin/fault-reports/{{id}}/{}", service::to_string(action)),
                        fmt::format("admin.fault_reports.{}", service::to_string(action)), "admin-service",
                        resolve ? "Resolve a pending report, saying what was done (the rider sees it)"
                                : "Reject a pending report (no fault found, not ours), saying why (the rider sees it)")
                .answers(fmt::format("{{report: {{..., state: {}, resolution, resolved_by, resolved_at}}}}",
                                     resolve ? "resolved" : "rejected"))
                .admin("service.write")
                .param(id_param())
                .field(str(field, true, service::utf8_bytes(service::kMaxTextChars),
                           resolve ? "What was done, 1 to 500 characters." : "Why, 1 to 500 characters."))
                .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
                .returns(schemas::one_of_key("report", schemas::ref("AdminFaultReport")))
                .handle([&s, action, field](Request& req) {
                    auto b = req.body();
                    auto text = b.req_str(field, service::utf8_bytes(service::kMaxTextChars));
                    req.check_body();
                    text = checked_text(field, std::move(text), service::kMaxTextChars);
                    return Response::json(report_reply(s, move_report(s, req, action, req.who.name, text), true));
                }));
    }
}

void add_admin_call_routes(Router& r, Services& s) {
    r.add(admin_list("/api/v1/admin/service-calls", "admin.service_calls.list",
                     "Calls the service desk took, newest first (a station-scoped operator: its stations' calls)",
                     "{calls: [{id, caller_phone, caller_name, account_id, category, summary, handled_by, "
                     "station_id, fault_report_id, called_at, created_at}]}",
                     call_filter_params())
              .returns(schemas::list_of("calls", schemas::ref("ServiceCall")))
              .handle([&s](Request& req) {
                  const auto f = paged(call_filter(s, req), req);
                  auto d = s.core->get();
                  return Response::json(
                      list_reply("calls", ServiceStore(*d).calls(f),
                                 [&](json::Writer& w, const ServiceCallRow& c) { write_call(w, s, c); }));
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/service-calls", "admin.service_calls.add", "admin-service",
                      "Record a call the operator took (handled_by: the operator)")
              .answers("{call: {...}}")
              .admin("service.write")
              .field(caller_phone_field(true))
              .field(str("caller_name", false, kNameBytes, "The caller's name."))
              .field(integer("account_id", false, 1, INT64_MAX, "The caller's account, if known."))
              .field(str_enum("category", true, words(service::call_categories()), "What the call was about."))
              .field(str("summary", true, service::utf8_bytes(service::kMaxNoteChars),
                         "What was said and done, 1 to 1000 characters."))
              .field(integer("station_id", false, 1, INT64_MAX,
                             "The station it concerns (required of a station-scoped operator)."))
              .field(integer("fault_report_id", false, 1, INT64_MAX, "The fault report it concerns."))
              .field(str("called_at", false, kTimeBytes, "When (RFC 3339; now when absent)."))
              .ok(201)
              .refuses({ErrorCode::NotFound})
              .returns(schemas::one_of_key("call", schemas::ref("ServiceCall")))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  ServiceCallRow c;
                  c.caller_phone = b.req_str("caller_phone", kPhoneBytes);
                  c.caller_name = b.opt_str("caller_name", kNameBytes).value_or("");
                  c.account_id = b.opt_int("account_id", 1, INT64_MAX);
                  c.category = b.req_str("category", kWordBytes);
                  auto summary = b.req_str("summary", service::utf8_bytes(service::kMaxNoteChars));
                  c.station_id = b.opt_int("station_id", 1, INT64_MAX);
                  c.fault_report_id = b.opt_int("fault_report_id", 1, INT64_MAX);
                  const auto called_at = b.opt_str("called_at", kTimeBytes);
                  req.check_body();
                  c.summary = checked_text("summary", std::move(summary), service::kMaxNoteChars);
                  c.called_at = body_time(s, called_at, "called_at");
                  c.created_at = s.now();
                  c.handled_by = req.who.name;
                  if (!c.station_id && !req.who.all_stations)
                      fail(ErrorCode::InvalidRequest, "station_id: a station-scoped operator names the station");
                  auto d = s.core->get();
                  if (c.station_id) {
                      require_station(req.who, *c.station_id);
                      if (!CatalogStore(*d).station(*c.station_id))
                          fail(ErrorCode::NotFound, "no such station");
                  }
                  check_call_links(*d, req.who, c);
                  ServiceStore store(*d);
                  return Response::json(call_reply(s, *store.call(store.add_call(c))), 201);
              }));

    r.add(admin_one(s, "/api/v1/admin/service-calls/{id}", "admin.service_calls.get", "One call record", call_in_scope,
                    call_reply)
              .returns(schemas::one_of_key("call", schemas::ref("ServiceCall"))));

    r.add(Route::make(Method::Put, "/api/v1/admin/service-calls/{id}", "admin.service_calls.update", "admin-service",
                      "Correct a call record (修改): caller, account, category, summary, fault report. Members left "
                      "out keep their value; null unlinks the account or fault report")
              .answers("{call: {...}}")
              .admin("service.write")
              .param(id_param())
              .field(caller_phone_field(false))
              .field(str("caller_name", false, kNameBytes, "The caller's name."))
              .field(integer("account_id", false, 1, INT64_MAX, "The caller's account (null: none)."))
              .field(str_enum("category", false, words(service::call_categories()), "What the call was about."))
              .field(str("summary", false, service::utf8_bytes(service::kMaxNoteChars), "1 to 1000 characters."))
              .field(integer("fault_report_id", false, 1, INT64_MAX, "The fault report it concerns (null: none)."))
              .refuses({ErrorCode::NotFound})
              .returns(schemas::one_of_key("call", schemas::ref("ServiceCall")))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  ServiceStore store(*d);
                  auto c = call_in_scope(store, req.who, req.param_int("id"));
                  auto b = req.body();
                  c.caller_phone = b.opt_str("caller_phone", kPhoneBytes).value_or(c.caller_phone);
                  c.caller_name = b.opt_str("caller_name", kNameBytes).value_or(c.caller_name);
                  // `null` unlinks (the body reader treats null as absent).
                  if (req.document()->HasMember("account_id"))
                      c.account_id = b.opt_int("account_id", 1, INT64_MAX);
                  c.category = b.opt_str("category", kWordBytes).value_or(c.category);
                  auto summary = b.opt_str("summary", service::utf8_bytes(service::kMaxNoteChars));
                  if (req.document()->HasMember("fault_report_id"))
                      c.fault_report_id = b.opt_int("fault_report_id", 1, INT64_MAX);
                  req.check_body();
                  if (summary)
                      c.summary = checked_text("summary", std::move(*summary), service::kMaxNoteChars);
                  check_call_links(*d, req.who, c);
                  store.update_call(c);
                  return Response::json(call_reply(s, *store.call(c.id)));
              }));

    r.add(admin_export("/api/v1/admin/exports/service-calls", "admin.exports.service_calls",
                       "Call records as CSV or XLSX (the list's filters)", call_filter_params())
              .handle([&s](Request& req) {
                  const auto f = all_rows(call_filter(s, req));
                  auto d = s.core->get();
                  exports::Table t;
                  t.name = "service_calls";
                  t.headers = {"id",       "called_at", "caller_name", "caller_phone", "account_id",
                               "category", "summary",   "handled_by",  "station_id",   "fault_report_id"};
                  for (const auto& c : ServiceStore(*d).calls(f))
                      t.rows.push_back({c.id, when(s, c.called_at), c.caller_name, c.caller_phone,
                                        opt_cell(c.account_id), c.category, c.summary, c.handled_by,
                                        opt_cell(c.station_id), opt_cell(c.fault_report_id)});
                  return send_table(t, req.query("format").value_or("csv"), "service_calls");
              }));
}

void add_admin_repair_routes(Router& r, Services& s) {
    r.add(admin_list("/api/v1/admin/repairs", "admin.repairs.list",
                     "Repair records at the operator's stations, newest start first",
                     "{repairs: [{id, station_id, device_id, n, fault_report_id, description, parts, technician, "
                     "technician_phone, started_at, finished_at, outcome, created_by, created_at}]}",
                     repair_filter_params())
              .returns(schemas::list_of("repairs", schemas::ref("Repair")))
              .handle([&s](Request& req) {
                  const auto f = paged(repair_filter(s, req), req);
                  auto d = s.core->get();
                  return Response::json(
                      list_reply("repairs", ServiceStore(*d).repairs(f),
                                 [&](json::Writer& w, const RepairRow& x) { write_repair(w, s, x); }));
              }));

    r.add(admin_one(s, "/api/v1/admin/repairs/{id}", "admin.repairs.get", "One repair record", repair_in_scope,
                    repair_reply)
              .returns(schemas::one_of_key("repair", schemas::ref("Repair"))));

    r.add(Route::make(Method::Post, "/api/v1/admin/repairs", "admin.repairs.add", "admin-service",
                      "Record a repair started on a device or one socket of it (created_by: the operator)")
              .answers("{repair: {..., finished_at: null, outcome: null}}")
              .admin("service.write")
              .field(str("device_id", true, kDeviceIdBytes, "The device."))
              .field(integer("n", false, 1, kMaxPort, "The socket (gun), if one."))
              .field(integer("fault_report_id", false, 1, INT64_MAX, "The fault report it answers."))
              .field(str("description", true, service::utf8_bytes(service::kMaxNoteChars),
                         "The fault and the work, 1 to 1000 characters."))
              .field(str("parts", false, kPartsBytes, "Parts used."))
              .field(str("technician", true, kNameBytes, "Who repairs."))
              .field(str("technician_phone", false, kPhoneBytes, "The technician's phone."))
              .field(str("started_at", false, kTimeBytes, "When the work started (RFC 3339; now when absent)."))
              .ok(201)
              .refuses({ErrorCode::UnknownDevice, ErrorCode::DeviceNotInstalled, ErrorCode::UnknownSocket,
                        ErrorCode::NotFound})
              .returns(schemas::one_of_key("repair", schemas::ref("Repair")))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  RepairRow x;
                  x.device_id = b.req_str("device_id", kDeviceIdBytes);
                  if (const auto n = b.opt_int("n", 1, kMaxPort))
                      x.n = static_cast<int>(*n);
                  x.fault_report_id = b.opt_int("fault_report_id", 1, INT64_MAX);
                  auto description = b.req_str("description", service::utf8_bytes(service::kMaxNoteChars));
                  x.parts = b.opt_str("parts", kPartsBytes).value_or("");
                  x.technician = b.req_str("technician", kNameBytes);
                  x.technician_phone = b.opt_str("technician_phone", kPhoneBytes).value_or("");
                  const auto started_at = b.opt_str("started_at", kTimeBytes);
                  req.check_body();
                  x.description = checked_text("description", std::move(description), service::kMaxNoteChars);
                  x.technician = checked_text("technician", std::move(x.technician), kNameBytes);
                  x.started_at = body_time(s, started_at, "started_at");
                  x.created_by = req.who.name;
                  x.created_at = s.now();
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  const auto dev = cat.device(x.device_id);
                  if (!dev || !sees_device(req.who, *dev))
                      fail(ErrorCode::UnknownDevice, "no such device");
                  if (!dev->station_id) // the record belongs to a station's books
                      fail(ErrorCode::DeviceNotInstalled, "repairs are recorded for devices installed at a station");
                  if (x.n && !cat.port(x.device_id, *x.n))
                      fail(ErrorCode::UnknownSocket, "the device has no such socket");
                  x.station_id = *dev->station_id;
                  ServiceStore store(*d);
                  if (x.fault_report_id)
                      report_in_scope(store, req.who, *x.fault_report_id);
                  const auto id = store.add_repair(x);
                  return Response::json(repair_reply(s, *store.repair(id)), 201);
              }));

    r.add(Route::make(Method::Put, "/api/v1/admin/repairs/{id}", "admin.repairs.finish", "admin-service",
                      "Finish a repair with its outcome (once)")
              .answers("{repair: {..., finished_at, outcome}}")
              .admin("service.write")
              .param(id_param())
              .field(str_enum("outcome", true, words(service::repair_outcomes()), "How it ended."))
              .field(str("finished_at", false, kTimeBytes, "When (RFC 3339; now when absent)."))
              .field(str("parts", false, kPartsBytes, "Parts used (replaces the recorded ones)."))
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .returns(schemas::one_of_key("repair", schemas::ref("Repair")))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  RepairFinish f;
                  f.id = req.param_int("id");
                  f.outcome = b.req_str("outcome", kWordBytes);
                  const auto finished_at = b.opt_str("finished_at", kTimeBytes);
                  f.parts = b.opt_str("parts", kPartsBytes);
                  req.check_body();
                  f.finished_at = body_time(s, finished_at, "finished_at");
                  auto d = s.core->get();
                  ServiceStore store(*d);
                  const auto row = repair_in_scope(store, req.who, f.id);
                  if (f.finished_at < row.started_at)
                      fail(ErrorCode::InvalidRequest, "finished_at is before the repair started");
                  if (!store.finish_repair(f))
                      fail(ErrorCode::Conflict, "the repair is already finished");
                  return Response::json(repair_reply(s, *store.repair(f.id)));
              }));

    r.add(admin_export("/api/v1/admin/exports/repairs", "admin.exports.repairs",
                       "Repair records as CSV or XLSX (the list's filters)", repair_filter_params())
              .handle([&s](Request& req) {
                  const auto f = all_rows(repair_filter(s, req));
                  auto d = s.core->get();
                  exports::Table t;
                  t.name = "repairs";
                  t.headers = {
                      "id",        "station_id", "device_id",        "n",          "fault_report_id", "description",
                      "parts",     "technician", "technician_phone", "started_at", "finished_at",     "outcome",
                      "created_by"};
                  for (const auto& x : ServiceStore(*d).repairs(f))
                      t.rows.push_back({x.id, x.station_id, x.device_id,
                                        opt_cell(x.n ? std::optional<std::int64_t>(*x.n) : std::nullopt),
                                        opt_cell(x.fault_report_id), x.description, x.parts, x.technician,
                                        x.technician_phone, when(s, x.started_at), opt_time_text(s, x.finished_at),
                                        x.outcome.value_or(""), x.created_by});
                  return send_table(t, req.query("format").value_or("csv"), "repairs");
              }));
}

} // namespace

void add_service_routes(Router& r, Services& s) {
    add_rider_fault_routes(r, s);
    add_admin_fault_routes(r, s);
    add_admin_call_routes(r, s);
    add_admin_repair_routes(r, s);
}

} // namespace pilehub::api
