// pilehubctl migrate --check: where each database stands against the migrations of this build,
// without changing (or creating) anything.
#include "common/db.hpp"
#include "ctl_commands.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>

namespace pilehub::ctl {

int migrate_check(const Config& cfg) {
    struct Db {
        const char* role;
        std::string path;
        std::vector<db::Migration> migrations;
    };
    const Db dbs[] = {{"core", cfg.get_string("db.path"), db::core_migrations()},
                      {"telemetry", cfg.get_string("db.telemetry_path"), db::telemetry_migrations()}};
    int code = kCheckUpToDate;
    for (const auto& d : dbs) {
        const int known = static_cast<int>(d.migrations.size());
        int have = 0;
        if (std::filesystem::exists(d.path)) {
            db::Database::Options o;
            o.read_only = true;
            o.busy_timeout_ms = cfg.get_int32("db.busy_timeout_ms");
            db::Database conn(d.path, o);
            have = conn.user_version();
        }
        if (have > known) {
            std::cout << fmt::format("{} database {}: schema version {}, NEWER than this build knows ({}): a "
                                     "downgrade; the daemons refuse to start on it\n",
                                     d.role, d.path, have, known);
            code = kCheckNewer;
            continue;
        }
        std::cout << fmt::format("{} database {}: schema version {}{}, this build knows {}: {}\n", d.role, d.path, have,
                                 std::filesystem::exists(d.path) ? "" : " (does not exist yet)", known,
                                 have == known ? "up to date" : fmt::format("{} pending", known - have));
        for (int i = have; i < known; ++i)
            std::cout << fmt::format("  pending {}\n", d.migrations[static_cast<std::size_t>(i)].name);
        if (have < known && code == kCheckUpToDate)
            code = kCheckPending;
    }
    return code;
}

} // namespace pilehub::ctl
