-- Tariff library (issue 14): named tariff schemes, assigned to a station, an area or a device.
-- The most specific level with a version in effect prices a socket: the device's own versions, else its
-- area's, else its station's (billing::TariffStore, docs/billing.md). Assigning a scheme copies its document
-- into a new `tariffs` version for the target, so saved versions never change and a session keeps the
-- version it started with (sessions.tariff_id).

-- One scheme of the library: a validated tariff document with a name, owned by the operator.
-- Archived schemes are kept (versions copied from them name them) but can no longer be assigned.
CREATE TABLE tariff_schemes (
    id           INTEGER PRIMARY KEY,
    operator_id  INTEGER NOT NULL REFERENCES operators(id),
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description  TEXT NOT NULL DEFAULT '',
    document     TEXT NOT NULL,     -- the validated tariff JSON (BILLING.md §1)
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    archived     INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1))
);
-- A name is unique among the operator's schemes still in use; an archived one frees its name.
CREATE UNIQUE INDEX tariff_schemes_name ON tariff_schemes(operator_id, name) WHERE archived = 0;

-- A device's own versions: device_id set (station_id is the device's station when saved, area_id NULL).
-- scheme_id: the scheme the version was copied from, NULL for a version saved directly. Removing a device
-- (only one that never charged, so no session names its versions) removes its versions.
ALTER TABLE tariffs ADD COLUMN device_id TEXT REFERENCES devices(id) ON DELETE CASCADE;
ALTER TABLE tariffs ADD COLUMN scheme_id INTEGER REFERENCES tariff_schemes(id);

-- Version numbers count per target: per station, per area, and per device (a device's versions follow it
-- when it moves to another station).
DROP INDEX tariffs_version;
CREATE UNIQUE INDEX tariffs_version ON tariffs(station_id, coalesce(area_id, 0), version) WHERE device_id IS NULL;
CREATE UNIQUE INDEX tariffs_device_version ON tariffs(device_id, version) WHERE device_id IS NOT NULL;
CREATE INDEX tariffs_by_scheme ON tariffs(scheme_id) WHERE scheme_id IS NOT NULL;
