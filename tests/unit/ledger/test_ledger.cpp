#include "tests/unit/ledger/ledger_fixture.hpp"

#include "common/arrears.hpp"
#include "common/ledger.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace pilehub;
using pilehub::test::MoneyDb;

namespace {

ledger::Meta key(std::string k, std::string op = "staff") {
    ledger::Meta m;
    m.idempotency_key = std::move(k);
    m.operator_name = std::move(op);
    return m;
}

ledger::Debit charge(std::int64_t account, std::int64_t fen, std::string k) {
    ledger::Debit d;
    d.account_id = account;
    d.amount_fen = Fen(fen);
    d.meta = key(std::move(k), "billingd");
    return d;
}

ledger::Credit recharge(std::int64_t account, std::int64_t real, std::int64_t bonus, std::string k) {
    ledger::Credit c;
    c.account_id = account;
    c.real_fen = Fen(real);
    c.bonus_fen = Fen(bonus);
    c.meta = key(std::move(k));
    return c;
}

ledger::Refund refund(std::int64_t account, std::int64_t fen, std::string k) {
    ledger::Refund r;
    r.account_id = account;
    r.amount_fen = Fen(fen);
    r.meta = key(std::move(k));
    return r;
}

} // namespace

TEST_CASE("ledger: opening an account creates an empty wallet; a phone number opens one account only") {
    MoneyDb m("ledger-open");
    const auto a = m.ledger->open_account({"13800000001", "Guo", std::nullopt, ledger::DebitOrder::RealFirst});
    REQUIRE(a.outcome == ledger::Outcome::Applied);
    const auto w = m.ledger->wallet(a.account_id);
    REQUIRE(w);
    CHECK(w->balance_fen == Fen(0));
    CHECK(w->bonus_fen == Fen(0));
    CHECK_FALSE(w->frozen);
    const auto again =
        m.ledger->open_account({"13800000001", "Someone else", std::nullopt, ledger::DebitOrder::RealFirst});
    CHECK(again.outcome == ledger::Outcome::Duplicate);
    CHECK(again.account_id == a.account_id);
    CHECK(m.ledger->open_account({"123", "", std::nullopt, ledger::DebitOrder::RealFirst}).outcome ==
          ledger::Outcome::InvalidRequest);
    CHECK(m.count("SELECT count(*) FROM accounts") == 1);
}

TEST_CASE("ledger: every change is one entry carrying the balances after it") {
    MoneyDb m("ledger-entry");
    const auto a = m.account(1);
    auto c = recharge(a, 5000, 100, "pay:sandbox:t1");
    c.meta.ref = "pay_1";
    const auto p = m.ledger->credit(c);
    REQUIRE(p.outcome == ledger::Outcome::Applied);
    REQUIRE(p.entry);
    CHECK(p.entry->kind == ledger::Kind::Recharge);
    CHECK(p.entry->real_fen == Fen(5000));
    CHECK(p.entry->bonus_fen == Fen(100));
    CHECK(p.entry->real_after == Fen(5000));
    CHECK(p.entry->bonus_after == Fen(100));
    CHECK(p.entry->ref == "pay_1");
    CHECK(p.entry->operator_name == "staff");
    CHECK(p.entry->at == m.clock.now_ms());
    const auto d = m.ledger->debit(charge(a, 30, "charge:s1"));
    REQUIRE(d.outcome == ledger::Outcome::Applied);
    CHECK(d.entry->real_fen == Fen(-30));
    CHECK(d.entry->real_after == Fen(4970));
    CHECK(d.entry->debited() == Fen(30));
    const auto rows = m.ledger->entries(a);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].idempotency_key == "charge:s1"); // newest first
    CHECK(rows[1].idempotency_key == "pay:sandbox:t1");
    CHECK(m.ledger->entries(a, 50, rows[0].id).size() == 1);
    CHECK(ledger::audit(*m.core).empty());
}

TEST_CASE("ledger: a package recharge adds its bonus on top (pay 50 yuan, get 1 yuan)") {
    MoneyDb m("ledger-package");
    const auto a = m.account(1);
    const auto pkg = m.ledger->add_package({0, std::nullopt, "50 get 1", Fen(5000), Fen(100), true});
    const auto p = m.ledger->recharge_package(a, pkg, key("counter:1"));
    REQUIRE(p.outcome == ledger::Outcome::Applied);
    CHECK(m.balance(a) == 5000);
    CHECK(m.bonus(a) == 100);
    const auto off = m.ledger->add_package({0, std::nullopt, "old", Fen(2000), Fen(50), false});
    CHECK(m.ledger->recharge_package(a, off, key("counter:2")).outcome == ledger::Outcome::UnknownPackage);
    CHECK(m.ledger->recharge_package(a, 999, key("counter:3")).outcome == ledger::Outcome::UnknownPackage);
    CHECK(m.ledger->packages().size() == 1);
    CHECK(m.ledger->packages(false).size() == 2);
}

TEST_CASE("ledger: a session is debited from real money first, then from the bonus") {
    MoneyDb m("ledger-real-first");
    const auto a = m.account(1, 100, 50);
    const auto p = m.ledger->debit(charge(a, 120, "charge:s1"));
    REQUIRE(p.outcome == ledger::Outcome::Applied);
    CHECK(p.entry->real_fen == Fen(-100));
    CHECK(p.entry->bonus_fen == Fen(-20));
    CHECK(m.balance(a) == 0);
    CHECK(m.bonus(a) == 30);
}

TEST_CASE("ledger: an account set to bonus_first spends its bonus before real money; a platform setting overrides") {
    MoneyDb m("ledger-bonus-first");
    const auto a = m.account(1, 100, 50);
    REQUIRE(m.ledger->set_debit_order(a, ledger::DebitOrder::BonusFirst) == ledger::Outcome::Applied);
    const auto p = m.ledger->debit(charge(a, 70, "charge:s1"));
    REQUIRE(p.outcome == ledger::Outcome::Applied);
    CHECK(p.entry->bonus_fen == Fen(-50));
    CHECK(p.entry->real_fen == Fen(-20));
    CHECK(m.balance(a) == 80);
    CHECK(m.bonus(a) == 0);

    const auto b = m.account(2, 100, 50);
    REQUIRE(m.ledger->set_debit_order(b, ledger::DebitOrder::BonusFirst) == ledger::Outcome::Applied);
    auto d = charge(b, 30, "charge:s2");
    d.order = ledger::DebitOrder::RealFirst;
    const auto q = m.ledger->debit(d);
    CHECK(q.entry->real_fen == Fen(-30));
    CHECK(q.entry->bonus_fen == Fen(0));
    CHECK(m.ledger->set_debit_order(999, ledger::DebitOrder::RealFirst) == ledger::Outcome::UnknownAccount);
}

TEST_CASE("ledger: split_debit applies the debit order and reports what it cannot cover") {
    using ledger::DebitOrder;
    auto s = ledger::split_debit(Fen(120), Fen(100), Fen(50), DebitOrder::RealFirst);
    CHECK(s.real_fen == Fen(100));
    CHECK(s.bonus_fen == Fen(20));
    CHECK(s.shortfall_fen == Fen(0));
    s = ledger::split_debit(Fen(120), Fen(100), Fen(50), DebitOrder::BonusFirst);
    CHECK(s.bonus_fen == Fen(50));
    CHECK(s.real_fen == Fen(70));
    s = ledger::split_debit(Fen(200), Fen(100), Fen(50), DebitOrder::RealFirst);
    CHECK(s.real_fen == Fen(100));
    CHECK(s.bonus_fen == Fen(50));
    CHECK(s.shortfall_fen == Fen(50));
    s = ledger::split_debit(Fen(0), Fen(100), Fen(50), DebitOrder::RealFirst);
    CHECK(s.real_fen + s.bonus_fen + s.shortfall_fen == Fen(0));
}

TEST_CASE("ledger: a debit the wallet cannot cover is refused and changes nothing") {
    MoneyDb m("ledger-insufficient");
    const auto a = m.account(1, 100, 20);
    const auto rows = m.ledger_rows();
    const auto p = m.ledger->debit(charge(a, 121, "charge:s1"));
    CHECK(p.outcome == ledger::Outcome::InsufficientFunds);
    CHECK_FALSE(p.entry);
    CHECK(m.balance(a) == 100);
    CHECK(m.bonus(a) == 20);
    CHECK(m.ledger_rows() == rows);
    // The key was not consumed by the refusal: the same settlement may be retried.
    CHECK_FALSE(m.ledger->entry_by_key("charge:s1"));
}

TEST_CASE("ledger: a partial debit takes what the wallet holds and never goes negative") {
    MoneyDb m("ledger-partial");
    const auto a = m.account(1, 100, 20);
    auto d = charge(a, 500, "charge:s1");
    d.partial = true;
    const auto p = m.ledger->debit(d);
    REQUIRE(p.outcome == ledger::Outcome::Applied);
    CHECK(p.entry->debited() == Fen(120));
    CHECK(m.balance(a) == 0);
    CHECK(m.bonus(a) == 0);
    auto z = charge(a, 40, "charge:s2");
    z.partial = true;
    const auto q = m.ledger->debit(z);
    REQUIRE(q.outcome == ledger::Outcome::Applied);
    CHECK(q.entry->debited() == Fen(0));
    CHECK(ledger::audit(*m.core).empty());
}

TEST_CASE("ledger: the same idempotency key twice changes nothing and returns the original entry") {
    MoneyDb m("ledger-idempotent");
    const auto a = m.account(1);
    const auto first = m.ledger->credit(recharge(a, 1000, 10, "pay:sandbox:t1"));
    REQUIRE(first.outcome == ledger::Outcome::Applied);
    const auto again = m.ledger->credit(recharge(a, 1000, 10, "pay:sandbox:t1"));
    CHECK(again.outcome == ledger::Outcome::Duplicate);
    CHECK(again.ok());
    REQUIRE(again.entry);
    CHECK(again.entry->id == first.entry->id);
    // A different amount under the same key is still the first change, not a second one.
    CHECK(m.ledger->credit(recharge(a, 9999, 0, "pay:sandbox:t1")).entry->real_fen == Fen(1000));

    const auto d1 = m.ledger->debit(charge(a, 300, "charge:s1"));
    const auto d2 = m.ledger->debit(charge(a, 300, "charge:s1"));
    CHECK(d2.outcome == ledger::Outcome::Duplicate);
    CHECK(d2.entry->id == d1.entry->id);
    const auto r1 = m.ledger->refund(refund(a, 200, "refund:1"));
    REQUIRE(r1.outcome == ledger::Outcome::Applied);
    CHECK(m.ledger->refund(refund(a, 200, "refund:1")).outcome == ledger::Outcome::Duplicate);

    CHECK(m.balance(a) == 500);
    CHECK(m.bonus(a) == 10);
    CHECK(m.ledger_rows() == 3);
    CHECK(ledger::audit(*m.core).empty());
}

TEST_CASE("ledger: a change without an idempotency key, or with one too long, is refused") {
    MoneyDb m("ledger-keys");
    const auto a = m.account(1);
    CHECK(m.ledger->credit(recharge(a, 100, 0, "")).outcome == ledger::Outcome::InvalidRequest);
    CHECK(m.ledger->credit(recharge(a, 100, 0, std::string(ledger::kMaxKeyLen + 1, 'k'))).outcome ==
          ledger::Outcome::InvalidRequest);
    CHECK(m.ledger->credit(recharge(a, 0, 0, "k0")).outcome == ledger::Outcome::InvalidAmount);
    CHECK(m.ledger->credit(recharge(a, -5, 0, "k1")).outcome == ledger::Outcome::InvalidAmount);
    CHECK(m.ledger->credit(recharge(a, ledger::kMaxAmountFen + 1, 0, "k2")).outcome == ledger::Outcome::InvalidAmount);
    CHECK(m.ledger->credit(recharge(999, 100, 0, "k3")).outcome == ledger::Outcome::UnknownAccount);
    CHECK(m.ledger_rows() == 0);
}

TEST_CASE("ledger: refunds return real money only, never more than paid in and not yet spent or refunded") {
    MoneyDb m("ledger-refund");
    const auto a = m.account(1);
    REQUIRE(m.ledger->credit(recharge(a, 10000, 200, "pay:1")).ok());
    REQUIRE(m.ledger->debit(charge(a, 3000, "charge:s1")).ok());
    CHECK(m.ledger->refundable(a) == Fen(7000));
    CHECK(m.ledger->refund(refund(a, 7001, "refund:1")).outcome == ledger::Outcome::NotRefundable);
    CHECK(m.balance(a) == 7000);
    const auto r = m.ledger->refund(refund(a, 5000, "refund:2"));
    REQUIRE(r.outcome == ledger::Outcome::Applied);
    CHECK(r.entry->kind == ledger::Kind::Refund);
    CHECK(r.entry->real_fen == Fen(-5000));
    CHECK(r.entry->bonus_fen == Fen(0)); // the bonus is never refunded
    CHECK(m.ledger->refundable(a) == Fen(2000));
    REQUIRE(m.ledger->refund(refund(a, 2000, "refund:3")).ok());
    CHECK(m.ledger->refundable(a) == Fen(0));
    CHECK(m.ledger->refund(refund(a, 1, "refund:4")).outcome == ledger::Outcome::NotRefundable);
    CHECK(m.balance(a) == 0);
    CHECK(m.bonus(a) == 200);
    // A refund needs a positive amount and the staff member who made it.
    CHECK(m.ledger->refund(refund(a, 0, "refund:5")).outcome == ledger::Outcome::InvalidAmount);
    auto anonymous = refund(a, 1, "refund:6");
    anonymous.meta.operator_name.clear();
    CHECK(m.ledger->refund(anonymous).outcome == ledger::Outcome::InvalidRequest);
    CHECK(ledger::audit(*m.core).empty());
}

TEST_CASE("ledger: money an operator added by adjustment is spent but never refunded as cash") {
    MoneyDb m("ledger-refund-adjust");
    const auto a = m.account(1);
    REQUIRE(m.ledger->credit(recharge(a, 1000, 0, "pay:1")).ok());
    ledger::Adjustment adj;
    adj.account_id = a;
    adj.real_fen = Fen(500);
    adj.meta = key("adjust:1");
    adj.meta.note = "compensation for a faulty socket";
    REQUIRE(m.ledger->adjust(adj).outcome == ledger::Outcome::Applied);
    CHECK(m.balance(a) == 1500);
    CHECK(m.ledger->refundable(a) == Fen(1000));
    REQUIRE(m.ledger->debit(charge(a, 800, "charge:s1")).ok());
    CHECK(m.ledger->refundable(a) == Fen(200));
}

TEST_CASE("ledger: adjustments need an operator and a note and never make a balance negative") {
    MoneyDb m("ledger-adjust");
    const auto a = m.account(1, 100, 10);
    ledger::Adjustment adj;
    adj.account_id = a;
    adj.real_fen = Fen(-150);
    adj.meta = key("adjust:1");
    adj.meta.note = "typo at the counter";
    CHECK(m.ledger->adjust(adj).outcome == ledger::Outcome::InsufficientFunds);
    adj.real_fen = Fen(-100);
    adj.bonus_fen = Fen(-10);
    adj.meta.note.clear();
    CHECK(m.ledger->adjust(adj).outcome == ledger::Outcome::InvalidRequest);
    adj.meta.note = "typo at the counter";
    const auto p = m.ledger->adjust(adj);
    REQUIRE(p.outcome == ledger::Outcome::Applied);
    CHECK(p.entry->kind == ledger::Kind::Adjust);
    CHECK(m.balance(a) == 0);
    CHECK(m.bonus(a) == 0);
    CHECK(ledger::audit(*m.core).empty());
}

TEST_CASE("ledger: a card fee is real money only, and not from a frozen account") {
    MoneyDb m("ledger-card-fee");
    const auto a = m.account(1, 0, 500);
    ledger::Debit fee;
    fee.account_id = a;
    fee.amount_fen = Fen(1);
    fee.kind = ledger::Kind::CardFee;
    fee.meta = key("card_fee:A1B2C3D4");
    fee.meta.ref = "A1B2C3D4";
    CHECK(m.ledger->debit(fee).outcome == ledger::Outcome::InsufficientFunds); // bonus does not pay fees
    REQUIRE(m.ledger->credit(recharge(a, 100, 0, "counter:1")).ok());
    const auto p = m.ledger->debit(fee);
    REQUIRE(p.outcome == ledger::Outcome::Applied);
    CHECK(p.entry->kind == ledger::Kind::CardFee);
    CHECK(p.entry->real_fen == Fen(-1));
    CHECK(p.entry->bonus_fen == Fen(0));
    CHECK(p.entry->ref == "A1B2C3D4");
    // Not refundable either: a fee is spent money.
    CHECK(m.ledger->refundable(a) == Fen(99));

    const auto b = m.account(2, 100, 0);
    REQUIRE(m.ledger->set_frozen(b, true) == ledger::Outcome::Applied);
    fee.account_id = b;
    fee.meta = key("card_fee:B");
    CHECK(m.ledger->debit(fee).outcome == ledger::Outcome::AccountFrozen);
}

TEST_CASE("ledger: a frozen account starts nothing and takes no counter recharge, but paid money and settlements still "
          "post") {
    MoneyDb m("ledger-frozen");
    const auto a = m.account(1, 1000, 0);
    CHECK(m.ledger->check_start(a, Fen(200)) == ledger::StartCheck::Ok);
    REQUIRE(m.ledger->set_frozen(a, true) == ledger::Outcome::Applied);
    CHECK(m.ledger->wallet(a)->frozen);
    CHECK(m.ledger->check_start(a, Fen(200)) == ledger::StartCheck::Frozen);
    CHECK(m.ledger->check_start(a, Fen(0)) == ledger::StartCheck::Frozen);
    CHECK(m.ledger->credit(recharge(a, 100, 0, "counter:1")).outcome == ledger::Outcome::AccountFrozen);
    auto paid = recharge(a, 100, 0, "pay:sandbox:t1");
    paid.allow_frozen = true;
    CHECK(m.ledger->credit(paid).outcome == ledger::Outcome::Applied);
    CHECK(m.ledger->debit(charge(a, 300, "charge:s1")).outcome == ledger::Outcome::Applied);
    CHECK(m.ledger->refund(refund(a, 100, "refund:1")).outcome == ledger::Outcome::Applied);
    REQUIRE(m.ledger->set_frozen(a, false) == ledger::Outcome::Applied);
    CHECK(m.ledger->check_start(a, Fen(200)) == ledger::StartCheck::Ok);
    CHECK(m.ledger->set_frozen(999, true) == ledger::Outcome::UnknownAccount);
}

TEST_CASE("ledger: a session may start only if balance + bonus ≥ min_start_balance_fen") {
    MoneyDb m("ledger-start");
    const auto a = m.account(1, 150, 49);
    CHECK(m.ledger->available(a) == Fen(199));
    CHECK(m.ledger->check_start(a, Fen(200)) == ledger::StartCheck::BalanceTooLow);
    REQUIRE(m.ledger->credit(recharge(a, 1, 0, "counter:1")).ok());
    CHECK(m.ledger->check_start(a, Fen(200)) == ledger::StartCheck::Ok);
    CHECK(m.ledger->check_start(999, Fen(0)) == ledger::StartCheck::UnknownAccount);
    CHECK(m.ledger->available(999) == Fen(0));
    CHECK(ledger::to_string(ledger::StartCheck::BalanceTooLow) == "balance_too_low");
}

TEST_CASE("ledger: the schema itself refuses a negative balance") {
    MoneyDb m("ledger-check");
    const auto a = m.account(1, 10, 0);
    db::Statement st(*m.core, "UPDATE wallets SET balance_fen = -1 WHERE account_id = ?");
    st.bind(1, a);
    try {
        st.run();
        FAIL("a negative balance was stored");
    } catch (const db::Error& e) {
        CHECK(e.is_constraint());
    }
    CHECK(m.balance(a) == 10);
}

TEST_CASE("ledger: an account opened elsewhere without a wallet row gets an empty wallet on first use") {
    MoneyDb m("ledger-no-wallet");
    m.core->exec("INSERT INTO accounts (id, phone, created_at) VALUES (42, '13900000042', 0)");
    CHECK(m.ledger->wallet(42)->available() == Fen(0));
    REQUIRE(m.ledger->credit(recharge(42, 300, 0, "counter:1")).outcome == ledger::Outcome::Applied);
    CHECK(m.balance(42) == 300);
    CHECK(ledger::audit(*m.core).empty());
}

TEST_CASE("ledger: audit finds a wallet that disagrees with its ledger, a broken chain and stray settlements") {
    MoneyDb m("ledger-audit");
    const auto a = m.account(1, 1000, 100);
    REQUIRE(m.ledger->debit(charge(a, 250, "settle:s1")).ok());
    // settle:s1 refers to no session: that alone is a violation.
    auto v = ledger::audit(*m.core);
    REQUIRE(v.size() == 1);
    CHECK(v[0].what.find("unknown session s1") != std::string::npos);

    m.session({.id = "s1", .account_id = a, .state = "completed"});
    m.core->exec("UPDATE sessions SET cost_fen = 250 WHERE id = 's1'");
    CHECK(ledger::audit(*m.core).empty());

    m.core->exec("UPDATE sessions SET cost_fen = 240 WHERE id = 's1'");
    v = ledger::audit(*m.core);
    REQUIRE(v.size() == 1);
    CHECK(v[0].what.find("cost_fen 240 != its settlement's debit 250") != std::string::npos);
    m.core->exec("UPDATE sessions SET cost_fen = 250 WHERE id = 's1'");

    m.core->exec(fmt::format("UPDATE wallets SET balance_fen = balance_fen + 1 WHERE account_id = {}", a));
    v = ledger::audit(*m.core);
    REQUIRE(v.size() == 1);
    CHECK(v[0].what.find("balance_fen 751 != sum of ledger real_fen 750") != std::string::npos);
    m.core->exec(fmt::format("UPDATE wallets SET balance_fen = balance_fen - 1 WHERE account_id = {}", a));

    m.core->exec("UPDATE ledger SET real_after = real_after + 5 WHERE idempotency_key = 'open:1'");
    v = ledger::audit(*m.core);
    CHECK(v.size() == 2); // the row itself and the next one, which no longer follows it
    m.core->exec("UPDATE ledger SET real_after = real_after - 5 WHERE idempotency_key = 'open:1'");

    m.session({.id = "s2", .account_id = a, .state = "completed"});
    m.core->exec("UPDATE sessions SET cost_fen = 0 WHERE id = 's2'");
    v = ledger::audit(*m.core);
    REQUIRE(v.size() == 1);
    CHECK(v[0].what.find("session s2: completed without a settlement entry") != std::string::npos);
}

TEST_CASE("arrears: a wallet pays min(arrears, balance + bonus), split by the debit order; the rest is still owed") {
    using ledger::DebitOrder;
    struct Row {
        std::int64_t arrears, balance, bonus;
        DebitOrder order;
        std::int64_t real_paid, bonus_paid, left;
    };
    for (const auto& r : std::vector<Row>{
             {0, 100, 50, DebitOrder::RealFirst, 0, 0, 0},       // nothing owed: nothing paid
             {30, 100, 50, DebitOrder::RealFirst, 30, 0, 0},     // real money first
             {30, 100, 50, DebitOrder::BonusFirst, 0, 30, 0},    // the account's order
             {120, 100, 50, DebitOrder::RealFirst, 100, 20, 0},  // then the bonus
             {200, 100, 50, DebitOrder::RealFirst, 100, 50, 50}, // all it has; 50 still owed
             {200, 0, 0, DebitOrder::RealFirst, 0, 0, 200},      // an empty wallet pays nothing
         }) {
        CAPTURE(r.arrears);
        CAPTURE(r.balance);
        CAPTURE(r.bonus);
        const auto p = arrears::payment(Fen(r.arrears), Fen(r.balance), Fen(r.bonus), r.order);
        CHECK(p.real_fen == Fen(r.real_paid));
        CHECK(p.bonus_fen == Fen(r.bonus_paid));
        CHECK(p.shortfall_fen == Fen(r.left));
    }
}

TEST_CASE("ledger: an account with arrears starts nothing, whatever its balance; frozen is reported first") {
    ledger::Wallet w;
    w.balance_fen = Fen(10000);
    w.arrears_fen = Fen(1);
    CHECK(ledger::check_start(w, Fen(200)) == ledger::StartCheck::Arrears);
    w.frozen = true;
    CHECK(ledger::check_start(w, Fen(200)) == ledger::StartCheck::Frozen);
    w.frozen = false;
    w.arrears_fen = Fen(0);
    CHECK(ledger::check_start(w, Fen(200)) == ledger::StartCheck::Ok);
}

TEST_CASE("ledger: an order refund gives back real money up to what the session took from real money, the rest as "
          "bonus, never more than its cost minus earlier refunds") {
    struct Row {
        std::int64_t amount, taken_real, taken_bonus, back_real, back_bonus;
        std::int64_t real, bonus, over;
    };
    for (const auto& r : std::vector<Row>{
             {30, 30, 20, 0, 0, 30, 0, 0},   // within the real money taken
             {40, 30, 20, 0, 0, 30, 10, 0},  // then bonus
             {50, 30, 20, 0, 0, 30, 20, 0},  // the whole cost
             {51, 30, 20, 0, 0, 30, 20, 1},  // 1 fen too much: refused
             {15, 30, 20, 30, 10, 0, 10, 5}, // after 40 back, 10 is left
             {10, 30, 20, 30, 10, 0, 10, 0},
             {1, 0, 0, 0, 0, 0, 0, 1}, // a free session: nothing to give back
         }) {
        CAPTURE(r.amount);
        CAPTURE(r.back_real);
        const auto s = ledger::split_order_refund(Fen(r.amount), Fen(r.taken_real), Fen(r.taken_bonus),
                                                  Fen(r.back_real), Fen(r.back_bonus));
        CHECK(s.real_fen == Fen(r.real));
        CHECK(s.bonus_fen == Fen(r.bonus));
        CHECK(s.shortfall_fen == Fen(r.over));
    }
}
