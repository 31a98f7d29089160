#include "web-api/device_model_store.hpp"

namespace pilehub::api {
namespace {

constexpr const char* kModels =
    "SELECT id, kind, name, ports, rated_power_w, rated_voltage_v, rated_current_a, socket_overload_w, "
    "device_overload_w, gun_power_w, connector_type, max_current_a, note, created_at FROM device_models ";
constexpr const char* kAddModel =
    "INSERT INTO device_models (kind, name, ports, rated_power_w, rated_voltage_v, rated_current_a, socket_overload_w, "
    "device_overload_w, gun_power_w, connector_type, max_current_a, note, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kUpdateModel =
    "UPDATE device_models SET name = ?, ports = ?, rated_power_w = ?, rated_voltage_v = ?, rated_current_a = ?, "
    "socket_overload_w = ?, device_overload_w = ?, gun_power_w = ?, connector_type = ?, max_current_a = ?, note = ? "
    "WHERE id = ?";
constexpr const char* kDevicesUsing = "SELECT count(*) FROM devices WHERE model_id = ?";
constexpr const char* kRemoveModel = "DELETE FROM device_models WHERE id = ?";

DeviceModelRow read_model(db::Statement& st) {
    DeviceModelRow m;
    m.id = st.int64(0);
    m.kind = st.text(1);
    m.name = st.text(2);
    m.ports = static_cast<int>(st.int64(3));
    m.rated_power_w = st.opt_int64(4);
    m.rated_voltage_v = st.opt_int64(5);
    m.rated_current_a = st.opt_int64(6);
    m.socket_overload_w = st.opt_int64(7);
    m.device_overload_w = st.opt_int64(8);
    m.gun_power_w = st.opt_int64(9);
    m.connector_type = st.opt_text(10);
    m.max_current_a = st.opt_int64(11);
    m.note = st.text(12);
    m.created_at = st.int64(13);
    return m;
}

} // namespace

std::vector<DeviceModelRow> DeviceModelStore::models(const std::string& kind) {
    db::Statement st(db_, std::string(kModels) + "WHERE ?1 = '' OR kind = ?1 ORDER BY kind, name");
    st.bind_all(kind);
    std::vector<DeviceModelRow> out;
    while (st.step())
        out.push_back(read_model(st));
    return out;
}

std::optional<DeviceModelRow> DeviceModelStore::model(std::int64_t id) {
    db::Statement st(db_, std::string(kModels) + "WHERE id = ?");
    st.bind_all(id);
    if (!st.step())
        return std::nullopt;
    return read_model(st);
}

std::int64_t DeviceModelStore::add(const DeviceModelRow& m, EpochMs now) {
    db::Statement(db_, kAddModel)
        .bind_all(m.kind, m.name, m.ports, m.rated_power_w, m.rated_voltage_v, m.rated_current_a, m.socket_overload_w,
                  m.device_overload_w, m.gun_power_w, m.connector_type, m.max_current_a, m.note, now)
        .run();
    return db_.last_insert_rowid();
}

void DeviceModelStore::update(const DeviceModelRow& m) {
    db::Statement(db_, kUpdateModel)
        .bind_all(m.name, m.ports, m.rated_power_w, m.rated_voltage_v, m.rated_current_a, m.socket_overload_w,
                  m.device_overload_w, m.gun_power_w, m.connector_type, m.max_current_a, m.note, m.id)
        .run();
}

std::int64_t DeviceModelStore::devices_using(std::int64_t id) {
    db::Statement st(db_, kDevicesUsing);
    st.bind_all(id);
    st.step();
    return st.int64(0);
}

bool DeviceModelStore::remove(std::int64_t id) {
    return db::Statement(db_, kRemoveModel).bind_all(id).run() > 0;
}

} // namespace pilehub::api
