#pragma once
#include "billingd_rules.hpp"
#include "billingd_store.hpp"

#include "common/clock.hpp"
#include "common/ledger.hpp"
#include "common/log.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "common/svc.hpp"
#include "common/worker_loop.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

/// billingd's glue: subscribes, decodes, calls the rules and the store, publishes.
///
/// Threads: the MQTT callback thread only posts into the worker loop (common/worker_loop.hpp:
/// session-state triggers and recorderd's device reports); its one consumer thread runs everything else (rules,
/// database, publishing), so nothing needs a lock. A failed step is counted and skipped, never
/// retried: a trigger lost (a failure, a crash) costs nothing, because the database scan at start-up
/// and every scan period settles whatever is due, and the settlement transaction is conditional.
/// Telemetry comes as recorderd's device reports (ph/v1/svc/device/{id}/report): validated, each
/// socket already bound to its session, so billingd neither parses raw telemetry nor checks bindings.
namespace pilehub::billing {

/// The `completed` transition billingd publishes on `ph/v1/svc/session/{sid}/state` once the
/// settlement of `s` committed as `settled` (prev: the state it was settled from, record: true, the
/// settlement amounts); sent with svc::encode.
svc::SessionTransition completed_transition(const SessionFacts& s, const Settled& settled, const std::string& reason,
                                            const std::string& actor);

class Worker {
public:
    struct Options {
        std::int64_t tick_ms = 1000;         ///< how often running costs are checked for being due
        std::int64_t scan_period_ms = 30000; ///< how often the database is scanned for due settlements
        std::int64_t live_refresh_ms = 5000; ///< how often the set of charging sessions is re-read
        int scan_batch = 500;                ///< settlements per scan step
        std::int64_t settle_delay_ms = 2000; ///< a record's telemetry is awaited this long (due_for_settlement)
        std::size_t queue_max = 100000;      ///< telemetry beyond this is dropped (and counted)
        std::optional<ledger::DebitOrder> debit_order =
            std::nullopt; ///< platform override of the accounts' debit order
        std::string actor = "billingd";
        CostTracker::Options cost = {};
    };
    /// Counters for logs and tests.
    struct Stats {
        std::uint64_t settled = 0;
        std::uint64_t deferred = 0; ///< settlements put off to wait for a session's telemetry
        std::uint64_t scans = 0;
        std::uint64_t telemetry = 0; ///< device reports taken in
        std::uint64_t dropped = 0;
        std::uint64_t costs_published = 0;
        std::uint64_t errors = 0;
    };

    Worker(Store& store, mqtt::Client& mqtt, const Clock& clock, Options options);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// Subscribes through `router` to every session's state (QoS 1) and every device report
    /// (QoS 0). Call before the client starts.
    void subscribe(mqtt::Router& router);
    /// Starts the worker thread.
    void start();
    /// Handles what is queued, then stops the worker thread (what fails is left to the next scan).
    void stop();
    /// Tests: runs what is queued and the periodic work if due, on the calling thread.
    std::size_t drain() { return loop_.drain(); }

    // ---- the handlers, run on the worker thread (tests call them directly) ------------------
    /// Settles every due session (start-up catch-up and periodic scan); a settleable one whose
    /// telemetry may still be on its way is retried when its settle delay is up. Returns how many.
    int settle_due();
    /// A session transition (svc::SessionTransition; one that does not decode is logged and
    /// ignored): an ended session is forgotten, any other is looked at in the database
    /// (on_session_state).
    void on_transition(const std::string& topic_sid, std::string_view payload);
    /// A session-state trigger: settles the session if it is due (else retries it when its settle
    /// delay is up); tracks or forgets it for running costs.
    bool on_session_state(const std::string& sid);
    /// Retries the settlements put off whose settle delay is up. Returns how many were settled.
    int settle_waiting();
    /// The sessions whose settlement is put off, with when it is retried.
    std::map<std::string, EpochMs> waiting() const { return waiting_; }
    /// A device report: one reading per bound socket of a charging session (at the reading's time,
    /// DeviceReport::at); publishes the running costs now due.
    void on_report(const svc::DeviceReport& report);
    /// Periodic work: the settlement scan when its period is up, the live-set refresh, due costs.
    void on_tick();
    /// Re-reads the charging sessions: tracks new ones (with their recorded samples), drops ended ones.
    void refresh_live();

    Stats stats() const;

private:
    /// One message from the loop: a session-state trigger or a device report.
    void handle(const mqtt::Message& m);
    /// The loop's tick: put-off settlements, then the periodic work when its period is up.
    void tick();
    bool settle_one(const SessionFacts& s);
    bool track(const std::string& sid);
    void publish_cost(const std::string& sid);

    Store& store_;
    mqtt::Client& mqtt_;
    const Clock& clock_;
    Options options_;
    CostTracker costs_;
    std::set<std::string> not_live_;         ///< sids seen in reports that are not charging (cleared on refresh)
    std::map<std::string, EpochMs> waiting_; ///< settlements put off: sid → when to retry (worker thread only)
    EpochMs next_scan_ = 0;
    EpochMs next_refresh_ = 0;
    EpochMs next_periodic_ = 0;
    log::RateLimiter warnings_;

    mutable std::mutex m_; ///< guards stats_ (read from other threads)
    Stats stats_;
    worker::Loop loop_; ///< last: its thread stops before the members it uses go
};

} // namespace pilehub::billing
