-- The health route's write probe (issue 16, REVIEW-reliability §2.13): `GET /api/v1/health` updates this one
-- row in a short transaction, so a database that can still be read but no longer written (disk full, held
-- locked, read-only) turns the health check non-ok. `SELECT 1` alone succeeded in all those cases.
CREATE TABLE health_probe (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    probed_at   INTEGER NOT NULL,            -- ms since the epoch, the last successful probe
    probes      INTEGER NOT NULL DEFAULT 0   -- how many probes wrote it
);
