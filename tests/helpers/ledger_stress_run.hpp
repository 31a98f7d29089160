#pragma once
// Runs ledger-stress (tests/helpers/ledger_stress.cpp) as several processes debiting one wallet at
// once, released together by a start file; used by test_wallet_concurrency and chaos_wallet_race.
#include "tests/support/process.hpp"
#include "tests/unit/ledger/ledger_fixture.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace pilehub::test {

/// What the processes of one stress() did, summed.
struct StressTotals {
    std::int64_t applied = 0, debited = 0, insufficient = 0, duplicate = 0;
    int failed = 0;       ///< processes that exited non-zero (a database error: busy time-outs included)
    std::string failures; ///< their output
};

/// One ledger-stress run: `n` processes × `count` debits of `amount` fen on `account` (partial
/// debits as settlements make them with `partial`), each also replaying `shared` keys common to all,
/// with SQLite's busy timeout `busy_ms`. Waits for them all (`wait` each).
inline StressTotals stress_wallet(MoneyDb& m, std::int64_t account, int n, int count, std::int64_t amount, bool partial,
                                  int shared, int busy_ms, std::chrono::milliseconds wait = std::chrono::seconds(120)) {
    const auto start = m.dir.file("go");
    std::filesystem::remove(start);
    std::vector<Process> procs;
    std::vector<std::string> outputs;
    for (int i = 0; i < n; ++i) {
        outputs.push_back(m.dir.file(fmt::format("stress-{}-{}.out", partial ? "p" : "f", i)));
        std::vector<std::string> argv{std::string(PILEHUB_BINARY_DIR) + "/tests/ledger-stress",
                                      m.core_path(),
                                      std::to_string(account),
                                      std::to_string(count),
                                      std::to_string(amount),
                                      fmt::format("{}{}", partial ? "settle-like-" : "proc-", i),
                                      "--start-file",
                                      start,
                                      "--shared",
                                      std::to_string(shared),
                                      "--busy-timeout-ms",
                                      std::to_string(busy_ms)};
        if (partial)
            argv.push_back("--partial");
        SpawnOptions o;
        o.output = outputs.back();
        procs.push_back(Process::spawn(argv, o));
    }
    std::ofstream(start) << "go\n";
    static const std::regex re(R"(applied=(\d+) debited_fen=(\d+) insufficient=(\d+) duplicate=(\d+))");
    StressTotals total;
    for (int i = 0; i < n; ++i) {
        const auto rc = procs[static_cast<std::size_t>(i)].wait(wait);
        std::ifstream in(outputs[static_cast<std::size_t>(i)]);
        std::stringstream ss;
        ss << in.rdbuf();
        const auto out = ss.str();
        REQUIRE_MESSAGE(rc.has_value(), "ledger-stress did not finish: " << out);
        std::smatch mt;
        if (*rc != 0 || !std::regex_search(out, mt, re)) {
            ++total.failed;
            total.failures += out;
            continue;
        }
        total.applied += std::stoll(mt[1]);
        total.debited += std::stoll(mt[2]);
        total.insufficient += std::stoll(mt[3]);
        total.duplicate += std::stoll(mt[4]);
    }
    return total;
}

} // namespace pilehub::test
