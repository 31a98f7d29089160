-- Money in production (CONTRACT F): riders' identities at WeChat and Alipay, what every provider
-- callback said, payment orders' provider references and refunds through the channels money came in by.

-- A rider's login identity at a provider (WeChat openid, Alipay user_id): one account per identity.
CREATE TABLE account_identities (
    provider    TEXT NOT NULL CHECK (provider IN ('wechat', 'alipay')),
    subject     TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 128),
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    union_id    TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    last_login_at INTEGER NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX account_identities_by_account ON account_identities(account_id);

-- Payment orders: the provider's reference (WeChat prepay_id, Alipay trade_no), the payer there,
-- when the order was last queried and closed, and what an operator must look at.
ALTER TABLE payments ADD COLUMN payer_id TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN provider_ref TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN queried_at INTEGER;
ALTER TABLE payments ADD COLUMN closed_at INTEGER;
ALTER TABLE payments ADD COLUMN refunded_fen INTEGER NOT NULL DEFAULT 0 CHECK (refunded_fen >= 0);
ALTER TABLE payments ADD COLUMN anomaly TEXT NOT NULL DEFAULT '';
CREATE INDEX payments_by_status ON payments(status, created_at);

-- Every callback a provider sent (payment or refund notification) and every query answer that
-- settled something, with its verdict: the order's "provider callback" in the operator's detail.
CREATE TABLE payment_callbacks (
    id          INTEGER PRIMARY KEY,
    provider    TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('payment', 'refund', 'query')),
    payment_id  TEXT NOT NULL DEFAULT '',   -- our order, when the callback names one
    part_id     TEXT NOT NULL DEFAULT '',   -- our refund part, for a refund notification
    verdict     TEXT NOT NULL,              -- payments::CallbackStatus word
    detail      TEXT NOT NULL DEFAULT '',
    content     TEXT NOT NULL DEFAULT '',   -- the verified (decrypted) content; empty when it did not verify
    received_at INTEGER NOT NULL
);
CREATE INDEX payment_callbacks_by_payment ON payment_callbacks(payment_id, id);

-- Refunds (CONTRACT F.3). A balance refund takes real money out of the wallet at once (ledger kind
-- refund) and pays it back in parts, one per payment it came in by, newest first; a failed part puts
-- its money back (ledger kind refund_reversal).
CREATE TABLE refunds (
    id              TEXT PRIMARY KEY,                 -- rf_ + hex
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    amount_fen      INTEGER NOT NULL CHECK (amount_fen > 0),
    reason          TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL CHECK (state IN ('processing', 'succeeded', 'failed', 'partial')),
    -- balance: the rider's wallet money paid back; returned: a paid order the platform refused
    -- (another amount, currency or merchant) sent back whole, never credited to the wallet
    kind            TEXT NOT NULL DEFAULT 'balance' CHECK (kind IN ('balance', 'returned')),
    operator        TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at      INTEGER NOT NULL,
    settled_at      INTEGER
);
CREATE INDEX refunds_by_account ON refunds(account_id, created_at);
CREATE INDEX refunds_by_time ON refunds(created_at);

CREATE TABLE refund_parts (
    id                 TEXT PRIMARY KEY,              -- rfp_ + hex: the provider's out_refund_no
    refund_id          TEXT NOT NULL REFERENCES refunds(id),
    seq                INTEGER NOT NULL,              -- its place in the refund: newest payment first, the counter last
    payment_id         TEXT REFERENCES payments(id), -- NULL: cash at the counter
    channel            TEXT NOT NULL,                 -- wechat, alipay, sandbox, counter
    amount_fen         INTEGER NOT NULL CHECK (amount_fen > 0),
    state              TEXT NOT NULL CHECK (state IN ('processing', 'succeeded', 'failed')),
    provider_refund_id TEXT NOT NULL DEFAULT '',
    detail             TEXT NOT NULL DEFAULT '',
    attempts           INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    settled_at         INTEGER,
    polled_at          INTEGER                        -- last sent or asked about at the provider
);
CREATE INDEX refund_parts_by_refund ON refund_parts(refund_id);
CREATE INDEX refund_parts_by_payment ON refund_parts(payment_id);
CREATE INDEX refund_parts_by_state ON refund_parts(state, created_at);
