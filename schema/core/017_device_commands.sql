-- pilehub: rebuilds tables (sessions, for the method `operator`; see common/db.hpp migrate)
-- The command log and commissioning (seed 004 指令列表 and 远程控制, CONTRACT G, issue 14).

-- Every command sessiond sends to a device: the session commands (start_port, stop_port,
-- start_session, stop_session, for riders, cards, operators and auto-stops) and the operator's
-- relayed commands (admin.devices.command). Written when sent, completed when the device answers or
-- the command times out. parkingd's lock commands stay in lock_commands; the API shows both lists
-- as one (a UNION in web-api/command_store.cpp).
CREATE TABLE device_commands (
    id            INTEGER PRIMARY KEY,
    device_id     TEXT NOT NULL,
    name          TEXT NOT NULL,               -- the cmd/{name} leaf
    n             INTEGER,                     -- the socket or gun, when the command has one
    rid           TEXT NOT NULL UNIQUE,        -- a resend keeps its rid (and this row)
    payload       TEXT NOT NULL DEFAULT '{}',  -- the command's data, JSON
    requested_by  TEXT NOT NULL,               -- an operator's name, rider:<account>, card:<card>, system:<worker>
    sid           TEXT,                        -- the session, for a session command
    sent_at       INTEGER NOT NULL,
    reply_status  TEXT,                        -- the device's status word (ok, rejected, busy, ...)
    reply         TEXT,                        -- the reply's code, msg and data, JSON
    replied_at    INTEGER,
    latency_ms    INTEGER CHECK (latency_ms IS NULL OR latency_ms >= 0),
    outcome       TEXT CHECK (outcome IS NULL OR outcome IN ('ok', 'rejected', 'failed', 'timeout', 'expired',
                                                             'unsupported', 'invalid', 'busy'))
);
CREATE INDEX device_commands_by_device ON device_commands(device_id, sent_at);
CREATE INDEX device_commands_by_time ON device_commands(sent_at);

-- Commissioning (seed 004 远程控制): an operator starts a socket for a set time, free. Such a
-- session has the method `operator`, no rider account (account_id NULL) and the operator's name.
-- SQLite cannot alter a CHECK or a NOT NULL, so sessions is rebuilt with its rows; on PostgreSQL this
-- is ALTER TABLE sessions DROP/ADD CONSTRAINT and ALTER COLUMN account_id DROP NOT NULL.
CREATE TABLE sessions_new (
    id                   TEXT PRIMARY KEY,
    account_id           INTEGER REFERENCES accounts(id),
    method               TEXT NOT NULL CHECK (method IN ('app', 'card', 'operator')),
    card_no              TEXT,
    device_id            TEXT NOT NULL REFERENCES devices(id),
    n                    INTEGER NOT NULL CHECK (n >= 1),
    station_id           INTEGER NOT NULL REFERENCES stations(id),
    mode                 TEXT NOT NULL CHECK (mode IN ('time', 'power', 'energy')),
    minutes              INTEGER CHECK (minutes IS NULL OR minutes > 0),
    tariff_id            INTEGER REFERENCES tariffs(id),
    state                TEXT NOT NULL CHECK (state IN ('starting', 'charging', 'stopping', 'suspended',
                                                           'settling', 'completed', 'failed')),
    stop_reason          TEXT,
    stop_requested       TEXT,
    failure              TEXT,
    created_at           INTEGER NOT NULL,
    started_at           INTEGER,
    ended_at             INTEGER,
    energy_wh            INTEGER NOT NULL DEFAULT 0 CHECK (energy_wh >= 0),
    duration_s           INTEGER NOT NULL DEFAULT 0 CHECK (duration_s >= 0),
    max_power_w          INTEGER NOT NULL DEFAULT 0,
    last_power_w         INTEGER NOT NULL DEFAULT 0,
    last_report_at       INTEGER,
    record_msg_id        TEXT,
    cost_fen             INTEGER CHECK (cost_fen IS NULL OR cost_fen >= 0),
    cmd_rid              TEXT,
    cmd_exp              INTEGER,
    updated_at           INTEGER NOT NULL,
    stop_requested_at    INTEGER,
    max_fen              INTEGER CHECK (max_fen IS NULL OR max_fen > 0),
    meter_start_wh       INTEGER CHECK (meter_start_wh IS NULL OR meter_start_wh >= 0),
    meter_stop_wh        INTEGER CHECK (meter_stop_wh IS NULL OR meter_stop_wh >= 0),
    soc_pct              INTEGER CHECK (soc_pct IS NULL OR soc_pct BETWEEN 0 AND 100),
    operator_name        TEXT,              -- method operator: who started it (commissioning)
    CHECK ((method = 'operator') = (account_id IS NULL)),
    CHECK ((method = 'operator') = (operator_name IS NOT NULL))
);
INSERT INTO sessions_new (id, account_id, method, card_no, device_id, n, station_id, mode, minutes, tariff_id, state,
                          stop_reason, stop_requested, failure, created_at, started_at, ended_at, energy_wh,
                          duration_s, max_power_w, last_power_w, last_report_at, record_msg_id, cost_fen, cmd_rid,
                          cmd_exp, updated_at, stop_requested_at, max_fen, meter_start_wh, meter_stop_wh, soc_pct)
    SELECT id, account_id, method, card_no, device_id, n, station_id, mode, minutes, tariff_id, state,
           stop_reason, stop_requested, failure, created_at, started_at, ended_at, energy_wh,
           duration_s, max_power_w, last_power_w, last_report_at, record_msg_id, cost_fen, cmd_rid,
           cmd_exp, updated_at, stop_requested_at, max_fen, meter_start_wh, meter_stop_wh, soc_pct FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE UNIQUE INDEX sessions_one_per_socket ON sessions(device_id, n)
    WHERE state IN ('starting', 'charging', 'stopping', 'suspended', 'settling');
CREATE UNIQUE INDEX sessions_one_per_method ON sessions(account_id, method)
    WHERE state IN ('starting', 'charging', 'stopping', 'suspended', 'settling');
CREATE INDEX sessions_by_state ON sessions(state, updated_at);
CREATE INDEX sessions_by_account ON sessions(account_id, created_at);
CREATE INDEX sessions_by_station ON sessions(station_id, created_at);
