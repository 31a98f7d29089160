#include "web-api/catalog_store.hpp"

#include "common/in_service_sql.hpp"
#include "common/svc.hpp"
#include "common/tariff_store.hpp"

#include <fmt/format.h>

namespace pilehub::api {
namespace {

// Riders see only what is in service (common/in_service_sql.hpp).
#define PH_STATION_VISIBLE PILEHUB_STATION_IN_SERVICE_SQL(s)
#define PH_DEVICE_VISIBLE PILEHUB_DEVICE_IN_SERVICE_SQL(d)

constexpr const char* kProviders = "SELECT id, name, contact, phone, enabled, created_at FROM providers ";
constexpr const char* kAddProvider =
    "INSERT INTO providers(operator_id, name, contact, phone, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?)";
constexpr const char* kUpdateProvider =
    "UPDATE providers SET name = ?, contact = ?, phone = ?, enabled = ? WHERE id = ?";
constexpr const char* kProperties =
    "SELECT id, provider_id, name, contact, phone, address, enabled, created_at FROM properties ";
constexpr const char* kAddProperty = "INSERT INTO properties(provider_id, name, contact, phone, address, enabled, "
                                     "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kUpdateProperty =
    "UPDATE properties SET name = ?, contact = ?, phone = ?, address = ?, enabled = ? WHERE id = ?";

constexpr const char* kStations =
    "SELECT s.id, s.operator_id, s.property_id, s.name, s.address, s.lat_e6, s.lon_e6, "
    "s.open_hours, s.timezone, s.enabled, s.created_at, " PH_STATION_VISIBLE " FROM stations s ";
constexpr const char* kAddStation =
    "INSERT INTO stations(operator_id, property_id, name, address, lat_e6, lon_e6, open_hours, timezone, enabled, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kUpdateStation =
    "UPDATE stations SET property_id = ?, name = ?, address = ?, lat_e6 = ?, lon_e6 = ?, open_hours = ?, timezone = ?, "
    "enabled = ? WHERE id = ?";
constexpr const char* kAreas = "SELECT id, station_id, name, enabled FROM areas ";
constexpr const char* kAddArea = "INSERT INTO areas(station_id, name, created_at) VALUES (?, ?, ?)";
constexpr const char* kUpdateArea = "UPDATE areas SET name = ?, enabled = ? WHERE id = ?";

constexpr const char* kDevices =
    "SELECT d.id, d.kind, d.name, d.model, d.station_id, d.area_id, d.enabled, d.created_at, "
    "(SELECT count(*) FROM sockets x WHERE x.device_id = d.id) + (SELECT count(*) FROM guns x WHERE x.device_id = "
    "d.id) "
    "+ (SELECT count(*) FROM spaces x WHERE x.device_id = d.id), " PH_DEVICE_VISIBLE
    " AND EXISTS (SELECT 1 FROM stations s WHERE s.id = d.station_id AND " PH_STATION_VISIBLE
    "), d.protocol, d.factory_id, d.sim, d.ip, d.lifecycle, d.model_id, d.produced_on, d.installed_at, d.retired_at "
    "FROM devices d ";
constexpr const char* kUpdateDevice =
    "UPDATE devices SET name = ?, model = ?, area_id = ?, enabled = ?, factory_id = ?, "
    "sim = ?, ip = ?, station_id = ?, lifecycle = ?, model_id = ?, produced_on = ?, installed_at = ?, retired_at = ? "
    "WHERE id = ?";
constexpr const char* kPorts =
    "SELECT x.device_id, d.kind, x.n, x.enabled, x.socket_overload_w, d.station_id FROM sockets x JOIN devices d ON "
    "d.id = x.device_id WHERE x.device_id = ?1 UNION ALL "
    "SELECT x.device_id, d.kind, x.n, x.enabled, NULL, d.station_id FROM guns x JOIN devices d ON d.id = x.device_id "
    "WHERE x.device_id = ?1 UNION ALL "
    "SELECT x.device_id, d.kind, x.n, x.enabled, NULL, d.station_id FROM spaces x JOIN devices d ON d.id = x.device_id "
    "WHERE x.device_id = ?1 ORDER BY 3";
constexpr const char* kSetSocket =
    "UPDATE sockets SET enabled = ?, socket_overload_w = ? WHERE device_id = ? AND n = ?";
constexpr const char* kSetGun = "UPDATE guns SET enabled = ? WHERE device_id = ? AND n = ?";
constexpr const char* kSetSpace = "UPDATE spaces SET enabled = ? WHERE device_id = ? AND n = ?";
constexpr const char* kRiderPorts =
    "SELECT x.device_id, d.kind, x.n, x.enabled, NULL, d.station_id FROM devices d JOIN "
    "(SELECT device_id, n, enabled FROM sockets UNION ALL SELECT device_id, n, enabled FROM guns) x ON x.device_id = "
    "d.id "
    "WHERE d.station_id = ? AND x.enabled = 1 AND " PH_DEVICE_VISIBLE;
constexpr const char* kBusyPorts =
    "SELECT device_id, n FROM sessions WHERE station_id = ? AND state IN " PILEHUB_HOLDS_SOCKET_SQL;
constexpr const char* kFaultedPorts =
    "SELECT f.device_id, f.n FROM fault_records f JOIN devices d ON d.id = f.device_id WHERE d.station_id = ? AND "
    "f.cleared_at IS NULL";
constexpr const char* kGuns = "SELECT n, enabled, max_power_w, current_type, connector_type FROM guns WHERE "
                              "device_id = ? ORDER BY n";
constexpr const char* kPrepaidAmounts =
    "SELECT amount_fen FROM station_prepaid_amounts WHERE station_id = ? ORDER BY amount_fen";
constexpr const char* kClearPrepaidAmounts = "DELETE FROM station_prepaid_amounts WHERE station_id = ?";
constexpr const char* kAddPrepaidAmount =
    "INSERT INTO station_prepaid_amounts(station_id, amount_fen) VALUES (?, ?) ON CONFLICT DO NOTHING";
constexpr const char* kStoredPresence = "SELECT online FROM device_presence WHERE device_id = ?";
constexpr const char* kPortVisible =
    "SELECT 1 FROM devices d JOIN stations s ON s.id = d.station_id WHERE d.id = ?1 AND " PH_DEVICE_VISIBLE
    " AND " PH_STATION_VISIBLE " AND (EXISTS (SELECT 1 FROM sockets x WHERE x.device_id = ?1 AND x.n = ?2 AND "
    "x.enabled = 1) OR EXISTS (SELECT 1 FROM guns x WHERE x.device_id = ?1 AND x.n = ?2 AND x.enabled = 1))";

#define PH_TARIFF_COLUMNS                                                                                              \
    "id, station_id, version, document, effective_from, created_at, created_by, area_id, device_id, scheme_id"
constexpr const char* kTariffs = "SELECT " PH_TARIFF_COLUMNS " FROM tariffs "
                                 "WHERE station_id = ? AND area_id IS NULL AND device_id IS NULL ORDER BY version";
constexpr const char* kTariffById = "SELECT " PH_TARIFF_COLUMNS " FROM tariffs WHERE id = ?";
// One target's versions, ?1 station, ?2 area, ?3 device, as tariffs_version and tariffs_device_version count them.
#define PH_TARIFF_TARGET                                                                                               \
    "CASE WHEN ?3 IS NOT NULL THEN device_id = ?3 ELSE device_id IS NULL AND station_id = ?1 AND "                     \
    "coalesce(area_id, 0) = coalesce(?2, 0) END"
constexpr const char* kTargetTariffs =
    "SELECT " PH_TARIFF_COLUMNS " FROM tariffs WHERE " PH_TARIFF_TARGET " ORDER BY version";
constexpr const char* kNextTariffVersion = "SELECT coalesce(max(version), 0) + 1 FROM tariffs WHERE " PH_TARIFF_TARGET;
#undef PH_TARIFF_TARGET
constexpr const char* kSchemeTargets = "SELECT DISTINCT station_id, area_id, device_id FROM tariffs "
                                       "WHERE scheme_id = ?1 ORDER BY device_id, area_id, station_id";
#undef PH_TARIFF_COLUMNS
constexpr const char* kAddTariff = "INSERT INTO tariffs(station_id, area_id, device_id, scheme_id, version, document, "
                                   "effective_from, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

ProviderRow read_provider(db::Statement& st) {
    return ProviderRow{st.int64(0), st.text(1), st.text(2), st.text(3), st.int64(4) != 0, st.int64(5)};
}
PropertyRow read_property(db::Statement& st) {
    return PropertyRow{st.int64(0), st.int64(1), st.text(2),       st.text(3),
                       st.text(4),  st.text(5),  st.int64(6) != 0, st.int64(7)};
}
StationRow read_station(db::Statement& st) {
    StationRow s;
    s.id = st.int64(0);
    s.operator_id = st.int64(1);
    s.property_id = st.opt_int64(2);
    s.name = st.text(3);
    s.address = st.text(4);
    s.lat_e6 = st.int64(5);
    s.lon_e6 = st.int64(6);
    s.open_hours = st.text(7);
    s.timezone = st.text(8);
    s.enabled = st.int64(9) != 0;
    s.created_at = st.int64(10);
    s.visible = st.int64(11) != 0;
    return s;
}
DeviceRow read_device(db::Statement& st) {
    DeviceRow d;
    d.id = st.text(0);
    d.kind = st.text(1);
    d.name = st.text(2);
    d.model = st.text(3);
    d.station_id = st.opt_int64(4);
    d.area_id = st.opt_int64(5);
    d.enabled = st.int64(6) != 0;
    d.created_at = st.int64(7);
    d.ports = static_cast<int>(st.int64(8));
    d.visible = st.int64(9) != 0;
    d.protocol = st.text(10);
    d.factory_id = st.opt_text(11);
    d.sim = st.opt_text(12);
    d.ip = st.opt_text(13);
    d.lifecycle = st.text(14);
    d.model_id = st.opt_int64(15);
    d.produced_on = st.opt_text(16);
    d.installed_at = st.opt_int64(17);
    d.retired_at = st.opt_int64(18);
    return d;
}
PortRow read_port(db::Statement& st) {
    return PortRow{st.text(0),       st.text(1),      static_cast<int>(st.int64(2)),
                   st.int64(3) != 0, st.opt_int64(4), st.int64(5)};
}
TariffRow read_tariff(db::Statement& st) {
    return TariffRow{st.int64(0), st.int64(1), st.int64(2),     st.text(3),     st.int64(4),
                     st.int64(5), st.text(6),  st.opt_int64(7), st.opt_text(8), st.opt_int64(9)};
}

} // namespace

std::vector<ProviderRow> CatalogStore::providers() {
    std::vector<ProviderRow> out;
    db::Statement st(db_, std::string(kProviders) + "ORDER BY id");
    while (st.step())
        out.push_back(read_provider(st));
    return out;
}

std::optional<ProviderRow> CatalogStore::provider(std::int64_t id) {
    db::Statement st(db_, std::string(kProviders) + "WHERE id = ?");
    st.bind_all(id);
    if (!st.step())
        return std::nullopt;
    return read_provider(st);
}

std::int64_t CatalogStore::add_provider(std::int64_t operator_id, const ProviderRow& p, EpochMs now) {
    db::Statement(db_, kAddProvider).bind_all(operator_id, p.name, p.contact, p.phone, p.enabled ? 1 : 0, now).run();
    return db_.last_insert_rowid();
}

void CatalogStore::update_provider(const ProviderRow& p) {
    db::Statement(db_, kUpdateProvider).bind_all(p.name, p.contact, p.phone, p.enabled ? 1 : 0, p.id).run();
}

std::vector<PropertyRow> CatalogStore::properties(std::optional<std::int64_t> provider_id) {
    std::vector<PropertyRow> out;
    db::Statement st(db_,
                     std::string(kProperties) + (provider_id ? "WHERE provider_id = ? ORDER BY id" : "ORDER BY id"));
    if (provider_id)
        st.bind(1, *provider_id);
    while (st.step())
        out.push_back(read_property(st));
    return out;
}

std::optional<PropertyRow> CatalogStore::property(std::int64_t id) {
    db::Statement st(db_, std::string(kProperties) + "WHERE id = ?");
    st.bind_all(id);
    if (!st.step())
        return std::nullopt;
    return read_property(st);
}

std::int64_t CatalogStore::add_property(const PropertyRow& p, EpochMs now) {
    db::Statement(db_, kAddProperty)
        .bind_all(p.provider_id, p.name, p.contact, p.phone, p.address, p.enabled ? 1 : 0, now)
        .run();
    return db_.last_insert_rowid();
}

void CatalogStore::update_property(const PropertyRow& p) {
    db::Statement(db_, kUpdateProperty).bind_all(p.name, p.contact, p.phone, p.address, p.enabled ? 1 : 0, p.id).run();
}

std::optional<StationRow> CatalogStore::station(std::int64_t id) {
    db::Statement st(db_, std::string(kStations) + "WHERE s.id = ?");
    st.bind_all(id);
    if (!st.step())
        return std::nullopt;
    return read_station(st);
}

std::vector<StationRow> CatalogStore::stations(const std::optional<std::set<std::int64_t>>& scope,
                                               std::optional<std::int64_t> property_id, const std::string& name_like) {
    std::vector<StationRow> out;
    db::Statement st(
        db_, std::string(kStations) +
                 "WHERE (?1 IS NULL OR s.property_id = ?1) AND (?2 = '' OR instr(s.name, ?2) > 0) ORDER BY s.id");
    st.bind(1, property_id);
    st.bind(2, name_like);
    while (st.step()) {
        auto s = read_station(st);
        if (!scope || scope->count(s.id))
            out.push_back(std::move(s));
    }
    return out;
}

std::vector<StationRow> CatalogStore::visible_stations_in_box(std::int64_t lat_min, std::int64_t lat_max,
                                                              std::int64_t lon_min, std::int64_t lon_max,
                                                              bool lon_wraps, bool all_lon) {
    std::vector<StationRow> out;
    db::Statement st(db_,
                     std::string(kStations) +
                         "WHERE s.lat_e6 BETWEEN ?1 AND ?2 AND (?5 = 1 OR (?6 = 0 AND s.lon_e6 BETWEEN ?3 AND ?4) OR "
                         "(?6 = 1 AND (s.lon_e6 >= ?3 OR s.lon_e6 <= ?4))) AND " PH_STATION_VISIBLE);
    st.bind_all(lat_min, lat_max, lon_min, lon_max, all_lon ? 1 : 0, lon_wraps ? 1 : 0);
    while (st.step())
        out.push_back(read_station(st));
    return out;
}

std::int64_t CatalogStore::add_station(const StationRow& s, EpochMs now) {
    db::Statement(db_, kAddStation)
        .bind_all(s.operator_id, s.property_id, s.name, s.address, s.lat_e6, s.lon_e6, s.open_hours, s.timezone,
                  s.enabled ? 1 : 0, now)
        .run();
    return db_.last_insert_rowid();
}

void CatalogStore::update_station(const StationRow& s) {
    db::Statement(db_, kUpdateStation)
        .bind_all(s.property_id, s.name, s.address, s.lat_e6, s.lon_e6, s.open_hours, s.timezone, s.enabled ? 1 : 0,
                  s.id)
        .run();
}

std::vector<AreaRow> CatalogStore::areas(std::int64_t station_id) {
    std::vector<AreaRow> out;
    db::Statement st(db_, std::string(kAreas) + "WHERE station_id = ? ORDER BY id");
    st.bind_all(station_id);
    while (st.step())
        out.push_back(AreaRow{st.int64(0), st.int64(1), st.text(2), st.int64(3) != 0});
    return out;
}

std::optional<AreaRow> CatalogStore::area(std::int64_t id) {
    db::Statement st(db_, std::string(kAreas) + "WHERE id = ?");
    st.bind_all(id);
    if (!st.step())
        return std::nullopt;
    return AreaRow{st.int64(0), st.int64(1), st.text(2), st.int64(3) != 0};
}

std::int64_t CatalogStore::add_area(std::int64_t station_id, const std::string& name, EpochMs now) {
    db::Statement(db_, kAddArea).bind_all(station_id, name, now).run();
    return db_.last_insert_rowid();
}

void CatalogStore::update_area(const AreaRow& a) {
    db::Statement(db_, kUpdateArea).bind_all(a.name, a.enabled ? 1 : 0, a.id).run();
}

std::optional<DeviceRow> CatalogStore::device(const std::string& id) {
    db::Statement st(db_, std::string(kDevices) + "WHERE d.id = ?");
    st.bind_all(id);
    if (!st.step())
        return std::nullopt;
    return read_device(st);
}

std::vector<DeviceRow> CatalogStore::devices(const std::optional<std::set<std::int64_t>>& scope,
                                             std::optional<std::int64_t> station_id, const std::string& kind) {
    return devices(DeviceFilter{scope, station_id, kind, "", std::nullopt, ""});
}

std::vector<DeviceRow> CatalogStore::devices(const DeviceFilter& f) {
    std::vector<DeviceRow> out;
    db::Statement st(db_, std::string(kDevices) +
                              "WHERE (?1 IS NULL OR d.station_id = ?1) AND (?2 = '' OR d.kind = ?2) AND (?3 = '' OR "
                              "d.lifecycle = ?3) AND (?4 IS NULL OR d.model_id = ?4) AND (?5 = '' OR d.model = ?5) "
                              "ORDER BY d.id");
    st.bind_all(f.station_id, f.kind, f.lifecycle, f.model_id, f.model);
    while (st.step()) {
        auto d = read_device(st);
        if (!f.scope || (d.station_id && f.scope->count(*d.station_id)))
            out.push_back(std::move(d));
    }
    return out;
}

void CatalogStore::update_device(const DeviceRow& d) {
    db::Statement(db_, kUpdateDevice)
        .bind_all(d.name, d.model, d.area_id, d.enabled ? 1 : 0, d.factory_id, d.sim, d.ip, d.station_id, d.lifecycle,
                  d.model_id, d.produced_on, d.installed_at, d.retired_at, d.id)
        .run();
}

std::vector<PortRow> CatalogStore::ports(const std::string& device_id) {
    std::vector<PortRow> out;
    db::Statement st(db_, kPorts);
    st.bind_all(device_id);
    while (st.step())
        out.push_back(read_port(st));
    return out;
}

std::optional<PortRow> CatalogStore::port(const std::string& device_id, int n) {
    for (auto& p : ports(device_id))
        if (p.n == n)
            return p;
    return std::nullopt;
}

void CatalogStore::set_port(const std::string& device_id, const std::string& kind, int n, bool enabled,
                            std::optional<std::int64_t> socket_overload_w) {
    if (kind == "ebike_pile")
        db::Statement(db_, kSetSocket).bind_all(enabled ? 1 : 0, socket_overload_w, device_id, n).run();
    else if (kind == "ev_charger")
        db::Statement(db_, kSetGun).bind_all(enabled ? 1 : 0, device_id, n).run();
    else
        db::Statement(db_, kSetSpace).bind_all(enabled ? 1 : 0, device_id, n).run();
}

std::vector<PortRow> CatalogStore::rider_ports(const std::vector<std::int64_t>& station_ids) {
    std::vector<PortRow> out;
    db::Statement st(db_, kRiderPorts);
    for (auto id : station_ids) {
        st.bind_all(id);
        while (st.step())
            out.push_back(read_port(st));
        st.reset();
    }
    return out;
}

std::set<std::pair<std::string, int>> CatalogStore::busy_ports(const std::vector<std::int64_t>& station_ids) {
    std::set<std::pair<std::string, int>> out;
    db::Statement st(db_, kBusyPorts);
    for (auto id : station_ids) {
        st.bind_all(id);
        while (st.step())
            out.emplace(st.text(0), static_cast<int>(st.int64(1)));
        st.reset();
    }
    return out;
}

std::set<std::pair<std::string, int>> CatalogStore::faulted_ports(const std::vector<std::int64_t>& station_ids) {
    std::set<std::pair<std::string, int>> out;
    db::Statement st(db_, kFaultedPorts);
    for (auto id : station_ids) {
        st.bind_all(id);
        while (st.step())
            out.emplace(st.text(0), static_cast<int>(st.int64(1)));
        st.reset();
    }
    return out;
}

std::vector<GunRow> CatalogStore::guns(const std::string& device_id) {
    std::vector<GunRow> out;
    db::Statement st(db_, kGuns);
    st.bind_all(device_id);
    while (st.step())
        out.push_back(GunRow{static_cast<int>(st.int64(0)), st.int64(1) != 0, st.int64(2), st.text(3), st.opt_text(4)});
    return out;
}

std::optional<GunRow> CatalogStore::gun(const std::string& device_id, int n) {
    for (auto& g : guns(device_id))
        if (g.n == n)
            return g;
    return std::nullopt;
}

std::vector<std::int64_t> CatalogStore::prepaid_amounts(std::int64_t station_id) {
    std::vector<std::int64_t> out;
    db::Statement st(db_, kPrepaidAmounts);
    st.bind_all(station_id);
    while (st.step())
        out.push_back(st.int64(0));
    return out;
}

void CatalogStore::set_prepaid_amounts(std::int64_t station_id, const std::vector<std::int64_t>& amounts_fen) {
    db::Transaction tx(db_);
    db::Statement(db_, kClearPrepaidAmounts).bind_all(station_id).run();
    db::Statement add(db_, kAddPrepaidAmount);
    for (auto a : amounts_fen) {
        add.bind_all(station_id, a).run();
        add.reset();
    }
    tx.commit();
}

std::optional<bool> CatalogStore::stored_presence(const std::string& device_id) {
    db::Statement st(db_, kStoredPresence);
    st.bind_all(device_id);
    if (!st.step())
        return std::nullopt;
    return st.int64(0) != 0;
}

bool CatalogStore::port_visible(const std::string& device_id, int n) {
    db::Statement st(db_, kPortVisible);
    st.bind_all(device_id, n);
    return st.step();
}

std::vector<TariffRow> CatalogStore::tariffs(std::int64_t station_id) {
    std::vector<TariffRow> out;
    db::Statement st(db_, kTariffs);
    st.bind_all(station_id);
    while (st.step())
        out.push_back(read_tariff(st));
    return out;
}

std::vector<TariffRow> CatalogStore::target_tariffs(const TariffTarget& target) {
    std::vector<TariffRow> out;
    db::Statement st(db_, kTargetTariffs);
    st.bind_all(target.station_id, target.area_id, target.device_id);
    while (st.step())
        out.push_back(read_tariff(st));
    return out;
}

std::vector<TariffTarget> CatalogStore::scheme_targets(std::int64_t scheme_id) {
    std::vector<TariffTarget> out;
    db::Statement q(db_, kSchemeTargets);
    q.bind_all(scheme_id);
    while (q.step())
        out.push_back(TariffTarget{q.int64(0), q.opt_int64(1), q.opt_text(2)});
    return out;
}

TariffRow CatalogStore::add_tariff(std::int64_t station_id, const std::string& document, EpochMs effective_from,
                                   EpochMs now, const std::string& by) {
    db::Transaction tx(db_);
    auto row = insert_tariff(TariffTarget{station_id, std::nullopt, std::nullopt}, document, effective_from, now, by,
                             std::nullopt);
    tx.commit();
    return row;
}

TariffRow CatalogStore::insert_tariff(const TariffTarget& target, const std::string& document, EpochMs effective_from,
                                      EpochMs now, const std::string& by, std::optional<std::int64_t> scheme_id) {
    db::Statement next(db_, kNextTariffVersion);
    next.bind_all(target.station_id, target.area_id, target.device_id);
    next.step();
    const auto version = next.int64(0);
    next.reset();
    db::Statement(db_, kAddTariff)
        .bind_all(target.station_id, target.area_id, target.device_id, scheme_id, version, document, effective_from,
                  now, by)
        .run();
    return TariffRow{db_.last_insert_rowid(), target.station_id, version,  document, effective_from, now, by,
                     target.area_id,          target.device_id,  scheme_id};
}

std::optional<TariffRow> CatalogStore::tariff(std::int64_t id) {
    db::Statement st(db_, kTariffById);
    st.bind_all(id);
    if (!st.step())
        return std::nullopt;
    return read_tariff(st);
}

std::optional<std::pair<TariffRow, billing::Tariff>>
CatalogStore::tariff_in_force(std::int64_t station_id, std::optional<std::int64_t> area_id,
                              const std::optional<std::string>& device_id, EpochMs at) {
    const auto chosen = billing::TariffStore(db_).in_force(station_id, area_id, device_id, at);
    if (!chosen.tariff)
        return std::nullopt;
    db::Statement st(db_, kTariffById);
    st.bind_all(*chosen.id);
    if (!st.step())
        return std::nullopt;
    return std::make_pair(read_tariff(st), *chosen.tariff);
}

} // namespace pilehub::api
