#pragma once
// Retention (docs/reliability.md "Backups, restore drill, retention, upgrades"): which rows of the
// tables that only grow are purged after how long, and the purge itself, in small batches run by the
// daemon that owns each table from its periodic tick. Money tables are never purged.
#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/db.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pilehub::retention {

/// What may be purged.
enum class Kind {
    SessionSamples,    ///< telemetry: session_samples (power curves), by t
    DeviceSamples,     ///< telemetry: device_samples, by t
    DeviceEvents,      ///< telemetry: device_events (the event log, de-duplicated by msg id), by at
    ProcessedMessages, ///< core: processed_messages of one consumer (de-duplication of device messages)
};
std::string_view to_string(Kind k);

/// How long rows are kept (config keys `retention.telemetry_days`, `retention.dedup_days`).
struct Policy {
    int telemetry_days = 180;
    int dedup_days = 30;
};

/// The days rows of `kind` are kept under `policy`.
int keep_days(Kind kind, const Policy& policy);
/// Whether a row of `kind` that is `age_ms` old is purged: strictly older than its keep days.
bool purged(Kind kind, std::int64_t age_ms, const Policy& policy);
/// The tables of money (wallets, ledger, settlements, payments, refunds, ...): nothing here ever
/// deletes from them, and a Purger refuses a target that would.
bool is_money_table(std::string_view table);
/// The table a kind's rows live in.
std::string_view table_of(Kind kind);

/// Adds `retention.telemetry_days` and `retention.dedup_days` to a daemon's configuration.
void add_keys(ConfigSchema& s);
Policy policy_from(const Config& cfg);

/// One table to purge: its kind, and for ProcessedMessages the consumer whose rows they are (a
/// daemon purges only its own).
struct Target {
    Kind kind;
    std::string consumer;
};

/// Purges its targets when due: each in batches of `batch_rows` (one short write transaction each,
/// so no writer waits long), at most `max_batches` per target per tick; when a target has more, the
/// next tick comes at once, else after `period_ms`; the first one `first_delay_ms` after the first
/// tick. Logs what it removed. Not thread-safe: call
/// tick() from the thread that owns `db`.
class Purger {
public:
    struct Options {
        int batch_rows = 1000;
        int max_batches = 5;
        EpochMs period_ms = 3'600'000;
        /// The first purge comes this long after the first tick (not while a daemon catches up at start).
        EpochMs first_delay_ms = 60'000;
    };
    Purger(db::Database& db, std::vector<Target> targets, Policy policy, Options options);
    Purger(db::Database& db, std::vector<Target> targets, Policy policy)
        : Purger(db, std::move(targets), policy, Options{}) {}

    /// Purges what is due at `now`; the rows deleted. Throws db::Error (the next tick tries again).
    std::int64_t tick(EpochMs now);
    /// When the next tick will purge.
    EpochMs next_at() const { return next_at_; }

private:
    db::Database& db_;
    std::vector<Target> targets_;
    Policy policy_;
    Options options_;
    EpochMs next_at_ = 0;
    bool started_ = false;
};

} // namespace pilehub::retention
