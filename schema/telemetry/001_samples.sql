-- The telemetry database: power curves and the device event log. Written in batches by
-- recorderd; a separate file so its volume never blocks a wallet write.

-- One row per socket/gun per report while a session runs: the session's power curve.
CREATE TABLE session_samples (
    session_id  TEXT NOT NULL,
    t           INTEGER NOT NULL,            -- epoch ms (device ts, or receive time when the device has no clock)
    power_w     INTEGER NOT NULL CHECK (power_w >= 0),
    energy_wh   INTEGER NOT NULL CHECK (energy_wh >= 0),   -- cumulative session energy
    voltage_dv  INTEGER,                     -- decivolts
    current_ma  INTEGER,
    soc_pct     INTEGER,
    PRIMARY KEY (session_id, t)
) WITHOUT ROWID;

-- Device-level readings (temperature, total power) for the operator's device view.
CREATE TABLE device_samples (
    device_id      TEXT NOT NULL,
    t              INTEGER NOT NULL,
    temp_dc        INTEGER,                  -- deci-degrees Celsius
    total_power_w  INTEGER,
    rssi_dbm       INTEGER,
    PRIMARY KEY (device_id, t)
) WITHOUT ROWID;

-- Every event a device sent (evt/*), de-duplicated on its message id.
CREATE TABLE device_events (
    device_id  TEXT NOT NULL,
    msg_id     TEXT NOT NULL,
    type       TEXT NOT NULL,
    at         INTEGER NOT NULL,
    payload    TEXT NOT NULL,
    PRIMARY KEY (device_id, msg_id)
) WITHOUT ROWID;
CREATE INDEX device_events_by_time ON device_events(device_id, at);
