#include "common/ledger.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>

namespace pilehub::ledger {
namespace {

// ---- SQL ------------------------------------------------------------------------------------

constexpr std::string_view kInsertAccount =
    "INSERT INTO accounts (operator_id, phone, name, debit_order, created_at) VALUES (?, ?, ?, ?, ?)";
constexpr std::string_view kInsertWallet =
    "INSERT OR IGNORE INTO wallets (account_id, balance_fen, bonus_fen, updated_at) VALUES (?, 0, 0, ?)";
constexpr std::string_view kAccountByPhone = "SELECT id FROM accounts WHERE phone = ?";
constexpr std::string_view kAccountExists = "SELECT 1 FROM accounts WHERE id = ?";
constexpr std::string_view kSetFrozen = "UPDATE accounts SET frozen = ? WHERE id = ?";
constexpr std::string_view kSetDebitOrder = "UPDATE accounts SET debit_order = ? WHERE id = ?";
constexpr std::string_view kSelectWallet = "SELECT w.balance_fen, w.bonus_fen, w.updated_at, a.frozen, a.debit_order, "
                                           "a.arrears_fen "
                                           "FROM accounts a JOIN wallets w ON w.account_id = a.id WHERE a.id = ?";
// The conditional update: it changes nothing (and returns no row) if a balance would go negative,
// whatever another connection did in between.
constexpr std::string_view kUpdateWallet =
    "UPDATE wallets SET balance_fen = balance_fen + ?1, bonus_fen = bonus_fen + ?2, updated_at = ?3 "
    "WHERE account_id = ?4 AND balance_fen + ?1 >= 0 AND bonus_fen + ?2 >= 0 "
    "RETURNING balance_fen, bonus_fen";
constexpr std::string_view kInsertEntry =
    "INSERT INTO ledger (account_id, kind, real_fen, bonus_fen, real_after, bonus_after, ref, operator, note, at, "
    "idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kEntryColumns = "SELECT id, account_id, kind, real_fen, bonus_fen, real_after, bonus_after, "
                                           "ref, operator, note, at, idempotency_key FROM ledger ";
constexpr std::string_view kRefundBasis =
    "SELECT "
    "  coalesce(sum(CASE WHEN kind IN ('recharge', 'refund_order', 'refund_reversal') AND real_fen > 0 "
    "                    THEN real_fen ELSE 0 END), 0), "
    "  coalesce(sum(CASE WHEN kind IN ('charge', 'card_fee', 'refund', 'parking', 'arrears') AND real_fen < 0 "
    "                    THEN -real_fen "
    "                    WHEN kind = 'adjust' AND real_fen < 0 THEN -real_fen ELSE 0 END), 0) "
    "FROM ledger WHERE account_id = ?";
constexpr std::string_view kInsertPackage = "INSERT INTO recharge_packages (operator_id, name, pay_fen, bonus_fen, "
                                            "enabled, created_at) VALUES (?, ?, ?, ?, ?, ?)";
constexpr std::string_view kPackageColumns =
    "SELECT id, operator_id, name, pay_fen, bonus_fen, enabled FROM recharge_packages ";

// ---- audit SQL ------------------------------------------------------------------------------

constexpr std::string_view kAuditWalletSums =
    "SELECT w.account_id, w.balance_fen, w.bonus_fen, coalesce(sum(l.real_fen), 0), coalesce(sum(l.bonus_fen), 0) "
    "FROM wallets w LEFT JOIN ledger l ON l.account_id = w.account_id GROUP BY w.account_id ORDER BY w.account_id";
constexpr std::string_view kAuditOrphanEntries =
    "SELECT DISTINCT l.account_id FROM ledger l LEFT JOIN wallets w ON w.account_id = l.account_id "
    "WHERE w.account_id IS NULL";
constexpr std::string_view kAuditChain =
    "SELECT id, account_id, real_fen, bonus_fen, real_after, bonus_after FROM ledger ORDER BY account_id, id";
constexpr std::string_view kAuditSettlements =
    "SELECT l.id, substr(l.idempotency_key, 8), l.account_id, l.kind, l.real_fen + l.bonus_fen, "
    "       s.id, s.state, s.cost_fen, s.account_id "
    "FROM ledger l LEFT JOIN sessions s ON s.id = substr(l.idempotency_key, 8) "
    "WHERE l.idempotency_key LIKE 'settle:%' ORDER BY l.id";
constexpr std::string_view kAuditCompletedWithoutSettlement =
    "SELECT s.id FROM sessions s WHERE s.state = 'completed' "
    "AND NOT (s.method = 'operator' AND s.cost_fen = 0) " // commissioning: free, never a ledger entry
    "AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.idempotency_key = 'settle:' || s.id)";
constexpr std::string_view kAuditCostWithoutCompletion =
    "SELECT id, state, cost_fen FROM sessions WHERE cost_fen IS NOT NULL AND state <> 'completed'";
constexpr std::string_view kAuditSettlementRows =
    "SELECT st.session_id, st.debited_fen, st.priced_fen, st.shortfall_fen, l.real_fen + l.bonus_fen, s.cost_fen "
    "FROM settlements st JOIN ledger l ON l.id = st.ledger_id LEFT JOIN sessions s ON s.id = st.session_id";

constexpr std::string_view kAuditSettlementSplit =
    "SELECT session_id, priced_fen, electricity_fen, service_fen FROM settlements "
    "WHERE electricity_fen IS NOT NULL OR service_fen IS NOT NULL";
constexpr std::string_view kAuditMeterDelta = "SELECT id, energy_wh, meter_start_wh, meter_stop_wh FROM sessions "
                                              "WHERE meter_start_wh IS NOT NULL AND meter_stop_wh IS NOT NULL";
// Parking fees (CONTRACT E.1): every `park:<id>` entry is the fee of a paid stay, debited whole, once;
// every paid stay has its entry; an unpaid stay owes its fee; a free stay has nothing to pay.
constexpr std::string_view kAuditParkingEntries =
    "SELECT l.id, l.idempotency_key, l.kind, -(l.real_fen + l.bonus_fen), l.account_id, o.id, o.state, o.fee_fen, "
    "o.ledger_id, o.account_id FROM ledger l LEFT JOIN occupancies o ON 'park:' || o.id = l.idempotency_key "
    "WHERE l.idempotency_key LIKE 'park:%' OR l.kind = 'parking' ORDER BY l.id";
constexpr std::string_view kAuditParkingStays =
    "SELECT o.id, o.state, coalesce(o.fee_fen, 0), o.owed_fen, o.ledger_id FROM occupancies o WHERE o.state <> 'open' "
    "AND (o.state = 'paid' AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.idempotency_key = 'park:' || o.id) "
    "OR o.state = 'unpaid' AND o.owed_fen <> o.fee_fen OR o.state = 'free' AND coalesce(o.fee_fen, 0) <> 0 "
    "OR o.state <> 'unpaid' AND o.owed_fen <> 0)";
// Arrears (BILLING §5): what an account owes is what its settlements could not collect minus what
// its `arrears` entries paid; those entries only take money out.
constexpr std::string_view kAuditArrears =
    "SELECT a.id, a.arrears_fen, "
    "  (SELECT coalesce(sum(st.shortfall_fen), 0) FROM settlements st WHERE st.account_id = a.id), "
    "  (SELECT coalesce(sum(-(l.real_fen + l.bonus_fen)), 0) FROM ledger l WHERE l.account_id = a.id "
    "   AND l.kind = 'arrears') "
    "FROM accounts a ORDER BY a.id";
constexpr std::string_view kAuditArrearsEntries =
    "SELECT id, account_id, real_fen, bonus_fen FROM ledger WHERE kind = 'arrears' AND (real_fen > 0 OR bonus_fen > 0)";
// Order refunds (CONTRACT F.3): credits of a completed session's account, never more than its cost.
constexpr std::string_view kAuditOrderRefunds =
    "SELECT l.ref, sum(l.real_fen + l.bonus_fen), min(min(l.real_fen, l.bonus_fen)), s.id, s.state, s.cost_fen, "
    "       s.account_id, min(l.account_id), max(l.account_id) "
    "FROM ledger l LEFT JOIN sessions s ON s.id = l.ref WHERE l.kind = 'refund_order' GROUP BY l.ref ORDER BY l.ref";
// Order refunds: the settlement's entry of a completed session, and what its order refunds gave back.
constexpr std::string_view kSettledSession =
    "SELECT s.account_id, l.real_fen, l.bonus_fen FROM sessions s JOIN settlements st ON st.session_id = s.id "
    "JOIN ledger l ON l.id = st.ledger_id WHERE s.id = ? AND s.state = 'completed'";
// SQLite-only (as table_exists' sqlite_master): PostgreSQL spells it
// `SELECT 1 FROM information_schema.columns WHERE table_name = $1 AND column_name = $2`.
constexpr std::string_view kColumnExists = "SELECT 1 FROM pragma_table_info(?) WHERE name = ?";

// ---- helpers --------------------------------------------------------------------------------

constexpr std::array<std::string_view, 10> kKindNames = {"recharge",     "bonus",          "charge",  "refund",
                                                         "adjust",       "card_fee",       "parking", "arrears",
                                                         "refund_order", "refund_reversal"};

Entry read_entry(const db::Statement& st) {
    Entry e;
    e.id = st.int64(0);
    e.account_id = st.int64(1);
    e.kind = parse_kind(st.text(2)).value_or(Kind::Adjust);
    e.real_fen = Fen(st.int64(3));
    e.bonus_fen = Fen(st.int64(4));
    e.real_after = Fen(st.int64(5));
    e.bonus_after = Fen(st.int64(6));
    e.ref = st.text(7);
    e.operator_name = st.text(8);
    e.note = st.text(9);
    e.at = st.int64(10);
    e.idempotency_key = st.text(11);
    return e;
}

Package read_package(const db::Statement& st) {
    Package p;
    p.id = st.int64(0);
    p.operator_id = st.opt_int64(1);
    p.name = st.text(2);
    p.pay_fen = Fen(st.int64(3));
    p.bonus_fen = Fen(st.int64(4));
    p.enabled = st.int64(5) != 0;
    return p;
}

bool amount_in_range(Fen f) {
    return f.value() >= -kMaxAmountFen && f.value() <= kMaxAmountFen;
}

bool table_exists(db::Database& db, std::string_view name) {
    db::Statement st(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    st.bind(1, name);
    return st.step();
}

// Databases older than a migration are audited on what they have.
bool column_exists(db::Database& db, std::string_view table, std::string_view column) {
    db::Statement st(db, kColumnExists);
    st.bind(1, table);
    st.bind(2, column);
    return st.step();
}

bool valid_key(const Meta& m) {
    return !m.idempotency_key.empty() && m.idempotency_key.size() <= kMaxKeyLen;
}

// Commits when the change was applied; otherwise the destructor rolls back (nothing was written).
Posting finish(db::Transaction& tx, Posting p) {
    if (p.outcome == Outcome::Applied)
        tx.commit();
    return p;
}

} // namespace

std::string_view to_string(Kind k) {
    return kKindNames[static_cast<std::size_t>(k)];
}

std::optional<Kind> parse_kind(std::string_view s) {
    for (std::size_t i = 0; i < kKindNames.size(); ++i)
        if (kKindNames[i] == s)
            return static_cast<Kind>(i);
    return std::nullopt;
}

std::string_view to_string(DebitOrder o) {
    return o == DebitOrder::RealFirst ? "real_first" : "bonus_first";
}

std::optional<DebitOrder> parse_debit_order(std::string_view s) {
    if (s == "real_first")
        return DebitOrder::RealFirst;
    if (s == "bonus_first")
        return DebitOrder::BonusFirst;
    return std::nullopt;
}

std::string_view to_string(Outcome o) {
    switch (o) {
    case Outcome::Applied:
        return "applied";
    case Outcome::Duplicate:
        return "duplicate";
    case Outcome::UnknownAccount:
        return "unknown_account";
    case Outcome::AccountFrozen:
        return "account_frozen";
    case Outcome::InsufficientFunds:
        return "insufficient_funds";
    case Outcome::NotRefundable:
        return "not_refundable";
    case Outcome::InvalidAmount:
        return "invalid_amount";
    case Outcome::InvalidRequest:
        return "invalid_request";
    case Outcome::UnknownPackage:
        return "unknown_package";
    case Outcome::UnknownSession:
        return "unknown_session";
    case Outcome::ExceedsCost:
        return "exceeds_cost";
    }
    return "invalid_request";
}

std::string_view to_string(StartCheck c) {
    switch (c) {
    case StartCheck::Ok:
        return "ok";
    case StartCheck::UnknownAccount:
        return "unknown_account";
    case StartCheck::Frozen:
        return "account_frozen";
    case StartCheck::Arrears:
        return "arrears";
    case StartCheck::BalanceTooLow:
        return "balance_too_low";
    }
    return "unknown_account";
}

StartCheck check_start(const Wallet& w, Fen min_start_balance_fen) {
    if (w.frozen)
        return StartCheck::Frozen;
    if (w.arrears_fen > Fen(0))
        return StartCheck::Arrears;
    if (w.available() < min_start_balance_fen)
        return StartCheck::BalanceTooLow;
    return StartCheck::Ok;
}

Split split_debit(Fen amount, Fen balance, Fen bonus, DebitOrder order) {
    Split s;
    Fen left = std::max(amount, Fen(0));
    const auto take = [&left](Fen have) {
        const Fen t = std::min(left, std::max(have, Fen(0)));
        left -= t;
        return t;
    };
    if (order == DebitOrder::RealFirst) {
        s.real_fen = take(balance);
        s.bonus_fen = take(bonus);
    } else {
        s.bonus_fen = take(bonus);
        s.real_fen = take(balance);
    }
    s.shortfall_fen = left;
    return s;
}

Split split_order_refund(Fen amount, Fen taken_real, Fen taken_bonus, Fen back_real, Fen back_bonus) {
    Split s;
    Fen left = std::max(amount, Fen(0));
    const auto take = [&left](Fen have) {
        const Fen t = std::min(left, std::max(have, Fen(0)));
        left -= t;
        return t;
    };
    s.real_fen = take(taken_real - back_real);
    s.bonus_fen = take(taken_bonus - back_bonus);
    s.shortfall_fen = left;
    return s;
}

Ledger::Ledger(db::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

Opened Ledger::open_account(const NewAccount& a) {
    if (a.phone.size() < 5 || a.phone.size() > 20)
        return {Outcome::InvalidRequest, 0};
    db::Transaction tx(db_);
    {
        db::Statement st(db_, kAccountByPhone);
        st.bind(1, a.phone);
        if (st.step())
            return {Outcome::Duplicate, st.int64(0)};
    }
    const EpochMs now = clock_.now_ms();
    db::Statement(db_, kInsertAccount)
        .bind_all(a.operator_id, a.phone, a.name, std::string(to_string(a.debit_order)), now)
        .run();
    const auto id = db_.last_insert_rowid();
    db::Statement(db_, kInsertWallet).bind_all(id, now).run();
    tx.commit();
    return {Outcome::Applied, id};
}

Outcome Ledger::set_frozen(std::int64_t account_id, bool frozen) {
    const int n = db::Statement(db_, kSetFrozen).bind_all(std::int64_t{frozen ? 1 : 0}, account_id).run();
    return n == 1 ? Outcome::Applied : Outcome::UnknownAccount;
}

Outcome Ledger::set_debit_order(std::int64_t account_id, DebitOrder order) {
    const int n = db::Statement(db_, kSetDebitOrder).bind_all(std::string(to_string(order)), account_id).run();
    return n == 1 ? Outcome::Applied : Outcome::UnknownAccount;
}

std::optional<Wallet> Ledger::wallet_in_tx(std::int64_t account_id) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        {
            db::Statement st(db_, kSelectWallet);
            st.bind(1, account_id);
            if (st.step()) {
                Wallet w;
                w.account_id = account_id;
                w.balance_fen = Fen(st.int64(0));
                w.bonus_fen = Fen(st.int64(1));
                w.updated_at = st.int64(2);
                w.frozen = st.int64(3) != 0;
                w.debit_order = parse_debit_order(st.text(4)).value_or(DebitOrder::RealFirst);
                w.arrears_fen = Fen(st.int64(5));
                return w;
            }
        }
        // An account opened elsewhere without its wallet row gets an empty one on first use.
        db::Statement exists(db_, kAccountExists);
        exists.bind(1, account_id);
        if (attempt > 0 || !exists.step())
            return std::nullopt;
        db::Statement(db_, kInsertWallet).bind_all(account_id, clock_.now_ms()).run();
    }
    return std::nullopt;
}

Posting Ledger::post(Kind kind, std::int64_t account_id, Fen real_delta, Fen bonus_delta, const Meta& meta) {
    const EpochMs now = clock_.now_ms();
    db::Statement up(db_, kUpdateWallet);
    up.bind_all(real_delta.value(), bonus_delta.value(), now, account_id);
    if (!up.step())
        return {Outcome::InsufficientFunds, std::nullopt};
    Entry e;
    e.account_id = account_id;
    e.kind = kind;
    e.real_fen = real_delta;
    e.bonus_fen = bonus_delta;
    e.real_after = Fen(up.int64(0));
    e.bonus_after = Fen(up.int64(1));
    e.ref = meta.ref;
    e.operator_name = meta.operator_name;
    e.note = meta.note;
    e.at = now;
    e.idempotency_key = meta.idempotency_key;
    up.reset();
    db::Statement(db_, kInsertEntry)
        .bind_all(account_id, std::string(to_string(kind)), real_delta.value(), bonus_delta.value(),
                  e.real_after.value(), e.bonus_after.value(), e.ref, e.operator_name, e.note, e.at, e.idempotency_key)
        .run();
    e.id = db_.last_insert_rowid();
    return {Outcome::Applied, std::move(e)};
}

Posting Ledger::credit(const Credit& c) {
    db::Transaction tx(db_);
    return finish(tx, credit(tx, c));
}

Posting Ledger::credit(db::Transaction&, const Credit& c) {
    if (!valid_key(c.meta))
        return {Outcome::InvalidRequest, std::nullopt};
    if (auto e = entry_by_key(c.meta.idempotency_key))
        return {Outcome::Duplicate, std::move(e)};
    // (an order refund is posted by refund_order only: it is bounded by its session)
    if (c.kind != Kind::Recharge && c.kind != Kind::Bonus && c.kind != Kind::RefundReversal)
        return {Outcome::InvalidRequest, std::nullopt};
    if (!amount_in_range(c.real_fen) || !amount_in_range(c.bonus_fen) || c.real_fen < Fen(0) || c.bonus_fen < Fen(0) ||
        (c.real_fen + c.bonus_fen) == Fen(0))
        return {Outcome::InvalidAmount, std::nullopt};
    if (c.kind == Kind::Bonus && c.real_fen != Fen(0))
        return {Outcome::InvalidAmount, std::nullopt};
    if (c.kind == Kind::RefundReversal && c.bonus_fen != Fen(0))
        return {Outcome::InvalidAmount, std::nullopt};
    if (c.kind == Kind::Recharge && c.real_fen == Fen(0))
        return {Outcome::InvalidAmount, std::nullopt};
    const auto w = wallet_in_tx(c.account_id);
    if (!w)
        return {Outcome::UnknownAccount, std::nullopt};
    if (w->frozen && !c.allow_frozen)
        return {Outcome::AccountFrozen, std::nullopt};
    return post(c.kind, c.account_id, c.real_fen, c.bonus_fen, c.meta);
}

Posting Ledger::recharge_package(std::int64_t account_id, std::int64_t package_id, const Meta& meta,
                                 bool allow_frozen) {
    db::Transaction tx(db_);
    if (!valid_key(meta))
        return {Outcome::InvalidRequest, std::nullopt};
    if (auto e = entry_by_key(meta.idempotency_key))
        return {Outcome::Duplicate, std::move(e)};
    const auto p = package(package_id);
    if (!p || !p->enabled)
        return {Outcome::UnknownPackage, std::nullopt};
    Credit c;
    c.account_id = account_id;
    c.real_fen = p->pay_fen;
    c.bonus_fen = p->bonus_fen;
    c.kind = Kind::Recharge;
    c.meta = meta;
    if (c.meta.note.empty())
        c.meta.note = fmt::format("package {} ({})", p->id, p->name);
    c.allow_frozen = allow_frozen;
    return finish(tx, credit(tx, c));
}

Posting Ledger::debit(const Debit& d) {
    db::Transaction tx(db_);
    return finish(tx, debit(tx, d));
}

Posting Ledger::debit(db::Transaction&, const Debit& d) {
    if (!valid_key(d.meta))
        return {Outcome::InvalidRequest, std::nullopt};
    if (auto e = entry_by_key(d.meta.idempotency_key))
        return {Outcome::Duplicate, std::move(e)};
    if (d.kind != Kind::Charge && d.kind != Kind::CardFee && d.kind != Kind::Parking && d.kind != Kind::Arrears)
        return {Outcome::InvalidRequest, std::nullopt};
    if (!amount_in_range(d.amount_fen) || d.amount_fen < Fen(0) || (d.amount_fen == Fen(0) && !d.partial))
        return {Outcome::InvalidAmount, std::nullopt};
    const auto w = wallet_in_tx(d.account_id);
    if (!w)
        return {Outcome::UnknownAccount, std::nullopt};
    Split s;
    if (d.kind == Kind::CardFee) {
        // A card's fee is a cash fee (seeds/002 §3): real money only, and not from a frozen account.
        if (w->frozen)
            return {Outcome::AccountFrozen, std::nullopt};
        s = split_debit(d.amount_fen, w->balance_fen, Fen(0), DebitOrder::RealFirst);
    } else {
        s = split_debit(d.amount_fen, w->balance_fen, w->bonus_fen, d.order.value_or(w->debit_order));
    }
    if (s.shortfall_fen > Fen(0) && !d.partial)
        return {Outcome::InsufficientFunds, std::nullopt};
    return post(d.kind, d.account_id, -s.real_fen, -s.bonus_fen, d.meta);
}

Posting Ledger::refund(const Refund& r) {
    db::Transaction tx(db_);
    return finish(tx, refund(tx, r));
}

Posting Ledger::refund(db::Transaction&, const Refund& r) {
    if (!valid_key(r.meta) || r.meta.operator_name.empty())
        return {Outcome::InvalidRequest, std::nullopt};
    if (auto e = entry_by_key(r.meta.idempotency_key))
        return {Outcome::Duplicate, std::move(e)};
    if (!amount_in_range(r.amount_fen) || r.amount_fen <= Fen(0))
        return {Outcome::InvalidAmount, std::nullopt};
    if (!wallet_in_tx(r.account_id))
        return {Outcome::UnknownAccount, std::nullopt};
    if (r.amount_fen > refundable(r.account_id))
        return {Outcome::NotRefundable, std::nullopt};
    return post(Kind::Refund, r.account_id, -r.amount_fen, Fen(0), r.meta);
}

Posting Ledger::refund_order(const OrderRefund& r) {
    db::Transaction tx(db_);
    return finish(tx, refund_order(tx, r));
}

Posting Ledger::refund_order(db::Transaction&, const OrderRefund& r) {
    if (!valid_key(r.meta) || r.meta.operator_name.empty() || r.meta.note.empty() || r.session_id.empty())
        return {Outcome::InvalidRequest, std::nullopt};
    if (auto e = entry_by_key(r.meta.idempotency_key))
        return {Outcome::Duplicate, std::move(e)};
    if (!amount_in_range(r.amount_fen) || r.amount_fen <= Fen(0))
        return {Outcome::InvalidAmount, std::nullopt};
    const auto o = order_refunds(r.session_id);
    if (!o)
        return {Outcome::UnknownSession, std::nullopt};
    const auto split = split_order_refund(r.amount_fen, o->taken_real, o->taken_bonus, o->back_real, o->back_bonus);
    if (split.shortfall_fen > Fen(0))
        return {Outcome::ExceedsCost, std::nullopt};
    if (!wallet_in_tx(o->account_id))
        return {Outcome::UnknownAccount, std::nullopt};
    Meta meta = r.meta;
    meta.ref = r.session_id;
    return post(Kind::RefundOrder, o->account_id, split.real_fen, split.bonus_fen, meta);
}

std::optional<OrderRefunds> Ledger::order_refunds(std::string_view session_id) {
    db::Statement st(db_, kSettledSession);
    st.bind(1, session_id);
    if (!st.step())
        return std::nullopt;
    OrderRefunds o;
    o.account_id = st.int64(0);
    o.taken_real = Fen(-st.int64(1));
    o.taken_bonus = Fen(-st.int64(2));
    db::Statement es(db_, std::string(kEntryColumns) + "WHERE kind = 'refund_order' AND ref = ? ORDER BY id");
    es.bind(1, session_id);
    while (es.step()) {
        auto e = read_entry(es);
        o.back_real += e.real_fen;
        o.back_bonus += e.bonus_fen;
        o.entries.push_back(std::move(e));
    }
    return o;
}

Posting Ledger::adjust(const Adjustment& a) {
    db::Transaction tx(db_);
    return finish(tx, adjust(tx, a));
}

Posting Ledger::adjust(db::Transaction&, const Adjustment& a) {
    if (!valid_key(a.meta) || a.meta.operator_name.empty() || a.meta.note.empty())
        return {Outcome::InvalidRequest, std::nullopt};
    if (auto e = entry_by_key(a.meta.idempotency_key))
        return {Outcome::Duplicate, std::move(e)};
    if (!amount_in_range(a.real_fen) || !amount_in_range(a.bonus_fen) ||
        (a.real_fen == Fen(0) && a.bonus_fen == Fen(0)))
        return {Outcome::InvalidAmount, std::nullopt};
    if (!wallet_in_tx(a.account_id))
        return {Outcome::UnknownAccount, std::nullopt};
    return post(Kind::Adjust, a.account_id, a.real_fen, a.bonus_fen, a.meta);
}

std::optional<Wallet> Ledger::wallet(std::int64_t account_id) {
    db::Statement st(db_, kSelectWallet);
    st.bind(1, account_id);
    if (!st.step()) {
        db::Statement exists(db_, kAccountExists);
        exists.bind(1, account_id);
        if (!exists.step())
            return std::nullopt;
        Wallet w; // an account without its wallet row yet: empty
        w.account_id = account_id;
        return w;
    }
    Wallet w;
    w.account_id = account_id;
    w.balance_fen = Fen(st.int64(0));
    w.bonus_fen = Fen(st.int64(1));
    w.updated_at = st.int64(2);
    w.frozen = st.int64(3) != 0;
    w.debit_order = parse_debit_order(st.text(4)).value_or(DebitOrder::RealFirst);
    w.arrears_fen = Fen(st.int64(5));
    return w;
}

Fen Ledger::available(std::int64_t account_id) {
    const auto w = wallet(account_id);
    return w ? w->available() : Fen(0);
}

StartCheck Ledger::check_start(std::int64_t account_id, Fen min_start_balance_fen) {
    const auto w = wallet(account_id);
    if (!w)
        return StartCheck::UnknownAccount;
    return ledger::check_start(*w, min_start_balance_fen);
}

Fen Ledger::refundable(std::int64_t account_id) {
    const auto w = wallet(account_id);
    if (!w)
        return Fen(0);
    db::Statement st(db_, kRefundBasis);
    st.bind(1, account_id);
    st.step();
    const Fen paid_in(st.int64(0));
    const Fen spent_or_refunded(st.int64(1));
    return std::max(Fen(0), std::min(w->balance_fen, paid_in - spent_or_refunded));
}

std::optional<Entry> Ledger::entry_by_key(std::string_view key) {
    db::Statement st(db_, std::string(kEntryColumns) + "WHERE idempotency_key = ?");
    st.bind(1, key);
    if (!st.step())
        return std::nullopt;
    return read_entry(st);
}

std::vector<Entry> Ledger::entries(std::int64_t account_id, int limit, std::int64_t before_id) {
    db::Statement st(db_, std::string(kEntryColumns) +
                              "WHERE account_id = ? AND (? <= 0 OR id < ?) ORDER BY id DESC LIMIT ?");
    st.bind_all(account_id, before_id, before_id, std::int64_t{std::clamp(limit, 1, 1000)});
    std::vector<Entry> out;
    while (st.step())
        out.push_back(read_entry(st));
    return out;
}

std::int64_t Ledger::add_package(const Package& p) {
    db::Statement(db_, kInsertPackage)
        .bind_all(p.operator_id, p.name, p.pay_fen.value(), p.bonus_fen.value(), std::int64_t{p.enabled ? 1 : 0},
                  clock_.now_ms())
        .run();
    return db_.last_insert_rowid();
}

std::optional<Package> Ledger::package(std::int64_t id) {
    db::Statement st(db_, std::string(kPackageColumns) + "WHERE id = ?");
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    return read_package(st);
}

std::vector<Package> Ledger::packages(bool enabled_only) {
    db::Statement st(db_, std::string(kPackageColumns) + (enabled_only ? "WHERE enabled = 1 " : "") +
                              "ORDER BY pay_fen, id");
    std::vector<Package> out;
    while (st.step())
        out.push_back(read_package(st));
    return out;
}

// ---- audit ----------------------------------------------------------------------------------

std::vector<Violation> audit(db::Database& db) {
    std::vector<Violation> out;
    const auto add = [&out](std::string s) { out.push_back({std::move(s)}); };

    // Read everything in one snapshot, so that a concurrent writer cannot make a consistent
    // database look inconsistent half-way through.
    db.exec("BEGIN");
    try {
        {
            db::Statement st(db, kAuditWalletSums);
            while (st.step()) {
                const auto acc = st.int64(0);
                const auto bal = st.int64(1), bon = st.int64(2), sum_real = st.int64(3), sum_bonus = st.int64(4);
                if (bal < 0)
                    add(fmt::format("wallet {}: balance_fen {} is negative", acc, bal));
                if (bon < 0)
                    add(fmt::format("wallet {}: bonus_fen {} is negative", acc, bon));
                if (bal != sum_real)
                    add(fmt::format("wallet {}: balance_fen {} != sum of ledger real_fen {}", acc, bal, sum_real));
                if (bon != sum_bonus)
                    add(fmt::format("wallet {}: bonus_fen {} != sum of ledger bonus_fen {}", acc, bon, sum_bonus));
            }
        }
        {
            db::Statement st(db, kAuditOrphanEntries);
            while (st.step())
                add(fmt::format("account {}: ledger entries but no wallet", st.int64(0)));
        }
        {
            db::Statement st(db, kAuditChain);
            std::int64_t account = -1, real = 0, bonus = 0;
            while (st.step()) {
                const auto id = st.int64(0), acc = st.int64(1);
                if (acc != account) {
                    account = acc;
                    real = 0;
                    bonus = 0;
                }
                real += st.int64(2);
                bonus += st.int64(3);
                const auto ra = st.int64(4), ba = st.int64(5);
                if (ra < 0 || ba < 0)
                    add(fmt::format("ledger {} (account {}): negative after-balance real {} bonus {}", id, acc, ra,
                                    ba));
                if (ra != real || ba != bonus)
                    add(fmt::format(
                        "ledger {} (account {}): real_after/bonus_after {}/{} but the running sums are {}/{}", id, acc,
                        ra, ba, real, bonus));
                // Follow the recorded chain, so one bad row is reported once, not for every later row.
                real = ra;
                bonus = ba;
            }
        }
        {
            db::Statement st(db, kAuditSettlements);
            std::map<std::string, int> per_session;
            while (st.step()) {
                const auto id = st.int64(0);
                const auto sid = st.text(1);
                const auto entry_account = st.int64(2);
                const auto kind = st.text(3);
                const auto delta = st.int64(4);
                ++per_session[sid];
                if (st.is_null(5)) {
                    add(fmt::format("ledger {}: settlement of unknown session {}", id, sid));
                    continue;
                }
                const auto state = st.text(6);
                if (kind != "charge")
                    add(fmt::format("ledger {}: settlement of session {} has kind {}, not charge", id, sid, kind));
                if (delta > 0)
                    add(fmt::format("ledger {}: settlement of session {} credits {} fen", id, sid, delta));
                if (state != "completed") {
                    add(fmt::format("ledger {}: settlement of session {} which is {}, not completed", id, sid, state));
                    continue;
                }
                if (entry_account != st.int64(8))
                    add(fmt::format("ledger {}: settlement of session {} debits account {}, the session's is {}", id,
                                    sid, entry_account, st.int64(8)));
                if (st.is_null(7))
                    add(fmt::format("session {}: completed without cost_fen", sid));
                else if (st.int64(7) != -delta)
                    add(fmt::format("session {}: cost_fen {} != its settlement's debit {}", sid, st.int64(7), -delta));
            }
            for (const auto& [sid, n] : per_session)
                if (n > 1)
                    add(fmt::format("session {}: {} settlement entries", sid, n));
        }
        {
            db::Statement st(db, kAuditCompletedWithoutSettlement);
            while (st.step())
                add(fmt::format("session {}: completed without a settlement entry", st.text(0)));
        }
        {
            db::Statement st(db, kAuditCostWithoutCompletion);
            while (st.step())
                add(fmt::format("session {}: cost_fen {} set but the session is {}", st.text(0), st.int64(2),
                                st.text(1)));
        }
        if (table_exists(db, "settlements")) {
            db::Statement st(db, kAuditSettlementRows);
            while (st.step()) {
                const auto sid = st.text(0);
                const auto debited = st.int64(1), priced = st.int64(2), shortfall = st.int64(3);
                const auto entry_delta = st.int64(4);
                if (debited != -entry_delta)
                    add(fmt::format("settlement {}: debited_fen {} != its ledger entry's debit {}", sid, debited,
                                    -entry_delta));
                if (debited + shortfall != priced)
                    add(fmt::format("settlement {}: debited {} + shortfall {} != priced {}", sid, debited, shortfall,
                                    priced));
                if (st.is_null(5) || st.int64(5) != debited)
                    add(fmt::format("settlement {}: debited_fen {} != the session's cost_fen {}", sid, debited,
                                    st.is_null(5) ? std::string("NULL") : std::to_string(st.int64(5))));
            }
        }
        if (table_exists(db, "settlements") && column_exists(db, "settlements", "electricity_fen")) {
            // Invoices split the bill (BILLING §5): where a settlement has the split, it adds up.
            db::Statement st(db, kAuditSettlementSplit);
            while (st.step()) {
                const auto sid = st.text(0);
                if (st.is_null(2) || st.is_null(3)) {
                    add(fmt::format("settlement {}: has only one of electricity_fen and service_fen", sid));
                    continue;
                }
                const auto priced = st.int64(1), electricity = st.int64(2), service = st.int64(3);
                if (electricity + service != priced)
                    add(fmt::format("settlement {}: electricity_fen {} + service_fen {} != priced_fen {}", sid,
                                    electricity, service, priced));
            }
        }
        if (column_exists(db, "sessions", "meter_stop_wh")) {
            // An EV session's energy is its charger's meter delta (sessiond writes both with the record).
            db::Statement st(db, kAuditMeterDelta);
            while (st.step()) {
                const auto sid = st.text(0);
                const auto energy = st.int64(1), start = st.int64(2), stop = st.int64(3);
                if (stop < start)
                    add(fmt::format("session {}: meter_stop_wh {} is below meter_start_wh {}", sid, stop, start));
                else if (energy != stop - start)
                    add(fmt::format("session {}: energy_wh {} != meter_stop_wh - meter_start_wh = {}", sid, energy,
                                    stop - start));
            }
        }
        if (column_exists(db, "occupancies", "owed_fen")) {
            db::Statement st(db, kAuditParkingEntries);
            while (st.step()) {
                const auto id = st.int64(0);
                const auto key = st.text(1);
                if (st.text(2) != "parking" || !st.opt_int64(5)) {
                    add(fmt::format("ledger {} ({}): a parking entry must be kind parking with the key of a stay", id,
                                    key));
                    continue;
                }
                const auto debit = st.int64(3), stay = st.int64(5);
                if (st.text(6) != "paid" || st.opt_int64(8) != id)
                    add(fmt::format("ledger {}: stay {} is {} but its fee was debited", id, stay, st.text(6)));
                if (debit != st.opt_int64(7).value_or(-1))
                    add(fmt::format("ledger {}: debited {} fen for stay {} whose fee is {}", id, debit, stay,
                                    st.opt_int64(7).value_or(-1)));
                if (st.opt_int64(9) != st.int64(4))
                    add(fmt::format("ledger {}: stay {} debited from account {} but paid by {}", id, stay, st.int64(4),
                                    st.opt_int64(9).value_or(0)));
            }
            db::Statement stays(db, kAuditParkingStays);
            while (stays.step())
                add(fmt::format("stay {} is {} with fee {} and owed {} but no matching ledger entry or owed amount",
                                stays.int64(0), stays.text(1), stays.int64(2), stays.int64(3)));
        }
        if (column_exists(db, "accounts", "arrears_fen") && table_exists(db, "settlements")) {
            db::Statement st(db, kAuditArrears);
            while (st.step()) {
                const auto acc = st.int64(0);
                const auto arrears = st.int64(1), shortfalls = st.int64(2), paid = st.int64(3);
                if (arrears < 0)
                    add(fmt::format("account {}: arrears_fen {} is negative", acc, arrears));
                if (arrears != shortfalls - paid)
                    add(fmt::format("account {}: arrears_fen {} != shortfalls {} - arrears paid {}", acc, arrears,
                                    shortfalls, paid));
            }
            db::Statement entries(db, kAuditArrearsEntries);
            while (entries.step())
                add(fmt::format("ledger {} (account {}): an arrears entry credits real {} bonus {}", entries.int64(0),
                                entries.int64(1), entries.int64(2), entries.int64(3)));
            db::Statement refunds(db, kAuditOrderRefunds);
            while (refunds.step()) {
                const auto sid = refunds.text(0);
                const auto refunded = refunds.int64(1);
                if (refunds.int64(2) < 0)
                    add(fmt::format("session {}: an order refund takes money out", sid));
                if (refunds.is_null(3) || refunds.text(4) != "completed") {
                    add(fmt::format("session {}: order refunds of a session that is {}", sid,
                                    refunds.is_null(3) ? std::string("unknown") : refunds.text(4)));
                    continue;
                }
                const auto cost = refunds.opt_int64(5).value_or(0);
                if (refunded > cost)
                    add(fmt::format("session {}: order refunds {} exceed its cost {}", sid, refunded, cost));
                if (refunds.int64(7) != refunds.int64(6) || refunds.int64(8) != refunds.int64(6))
                    add(fmt::format("session {}: order refunds credited another account than the session's {}", sid,
                                    refunds.int64(6)));
            }
        }
    } catch (...) {
        db.exec("ROLLBACK");
        throw;
    }
    db.exec("COMMIT");
    return out;
}

} // namespace pilehub::ledger
