#include "common/arrears.hpp"

#include "common/log.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace pilehub::arrears {
namespace {

constexpr std::string_view kAddArrears = "UPDATE accounts SET arrears_fen = arrears_fen + ? WHERE id = ?";
// Conditional: never below 0, whatever another connection did in between.
constexpr std::string_view kPayArrears =
    "UPDATE accounts SET arrears_fen = arrears_fen - ?1 WHERE id = ?2 AND arrears_fen >= ?1";

} // namespace

ledger::Split payment(Fen arrears_fen, Fen balance_fen, Fen bonus_fen, ledger::DebitOrder order) {
    if (arrears_fen <= Fen(0))
        return {};
    return ledger::split_debit(arrears_fen, std::max(balance_fen, Fen(0)), std::max(bonus_fen, Fen(0)), order);
}

std::string key(std::int64_t credit_entry_id) {
    return fmt::format("arrears:{}", credit_entry_id);
}

void add_shortfall(db::Database& db, std::int64_t account_id, Fen shortfall) {
    if (shortfall <= Fen(0))
        return;
    if (db::Statement(db, kAddArrears).bind_all(shortfall.value(), account_id).run() != 1)
        throw db::Error(fmt::format("arrears of account {}: no such account", account_id), SQLITE_ERROR);
}

std::optional<ledger::Entry> collect(db::Transaction& tx, db::Database& db, ledger::Ledger& ledger,
                                     std::int64_t account_id, std::int64_t credit_entry_id) {
    const auto w = ledger.wallet(account_id);
    if (!w || w->arrears_fen <= Fen(0))
        return std::nullopt;
    const auto pay = payment(w->arrears_fen, w->balance_fen, w->bonus_fen, w->debit_order);
    const Fen amount = pay.real_fen + pay.bonus_fen;
    if (amount <= Fen(0))
        return std::nullopt;
    ledger::Debit d;
    d.account_id = account_id;
    d.amount_fen = amount;
    d.kind = ledger::Kind::Arrears;
    d.meta.idempotency_key = key(credit_entry_id);
    d.meta.ref = fmt::format("ledger:{}", credit_entry_id);
    d.meta.operator_name = "arrears";
    d.meta.note = fmt::format("arrears {} fen, {} fen paid", w->arrears_fen.value(), amount.value());
    auto p = ledger.debit(tx, d);
    if (p.outcome != ledger::Outcome::Applied)
        return p.entry; // Duplicate: paid before from this credit
    if (db::Statement(db, kPayArrears).bind_all(amount.value(), account_id).run() != 1)
        throw db::Error(fmt::format("arrears of account {} changed underneath", account_id), SQLITE_ERROR);
    log::info("account {}: {} fen of arrears paid ({} left)", account_id, amount.value(), pay.shortfall_fen.value());
    return p.entry;
}

} // namespace pilehub::arrears
