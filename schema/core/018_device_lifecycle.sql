-- pilehub: rebuilds tables (devices, for a station that may be absent; see common/db.hpp migrate)
-- Device lifecycle and models (CONTRACT G "Lifecycle", seed 004 设备管理 未生产/已入库/未安装/已安装 and 设备类型,
-- issue 14). A device is registered into stock (no station), installed at a station, relocated to another and
-- finally retired; the broker refuses a retired device's credentials (registry::Store::broker_users).

-- A device model (设备类型): what every device of the model has and the per-socket / per-gun defaults it implies.
-- Registering a device with a model fills its ports and their defaults (web-api/device_lifecycle).
CREATE TABLE device_models (
    id                 INTEGER PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('ebike_pile', 'ev_charger', 'camera')),
    name               TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    ports              INTEGER NOT NULL CHECK (ports BETWEEN 1 AND 64),          -- sockets, guns or spaces
    rated_power_w      INTEGER CHECK (rated_power_w IS NULL OR rated_power_w > 0),     -- the device's
    rated_voltage_v    INTEGER CHECK (rated_voltage_v IS NULL OR rated_voltage_v > 0),
    rated_current_a    INTEGER CHECK (rated_current_a IS NULL OR rated_current_a > 0),
    socket_overload_w  INTEGER CHECK (socket_overload_w IS NULL OR socket_overload_w > 0), -- each socket's default
    device_overload_w  INTEGER CHECK (device_overload_w IS NULL OR device_overload_w > 0),
    gun_power_w        INTEGER CHECK (gun_power_w IS NULL OR gun_power_w > 0),       -- each gun's rated power
    connector_type     TEXT CHECK (connector_type IS NULL OR connector_type IN ('gbt_dc', 'gbt_ac', 'ccs2', 'type2')),
    max_current_a      INTEGER CHECK (max_current_a IS NULL OR max_current_a > 0),   -- per socket / gun
    note               TEXT NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL,
    UNIQUE (kind, name)
);

-- devices: station_id becomes nullable (NULL = in stock) and the lifecycle columns are added. SQLite cannot drop a
-- NOT NULL, so the table is rebuilt with its rows (every column and index kept); on PostgreSQL this is
-- ALTER TABLE devices ALTER COLUMN station_id DROP NOT NULL plus ADD COLUMN. Every existing device is installed.
CREATE TABLE devices_new (
    id            TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 48 AND id NOT GLOB '*[^A-Za-z0-9_-]*'),
    kind          TEXT NOT NULL CHECK (kind IN ('ebike_pile', 'ev_charger', 'camera')),
    station_id    INTEGER REFERENCES stations(id),
    area_id       INTEGER REFERENCES areas(id),
    name          TEXT NOT NULL DEFAULT '',
    model         TEXT NOT NULL DEFAULT '',
    enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at    INTEGER NOT NULL,
    protocol      TEXT NOT NULL DEFAULT 'mqtt' CHECK (protocol IN ('mqtt', 'ocpp1.6')),
    factory_id    TEXT CHECK (factory_id IS NULL OR length(factory_id) BETWEEN 1 AND 64),
    sim           TEXT CHECK (sim IS NULL OR length(sim) BETWEEN 1 AND 32),
    ip            TEXT CHECK (ip IS NULL OR length(ip) BETWEEN 2 AND 45),
    lifecycle     TEXT NOT NULL DEFAULT 'installed' CHECK (lifecycle IN ('stock', 'installed', 'retired')),
    model_id      INTEGER REFERENCES device_models(id),
    produced_on   TEXT CHECK (produced_on IS NULL OR produced_on GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    installed_at  INTEGER,          -- the last install or relocation, UTC epoch ms
    retired_at    INTEGER,
    -- In stock: no station; installed: a station; retired: the station it left (or none, retired from stock).
    CHECK (lifecycle <> 'stock' OR station_id IS NULL),
    CHECK (lifecycle <> 'installed' OR station_id IS NOT NULL),
    CHECK (area_id IS NULL OR station_id IS NOT NULL),
    CHECK ((lifecycle = 'retired') = (retired_at IS NOT NULL))
);
INSERT INTO devices_new (id, kind, station_id, area_id, name, model, enabled, created_at, protocol, factory_id, sim, ip,
                         lifecycle, installed_at)
    SELECT id, kind, station_id, area_id, name, model, enabled, created_at, protocol, factory_id, sim, ip, 'installed',
           created_at FROM devices;
DROP TABLE devices;
ALTER TABLE devices_new RENAME TO devices;
CREATE INDEX devices_by_station ON devices(station_id);
CREATE INDEX devices_by_lifecycle ON devices(lifecycle, id);
CREATE INDEX devices_by_model ON devices(model_id);
