#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "common/rpc.hpp"
#include "common/topics.hpp"
#include "common/worker_loop.hpp"
#include "workers/autostopd/autostopd_rules.hpp"
#include "workers/autostopd/autostopd_store.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

/// autostopd's glue. The MQTT callback thread only posts into the worker loop; its one thread
/// decodes, looks sessions up, runs the rules and ticks them; a small pool of request threads asks
/// sessiond to stop (rpc `sessiond/stop`, which blocks until sessiond answers) and posts the answers
/// back into the loop. Telemetry comes as recorderd's device reports (ph/v1/svc/device/{id}/report):
/// validated, replays dropped, each socket bound to its session by recorderd, so autostopd reads no
/// raw telemetry and checks no binding.
namespace pilehub::autostopd {

/// Tunables (config keys `autostopd.*`).
struct Options {
    std::chrono::milliseconds tick{200};          ///< time-based rules are checked this often
    std::chrono::milliseconds rpc_timeout{3'000}; ///< how long a stop request waits for sessiond
    int rpc_threads = 2;                          ///< stop requests in flight at once
    EpochMs retry_ms = 10'000;                    ///< a failed request is repeated after this
    EpochMs forget_ms = 3'600'000;                ///< a session silent this long is forgotten
    EpochMs lookup_retry_ms = 5'000;              ///< a session missing from the database is looked up again after this
    EpochMs unknown_retry_ms = 30'000;            ///< an unknown device id is looked up again after this
    std::uint32_t unsafe_fault_bits = kDefaultUnsafeFaultBits;
    std::string service = "sessiond"; ///< who is asked to stop
};

/// The stop request sent to sessiond for `s` (actor `autostopd`).
svc::StopRequest stop_request(const Stop& s);

/// Runs autostopd. Construct before mqtt.start() (it subscribes through `router`).
class Worker {
public:
    /// Sends one stop request and waits for the answer (rpc::Client::call by default; tests may
    /// replace it).
    using Caller = std::function<rpc::Reply(const svc::StopRequest& request)>;

    Worker(mqtt::Client& mqtt, mqtt::Router& router, db::Database& core, const Clock& clock, Options opts);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// Replaces how stop requests are sent (before start()).
    void set_caller(Caller c) { caller_ = std::move(c); }
    /// Starts the rules thread and the request threads.
    void start();
    /// Stops the request threads (requests not yet sent are dropped, logged), then the rules thread.
    void stop();

    // ---- for tests: the same steps on the calling thread, never sleeping --------------------
    /// Runs what is queued (messages, answers) and the tick if due.
    std::size_t drain() { return loop_.drain(); }
    /// Runs the tick now.
    void tick_now() { loop_.tick_now(); }
    /// Stop requests decided and not yet sent.
    std::size_t pending_requests();
    /// Sends every pending stop request with the caller and posts the answers (run drain() after).
    std::size_t send_requests();

private:
    struct Answered {
        Stop stop;
        rpc::Reply reply;
        std::int64_t took_ms = 0;
    };
    struct Request {
        Stop stop;
        EpochMs arrived_ms = 0;
    };

    void handle(const mqtt::Message& m);
    void handle_device(const topics::DeviceTopic& t, const mqtt::Message& m);
    void handle_session(const std::string& sid, bool cost, const mqtt::Message& m);
    /// recorderd's report of one telemetry message: the power, temperature and overload rules.
    void handle_report(const std::string& dev, const mqtt::Message& m);
    void tick();
    void answered(const Answered& a);
    bool known_device(const std::string& dev);
    void ensure_session(const std::string& sid, const std::string& dev, int n, EpochMs start_hint);
    void dispatch(std::vector<Stop> stops, EpochMs arrived_ms);
    void send(Request r);
    void request_loop();

    mqtt::Client& mqtt_;
    const Clock& clock_;
    Options opts_;
    Store store_;
    Rules rules_;
    rpc::Client rpc_;
    Caller caller_;

    log::RateLimiter warnings_;

    std::mutex req_m_;
    std::condition_variable req_cv_;
    std::deque<Request> requests_;
    bool req_stopping_ = false;

    // rules thread only
    std::map<std::string, EpochMs, std::less<>> unknown_;   ///< unknown device → when to look again
    std::map<std::string, Kind, std::less<>> kinds_;        ///< registered devices seen
    std::map<std::string, EpochMs, std::less<>> looked_up_; ///< sid → when it may be looked up again

    std::vector<std::thread> request_threads_;
    worker::Loop loop_; ///< last: its thread stops before the members it uses go
};

} // namespace pilehub::autostopd
