// Several PROCESSES debit one wallet at the same time (each its own SQLite connection with
// synchronous=FULL, as billingd and the API are): the wallet is never overdrawn, every fen taken
// is one ledger row, a key shared by all processes applies once, and `pilehubctl audit` (the real
// binary) stays clean.
#include "tests/helpers/ledger_stress_run.hpp"

#include "common/ledger.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace pilehub;
using namespace std::chrono_literals;

namespace {

const std::string kBin = PILEHUB_BINARY_DIR;

test::RunResult audit(const test::MoneyDb& m) {
    return test::run({kBin + "/workers/pilehubctl/pilehubctl", "--set", "data_dir=" + m.dir.path().string(), "--set",
                      "db.path=" + m.core_path(), "audit"},
                     60s);
}

/// The processes of the tests below wait up to 60 s for the write lock: these tests are about the
/// arithmetic; chaos_wallet_race runs the same at the production busy timeout.
test::StressTotals stress(test::MoneyDb& m, std::int64_t account, int n, int count, std::int64_t amount, bool partial,
                          int shared) {
    auto t = test::stress_wallet(m, account, n, count, amount, partial, shared, 60000);
    REQUIRE_MESSAGE(t.failed == 0, t.failures);
    return t;
}

} // namespace

TEST_CASE("wallet concurrency: processes debiting one wallet at once never overdraw it; the audit stays clean") {
    test::MoneyDb m("wallet-concurrency");
    const auto a = m.account(1, 1000, 200); // 1200 fen to spend, 6 × 100 × 3 fen = 1800 asked for
    const auto rows_before = m.ledger_rows();

    const int kProcs = 6, kCount = 100, kShared = 20;
    const auto t = stress(m, a, kProcs, kCount, 3, false, kShared);

    // Never overdrawn: exactly what was there was spent, never more, and every refusal was for funds.
    CHECK(m.balance(a) == 0);
    CHECK(m.bonus(a) == 0);
    CHECK(t.debited == 1200);
    CHECK(t.applied == 400);
    CHECK(t.applied + t.insufficient + t.duplicate == kProcs * kCount * 2);
    // One row per applied debit, and each shared key applied at most once however many processes sent it.
    CHECK(m.ledger_rows() == rows_before + t.applied);
    CHECK(m.count("SELECT count(*) FROM ledger WHERE idempotency_key LIKE 'shared:%'") <= kShared);
    CHECK(
        m.count(
            "SELECT count(*) FROM (SELECT idempotency_key FROM ledger GROUP BY idempotency_key HAVING count(*) > 1)") ==
        0);
    CHECK(m.count("SELECT count(*) FROM ledger WHERE real_after < 0 OR bonus_after < 0") == 0);
    CHECK(ledger::audit(*m.core).empty());

    const auto r = audit(m);
    CHECK_MESSAGE(r.exit_code == 0, r.output);
    CHECK(r.output.find("audit: OK") != std::string::npos);
}

TEST_CASE(
    "wallet concurrency: partial debits (as settlements make) from several processes take exactly what is there") {
    test::MoneyDb m("wallet-concurrency-partial");
    const auto a = m.account(1, 500, 0);
    // Debits of 7 fen that take what is left: the last one is short, and none goes below zero.
    const auto t = stress(m, a, 4, 50, 7, true, 0);
    CHECK(m.balance(a) == 0);
    CHECK(t.debited == 500);
    CHECK(t.insufficient == 0);
    CHECK(ledger::audit(*m.core).empty());
    const auto r = audit(m);
    CHECK_MESSAGE(r.exit_code == 0, r.output);
}

TEST_CASE("wallet concurrency: pilehubctl audit exits non-zero and names the wallet when the ledger disagrees") {
    test::MoneyDb m("wallet-audit-broken");
    const auto a = m.account(1, 1000, 0);
    m.core->exec(fmt::format("UPDATE wallets SET balance_fen = 2000 WHERE account_id = {}", a));
    const auto r = audit(m);
    CHECK(r.exit_code == 1);
    CHECK(r.output.find(fmt::format("violation: wallet {}: balance_fen 2000 != sum of ledger real_fen 1000", a)) !=
          std::string::npos);
}
