-- Customer service (issue 14; seeds 003 §3.6.4 接听记录, §3.6.5 故障记录, 004 故障管理): faults riders
-- report from the app, the calls the service desk takes, and the repairs field staff record.
-- Times are UTC epoch milliseconds. Each row keeps the station it happened at (a device may move
-- later), so a station-scoped operator sees its own stations' rows only.

-- A fault a rider reports on a socket (gun): open -> assigned -> resolved | rejected
-- (web-api/fault_rules.hpp is the state machine). Text and photo are the rider's; the rest is the
-- operators'.
CREATE TABLE fault_reports (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    station_id   INTEGER NOT NULL REFERENCES stations(id),
    device_id    TEXT NOT NULL REFERENCES devices(id),
    n            INTEGER NOT NULL CHECK (n >= 1),
    socket_code  TEXT NOT NULL,
    session_id   TEXT,
    category     TEXT NOT NULL CHECK (category IN ('no_power', 'cannot_start', 'cannot_stop', 'damaged', 'billing',
                                                   'other')),
    text         TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 500),
    photo_url    TEXT CHECK (photo_url IS NULL OR (length(photo_url) <= 500 AND
                                                   (photo_url LIKE 'https://%' OR photo_url LIKE 'http://%'))),
    state        TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'assigned', 'resolved', 'rejected')),
    assignee     TEXT,
    assigned_at  INTEGER,
    resolution   TEXT,
    resolved_by  TEXT,
    resolved_at  INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX fault_reports_by_account ON fault_reports(account_id, state);
CREATE INDEX fault_reports_by_station ON fault_reports(station_id, created_at);
CREATE INDEX fault_reports_by_time ON fault_reports(created_at);

-- A call the service desk took (接听记录): who called, about what, who answered.
CREATE TABLE service_calls (
    id               INTEGER PRIMARY KEY,
    caller_phone     TEXT NOT NULL CHECK (length(caller_phone) BETWEEN 3 AND 20),
    caller_name      TEXT NOT NULL DEFAULT '',
    account_id       INTEGER REFERENCES accounts(id),
    category         TEXT NOT NULL CHECK (category IN ('fault', 'billing', 'account', 'consultation', 'complaint',
                                                       'other')),
    summary          TEXT NOT NULL CHECK (length(summary) BETWEEN 1 AND 1000),
    handled_by       TEXT NOT NULL,
    station_id       INTEGER REFERENCES stations(id),
    fault_report_id  INTEGER REFERENCES fault_reports(id),
    called_at        INTEGER NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX service_calls_by_time ON service_calls(called_at);
CREATE INDEX service_calls_by_phone ON service_calls(caller_phone);

-- A repair of a device or one of its sockets (故障记录 / 维修记录): started, then finished with an outcome.
CREATE TABLE repair_records (
    id                INTEGER PRIMARY KEY,
    station_id        INTEGER NOT NULL REFERENCES stations(id),
    device_id         TEXT NOT NULL REFERENCES devices(id),
    n                 INTEGER CHECK (n IS NULL OR n >= 1),
    fault_report_id   INTEGER REFERENCES fault_reports(id),
    description       TEXT NOT NULL CHECK (length(description) BETWEEN 1 AND 1000),
    parts             TEXT NOT NULL DEFAULT '',
    technician        TEXT NOT NULL,
    technician_phone  TEXT NOT NULL DEFAULT '',
    started_at        INTEGER NOT NULL,
    finished_at       INTEGER,
    outcome           TEXT CHECK (outcome IS NULL OR outcome IN ('fixed', 'replaced', 'unrepairable',
                                                                 'no_fault_found')),
    created_by        TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    CHECK ((finished_at IS NULL) = (outcome IS NULL))
);
CREATE INDEX repair_records_by_device ON repair_records(device_id, started_at);
CREATE INDEX repair_records_by_time ON repair_records(started_at);
