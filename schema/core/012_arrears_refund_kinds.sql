-- pilehub: rebuilds tables (the ledger, for its new kinds; see common/db.hpp migrate)
-- Arrears, order refunds and staff money controls (BILLING §5, CONTRACT F.2/F.3, issue 13).

-- What an account owes: the part of its bills its wallet could not cover (common/arrears.hpp).
-- Balances never go negative; the debt is kept here instead and paid first from the next real
-- money that comes in (ledger kind `arrears`). An account with arrears starts nothing.
ALTER TABLE accounts ADD COLUMN arrears_fen INTEGER NOT NULL DEFAULT 0 CHECK (arrears_fen >= 0);
-- Shortfalls settled before this migration were written off; they become arrears now, so that
-- arrears_fen = Σ shortfalls − Σ arrears entries holds for every account (pilehubctl audit).
UPDATE accounts SET arrears_fen = (SELECT coalesce(sum(st.shortfall_fen), 0) FROM settlements st
                                   WHERE st.account_id = accounts.id);

-- The ledger gains the kinds `arrears` (a debt paid from the wallet), `refund_order` (part of a
-- session's cost given back, ref = the session) and `refund_reversal` (a failed channel refund part
-- puts its money back). SQLite cannot alter a CHECK constraint, so the table is rebuilt with its
-- rows; on PostgreSQL this is ALTER TABLE ledger DROP/ADD CONSTRAINT.
CREATE TABLE ledger_new (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts(id),
    kind             TEXT NOT NULL CHECK (kind IN ('recharge', 'bonus', 'charge', 'refund', 'adjust', 'card_fee',
                                                   'parking', 'arrears', 'refund_order', 'refund_reversal')),
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
-- Order refunds of a session (kind refund_order, ref = session id) are summed under the write lock.
CREATE INDEX ledger_by_kind_ref ON ledger(kind, ref);

-- Staff money routes (CONTRACT F.3: every money-moving operator route requires an Idempotency-Key):
-- the answer given to (operator, key), replayed when the same key comes again with the same
-- request, refused when it comes with another.
CREATE TABLE api_idempotency (
    actor         TEXT NOT NULL,              -- admin:<user name>
    key           TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 64),
    operation     TEXT NOT NULL,              -- the route's operation id
    request_hash  TEXT NOT NULL,              -- SHA-256 of method, path and body
    status        INTEGER NOT NULL,
    body          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    at            INTEGER NOT NULL,
    PRIMARY KEY (actor, key)
);
CREATE INDEX api_idempotency_by_time ON api_idempotency(at);
