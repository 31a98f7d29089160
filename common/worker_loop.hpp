#pragma once
#include "common/clock.hpp"
#include "common/mqtt.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

/// The one worker loop of every PileHub daemon: Paho's callback thread only posts into a bounded
/// queue; one consumer thread handles the queue in order and runs a periodic tick, so the rules it
/// drives need no locks (STYLE "MQTT"). Tests never start the thread: they post, then call drain().
///
/// The failure rule (docs/architecture.md "When a handler fails"): a step that throws a storage
/// failure (SQLite busy past its timeout, disk full, I/O error: `retryable()`) is tried again with
/// a bounded back-off, blocking everything behind it; if it still fails the process gives up:
/// what it had taken from the broker and not committed (the QoS 1 messages of the queue) is written
/// to the spool file with fsync, and the process exits with code 1. The next start replays the
/// spool first, each message flagged `duplicate` (handlers are idempotent by message id). A step
/// that throws anything else is counted, logged and skipped: retrying a bug or a poison message
/// would never succeed.
namespace pilehub::worker {

/// SQLite busy or locked past its time-out, disk full, I/O error: a failure that may pass.
bool retryable(const std::exception& e);

/// How often and how long a failing step is tried again before the process gives up.
struct Retry {
    int attempts = 6;                         ///< tries in all (1 = never again)
    std::chrono::milliseconds first{250};     ///< wait after the first failure, doubled after each
    std::chrono::milliseconds longest{4'000}; ///< the longest wait
};

/// The spool of a process: the QoS 1 messages it acknowledged to the broker (by returning from
/// Paho's callback after queueing them) but could not commit before giving up.
class Spool {
public:
    explicit Spool(std::string path) : path_(std::move(path)) {}
    const std::string& path() const { return path_; }
    /// Replaces the spool with `messages`: written to a temporary file, fsync'd, renamed, the
    /// directory fsync'd. Throws std::runtime_error when it cannot.
    void save(const std::vector<mqtt::Message>& messages) const;
    /// The spooled messages, each flagged duplicate (none when there is no spool).
    std::vector<mqtt::Message> load() const;
    /// Removes the spool (all of it was handled).
    void clear() const;

private:
    std::string path_;
};

/// `<data_dir>/<process>.spool`.
std::string spool_path(const std::string& data_dir, std::string_view process);

/// Counters and the queue's depth and lag, for status reports and tests.
struct Stats {
    std::size_t queued = 0;     ///< items waiting
    std::int64_t lag_ms = 0;    ///< age of the oldest waiting item (0: none waiting)
    std::uint64_t handled = 0;  ///< items run
    std::uint64_t dropped = 0;  ///< QoS 0 messages refused because the queue was full
    std::uint64_t errors = 0;   ///< steps that failed (each failed try counts)
    std::uint64_t retries = 0;  ///< tries repeated after a storage failure
    std::uint64_t replayed = 0; ///< spooled messages handled again at start
    std::uint64_t ticks = 0;
};

/// Thrown after Options::give_up returned (tests only: in a daemon the process has exited).
struct GaveUp {};

class Loop {
public:
    using Handler = std::function<void(const mqtt::Message&)>;
    using Task = std::function<void()>;

    struct Options {
        std::string name = "worker";       ///< in log lines ("presenced loop: ...")
        std::size_t queue_max = 100'000;   ///< beyond this, QoS 0 messages are dropped (counted); QoS 1
                                           ///< messages and tasks wait for room (back-pressure)
        std::chrono::milliseconds tick{0}; ///< period of the tick (0: no tick)
        Retry retry = {};
        bool retry_failures = true;                ///< false: every failure is counted and skipped (billingd,
                                                   ///< whose database scan finds again what a failure left)
        std::chrono::milliseconds lag_warn{5'000}; ///< a queue older than this is logged (rate-limited)
        std::optional<Spool> spool;                ///< where unhandled QoS 1 messages go when giving up
        /// How the process gives up, after the spool is written (default: `std::_Exit(1)`, which
        /// also never returns to Paho). When it returns (tests), GaveUp is thrown instead.
        std::function<void()> give_up;
        /// How a back-off waits (default: sleeping). Tests replace it so that they never sleep.
        std::function<void(std::chrono::milliseconds)> sleep;
    };

    /// `on_message` handles each posted message; `on_tick` runs every `options.tick`.
    Loop(const Clock& clock, Options options, Handler on_message, Task on_tick = {});
    ~Loop();
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    /// From any thread (Paho's callback): queues `m`. Never throws. false if it was dropped (QoS 0
    /// and the queue full, or the loop stopped). A QoS 1 message waits for room.
    bool post(mqtt::Message m);
    /// Queues work for the consumer thread (answers from other threads, batches); waits for room.
    void post(Task task, std::vector<mqtt::Message> origin = {});

    /// Puts the spooled messages (if any) at the head of the queue, flagged duplicate; the spool is
    /// removed once they are all handled. start() does it; tests call it before drain().
    std::size_t replay_spool();
    /// Replays the spool and starts the consumer thread.
    void start();
    /// Handles everything queued, runs a last tick, stops the thread. Idempotent.
    void stop();
    /// Tests (thread not started): runs every queued item, then the tick if it is due by the clock
    /// (the first one is due at once), on the calling thread. Returns how many items ran.
    std::size_t drain();
    /// Tests: runs the tick now, on the calling thread.
    void tick_now();

    /// Runs `step` under the failure rule on the calling thread: a storage failure is retried with
    /// back-off; after the last try the process gives up (spooling what the consumer holds).
    /// Handlers call it around a commit whose in-memory effects must not be applied twice; the
    /// consumer runs every item through it.
    void with_retry(std::string_view what, const Task& step);
    /// Runs `handler(m)` inside Paho's callback under the failure rule (sessiond, recorderd's
    /// events): giving up exits WITHOUT returning to Paho, so the message is never acknowledged
    /// and the broker delivers it again to the persistent session (docs/architecture.md).
    void run_inline(const mqtt::Message& m, const Handler& handler);

    /// On the consumer (inside a handler): the clock's time when the item being handled was posted,
    /// i.e. when the message arrived. Elsewhere: the clock's time now.
    EpochMs current_posted_ms() const;

    Stats stats() const;
    std::size_t queued() const;
    const std::string& name() const { return options_.name; }

private:
    struct Item {
        std::optional<mqtt::Message> message;
        Task task;
        std::vector<mqtt::Message> origin; ///< the messages a task came from (spooled with it)
        std::int64_t posted_mono = 0;
        EpochMs posted_ms = 0; ///< by clock_
        bool replayed = false;
    };
    bool push(Item item, bool may_drop);
    void run();
    void run_current();
    void maybe_tick();
    [[noreturn]] void fail_hard(std::string_view what, const std::exception& e, int tries);
    void count_error();
    void report_lag();

    const Clock& clock_;
    Options options_;
    Handler on_message_;
    Task on_tick_;

    mutable std::mutex m_;
    std::condition_variable cv_;      ///< the consumer waits for items
    std::condition_variable room_cv_; ///< producers wait for room
    std::deque<Item> queue_;
    bool stopping_ = false;
    bool stopped_ = false;
    Stats stats_;
    std::size_t replay_left_ = 0; ///< spooled messages not yet handled
    std::optional<Item> current_; ///< the item being run (spooled if the process gives up)
    std::thread::id consumer_;
    EpochMs next_tick_ = 0; ///< by clock_; 0 = due at once
    std::int64_t next_lag_log_ = 0;
    std::thread thread_;
};

/// A daemon's loop options from its own tunables: any `O` with the members `queue_max`, `tick`,
/// `retry`, `spool`, `give_up` and `sleep` (presenced::Options, parkingd::Options).
template <typename O> Loop::Options loop_options(std::string name, const O& o) {
    Loop::Options l;
    l.name = std::move(name);
    l.queue_max = o.queue_max;
    l.tick = o.tick;
    l.retry = o.retry;
    l.spool = o.spool;
    l.give_up = o.give_up;
    l.sleep = o.sleep;
    return l;
}

} // namespace pilehub::worker
