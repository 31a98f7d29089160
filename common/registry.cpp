#include "common/registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <stdexcept>

namespace pilehub::registry {
namespace {

constexpr const char* kEnsureOperator =
    "INSERT INTO operators(name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING";
constexpr const char* kFindOperator = "SELECT id FROM operators WHERE name = ?";
constexpr const char* kAddStation =
    "INSERT INTO stations(operator_id, name, address, lat_e6, lon_e6, open_hours, timezone, enabled, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kStation = "SELECT id, operator_id, name, address, lat_e6, lon_e6, open_hours, timezone, enabled "
                                 "FROM stations WHERE id = ?";
constexpr const char* kAddDevice =
    "INSERT INTO devices(id, kind, station_id, name, enabled, created_at, protocol, lifecycle, installed_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, CASE WHEN ?3 IS NULL THEN 'stock' ELSE 'installed' END, "
    "CASE WHEN ?3 IS NULL THEN NULL ELSE ?6 END)";
constexpr const char* kAddSocket = "INSERT INTO sockets(device_id, n) VALUES (?, ?)";
constexpr const char* kAddGun = "INSERT INTO guns(device_id, n) VALUES (?, ?)";
constexpr const char* kAddRatedGun =
    "INSERT INTO guns(device_id, n, max_power_w, current_type, connector_type) VALUES (?, ?, ?, ?, ?)";
constexpr const char* kAddSpace = "INSERT INTO spaces(device_id, n) VALUES (?, ?)";
constexpr const char* kSetSpaceGun = "UPDATE spaces SET ev_gun = ? WHERE device_id = ? AND n = ?";
constexpr const char* kAddCredential =
    "INSERT INTO device_credentials(device_id, password_hash, created_at) VALUES (?, ?, ?)";
constexpr const char* kSetCredential =
    "UPDATE device_credentials SET password_hash = ?, rotated_at = ? WHERE device_id = ?";
constexpr const char* kSetOcppKey =
    "INSERT INTO ocpp_credentials(device_id, key_hash, issued_at) VALUES (?, ?, ?) "
    "ON CONFLICT (device_id) DO UPDATE SET key_hash = excluded.key_hash, issued_at = excluded.issued_at";
constexpr const char* kOcppKeyHash = "SELECT key_hash FROM ocpp_credentials WHERE device_id = ?";
constexpr const char* kDeviceCols =
    "SELECT d.id, d.kind, d.station_id, d.name, d.enabled, d.created_at, "
    "(SELECT count(*) FROM sockets s WHERE s.device_id = d.id) + (SELECT count(*) FROM "
    "guns g WHERE g.device_id = d.id) + "
    "(SELECT count(*) FROM spaces p WHERE p.device_id = d.id), d.protocol, d.lifecycle FROM devices d ";
constexpr const char* kRemoveDevice = "DELETE FROM devices WHERE id = ?";
constexpr const char* kSetService =
    "INSERT INTO service_credentials(username, password_hash, created_at) VALUES (?, ?, ?) "
    "ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash, created_at = excluded.created_at";
constexpr const char* kHasService = "SELECT 1 FROM service_credentials WHERE username = ?";
constexpr const char* kServiceUsers = "SELECT username, password_hash FROM service_credentials ORDER BY username";
// A retired device has no broker user: its CONNECT is refused (CONTRACT G "Lifecycle").
constexpr const char* kDeviceUsers =
    "SELECT c.device_id, c.password_hash FROM device_credentials c JOIN devices d ON d.id = c.device_id "
    "WHERE d.lifecycle <> 'retired' ORDER BY c.device_id";
constexpr const char* kAddAdmin =
    "INSERT INTO admins(operator_id, username, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?)";
constexpr const char* kAdminExists = "SELECT 1 FROM admins WHERE username = ?";
constexpr const char* kSetAdminPassword = "UPDATE admins SET password_hash = ? WHERE username = ?";

Device read_device(db::Statement& st) {
    Device d;
    d.id = st.text(0);
    d.kind = parse_kind(st.text(1)).value_or(DeviceKind::EbikePile);
    d.station_id = st.opt_int64(2);
    d.name = st.text(3);
    d.enabled = st.int64(4) != 0;
    d.created_at = st.int64(5);
    d.ports = static_cast<int>(st.int64(6));
    d.protocol = parse_protocol(st.text(7)).value_or(Protocol::Mqtt);
    d.lifecycle = st.text(8);
    return d;
}

} // namespace

const char* to_string(DeviceKind k) {
    switch (k) {
    case DeviceKind::EbikePile:
        return "ebike_pile";
    case DeviceKind::EvCharger:
        return "ev_charger";
    case DeviceKind::Camera:
        return "camera";
    }
    return "?";
}

std::optional<DeviceKind> parse_kind(std::string_view s) {
    if (s == "ebike_pile")
        return DeviceKind::EbikePile;
    if (s == "ev_charger")
        return DeviceKind::EvCharger;
    if (s == "camera")
        return DeviceKind::Camera;
    return std::nullopt;
}

const char* to_string(Protocol p) {
    return p == Protocol::Ocpp16 ? "ocpp1.6" : "mqtt";
}

std::optional<Protocol> parse_protocol(std::string_view s) {
    if (s == "mqtt")
        return Protocol::Mqtt;
    if (s == "ocpp1.6")
        return Protocol::Ocpp16;
    return std::nullopt;
}

std::optional<std::string> protocol_problem(DeviceKind kind, Protocol p) {
    if (p == Protocol::Ocpp16 && kind != DeviceKind::EvCharger)
        return std::string("protocol ocpp1.6 is for ev_charger");
    return std::nullopt;
}

int max_ports(DeviceKind k) {
    return k == DeviceKind::EbikePile ? 64 : 16;
}

const char* to_string(ConnectorType t) {
    switch (t) {
    case ConnectorType::GbtDc:
        return "gbt_dc";
    case ConnectorType::GbtAc:
        return "gbt_ac";
    case ConnectorType::Ccs2:
        return "ccs2";
    case ConnectorType::Type2:
        return "type2";
    }
    return "?";
}

std::optional<ConnectorType> parse_connector_type(std::string_view s) {
    for (auto t : {ConnectorType::GbtDc, ConnectorType::GbtAc, ConnectorType::Ccs2, ConnectorType::Type2})
        if (s == to_string(t))
            return t;
    return std::nullopt;
}

const char* current_type(ConnectorType t) {
    return t == ConnectorType::GbtDc || t == ConnectorType::Ccs2 ? "dc" : "ac";
}

std::int64_t max_rated_power_w(ConnectorType t) {
    return std::string_view(current_type(t)) == "dc" ? 1'000'000 : 44'000;
}

std::optional<std::string> connectors_problem(const std::vector<Connector>& connectors, int guns) {
    std::set<int> seen;
    for (const auto& c : connectors) {
        if (c.n < 1 || c.n > guns)
            return fmt::format("connector for gun {}: the charger has guns 1..{}", c.n, guns);
        if (!seen.insert(c.n).second)
            return fmt::format("gun {} is given twice", c.n);
        if (c.rated_power_w < kMinRatedPowerW || c.rated_power_w > max_rated_power_w(c.type))
            return fmt::format("gun {}: a {} gun is rated {}..{} W, not {}", c.n, to_string(c.type), kMinRatedPowerW,
                               max_rated_power_w(c.type), c.rated_power_w);
    }
    return std::nullopt;
}

std::optional<Connector> parse_connector_arg(std::string_view text, std::string* why) {
    const auto a = text.find(':');
    const auto b = a == std::string_view::npos ? a : text.find(':', a + 1);
    auto number = [](std::string_view s, std::int64_t& out) {
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        return !s.empty() && ec == std::errc() && p == s.data() + s.size();
    };
    std::int64_t n = 0, watts = 0;
    if (b == std::string_view::npos || !number(text.substr(0, a), n) || !number(text.substr(b + 1), watts) || n < 1 ||
        n > 999) {
        *why = fmt::format("a connector is n:type:watts (e.g. 1:gbt_dc:120000), not `{}`", text);
        return std::nullopt;
    }
    const auto type = parse_connector_type(text.substr(a + 1, b - a - 1));
    if (!type) {
        *why = fmt::format("connector type `{}` is not gbt_dc, gbt_ac, ccs2 or type2", text.substr(a + 1, b - a - 1));
        return std::nullopt;
    }
    return Connector{static_cast<int>(n), *type, watts};
}

std::int64_t Store::ensure_operator(const std::string& name, EpochMs now) {
    db::Statement(db_, kEnsureOperator).bind_all(name, now).run();
    return *find_operator(name);
}

std::optional<std::int64_t> Store::find_operator(const std::string& name) {
    db::Statement st(db_, kFindOperator);
    st.bind(1, name);
    if (!st.step())
        return std::nullopt;
    return st.int64(0);
}

std::int64_t Store::add_station(const Station& s, EpochMs now) {
    db::Statement(db_, kAddStation)
        .bind_all(s.operator_id, s.name, s.address, s.lat_e6, s.lon_e6, s.open_hours, s.timezone,
                  static_cast<std::int64_t>(s.enabled), now)
        .run();
    return db_.last_insert_rowid();
}

std::optional<Station> Store::station(std::int64_t id) {
    db::Statement st(db_, kStation);
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    Station s;
    s.id = st.int64(0);
    s.operator_id = st.int64(1);
    s.name = st.text(2);
    s.address = st.text(3);
    s.lat_e6 = st.int64(4);
    s.lon_e6 = st.int64(5);
    s.open_hours = st.text(6);
    s.timezone = st.text(7);
    s.enabled = st.int64(8) != 0;
    return s;
}

void Store::add_device(const Device& d, const std::string& password_hash, EpochMs now,
                       const std::optional<std::string>& ocpp_key_hash) {
    if (const auto why = protocol_problem(d.kind, d.protocol))
        throw std::invalid_argument(*why);
    db::Transaction tx(db_);
    db::Statement(db_, kAddDevice)
        .bind_all(d.id, std::string(to_string(d.kind)), d.station_id, d.name, static_cast<std::int64_t>(d.enabled), now,
                  std::string(to_string(d.protocol)))
        .run();
    const char* port_sql = d.kind == DeviceKind::EbikePile   ? kAddSocket
                           : d.kind == DeviceKind::EvCharger ? kAddGun
                                                             : kAddSpace;
    db::Statement port(db_, port_sql);
    db::Statement rated(db_, kAddRatedGun);
    for (int n = 1; n <= d.ports; ++n) {
        const auto c =
            std::find_if(d.connectors.begin(), d.connectors.end(), [n](const Connector& x) { return x.n == n; });
        if (d.kind == DeviceKind::EvCharger && c != d.connectors.end()) {
            rated
                .bind_all(d.id, n, c->rated_power_w, std::string(current_type(c->type)),
                          std::string(to_string(c->type)))
                .run();
            rated.reset();
        } else {
            port.bind_all(d.id, n).run();
            port.reset();
        }
    }
    db::Statement(db_, kAddCredential).bind_all(d.id, password_hash, now).run();
    if (ocpp_key_hash)
        set_ocpp_key(d.id, *ocpp_key_hash, now);
    tx.commit();
}

std::optional<Device> Store::device(const std::string& id) {
    db::Statement st(db_, std::string(kDeviceCols) + "WHERE d.id = ?");
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    return read_device(st);
}

std::vector<Device> Store::devices(std::optional<std::int64_t> station_id) {
    std::vector<Device> out;
    db::Statement st(db_, std::string(kDeviceCols) +
                              (station_id ? "WHERE d.station_id = ? ORDER BY d.id" : "ORDER BY d.id"));
    if (station_id)
        st.bind(1, *station_id);
    while (st.step())
        out.push_back(read_device(st));
    return out;
}

bool Store::remove_device(const std::string& id) {
    return db::Statement(db_, kRemoveDevice).bind(1, id).run() > 0;
}

bool Store::set_device_password(const std::string& id, const std::string& hash, EpochMs now) {
    return db::Statement(db_, kSetCredential).bind_all(hash, now, id).run() > 0;
}

bool Store::set_space_gun(const std::string& camera, int n, const std::string& gun) {
    db::Statement(db_, kSetSpaceGun).bind_all(gun, camera, n).run();
    return db_.changes() == 1;
}

void Store::set_ocpp_key(const std::string& device_id, const std::string& key_hash, EpochMs now) {
    db::Statement(db_, kSetOcppKey).bind_all(device_id, key_hash, now).run();
}

std::optional<std::string> Store::ocpp_key_hash(const std::string& device_id) {
    db::Statement st(db_, kOcppKeyHash);
    st.bind(1, device_id);
    if (!st.step())
        return std::nullopt;
    return st.text(0);
}

void Store::set_service_credential(const std::string& username, const std::string& hash, EpochMs now) {
    db::Statement(db_, kSetService).bind_all(username, hash, now).run();
}

bool Store::has_service_credential(const std::string& username) {
    db::Statement st(db_, kHasService);
    st.bind(1, username);
    return st.step();
}

std::vector<std::pair<std::string, std::string>> Store::broker_users() {
    std::vector<std::pair<std::string, std::string>> out;
    for (const char* sql : {kServiceUsers, kDeviceUsers}) {
        db::Statement st(db_, sql);
        while (st.step())
            out.emplace_back(st.text(0), st.text(1));
    }
    return out;
}

std::int64_t Store::add_admin(const std::string& username, const std::string& hash, const std::string& role,
                              std::optional<std::int64_t> operator_id, EpochMs now) {
    db::Statement(db_, kAddAdmin).bind_all(operator_id, username, hash, role, now).run();
    return db_.last_insert_rowid();
}

bool Store::admin_exists(const std::string& username) {
    db::Statement st(db_, kAdminExists);
    st.bind(1, username);
    return st.step();
}

bool Store::set_admin_password(const std::string& username, const std::string& hash) {
    return db::Statement(db_, kSetAdminPassword).bind_all(hash, username).run() > 0;
}

} // namespace pilehub::registry

#include "common/broker_auth.hpp"
#include "common/ocpp_identity.hpp"

#include <filesystem>

namespace pilehub::registry {

bool sync_broker_credentials(Store& store, const std::string& password_file, const std::string& pid_file,
                             std::string* why) {
    const auto users = store.broker_users();
    try {
        std::filesystem::create_directories(std::filesystem::path(password_file).parent_path());
        broker::write_password_file(password_file, users);
    } catch (const std::runtime_error& e) { // the file system's refusal (a bad user name stays an exception)
        if (why)
            *why = fmt::format("the broker's password file {} was not written: {} (the next change of credentials "
                               "writes it whole)",
                               password_file, e.what());
        return false;
    }
    std::string reason;
    if (broker::reload_broker(pid_file, &reason)) {
        broker::reload_broker_later(pid_file); // in case this signal came while the broker was reloading
        return true;
    }
    if (why)
        *why = fmt::format("password file written; {} (the broker reads the file when it starts)", reason);
    return false;
}

std::string ocpp_mqtt_password(const std::string& data_dir, const std::string& device_id) {
    const auto key = ocpp_identity::load_or_create_key(ocpp_identity::key_path(data_dir));
    return ocpp_identity::mqtt_password(key, device_id);
}

IssuedSecrets register_device(Store& store, const Device& d, const std::string& data_dir, EpochMs now) {
    IssuedSecrets out;
    if (d.protocol == Protocol::Ocpp16) {
        out.ocpp_password = broker::random_secret();
        store.add_device(d, broker::hash_password(ocpp_mqtt_password(data_dir, d.id)), now,
                         broker::hash_password(out.ocpp_password));
    } else {
        out.mqtt_password = broker::random_secret();
        store.add_device(d, broker::hash_password(out.mqtt_password), now);
    }
    return out;
}

std::optional<IssuedSecrets> rotate_secret(Store& store, const std::string& device_id, EpochMs now) {
    const auto d = store.device(device_id);
    if (!d)
        return std::nullopt;
    IssuedSecrets out;
    if (d->protocol == Protocol::Ocpp16) {
        out.ocpp_password = broker::random_secret();
        store.set_ocpp_key(device_id, broker::hash_password(out.ocpp_password), now);
    } else {
        out.mqtt_password = broker::random_secret();
        store.set_device_password(device_id, broker::hash_password(out.mqtt_password), now);
    }
    return out;
}

} // namespace pilehub::registry
