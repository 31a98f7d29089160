-- pilehub: rebuilds tables (the ledger, for its new kind; see common/db.hpp migrate)
-- Parking (CONTRACT E, issue 12): spaces watched by cameras, plates, the whitelist, reservations,
-- occupancies and their fees, captures, lock commands and lock faults. parkingd owns every row
-- below except the configuration an operator or rider writes through the API (space settings,
-- plates and their certification, the whitelist, a reservation's creation and cancellation).
-- Times are UTC epoch milliseconds, money integer fen. Plates are stored normalised
-- (common/parking.hpp normalise_plate: upper case, without spaces or separators).

-- A space may serve one EV gun (`<charger id>-<n>`): its charging time is not billed as parking,
-- and while the space is reserved the gun is offered to nobody else.
ALTER TABLE spaces ADD COLUMN ev_gun TEXT CHECK (ev_gun IS NULL OR length(ev_gun) BETWEEN 3 AND 64);

-- A rider's plates. A plate belongs to one account at most; an operator certifies it (车主认证)
-- before it may reserve.
CREATE TABLE plates (
    plate         TEXT PRIMARY KEY CHECK (length(plate) BETWEEN 2 AND 32),
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    color         TEXT NOT NULL CHECK (color IN ('blue', 'yellow', 'green', 'white', 'black', 'yellow_green')),
    certified     INTEGER NOT NULL DEFAULT 0 CHECK (certified IN (0, 1)),
    certified_by  TEXT,
    certified_at  INTEGER,
    created_at    INTEGER NOT NULL
);
CREATE INDEX plates_by_account ON plates(account_id);

-- Plates a station lets park for free (白名单), each entry switchable.
CREATE TABLE parking_whitelist (
    id          INTEGER PRIMARY KEY,
    station_id  INTEGER NOT NULL REFERENCES stations(id),
    plate       TEXT NOT NULL CHECK (length(plate) BETWEEN 2 AND 32),
    note        TEXT NOT NULL DEFAULT '',
    enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    UNIQUE (station_id, plate)
);

-- Reservations: reserved -> occupying -> completed; cancelled; timed_out. One active per account
-- and per space.
CREATE TABLE reservations (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    station_id    INTEGER NOT NULL REFERENCES stations(id),
    camera_id     TEXT NOT NULL REFERENCES devices(id),
    space         INTEGER NOT NULL CHECK (space BETWEEN 1 AND 16),
    plate         TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('reserved', 'occupying', 'completed', 'cancelled', 'timed_out')),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    arrived_at    INTEGER,
    ended_at      INTEGER,
    ended_by      TEXT,               -- rider, parkingd, or the operator's user name
    occupancy_id  INTEGER
);
CREATE UNIQUE INDEX reservations_one_active_per_account ON reservations(account_id)
    WHERE state IN ('reserved', 'occupying');
CREATE UNIQUE INDEX reservations_one_active_per_space ON reservations(camera_id, space)
    WHERE state IN ('reserved', 'occupying');
CREATE INDEX reservations_by_station ON reservations(station_id, created_at);

-- One stay of a car on a space, from arrival to departure, and its fee. `open` while the car is
-- there; then `paid` (debited once, ledger key park:<id>), `unpaid` (owed_fen to collect: no
-- account held the plate, or its wallet could not cover the fee) or `free` (nothing to pay).
CREATE TABLE occupancies (
    id              INTEGER PRIMARY KEY,
    station_id      INTEGER NOT NULL REFERENCES stations(id),
    camera_id       TEXT NOT NULL REFERENCES devices(id),
    space           INTEGER NOT NULL CHECK (space BETWEEN 1 AND 16),
    plate           TEXT,                 -- normalised; NULL while no plate was read
    color           TEXT,
    ev_gun          TEXT,                 -- the space's gun at arrival
    reservation_id  INTEGER,
    whitelisted     INTEGER NOT NULL DEFAULT 0 CHECK (whitelisted IN (0, 1)),
    arrived_at      INTEGER NOT NULL,
    left_at         INTEGER,
    duration_s      INTEGER CHECK (duration_s IS NULL OR duration_s >= 0),
    charging_s      INTEGER CHECK (charging_s IS NULL OR charging_s >= 0),
    billable_s      INTEGER CHECK (billable_s IS NULL OR billable_s >= 0),
    fee_fen         INTEGER CHECK (fee_fen IS NULL OR fee_fen >= 0),
    owed_fen        INTEGER NOT NULL DEFAULT 0 CHECK (owed_fen >= 0),
    account_id      INTEGER REFERENCES accounts(id),  -- who paid
    ledger_id       INTEGER REFERENCES ledger(id),
    paid_at         INTEGER,
    state           TEXT NOT NULL CHECK (state IN ('open', 'paid', 'unpaid', 'free')),
    tariff_id       INTEGER REFERENCES tariffs(id)
);
CREATE UNIQUE INDEX occupancies_one_open_per_space ON occupancies(camera_id, space) WHERE state = 'open';
CREATE INDEX occupancies_by_station ON occupancies(station_id, arrived_at);
CREATE INDEX occupancies_unpaid_by_plate ON occupancies(plate) WHERE state = 'unpaid';

-- Every lock decision at an arrival, allowed or refused, with the capture that showed the plate.
CREATE TABLE parking_decisions (
    id            INTEGER PRIMARY KEY,
    station_id    INTEGER NOT NULL REFERENCES stations(id),
    camera_id     TEXT NOT NULL,
    space         INTEGER NOT NULL,
    plate         TEXT,
    color         TEXT,
    allowed       INTEGER NOT NULL CHECK (allowed IN (0, 1)),
    reason        TEXT NOT NULL,       -- whitelist, reservation, nev, no_lock; not_nev, reserved_for_other, no_plate
    capture_id    INTEGER,
    occupancy_id  INTEGER,
    at            INTEGER NOT NULL
);
CREATE INDEX parking_decisions_by_station ON parking_decisions(station_id, at);

-- Plate reads with an image, and snapshots (抓拍记录).
CREATE TABLE captures (
    id          INTEGER PRIMARY KEY,
    station_id  INTEGER NOT NULL REFERENCES stations(id),
    camera_id   TEXT NOT NULL,
    space       INTEGER NOT NULL CHECK (space BETWEEN 0 AND 16),
    source      TEXT NOT NULL CHECK (source IN ('plate', 'snapshot')),
    plate       TEXT,
    color       TEXT,
    direction   TEXT CHECK (direction IS NULL OR direction IN ('in', 'out')),
    confidence  INTEGER,
    image_url   TEXT NOT NULL,
    at          INTEGER NOT NULL,
    msg_id      TEXT                    -- the evt/plate id (NULL for snapshots)
);
CREATE INDEX captures_by_station ON captures(station_id, at);
CREATE INDEX captures_by_camera ON captures(camera_id, at);
CREATE INDEX captures_by_plate ON captures(plate, at);

-- parkingd's view of every space: what the camera last said, and what parkingd wants of the lock.
CREATE TABLE space_states (
    camera_id     TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    space         INTEGER NOT NULL CHECK (space BETWEEN 1 AND 16),
    occupied      INTEGER NOT NULL DEFAULT 0 CHECK (occupied IN (0, 1)),
    plate         TEXT,
    lock_st       TEXT NOT NULL DEFAULT 'unknown'
                  CHECK (lock_st IN ('raised', 'lowered', 'moving', 'fault', 'unknown')),
    lock_alarm    INTEGER NOT NULL DEFAULT 0 CHECK (lock_alarm IN (0, 1)),
    raise_due_at  INTEGER,              -- departure + raise_delay_s: when the lock goes up again
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (camera_id, space)
);

-- Lock commands (cmd/lock). A command is re-sent with the same rid and a fresh exp until the
-- camera answers finally or the command is superseded by a newer one for the space.
CREATE TABLE lock_commands (
    rid           TEXT PRIMARY KEY,
    camera_id     TEXT NOT NULL,
    space         INTEGER NOT NULL CHECK (space BETWEEN 1 AND 16),
    action        TEXT NOT NULL CHECK (action IN ('raise', 'lower')),
    cause         TEXT NOT NULL,        -- arrival, departure, reservation, sync, operator
    requested_by  TEXT NOT NULL DEFAULT 'parkingd',
    state         TEXT NOT NULL CHECK (state IN ('pending', 'ok', 'failed', 'superseded')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    sent_at       INTEGER,
    done_at       INTEGER,
    result_st     TEXT,
    code          TEXT,
    msg           TEXT
);
CREATE UNIQUE INDEX lock_commands_one_pending_per_space ON lock_commands(camera_id, space) WHERE state = 'pending';
CREATE INDEX lock_commands_by_camera ON lock_commands(camera_id, created_at);

-- A lock that failed to move or raised its alarm: open until the lock is seen healthy again.
CREATE TABLE lock_faults (
    id          INTEGER PRIMARY KEY,
    camera_id   TEXT NOT NULL,
    space       INTEGER NOT NULL,
    cause       TEXT NOT NULL,          -- command_failed, alarm
    detail      TEXT NOT NULL DEFAULT '',
    opened_at   INTEGER NOT NULL,
    closed_at   INTEGER
);
CREATE UNIQUE INDEX lock_faults_one_open_per_space ON lock_faults(camera_id, space) WHERE closed_at IS NULL;

-- The ledger gains the kind `parking` (BILLING §5). SQLite cannot alter a CHECK constraint, so the
-- table is rebuilt with its rows; on PostgreSQL this is ALTER TABLE ledger DROP/ADD CONSTRAINT.
CREATE TABLE ledger_new (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts(id),
    kind             TEXT NOT NULL CHECK (kind IN ('recharge', 'bonus', 'charge', 'refund', 'adjust', 'card_fee',
                                                   'parking')),
    real_fen         INTEGER NOT NULL,
    bonus_fen        INTEGER NOT NULL,
    real_after       INTEGER NOT NULL CHECK (real_after >= 0),
    bonus_after      INTEGER NOT NULL CHECK (bonus_after >= 0),
    ref              TEXT NOT NULL DEFAULT '',
    operator         TEXT NOT NULL DEFAULT '',
    note             TEXT NOT NULL DEFAULT '',
    at               INTEGER NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE
);
INSERT INTO ledger_new (id, account_id, kind, real_fen, bonus_fen, real_after, bonus_after, ref, operator, note, at,
                        idempotency_key)
    SELECT id, account_id, kind, real_fen, bonus_fen, real_after, bonus_after, ref, operator, note, at,
           idempotency_key FROM ledger;
DROP TABLE ledger;
ALTER TABLE ledger_new RENAME TO ledger;
CREATE INDEX ledger_by_account ON ledger(account_id, id);
CREATE INDEX ledger_by_time ON ledger(at);
