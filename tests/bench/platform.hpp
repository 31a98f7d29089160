#pragma once
// The platform under load, for the benchmarks: a private Mosquitto from broker-config/ (the test
// fixture), a seeded core database, the real daemons as child processes (stopped by their PIDs),
// simulated piles that publish as their own users, and a paced telemetry blaster.
#include "bench_util.hpp"

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

/// One daemon as our child process.
class Daemon {
public:
    Daemon(std::string bin_dir, std::string name, const test::Broker& broker, std::string data_dir,
           std::vector<std::string> sets = {});
    ~Daemon() { stop(); }
    void start();
    int stop() { return proc_.pid() ? proc_.stop(10s) : 0; }
    pid_t pid() const { return proc_.pid(); }
    const std::string& name() const { return name_; }
    std::string log_path() const { return data_dir_ + "/" + name_ + ".log"; }

private:
    std::string bin_dir_;
    std::string name_;
    std::string data_dir_;
    std::vector<std::string> sets_;
    test::Process proc_;
};

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

/// Publishes e-bike telemetry (10 sockets each) from `devices` users at a paced total rate.
class Blaster {
public:
    Blaster(const test::Broker& broker, const std::vector<std::string>& devices);
    ~Blaster();
    /// Starts publishing `rate` messages/s (0 stops).
    void set_rate(double rate);
    std::uint64_t sent() const { return sent_; }
    std::uint64_t failed() const { return failed_; }

private:
    void run();
    std::vector<std::unique_ptr<mqtt::Client>> clients_;
    std::vector<std::string> ids_;
    std::vector<std::string> prefix_, suffix_;
    std::vector<std::int64_t> seq_;
    std::atomic<double> rate_{0};
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> sent_{0}, failed_{0};
    std::thread thread_;
};

/// The e-bike tele payload a blaster device sends, split around its `seq`.
std::pair<std::string, std::string> tele_template(int sockets);

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
