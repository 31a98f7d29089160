#include "web-api/device_config_store.hpp"

namespace pilehub::api {
namespace {

constexpr const char* kConfig = "SELECT desired_version, desired, reported FROM device_config WHERE device_id = ?";
constexpr const char* kSaveDesired =
    "INSERT INTO device_config(device_id, desired_version, desired, updated_at) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT(device_id) DO UPDATE SET desired_version = ?2, desired = ?3, updated_at = ?4";

} // namespace

std::optional<DeviceConfigRow> DeviceConfigStore::config(const std::string& device_id) {
    db::Statement st(db_, kConfig);
    st.bind_all(device_id);
    if (!st.step())
        return std::nullopt;
    return DeviceConfigRow{{st.int64(0), st.text(1)}, st.opt_text(2)};
}

DesiredConfig
DeviceConfigStore::update_desired(const std::string& device_id, EpochMs now,
                                  const std::function<DesiredConfig(const std::optional<DesiredConfig>&)>& next) {
    db::Transaction tx(db_);
    const auto row = config(device_id);
    auto saved = next(row && row->desired.version > 0 ? std::optional(row->desired) : std::nullopt);
    db::Statement(db_, kSaveDesired).bind_all(device_id, saved.version, saved.data, now).run();
    tx.commit();
    return saved;
}

} // namespace pilehub::api
