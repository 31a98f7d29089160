-- Settlements: one row per settled session, written by billingd in the same transaction as the
-- ledger entry (key `settle:<session id>`), the wallet update, sessions.cost_fen and the
-- session_events row. It keeps the bill that explains every fen, and the shortfall when the
-- wallet could not cover the whole bill (docs/wallets.md, "Settlement").

CREATE TABLE settlements (
    session_id     TEXT PRIMARY KEY REFERENCES sessions(id),
    account_id     INTEGER NOT NULL REFERENCES accounts(id),
    ledger_id      INTEGER NOT NULL UNIQUE REFERENCES ledger(id),  -- the settle:<sid> entry (also when 0)
    tariff_id      INTEGER REFERENCES tariffs(id),                  -- the version that priced it, if any
    priced_fen     INTEGER NOT NULL CHECK (priced_fen >= 0),        -- what the bill came to
    debited_fen    INTEGER NOT NULL CHECK (debited_fen >= 0),       -- = sessions.cost_fen = -(ledger real + bonus)
    shortfall_fen  INTEGER NOT NULL CHECK (shortfall_fen >= 0),     -- priced but not collected (wallet ran dry)
    bill           TEXT NOT NULL,                                   -- the bill as JSON: lines explain every fen
    note           TEXT NOT NULL DEFAULT '',                        -- e.g. why it was settled at 0
    settled_at     INTEGER NOT NULL,
    CHECK (debited_fen + shortfall_fen = priced_fen)
);
CREATE INDEX settlements_by_account ON settlements(account_id, settled_at);
CREATE INDEX settlements_with_shortfall ON settlements(settled_at) WHERE shortfall_fen > 0;
