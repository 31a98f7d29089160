#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/ledger.hpp"
#include "common/money.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

/// Riders' accounts, the ledger, IC cards and recharge packages (schema/core/002): the API's
/// reads and its card and package SQL. Every change of a wallet goes through common/ledger.hpp.
namespace pilehub::api {

struct AccountRow {
    std::int64_t id = 0;
    std::string phone, name;
    bool frozen = false;
    std::optional<std::int64_t> home_station_id;
    EpochMs created_at = 0;
    std::int64_t balance_fen = 0;
    std::int64_t bonus_fen = 0;
    std::int64_t arrears_fen = 0; ///< what the account owes (BILLING §5)
};

struct LedgerRow {
    std::int64_t id = 0;
    std::int64_t account_id = 0;
    std::string kind;
    std::int64_t real_fen = 0, bonus_fen = 0, real_after = 0, bonus_after = 0;
    std::string ref, op, note, idempotency_key;
    EpochMs at = 0;
    std::string phone; ///< the account's, in admin listings
};

struct CardRow {
    std::string card_no;
    std::optional<std::int64_t> account_id;
    std::string name, status;
    std::int64_t fee_fen = 0;
    EpochMs issued_at = 0;
    std::optional<EpochMs> bound_at;
    std::optional<std::int64_t> station_id;
};

/// An IC card's fee, debited (`card_fee`, real money only, the card as ref, through
/// common/ledger.hpp) in the transaction of the card change that asks for it; nothing for a fee
/// of 0. Every path that binds a card to an account charges through here: the operator's issue,
/// bind and replace, and the rider's own bind.
struct CardFee {
    std::int64_t account_id = 0;
    std::int64_t fee_fen = 0;
    std::string idempotency_key;
    std::string actor; ///< staff user name, or `rider`
};

/// How a card change that owns its transaction ended: nothing was written unless done().
struct CardChange {
    bool card_changed = true; ///< false: the card changed meanwhile (its conditional update matched nothing)
    ledger::Posting fee{ledger::Outcome::Applied, std::nullopt}; ///< the fee's debit (Applied when none was due)
    bool done() const { return card_changed && fee.ok(); }
};

/// Filters of the operators' account list.
struct AccountFilter {
    std::string q; ///< phone or name contains, or the number of one of its cards
    std::optional<bool> frozen;
    std::optional<std::int64_t> station_id;      ///< one home station
    std::optional<std::set<std::int64_t>> scope; ///< home stations in scope (nullopt: every account)
    std::int64_t limit = 50, offset = 0;
};

class AccountStore {
public:
    explicit AccountStore(db::Database& d) : db_(d) {}

    std::optional<AccountRow> account(std::int64_t id);
    std::optional<AccountRow> by_phone(const std::string& phone);
    std::vector<AccountRow> accounts(const AccountFilter& f);
    bool set_name(std::int64_t id, const std::string& name);
    /// Sets the station an account was opened at (the scope operators see it in).
    void set_home_station(std::int64_t id, std::int64_t station_id);

    std::vector<LedgerRow> ledger(std::int64_t account_id, std::int64_t limit, std::optional<std::int64_t> before_id);
    /// Every ledger row in [from, to), newest first (admins; exports), optionally of accounts in scope.
    std::vector<LedgerRow> ledger_between(EpochMs from, EpochMs to, std::optional<std::int64_t> account_id,
                                          const std::string& kind, std::int64_t limit, std::int64_t offset);

    // cards
    std::optional<CardRow> card(const std::string& card_no);
    std::optional<CardRow> active_card(std::int64_t account_id);
    std::vector<CardRow> cards(std::optional<std::int64_t> account_id, const std::string& status, std::int64_t limit,
                               std::int64_t offset);
    void add_card(const CardRow& c);
    bool bind_card(const std::string& card_no, std::int64_t account_id, const std::string& name, EpochMs now);
    bool set_card_status(const std::string& card_no, const std::string& from_status, const std::string& to_status);
    /// An active card leaves its account (status unbound); it may be bound again later.
    bool unbind_card(const std::string& card_no);
    /// Issues a card and debits its fee, if any, in one transaction.
    CardChange issue_card(const CardRow& c, const std::optional<CardFee>& fee, const Clock& clock);
    /// A counter recharge: credits the wallet and, in the same transaction, pays the account's
    /// arrears from it (arrears::collect) and, when real money came in, the unpaid parking stays of
    /// the account's plates (parking::collect_unpaid, BILLING §5).
    ledger::Posting recharge(const ledger::Credit& c, const Clock& clock);
    /// An order refund (ledger::Ledger::refund_order) and the arrears it pays, in one transaction.
    /// `check` runs first inside it (under the write lock), e.g. the operator's daily refund limit:
    /// what it throws refuses the refund and changes nothing.
    ledger::Posting refund_order(const ledger::OrderRefund& r, const Clock& clock,
                                 const std::function<void()>& check = {});
    /// Binds a card (as bind_card) and debits its fee, if any, in one transaction.
    CardChange bind_card_charging(const std::string& card_no, std::int64_t account_id, const std::string& name,
                                  EpochMs now, const std::optional<CardFee>& fee, const Clock& clock);
    /// Retires a card (status `from_status` to replaced), issues its successor and debits the new
    /// card's fee, in one transaction.
    CardChange replace_card(const std::string& old_card_no, const std::string& from_status, const CardRow& new_card,
                            const CardFee& fee, const Clock& clock);

    // packages
    /// Replaces a package's name, price, bonus and enabled flag. false if there is none.
    bool update_package(const ledger::Package& p);

private:
    /// Debits `fee` for `card_no` inside `tx`.
    ledger::Posting charge(db::Transaction& tx, const std::string& card_no, const CardFee& fee, const Clock& clock);

    db::Database& db_;
};

} // namespace pilehub::api
