// pilehubctl audit: the ledger invariants of BILLING.md §4 (ledger::audit does the checking).
#include "ctl_commands.hpp"

#include "common/db.hpp"
#include "common/ledger.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>

namespace pilehub::ctl {
namespace {

std::int64_t count(db::Database &d, const char *sql) {
    db::Statement st(d, sql);
    return st.step() ? st.int64(0) : 0;
}

} // namespace

int cmd_audit(const Config &cfg, const Args &a) {
    if (a.words.size() != 1)
        throw ConfigError("usage: audit");
    const auto path = cfg.get_string("db.path");
    if (!std::filesystem::exists(path)) {
        std::cerr << fmt::format("pilehubctl: no database at {}\n", path);
        return 1;
    }
    db::Database::Options o;
    o.busy_timeout_ms = cfg.get_int32("db.busy_timeout_ms");
    db::Database d(path, o);
    const auto violations = ledger::audit(d);
    for (const auto &v : violations)
        std::cout << "violation: " << v.what << "\n";
    const auto wallets = count(d, "SELECT count(*) FROM wallets");
    const auto entries = count(d, "SELECT count(*) FROM ledger");
    const auto completed = count(d, "SELECT count(*) FROM sessions WHERE state = 'completed'");
    if (violations.empty()) {
        std::cout << fmt::format("audit: OK ({} wallets, {} ledger entries, {} completed sessions)\n", wallets, entries,
                                 completed);
        return 0;
    }
    std::cout << fmt::format("audit: {} violation(s) ({} wallets, {} ledger entries, {} completed sessions)\n",
                             violations.size(), wallets, entries, completed);
    return 1;
}

} // namespace pilehub::ctl
