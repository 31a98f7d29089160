#pragma once
#include "common/db.hpp"
#include "common/money.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

/// Read access to what operators monitor: devices' presence (`device_presence`, `presence_log`,
/// written by presenced), their fault records (`fault_records`, written by recorderd) and the
/// incidents sessiond records (`incidents`, schema/core/006_session_faults.sql).
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

/// presenced's current verdict on one device.
struct PresenceRow {
    bool online = false;
    std::int64_t boot = 0;
    EpochMs since = 0, last_seen = 0;
    std::string reason;
};

/// One online/offline transition of a device.
struct PresenceLogRow {
    std::int64_t id = 0;
    std::string device_id;
    bool online = false;
    std::int64_t boot = 0;
    EpochMs at = 0;
    std::string reason;
    std::int64_t station_id = 0; ///< the device's
};

/// One fault record of a device's socket (n 0: the device itself).
struct FaultRow {
    std::int64_t id = 0;
    std::string device_id;
    std::int64_t n = 0;
    std::string code;
    std::optional<std::int64_t> bit;
    EpochMs opened_at = 0;
    std::optional<EpochMs> cleared_at;
    std::int64_t station_id = 0; ///< the device's
};

/// Filters of the presence log and the fault list.
struct MonitorFilter {
    std::string device_id;                       ///< empty: any
    std::optional<std::int64_t> station_id;      ///< the device's station
    bool open_only = false;                      ///< faults: only those not cleared yet
    std::optional<EpochMs> from, to;             ///< `at` (faults: `opened_at`) in [from, to)
    std::optional<std::set<std::int64_t>> scope; ///< stations in scope (nullopt: every station)
    std::int64_t limit = 50, offset = 0;
};

class MonitorStore {
public:
    explicit MonitorStore(db::Database& d) : db_(d) {}
    /// The health route's write probe: updates the one row of `health_probe` to `now` in its own
    /// `BEGIN IMMEDIATE` transaction and commits. Throws db::Error when the database cannot be written
    /// (disk full, locked past the connection's busy timeout, read-only).
    void probe_write(EpochMs now);
    /// presenced's stored verdict on a device, if it has one.
    std::optional<PresenceRow> presence(const std::string& device_id);
    /// A device's faults not cleared yet, oldest first.
    std::vector<FaultRow> open_faults(const std::string& device_id);
    /// The presence transitions of a filter, newest first, one page (open_only is ignored).
    std::vector<PresenceLogRow> presence_log(const MonitorFilter& f);
    /// The fault records of a filter, newest first, one page.
    std::vector<FaultRow> faults(const MonitorFilter& f);
    /// The incidents of a filter, newest first, one page.
    std::vector<IncidentRow> incidents(const IncidentFilter& f);

private:
    db::Database& db_;
};

} // namespace pilehub::api
