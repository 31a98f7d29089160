#pragma once
// The network scenarios' world: a real Mosquitto (test::Broker), optionally the fault proxy in front of
// it, a fleet of N simulated e-bike piles (pilehub-sim, split over several simulator processes so that
// one can be killed with kill -9 on its own), the real presenced, and with `sessions` sessiond,
// recorderd and billingd on a seeded core database, the test acting as the API (rpc as svc.pilehub-api).
// It is tests/integration/sessions_world.hpp's World at fleet size; the tariff and the rpc helpers
// are that file's.
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "common/rpc.hpp"
#include "tests/support/broker.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/fault_proxy.hpp"
#include "tests/support/process.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pilehub::chaos {

/// How a fleet world is set up.
struct FleetOptions {
    const char* name = "fleet";
    int piles = 20;
    int sockets = 10;
    /// Simulator processes; pile i (1-based) is simulated by process (i - 1) % sims.
    int sims = 1;
    double speed = 600;
    std::int64_t tele_period_s = 10;
    /// The piles' MQTT keep-alive (pilehub-sim --keepalive-s); 0: the simulator's default.
    int keepalive_s = 0;
    /// New connections per second of each simulator.
    int connect_rate = 1000;
    /// Piles connect through a FaultProxy in front of the broker's plain port.
    bool proxy = false;
    /// Also sessiond, recorderd and billingd, and one funded account per pile socket.
    bool sessions = true;
    std::vector<std::string> presenced_sets = {};
};

/// One scenario's world; everything is stopped (by PID) and removed when it dies.
class FleetWorld {
public:
    explicit FleetWorld(FleetOptions o);
    ~FleetWorld();

    const FleetOptions& options() const { return opts_; }
    test::Broker& broker() { return *broker_; }
    test::FaultProxy& proxy() { return *proxy_; }
    const std::string& dir() const { return dir_; }
    std::string core_db() const { return dir_ + "/pilehub.db"; }
    /// The pile ids, C0001.. in order.
    const std::vector<std::string>& piles() const { return piles_; }
    /// The account that pays for sessions on socket `n` of pile `i` (0-based index).
    std::int64_t account(std::size_t pile, int n) const;

    /// presenced's verdicts (`ph/v1/svc/device/+/presence`), the piles' own presence, and the
    /// replies to their session records, in arrival order.
    test::Inbox inbox;
    std::optional<test::Daemon> presenced;
    std::optional<test::Daemon> sessiond;
    std::optional<test::Daemon> recorderd;
    std::optional<test::Daemon> billingd;

    /// Simulator process `g`: kill -9 (every pile it plays drops without a clean disconnect).
    void kill_sim(int g);
    /// Simulator process `g`: SIGTERM (a clean shutdown: each pile says offline with reason `shutdown`).
    void stop_sim(int g);
    /// Starts simulator process `g` again (same state directory: boots grow, records are resent).
    void start_sim(int g);
    /// Which simulator process plays pile index `i`.
    int sim_of(std::size_t i) const { return static_cast<int>(i % static_cast<std::size_t>(opts_.sims)); }
    /// One control line to simulator process `g` (workers/pilehub-sim/README.md).
    void control(int g, const std::string& line);
    /// The sum of `pending_records` over the simulators' status.json (-1 if one cannot be read).
    std::int64_t pending_records();

    /// An rpc request to sessiond, as the API sends it.
    rpc::Reply call(const std::string& method, const std::string& data_json,
                    std::chrono::milliseconds timeout = std::chrono::seconds(3));
    /// A read connection to the core database.
    db::Database& db();
    /// The first column of the first row of `sql` (-1 when no row / NULL).
    std::int64_t number(const std::string& sql);
    /// Polls `pred` every 20 ms until it holds or `timeout` passes.
    static bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout);
    /// The sessions neither completed nor failed, one line each (id device-n state record cmd_rid), for a
    /// failure message.
    std::string open_sessions();
    /// The tails of the daemons' and simulators' logs, for a failure message.
    std::string logs(std::size_t lines = 30);

private:
    void seed();
    std::vector<std::string> sim_argv(int g) const;

    FleetOptions opts_;
    std::vector<std::string> piles_;
    std::unique_ptr<test::Broker> broker_;
    std::unique_ptr<test::FaultProxy> proxy_;
    std::string dir_;
    std::vector<test::Process> sims_;
    std::vector<std::int64_t> accounts_;
    std::unique_ptr<mqtt::Client> api_;
    mqtt::Router router_;
    std::unique_ptr<rpc::Client> rpc_;
    std::unique_ptr<db::Database> db_;
};

} // namespace pilehub::chaos
