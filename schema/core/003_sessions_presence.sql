-- Charging sessions, their transitions, device presence and faults.

CREATE TABLE sessions (
    id                   TEXT PRIMARY KEY,
    account_id           INTEGER NOT NULL REFERENCES accounts(id),
    method               TEXT NOT NULL CHECK (method IN ('app', 'card')),
    card_no              TEXT,
    device_id            TEXT NOT NULL REFERENCES devices(id),
    n                    INTEGER NOT NULL CHECK (n >= 1),
    station_id           INTEGER NOT NULL REFERENCES stations(id),
    mode                 TEXT NOT NULL CHECK (mode IN ('time', 'power', 'energy')),
    minutes              INTEGER CHECK (minutes IS NULL OR minutes > 0),   -- time mode: the chosen duration
    tariff_id            INTEGER REFERENCES tariffs(id),                    -- the version in force at the start
    state                TEXT NOT NULL CHECK (state IN ('starting', 'charging', 'stopping', 'suspended',
                                                           'settling', 'completed', 'failed')),
    stop_reason          TEXT,              -- the one reason the session ended
    stop_requested       TEXT,              -- why we asked the pile to stop (rider, auto-stop, operator)
    failure              TEXT,              -- why a start failed
    created_at           INTEGER NOT NULL,
    started_at           INTEGER,           -- pile confirmed (or its start_ts)
    ended_at             INTEGER,
    energy_wh            INTEGER NOT NULL DEFAULT 0 CHECK (energy_wh >= 0),
    duration_s           INTEGER NOT NULL DEFAULT 0 CHECK (duration_s >= 0),
    max_power_w          INTEGER NOT NULL DEFAULT 0,
    last_power_w         INTEGER NOT NULL DEFAULT 0,
    last_report_at       INTEGER,
    record_msg_id        TEXT,              -- id of the pile's session_record, once committed
    cost_fen             INTEGER CHECK (cost_fen IS NULL OR cost_fen >= 0),  -- set with the settlement only
    cmd_rid              TEXT,              -- rid of the outstanding start/stop command
    cmd_exp              INTEGER,
    updated_at           INTEGER NOT NULL
);
-- At most one live session per socket, and one app plus one card session per account.
CREATE UNIQUE INDEX sessions_one_per_socket ON sessions(device_id, n)
    WHERE state IN ('starting', 'charging', 'stopping', 'suspended', 'settling');
CREATE UNIQUE INDEX sessions_one_per_method ON sessions(account_id, method)
    WHERE state IN ('starting', 'charging', 'stopping', 'suspended', 'settling');
CREATE INDEX sessions_by_state ON sessions(state, updated_at);
CREATE INDEX sessions_by_account ON sessions(account_id, created_at);
CREATE INDEX sessions_by_station ON sessions(station_id, created_at);

-- Every transition, for the operator's timeline and for audits.
CREATE TABLE session_events (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions(id),
    at          INTEGER NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    actor       TEXT NOT NULL DEFAULT ''    -- rider, card, autostopd, operator:<name>, pile, presenced
);
CREATE INDEX session_events_by_session ON session_events(session_id, id);

-- The latest presence of each device, and the log of its transitions.
CREATE TABLE device_presence (
    device_id   TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    online      INTEGER NOT NULL CHECK (online IN (0, 1)),
    boot        INTEGER NOT NULL DEFAULT 0,
    since       INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    reason      TEXT NOT NULL DEFAULT ''
);

CREATE TABLE presence_log (
    id         INTEGER PRIMARY KEY,
    device_id  TEXT NOT NULL,
    online     INTEGER NOT NULL CHECK (online IN (0, 1)),
    boot       INTEGER NOT NULL DEFAULT 0,
    at         INTEGER NOT NULL,
    reason     TEXT NOT NULL DEFAULT ''    -- connect, shutdown, lwt, silent (3 telemetry periods)
);
CREATE INDEX presence_log_by_device ON presence_log(device_id, at);

-- Faults reported by devices, open until cleared.
CREATE TABLE fault_records (
    id          INTEGER PRIMARY KEY,
    device_id   TEXT NOT NULL,
    n           INTEGER NOT NULL DEFAULT 0,     -- 0 = the whole device
    code        TEXT NOT NULL,
    bit         INTEGER,
    opened_at   INTEGER NOT NULL,
    cleared_at  INTEGER,
    msg_id      TEXT
);
CREATE UNIQUE INDEX fault_records_one_open ON fault_records(device_id, n, code) WHERE cleared_at IS NULL;
CREATE INDEX fault_records_by_device ON fault_records(device_id, opened_at);

-- The device configuration the platform wants (cfg/desired) and what the device reported.
CREATE TABLE device_config (
    device_id         TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    desired_version   INTEGER NOT NULL DEFAULT 0,
    desired           TEXT NOT NULL DEFAULT '{}',
    reported_version  INTEGER,
    reported          TEXT,
    reported_status   TEXT,
    updated_at        INTEGER NOT NULL
);
