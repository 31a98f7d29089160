#pragma once
// GET /api/v1/health (issue 16, REVIEW-reliability §2.13): what the API can measure about the
// installation's ability to work, and the pure rule that turns those figures into a verdict.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pilehub::api {
struct Services;
}

namespace pilehub::api::health {

/// What one health request measured.
struct Probe {
    bool db_write_ok = false;     ///< the write probe committed (MonitorStore::probe_write)
    std::string db_error;         ///< why it did not (the database's message), empty when it did
    std::int64_t db_write_ms = 0; ///< how long the probe took, ms
    std::optional<std::int64_t>
        free_mb;                  ///< free space of the data directory for an unprivileged writer; nullopt: unknown
    std::int64_t min_free_mb = 0; ///< pilehub-api.health.min_free_mb
    std::optional<bool> broker_connected; ///< the API's broker connection; nullopt: the API has none (tests)
};

/// One check's verdict and the figure behind it.
struct Check {
    std::string name; ///< `database_write`, `disk` or `broker`
    bool ok = false;
    std::string detail; ///< why it failed, in words; empty when ok
};

/// The verdict: ok only when every check is.
struct Verdict {
    bool ok = false;
    std::vector<Check> checks; ///< always the three, in the order database_write, disk, broker
};

/// The rule: the database write must commit; the data directory must have at least `min_free_mb`
/// free (unknown free space fails: a health check that cannot see the disk does not vouch for it);
/// the broker must be connected (no broker client at all is not a failure: nothing depends on it).
Verdict decide(const Probe& p);

/// Free space in MiB at `path` for an unprivileged writer (statvfs f_bavail); nullopt when it cannot
/// be read.
std::optional<std::int64_t> free_mb(const std::string& path);

/// Measures everything `decide` needs: the write probe on a connection of its own to the core
/// database (busy timeout pilehub-api.health.write_timeout_ms, so a held lock is seen quickly), the
/// data directory's free space and the broker connection.
Probe measure(Services& s);

/// The answer's body: `{status: "ok"|"failing", ok, version, dev_mode, time, checks: {database_write:
/// {ok, ms, error?}, disk: {ok, free_mb, min_free_mb, error?}, broker: {ok, connected, error?}}}`.
std::string body(Services& s, const Probe& p, const Verdict& v);

/// The JSON Schema of that body (the route's declared answer for 200 and 503).
extern const char* const kBodySchema;

} // namespace pilehub::api::health
