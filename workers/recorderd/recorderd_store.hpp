#pragma once
#include "common/db.hpp"
#include "workers/recorderd/recorderd_rules.hpp"

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// recorderd's SQL: the telemetry database (session_samples, device_samples, device_events) and, in
/// the core database, fault_records with processed_messages for de-duplication.
namespace pilehub::recorderd {

inline constexpr std::string_view kSqlInsertSessionSample =
    "INSERT OR IGNORE INTO session_samples (session_id, t, power_w, energy_wh, voltage_dv, current_ma, soc_pct) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
/// Rows per multi-row INSERT of session samples (fewer statement runs per batch: ~30 % faster).
inline constexpr int kSamplesPerInsert = 32;
/// `kSqlInsertSessionSample` with `rows` value tuples.
std::string insert_session_samples_sql(int rows);
inline constexpr std::string_view kSqlInsertDeviceSample =
    "INSERT OR IGNORE INTO device_samples (device_id, t, temp_dc, total_power_w, rssi_dbm) VALUES (?1, ?2, ?3, ?4, ?5)";
inline constexpr std::string_view kSqlInsertEvent =
    "INSERT OR IGNORE INTO device_events (device_id, msg_id, type, at, payload) VALUES (?1, ?2, ?3, ?4, ?5)";
inline constexpr std::string_view kSqlMarkProcessed = "INSERT OR IGNORE INTO processed_messages (consumer, device_id, "
                                                      "msg_id, processed_at) VALUES ('recorderd', ?1, ?2, ?3)";
inline constexpr std::string_view kSqlOpenFaultCodes =
    "SELECT code FROM fault_records WHERE device_id = ?1 AND n = ?2 AND cleared_at IS NULL ORDER BY id";
inline constexpr std::string_view kSqlOpenFault =
    "INSERT INTO fault_records (device_id, n, code, bit, opened_at, msg_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
inline constexpr std::string_view kSqlCloseFault =
    "UPDATE fault_records SET cleared_at = ?1 WHERE device_id = ?2 AND n = ?3 AND code = ?4 AND cleared_at IS NULL";
inline constexpr std::string_view kSqlDeviceKind = "SELECT kind FROM devices WHERE id = ?1";
inline constexpr std::string_view kSqlSessionSocket = "SELECT device_id, n FROM sessions WHERE id = ?1";

/// Rows waiting to be written together.
struct Batch {
    std::vector<SessionSample> sessions;
    std::vector<DeviceSample> devices;
    std::size_t messages = 0;    ///< telemetry messages the rows came from
    EpochMs oldest_received = 0; ///< receive time of the oldest message in the batch (0: empty)
    std::size_t rows() const { return sessions.size() + devices.size(); }
    bool empty() const { return sessions.empty() && devices.empty() && messages == 0; }
};

/// The telemetry database. One thread uses one instance.
class TelemetryStore {
public:
    explicit TelemetryStore(db::Database& db);
    /// Writes a batch in one transaction; returns the rows actually inserted (duplicates of
    /// (session, t) or (device, t) are ignored).
    std::size_t write(const Batch& b);
    /// Logs one device event; false if its (device, id) is already there.
    bool insert_event(const std::string& dev, const std::string& msg_id, std::string_view type, EpochMs at,
                      std::string_view payload);

private:
    db::Database& db_;
    db::Statement session_;
    db::Statement sessions_; ///< kSamplesPerInsert rows at once
    db::Statement device_;
    db::Statement event_;
};

/// fault_records in the core database. One thread uses one instance.
class FaultStore {
public:
    explicit FaultStore(db::Database& core) : db_(core) {}
    /// In one transaction: records `msg_id` as processed, reads the codes open on (dev, n), asks
    /// `decide` for the changes and applies them. nullopt if `msg_id` was processed before
    /// (nothing changes).
    std::optional<std::vector<FaultChange>>
    record(const std::string& dev, const std::string& msg_id, int n, EpochMs at,
           const std::function<std::vector<FaultChange>(const std::vector<std::string>& open)>& decide);

private:
    db::Database& db_;
};

/// Registered devices and their kinds, cached; safe from any thread (it owns its connection).
class Directory {
public:
    /// Opens its own connection to the core database at `path`.
    Directory(const std::string& path, int busy_timeout_ms, EpochMs unknown_retry_ms);
    /// The kind (`ebike_pile`, `ev_charger`, `camera`) of a registered device; nullopt if unknown
    /// (looked up again after `unknown_retry_ms`).
    std::optional<std::string> kind(const std::string& dev, EpochMs now);
    /// Whether session `sid` runs on socket `n` of `dev` (its row in `sessions`). A session not in
    /// the database yet is looked up again after `unknown_retry_ms`; a known socket is cached.
    bool session_on(const std::string& sid, const std::string& dev, int n, EpochMs now);

private:
    std::mutex m_;
    db::Database db_;
    EpochMs retry_ms_;
    std::map<std::string, std::string, std::less<>> kinds_;
    std::map<std::string, EpochMs, std::less<>> unknown_;
    std::map<std::string, std::pair<std::string, int>, std::less<>> sockets_; ///< sid → (device, n)
    std::map<std::string, EpochMs, std::less<>> unknown_sessions_;            ///< sid → when to look again
};

} // namespace pilehub::recorderd
