// AccountStore's card changes that own their transaction: the card row and the fee's debit are
// written together or not at all.
#include "web-api/account_store.hpp"

#include "api_test_util.hpp"
#include "tests/support/registry_seed.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using namespace pilehub::api;

namespace {

struct World {
    db::Database d{testutil::temp_db("cards")};
    ManualClock clock{1'000'000};
    std::int64_t station = test::register_piles(d, {"pa"}, 10, "A");
    AccountStore accounts{d};
    std::int64_t rich = open("13800000001", 1000);
    std::int64_t poor = open("13800000002", 0);

    std::int64_t open(const std::string& phone, std::int64_t fen) {
        ledger::Ledger l(d, clock);
        const auto id =
            l.open_account(ledger::NewAccount{phone, "", std::nullopt, ledger::DebitOrder::RealFirst}).account_id;
        if (fen > 0) {
            ledger::Credit c;
            c.account_id = id;
            c.real_fen = Fen(fen);
            c.meta = ledger::Meta{"seed:" + phone, "seed", "counter", ""};
            REQUIRE(l.credit(c).ok());
        }
        return id;
    }

    CardRow card(const std::string& no, std::optional<std::int64_t> account, std::int64_t fee_fen = 500) {
        CardRow c;
        c.card_no = no;
        c.account_id = account;
        c.status = account ? "active" : "unbound";
        c.fee_fen = fee_fen;
        c.issued_at = clock.now_ms();
        if (account)
            c.bound_at = clock.now_ms();
        c.station_id = station;
        return c;
    }

    CardFee fee(std::int64_t account, std::int64_t fen, const std::string& key) {
        return CardFee{account, fen, key, "staff"};
    }

    std::int64_t balance(std::int64_t account) { return accounts.account(account)->balance_fen; }
};

} // namespace

TEST_CASE("cards: an issue writes the card and its fee's debit together") {
    World w;
    const auto done = w.accounts.issue_card(w.card("C0001", w.rich), w.fee(w.rich, 500, "k1"), w.clock);
    CHECK(done.done());
    CHECK(done.fee.outcome == ledger::Outcome::Applied);
    REQUIRE(w.accounts.card("C0001"));
    CHECK(w.accounts.card("C0001")->account_id == w.rich);
    CHECK(w.balance(w.rich) == 500);
}

TEST_CASE("cards: an issue whose fee the wallet cannot pay writes nothing") {
    World w;
    const auto refused = w.accounts.issue_card(w.card("C0001", w.poor), w.fee(w.poor, 500, "k1"), w.clock);
    CHECK_FALSE(refused.done());
    CHECK(refused.card_changed);
    CHECK(refused.fee.outcome == ledger::Outcome::InsufficientFunds);
    CHECK_FALSE(w.accounts.card("C0001").has_value());
}

TEST_CASE("cards: no fee, or a fee of 0, debits nothing") {
    World w;
    CHECK(w.accounts.issue_card(w.card("C0001", std::nullopt), std::nullopt, w.clock).done());
    CHECK(w.accounts.issue_card(w.card("C0002", w.poor, 0), w.fee(w.poor, 0, "k2"), w.clock).done());
    CHECK(w.accounts.card("C0001"));
    CHECK(w.accounts.card("C0002"));
    CHECK(w.accounts.ledger(w.poor, 10, std::nullopt).empty());
}

TEST_CASE("cards: a bind that finds the card changed, or cannot pay its fee, writes nothing") {
    World w;
    REQUIRE(w.accounts.issue_card(w.card("C0001", std::nullopt), std::nullopt, w.clock).done());
    const auto other = w.open("13800000003", 0);
    REQUIRE(w.accounts.issue_card(w.card("C0002", other, 0), std::nullopt, w.clock).done());

    const auto taken =
        w.accounts.bind_card_charging("C0002", w.rich, "", w.clock.now_ms(), w.fee(w.rich, 500, "k1"), w.clock);
    CHECK_FALSE(taken.card_changed);
    CHECK_FALSE(taken.done());
    CHECK(w.balance(w.rich) == 1000);

    const auto unpaid =
        w.accounts.bind_card_charging("C0001", w.poor, "", w.clock.now_ms(), w.fee(w.poor, 500, "k2"), w.clock);
    CHECK(unpaid.card_changed);
    CHECK(unpaid.fee.outcome == ledger::Outcome::InsufficientFunds);
    CHECK(w.accounts.card("C0001")->status == "unbound");

    const auto paid =
        w.accounts.bind_card_charging("C0001", w.rich, "mine", w.clock.now_ms(), w.fee(w.rich, 500, "k3"), w.clock);
    CHECK(paid.done());
    CHECK(w.accounts.card("C0001")->account_id == w.rich);
    CHECK(w.accounts.card("C0001")->name == "mine");
    CHECK(w.balance(w.rich) == 500);
}

TEST_CASE("cards: a replacement retires the old card and issues the new one with its fee, or writes nothing") {
    World w;
    REQUIRE(w.accounts.issue_card(w.card("C0001", w.rich, 0), std::nullopt, w.clock).done());

    const auto stale =
        w.accounts.replace_card("C0001", "lost", w.card("C0002", w.rich), w.fee(w.rich, 300, "k1"), w.clock);
    CHECK_FALSE(stale.card_changed);
    CHECK_FALSE(w.accounts.card("C0002").has_value());

    const auto unpaid =
        w.accounts.replace_card("C0001", "active", w.card("C0002", w.rich), w.fee(w.rich, 5000, "k2"), w.clock);
    CHECK(unpaid.card_changed);
    CHECK(unpaid.fee.outcome == ledger::Outcome::InsufficientFunds);
    CHECK(w.accounts.card("C0001")->status == "active");
    CHECK_FALSE(w.accounts.card("C0002").has_value());

    const auto done =
        w.accounts.replace_card("C0001", "active", w.card("C0002", w.rich), w.fee(w.rich, 300, "k3"), w.clock);
    CHECK(done.done());
    CHECK(w.accounts.card("C0001")->status == "replaced");
    CHECK(w.accounts.card("C0002")->status == "active");
    CHECK(w.balance(w.rich) == 700);
}
