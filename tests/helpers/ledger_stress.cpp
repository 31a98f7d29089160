// ledger-stress: one of several PROCESSES debiting the same wallet at once
// (tests/integration/test_wallet_concurrency.cpp).
//
//   ledger-stress DB ACCOUNT COUNT AMOUNT_FEN PREFIX [--partial] [--start-file F] [--shared N]
//                 [--busy-timeout-ms MS]
//
// Waits until F exists (so that every process starts together), then makes COUNT debits of
// AMOUNT_FEN with keys PREFIX:<i> (partial debits with --partial, as settlements are), and
// replays the keys shared:<0..N-1> that every process uses (only one debit per shared key may
// ever apply), waiting up to MS (default 60000) for another writer's lock. Prints `applied=<n> debited_fen=<sum>
// insufficient=<n> duplicate=<n>`. Exit 0 unless something failed (a database error is a failure: busy time-outs
// included).
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/ledger.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

int main(int argc, char** argv) {
    using namespace pilehub;
    if (argc < 6) {
        std::cerr
            << "usage: ledger-stress DB ACCOUNT COUNT AMOUNT_FEN PREFIX [--partial] [--start-file F] [--shared N] "
               "[--busy-timeout-ms MS]\n";
        return 2;
    }
    const std::string path = argv[1];
    const std::int64_t account = std::atoll(argv[2]);
    const int count = std::atoi(argv[3]);
    const std::int64_t amount = std::atoll(argv[4]);
    const std::string prefix = argv[5];
    bool partial = false;
    std::string start_file;
    int shared = 0;
    int busy_ms = 60000;
    for (int i = 6; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--partial")
            partial = true;
        else if (a == "--start-file" && i + 1 < argc)
            start_file = argv[++i];
        else if (a == "--shared" && i + 1 < argc)
            shared = std::atoi(argv[++i]);
        else if (a == "--busy-timeout-ms" && i + 1 < argc)
            busy_ms = std::atoi(argv[++i]);
    }
    try {
        db::Database::Options o;
        o.sync = db::Sync::Full;
        o.busy_timeout_ms = busy_ms;
        db::Database d(path, o);
        ledger::Ledger led(d);
        if (!start_file.empty()) {
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
            while (!std::filesystem::exists(start_file)) {
                if (std::chrono::steady_clock::now() > deadline) {
                    std::cerr << "ledger-stress: no start signal\n";
                    return 1;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
        }
        int applied = 0, insufficient = 0, duplicate = 0;
        std::int64_t debited = 0;
        const auto one = [&](const std::string& key) {
            ledger::Debit deb;
            deb.account_id = account;
            deb.amount_fen = Fen(amount);
            deb.meta.idempotency_key = key;
            deb.meta.ref = key;
            deb.meta.operator_name = "ledger-stress";
            deb.partial = partial;
            const auto p = led.debit(deb);
            switch (p.outcome) {
            case ledger::Outcome::Applied:
                ++applied;
                debited += p.entry->debited().value();
                break;
            case ledger::Outcome::InsufficientFunds:
                ++insufficient;
                break;
            case ledger::Outcome::Duplicate:
                ++duplicate;
                break;
            default:
                throw std::runtime_error(fmt::format("unexpected outcome {}", ledger::to_string(p.outcome)));
            }
        };
        for (int i = 0; i < count; ++i) {
            one(fmt::format("{}:{}", prefix, i));
            if (shared > 0)
                one(fmt::format("shared:{}", i % shared));
        }
        std::cout << fmt::format("applied={} debited_fen={} insufficient={} duplicate={}\n", applied, debited,
                                 insufficient, duplicate);
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "ledger-stress: " << e.what() << "\n";
        return 1;
    }
}
