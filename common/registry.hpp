#pragma once
#include "common/db.hpp"
#include "common/money.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

/// Operators, stations, devices and their MQTT credentials (schema/core/001_registry.sql).
namespace pilehub::registry {

enum class DeviceKind { EbikePile, EvCharger, Camera };
const char* to_string(DeviceKind k);
std::optional<DeviceKind> parse_kind(std::string_view s);
/// How many ports a kind may have: sockets 1..64, guns 1..16, spaces 1..16.
int max_ports(DeviceKind k);

/// How a device reaches the platform (`devices.protocol`, schema/core/008): every device speaks MQTT
/// (CONTRACT A) unless it is an EV charger speaking OCPP 1.6-J through the gateway (CONTRACT D.2).
enum class Protocol { Mqtt, Ocpp16 };
/// `mqtt`, `ocpp1.6`.
const char* to_string(Protocol p);
std::optional<Protocol> parse_protocol(std::string_view s);
/// Why a device of `kind` cannot speak `p` (only an ev_charger speaks ocpp1.6), or nullopt.
std::optional<std::string> protocol_problem(DeviceKind kind, Protocol p);

/// A gun's connector (CONTRACT D.1 registration `connectors`; `guns.connector_type`).
enum class ConnectorType { GbtDc, GbtAc, Ccs2, Type2 };
/// `gbt_dc`, `gbt_ac`, `ccs2`, `type2`.
const char* to_string(ConnectorType t);
std::optional<ConnectorType> parse_connector_type(std::string_view s);
/// The gun's `current_type`: `dc` for gbt_dc and ccs2, `ac` for gbt_ac and type2.
const char* current_type(ConnectorType t);
/// The rated power a gun with this connector may be registered with, W: AC 1 000..44 000 (three
/// phases at 63 A), DC 1 000..1 000 000.
inline constexpr std::int64_t kMinRatedPowerW = 1'000;
std::int64_t max_rated_power_w(ConnectorType t);

/// One gun's connector and rating as the operator registers it.
struct Connector {
    int n = 1;
    ConnectorType type = ConnectorType::GbtAc;
    std::int64_t rated_power_w = 7'000;
    bool operator==(const Connector&) const = default;
};
/// Why a charger with `guns` guns cannot be registered with these connectors (a gun number outside
/// 1..guns, a gun given twice, a power outside its connector's range), or nullopt when they are fine.
std::optional<std::string> connectors_problem(const std::vector<Connector>& connectors, int guns);
/// Reads `n:type:watts` (pilehubctl's `--connector 1:gbt_dc:120000`); nullopt with `why` set.
std::optional<Connector> parse_connector_arg(std::string_view text, std::string* why);

struct Station {
    std::int64_t id = 0;
    std::int64_t operator_id = 0;
    std::string name;
    std::string address;
    std::int64_t lat_e6 = 0; ///< micro-degrees
    std::int64_t lon_e6 = 0;
    std::string open_hours = "00:00-24:00";
    std::string timezone = "Asia/Shanghai";
    bool enabled = true;
};

struct Device {
    std::string id;
    DeviceKind kind = DeviceKind::EbikePile;
    std::optional<std::int64_t> station_id; ///< none: registered into stock (CONTRACT G "Lifecycle")
    int ports = 0;                          ///< sockets, guns or spaces
    std::vector<Connector> connectors;      ///< EV chargers: the guns' connectors (others keep the defaults)
    Protocol protocol = Protocol::Mqtt;
    std::string name;
    bool enabled = true;
    EpochMs created_at = 0;
    std::string lifecycle = "installed"; ///< `stock`, `installed`, `retired` (lifecycle::Stage); set from station_id
};

/// The registry's SQL. Each write is one short transaction.
class Store {
public:
    explicit Store(db::Database& db) : db_(db) {}

    /// The operator's id, creating it if new.
    std::int64_t ensure_operator(const std::string& name, EpochMs now);
    std::optional<std::int64_t> find_operator(const std::string& name);

    /// Inserts a station; throws db::Error (is_constraint) on a duplicate name for the operator.
    std::int64_t add_station(const Station& s, EpochMs now);
    std::optional<Station> station(std::int64_t id);

    /// Inserts a device (into stock without a station, else installed there) with its protocol, its ports (guns with
    /// their connectors), its broker password hash and, for an OCPP charger, the hash of its OCPP key, in one
    /// transaction. Check connectors_problem and protocol_problem first (a protocol problem throws
    /// std::invalid_argument).
    void add_device(const Device& d, const std::string& password_hash, EpochMs now,
                    const std::optional<std::string>& ocpp_key_hash = std::nullopt);
    std::optional<Device> device(const std::string& id);
    std::vector<Device> devices(std::optional<std::int64_t> station_id = std::nullopt);
    /// Removes a device, its ports and credentials. false if it did not exist.
    bool remove_device(const std::string& id);
    /// Says which EV gun (`<charger id>-<n>`) space `n` of camera `camera` serves (CONTRACT E.1).
    /// false if there is no such space.
    bool set_space_gun(const std::string& camera, int n, const std::string& gun);
    /// Replaces a device's broker password hash. false if it does not exist.
    bool set_device_password(const std::string& id, const std::string& password_hash, EpochMs now);

    /// Creates or replaces the hash of an OCPP charger's key (its HTTP Basic password at the gateway).
    void set_ocpp_key(const std::string& device_id, const std::string& key_hash, EpochMs now);
    /// The hash of an OCPP charger's key; nullopt when none was issued (MQTT devices).
    std::optional<std::string> ocpp_key_hash(const std::string& device_id);

    /// Creates or replaces the credential of one of our processes (`svc.<name>`).
    void set_service_credential(const std::string& username, const std::string& password_hash, EpochMs now);
    bool has_service_credential(const std::string& username);

    /// Every broker user with its hash (services, then devices), for the password file. A retired
    /// device is left out, so the broker refuses its CONNECT once the file is reloaded.
    std::vector<std::pair<std::string, std::string>> broker_users();

    /// Creates an operator's staff login. Throws db::Error (is_constraint) if the name is taken.
    std::int64_t add_admin(const std::string& username, const std::string& password_hash, const std::string& role,
                           std::optional<std::int64_t> operator_id, EpochMs now);
    bool admin_exists(const std::string& username);
    /// Replaces an admin's password hash. false if there is no such admin.
    bool set_admin_password(const std::string& username, const std::string& password_hash);

private:
    db::Database& db_;
};

} // namespace pilehub::registry

namespace pilehub::registry {

/// Rewrites the broker's password file from the database (services and devices) and sends the
/// running broker SIGHUP so new credentials take effect without a restart. Returns false with
/// `why` when the file could not be written (the database change stands; the next sync writes the
/// whole file) or no broker is running (the file is written anyway; the broker reads it at start).
bool sync_broker_credentials(Store& store, const std::string& password_file, const std::string& pid_file,
                             std::string* why);

/// The secrets handed out once, at registration or rotation.
struct IssuedSecrets {
    std::string mqtt_password; ///< an MQTT device's broker password; empty for an OCPP charger (it never speaks MQTT)
    std::string ocpp_password; ///< an OCPP charger's key (HTTP Basic password at the gateway); empty otherwise
};

/// The broker password of OCPP charger `device_id`: ocpp_identity::mqtt_password with the gateway
/// key in `data_dir` (created if it does not exist yet, so the gateway finds the same key).
std::string ocpp_mqtt_password(const std::string& data_dir, const std::string& device_id);

/// Registers `d` (Store::add_device) with new credentials: an MQTT device a random broker secret;
/// an OCPP charger the broker password derived for it (ocpp_mqtt_password), so only the gateway
/// can connect as it, and a random OCPP key. The caller then syncs the broker credentials.
IssuedSecrets register_device(Store& store, const Device& d, const std::string& data_dir, EpochMs now);

/// Issues a new secret, the old one refused at once: an MQTT device's broker password, or an OCPP
/// charger's key (its MQTT identity, derived from the gateway key, stays). nullopt if there is no such device.
std::optional<IssuedSecrets> rotate_secret(Store& store, const std::string& device_id, EpochMs now);

} // namespace pilehub::registry
