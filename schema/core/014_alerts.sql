-- Alerts (CONTRACT G, issue 14): what alertd raised, who acknowledged and resolved it, and the
-- webhook outbox that delivers each opened alert (workers/alertd/README.md).

-- One row per alert. At most one current (open or acknowledged) alert per dedup key
-- (`<kind>:<device>:<n>` or `<kind>:<subject>`, common/alerts.hpp): while the condition persists its
-- repeats only refresh last_seen, also after an operator acknowledged it.
CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    device_id    TEXT,                       -- NULL: not a device's (a payment order)
    n            INTEGER NOT NULL DEFAULT 0, -- socket, gun or space; 0: the device itself
    subject      TEXT NOT NULL DEFAULT '',   -- what exactly: a space id, a session id, an order id
    dedup_key    TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'resolved')),
    severity     TEXT NOT NULL CHECK (severity IN ('critical', 'major', 'minor')),
    detail       TEXT NOT NULL DEFAULT '',
    opened_at    INTEGER NOT NULL,
    acked_by     TEXT,
    acked_at     INTEGER,
    resolved_by  TEXT,                       -- an operator's name, or 'system' when the condition cleared
    resolved_at  INTEGER,
    last_seen    INTEGER NOT NULL
);
CREATE UNIQUE INDEX alerts_one_current ON alerts(dedup_key) WHERE state IN ('open', 'acknowledged');
CREATE INDEX alerts_by_state ON alerts(state, opened_at);
CREATE INDEX alerts_by_device ON alerts(device_id, opened_at);

-- The webhook outbox: one row per alert event to deliver to `alert.webhook_url`, retried with
-- exponential back-off until a 2xx answer (delivered_at set). Written in the transaction that
-- opens the alert, so a crash never loses one.
CREATE TABLE alert_deliveries (
    id            INTEGER PRIMARY KEY,
    alert_id      INTEGER NOT NULL REFERENCES alerts(id),
    event         TEXT NOT NULL CHECK (event IN ('opened', 'acked', 'resolved')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       INTEGER NOT NULL,
    delivered_at  INTEGER,
    last_error    TEXT NOT NULL DEFAULT '',
    UNIQUE (alert_id, event)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries(next_at) WHERE delivered_at IS NULL;
