#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/ledger.hpp"

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace pilehub::api::testutil {

/// Removes the temporary databases when the test program ends.
struct TempFiles {
    std::vector<std::string> paths;
    ~TempFiles() {
        std::error_code ec;
        for (const auto& p : paths)
            for (const char* suffix : {"", "-wal", "-shm"})
                std::filesystem::remove(p + suffix, ec);
    }
};

/// A fresh, migrated core database in a temporary file (removed first if left over, and at exit).
inline std::string temp_db(const std::string& name) {
    static TempFiles files;
    const auto p = (std::filesystem::temp_directory_path() /
                    ("pilehub-api-test-" + name + "-" + std::to_string(::getpid()) + ".db"))
                       .string();
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(p + suffix, ec);
    db::Database d(p);
    db::migrate(d, db::core_migrations());
    files.paths.push_back(p);
    return p;
}

/// Opens a rider's account (real balance first) and answers its id.
inline std::int64_t open_account(db::Database& d, const std::string& phone) {
    ManualClock clock{1};
    return ledger::Ledger(d, clock)
        .open_account(ledger::NewAccount{phone, "", std::nullopt, ledger::DebitOrder::RealFirst})
        .account_id;
}

} // namespace pilehub::api::testutil
