-- The registry: who operates what, where, and how devices authenticate.
-- Times are UTC epoch milliseconds; coordinates are integer micro-degrees.

CREATE TABLE operators (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE admins (
    id             INTEGER PRIMARY KEY,
    operator_id    INTEGER REFERENCES operators(id),
    username       TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,            -- Argon2id encoded string
    role           TEXT NOT NULL DEFAULT 'admin',
    enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at     INTEGER NOT NULL
);

CREATE TABLE stations (
    id           INTEGER PRIMARY KEY,
    operator_id  INTEGER NOT NULL REFERENCES operators(id),
    name         TEXT NOT NULL,
    address      TEXT NOT NULL DEFAULT '',
    lat_e6       INTEGER NOT NULL CHECK (lat_e6 BETWEEN -90000000 AND 90000000),
    lon_e6       INTEGER NOT NULL CHECK (lon_e6 BETWEEN -180000000 AND 180000000),
    open_hours   TEXT NOT NULL DEFAULT '00:00-24:00',
    timezone     TEXT NOT NULL DEFAULT 'Asia/Shanghai',
    enabled      INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at   INTEGER NOT NULL,
    UNIQUE (operator_id, name)
);
CREATE INDEX stations_by_lat ON stations(lat_e6);

CREATE TABLE areas (
    id          INTEGER PRIMARY KEY,
    station_id  INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at  INTEGER NOT NULL,
    UNIQUE (station_id, name)
);

CREATE TABLE devices (
    id          TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 48 AND id NOT GLOB '*[^A-Za-z0-9_-]*'),
    kind        TEXT NOT NULL CHECK (kind IN ('ebike_pile', 'ev_charger', 'camera')),
    station_id  INTEGER NOT NULL REFERENCES stations(id),
    area_id     INTEGER REFERENCES areas(id),
    name        TEXT NOT NULL DEFAULT '',
    model       TEXT NOT NULL DEFAULT '',
    enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at  INTEGER NOT NULL
);
CREATE INDEX devices_by_station ON devices(station_id);

-- Sockets of e-bike piles.
CREATE TABLE sockets (
    device_id          TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    n                  INTEGER NOT NULL CHECK (n BETWEEN 1 AND 64),
    enabled            INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    socket_overload_w  INTEGER CHECK (socket_overload_w IS NULL OR socket_overload_w > 0), -- override, e.g. 3500
    PRIMARY KEY (device_id, n)
) WITHOUT ROWID;

-- Guns of EV chargers.
CREATE TABLE guns (
    device_id     TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    n             INTEGER NOT NULL CHECK (n BETWEEN 1 AND 16),
    enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    max_power_w   INTEGER NOT NULL DEFAULT 7000 CHECK (max_power_w > 0),
    current_type  TEXT NOT NULL DEFAULT 'ac' CHECK (current_type IN ('ac', 'dc')),
    PRIMARY KEY (device_id, n)
) WITHOUT ROWID;

-- Parking spaces watched by cameras, each with its ground lock.
CREATE TABLE spaces (
    device_id   TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    n           INTEGER NOT NULL CHECK (n BETWEEN 1 AND 16),
    enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    label       TEXT NOT NULL DEFAULT '',
    has_lock    INTEGER NOT NULL DEFAULT 1 CHECK (has_lock IN (0, 1)),
    PRIMARY KEY (device_id, n)
) WITHOUT ROWID;

-- MQTT credentials of devices: the broker's PBKDF2-SHA512 hash, never the secret.
CREATE TABLE device_credentials (
    device_id      TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    password_hash  TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    rotated_at     INTEGER
);

-- MQTT credentials of our own processes (svc.sessiond, svc.monitor, ...).
CREATE TABLE service_credentials (
    username       TEXT PRIMARY KEY CHECK (username GLOB 'svc.*'),
    password_hash  TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);

-- De-duplication of device messages: a consumer records each (device, message id) it has
-- handled in the same transaction as the effect; a duplicate changes nothing.
CREATE TABLE processed_messages (
    consumer      TEXT NOT NULL,
    device_id     TEXT NOT NULL,
    msg_id        TEXT NOT NULL,
    processed_at  INTEGER NOT NULL,
    PRIMARY KEY (consumer, device_id, msg_id)
) WITHOUT ROWID;
CREATE INDEX processed_messages_by_time ON processed_messages(processed_at);
