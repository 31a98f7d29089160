#include "web-api/service_store.hpp"

#include "web-api/report_store.hpp"

namespace pilehub::api {
namespace {

// Every list takes its stations (the operator's scope narrowed to the asked station) as a JSON
// array; NULL: every station. A row without a station (a call) is seen only without a scope.
#define PH_STATIONS(col, n) "(?" #n " IS NULL OR " col " IN (SELECT value FROM json_each(?" #n ")))"

constexpr const char* kCountPending =
    "SELECT count(*) FROM fault_reports WHERE account_id = ? AND state IN ('open', 'assigned')";
constexpr const char* kAddReport =
    "INSERT INTO fault_reports(account_id, station_id, device_id, n, socket_code, session_id, category, text, "
    "photo_url, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?) RETURNING id";
constexpr const char* kReportCols =
    "SELECT f.id, f.account_id, a.phone, f.station_id, f.device_id, f.n, f.socket_code, f.session_id, f.category, "
    "f.text, f.photo_url, f.state, f.assignee, f.assigned_at, f.resolution, f.resolved_by, f.resolved_at, "
    "f.created_at FROM fault_reports f JOIN accounts a ON a.id = f.account_id ";
constexpr const char* kReportFilter = "WHERE (?1 IS NULL OR f.account_id = ?1) AND " PH_STATIONS(
    "f.station_id", 2) " AND (?3 = '' OR f.state = ?3 OR (?3 = 'pending' AND f.state IN ('open', 'assigned'))) "
                       "AND (?4 = '' OR f.device_id = ?4) AND (?5 IS NULL OR f.created_at >= ?5) AND (?6 IS NULL "
                       "OR f.created_at < ?6) AND (?9 = '' OR a.phone = ?9) ORDER BY f.created_at DESC, f.id DESC "
                       "LIMIT ?7 OFFSET ?8";
constexpr const char* kAssign =
    "UPDATE fault_reports SET state = ?, assignee = ?, assigned_at = ? WHERE id = ? AND state = ?";
constexpr const char* kClose = "UPDATE fault_reports SET state = ?, resolved_by = ?, resolution = ?, resolved_at = ? "
                               "WHERE id = ? AND state = ?";

constexpr const char* kAddCall =
    "INSERT INTO service_calls(caller_phone, caller_name, account_id, category, summary, handled_by, station_id, "
    "fault_report_id, called_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";
constexpr const char* kCallCols =
    "SELECT id, caller_phone, caller_name, account_id, category, summary, handled_by, station_id, fault_report_id, "
    "called_at, created_at FROM service_calls ";
constexpr const char* kCallFilter =
    "WHERE " PH_STATIONS("station_id", 1) " AND (?2 = '' OR caller_phone = ?2) AND (?3 = '' OR handled_by = ?3) "
                                          "AND (?4 = '' OR category = ?4) AND (?5 IS NULL OR called_at >= ?5) AND (?6 "
                                          "IS NULL OR called_at < ?6) ORDER BY called_at DESC, id DESC LIMIT ?7 OFFSET "
                                          "?8";

constexpr const char* kUpdateCall = "UPDATE service_calls SET caller_phone = ?, caller_name = ?, account_id = ?, "
                                    "category = ?, summary = ?, fault_report_id = ? WHERE id = ?";

constexpr const char* kAddRepair =
    "INSERT INTO repair_records(station_id, device_id, n, fault_report_id, description, parts, technician, "
    "technician_phone, started_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";
constexpr const char* kRepairCols =
    "SELECT id, station_id, device_id, n, fault_report_id, description, parts, technician, technician_phone, "
    "started_at, finished_at, outcome, created_by, created_at FROM repair_records ";
constexpr const char* kRepairFilter =
    "WHERE " PH_STATIONS("station_id", 1) " AND (?2 = '' OR device_id = ?2) AND (?3 = '' OR technician = ?3) AND "
                                          "(?4 = '' OR (?4 = 'open' AND finished_at IS NULL) OR (?4 = 'finished' AND "
                                          "finished_at IS NOT NULL)) AND (?5 IS NULL OR started_at >= ?5) AND (?6 IS "
                                          "NULL OR started_at < ?6) ORDER BY started_at DESC, id DESC LIMIT ?7 OFFSET "
                                          "?8";
constexpr const char* kFinishRepair = "UPDATE repair_records SET finished_at = ?, outcome = ?, parts = coalesce(?, "
                                      "parts) WHERE id = ? AND finished_at IS NULL";

FaultReportRow read_report(const db::Statement& st) {
    FaultReportRow r;
    r.id = st.int64(0);
    r.account_id = st.int64(1);
    r.phone = st.text(2);
    r.station_id = st.int64(3);
    r.device_id = st.text(4);
    r.n = static_cast<int>(st.int64(5));
    r.socket_code = st.text(6);
    r.session_id = st.opt_text(7);
    r.category = st.text(8);
    r.text = st.text(9);
    r.photo_url = st.opt_text(10);
    r.state = service::parse_fault_state(st.text(11)).value_or(service::FaultState::Open);
    r.assignee = st.opt_text(12);
    r.assigned_at = st.opt_int64(13);
    r.resolution = st.opt_text(14);
    r.resolved_by = st.opt_text(15);
    r.resolved_at = st.opt_int64(16);
    r.created_at = st.int64(17);
    return r;
}

ServiceCallRow read_call(const db::Statement& st) {
    ServiceCallRow c;
    c.id = st.int64(0);
    c.caller_phone = st.text(1);
    c.caller_name = st.text(2);
    c.account_id = st.opt_int64(3);
    c.category = st.text(4);
    c.summary = st.text(5);
    c.handled_by = st.text(6);
    c.station_id = st.opt_int64(7);
    c.fault_report_id = st.opt_int64(8);
    c.called_at = st.int64(9);
    c.created_at = st.int64(10);
    return c;
}

RepairRow read_repair(const db::Statement& st) {
    RepairRow r;
    r.id = st.int64(0);
    r.station_id = st.int64(1);
    r.device_id = st.text(2);
    if (const auto n = st.opt_int64(3))
        r.n = static_cast<int>(*n);
    r.fault_report_id = st.opt_int64(4);
    r.description = st.text(5);
    r.parts = st.text(6);
    r.technician = st.text(7);
    r.technician_phone = st.text(8);
    r.started_at = st.int64(9);
    r.finished_at = st.opt_int64(10);
    r.outcome = st.opt_text(11);
    r.created_by = st.text(12);
    r.created_at = st.int64(13);
    return r;
}

std::optional<std::int64_t> opt_n(std::optional<int> n) {
    return n ? std::optional<std::int64_t>(*n) : std::nullopt;
}

/// Every row a bound statement answers, each read by `read`.
template <typename Row> std::vector<Row> read_all(db::Statement& st, Row (*read)(const db::Statement&)) {
    std::vector<Row> out;
    while (st.step())
        out.push_back(read(st));
    return out;
}

/// The row `<cols> WHERE <key> = id`, if any.
template <typename Row>
std::optional<Row> read_one(db::Database& d, const char* cols, const char* key, std::int64_t id,
                            Row (*read)(const db::Statement&)) {
    db::Statement st(d, std::string(cols) + "WHERE " + key + " = ?");
    st.bind_all(id);
    if (!st.step())
        return std::nullopt;
    return read(st);
}

/// Runs a bound INSERT ... RETURNING id and answers the id.
std::int64_t inserted_id(db::Statement& st) {
    st.step();
    const auto id = st.int64(0);
    st.reset(); // done before a transaction commits
    return id;
}

} // namespace

// ---- fault reports ----

std::optional<std::int64_t> ServiceStore::add_report(const NewFaultReport& r, int max_pending) {
    db::Transaction tx(db_);
    db::Statement count(db_, kCountPending);
    count.bind_all(r.account_id);
    count.step();
    if (count.int64(0) >= max_pending)
        return std::nullopt;
    db::Statement add(db_, kAddReport);
    add.bind_all(r.account_id, r.station_id, r.device_id, std::int64_t{r.n}, r.socket_code, r.session_id, r.category,
                 r.text, r.photo_url, r.now);
    const auto id = inserted_id(add);
    tx.commit();
    return id;
}

std::optional<FaultReportRow> ServiceStore::report(std::int64_t id) {
    return read_one(db_, kReportCols, "f.id", id, read_report);
}

std::vector<FaultReportRow> ServiceStore::reports(const FaultReportFilter& f) {
    db::Statement st(db_, std::string(kReportCols) + kReportFilter);
    st.bind_all(f.account_id, scope_json(f.scope, f.station_id), f.state, f.device, f.from, f.to, f.limit, f.offset,
                f.phone);
    return read_all(st, read_report);
}

bool ServiceStore::move_report(const FaultMove& m) {
    const std::string to(service::to_string(m.to)), from(service::to_string(m.from));
    if (m.to == service::FaultState::Assigned)
        return db::Statement(db_, kAssign).bind_all(to, m.by, m.now, m.id, from).run() == 1;
    return db::Statement(db_, kClose).bind_all(to, m.by, m.text, m.now, m.id, from).run() == 1;
}

// ---- service calls ----

std::int64_t ServiceStore::add_call(const ServiceCallRow& c) {
    db::Statement st(db_, kAddCall);
    st.bind_all(c.caller_phone, c.caller_name, c.account_id, c.category, c.summary, c.handled_by, c.station_id,
                c.fault_report_id, c.called_at, c.created_at);
    return inserted_id(st);
}

std::optional<ServiceCallRow> ServiceStore::call(std::int64_t id) {
    return read_one(db_, kCallCols, "id", id, read_call);
}

std::vector<ServiceCallRow> ServiceStore::calls(const ServiceCallFilter& f) {
    db::Statement st(db_, std::string(kCallCols) + kCallFilter);
    st.bind_all(scope_json(f.scope, f.station_id), f.phone, f.handled_by, f.category, f.from, f.to, f.limit, f.offset);
    std::vector<ServiceCallRow> out;
    while (st.step())
        out.push_back(read_call(st));
    return out;
}

void ServiceStore::update_call(const ServiceCallRow& c) {
    db::Statement(db_, kUpdateCall)
        .bind_all(c.caller_phone, c.caller_name, c.account_id, c.category, c.summary, c.fault_report_id, c.id)
        .run();
}

// ---- repairs ----

std::int64_t ServiceStore::add_repair(const RepairRow& r) {
    db::Statement st(db_, kAddRepair);
    st.bind_all(r.station_id, r.device_id, opt_n(r.n), r.fault_report_id, r.description, r.parts, r.technician,
                r.technician_phone, r.started_at, r.created_by, r.created_at);
    return inserted_id(st);
}

std::optional<RepairRow> ServiceStore::repair(std::int64_t id) {
    return read_one(db_, kRepairCols, "id", id, read_repair);
}

std::vector<RepairRow> ServiceStore::repairs(const RepairFilter& f) {
    db::Statement st(db_, std::string(kRepairCols) + kRepairFilter);
    st.bind_all(scope_json(f.scope, f.station_id), f.device, f.technician, f.state, f.from, f.to, f.limit, f.offset);
    return read_all(st, read_repair);
}

bool ServiceStore::finish_repair(const RepairFinish& f) {
    return db::Statement(db_, kFinishRepair).bind_all(f.finished_at, f.outcome, f.parts, f.id).run() == 1;
}

} // namespace pilehub::api
