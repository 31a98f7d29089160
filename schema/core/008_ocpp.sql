-- OCPP 1.6-J chargers behind the gateway pilehub-ocpp (CONTRACT D.2, issue 11). Times are UTC epoch
-- milliseconds, energy Wh.

-- How a device talks to the platform: `mqtt` (CONTRACT A, every device so far) or `ocpp1.6` (an
-- ev_charger reaching the same topics through the gateway).
ALTER TABLE devices ADD COLUMN protocol TEXT NOT NULL DEFAULT 'mqtt' CHECK (protocol IN ('mqtt', 'ocpp1.6'));

-- The key an OCPP charger presents as its HTTP Basic password (security profiles 1 and 2), issued
-- at registration and on rotation, stored only as a `$7$` PBKDF2-SHA512 hash (common/broker_auth).
CREATE TABLE ocpp_credentials (
    device_id   TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    key_hash    TEXT NOT NULL,
    issued_at   INTEGER NOT NULL
);

-- What the gateway keeps per charger: the MQTT connect counter (`boot` of the charger's messages,
-- one more per WebSocket connection) and what the charger said at its last BootNotification.
CREATE TABLE ocpp_chargers (
    device_id     TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    boot          INTEGER NOT NULL DEFAULT 0 CHECK (boot >= 0),
    vendor        TEXT,
    model         TEXT,
    serial        TEXT,
    firmware      TEXT,
    connected_at  INTEGER,
    booted_at     INTEGER
);

-- OCPP transactions: the integer transactionId the gateway hands a charger in its
-- StartTransaction.conf, mapped to the platform's session id. A StartTransaction the charger repeats
-- (its conf was lost) finds its row by `start_key` and gets the same transactionId; a
-- StopTransaction, however late, finds the session here. The stop is kept until sessiond has
-- acknowledged the session record (`record_acked_at`), so a gateway restart resends it.
CREATE TABLE ocpp_transactions (
    transaction_id  INTEGER PRIMARY KEY CHECK (transaction_id > 0),
    device_id       TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    connector       INTEGER NOT NULL CHECK (connector BETWEEN 1 AND 16),
    start_key       TEXT NOT NULL,
    id_tag          TEXT NOT NULL,
    meter_start_wh  INTEGER NOT NULL CHECK (meter_start_wh >= 0),
    start_ts        INTEGER NOT NULL,
    sid             TEXT,
    accepted        INTEGER NOT NULL DEFAULT 0 CHECK (accepted IN (0, 1)),
    meter_stop_wh   INTEGER CHECK (meter_stop_wh IS NULL OR meter_stop_wh >= 0),
    stop_ts         INTEGER,
    stop_reason     TEXT,
    record_acked_at INTEGER,
    created_at      INTEGER NOT NULL,
    UNIQUE (device_id, start_key)
);
CREATE INDEX ocpp_transactions_by_sid ON ocpp_transactions(sid);
CREATE INDEX ocpp_transactions_unacked ON ocpp_transactions(device_id)
    WHERE stop_ts IS NOT NULL AND record_acked_at IS NULL;
