#pragma once
#include "common/db.hpp"
#include "common/money.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

/// The API's side of OTA (CONTRACT G, schema/core/015_ota.sql): firmware rows, rollout creation,
/// listing and halting, and the download token check. otad drives rollouts after their creation.
namespace pilehub::api {

/// A `firmware` row.
struct FirmwareRow {
    std::int64_t id = 0;
    std::string kind, model, version, sha256;
    std::int64_t size = 0;
    std::string path, uploaded_by;
    EpochMs created_at = 0;
};

/// A device a rollout may target: its id, station, kind and model.
struct OtaDevice {
    std::string id;
    std::int64_t station_id = 0;
    std::string kind, model;
};

/// A `rollouts` row with its firmware's version and the count of its devices per state.
struct RolloutRow {
    std::int64_t id = 0;
    std::int64_t firmware_id = 0;
    std::string version, target, state, halt_reason, created_by;
    std::int64_t batch_size = 0, batch_interval_s = 0, max_failures = 0, timeout_s = 0, failures = 0;
    EpochMs token_expires_at = 0, created_at = 0;
    std::optional<EpochMs> finished_at;
    std::vector<std::pair<std::string, std::int64_t>> counts; ///< device state → devices in it
};

/// A `rollout_devices` row with the version the device last reported.
struct RolloutDeviceRow {
    std::string device_id, state, error;
    std::optional<std::int64_t> batch, progress_pct;
    std::optional<std::string> rid, reported_version;
    std::optional<EpochMs> sent_at;
    EpochMs updated_at = 0;
};

/// What a new rollout is.
struct NewRollout {
    std::int64_t firmware_id = 0;
    std::string target;
    std::int64_t batch_size = 1, batch_interval_s = 0, max_failures = 0, timeout_s = 600;
    EpochMs token_expires_at = 0;
    std::string created_by;
    std::vector<std::string> device_ids;
};

class OtaStore {
public:
    explicit OtaStore(db::Database& db) : db_(db) {}

    /// Adds a firmware row; throws db::Error (a constraint: the version exists for that kind and model).
    std::int64_t add_firmware(const FirmwareRow& f);
    std::optional<FirmwareRow> firmware(std::int64_t id);
    std::vector<FirmwareRow> firmware_list(const std::string& kind);

    /// Devices of `kind` (and `model`, when not empty) among `ids`, at `station_id`, or anywhere
    /// (neither given), in id order.
    std::vector<OtaDevice> devices(const std::string& kind, const std::string& model,
                                   const std::optional<std::vector<std::string>>& ids,
                                   std::optional<std::int64_t> station_id);
    /// Devices among `ids` already in a running rollout.
    std::vector<std::string> in_running_rollout(const std::vector<std::string>& ids);
    /// Creates the rollout and its pending devices in one transaction; `token_of(id)` gives the token
    /// whose SHA-256 is kept. Returns the id.
    std::int64_t create_rollout(const NewRollout& r, const std::function<std::string(std::int64_t)>& token_of,
                                EpochMs now);
    std::vector<RolloutRow> rollouts(const std::optional<std::set<std::int64_t>>& scope);
    std::optional<RolloutRow> rollout(std::int64_t id);
    std::vector<RolloutDeviceRow> rollout_devices(std::int64_t id);
    /// Whether an operator with `scope` sees the rollout (one of its devices at a station in scope).
    bool rollout_in_scope(std::int64_t id, const std::optional<std::set<std::int64_t>>& scope);
    /// Halts a running rollout (its pending devices skipped); false if it is not running.
    bool halt(std::int64_t id, const std::string& by, EpochMs now);
    /// The image path of `firmware_id` if `token_hash` is the token of a running rollout of it that has
    /// not expired at `now`.
    std::optional<std::string> download_path(std::int64_t firmware_id, const std::string& token_hash, EpochMs now);

private:
    db::Database& db_;
};

} // namespace pilehub::api
