#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "common/retention.hpp"
#include "common/worker_loop.hpp"
#include "workers/recorderd/recorderd_rules.hpp"
#include "workers/recorderd/recorderd_store.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

/// recorderd's glue. Three threads, two of them worker loops (common/worker_loop.hpp):
/// - the MQTT callback thread posts telemetry (QoS 0) and commits events (QoS 1) itself, so an
///   event's row and its de-duplication record are written before the broker gets its PUBACK; an
///   event that cannot be committed is retried there, then the process exits without acknowledging
///   it, and the broker delivers it again;
/// - the decode loop validates telemetry (the platform's one validator of raw telemetry), binds each
///   socket to its session (a reading counts for a session only when it comes from the session's own
///   socket; others are dropped and logged), publishes the device report of the bound sockets
///   (ph/v1/svc/device/{id}/report, before any commit), then cuts the rows into batches;
/// - the write loop commits each batch in one transaction (retried, then the process exits) and
///   publishes the status (queue, lag).
namespace pilehub::recorderd {

/// Tunables (config keys `recorderd.*`).
struct Options {
    std::size_t batch_rows = 1000;                 ///< a batch is written when it has this many rows...
    std::chrono::milliseconds batch_time{500};     ///< ...or when its oldest row is this old
    std::size_t max_queue = 200'000;               ///< telemetry messages queued before new ones are dropped (counted)
    std::size_t max_pending_batches = 16;          ///< batches waiting for the writer before decoding waits
    std::chrono::milliseconds status_every{5'000}; ///< status publish and log period
    EpochMs unknown_retry_ms = 30'000;             ///< an unknown device id is looked up again after this
    retention::Policy retention = {};              ///< telemetry and recorderd's processed_messages kept this long
    retention::Purger::Options purge = {};         ///< purged from the write loop's tick, in batches
    worker::Retry retry = {};
    /// Tests: how the process gives up, and how a back-off waits (see worker::Loop::Options).
    std::function<void()> give_up;
    std::function<void(std::chrono::milliseconds)> sleep;
};

/// What the worker has done so far (all counters since start).
struct Stats {
    std::uint64_t tele_received = 0;
    std::uint64_t tele_dropped = 0; ///< queue full
    std::uint64_t malformed = 0;
    std::uint64_t unknown_device = 0;
    std::uint64_t out_of_order = 0;   ///< replays and out-of-order telemetry
    std::uint64_t foreign = 0;        ///< readings dropped: not from the session's own socket
    std::uint64_t reports = 0;        ///< device reports published (ph/v1/svc/device/{id}/report)
    std::uint64_t reports_failed = 0; ///< device reports the client could not queue
    std::uint64_t rows_written = 0;
    std::uint64_t rows_ignored = 0; ///< duplicates of (session, t) / (device, t)
    std::uint64_t batches = 0;
    std::uint64_t events = 0;
    std::uint64_t duplicate_events = 0;
    std::uint64_t write_errors = 0;
    std::size_t queue = 0;        ///< telemetry messages not yet decoded
    std::size_t pending_rows = 0; ///< rows decoded, not yet committed
    EpochMs lag_ms = 0;           ///< age of the oldest telemetry not yet committed (0: none)
};

/// Runs recorderd. Construct before mqtt.start() (it subscribes through `router`).
class Worker {
public:
    Worker(mqtt::Client& mqtt, mqtt::Router& router, const std::string& core_path, const std::string& telemetry_path,
           int busy_timeout_ms, const Clock& clock, Options opts);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// Starts the decode and write threads.
    void start();
    /// Decodes and writes everything queued, then stops the threads.
    void stop();
    Stats stats() const;
    /// The retained status payload: `{"v":1,"online":true,"pid","ts","queue","pending_rows","lag_ms",...}`.
    std::string status_json() const;

    /// Tests: decodes what is queued, hands the batch over, writes every batch, on the calling thread.
    void drain();

private:
    void on_tele(const mqtt::Message& m);
    void on_event(const mqtt::Message& m);
    void handle_event(const mqtt::Message& m);
    void decode_one(const mqtt::Message& m, EpochMs received);
    void decode_tick();
    void publish_report(const svc::DeviceReport& r);
    void hand_off();
    void write(const Batch& b);
    void publish_status();
    /// The write loop's tick: the status, then the retention purge when due.
    void write_tick();

    mqtt::Client& mqtt_;
    const Clock& clock_;
    Options opts_;
    Directory directory_;

    // callback thread
    db::Database event_tele_db_;
    db::Database event_core_db_;
    TelemetryStore events_;
    FaultStore faults_;
    FaultTracker fault_rules_;

    // decode loop
    TeleRecorder tele_rules_;
    Batch batch_;
    EpochMs batch_started_ = 0;
    std::atomic<EpochMs> batch_oldest_{0};

    // write loop
    db::Database write_db_;
    TelemetryStore writer_;
    db::Database purge_core_db_;
    retention::Purger purge_telemetry_; ///< session_samples, device_samples, device_events
    retention::Purger purge_core_;      ///< processed_messages of consumer recorderd
    std::uint64_t logged_received_ = 0; ///< counters at the last status log line
    std::uint64_t logged_rows_ = 0;

    mutable std::mutex out_m_;
    std::deque<EpochMs> pending_oldest_; ///< oldest receive time of each batch handed over, not yet written
    std::size_t pending_rows_ = 0;

    log::RateLimiter warnings_;

    std::atomic<std::uint64_t> tele_received_{0}, malformed_{0}, unknown_{0}, out_of_order_{0}, foreign_{0},
        rows_written_{0}, rows_ignored_{0}, batches_{0}, events_n_{0}, duplicate_events_{0}, write_errors_{0},
        reports_{0}, reports_failed_{0};

    worker::Loop write_loop_;  ///< batches; stops after the decode loop
    worker::Loop decode_loop_; ///< telemetry messages; last member: stops first
};

} // namespace pilehub::recorderd
