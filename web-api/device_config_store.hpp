#pragma once
#include "common/db.hpp"
#include "common/money.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

/// Devices' configuration documents (`device_config`, schema/core/003_sessions_presence.sql): the
/// desired one the API publishes as cfg/desired and the one the device last reported.
namespace pilehub::api {

/// A desired configuration: its version and its data object (JSON text).
struct DesiredConfig {
    std::int64_t version = 0;
    std::string data;
};

/// A device's stored configuration row.
struct DeviceConfigRow {
    DesiredConfig desired;               ///< version 0: none saved yet
    std::optional<std::string> reported; ///< the data object the device last reported (JSON text)
};

class DeviceConfigStore {
public:
    explicit DeviceConfigStore(db::Database& d) : db_(d) {}

    std::optional<DeviceConfigRow> config(const std::string& device_id);
    /// Reads the desired configuration (nullopt if none was saved yet), asks `next` for the one
    /// that follows and saves it, all in one transaction; returns what was saved. When `next`
    /// throws, nothing is saved.
    DesiredConfig update_desired(const std::string& device_id, EpochMs now,
                                 const std::function<DesiredConfig(const std::optional<DesiredConfig>&)>& next);

private:
    db::Database& db_;
};

} // namespace pilehub::api
