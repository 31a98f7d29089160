// Staff money controls (web-api/money_controls.hpp): the per-role limits, the package bonus rule,
// and the store of money routes' answers, against a migrated core database.
#include "tests/unit/api/api_test_util.hpp"

#include "common/ledger.hpp"
#include "web-api/money_controls.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <vector>

using namespace pilehub;
using namespace pilehub::api;

namespace {

constexpr EpochMs kNoonShanghai = 1'733'544'000'000; // 2024-12-07 12:00 +08:00
constexpr EpochMs kHour = 3'600'000;

Settings limits() {
    Settings s; // Asia/Shanghai
    s.limits.counter_recharge_max_fen = 200000;
    s.limits.refund_day_max_fen = 1000;
    s.role_limits["finance"] = MoneyLimits{50000, 300};
    s.role_limits["operator"] = MoneyLimits{0, 0}; // 0: the general limits
    s.package_max_bonus_pct = 50;
    return s;
}

} // namespace

TEST_CASE("money controls: a counter recharge above the role's limit is refused limit_exceeded; 0 means the general "
          "limit") {
    const auto s = limits();
    struct Row {
        const char* role;
        std::int64_t amount;
        bool refused;
    };
    for (const auto& r : std::vector<Row>{{"finance", 50000, false},
                                          {"finance", 50001, true},
                                          {"operator", 200000, false},
                                          {"operator", 200001, true},
                                          {"custom-role", 200000, false},
                                          {"custom-role", 200001, true}}) {
        CAPTURE(r.role);
        CAPTURE(r.amount);
        const auto e = check_counter_recharge_limit(s, r.role, Fen(r.amount));
        CHECK(e.has_value() == r.refused);
        if (e)
            CHECK(e->code() == ErrorCode::LimitExceeded);
    }
}

TEST_CASE("money controls: a package's bonus is at most max_bonus_pct percent of its price") {
    auto s = limits();
    struct Row {
        std::int64_t pay, bonus;
        int pct;
        bool refused;
    };
    for (const auto& r : std::vector<Row>{{5000, 100, 50, false},
                                          {5000, 2500, 50, false},
                                          {5000, 2501, 50, true},
                                          {5000, 0, 0, false},
                                          {5000, 1, 0, true},
                                          {3, 1, 50, false},
                                          {3, 2, 50, true}}) {
        CAPTURE(r.pay);
        CAPTURE(r.bonus);
        s.package_max_bonus_pct = r.pct;
        const auto e = check_package_bonus(s, Fen(r.pay), Fen(r.bonus));
        CHECK(e.has_value() == r.refused);
        if (e)
            CHECK(e->code() == ErrorCode::InvalidRequest);
    }
}

TEST_CASE("money controls: an operator's balance and order refunds of the local day count toward its daily limit; "
          "other operators' and yesterday's do not") {
    db::Database d(testutil::temp_db("money-day-limit"));
    d.exec("INSERT INTO admins (id, username, password_hash, role, created_at) VALUES (7, 'fin', 'x', 'finance', 0), "
           "(8, 'other', 'x', 'finance', 0)");
    ledger::Ledger led(d);
    const auto acc = led.open_account({"13800000001", "r", std::nullopt, ledger::DebitOrder::RealFirst}).account_id;
    const auto s = limits(); // finance: 300 a day
    // Entries written at fixed times: a refund today by fin, one by another operator, one yesterday.
    d.exec(fmt::format("INSERT INTO ledger (account_id, kind, real_fen, bonus_fen, real_after, bonus_after, operator, "
                       "at, idempotency_key) VALUES "
                       "({0}, 'refund', -100, 0, 0, 0, 'fin', {1}, 'a'), "
                       "({0}, 'refund_order', 60, 40, 0, 0, 'fin', {2}, 'b'), "
                       "({0}, 'refund', -500, 0, 0, 0, 'other', {1}, 'c'), "
                       "({0}, 'refund', -900, 0, 0, 0, 'fin', {3}, 'd'), "
                       "({0}, 'recharge', 900, 0, 0, 0, 'fin', {1}, 'e')",
                       acc, kNoonShanghai - kHour, kNoonShanghai - 11 * kHour, kNoonShanghai - 13 * kHour));
    CHECK(MoneyControls(d).refunded_between(7, kNoonShanghai - 12 * kHour, kNoonShanghai + 12 * kHour) == Fen(200));
    CHECK_FALSE(check_refund_day_limit(d, s, "finance", 7, Fen(100), kNoonShanghai));
    const auto e = check_refund_day_limit(d, s, "finance", 7, Fen(101), kNoonShanghai);
    REQUIRE(e);
    CHECK(e->code() == ErrorCode::LimitExceeded);
    CHECK_FALSE(check_refund_day_limit(d, s, "admin", 8, Fen(500), kNoonShanghai)); // its own 500 + 500 ≤ 1000
    CHECK(check_refund_day_limit(d, s, "admin", 8, Fen(501), kNoonShanghai));
    // The next local day starts afresh.
    CHECK_FALSE(check_refund_day_limit(d, s, "finance", 7, Fen(300), kNoonShanghai + 12 * kHour));
    // An admin's role without its own limit uses the general one (1000).
    CHECK_FALSE(check_refund_day_limit(d, s, "admin", 7, Fen(800), kNoonShanghai));
    CHECK(check_refund_day_limit(d, s, "admin", 7, Fen(801), kNoonShanghai));
}

TEST_CASE("money controls: the first answer kept for (operator, key) wins and is read back as it was") {
    db::Database d(testutil::temp_db("money-answers"));
    MoneyControls mc(d);
    CHECK_FALSE(mc.answer("admin:fin", "k1"));
    StoredAnswer a{"admin.users.recharge", "hash-1", Response::json(R"({"ok":1})", 200)};
    mc.keep_answer("admin:fin", "k1", a, 1000);
    StoredAnswer b{"admin.users.recharge", "hash-2", Response::json(R"({"ok":2})", 201)};
    mc.keep_answer("admin:fin", "k1", b, 2000);
    const auto got = mc.answer("admin:fin", "k1");
    REQUIRE(got);
    CHECK(got->operation == "admin.users.recharge");
    CHECK(got->request_hash == "hash-1");
    CHECK(got->response.status == 200);
    CHECK(got->response.body == R"({"ok":1})");
    CHECK(got->response.content_type == "application/json");
    CHECK_FALSE(mc.answer("admin:other", "k1")); // keys are per operator
}
