// Target #5, the concurrent debit race: many processes (each its own SQLite connection with
// synchronous=FULL, as billingd and the API are) debit one wallet at once at the PRODUCTION busy
// timeout (db.busy_timeout_ms, 5 s), each also replaying keys every process sends. The wallet is
// never overdrawn, no key applies twice, no busy time-out reaches a caller, and the audit is clean.
#include "tests/chaos/chaos.hpp"
#include "tests/helpers/ledger_stress_run.hpp"

#include "common/clock.hpp"
#include "common/ledger.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace pilehub;

TEST_CASE("chaos #5: processes debiting one wallet at once at the production busy timeout never overdraw it") {
    const int procs = chaos::scaled(6, 16), debits = chaos::scaled(150, 1000), shared = chaos::scaled(20, 50);
    const std::int64_t amount = 3;
    test::MoneyDb m("chaos-wallet-race");
    // Funds for about two thirds of what is asked, so that refusals for funds race with debits.
    const std::int64_t asked = std::int64_t{procs} * debits * amount;
    const std::int64_t real = asked * 2 / 3 - 200, bonus = 200;
    const auto a = m.account(1, real, bonus);
    const int busy_ms = db::Database::Options{}.busy_timeout_ms; // the production default

    const auto t0 = monotonic_ms();
    const auto t = test::stress_wallet(m, a, procs, debits, amount, false, shared, busy_ms, std::chrono::minutes(10));
    const auto ms = std::max<std::int64_t>(1, monotonic_ms() - t0);

    const auto duplicated = m.count(
        "SELECT count(*) FROM (SELECT idempotency_key FROM ledger GROUP BY idempotency_key HAVING count(*) > 1)");
    const auto below_zero = m.count("SELECT count(*) FROM ledger WHERE real_after < 0 OR bonus_after < 0");
    const auto shared_applied = m.count("SELECT count(*) FROM ledger WHERE idempotency_key LIKE 'shared:%'");
    const std::int64_t overdrawn = std::max<std::int64_t>(0, t.debited - (real + bonus)) + below_zero;
    const auto audit = chaos::audit(m.core_path());
    INFO(t.failures);
    INFO(audit.output);

    const auto attempts = std::int64_t{procs} * debits * 2;
    CHECK(t.applied + t.insufficient + t.duplicate == attempts - std::int64_t{t.failed} * debits * 2);
    CHECK(shared_applied <= shared);
    CHECK(m.balance(a) + m.bonus(a) == real + bonus - t.debited);
    CHECK(chaos::report(
        {"#5 concurrent debit race",
         fmt::format("{} processes × {} debits (+{} shared keys) at busy timeout {} ms: {} applied, "
                     "{} refused for funds, {} duplicates; {} fen overdrawn, {} keys applied twice, "
                     "{} busy errors surfaced; {:.0f} debits/s",
                     procs, debits, shared, busy_ms, t.applied, t.insufficient, t.duplicate, overdrawn, duplicated,
                     t.failed, 1000.0 * static_cast<double>(attempts) / static_cast<double>(ms)),
         "0 overdrawn, 0 applied twice, 0 busy errors", overdrawn == 0 && duplicated == 0 && t.failed == 0}));
    CHECK(chaos::report({"#5 concurrent debit race: audit",
                         fmt::format("pilehubctl audit: {} violation(s), exit {}", audit.violations, audit.exit_code),
                         "0 violations", audit.ok()}));
}
