#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/ledger.hpp"
#include "common/money.hpp"

#include <cstdint>
#include <optional>
#include <string>

/// Arrears instead of silent write-offs (BILLING §5, CONTRACT F.2; docs/wallets.md "Arrears"): the
/// one place an account's debt (accounts.arrears_fen) grows and is paid.
///
/// - A bill the wallet cannot cover: billingd debits what the wallet holds and the uncovered part
///   (the settlement's shortfall) is added to arrears_fen in the settlement's transaction
///   (add_shortfall). Balances never go negative.
/// - Money in: every credit of real money (online payment, counter recharge, order refund) pays
///   arrears first, in the credit's transaction (collect): one ledger debit of kind `arrears` with
///   the key `arrears:<credit entry id>`, of min(arrears, balance + bonus), split by the account's
///   debit order (as the session that ran up the debt would have been: real first by default),
///   and arrears_fen lowered by as much. Call it right after the credit, before
///   parking::collect_unpaid.
/// - An account with arrears starts nothing (ledger::check_start, sessiond's pre-check).
namespace pilehub::arrears {

/// What a wallet pays of arrears: min(arrears, balance + bonus), split by the debit order (real_fen,
/// bonus_fen); shortfall_fen is what is still owed after it. Nothing for arrears ≤ 0. Pure.
ledger::Split payment(Fen arrears_fen, Fen balance_fen, Fen bonus_fen, ledger::DebitOrder order);

/// The idempotency key of the arrears paid from a credit: `arrears:<credit entry id>`.
std::string key(std::int64_t credit_entry_id);

/// Adds a settlement's uncovered part to the account's arrears, inside the caller's transaction.
/// Nothing for a shortfall ≤ 0.
void add_shortfall(db::Database& db, std::int64_t account_id, Fen shortfall);

/// Pays the account's arrears from its wallet after the credit `credit_entry_id`, inside the
/// caller's transaction on `db`: the `arrears` entry (nothing when there are no arrears or the
/// wallet is empty). Idempotent by its key.
std::optional<ledger::Entry> collect(db::Transaction& tx, db::Database& db, ledger::Ledger& ledger,
                                     std::int64_t account_id, std::int64_t credit_entry_id);

} // namespace pilehub::arrears
