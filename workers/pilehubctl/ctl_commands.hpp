#pragma once
#include "common/config.hpp"

#include <map>
#include <string>
#include <vector>

namespace pilehub::ctl {

/// A parsed command line: positional words and `--flag value` / `--flag` options.
struct Args {
    std::vector<std::string> words;
    std::map<std::string, std::string> flags;              ///< the last value of each flag
    std::map<std::string, std::vector<std::string>> lists; ///< every value of each flag, in order (repeatable flags)
    /// The flag's value, or `def`; throws ConfigError if required and missing.
    std::string get(const std::string& name, const std::string& def = "") const;
    std::string require(const std::string& name) const;
    std::int64_t get_int(const std::string& name, std::int64_t def, std::int64_t min, std::int64_t max) const;
    bool has(const std::string& name) const { return flags.count(name) > 0; }
};

/// The configuration keys pilehubctl adds to the common ones.
void add_keys(ConfigSchema& s);

/// migrate --check's exit codes.
inline constexpr int kCheckUpToDate = 0, kCheckPending = 1, kCheckNewer = 2;
/// Prints each database's schema version and the migrations this build would apply; changes
/// nothing. kCheckNewer when a database is newer than this build, else kCheckPending when any
/// migration is pending (ctl_migrate.cpp).
int migrate_check(const Config& cfg);

/// Each returns the process exit code (0 ok, 1 failure, 2 bad usage).
int cmd_migrate(const Config& cfg, const Args& a);
int cmd_operator(const Config& cfg, const Args& a);
int cmd_station(const Config& cfg, const Args& a);
int cmd_device(const Config& cfg, const Args& a);
int cmd_admin(const Config& cfg, const Args& a);
int cmd_services(const Config& cfg, const Args& a);
int cmd_broker(const Config& cfg, const Args& a);
int cmd_fleet(const Config& cfg, const Args& a);
/// Checks the ledger invariants (BILLING.md §4); prints each violation; 1 if there is any.
int cmd_audit(const Config& cfg, const Args& a);
/// An online backup of both databases into `--out DIR/<timestamp>/` (ctl_backup.cpp); `--keep N` prunes.
int cmd_backup(const Config& cfg, const Args& a);
/// Restores a backup into a fresh data directory after checking its manifest; then audits it.
int cmd_restore(const Config& cfg, const Args& a);

} // namespace pilehub::ctl
