#pragma once
// The platform under load, for the benchmarks: a private Mosquitto from broker-config/ (the test
// fixture), a seeded core database, the real daemons as child processes (stopped by their PIDs),
// simulated piles that publish as their own users, and a paced telemetry blaster.
#include "bench_util.hpp"
#include "raw_publisher.hpp"

#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/json.hpp"
#include "common/mqtt.hpp"
#include "common/payloads.hpp"
#include "common/registry.hpp"
#include "common/topics.hpp"
#include "tests/support/broker.hpp"
#include "tests/support/process.hpp"

#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace pilehub::bench {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

/// A temporary directory, removed at the end unless PILEHUB_KEEP_TEST_DIRS=1.
std::string make_temp_dir(const std::string& prefix);
void remove_temp_dir(const std::string& dir);

/// The power tariff the sessions of the benchmarks use.
extern const char* const kTariff;

/// One platform process (a worker daemon, pilehub-api or pilehub-ocpp) as our child: its binary is
/// `<bin_dir>/workers/<name>/<name>`, else `<bin_dir>/web-api/<name>`, else `<bin_dir>/gateway/<name>`; its MQTT user
/// `svc.<name>` with the broker's password; `--set data_dir=… mqtt.port=…` plus `sets`; `env` added to ours.
class Daemon {
public:
    Daemon(std::string bin_dir, std::string name, const test::Broker& broker, std::string data_dir,
           std::vector<std::string> sets = {}, std::vector<std::string> env = {});
    ~Daemon() { stop(); }
    void start();
    int stop() { return proc_.pid() ? proc_.stop(10s) : 0; }
    pid_t pid() const { return proc_.pid(); }
    const std::string& name() const { return name_; }
    const std::string& binary() const { return bin_; }
    std::string log_path() const { return data_dir_ + "/" + name_ + ".log"; }

private:
    std::string bin_;
    std::string name_;
    std::string data_dir_;
    std::vector<std::string> sets_;
    std::vector<std::string> env_;
    test::Process proc_;
};

/// Where a platform process's binary is under `bin_dir` (see Daemon); empty if not built.
std::string platform_binary(const std::string& bin_dir, const std::string& name);

/// The configuration keys a platform program lists in `--help` (empty if it lists none).
std::vector<std::string> config_keys(const std::string& binary);

/// Arrival times (monotonic µs) keyed by session id.
class Arrivals {
public:
    void add(const std::string& sid);
    std::optional<std::int64_t> wait(const std::string& sid, std::chrono::milliseconds timeout);

private:
    std::mutex m_;
    std::condition_variable cv_;
    std::map<std::string, std::int64_t> seen_;
};

/// A pile as its own MQTT user: publishes reports, records and acknowledges stop_port.
class ProbePile {
public:
    ProbePile(const test::Broker& broker, std::string id, Arrivals& stops);
    ~ProbePile();
    /// One report with one socket drawing `watts` for session `sid`.
    void tele(int n, const std::string& sid, double watts);
    mqtt::Client& client() { return *client_; }

private:
    std::string id_;
    std::int64_t seq_ = 0;
    std::unique_ptr<mqtt::Client> client_;
};

/// Publishes e-bike telemetry (10 sockets each, `seq` increasing; sockets 1..`charging` of every
/// device charging their session `<device>-<n>` at 180 W, the others idle) from
/// `devices` users at a paced total rate, QoS 0, over raw MQTT connections (RawPublisher: one per
/// device, the frames due in each 1 ms slot written with one non-blocking send per connection).
/// Each of `threads` threads owns every threads-th device and paces its share of the rate. A
/// thread more than 50 ms behind, or whose every connection holds 256 KiB the broker has not taken,
/// gives up the excess instead of bursting later, so sent() over a step is what was really offered.
class Blaster {
public:
    Blaster(const test::Broker& broker, const std::vector<std::string>& devices, int threads = 1, int charging = 0);
    /// The same towards any MQTT server on 127.0.0.1:`port` (e.g. a DiscardSink), logging in
    /// with `password(device)`.
    Blaster(int port, const std::vector<std::string>& devices,
            const std::function<std::string(const std::string&)>& password, int threads = 1, int charging = 0);
    ~Blaster();
    /// Starts publishing `rate` messages/s in total (0 stops).
    void set_rate(double rate);
    /// Messages handed to the kernel for the broker so far.
    std::uint64_t sent() const { return sent_; }
    /// Messages given up because the thread fell behind or the broker was not taking them.
    std::uint64_t skipped() const { return skipped_; }

private:
    struct Device {
        std::string topic;
        std::unique_ptr<RawPublisher> conn;
        std::string prefix, suffix; ///< its tele payload around `seq` (tele_template)
        std::int64_t seq = 0;
    };
    void run(std::size_t first, std::size_t stride, double share);
    std::vector<Device> devices_;
    std::atomic<double> rate_{0};
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> sent_{0}, skipped_{0};
    std::vector<std::thread> threads_;
};

/// The e-bike tele payload a blaster device sends, split around its `seq`: `sockets` sockets, of
/// which 1..`charging` charge the sessions `<device>-<n>` (add_charging_sessions) at 180 W.
std::pair<std::string, std::string> tele_template(int sockets, const std::string& device = {}, int charging = 0);

/// In a migrated core database: operator "bench", a station named `name`, and `tariff` (a tariff
/// document) in force from the start. Returns the station id and the tariff id.
std::pair<std::int64_t, std::int64_t> add_station_with_tariff(db::Database& core, const std::string& name,
                                                              const std::string& tariff);

/// Seeds a core database: operator, station, power tariff, `devices` with `ports` sockets each.
/// Returns the tariff id and the station id.
std::pair<std::int64_t, std::int64_t> seed_core(const std::string& core_path, const std::vector<std::string>& devices,
                                                int ports);

/// Charging sessions `<pile>-<n>` (power mode, started 2 min ago), one account each.
void add_charging_sessions(const std::string& core_path, const std::vector<std::string>& piles, int ports,
                           std::int64_t tariff_id, std::int64_t station_id);

/// Every worker daemon, in start order.
inline const std::vector<std::string> kDaemons = {"presenced", "recorderd", "billingd", "sessiond", "autostopd"};

/// Counts "Outgoing messages are being dropped" lines in the broker log.
int broker_drop_lines(const test::Broker& broker);

} // namespace pilehub::bench
