#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/ledger.hpp"
#include "common/log.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "common/payloads.hpp"
#include "common/retention.hpp"
#include "common/rpc.hpp"
#include "common/svc.hpp"
#include "common/worker_loop.hpp"
#include "workers/parkingd/parking_rules.hpp"
#include "workers/parkingd/parkingd_store.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

/// parkingd's glue: camera events, space states, lock replies, presence and its two RPC methods
/// are posted into one worker loop; its thread looks the facts up, runs the rules, commits their
/// effects (occupancies, fees, decisions, captures, reservation states, lock commands, faults) in
/// one transaction per message, then publishes (commands, alerts). A command is published after
/// its row committed, so a crash in between re-sends it from the table at the next start.
namespace pilehub::parkingd {

/// Tunables (config keys `parkingd.*`).
struct Options {
    std::chrono::milliseconds tick{200};  ///< due lock rises, re-sends, time-outs are checked this often
    EpochMs lock_exp_ms = 30'000;         ///< a lock command's `exp` after each send
    EpochMs lock_retry_ms = 10'000;       ///< an unanswered lock command is re-sent after this
    EpochMs busy_retry_ms = 2'000;        ///< a command answered busy (the lock moving) is re-sent after this
    int lock_max_attempts = 6;            ///< sends while online before a command fails (`no answer`)
    EpochMs rpc_wait_ms = 6'000;          ///< how long an operator's lock or snapshot request waits
    EpochMs reservation_check_ms = 5'000; ///< how often reservation holds are checked
    EpochMs config_refresh_ms = 30'000;   ///< how often spaces (lock, gun, enabled) are read again
    EpochMs max_skew_ms = 600'000;        ///< a device `ts` further than this from ours is replaced by receive time
    std::size_t queue_max = 100'000;
    retention::Policy retention = {};      ///< parkingd's processed_messages are purged after dedup_days
    retention::Purger::Options purge = {}; ///< from the tick, in batches
    std::optional<worker::Spool> spool;
    worker::Retry retry = {};
    std::function<void()> give_up;
    std::function<void(std::chrono::milliseconds)> sleep;
};

/// Counters for status and tests.
struct Counters {
    std::uint64_t events = 0;     ///< camera events handled
    std::uint64_t duplicates = 0; ///< events seen before (same id)
    std::uint64_t rejected = 0;   ///< undecodable or unknown device/space
    std::uint64_t stays_opened = 0;
    std::uint64_t stays_closed = 0;
    std::uint64_t refusals = 0;
    std::uint64_t lock_commands = 0; ///< sends of cmd/lock, re-sends included
    std::uint64_t lock_failures = 0;
    std::uint64_t alerts = 0;
};

class Worker {
public:
    /// Subscribes through `router` (construct before mqtt.start()).
    Worker(mqtt::Client& mqtt, mqtt::Router& router, db::Database& core, const Clock& clock, Options opts);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// restore(), then the loop's thread.
    void start();
    void stop();

    // ---- for tests: the same steps on the calling thread, never sleeping --------------------
    /// Loads spaces, their tracks and the pending lock commands.
    void restore();
    std::size_t drain() { return loop_.drain(); }
    void tick_now() { loop_.tick_now(); }
    const Counters& counters() const { return counters_; }
    /// A space's track as the worker holds it.
    std::optional<Track> track(const parking::SpaceId& id) const;
    /// The unanswered lock command of a space.
    std::optional<LockCommand> pending_lock(const parking::SpaceId& id) const;

private:
    struct Waiter {
        rpc::Responder responder;
        EpochMs until = 0;
    };
    struct Space {
        SpaceConfig cfg;
        Track track;
        bool occupied = false;       ///< what the camera last said
        bool saved_occupied = false; ///< what space_states holds
        bool dirty = false;          ///< a lock position not yet written (flush_dirty)
        bool sent_dirty = false;     ///< the command's attempts and sent_at not yet written (flush_dirty)
        std::optional<LockCommand> cmd;
        std::optional<Waiter> waiter; ///< an operator's lock request waiting for the camera
    };
    struct Snapshot {
        parking::SpaceId space; ///< n 0 for the whole view
        std::int64_t station_id = 0;
        Waiter waiter;
    };

    /// What a camera event does inside its transaction: the lock moves to send after the commit.
    using EventBody = std::function<std::vector<MoveLock>(db::Transaction& tx, Space& s, EpochMs at)>;

    void handle(const mqtt::Message& m);
    void tick();
    /// Decodes a camera message; a bad one is counted and logged (nothing).
    template <typename T>
    std::optional<payloads::Message<T>> decode_camera(const std::string& cam, const mqtt::Message& m,
                                                      std::string_view what);
    /// Runs an event of space `n` once (de-duplicated by the envelope's id) in one transaction,
    /// then sends the lock moves it decided.
    void camera_event(const std::string& cam, int n, const payloads::Envelope& env, std::string_view what,
                      const EventBody& body);
    void on_plate(const std::string& cam, const mqtt::Message& m);
    void on_space_event(const std::string& cam, const mqtt::Message& m);
    void on_lock_event(const std::string& cam, const mqtt::Message& m);
    void on_space_state(const std::string& cam, int n, const mqtt::Message& m);
    void on_presence(const std::string& cam, const mqtt::Message& m);
    void on_lock_reply(const std::string& cam, const mqtt::Message& m);
    void on_snapshot_reply(const std::string& cam, const mqtt::Message& m);
    void rpc_lock(rpc::Request& r, rpc::Responder responder);
    void rpc_snapshot(rpc::Request& r, rpc::Responder responder);

    /// The space, reading its configuration again when it is not known yet.
    Space* find(const parking::SpaceId& id);
    bool is_camera(const std::string& cam);
    /// The space, or nothing after counting the message rejected and logging it (rate-limited).
    Space* space_or_drop(const std::string& cam, int n, std::string_view what);
    /// Whether the camera is known to be offline (unknown counts as online).
    bool offline(const std::string& cam) const;
    /// The event's time: the device's `ts` when sane, else when the message arrived.
    EpochMs event_time(EpochMs device_ts) const;
    PlateFacts facts(const Space& s, const std::optional<std::string>& plate);
    /// Runs one camera report through the rules and commits its effects; lock moves come back.
    std::vector<MoveLock> run(db::Transaction& tx, Space& s, const SpaceEvent& e, EpochMs at,
                              std::optional<std::int64_t> capture_id);
    /// Closes a stay: fee, settlement, reservation.
    void close(db::Transaction& tx, Space& s, const Stay& stay, EpochMs left_at);
    /// Takes a new lock state from the camera: fault records, alerts, commands reached.
    void lock_seen(Space& s, const payloads::LockState& l, std::string_view source);
    /// Stores a new command for the space (superseding its pending one) and sends it.
    void command(Space& s, payloads::LockAction a, std::string_view cause, std::string_view by);
    /// In the caller's transaction: the row of a new command (nothing when there is no lock, or
    /// parkingd's own command for the same move is on its way).
    std::optional<LockCommand> store_command(Space& s, payloads::LockAction a, std::string_view cause,
                                             std::string_view by);
    /// After its row committed: the command replaces the space's pending one and is sent.
    void install(Space& s, const LockCommand& c, std::string_view cause, std::string_view by);
    void send(Space& s);
    void finish(Space& s, bool ok, const payloads::LockState* state, const std::string& code, const std::string& msg);
    /// Commands the lock where it should be when nothing else moves it (camera back, our start).
    void sync(Space& s);
    void alert(const Space& s, bool open, const std::string& msg);
    /// Writes every space whose lock position changed since the last tick, in one transaction.
    void flush_dirty(EpochMs now);
    payloads::Envelope next_env();

    mqtt::Client& mqtt_;
    db::Database& db_;
    Store store_;
    ledger::Ledger ledger_;
    const Clock& clock_;
    Options opts_;
    retention::Purger purge_; ///< processed_messages of consumer parkingd
    Counters counters_;
    log::RateLimiter warnings_;
    mqtt::Router rpc_router_; ///< the RPC server's subscriptions; its requests run on the loop
    std::unique_ptr<rpc::Server> server_;

    // loop thread only
    std::map<parking::SpaceId, Space> spaces_;
    std::map<std::string, svc::PresenceView, std::less<>> cameras_;
    std::map<std::string, parking::SpaceId, std::less<>> lock_rids_;
    std::map<std::string, Snapshot, std::less<>> snapshots_;
    std::map<std::string, EpochMs, std::less<>> unknown_; ///< unknown space id → when to look again
    EpochMs next_reservation_check_ = 0;
    EpochMs next_config_refresh_ = 0;
    std::int64_t seq_ = 0;
    std::uint64_t rid_counter_ = 0;
    worker::Loop loop_; ///< last: its thread stops before the members it uses go
};

} // namespace pilehub::parkingd
