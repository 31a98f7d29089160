// pilehub-sim: wiring only (arguments, signals, limits); the fleet lives in runner.cpp, the devices
// in the models.
#include "common/daemon.hpp"
#include "common/log.hpp"
#include "workers/pilehub-sim/fleet.hpp"
#include "workers/pilehub-sim/runner.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <sys/resource.h>

#include <charconv>
#include <cstdlib>
#include <iostream>

namespace {

using namespace pilehub;

constexpr const char* kUsage = R"(usage: pilehub-sim --fleet FILE --state-dir DIR [options]

A simulated fleet of e-bike piles, EV chargers and cameras speaking the PileHub device contract
(CONTRACT A), one MQTT connection per device, and the load generator for benchmarks.

  --fleet FILE          devices and their secrets (pilehubctl fleet provision --out FILE)
  --state-dir DIR       boot counters, unacknowledged records, control FIFO, status.json
  --host H              broker host (default 127.0.0.1)
  --port N              broker port (default 1883)
  --tls                 connect with TLS, trusting --ca-file
  --ca-file F           CA certificate for --tls
  --speed X             time acceleration of device durations (default 1)
  --only ID,...         simulate only these devices of the fleet file
  --tele-period-s N     telemetry every N s (before --speed) whatever cfg/desired says
  --connect-rate N      new connections per second (default 200)
  --keepalive-s N       MQTT keep-alive of every device, 5..3600 s (default 60)
  --parking-traffic     cameras start with traffic on: cars arrive, park (and charge) and leave
  --car-gap-s N         traffic: mean gap before a free space gets a car, simulated s (default 1200)
  --car-stay-s N        traffic: mean stay of a parked car, simulated s (default 5400)
  --lock-jam-pct P      per cent of ground-lock moves that jam and end in fault, 0..100 (default 0)
  --log-level L         debug, info, warn, error (default info)

Control lines, written to DIR/control (a FIFO), one per line:
  )";

bool parse_double(const char* s, double lo, double hi, double& out) {
    const std::string_view v(s);
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return ec == std::errc() && p == v.data() + v.size() && out >= lo && out <= hi;
}

bool parse_int(const char* s, std::int64_t lo, std::int64_t hi, std::int64_t& out) {
    const std::string_view v(s);
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return ec == std::errc() && p == v.data() + v.size() && out >= lo && out <= hi;
}

// Thousands of sockets need more descriptors than the usual soft limit of 1024.
void raise_nofile(std::size_t devices) {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < devices + 64)
        log::warn("RLIMIT_NOFILE is {} for {} devices: some will not connect (raise the hard limit)", rl.rlim_cur,
                  devices);
}

} // namespace

int main(int argc, char** argv) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr); // before any thread: only sigwait sees them
    ::signal(SIGPIPE, SIG_IGN);
    log::init("pilehub-sim");

    std::string fleet_file, only, level = "info";
    sim::RunnerOptions o;
    auto bad = [](const std::string& what) {
        std::cerr << "pilehub-sim: " << what << " (try --help)\n";
        return daemon::kExitBadConfig;
    };
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        if (a == "--help" || a == "-h") {
            std::cout << kUsage << sim::control_usage() << "\n";
            return daemon::kExitOk;
        }
        if (a == "--tls") {
            o.tls = true;
            continue;
        }
        if (a == "--parking-traffic") {
            o.parking_traffic = true;
            continue;
        }
        if (!has_value)
            return bad(fmt::format("unknown argument or missing value: {}", a));
        const char* v = argv[++i];
        std::int64_t n = 0;
        if (a == "--fleet")
            fleet_file = v;
        else if (a == "--state-dir")
            o.state_dir = v;
        else if (a == "--host")
            o.host = v;
        else if (a == "--port") {
            if (!parse_int(v, 1, 65535, n))
                return bad("--port must be 1..65535");
            o.port = static_cast<int>(n);
        } else if (a == "--ca-file")
            o.ca_file = v;
        else if (a == "--speed") {
            if (!parse_double(v, 0.01, 100000, o.speed))
                return bad("--speed must be a number 0.01..100000");
        } else if (a == "--only")
            only = v;
        else if (a == "--tele-period-s") {
            if (!parse_int(v, 1, 86400, o.tele_period_s))
                return bad("--tele-period-s must be 1..86400");
        } else if (a == "--connect-rate") {
            if (!parse_double(v, 0.1, 1e6, o.connect_rate))
                return bad("--connect-rate must be 0.1..1000000");
        } else if (a == "--keepalive-s") {
            if (!parse_int(v, 5, 3600, n))
                return bad("--keepalive-s must be 5..3600");
            o.keepalive_s = static_cast<int>(n);
        } else if (a == "--car-gap-s") {
            if (!parse_int(v, 1, 7 * 86400, o.car_gap_s))
                return bad("--car-gap-s must be 1..604800");
        } else if (a == "--car-stay-s") {
            if (!parse_int(v, 1, 7 * 86400, o.car_stay_s))
                return bad("--car-stay-s must be 1..604800");
        } else if (a == "--lock-jam-pct") {
            if (!parse_int(v, 0, 100, n))
                return bad("--lock-jam-pct must be 0..100");
            o.lock_jam_pct = static_cast<int>(n);
        } else if (a == "--log-level")
            level = v;
        else
            return bad(fmt::format("unknown argument {}", a));
    }
    auto lvl = log::parse_level(level);
    if (!lvl)
        return bad("--log-level must be debug, info, warn or error");
    log::set_level(*lvl);
    if (fleet_file.empty() || o.state_dir.empty())
        return bad("--fleet and --state-dir are required");
    if (o.tls && o.ca_file.empty())
        return bad("--tls needs --ca-file");

    auto fleet = sim::load_fleet(fleet_file);
    if (!fleet) {
        log::error("{}", fleet.error());
        return daemon::kExitBadConfig;
    }
    auto chosen = sim::select_devices(std::move(fleet).value(), only);
    if (!chosen) {
        log::error("{}", chosen.error());
        return daemon::kExitBadConfig;
    }
    raise_nofile(chosen->size());

    std::unique_ptr<sim::Runner> runner;
    try {
        runner = std::make_unique<sim::Runner>(std::move(chosen).value(), o, mqtt::make_client);
        runner->start();
    } catch (const std::exception& e) {
        log::error("start failed: {}", e.what());
        return daemon::kExitFailure;
    }
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            log::info("SIGHUP: nothing to reload (use the control FIFO)");
            continue;
        }
        log::info("signal {}: stopping", sig);
        break;
    }
    try {
        runner->stop();
        runner.reset();
    } catch (const std::exception& e) {
        log::error("stop failed: {}", e.what());
        return daemon::kExitFailure;
    }
    log::info("stopped");
    return daemon::kExitOk;
}
