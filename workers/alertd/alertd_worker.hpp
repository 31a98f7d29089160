#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "common/worker_loop.hpp"
#include "workers/alertd/alertd_rules.hpp"
#include "workers/alertd/alertd_store.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

/// alertd's glue: subscribes to device uplinks and parkingd's lock_fault alerts, feeds the rules
/// on the worker loop's thread, scans the core database for stuck sessions and flagged payment
/// orders, persists each decision in `alerts` (and the webhook outbox) and publishes opened and
/// resolved alerts on `ph/v1/svc/alert/<kind>`.
namespace pilehub::alertd {

/// Tunables (config keys `alert.*` and `alertd.*`).
struct Options {
    RuleOptions rules;
    std::int64_t stuck_session_ms = 600'000; ///< `alert.stuck_session_s`
    std::chrono::milliseconds tick{500};     ///< how often the offline check runs
    std::chrono::milliseconds scan{30'000};  ///< how often sessions and payment orders are scanned
    bool deliver = false;                    ///< a webhook is configured: queue each opened alert
    std::function<void()> on_queued;         ///< a delivery was queued (wakes the webhook sender)
    std::chrono::milliseconds unknown_retry{30'000};
    std::size_t queue_max = 100'000;
    std::optional<worker::Spool> spool;
    worker::Retry retry = {};
    std::function<void()> give_up;
    std::function<void(std::chrono::milliseconds)> sleep;
};

class Worker {
public:
    Worker(mqtt::Client& mqtt, mqtt::Router& router, db::Database& core, const Clock& clock, Options opts);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// Reads the current alerts back (restore()) and starts the rules thread.
    void start();
    void stop();

    // ---- for tests: the same steps on the calling thread, never sleeping --------------------
    void restore();
    std::size_t drain();
    void tick_now() { loop_.tick_now(); }
    /// Runs the database scan now.
    void scan_now();
    const Rules& rules() const { return rules_; }

private:
    void handle(const mqtt::Message& m);
    void handle_device(const mqtt::Message& m);
    void handle_alert(const mqtt::Message& m);
    void tick();
    std::optional<std::string> known(const std::string& dev);
    void apply(const std::vector<Decision>& ds);

    mqtt::Client& mqtt_;
    Store store_;
    const Clock& clock_;
    Options opts_;
    Rules rules_;
    log::RateLimiter warnings_;

    std::map<std::string, EpochMs, std::less<>> unknown_;
    std::map<std::string, std::string, std::less<>> kinds_;
    EpochMs next_scan_ = 0;

    worker::Loop loop_; ///< last: its thread stops before the members it uses go
};

} // namespace pilehub::alertd
