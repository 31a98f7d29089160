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
    std::int64_t station_id = 0;
    int ports = 0;                     ///< sockets, guns or spaces
    std::vector<Connector> connectors; ///< EV chargers: the guns' connectors (others keep the defaults)
    std::string name;
    bool enabled = true;
    EpochMs created_at = 0;
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

    /// Inserts a device with its ports (guns with their connectors) and its broker password hash, in
    /// one transaction. Check connectors_problem first.
    void add_device(const Device& d, const std::string& password_hash, EpochMs now);
    std::optional<Device> device(const std::string& id);
    std::vector<Device> devices(std::optional<std::int64_t> station_id = std::nullopt);
    /// Removes a device, its ports and credentials. false if it did not exist.
    bool remove_device(const std::string& id);
    /// Replaces a device's broker password hash. false if it does not exist.
    bool set_device_password(const std::string& id, const std::string& password_hash, EpochMs now);

    /// Creates or replaces the credential of one of our processes (`svc.<name>`).
    void set_service_credential(const std::string& username, const std::string& password_hash, EpochMs now);
    bool has_service_credential(const std::string& username);

    /// Every broker user with its hash (services, then devices), for the password file.
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
/// `why` when no broker is running (the file is written anyway; the broker reads it at start).
bool sync_broker_credentials(Store& store, const std::string& password_file, const std::string& pid_file,
                             std::string* why);

} // namespace pilehub::registry
