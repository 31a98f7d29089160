// `pilehub-bench ocpp` (see ocpp_bench.hpp). Two stacks, one after the other, with the same load
// generator (one io_context thread in this process, ocpp_load.hpp) at the same N and rate:
//   1. the bare echo server (`pilehub-bench ocpp-echo`, a child): paced, then saturated;
//   2. the platform: broker, the five daemons, pilehub-api and pilehub-ocpp as children; N OCPP
//      chargers seeded the way registration stores them; idle, paced with remote starts through
//      the API, then saturated.
// "A message" is one OCPP request/response exchange: a charge point's CALL answered (CALLRESULT or
// CALLERROR) or a CALL of the server answered by the charge point.
#include "ocpp_bench.hpp"

#include "api_client.hpp"
#include "ocpp_load.hpp"
#include "platform.hpp"

#include "common/broker_auth.hpp"
#include "common/ocpp_identity.hpp"
#include "tests/support/loopback.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace pilehub::bench {
namespace {

double ms(std::int64_t us) {
    return static_cast<double>(us) / 1000.0;
}

double mb(std::int64_t bytes) {
    return static_cast<double>(bytes) / 1048576.0;
}

/// Energy mode, valley 00:00-08:00 and peak 08:00-24:00 (Asia/Shanghai): what an EV station sells.
std::string energy_tariff() {
    std::string slots;
    for (int i = 0; i < 48; ++i)
        slots += fmt::format("{}\"{}\"", i ? "," : "", i < 16 ? "valley" : "peak");
    return fmt::format(
        R"({{"name":"Cars","timezone":"Asia/Shanghai","modes":["energy"],)"
        R"("energy":{{"periods":{{"valley":{{"elec_e4":3000,"service_e4":4000}},"peak":{{"elec_e4":9000,"service_e4":6000}}}},)"
        R"("slots":[{}],"service_by":"energy"}},"min_start_balance_fen":0,"stop_below_balance_fen":0}})",
        slots);
}

std::vector<OcppChargerSpec> charger_specs(int n) {
    std::vector<OcppChargerSpec> v;
    for (int i = 1; i <= n; ++i)
        v.push_back({fmt::format("ocpp-{:04d}", i), broker::random_secret()});
    return v;
}

/// What one span of load cost: a process's CPU, the generator thread's, the messages exchanged.
struct Span {
    double secs = 0;
    double cpu_s = 0;     ///< the measured process
    double gen_cpu_s = 0; ///< the load generator's io thread
    std::uint64_t msgs = 0;
    std::uint64_t calls = 0;        ///< the charge points' CALLs answered
    std::uint64_t server_calls = 0; ///< the server's CALLs answered
    std::uint64_t meter_values = 0;
    std::uint64_t errors = 0;
    std::int64_t rss = 0; ///< at the end
    std::vector<double> rtts;
    std::map<pid_t, double> others_cpu_s; ///< other processes' CPU over the span
    std::vector<double> thread_pct;       ///< the measured process's threads, % of a core, busiest first

    double per_msg_us() const { return msgs ? cpu_s / static_cast<double>(msgs) * 1e6 : 0; }
    double cpu_pct() const { return secs > 0 ? cpu_s / secs * 100 : 0; }
    double gen_pct() const { return secs > 0 ? gen_cpu_s / secs * 100 : 0; }
    double msgs_per_s() const { return secs > 0 ? static_cast<double>(msgs) / secs : 0; }
};

std::string thread_text(const std::vector<double>& pct) {
    std::string t;
    for (const auto p : pct)
        t += fmt::format("{}{:.1f}", t.empty() ? "" : " ", p);
    return t.empty() ? "-" : t;
}

double thread_cpu(int tid) {
    return tid ? sample_stat_file(fmt::format("/proc/self/task/{}/stat", tid)).cpu_s : 0;
}

/// Runs `secs` of whatever load is on, measuring `pid` (and `others`).
Span measure(pid_t pid, OcppLoad& load, double secs, const std::vector<pid_t>& others = {}) {
    Span s;
    std::map<pid_t, double> before;
    for (const auto p : others)
        before[p] = sample_proc(p).cpu_s;
    load.take_rtts();
    const auto c0 = load.counters();
    const auto p0 = sample_proc(pid);
    const auto th0 = sample_threads(pid);
    const auto g0 = thread_cpu(load.thread_id());
    const auto t0 = now_us();
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<std::int64_t>(secs * 1e6)));
    const auto p1 = sample_proc(pid);
    const auto th1 = sample_threads(pid);
    const auto g1 = thread_cpu(load.thread_id());
    const auto c1 = load.counters();
    s.secs = static_cast<double>(now_us() - t0) / 1e6;
    for (const auto& [tid, cpu] : th1) {
        const auto b = th0.find(tid);
        const double pct = (cpu - (b == th0.end() ? 0.0 : b->second)) / s.secs * 100;
        if (pct > 0)
            s.thread_pct.push_back(pct);
    }
    std::sort(s.thread_pct.rbegin(), s.thread_pct.rend());
    for (const auto p : others)
        s.others_cpu_s[p] = sample_proc(p).cpu_s - before[p];
    s.rtts = load.take_rtts();
    s.cpu_s = p1.cpu_s - p0.cpu_s;
    s.gen_cpu_s = g1 - g0;
    s.rss = p1.rss;
    s.calls = (c1.results - c0.results) + (c1.errors - c0.errors);
    s.server_calls = c1.server_calls - c0.server_calls;
    s.meter_values = c1.meter_values - c0.meter_values;
    s.errors = c1.errors - c0.errors;
    s.msgs = s.calls + s.server_calls;
    return s;
}

void print_problems(const OcppLoad& load) {
    for (const auto& p : load.problems())
        say("  charge point: " + p);
}

/// Waits until every charge point is booted; returns the seconds it took.
double wait_booted(OcppLoad& load, std::size_t n, double timeout_s, const std::string& what) {
    const auto t0 = now_us();
    std::size_t last = 0;
    auto next_say = t0 + 5'000'000;
    while (load.booted() < n) {
        if (static_cast<double>(now_us() - t0) / 1e6 > timeout_s) {
            print_problems(load);
            throw std::runtime_error(
                fmt::format("{}: {} of {} charge points booted after {:.0f} s", what, load.booted(), n, timeout_s));
        }
        if (now_us() > next_say && load.booted() != last) {
            last = load.booted();
            say(fmt::format("{}: {} of {} booted", what, last, n));
            next_say = now_us() + 5'000'000;
        }
        std::this_thread::sleep_for(20ms);
    }
    return static_cast<double>(now_us() - t0) / 1e6;
}

Result span_result(const std::string& bench, const std::string& phase, const Span& s, int chargers) {
    Result r(bench);
    r.str("phase", phase)
        .num("chargers", chargers)
        .num("secs", s.secs)
        .num("msgs", static_cast<double>(s.msgs))
        .num("calls", static_cast<double>(s.calls))
        .num("server_calls", static_cast<double>(s.server_calls))
        .num("meter_values", static_cast<double>(s.meter_values))
        .num("errors", static_cast<double>(s.errors))
        .num("msgs_per_s", s.msgs_per_s())
        .num("cpu_s", s.cpu_s)
        .num("cpu_pct", s.cpu_pct())
        .num("cpu_us_per_msg", s.per_msg_us())
        .num("generator_cpu_pct", s.gen_pct())
        .num("rss_mb", mb(s.rss))
        .str("threads_pct", thread_text(s.thread_pct));
    add_quantiles(r, "rtt", s.rtts);
    return r;
}

void say_span(const std::string& what, const Span& s) {
    say(fmt::format("{}: {:.1f} s, {} messages ({:.1f}/s; {} MeterValues, {} server CALLs, {} CALLERRORs), CPU "
                    "{:.3f} s = {:.1f} % of a core (by thread: {}) = {:.1f} µs per message; generator thread {:.1f} "
                    "%; RSS {:.1f} MB; MeterValues round trip {}",
                    what, s.secs, s.msgs, s.msgs_per_s(), s.meter_values, s.server_calls, s.errors, s.cpu_s,
                    s.cpu_pct(), thread_text(s.thread_pct), s.per_msg_us(), s.gen_pct(), mb(s.rss), q3(s.rtts)));
}

// ---------------------------------------------------------------------------------------------
// 1. the bare echo server
// ---------------------------------------------------------------------------------------------

/// {per-message µs paced, saturated}
std::pair<double, double> echo_phase(const OcppBenchOptions& o) {
    const int port = test::free_tcp_port();
    const auto dir = make_temp_dir("pilehub-bench-ocpp-echo");
    struct DirGuard {
        std::string dir;
        ~DirGuard() { remove_temp_dir(dir); }
    } guard{dir};
    test::SpawnOptions so;
    so.output = dir + "/echo.log";
    auto echo = test::Process::spawn({o.self, "ocpp-echo", "--port", std::to_string(port)}, so);
    for (int i = 0;; ++i) {
        const int fd = test::connect_loopback(port, 200ms);
        if (fd >= 0) {
            ::close(fd);
            break;
        }
        if (i > 100 || !echo.running())
            throw std::runtime_error("ocpp-echo did not listen:\n" + tail(slurp(so.output)));
        std::this_thread::sleep_for(50ms);
    }
    say(fmt::format("ocpp echo: pid {} on port {}; {} charge points connecting at {:.0f}/s", echo.pid(), port,
                    o.chargers, o.connect_rate));
    std::pair<double, double> out;
    {
        OcppLoad load(port, charger_specs(o.chargers), o.connect_rate);
        const auto n = static_cast<std::size_t>(o.chargers);
        const double connect_s = wait_booted(load, n, 60 + o.chargers / o.connect_rate * 3, "ocpp echo");
        say(fmt::format("ocpp echo: all {} booted in {:.1f} s", n, connect_s));
        std::this_thread::sleep_for(2s);
        const auto idle = measure(echo.pid(), load, 5);
        say_span("ocpp echo idle", idle);

        load.meter(o.meter_period_s);
        const auto paced = measure(echo.pid(), load, o.window_s);
        load.meter(0);
        say_span(fmt::format("ocpp echo paced (MeterValues every {} s each)", o.meter_period_s), paced);
        span_result("ocpp_echo", "paced", paced, o.chargers).num("connect_s", connect_s).print();
        out.first = paced.per_msg_us();

        if (o.saturate_s > 0) {
            std::this_thread::sleep_for(1s);
            load.saturate(true);
            std::this_thread::sleep_for(1s);
            const auto sat = measure(echo.pid(), load, o.saturate_s);
            load.saturate(false);
            say_span("ocpp echo saturated (MeterValues back to back, one in flight per charge point)", sat);
            span_result("ocpp_echo", "saturated", sat, o.chargers).print();
            out.second = sat.per_msg_us();
        }
        print_problems(load);
    }
    echo.stop(5s);
    return out;
}

// ---------------------------------------------------------------------------------------------
// 2. the platform
// ---------------------------------------------------------------------------------------------

/// The core database: an EV station with the energy tariff, `chargers` registered as OCPP
/// chargers (one gun each) the way registration stores them (registry::Store::add_device with
/// protocol ocpp1.6): the broker password hash of the MQTT identity derived from the gateway key,
/// and the hash of the charger's Basic-auth key.
void seed_ocpp(const std::string& dir, const std::vector<OcppChargerSpec>& chargers, const std::string& gateway_key) {
    db::Database core(dir + "/pilehub.db");
    db::migrate(core, db::core_migrations());
    const auto station = add_station_with_tariff(core, "Bench Car Park", energy_tariff()).first;
    registry::Store reg(core);
    const auto now = SystemClock::instance().now_ms();
    for (const auto& c : chargers) {
        registry::Device d;
        d.id = c.id;
        d.kind = registry::DeviceKind::EvCharger;
        d.protocol = registry::Protocol::Ocpp16;
        d.station_id = station;
        d.ports = 1;
        reg.add_device(d, broker::hash_password(ocpp_identity::mqtt_password(gateway_key, c.id)), now,
                       broker::hash_password(c.key));
    }
    db::Database tele(dir + "/telemetry.db");
    db::migrate(tele, db::telemetry_migrations());
}

/// One remote start as the rider's app makes it.
struct Start {
    std::size_t charger = 0;
    std::int64_t t0 = 0, t202 = 0;
    int status = 0;
    std::string sid, error;
};

int platform_phase(const OcppBenchOptions& o, std::pair<double, double> echo_us) {
    const auto dir = make_temp_dir("pilehub-bench-ocpp");
    struct DirGuard {
        std::string dir;
        ~DirGuard() { remove_temp_dir(dir); }
    } guard{dir};
    fs::create_directories(dir + "/secrets");
    const auto gateway_key = ocpp_identity::load_or_create_key(ocpp_identity::key_path(dir));
    const auto chargers = charger_specs(o.chargers);
    std::vector<test::Credential> users;
    for (const auto& c : chargers)
        users.push_back({c.id, ocpp_identity::mqtt_password(gateway_key, c.id)});
    test::Broker broker(users);
    seed_ocpp(dir, chargers, gateway_key);
    say(fmt::format("ocpp platform: broker on port {}, data {}, {} OCPP chargers seeded", broker.port(), dir,
                    chargers.size()));

    std::vector<std::unique_ptr<Daemon>> daemons;
    for (const auto& d : kDaemons)
        daemons.push_back(std::make_unique<Daemon>(o.bin_dir, d, broker, dir)); // production log level (info)
    for (auto& d : daemons)
        d->start();
    const int api_port = test::free_tcp_port();
    auto api = start_api(o.bin_dir, broker, dir, api_port);
    const int ocpp_port = test::free_tcp_port();
    Daemon gateway(o.bin_dir, "pilehub-ocpp", broker, dir,
                   {fmt::format("ocpp.port={}", ocpp_port), "ocpp.tls_port=-1", "pilehub-ocpp.bind=127.0.0.1"});
    gateway.start();
    say(fmt::format("ocpp platform: every daemon, pilehub-api (port {}) and pilehub-ocpp (pid {}, port {}) ready",
                    api_port, gateway.pid(), ocpp_port));

    ApiClient http(api_port);
    const auto t_riders = now_us();
    const auto tokens = funded_riders(http, o.starts, 5000);
    say(fmt::format("ocpp platform: {} riders logged in and funded (5000 fen each) in {:.1f} s", o.starts,
                    static_cast<double>(now_us() - t_riders) / 1e6));

    const auto rss0 = sample_proc(gateway.pid()).rss;
    OcppLoad load(ocpp_port, chargers, o.connect_rate);
    const auto n = chargers.size();
    const double connect_s = wait_booted(load, n, 60 + o.chargers / o.connect_rate * 3, "ocpp platform");
    say(fmt::format("ocpp platform: all {} booted in {:.1f} s", n, connect_s));

    // The remote starts' guns, spread over the fleet; each must be free in the API's view first.
    const auto starts = static_cast<std::size_t>(std::min(o.starts, o.chargers));
    auto charger_of = [&](std::size_t k) { return k * n / std::max<std::size_t>(starts, 1); };
    {
        const auto deadline = now_us() + 60'000'000;
        for (std::size_t k = 0; k < starts; ++k) {
            const auto code = chargers[charger_of(k)].id + "-1";
            std::string state;
            while ((state = http.get("/api/v1/sockets/" + code, tokens[0]).str("state")) != "free") {
                if (now_us() > deadline)
                    throw std::runtime_error(fmt::format("gun {} is `{}`, not free, after 60 s", code, state));
                std::this_thread::sleep_for(100ms);
            }
        }
    }
    std::this_thread::sleep_for(2s);
    const auto rss_connected = sample_proc(gateway.pid()).rss;
    std::vector<pid_t> others;
    std::map<pid_t, std::string> names;
    for (const auto& d : daemons) {
        others.push_back(d->pid());
        names[d->pid()] = d->name();
    }
    others.push_back(api.pid());
    names[api.pid()] = "pilehub-api";
    others.push_back(broker.pid());
    names[broker.pid()] = "mosquitto";

    const auto idle = measure(gateway.pid(), load, o.idle_s, others);
    say_span("ocpp gateway idle (all connected, no MeterValues)", idle);
    span_result("ocpp_gateway", "idle", idle, o.chargers)
        .num("connect_s", connect_s)
        .num("rss_before_mb", mb(rss0))
        .num("rss_connected_mb", mb(rss_connected))
        .print();

    std::optional<test::Process> perf;
    if (!o.perf_out.empty()) {
        test::SpawnOptions so;
        so.output = dir + "/perf.log";
        perf = test::Process::spawn({"perf", "record", "-F", "499", "--call-graph", "dwarf,16384", "-p",
                                     std::to_string(gateway.pid()), "-o", o.perf_out},
                                    so);
        std::this_thread::sleep_for(1s);
    }

    // --- the window: MeterValues every period from every charge point; the remote starts paced ---
    std::vector<Start> done(starts);
    load.meter(o.meter_period_s);
    std::thread starter([&] {
        ApiClient c(api_port);
        const auto t_begin = now_us();
        for (std::size_t k = 0; k < starts; ++k) {
            const auto due = t_begin + static_cast<std::int64_t>(static_cast<double>(k) / o.start_rate * 1e6);
            if (const auto wait = due - now_us(); wait > 0)
                std::this_thread::sleep_for(std::chrono::microseconds(wait));
            auto& s = done[k];
            s.charger = charger_of(k);
            s.t0 = now_us();
            auto r = c.post("/api/v1/sessions",
                            fmt::format(R"({{"socket":"{}-1","mode":"energy"}})", chargers[s.charger].id), tokens[k]);
            s.t202 = now_us();
            s.status = r.status;
            if (r.status == 202)
                s.sid = r.str("session.id");
            else
                s.error = r.status ? r.str("error.code") : "no answer";
        }
    });
    const auto paced = measure(gateway.pid(), load, o.window_s, others);
    load.meter(0);
    starter.join();
    say_span(
        fmt::format("ocpp gateway paced (MeterValues every {} s each, {} remote starts)", o.meter_period_s, starts),
        paced);
    const auto marginal =
        paced.msgs ? (paced.cpu_s - idle.cpu_s / idle.secs * paced.secs) / static_cast<double>(paced.msgs) * 1e6 : 0;
    span_result("ocpp_gateway", "paced", paced, o.chargers)
        .num("idle_cpu_pct", idle.cpu_pct())
        .num("marginal_us_per_msg", marginal)
        .num("echo_us_per_msg", echo_us.first)
        .num("echo_saturated_us_per_msg", echo_us.second)
        .num("rss_connected_mb", mb(rss_connected))
        .print();
    for (const auto& [pid, cpu] : paced.others_cpu_s)
        Result("ocpp_proc")
            .str("process", names[pid])
            .num("cpu_pct", cpu / paced.secs * 100)
            .num("rss_mb", mb(sample_proc(pid).rss))
            .print();

    // --- the remote starts: POST → RemoteStartTransaction at the charge point → StartTransaction.conf ---
    {
        const auto deadline = now_us() + 15'000'000;
        auto all_in = [&] {
            for (const auto& s : done)
                if (s.status == 202) {
                    const auto k = load.start_marks(s.charger);
                    if (!k || !k->start_conf_us || k->remote_start_us < s.t0)
                        return false;
                }
            return true;
        };
        while (!all_in() && now_us() < deadline)
            std::this_thread::sleep_for(50ms);
    }
    std::vector<double> to202, to_remote, to_conf;
    std::map<std::string, int> failures;
    int failed = 0;
    for (const auto& s : done) {
        std::string why;
        if (s.status != 202) {
            why = fmt::format("POST {} {}", s.status, s.error);
        } else {
            to202.push_back(ms(s.t202 - s.t0));
            const auto k = load.start_marks(s.charger);
            if (!k || k->remote_start_us < s.t0)
                why = "no RemoteStartTransaction in 15 s";
            else {
                to_remote.push_back(ms(k->remote_start_us - s.t0));
                if (!k->start_conf_us)
                    why = "no StartTransaction.conf in 15 s";
                else if (k->start_status != "Accepted")
                    why = "StartTransaction " + k->start_status;
                else
                    to_conf.push_back(ms(k->start_conf_us - s.t0));
            }
        }
        if (!why.empty()) {
            ++failed;
            ++failures[why];
        }
    }
    std::string failure_text;
    for (const auto& [why, count] : failures)
        failure_text += fmt::format("{}{} x{}", failure_text.empty() ? "" : ", ", why, count);
    say(fmt::format("ocpp remote start (n = {}, {} failed{}{}):", starts, failed, failure_text.empty() ? "" : ": ",
                    failure_text));
    say("  POST /sessions -> 202:                          " + q3(to202));
    say("  POST -> RemoteStartTransaction at the charger:  " + q3(to_remote));
    say("  POST -> StartTransaction.conf at the charger:   " + q3(to_conf));
    Result r("ocpp_start");
    r.num("n", static_cast<double>(starts)).num("failures", failed).num("rate_per_s", o.start_rate);
    add_quantiles(r, "accepted", to202);
    add_quantiles(r, "remote_start", to_remote);
    add_quantiles(r, "start_conf", to_conf);
    r.str("failure_codes", failure_text).print();

    // --- saturation: MeterValues back to back, one in flight per charge point ---
    if (o.saturate_s > 0) {
        std::this_thread::sleep_for(2s);
        load.saturate(true);
        std::this_thread::sleep_for(1s);
        const auto sat = measure(gateway.pid(), load, o.saturate_s, others);
        load.saturate(false);
        say_span("ocpp gateway saturated (MeterValues back to back, one in flight per charge point)", sat);
        span_result("ocpp_gateway", "saturated", sat, o.chargers)
            .num("echo_saturated_us_per_msg", echo_us.second)
            .print();
        for (const auto& [pid, cpu] : sat.others_cpu_s)
            say(fmt::format("  {} {:.1f} % of a core", names[pid], cpu / sat.secs * 100));
    }
    if (perf) {
        perf->signal(SIGINT);
        perf->wait(30s);
        say("ocpp gateway: perf data in " + o.perf_out + " (perf report -i " + o.perf_out + " --no-children)");
    }
    const auto end = sample_proc(gateway.pid());
    say(fmt::format("ocpp gateway: RSS {:.1f} MB before any charger, {:.1f} MB with {} connected, {:.1f} MB at the end",
                    mb(rss0), mb(rss_connected), n, mb(end.rss)));
    Result("ocpp_rss")
        .num("chargers", o.chargers)
        .num("before_mb", mb(rss0))
        .num("connected_mb", mb(rss_connected))
        .num("end_mb", mb(end.rss))
        .print();
    print_problems(load);
    const auto c = load.counters();
    say(fmt::format("ocpp load: {} connects, {} connect failures, {} disconnects, {} CALLs, {} CALLERRORs", c.connected,
                    c.connect_failures, c.disconnects, c.calls_sent, c.errors));

    gateway.stop();
    api.stop(10s);
    for (auto it = daemons.rbegin(); it != daemons.rend(); ++it)
        (*it)->stop();
    return failed == 0 ? 0 : 1;
}

} // namespace

int run_ocpp_bench(const OcppBenchOptions& o) {
    std::pair<double, double> echo_us{0, 0};
    if (o.echo)
        echo_us = echo_phase(o);
    return o.platform ? platform_phase(o, echo_us) : 0;
}

} // namespace pilehub::bench
