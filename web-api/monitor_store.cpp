#include "web-api/monitor_store.hpp"

namespace pilehub::api {
namespace {

constexpr const char* kIncidents =
    "SELECT i.id, i.kind, i.device_id, d.station_id, i.session_id, i.detail, i.at FROM incidents i LEFT JOIN devices d "
    "ON d.id = i.device_id WHERE (?1 = '' OR i.kind = ?1) AND (?2 = '' OR i.device_id = ?2) AND (?3 IS NULL OR "
    "d.station_id = ?3) AND (?4 IS NULL OR i.at >= ?4) AND (?5 IS NULL OR i.at < ?5) ORDER BY i.at DESC, i.id DESC";

constexpr const char* kProbeWrite =
    "INSERT INTO health_probe (id, probed_at, probes) VALUES (1, ?, 1) "
    "ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at, probes = probes + 1";
constexpr const char* kPresence =
    "SELECT online, boot, since, last_seen, reason FROM device_presence WHERE device_id = ?";
constexpr const char* kOpenFaults = "SELECT id, device_id, n, code, bit, opened_at, cleared_at FROM fault_records "
                                    "WHERE device_id = ? AND cleared_at IS NULL ORDER BY opened_at";
constexpr const char* kPresenceLog =
    "SELECT l.id, l.device_id, l.online, l.boot, l.at, l.reason, d.station_id FROM presence_log l JOIN devices d ON "
    "d.id = l.device_id WHERE (?1 = '' OR l.device_id = ?1) AND (?2 IS NULL OR d.station_id = ?2) AND (?3 IS NULL OR "
    "l.at >= ?3) AND (?4 IS NULL OR l.at < ?4) ORDER BY l.at DESC, l.id DESC";
constexpr const char* kFaults =
    "SELECT f.id, f.device_id, f.n, f.code, f.bit, f.opened_at, f.cleared_at, d.station_id FROM fault_records f JOIN "
    "devices d ON d.id = f.device_id WHERE (?1 = '' OR f.device_id = ?1) AND (?2 IS NULL OR d.station_id = ?2) AND "
    "(?3 = 0 OR f.cleared_at IS NULL) AND (?4 IS NULL OR f.opened_at >= ?4) AND (?5 IS NULL OR f.opened_at < ?5) "
    "ORDER BY f.opened_at DESC, f.id DESC";

FaultRow read_fault(db::Statement& st) {
    return FaultRow{st.int64(0), st.text(1), st.int64(2), st.text(3), st.opt_int64(4), st.int64(5), st.opt_int64(6), 0};
}

/// Whether a row of a station (nullopt: none) is in a scope (nullopt: every station and none).
bool in_scope(const std::optional<std::set<std::int64_t>>& scope, std::optional<std::int64_t> station_id) {
    return !scope || (station_id && scope->count(*station_id) > 0);
}

/// Steps `st` and keeps one page of the rows in scope: `offset` of them skipped, at most `limit`
/// kept (a scoped operator's page counts its own stations' rows only).
template <typename Read>
auto page_in_scope(db::Statement& st, const std::optional<std::set<std::int64_t>>& scope, std::int64_t limit,
                   std::int64_t offset, Read read) {
    std::vector<decltype(read(st))> out;
    std::int64_t skipped = 0;
    while (static_cast<std::int64_t>(out.size()) < limit && st.step()) {
        auto r = read(st);
        if (!in_scope(scope, r.station_id))
            continue;
        if (skipped < offset) {
            ++skipped;
            continue;
        }
        out.push_back(std::move(r));
    }
    return out;
}

} // namespace

void MonitorStore::probe_write(EpochMs now) {
    db::Transaction tx(db_);
    db::Statement(db_, kProbeWrite).bind_all(now).run();
    tx.commit();
}

std::optional<PresenceRow> MonitorStore::presence(const std::string& device_id) {
    db::Statement st(db_, kPresence);
    st.bind_all(device_id);
    if (!st.step())
        return std::nullopt;
    return PresenceRow{st.int64(0) != 0, st.int64(1), st.int64(2), st.int64(3), st.text(4)};
}

std::vector<FaultRow> MonitorStore::open_faults(const std::string& device_id) {
    std::vector<FaultRow> out;
    db::Statement st(db_, kOpenFaults);
    st.bind_all(device_id);
    while (st.step())
        out.push_back(read_fault(st));
    return out;
}

std::vector<PresenceLogRow> MonitorStore::presence_log(const MonitorFilter& f) {
    db::Statement st(db_, kPresenceLog);
    st.bind_all(f.device_id, f.station_id, f.from, f.to);
    return page_in_scope(st, f.scope, f.limit, f.offset, [](db::Statement& s) {
        return PresenceLogRow{s.int64(0), s.text(1), s.int64(2) != 0, s.int64(3), s.int64(4), s.text(5), s.int64(6)};
    });
}

std::vector<FaultRow> MonitorStore::faults(const MonitorFilter& f) {
    db::Statement st(db_, kFaults);
    st.bind_all(f.device_id, f.station_id, f.open_only ? 1 : 0, f.from, f.to);
    return page_in_scope(st, f.scope, f.limit, f.offset, [](db::Statement& s) {
        auto r = read_fault(s);
        r.station_id = s.int64(7);
        return r;
    });
}

std::vector<IncidentRow> MonitorStore::incidents(const IncidentFilter& f) {
    db::Statement st(db_, kIncidents);
    st.bind_all(f.kind, f.device_id, f.station_id, f.from, f.to);
    return page_in_scope(st, f.scope, f.limit, f.offset, [](db::Statement& s) {
        return IncidentRow{s.int64(0), s.text(1), s.text(2), s.opt_int64(3), s.opt_text(4), s.text(5), s.int64(6)};
    });
}

} // namespace pilehub::api
