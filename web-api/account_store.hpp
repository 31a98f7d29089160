#pragma once
#include "common/db.hpp"
#include "common/money.hpp"

#include <cstdint>
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

/// Filters of the operators' account list.
struct AccountFilter {
    std::string q; ///< phone or name contains
    std::optional<bool> frozen;
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

    // packages
    /// Enables or disables a recharge package. false if there is none.
    bool set_package_enabled(std::int64_t id, bool enabled);

private:
    db::Database& db_;
};

} // namespace pilehub::api
