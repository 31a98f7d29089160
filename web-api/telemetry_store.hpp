#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "web-api/session_store.hpp"

#include <cstdint>
#include <optional>
#include <string>

/// What recorderd stored last, read from the telemetry database: the API's view of a device's and
/// a session's latest telemetry (the API does not subscribe to raw telemetry; recorderd is its one
/// validator, docs/topics.md "Device reports").
namespace pilehub::api {

/// One device-level reading (`device_samples`).
struct DeviceSampleRow {
    EpochMs t = 0;
    std::optional<std::int64_t> temp_dc; ///< deci-degrees Celsius
    std::optional<std::int64_t> total_power_w;
    std::optional<std::int64_t> rssi_dbm;
};

/// The device's latest stored reading; nullopt when recorderd stored none.
std::optional<DeviceSampleRow> latest_device_sample(db::Database& telemetry, const std::string& device_id);
/// The session's latest point of its power curve; nullopt when recorderd stored none.
std::optional<SampleRow> latest_session_sample(db::Database& telemetry, const std::string& session_id);

} // namespace pilehub::api
