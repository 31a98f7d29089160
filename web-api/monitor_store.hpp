#pragma once
#include "common/db.hpp"
#include "common/money.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

/// Read access to what operators monitor: the incidents sessiond records (`incidents`,
/// schema/core/006_session_faults.sql).
namespace pilehub::api {

/// One `incidents` row with the station of its device (nullopt: no such device, e.g. an incident
/// without one; only unscoped operators see those).
struct IncidentRow {
    std::int64_t id = 0;
    std::string kind;
    std::string device_id;
    std::optional<std::int64_t> station_id;
    std::optional<std::string> session_id;
    std::string detail;
    EpochMs at = 0;
};

struct IncidentFilter {
    std::string kind;                            ///< a kind word (common/incidents.hpp) or empty (any)
    std::string device_id;                       ///< empty: any
    std::optional<std::int64_t> station_id;      ///< the device's station
    std::optional<EpochMs> from, to;             ///< `at` in [from, to)
    std::optional<std::set<std::int64_t>> scope; ///< stations in scope (nullopt: every station and none)
    std::int64_t limit = 50, offset = 0;
};

class MonitorStore {
public:
    explicit MonitorStore(db::Database& d) : db_(d) {}
    /// The incidents of a filter, newest first, one page.
    std::vector<IncidentRow> incidents(const IncidentFilter& f);

private:
    db::Database& db_;
};

} // namespace pilehub::api
