-- OTA (CONTRACT G, issue 14): firmware images, rollouts batch by batch, each device's place in a
-- rollout, and the firmware each device last reported. The API writes firmware, rollouts (creation,
-- halt) and their device list; otad owns every state change after that. Times are UTC epoch ms.

-- An uploaded image, stored as <data_dir>/firmware/<sha256>; one per (kind, model, version).
CREATE TABLE firmware (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('ebike_pile', 'ev_charger', 'camera')),
    model        TEXT NOT NULL DEFAULT '' CHECK (length(model) <= 64),
    version      TEXT NOT NULL CHECK (length(version) BETWEEN 1 AND 64),
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
    size         INTEGER NOT NULL CHECK (size > 0),
    path         TEXT NOT NULL,
    uploaded_by  TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    UNIQUE (kind, model, version)
);

-- A rollout of one image: running until every device is installed, failed or skipped (completed),
-- or halted (past max_failures, or by an operator). Devices download with a per-rollout token
-- (only its SHA-256 is kept), valid while the rollout runs and until token_expires_at.
CREATE TABLE rollouts (
    id                INTEGER PRIMARY KEY,
    firmware_id       INTEGER NOT NULL REFERENCES firmware(id),
    target            TEXT NOT NULL DEFAULT '',
    batch_size        INTEGER NOT NULL CHECK (batch_size >= 1),
    batch_interval_s  INTEGER NOT NULL CHECK (batch_interval_s >= 0),
    max_failures      INTEGER NOT NULL CHECK (max_failures >= 0),
    timeout_s         INTEGER NOT NULL CHECK (timeout_s >= 1),
    token_hash        TEXT NOT NULL,
    token_expires_at  INTEGER NOT NULL,
    state             TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'halted', 'completed')),
    failures          INTEGER NOT NULL DEFAULT 0,
    halt_reason       TEXT NOT NULL DEFAULT '',
    created_by        TEXT NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    finished_at       INTEGER
);
CREATE INDEX rollouts_by_state ON rollouts(state);

-- One device of a rollout. `batch` is the batch (1, 2, ...) it was sent in: batches are formed when
-- they are sent, from pending devices that are online and idle (a busy device waits for a later one).
CREATE TABLE rollout_devices (
    rollout_id    INTEGER NOT NULL REFERENCES rollouts(id),
    device_id     TEXT NOT NULL REFERENCES devices(id),
    batch         INTEGER CHECK (batch IS NULL OR batch >= 1),
    state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'downloading', 'installing',
                                                                    'installed', 'failed', 'skipped')),
    rid           TEXT,
    sent_at       INTEGER,
    updated_at    INTEGER NOT NULL,
    progress_pct  INTEGER,
    error         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (rollout_id, device_id)
);
CREATE INDEX rollout_devices_by_device ON rollout_devices(device_id);

-- The firmware version each device last reported (presence `fw`, info `firmware`).
CREATE TABLE device_firmware (
    device_id    TEXT PRIMARY KEY REFERENCES devices(id),
    version      TEXT NOT NULL,
    reported_at  INTEGER NOT NULL
);
