#pragma once
#include "common/db.hpp"
#include "common/money.hpp"
#include "common/tariff.hpp"
#include "common/tariff_store.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

/// The operator hierarchy (provider → property → station → area → device → socket/gun/space),
/// what riders may see of it, and tariff versions. All SQL of these tables lives here.
namespace pilehub::api {

struct ProviderRow {
    std::int64_t id = 0;
    std::string name, contact, phone;
    bool enabled = true;
    EpochMs created_at = 0;
};

struct PropertyRow {
    std::int64_t id = 0;
    std::int64_t provider_id = 0;
    std::string name, contact, phone, address;
    bool enabled = true;
    EpochMs created_at = 0;
};

struct StationRow {
    std::int64_t id = 0;
    std::int64_t operator_id = 0;
    std::optional<std::int64_t> property_id;
    std::string name, address, open_hours, timezone;
    std::int64_t lat_e6 = 0, lon_e6 = 0;
    bool enabled = true;
    bool visible = true; ///< enabled, and its property and provider (if any) enabled
    EpochMs created_at = 0;
};

struct AreaRow {
    std::int64_t id = 0;
    std::int64_t station_id = 0;
    std::string name;
    bool enabled = true;
};

struct DeviceRow {
    std::string id, kind, name, model;
    std::string protocol = "mqtt";          ///< `mqtt` or `ocpp1.6` (registry::Protocol)
    std::optional<std::int64_t> station_id; ///< none while in stock (and for a device retired from stock)
    std::optional<std::int64_t> area_id;
    bool enabled = true;
    bool visible = true; ///< installed, enabled, its area enabled, its station visible
    EpochMs created_at = 0;
    int ports = 0;
    std::optional<std::string> factory_id;  ///< the maker's serial, ≤ 64
    std::optional<std::string> sim;         ///< the SIM card's ICCID, ≤ 32
    std::optional<std::string> ip;          ///< the device's IP address (IPv4 or IPv6 text)
    std::string lifecycle = "installed";    ///< `stock`, `installed`, `retired` (lifecycle::Stage)
    std::optional<std::int64_t> model_id;   ///< its device model (device_models), if registered with one
    std::optional<std::string> produced_on; ///< the production date, YYYY-MM-DD
    std::optional<EpochMs> installed_at;    ///< the last install or relocation
    std::optional<EpochMs> retired_at;
};

/// Which devices a list shows (GET /admin/devices); every criterion optional.
struct DeviceFilter {
    std::optional<std::set<std::int64_t>> scope; ///< stations in the operator's scope; nullopt = unscoped
    std::optional<std::int64_t> station_id;
    std::string kind;      ///< "" = any
    std::string lifecycle; ///< "" = any
    std::optional<std::int64_t> model_id;
    std::string model; ///< the model's name (devices.model); "" = any
};

/// One socket (e-bike pile), gun (EV charger) or parking space (camera).
struct PortRow {
    std::string device_id;
    std::string kind; ///< the device's kind
    int n = 0;
    bool enabled = true;
    std::optional<std::int64_t> socket_overload_w; ///< sockets only
    std::int64_t station_id = 0;
};

/// A gun of an EV charger with its rating (schema/core/001 and 007).
struct GunRow {
    int n = 0;
    bool enabled = true;
    std::int64_t rated_power_w = 0;            ///< `guns.max_power_w`
    std::string current_type;                  ///< ac or dc
    std::optional<std::string> connector_type; ///< gbt_dc, gbt_ac, ccs2, type2; nullopt when not registered
};

/// What a tariff version is saved for: a station, an area of it (area_id), or a device (device_id;
/// station_id is then the device's station, area_id empty).
struct TariffTarget {
    std::int64_t station_id = 0;
    std::optional<std::int64_t> area_id;
    std::optional<std::string> device_id;
};

/// A stored tariff version.
struct TariffRow {
    std::int64_t id = 0;
    std::int64_t station_id = 0;
    std::int64_t version = 0;
    std::string document;
    EpochMs effective_from = 0;
    EpochMs created_at = 0;
    std::string created_by;
    std::optional<std::int64_t> area_id;
    std::optional<std::string> device_id;
    std::optional<std::int64_t> scheme_id; ///< the library scheme it was copied from
    /// Which level the version belongs to (billing::TariffStore ranks them).
    billing::TariffLevel level() const {
        return device_id ? billing::TariffLevel::Device
                         : (area_id ? billing::TariffLevel::Area : billing::TariffLevel::Station);
    }
};

class CatalogStore {
public:
    explicit CatalogStore(db::Database& d) : db_(d) {}

    // providers and properties
    std::vector<ProviderRow> providers();
    std::optional<ProviderRow> provider(std::int64_t id);
    std::int64_t add_provider(std::int64_t operator_id, const ProviderRow& p, EpochMs now);
    void update_provider(const ProviderRow& p);
    std::vector<PropertyRow> properties(std::optional<std::int64_t> provider_id);
    std::optional<PropertyRow> property(std::int64_t id);
    std::int64_t add_property(const PropertyRow& p, EpochMs now);
    void update_property(const PropertyRow& p);

    // stations and areas
    std::optional<StationRow> station(std::int64_t id);
    /// Stations, optionally only those in `scope` (nullopt = every station), of one property, or matching a name.
    std::vector<StationRow> stations(const std::optional<std::set<std::int64_t>>& scope,
                                     std::optional<std::int64_t> property_id, const std::string& name_like);
    /// Visible stations whose coordinates fall in the box (micro-degrees).
    std::vector<StationRow> visible_stations_in_box(std::int64_t lat_min, std::int64_t lat_max, std::int64_t lon_min,
                                                    std::int64_t lon_max, bool lon_wraps, bool all_lon);
    std::int64_t add_station(const StationRow& s, EpochMs now);
    void update_station(const StationRow& s);
    std::vector<AreaRow> areas(std::int64_t station_id);
    std::optional<AreaRow> area(std::int64_t id);
    std::int64_t add_area(std::int64_t station_id, const std::string& name, EpochMs now);
    void update_area(const AreaRow& a);

    // devices and ports
    std::optional<DeviceRow> device(const std::string& id);
    std::vector<DeviceRow> devices(const std::optional<std::set<std::int64_t>>& scope,
                                   std::optional<std::int64_t> station_id, const std::string& kind);
    /// Devices matching `f`. A scoped operator sees the devices at the stations of the scope (installed or
    /// retired there); devices in stock (no station) only unscoped operators see (docs/api.md "Lifecycle").
    std::vector<DeviceRow> devices(const DeviceFilter& f);
    /// Saves every editable column, the station and the lifecycle columns included.
    void update_device(const DeviceRow& d);
    std::vector<PortRow> ports(const std::string& device_id);
    std::optional<PortRow> port(const std::string& device_id, int n);
    void set_port(const std::string& device_id, const std::string& kind, int n, bool enabled,
                  std::optional<std::int64_t> socket_overload_w);
    /// Enabled sockets and guns of visible devices at these stations (rider counts).
    std::vector<PortRow> rider_ports(const std::vector<std::int64_t>& station_ids);
    /// (device_id, n) of every session that holds its socket (svc::holds_socket) at these stations.
    std::set<std::pair<std::string, int>> busy_ports(const std::vector<std::int64_t>& station_ids);
    /// (device_id, n) with an open fault (n = 0: the whole device) at these stations.
    std::set<std::pair<std::string, int>> faulted_ports(const std::vector<std::int64_t>& station_ids);
    /// The guns of a charger with their connectors and ratings, by number (none for other kinds).
    std::vector<GunRow> guns(const std::string& device_id);
    std::optional<GunRow> gun(const std::string& device_id, int n);
    /// presenced's stored verdict on a device, if any.
    std::optional<bool> stored_presence(const std::string& device_id);
    /// Whether the socket's device, area and station are all enabled and the port too.
    bool port_visible(const std::string& device_id, int n);

    /// The prepaid amounts riders pick from at a station (seed 003 预付值), ascending; empty: any amount.
    std::vector<std::int64_t> prepaid_amounts(std::int64_t station_id);
    /// Replaces a station's prepaid amounts (one transaction); the caller checked them (prepaid_amounts_problem).
    void set_prepaid_amounts(std::int64_t station_id, const std::vector<std::int64_t>& amounts_fen);

    // tariffs
    /// A station's own versions (not its areas' or devices'), by version.
    std::vector<TariffRow> tariffs(std::int64_t station_id);
    /// Every version of one target (a station's own, an area's, or a device's wherever it was saved), by version.
    std::vector<TariffRow> target_tariffs(const TariffTarget& target);
    /// The targets that have a version copied from library scheme `scheme_id` (tariff_scheme_store).
    std::vector<TariffTarget> scheme_targets(std::int64_t scheme_id);
    /// One tariff version by id (any station, area or device).
    std::optional<TariffRow> tariff(std::int64_t id);
    /// Saves a new version (number = previous + 1); returns the row.
    TariffRow add_tariff(std::int64_t station_id, const std::string& document, EpochMs effective_from, EpochMs now,
                         const std::string& by);
    /// Saves a new version for `target` (number = the target's previous + 1), copied from `scheme_id`
    /// if set. No transaction of its own: the caller holds one.
    TariffRow insert_tariff(const TariffTarget& target, const std::string& document, EpochMs effective_from,
                            EpochMs now, const std::string& by, std::optional<std::int64_t> scheme_id);
    /// The version in force at `at` for a socket of device `device_id` in `area_id` of the station
    /// (billing::TariffStore, the lookup sessiond uses at the start; row.level() says which level
    /// applies), parsed; nullopt if none or unreadable. No device (a station's page, a parking
    /// space): the area's or the station's.
    std::optional<std::pair<TariffRow, billing::Tariff>> tariff_in_force(std::int64_t station_id,
                                                                         std::optional<std::int64_t> area_id,
                                                                         const std::optional<std::string>& device_id,
                                                                         EpochMs at);

private:
    db::Database& db_;
};

} // namespace pilehub::api
