#pragma once
#include "common/db.hpp"
#include "common/svc/session_state.hpp"
#include "workers/otad/otad_rules.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// otad's SQL in the core database: it reads `rollouts` (created by the API), `firmware`, `devices`
/// and `sessions` (a device with a session holding a socket is busy), and writes `rollout_devices`,
/// the state of `rollouts` and `device_firmware`.
namespace pilehub::otad {

inline constexpr std::string_view kSqlRunningIds = "SELECT id FROM rollouts WHERE state = 'running' ORDER BY id";
inline constexpr std::string_view kSqlLoadRollout =
    "SELECT r.id, r.firmware_id, f.version, f.sha256, r.batch_size, r.batch_interval_s, r.max_failures, r.timeout_s, "
    "r.state, r.failures, r.halt_reason, r.finished_at FROM rollouts r JOIN firmware f ON f.id = r.firmware_id "
    "WHERE r.id = ?1";
inline constexpr std::string_view kSqlLoadDevices =
    "SELECT device_id, state, batch, rid, sent_at, updated_at, progress_pct, error FROM rollout_devices "
    "WHERE rollout_id = ?1 ORDER BY rowid";
inline constexpr std::string_view kSqlRolloutState = "SELECT state FROM rollouts WHERE id = ?1";
inline constexpr std::string_view kSqlUpdateDevice =
    "UPDATE rollout_devices SET state = ?3, batch = ?4, rid = ?5, sent_at = ?6, updated_at = ?7, progress_pct = ?8, "
    "error = ?9 WHERE rollout_id = ?1 AND device_id = ?2";
inline constexpr std::string_view kSqlUpdateRollout =
    "UPDATE rollouts SET state = ?2, failures = ?3, halt_reason = ?4, finished_at = ?5 WHERE id = ?1";
inline constexpr std::string_view kSqlUpsertFirmware =
    "INSERT INTO device_firmware (device_id, version, reported_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (device_id) DO UPDATE SET version = excluded.version, reported_at = excluded.reported_at";
inline constexpr std::string_view kSqlLoadFirmware = "SELECT device_id, version FROM device_firmware";
inline constexpr std::string_view kSqlDeviceKnown = "SELECT 1 FROM devices WHERE id = ?1";
inline constexpr std::string_view kSqlDeviceBusy =
    "SELECT 1 FROM sessions WHERE device_id = ?1 AND state IN " PILEHUB_HOLDS_SOCKET_SQL " LIMIT 1";

/// otad's reads and writes. One thread uses it.
class Store {
public:
    explicit Store(db::Database& db) : db_(db) {}

    /// Ids of the running rollouts.
    std::vector<std::int64_t> running_ids();
    /// A rollout with its firmware and devices (without its URL); nullopt if there is none.
    std::optional<Rollout> load(std::int64_t rollout_id);
    /// Writes the changes in one transaction, unless a rollout they touch is no longer running (an
    /// operator halted it meanwhile): then nothing is written and the ids of such rollouts are returned.
    std::vector<std::int64_t> apply(const Effects& e);
    /// Records the firmware version a device reported.
    void save_firmware(const std::string& device_id, const std::string& version, EpochMs at);
    /// Every device's last reported version.
    std::vector<std::pair<std::string, std::string>> firmware();
    /// Whether the device is registered.
    bool known(const std::string& device_id);
    /// Whether a session holds one of the device's sockets or guns.
    bool busy(const std::string& device_id);

private:
    db::Database& db_;
};

} // namespace pilehub::otad
