#pragma once
#include "common/clock.hpp"
#include "common/mqtt.hpp"
#include "workers/pilehub-sim/device.hpp"
#include "workers/pilehub-sim/device_store.hpp"
#include "workers/pilehub-sim/fleet.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace pilehub::sim {

/// How the runner connects and paces the fleet (the command line of pilehub-sim).
struct RunnerOptions {
    std::string host = "127.0.0.1";
    int port = 1883;
    bool tls = false;
    std::string ca_file;
    /// Boot counters, unacknowledged records, `control` FIFO and `status.json` live here.
    std::string state_dir;
    double speed = 1.0;
    /// > 0: telemetry period for every device, active or idle (seconds, before the speed factor).
    std::int64_t tele_period_s = 0;
    /// New connections started per second.
    double connect_rate = 200;
    int keepalive_s = 60;
    /// How often status.json is rewritten (wall ms).
    int status_period_ms = 1000;
    /// Cameras: per cent of lock moves that jam (`--lock-jam-pct`).
    int lock_jam_pct = 0;
    /// Cameras: traffic on from the start (`--parking-traffic`); mean gap and stay (simulated seconds).
    bool parking_traffic = false;
    std::int64_t car_gap_s = 20 * 60;
    std::int64_t car_stay_s = 90 * 60;
};

/// Creates one MQTT client (the Paho one in the program; tests may pass a fake).
using ClientFactory = std::function<std::unique_ptr<mqtt::Client>(const mqtt::Options&)>;

/// Runs a fleet of simulated devices from one process: one MQTT connection per device, but one
/// scheduler thread for all of them. MQTT callbacks only enqueue; the scheduler thread owns every
/// device model, ticks each one when it asked to be ticked (a min-heap of due times), publishes
/// what the models return, paces new connections (`connect_rate`), reads control lines from the
/// FIFO `<state_dir>/control` and rewrites `<state_dir>/status.json`. What a device asks of another one
/// (a camera's car plugging in at a charger's gun) is applied there too, as that device's control line.
/// A second small thread does the
/// blocking transport work (dropping a connection, rebooting), so a `disconnect all` never stalls
/// the fleet's clock.
class Runner {
public:
    Runner(std::vector<FleetDevice> fleet, RunnerOptions opts, ClientFactory factory);
    ~Runner();
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;

    /// Creates the state directory and the control FIFO, starts the threads. Throws std::runtime_error.
    void start();
    /// Publishes `online:false` (reason `shutdown`) for every connected device, disconnects, joins.
    void stop();
    /// Queues one control line, as if written to the FIFO.
    void submit_control(std::string line);

private:
    struct Slot {
        std::unique_ptr<Device> dev;
        std::unique_ptr<mqtt::Client> client;
        std::atomic<std::int64_t> boot{0};
        EpochMs due = 0;
        bool started = false;
        bool connected = false;
    };
    enum class EvType { Inbound, Connected, Lost, Control, Downloaded };
    struct Event {
        EvType type;
        std::size_t slot = 0;
        mqtt::Message msg;
        std::string line;
    };
    enum class OpType { Kill, Reboot, Start, Download };
    struct Op {
        OpType type;
        std::size_t slot = 0;
        mqtt::Message last;
        std::string url; ///< Download: what to fetch
    };

    void enqueue(Event e);
    void loop();
    void process(Event& e);
    void control(const std::string& line);
    void connect_some(EpochMs now);
    void start_client(std::size_t i);
    void after(std::size_t i);
    /// Publishes what device i produced, does its transport action and applies what it asked of others.
    void flush(std::size_t i);
    void reschedule(std::size_t i);
    void disconnect(std::size_t i, std::int64_t seconds);
    void reboot(std::size_t i);
    void transport_op(Op op);
    void transport_loop();
    /// On the transport thread: fetches a firmware image over HTTP; "sha256:<hex>" or "error:<why>".
    static std::string download(const std::string& url);
    void fifo_loop();
    void write_status(EpochMs now);
    void set_connected(Slot& s, bool up);

    RunnerOptions opts_;
    ClientFactory factory_;
    std::unique_ptr<DeviceStore> store_;
    Settings settings_;
    const Clock& clock_;
    std::vector<std::unique_ptr<Slot>> slots_;
    std::unordered_map<std::string, std::size_t> index_;
    std::vector<FleetDevice> fleet_;

    // scheduler state (its thread only)
    using Due = std::pair<EpochMs, std::size_t>;
    std::priority_queue<Due, std::vector<Due>, std::greater<>> heap_;
    std::multimap<EpochMs, std::size_t> reconnects_;
    std::size_t next_to_start_ = 0;
    EpochMs first_start_ = 0;
    EpochMs next_status_ = 0;
    std::int64_t all_connected_ms_ = -1;
    std::size_t connected_count_ = 0;

    std::mutex qm_;
    std::condition_variable qcv_;
    std::deque<Event> queue_;
    bool stopping_ = false;

    std::mutex tm_;
    std::condition_variable tcv_;
    std::deque<Op> ops_;
    bool transport_stop_ = false;

    int wake_pipe_[2] = {-1, -1};
    std::string fifo_path_;
    std::thread scheduler_;
    std::thread transport_;
    std::thread fifo_;
    std::atomic<bool> running_{false};
};

} // namespace pilehub::sim
