-- Sessions under faults: when the platform first asked a pile to stop (the bill ends there, not when
-- the pile finally obeyed), and the incidents operators must see (a session settled by a time-out
-- because its pile never came back or came back without its record, a device record clamped to
-- what the platform saw). Times are UTC epoch milliseconds.

-- When the platform first asked the pile to stop this session (rider, operator, auto-stop), on the
-- platform's clock; set once, with stop_requested.
ALTER TABLE sessions ADD COLUMN stop_requested_at INTEGER;

-- Something went wrong that an operator should look at. Written by the process that noticed it, in
-- the transaction of its effect. kind: suspend_timeout (a suspended session settled on its last
-- report), record_overdue (the pile shows the socket idle but never sent the record), record_clamped
-- (a session record beyond platform time or rated power, clamped).
CREATE TABLE incidents (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    device_id   TEXT NOT NULL DEFAULT '',
    session_id  TEXT,
    detail      TEXT NOT NULL DEFAULT '',
    at          INTEGER NOT NULL
);
CREATE INDEX incidents_by_time ON incidents(at);
CREATE INDEX incidents_by_session ON incidents(session_id);
CREATE INDEX incidents_by_device ON incidents(device_id, at);
