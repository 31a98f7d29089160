#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "workers/presenced/presenced_rules.hpp"
#include "workers/presenced/presenced_store.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

/// presenced's glue: subscribes to device uplinks, feeds the rules on one thread, persists their
/// decisions and publishes the retained verdict `ph/v1/svc/device/{id}/presence`.
namespace pilehub::presenced {

/// Tunables (config keys `presenced.*`).
struct Options {
    int silence_periods = 3;                 ///< telemetry periods of silence before `silent`
    std::chrono::milliseconds tick{500};     ///< how often silence is checked
    std::chrono::milliseconds flush{30'000}; ///< how often last_seen is written
    std::chrono::milliseconds unknown_retry{
        30'000}; ///< how long an unknown device id stays unknown before a new look-up
};

/// The verdict payload: `{"v":1,"online":true,"boot":17,"since":<ms>,"reason":"connect"}`.
std::string encode_verdict(const Record &r);

/// Runs presenced. Construct before mqtt.start() (it subscribes through `router`).
class Worker {
public:
    Worker(mqtt::Client &mqtt, mqtt::Router &router, db::Database &core, const Clock &clock, Options opts);
    ~Worker();
    Worker(const Worker &) = delete;
    Worker &operator=(const Worker &) = delete;

    /// Loads device_presence, republishes every verdict, starts the rules thread.
    void start();
    /// Handles what is queued, writes last_seen, stops the thread.
    void stop();
    /// Messages waiting for the rules thread.
    std::size_t queued() const;

private:
    void enqueue(const mqtt::Message &m);
    void run();
    void handle(const mqtt::Message &m);
    /// The registered kind of `dev` (`ebike_pile`, `ev_charger`, `camera`); nullopt if unregistered.
    std::optional<std::string> known(const std::string &dev);
    void apply(const Decision &d);
    bool warn_allowed(const std::string &dev, std::string_view what);

    mqtt::Client &mqtt_;
    db::Database &db_;
    Store store_;
    const Clock &clock_;
    Options opts_;
    Rules rules_;

    mutable std::mutex m_;
    std::condition_variable cv_;
    std::deque<mqtt::Message> queue_;
    bool stopping_ = false;
    std::thread thread_;

    // rules thread only
    std::map<std::string, EpochMs, std::less<>> unknown_;   ///< unknown device → when it may be looked up again
    std::map<std::string, std::string, std::less<>> kinds_; ///< registered devices seen → kind
    std::map<std::string, std::pair<EpochMs, int>, std::less<>> warned_; ///< dev/what → window start, lines
};

} // namespace pilehub::presenced
