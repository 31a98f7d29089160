#include "web-api/telemetry_store.hpp"

namespace pilehub::api {
namespace {

// Both read one row through the primary key's (id, t) order: an index seek, however long the history.
constexpr const char* kLatestDeviceSample =
    "SELECT t, temp_dc, total_power_w, rssi_dbm FROM device_samples WHERE device_id = ?1 ORDER BY t DESC LIMIT 1";
constexpr const char* kLatestSessionSample =
    "SELECT t, power_w, energy_wh FROM session_samples WHERE session_id = ?1 ORDER BY t DESC LIMIT 1";

} // namespace

std::optional<DeviceSampleRow> latest_device_sample(db::Database& telemetry, const std::string& device_id) {
    db::Statement st(telemetry, kLatestDeviceSample);
    st.bind_all(device_id);
    if (!st.step())
        return std::nullopt;
    return DeviceSampleRow{st.int64(0), st.opt_int64(1), st.opt_int64(2), st.opt_int64(3)};
}

std::optional<SampleRow> latest_session_sample(db::Database& telemetry, const std::string& session_id) {
    db::Statement st(telemetry, kLatestSessionSample);
    st.bind_all(session_id);
    if (!st.step())
        return std::nullopt;
    return SampleRow{st.int64(0), st.int64(1), st.int64(2)};
}

} // namespace pilehub::api
