#pragma once
#include "billingd_rules.hpp"
#include "billingd_store.hpp"

#include "common/clock.hpp"
#include "common/ledger.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>

/// billingd's glue: subscribes, decodes, calls the rules and the store, publishes.
///
/// Threads: the MQTT callback thread only enqueues (session-state triggers and telemetry); one
/// worker thread runs everything else (rules, database, publishing), so nothing needs a lock but
/// the queue. A trigger lost in the queue (a crash) costs nothing: the database scan at start-up
/// and every scan period settles whatever is due, and the settlement transaction is conditional.
namespace pilehub::billing {

/// A session transition as billingd publishes it on `ph/v1/svc/session/{sid}/state`:
/// `{"v":1,"sid","state":"completed","from","reason","actor":"billingd","ts","cost_fen",
/// "priced_fen","shortfall_fen"}`.
std::string encode_transition(const std::string &sid, const Settled &s, const std::string &reason,
                              const std::string &actor);

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
        std::uint64_t telemetry = 0;
        std::uint64_t dropped = 0;
        std::uint64_t costs_published = 0;
        std::uint64_t errors = 0;
    };

    Worker(Store &store, mqtt::Client &mqtt, const Clock &clock, Options options);
    ~Worker();
    Worker(const Worker &) = delete;
    Worker &operator=(const Worker &) = delete;

    /// Subscribes through `router` to every session's state (QoS 1) and every device's telemetry
    /// (QoS 0). Call before the client starts.
    void subscribe(mqtt::Router &router);
    /// Starts the worker thread.
    void start();
    /// Stops the worker thread; whatever is still queued is left to the next scan.
    void stop();

    // ---- the handlers, run on the worker thread (tests call them directly) ------------------
    /// Settles every due session (start-up catch-up and periodic scan); a settleable one whose
    /// telemetry may still be on its way is retried when its settle delay is up. Returns how many.
    int settle_due();
    /// A session-state message: settles the session if it is due (else retries it when its settle
    /// delay is up); tracks or forgets it for running costs.
    bool on_session_state(const std::string &sid);
    /// Retries the settlements put off whose settle delay is up. Returns how many were settled.
    int settle_waiting();
    /// The sessions whose settlement is put off, with when it is retried.
    std::map<std::string, EpochMs> waiting() const { return waiting_; }
    /// A device's telemetry: readings of tracked sessions; publishes the running costs now due.
    void on_tele(const std::string &payload, EpochMs received_ms);
    /// Periodic work: the settlement scan when its period is up, the live-set refresh, due costs.
    void on_tick();
    /// Re-reads the charging sessions: tracks new ones (with their recorded samples), drops ended ones.
    void refresh_live();

    Stats stats() const;

private:
    struct Event {
        enum class Kind { SessionState, Tele } kind;
        std::string text; ///< sid or payload
        EpochMs at = 0;
    };
    void enqueue(Event e);
    void run();
    /// Runs one step of the worker loop; a failure is counted and logged as `what` failed, and the
    /// loop goes on (what is unsettled is found again by the next scan).
    template <typename F> void guarded(std::string_view what, F &&step);
    bool settle_one(const SessionFacts &s);
    bool track(const std::string &sid);
    void publish_cost(const std::string &sid);

    Store &store_;
    mqtt::Client &mqtt_;
    const Clock &clock_;
    Options options_;
    CostTracker costs_;
    std::set<std::string> not_live_; ///< sids seen in telemetry that are not charging (cleared on refresh)
    std::map<std::string, EpochMs> waiting_; ///< settlements put off: sid → when to retry (worker thread only)
    EpochMs next_scan_ = 0;
    EpochMs next_refresh_ = 0;

    mutable std::mutex m_;
    std::condition_variable cv_;
    std::deque<Event> queue_;
    bool stopping_ = false;
    Stats stats_;
    std::thread thread_;
};

} // namespace pilehub::billing
