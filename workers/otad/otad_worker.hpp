#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "common/worker_loop.hpp"
#include "workers/otad/otad_rules.hpp"
#include "workers/otad/otad_store.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

/// otad's glue: subscribes to device presence, info, `evt/ota` and `cmd-reply/ota`, feeds the rules
/// on the worker loop's thread, persists their decisions, then publishes `cmd/ota`. Rollouts are
/// created and halted by the API; otad picks them up from the database on every tick.
namespace pilehub::otad {

/// Tunables (config keys `otad.*`).
struct Options {
    std::string download_base_url = "http://127.0.0.1:8080"; ///< what devices download from (the API)
    std::string token_key;                                   ///< ota::token_key(): derives rollout tokens
    std::int64_t command_exp_s = 60;                         ///< `exp` of cmd/ota
    std::int64_t offline_skip_s = 0;                         ///< see otad::Options (rules); 0: timeout_s
    std::chrono::milliseconds tick{1000};                    ///< how often rollouts are driven
    std::size_t queue_max = 100'000;
    std::optional<worker::Spool> spool;
    worker::Retry retry = {};
    std::function<void()> give_up;
    std::function<void(std::chrono::milliseconds)> sleep;
};

/// Runs otad. Construct before mqtt.start() (it subscribes through `router`).
class Worker {
public:
    Worker(mqtt::Client& mqtt, mqtt::Router& router, db::Database& core, const Clock& clock, Options opts);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// Loads the reported firmware versions and the running rollouts, starts the rules thread.
    void start();
    /// Handles what is queued, stops the thread.
    void stop();

    // ---- for tests: the same steps on the calling thread, never sleeping --------------------
    /// Loads the reported firmware versions and the running rollouts.
    void restore();
    /// Runs what is queued, then the tick if due.
    std::size_t drain() { return loop_.drain(); }
    /// Runs the tick now.
    void tick_now() { loop_.tick_now(); }
    const Rules& rules() const { return rules_; }

private:
    void handle(const mqtt::Message& m);
    void tick();
    /// Takes rollouts the API created since, forgets those it halted.
    void sync_rollouts();
    void firmware(const std::string& dev, const std::string& version);
    /// Persists `e` (dropping rollouts an operator halted meanwhile), then sends its commands.
    void apply(const Effects& e);

    mqtt::Client& mqtt_;
    Store store_;
    const Clock& clock_;
    Options opts_;
    Rules rules_;
    log::RateLimiter warnings_;

    // rules thread only
    struct Presence {
        bool online = false;
        std::int64_t boot = 0; ///< of the latest online:true (the late-Will guard)
    };
    std::map<std::string, Presence, std::less<>> presence_;
    std::map<std::string, std::string, std::less<>> reported_; ///< device → last version written
    std::int64_t seq_ = 0;

    worker::Loop loop_; ///< last: its thread stops before the members it uses go
};

} // namespace pilehub::otad
