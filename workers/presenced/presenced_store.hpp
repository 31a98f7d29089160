#pragma once
#include "common/db.hpp"
#include "workers/presenced/presenced_rules.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// presenced's SQL: `device_presence` (the latest verdict per device) and `presence_log` (its
/// transitions) in the core database; it reads `devices` and `device_config`.
namespace pilehub::presenced {

inline constexpr std::string_view kSqlLoadPresence =
    "SELECT device_id, online, boot, since, last_seen, reason FROM device_presence";
inline constexpr std::string_view kSqlUpsertPresence =
    "INSERT INTO device_presence (device_id, online, boot, since, last_seen, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
    "ON CONFLICT (device_id) DO UPDATE SET online = excluded.online, boot = excluded.boot, since = excluded.since, "
    "last_seen = excluded.last_seen, reason = excluded.reason";
inline constexpr std::string_view kSqlInsertLog =
    "INSERT INTO presence_log (device_id, online, boot, at, reason) VALUES (?1, ?2, ?3, ?4, ?5)";
inline constexpr std::string_view kSqlTouch =
    "UPDATE device_presence SET last_seen = max(last_seen, ?1) WHERE device_id = ?2";
inline constexpr std::string_view kSqlDeviceKind = "SELECT kind FROM devices WHERE id = ?1";
inline constexpr std::string_view kSqlDeviceConfig = "SELECT reported, desired FROM device_config WHERE device_id = ?1";
inline constexpr std::string_view kSqlLogOf =
    "SELECT device_id, online, boot, at, reason FROM presence_log WHERE device_id = ?1 ORDER BY id";

/// One row of presence_log (for tests and tools).
struct LogRow {
    std::string device_id;
    bool online = false;
    std::int64_t boot = 0;
    EpochMs at = 0;
    std::string reason;
};

/// presenced's reads and writes. Each write is one short transaction. One thread uses it.
class Store {
public:
    explicit Store(db::Database &db) : db_(db) {}

    /// Every device_presence row (start-up).
    std::vector<Record> load();
    /// Persists a decision: the device_presence row, plus a presence_log row for a transition,
    /// in one transaction.
    void save(const Decision &d);
    /// Writes the last_seen times of devices heard from (one transaction).
    void touch(const std::vector<std::pair<std::string, EpochMs>> &seen);
    /// The registered kind of a device (`ebike_pile`, `ev_charger`, `camera`); nullopt if unknown.
    std::optional<std::string> device_kind(const std::string &dev);
    /// The telemetry periods stored for a device (reported, else desired), if any.
    std::optional<Periods> periods(const std::string &dev);
    /// The presence_log of one device, oldest first.
    static std::vector<LogRow> log_of(db::Database &db, const std::string &dev);

private:
    db::Database &db_;
};

} // namespace pilehub::presenced
