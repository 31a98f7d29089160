#include "web-api/monitor_store.hpp"

namespace pilehub::api {
namespace {

constexpr const char* kIncidents =
    "SELECT i.id, i.kind, i.device_id, d.station_id, i.session_id, i.detail, i.at FROM incidents i LEFT JOIN devices d "
    "ON d.id = i.device_id WHERE (?1 = '' OR i.kind = ?1) AND (?2 = '' OR i.device_id = ?2) AND (?3 IS NULL OR "
    "d.station_id = ?3) AND (?4 IS NULL OR i.at >= ?4) AND (?5 IS NULL OR i.at < ?5) ORDER BY i.at DESC, i.id DESC";

} // namespace

std::vector<IncidentRow> MonitorStore::incidents(const IncidentFilter& f) {
    std::vector<IncidentRow> out;
    db::Statement st(db_, kIncidents);
    st.bind_all(f.kind, f.device_id, f.station_id, f.from, f.to);
    std::int64_t skipped = 0;
    while (static_cast<std::int64_t>(out.size()) < f.limit && st.step()) {
        IncidentRow r{st.int64(0), st.text(1), st.text(2), st.opt_int64(3), st.opt_text(4), st.text(5), st.int64(6)};
        if (f.scope && (!r.station_id || !f.scope->count(*r.station_id)))
            continue;
        if (skipped < f.offset) {
            ++skipped;
            continue;
        }
        out.push_back(std::move(r));
    }
    return out;
}

} // namespace pilehub::api
