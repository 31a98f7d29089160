-- The HTTP API's own rows: bearer tokens, SMS login codes, login throttling, roles and
-- permissions, operators' station scopes, the audit log, and the operator hierarchy above
-- stations (provider → property → station). Times are UTC epoch milliseconds.

-- Bearer tokens, stored as the SHA-256 of the token (hex); the token itself is shown once.
CREATE TABLE auth_tokens (
    token_hash   TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('rider', 'admin')),
    subject_id   INTEGER NOT NULL,               -- accounts.id or admins.id
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_used_at INTEGER
);
CREATE INDEX auth_tokens_by_subject ON auth_tokens(kind, subject_id);
CREATE INDEX auth_tokens_by_expiry ON auth_tokens(expires_at);

-- SMS login codes (hashed with the phone number). A code allows a few tries and expires.
CREATE TABLE sms_codes (
    id           INTEGER PRIMARY KEY,
    phone        TEXT NOT NULL,
    code_hash    TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    tries        INTEGER NOT NULL DEFAULT 0,
    consumed_at  INTEGER,
    ip           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sms_codes_by_phone ON sms_codes(phone, created_at);
CREATE INDEX sms_codes_by_ip ON sms_codes(ip, created_at);

-- Failed operator logins, per user name and per client address, for throttling.
CREATE TABLE login_failures (
    id        INTEGER PRIMARY KEY,
    username  TEXT NOT NULL,
    ip        TEXT NOT NULL DEFAULT '',
    at        INTEGER NOT NULL
);
CREATE INDEX login_failures_by_user ON login_failures(username, at);
CREATE INDEX login_failures_by_ip ON login_failures(ip, at);

-- Roles and their permissions (admins.role names a role). Built-in roles are seeded by the API.
CREATE TABLE roles (
    name         TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
    description  TEXT NOT NULL DEFAULT '',
    builtin      INTEGER NOT NULL DEFAULT 0 CHECK (builtin IN (0, 1)),
    created_at   INTEGER NOT NULL
);
CREATE TABLE role_permissions (
    role        TEXT NOT NULL REFERENCES roles(name) ON DELETE CASCADE,
    permission  TEXT NOT NULL,
    PRIMARY KEY (role, permission)
) WITHOUT ROWID;

-- The operator hierarchy above stations: a service provider has properties (the owners of
-- sites), a property has stations.
CREATE TABLE providers (
    id           INTEGER PRIMARY KEY,
    operator_id  INTEGER NOT NULL REFERENCES operators(id),
    name         TEXT NOT NULL,
    contact      TEXT NOT NULL DEFAULT '',
    phone        TEXT NOT NULL DEFAULT '',
    enabled      INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at   INTEGER NOT NULL,
    UNIQUE (operator_id, name)
);
CREATE TABLE properties (
    id           INTEGER PRIMARY KEY,
    provider_id  INTEGER NOT NULL REFERENCES providers(id),
    name         TEXT NOT NULL,
    contact      TEXT NOT NULL DEFAULT '',
    phone        TEXT NOT NULL DEFAULT '',
    address      TEXT NOT NULL DEFAULT '',
    enabled      INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at   INTEGER NOT NULL,
    UNIQUE (provider_id, name)
);
ALTER TABLE stations ADD COLUMN property_id INTEGER REFERENCES properties(id);
CREATE INDEX stations_by_property ON stations(property_id);

-- Where an account was opened by staff (NULL: the rider registered in the app), and where a
-- card was issued: what a station-scoped operator may see of them.
ALTER TABLE accounts ADD COLUMN home_station_id INTEGER REFERENCES stations(id);
ALTER TABLE cards ADD COLUMN station_id INTEGER REFERENCES stations(id);

-- Which stations an operator's staff member manages. all_stations = 1: every station of the
-- installation; otherwise the union of the stations under the listed providers, properties and
-- stations. An admin without a row (created by pilehubctl) is unscoped.
CREATE TABLE admin_access (
    admin_id      INTEGER PRIMARY KEY REFERENCES admins(id) ON DELETE CASCADE,
    all_stations  INTEGER NOT NULL DEFAULT 0 CHECK (all_stations IN (0, 1)),
    display_name  TEXT NOT NULL DEFAULT '',
    updated_at    INTEGER NOT NULL
);
CREATE TABLE admin_scopes (
    admin_id  INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL CHECK (kind IN ('provider', 'property', 'station')),
    ref_id    INTEGER NOT NULL,
    PRIMARY KEY (admin_id, kind, ref_id)
) WITHOUT ROWID;

-- One row per operator action that changed data (or logged in).
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    admin_id     INTEGER,
    username     TEXT NOT NULL DEFAULT '',
    action       TEXT NOT NULL,          -- the route's operation id, e.g. admin.users.freeze
    method       TEXT NOT NULL DEFAULT '',
    path         TEXT NOT NULL DEFAULT '',
    target       TEXT NOT NULL DEFAULT '',  -- the path parameters, e.g. id=17
    status       INTEGER NOT NULL DEFAULT 0,
    detail       TEXT NOT NULL DEFAULT '{}', -- the request body without secrets
    ip           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_by_time ON audit_log(at);
CREATE INDEX audit_log_by_admin ON audit_log(admin_id, at);
