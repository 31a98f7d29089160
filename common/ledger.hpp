#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/money.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// Wallets and their ledger (BILLING.md §4, docs/wallets.md): every change of a wallet is one
/// ledger row {kind, real_fen, bonus_fen, real_after, bonus_after, ref, operator, at,
/// idempotency_key} written in the same transaction (BEGIN IMMEDIATE) as the wallet update, on a
/// synchronous=FULL connection. The same idempotency key twice changes nothing and returns the
/// original row. Balances never go negative: refusals are outcomes, never exceptions (db::Error
/// is thrown only for infrastructure failures).
namespace pilehub::ledger {

/// What a ledger entry is (the `kind` column).
enum class Kind { Recharge, Bonus, Charge, Refund, Adjust, CardFee, Parking, Arrears, RefundOrder, RefundReversal };
/// `recharge`, `bonus`, `charge`, `refund`, `adjust`, `card_fee`, `parking` (an occupancy fee, CONTRACT E.1),
/// `arrears` (a debt paid from the wallet, common/arrears.hpp), `refund_order` (part of a session's cost given
/// back, ref = the session), `refund_reversal` (a failed channel refund part puts its real money back).
std::string_view to_string(Kind k);
std::optional<Kind> parse_kind(std::string_view s);

/// Which balance a debit draws on first (accounts.debit_order; BILLING.md: real first by default).
enum class DebitOrder { RealFirst, BonusFirst };
/// `real_first`, `bonus_first`.
std::string_view to_string(DebitOrder o);
std::optional<DebitOrder> parse_debit_order(std::string_view s);

/// The largest amount one change may move, in fen (1 000 000 yuan): keeps every sum far from overflow.
inline constexpr std::int64_t kMaxAmountFen = 100'000'000;
/// The longest idempotency key, in bytes.
inline constexpr std::size_t kMaxKeyLen = 128;

/// One ledger row.
struct Entry {
    std::int64_t id = 0;
    std::int64_t account_id = 0;
    Kind kind = Kind::Charge;
    Fen real_fen;  ///< signed change of the real balance
    Fen bonus_fen; ///< signed change of the bonus balance
    Fen real_after;
    Fen bonus_after;
    std::string ref;           ///< payment, session, refund or card id
    std::string operator_name; ///< staff user name, or the process (`billingd`, `sandbox`)
    std::string note;
    EpochMs at = 0;
    std::string idempotency_key;
    /// What the entry took out of the wallet in total (positive for a debit): a settlement's cost.
    Fen debited() const { return -(real_fen + bonus_fen); }
};

/// A wallet with the account flags that decide what it may do.
struct Wallet {
    std::int64_t account_id = 0;
    Fen balance_fen; ///< real money
    Fen bonus_fen;   ///< given by recharge packages
    bool frozen = false;
    DebitOrder debit_order = DebitOrder::RealFirst;
    EpochMs updated_at = 0;
    Fen arrears_fen; ///< what the account owes (accounts.arrears_fen): bills its wallet could not cover
    /// What a session may spend: balance + bonus.
    Fen available() const { return balance_fen + bonus_fen; }
};

/// What became of a requested change.
enum class Outcome {
    Applied,           ///< done; `entry` is the new ledger row
    Duplicate,         ///< the idempotency key was used before: nothing changed; `entry` is the original row
    UnknownAccount,    ///< no such account
    AccountFrozen,     ///< refused: staff recharges and card fees need an account that is not frozen
    InsufficientFunds, ///< refused: the wallet cannot cover it
    NotRefundable,     ///< refused: more than what was paid in and not yet spent or refunded
    InvalidAmount,     ///< refused: zero or negative where a positive amount is needed, or above kMaxAmountFen
    InvalidRequest,    ///< refused: missing or too long idempotency key, missing operator or note
    UnknownPackage,    ///< refused: no such recharge package, or it is disabled
    UnknownSession,    ///< refused (order refund): no such session, or it is not completed and settled
    ExceedsCost,       ///< refused (order refund): more than the session debited minus its earlier order refunds
};
/// `applied`, `duplicate`, `unknown_account`, `account_frozen`, `insufficient_funds`, `not_refundable`,
/// `invalid_amount`, `invalid_request`, `unknown_package`, `unknown_session`, `exceeds_cost`.
std::string_view to_string(Outcome o);

/// The result of a change: the outcome and, when Applied or Duplicate, the ledger row.
struct Posting {
    Outcome outcome = Outcome::InvalidRequest;
    std::optional<Entry> entry;
    /// Whether the wallet is as asked: Applied, or Duplicate (asked and done before).
    bool ok() const { return outcome == Outcome::Applied || outcome == Outcome::Duplicate; }
};

/// Who and why, common to every change.
struct Meta {
    std::string idempotency_key; ///< required, at most kMaxKeyLen bytes; the same key twice changes nothing
    std::string ref;             ///< payment, session, refund or card id
    std::string operator_name;   ///< staff user name or process; required for refunds and adjustments
    std::string note;            ///< required for adjustments
};

/// Money in. kind Recharge: real money paid (online or at the counter), optionally with a bonus;
/// kind Bonus: bonus only (a gift), real_fen must be 0; kind RefundReversal: real money of a failed
/// channel refund part put back (bonus_fen 0). (Kind RefundOrder is refused here: order refunds are
/// Ledger::refund_order's, bounded by their session.)
struct Credit {
    std::int64_t account_id = 0;
    Fen real_fen;
    Fen bonus_fen;
    Kind kind = Kind::Recharge;
    Meta meta;
    /// Payments already received by a provider are credited even to a frozen account; a recharge
    /// at the counter is refused for a frozen one (seeds/002 §4.4).
    bool allow_frozen = false;
};

/// Money out for a session (kind Charge, split by the debit order), a parking fee (kind Parking,
/// likewise), arrears paid (kind Arrears, likewise; only common/arrears.cpp posts it, with the
/// account's arrears_fen lowered in the same transaction) or an IC card's fee (kind CardFee, real
/// money only; refused for a frozen account).
struct Debit {
    std::int64_t account_id = 0;
    Fen amount_fen;
    Kind kind = Kind::Charge;
    Meta meta;
    /// Overrides the account's debit order (a platform setting); nothing = the account's.
    std::optional<DebitOrder> order;
    /// Debit what the wallet holds, up to amount_fen, instead of refusing (settlement: the
    /// entry then records what was actually taken, possibly 0).
    bool partial = false;
};

/// Real money returned to the rider; at most refundable(account).
struct Refund {
    std::int64_t account_id = 0;
    Fen amount_fen;
    Meta meta;
};

/// An order refund (CONTRACT F.3): part or all of a completed session's cost back to the session's
/// account (kind `refund_order`, ref = the session id; operator_name and note, the reason, required).
struct OrderRefund {
    std::string session_id;
    Fen amount_fen;
    Meta meta; ///< meta.ref is ignored: the entry's ref is the session id
};

/// What a session's settlement took and its order refunds gave back (Ledger::order_refunds).
struct OrderRefunds {
    std::int64_t account_id = 0; ///< the session's account
    Fen taken_real;              ///< the settlement's real money debit (≥ 0)
    Fen taken_bonus;             ///< the settlement's bonus debit (≥ 0)
    Fen back_real;               ///< real money its order refunds credited
    Fen back_bonus;              ///< bonus its order refunds credited
    std::vector<Entry> entries;  ///< its `refund_order` entries, oldest first
    /// What may still be refunded: debited minus refunded.
    Fen refundable() const { return taken_real + taken_bonus - back_real - back_bonus; }
};

/// A signed correction by staff (operator_name and note required); never makes a balance negative.
struct Adjustment {
    std::int64_t account_id = 0;
    Fen real_fen;
    Fen bonus_fen;
    Meta meta;
};

/// A recharge package: pay `pay_fen`, get `bonus_fen` on top.
struct Package {
    std::int64_t id = 0;
    std::optional<std::int64_t> operator_id;
    std::string name;
    Fen pay_fen;
    Fen bonus_fen;
    bool enabled = true;
};

/// A new rider account.
struct NewAccount {
    std::string phone; ///< 5..20 characters, unique
    std::string name;
    std::optional<std::int64_t> operator_id;
    DebitOrder debit_order = DebitOrder::RealFirst;
};

/// open_account's answer: Applied (new account), Duplicate (the phone already has one: its id),
/// InvalidRequest (phone not 5..20 characters).
struct Opened {
    Outcome outcome = Outcome::InvalidRequest;
    std::int64_t account_id = 0;
};

/// sessiond's pre-check before a start (BILLING.md §4, §5).
enum class StartCheck { Ok, UnknownAccount, Frozen, Arrears, BalanceTooLow };
std::string_view to_string(StartCheck c);
/// Frozen first, then arrears (an account that owes starts nothing), then balance + bonus ≥
/// min_start_balance_fen.
StartCheck check_start(const Wallet& w, Fen min_start_balance_fen);

/// How a debit of `amount` splits over a wallet: real and bonus parts (both ≥ 0) and what is left
/// uncovered. Pure; the one place the debit order is applied.
struct Split {
    Fen real_fen;
    Fen bonus_fen;
    Fen shortfall_fen;
};
Split split_debit(Fen amount, Fen balance, Fen bonus, DebitOrder order);

/// How an order refund of `amount` splits (CONTRACT F.3, docs/wallets.md "Order refunds"): real money
/// back up to what the session's settlement took from real money and earlier order refunds have not
/// yet given back, the rest as bonus. `taken_*` are the settlement's debits (≥ 0), `back_*` what
/// earlier order refunds of the session returned (≥ 0). shortfall_fen is what exceeds the session's
/// cost minus what was refunded (the refund is then refused). Pure.
Split split_order_refund(Fen amount, Fen taken_real, Fen taken_bonus, Fen back_real, Fen back_bonus);

/// The wallet and ledger store over one core-database connection. Open that connection with
/// db::Sync::Full: this is money. Each public change runs in its own BEGIN IMMEDIATE transaction;
/// the overloads taking a db::Transaction run inside the caller's (which must be open on the same
/// Database) so that other rows (a session's cost, a payment's status) commit with the entry.
/// Safe across processes: writers are serialised by SQLite, and every wallet UPDATE is conditional
/// on the balances staying ≥ 0. Not thread-safe: one Ledger per thread.
class Ledger {
public:
    explicit Ledger(db::Database& db, const Clock& clock = SystemClock::instance());

    /// Opens an account and its empty wallet in one transaction.
    Opened open_account(const NewAccount& a);
    /// Freezes or unfreezes (no ledger row: the balances do not change). Applied or UnknownAccount.
    Outcome set_frozen(std::int64_t account_id, bool frozen);
    /// Sets which balance sessions draw on first. Applied or UnknownAccount.
    Outcome set_debit_order(std::int64_t account_id, DebitOrder order);

    Posting credit(const Credit& c);
    Posting credit(db::Transaction& tx, const Credit& c);
    /// A recharge by package: real = pay_fen, bonus = the package's bonus_fen.
    Posting recharge_package(std::int64_t account_id, std::int64_t package_id, const Meta& meta,
                             bool allow_frozen = false);
    Posting debit(const Debit& d);
    Posting debit(db::Transaction& tx, const Debit& d);
    Posting refund(const Refund& r);
    Posting refund(db::Transaction& tx, const Refund& r);
    /// An order refund, in its own transaction or the caller's: refused UnknownSession unless the
    /// session is completed and settled, ExceedsCost when the amount is more than the session
    /// debited minus what its earlier order refunds gave back (checked under the write lock, so two
    /// operators cannot together refund more). Split by split_order_refund (real money back up to the
    /// real money taken, the rest as bonus); credited to a frozen account too (it is the rider's).
    Posting refund_order(const OrderRefund& r);
    Posting refund_order(db::Transaction& tx, const OrderRefund& r);
    /// A session's settlement debits and order refunds; nothing when the session is not settled.
    std::optional<OrderRefunds> order_refunds(std::string_view session_id);
    Posting adjust(const Adjustment& a);
    Posting adjust(db::Transaction& tx, const Adjustment& a);

    /// The wallet and its flags (balance pre-check); nothing for an unknown account.
    std::optional<Wallet> wallet(std::int64_t account_id);
    /// balance + bonus; 0 for an unknown account.
    Fen available(std::int64_t account_id);
    /// sessiond's pre-check: UnknownAccount, Frozen, BalanceTooLow or Ok.
    StartCheck check_start(std::int64_t account_id, Fen min_start_balance_fen);
    /// Real money that may be refunded: paid in (recharges, and the real money order refunds and
    /// reversed refund parts gave back) minus what was spent (charges, card fees, parking fees,
    /// arrears, negative adjustments) and refunded, at most the real balance, never below 0. Money
    /// an operator added by adjustment is not refundable as cash.
    Fen refundable(std::int64_t account_id);

    /// The row with this idempotency key, if any.
    std::optional<Entry> entry_by_key(std::string_view key);
    /// An account's entries, newest first; `before_id` > 0 pages on (entries with id < before_id).
    std::vector<Entry> entries(std::int64_t account_id, int limit = 50, std::int64_t before_id = 0);

    /// Adds a recharge package; returns its id.
    std::int64_t add_package(const Package& p);
    std::optional<Package> package(std::int64_t id);
    /// Every package, or only the enabled ones.
    std::vector<Package> packages(bool enabled_only = true);

private:
    std::optional<Wallet> wallet_in_tx(std::int64_t account_id);
    Posting post(Kind kind, std::int64_t account_id, Fen real_delta, Fen bonus_delta, const Meta& meta);
    db::Database& db_;
    const Clock& clock_;
};

/// One broken invariant found by audit().
struct Violation {
    std::string what; ///< e.g. "wallet 7: balance_fen 120 != sum of ledger real_fen 100"
};

/// Checks the ledger invariants (BILLING.md §4; `pilehubctl audit`): every wallet's balance and
/// bonus equal the sums of its entries; nothing negative; each account's real_after/bonus_after
/// chain is consistent entry by entry; exactly one settlement entry (`settle:<sid>`) per completed
/// session and none for any other session; each completed session's cost_fen equals its
/// settlement's debit (and its settlements row, when there is one); each settlements row has
/// priced = debited + shortfall and, where set, electricity_fen + service_fen = priced_fen; a session
/// with a charger's meter readings has energy_wh = meter_stop_wh − meter_start_wh; each parking fee
/// entry (`park:<id>`, kind parking) is the whole fee of a paid stay, debited once from the account
/// the stay names, every paid stay has one, an unpaid stay owes exactly its fee; every account's
/// arrears_fen = Σ its settlements' shortfalls − Σ its `arrears` entries' debits, never negative,
/// and `arrears` entries only debit; a session's `refund_order` entries credit the session's
/// account, the session is completed and they sum to at most its cost_fen. Read-only.
std::vector<Violation> audit(db::Database& db);

} // namespace pilehub::ledger
