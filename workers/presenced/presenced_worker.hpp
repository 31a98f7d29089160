#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "common/worker_loop.hpp"
#include "workers/presenced/presenced_rules.hpp"
#include "workers/presenced/presenced_store.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

/// presenced's glue: subscribes to device uplinks, feeds the rules on the worker loop's thread,
/// persists their decisions and publishes the retained verdict `ph/v1/svc/device/{id}/presence`.
/// A transition that cannot be committed is retried, then the process exits and the spool
/// replays the messages it held (common/worker_loop.hpp).
namespace pilehub::presenced {

/// Tunables (config keys `presenced.*`).
struct Options {
    int silence_periods = 3;                 ///< telemetry periods of silence before `silent`
    std::chrono::milliseconds tick{500};     ///< how often silence is checked
    std::chrono::milliseconds flush{30'000}; ///< how often last_seen is written
    std::chrono::milliseconds unknown_retry{
        30'000};                        ///< how long an unknown device id stays unknown before a new look-up
    std::size_t queue_max = 100'000;    ///< messages waiting for the rules thread (back-pressure beyond)
    std::optional<worker::Spool> spool; ///< where unhandled messages go when the process gives up
    worker::Retry retry = {};
    /// Tests: how the process gives up, and how a back-off waits (see worker::Loop::Options).
    std::function<void()> give_up;
    std::function<void(std::chrono::milliseconds)> sleep;
};

/// The verdict published for `r` on `ph/v1/svc/device/{id}/presence` (sent with svc::encode).
svc::PresenceVerdict verdict(const Record& r);

/// Runs presenced. Construct before mqtt.start() (it subscribes through `router`).
class Worker {
public:
    Worker(mqtt::Client& mqtt, mqtt::Router& router, db::Database& core, const Clock& clock, Options opts);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// Loads device_presence and republishes every verdict (restore()), starts the rules thread.
    void start();
    /// Handles what is queued, writes last_seen, stops the thread.
    void stop();
    /// Messages waiting for the rules thread.
    std::size_t queued() const;

    // ---- for tests: the same steps on the calling thread, never sleeping --------------------
    /// Loads device_presence and republishes every verdict.
    void restore();
    /// Replays the spool, runs what is queued, then the silence check and last_seen write if due.
    std::size_t drain();
    /// Runs the silence check and the last_seen write now.
    void tick_now() { loop_.tick_now(); }
    worker::Stats loop_stats() const { return loop_.stats(); }

private:
    void handle(const mqtt::Message& m);
    void tick();
    /// The registered kind of `dev` (`ebike_pile`, `ev_charger`, `camera`); nullopt if unregistered.
    std::optional<std::string> known(const std::string& dev);
    void apply(const Decision& d);

    mqtt::Client& mqtt_;
    db::Database& db_;
    Store store_;
    const Clock& clock_;
    Options opts_;
    Rules rules_;
    log::RateLimiter warnings_;

    // rules thread only
    std::map<std::string, EpochMs, std::less<>> unknown_;   ///< unknown device → when it may be looked up again
    std::map<std::string, std::string, std::less<>> kinds_; ///< registered devices seen → kind
    EpochMs next_flush_ = 0;

    worker::Loop loop_; ///< last: its thread stops before the members it uses go
};

} // namespace pilehub::presenced
