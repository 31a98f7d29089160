-- Riders' accounts, wallets, the ledger, IC cards, recharge packages, payments, tariffs.
-- Money is integer fen. Every change of a wallet is one ledger row with an idempotency key,
-- written in the same transaction as the wallet update (BILLING.md §4).

CREATE TABLE accounts (
    id           INTEGER PRIMARY KEY,
    operator_id  INTEGER REFERENCES operators(id),
    phone        TEXT NOT NULL UNIQUE CHECK (length(phone) BETWEEN 5 AND 20),
    name         TEXT NOT NULL DEFAULT '',
    frozen       INTEGER NOT NULL DEFAULT 0 CHECK (frozen IN (0, 1)),
    -- Which balance a session is debited from first (BILLING.md §4: real first unless set).
    debit_order  TEXT NOT NULL DEFAULT 'real_first' CHECK (debit_order IN ('real_first', 'bonus_first')),
    created_at   INTEGER NOT NULL
);

CREATE TABLE wallets (
    account_id   INTEGER PRIMARY KEY REFERENCES accounts(id),
    balance_fen  INTEGER NOT NULL DEFAULT 0 CHECK (balance_fen >= 0),  -- real money
    bonus_fen    INTEGER NOT NULL DEFAULT 0 CHECK (bonus_fen >= 0),    -- given by packages
    updated_at   INTEGER NOT NULL
);

CREATE TABLE ledger (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts(id),
    kind             TEXT NOT NULL CHECK (kind IN ('recharge', 'bonus', 'charge', 'refund', 'adjust', 'card_fee')),
    real_fen         INTEGER NOT NULL,   -- signed change of balance_fen
    bonus_fen        INTEGER NOT NULL,   -- signed change of bonus_fen
    real_after       INTEGER NOT NULL CHECK (real_after >= 0),
    bonus_after      INTEGER NOT NULL CHECK (bonus_after >= 0),
    ref              TEXT NOT NULL DEFAULT '',   -- payment, session or refund id
    operator         TEXT NOT NULL DEFAULT '',   -- staff user name, or the process (billingd)
    note             TEXT NOT NULL DEFAULT '',
    at               INTEGER NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE
);
CREATE INDEX ledger_by_account ON ledger(account_id, id);
CREATE INDEX ledger_by_time ON ledger(at);

CREATE TABLE cards (
    card_no     TEXT PRIMARY KEY CHECK (length(card_no) BETWEEN 4 AND 32),  -- printed number = reader UID
    account_id  INTEGER REFERENCES accounts(id),
    name        TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'lost', 'unbound', 'replaced')),
    fee_fen     INTEGER NOT NULL DEFAULT 0 CHECK (fee_fen >= 0),
    issued_at   INTEGER NOT NULL,
    bound_at    INTEGER
);
-- One active card per account; a card number belongs to one account at most (its primary key).
CREATE UNIQUE INDEX cards_one_active_per_account ON cards(account_id) WHERE status = 'active' AND account_id IS NOT NULL;

CREATE TABLE recharge_packages (
    id           INTEGER PRIMARY KEY,
    operator_id  INTEGER REFERENCES operators(id),
    name         TEXT NOT NULL,
    pay_fen      INTEGER NOT NULL CHECK (pay_fen > 0),
    bonus_fen    INTEGER NOT NULL DEFAULT 0 CHECK (bonus_fen >= 0),
    enabled      INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at   INTEGER NOT NULL
);

CREATE TABLE payments (
    id            TEXT PRIMARY KEY,            -- our payment order id
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    amount_fen    INTEGER NOT NULL CHECK (amount_fen > 0),
    bonus_fen     INTEGER NOT NULL DEFAULT 0 CHECK (bonus_fen >= 0),
    package_id    INTEGER REFERENCES recharge_packages(id),
    provider      TEXT NOT NULL,               -- sandbox, wechat, alipay
    status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'failed', 'expired')),
    provider_txn  TEXT UNIQUE,                 -- the provider's transaction id, set once paid
    created_at    INTEGER NOT NULL,
    paid_at       INTEGER
);
CREATE INDEX payments_by_account ON payments(account_id, created_at);

-- Tariff versions per station (or area). A session is priced by the version in force at its start.
CREATE TABLE tariffs (
    id              INTEGER PRIMARY KEY,
    station_id      INTEGER NOT NULL REFERENCES stations(id),
    area_id         INTEGER REFERENCES areas(id),
    version         INTEGER NOT NULL CHECK (version >= 1),
    document        TEXT NOT NULL,     -- the validated tariff JSON (BILLING.md §1)
    effective_from  INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    created_by      TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX tariffs_version ON tariffs(station_id, ifnull(area_id, 0), version);
CREATE INDEX tariffs_in_force ON tariffs(station_id, effective_from);
