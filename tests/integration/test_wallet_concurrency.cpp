// Several PROCESSES debit one wallet at the same time (each its own SQLite connection with
// synchronous=FULL, as billingd and the API are): the wallet is never overdrawn, every fen taken
// is one ledger row, a key shared by all processes applies once, and `pilehubctl audit` (the real
// binary) stays clean.
#include "tests/support/process.hpp"
#include "tests/unit/ledger/ledger_fixture.hpp"

#include "common/ledger.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <fstream>
#include <regex>
#include <sstream>

using namespace pilehub;
using namespace std::chrono_literals;

namespace {

const std::string kBin = PILEHUB_BINARY_DIR;

struct Totals {
    std::int64_t applied = 0, debited = 0, insufficient = 0, duplicate = 0;
};

Totals parse(const std::string &out) {
    static const std::regex re(R"(applied=(\d+) debited_fen=(\d+) insufficient=(\d+) duplicate=(\d+))");
    std::smatch m;
    Totals t;
    REQUIRE_MESSAGE(std::regex_search(out, m, re), out);
    t.applied = std::stoll(m[1]);
    t.debited = std::stoll(m[2]);
    t.insufficient = std::stoll(m[3]);
    t.duplicate = std::stoll(m[4]);
    return t;
}

std::string slurp(const std::string &path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

test::RunResult audit(const test::MoneyDb &m) {
    return test::run({kBin + "/workers/pilehubctl/pilehubctl", "--set", "data_dir=" + m.dir.path().string(), "--set",
                      "db.path=" + m.core_path(), "audit"},
                     60s);
}

/// Starts `n` ledger-stress processes on `account`, releases them together, waits for them all.
Totals stress(test::MoneyDb &m, std::int64_t account, int n, int count, std::int64_t amount, bool partial, int shared) {
    const auto start = m.dir.file("go");
    std::filesystem::remove(start);
    std::vector<test::Process> procs;
    std::vector<std::string> outputs;
    for (int i = 0; i < n; ++i) {
        outputs.push_back(m.dir.file(fmt::format("stress-{}-{}.out", partial ? "p" : "f", i)));
        std::vector<std::string> argv{kBin + "/tests/ledger-stress",
                                      m.core_path(),
                                      std::to_string(account),
                                      std::to_string(count),
                                      std::to_string(amount),
                                      fmt::format("{}{}", partial ? "settle-like-" : "proc-", i),
                                      "--start-file",
                                      start,
                                      "--shared",
                                      std::to_string(shared)};
        if (partial)
            argv.push_back("--partial");
        test::SpawnOptions o;
        o.output = outputs.back();
        procs.push_back(test::Process::spawn(argv, o));
    }
    std::ofstream(start) << "go\n";
    Totals total;
    for (int i = 0; i < n; ++i) {
        const auto rc = procs[static_cast<std::size_t>(i)].wait(120s);
        const auto out = slurp(outputs[static_cast<std::size_t>(i)]);
        REQUIRE_MESSAGE(rc.has_value(), "ledger-stress did not finish: " << out);
        REQUIRE_MESSAGE(*rc == 0, "ledger-stress failed: " << out);
        const auto t = parse(out);
        total.applied += t.applied;
        total.debited += t.debited;
        total.insufficient += t.insufficient;
        total.duplicate += t.duplicate;
    }
    return total;
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
