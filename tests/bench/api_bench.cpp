// `pilehub-bench api` (see api_bench.hpp): the real pilehub-api on a private Mosquitto with every
// daemon and pilehub-sim piles, as production runs it (access log at the default level, the default
// 8 HTTP threads, no rate limit on the measured routes). Only the SMS/login limits are raised, so
// that one address may register the few hundred riders the start round trips need.
#include "api_bench.hpp"

#include "api_client.hpp"
#include "platform.hpp"
#include "tests/support/loopback.hpp"

#include <cctype>
#include <cstdio>
#include <fstream>
#include <regex>
#include <stdexcept>

namespace pilehub::bench {
namespace {

/// The bench station's coordinates (micro-degrees) and the point the riders search from (≈ 10 m away).
constexpr std::int64_t kLatE6 = 22'543'096;
constexpr std::int64_t kLonE6 = 114'057'865;
constexpr const char* kSearch = "lat=22.5431&lon=114.0579";

double ms(std::int64_t us) {
    return static_cast<double>(us) / 1000.0;
}

/// When each step of a start crossed the bus, as svc.monitor (reads ph/v1/#) saw it; monotonic µs.
struct Marks {
    std::int64_t rpc_req = 0;   ///< the API's rpc `start` to sessiond
    std::int64_t rpc_reply = 0; ///< sessiond's answer to the API
    std::int64_t cmd = 0;       ///< cmd/start_port to the pile
    std::int64_t reply = 0;     ///< the pile's cmd-reply
    std::int64_t charging = 0;  ///< sessiond's transition to `charging`
    bool complete() const { return rpc_req && rpc_reply && cmd && reply && charging; }
};

/// Watches the start path on the bus: rpc start/reply, start_port, its reply, session states.
class Monitor {
public:
    explicit Monitor(const test::Broker& broker)
        : rpc_start_(topics::rpc("sessiond", "start")), reply_prefix_(topics::rpc_reply("")) {
        client_ = mqtt::make_client(broker.client_options("svc.monitor"));
        for (const auto& f : {rpc_start_, topics::rpc_reply("+"), topics::cmd("+", "start_port"),
                              topics::cmd_reply("+", "start_port"), topics::any_session_state()})
            client_->subscribe(f, 1);
        client_->on_message([this](const mqtt::Message& m) { on_message(m); });
        client_->start();
        if (!client_->wait_ready(10s))
            throw std::runtime_error("the monitor did not connect");
    }
    ~Monitor() { client_->stop(); }
    Monitor(const Monitor&) = delete;
    Monitor& operator=(const Monitor&) = delete;

    Marks marks(const std::string& sid) {
        std::lock_guard l(m_);
        auto it = marks_.find(sid);
        return it == marks_.end() ? Marks{} : it->second;
    }

private:
    static std::string text(const rapidjson::Value& o, const char* key) {
        if (!o.IsObject())
            return {};
        auto it = o.FindMember(key);
        return it != o.MemberEnd() && it->value.IsString() ? it->value.GetString() : std::string();
    }

    void on_message(const mqtt::Message& m) {
        const auto t = now_us();
        auto doc = json::parse(m.payload);
        if (!doc || !doc->IsObject())
            return;
        const auto rid = text(*doc, "rid");
        std::lock_guard l(m_);
        if (m.topic == rpc_start_) {
            rpc_sent_[rid] = t;
        } else if (m.topic.rfind(reply_prefix_, 0) == 0) {
            auto it = rpc_sent_.find(rid);
            if (it == rpc_sent_.end())
                return;
            auto d = doc->FindMember("data");
            if (d == doc->MemberEnd() || !d->value.IsObject())
                return;
            auto s = d->value.FindMember("session");
            const auto sid = s == d->value.MemberEnd() ? std::string() : text(s->value, "id");
            if (sid.empty())
                return;
            auto& k = marks_[sid];
            k.rpc_req = it->second;
            k.rpc_reply = t;
            rpc_sent_.erase(it);
        } else if (auto sid = topics::session_of(m.topic)) {
            auto& k = marks_[*sid];
            if (text(*doc, "state") == "charging" && !k.charging)
                k.charging = t;
        } else {
            // cmd/start_port and its cmd-reply carry rid "<sid>.start" (sessiond's command rid).
            constexpr std::string_view kSuffix = ".start";
            if (rid.size() <= kSuffix.size() || rid.compare(rid.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0)
                return;
            auto& k = marks_[rid.substr(0, rid.size() - kSuffix.size())];
            auto& slot = m.topic.find("/cmd-reply/") != std::string::npos ? k.reply : k.cmd;
            if (!slot)
                slot = t;
        }
    }

    std::string rpc_start_;
    std::string reply_prefix_;
    std::unique_ptr<mqtt::Client> client_;
    std::mutex m_;
    std::map<std::string, std::int64_t> rpc_sent_;
    std::map<std::string, Marks> marks_;
};

/// What wrk printed, parsed.
struct WrkOutcome {
    double rps = 0, p50_ms = 0, p99_ms = 0;
    double requests = 0, non2xx = 0, socket_errors = 0;
    bool parsed = false;
};

double wrk_ms(const std::string& value, const std::string& unit) {
    const double v = std::stod(value);
    return unit == "us" ? v / 1000 : unit == "s" ? v * 1000 : v;
}

/// `wrk -t2 -c<conns> -d<secs>s --latency` on one route with the rider's token; its output goes to `out_file`.
WrkOutcome run_wrk(int port, const std::string& path, const std::string& token, int conns, int secs,
                   const std::string& out_file) {
    const auto cmd =
        fmt::format("wrk -t2 -c{} -d{}s --latency -H 'Authorization: Bearer {}' 'http://127.0.0.1:{}{}' 2>&1", conns,
                    secs, token, port, path);
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        char buf[4096];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
            out.append(buf, n);
        ::pclose(p);
    }
    std::ofstream(out_file) << out;
    WrkOutcome w;
    std::smatch m;
    const std::regex rps(R"(Requests/sec:\s+([\d.]+))"), p50(R"(\n\s+50%\s+([\d.]+)(us|ms|s)\b)"),
        p99(R"(\n\s+99%\s+([\d.]+)(us|ms|s)\b)"), total(R"((\d+) requests in)"),
        non2xx(R"(Non-2xx or 3xx responses:\s+(\d+))"),
        sock(R"(Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+))");
    if (std::regex_search(out, m, rps))
        w.rps = std::stod(m[1]);
    else
        return w;
    if (std::regex_search(out, m, p50))
        w.p50_ms = wrk_ms(m[1], m[2]);
    if (std::regex_search(out, m, p99))
        w.p99_ms = wrk_ms(m[1], m[2]);
    if (std::regex_search(out, m, total))
        w.requests = std::stod(m[1]);
    if (std::regex_search(out, m, non2xx))
        w.non2xx = std::stod(m[1]);
    if (std::regex_search(out, m, sock))
        w.socket_errors = std::stod(m[1]) + std::stod(m[2]) + std::stod(m[3]) + std::stod(m[4]);
    w.parsed = true;
    return w;
}

} // namespace

int run_api_bench(const ApiBenchOptions& o) {
    const std::string sim_bin = o.bin_dir + "/workers/pilehub-sim/pilehub-sim";
    if (!fs::exists(sim_bin))
        throw std::runtime_error(sim_bin + " is not built");
    const int starts_total = o.warmup + o.starts;
    // One fresh rider and one fresh socket per start: no session_limit, no socket_busy, no stop in between.
    const int pile_count = std::max(20, (starts_total + 9) / 10);
    std::vector<std::string> piles;
    std::vector<test::Credential> users;
    for (int i = 1; i <= pile_count; ++i) {
        piles.push_back(fmt::format("apile-{}", i));
        users.push_back({piles.back(), ""});
    }
    test::Broker broker(users);
    const auto dir = make_temp_dir("pilehub-bench-api");
    struct DirGuard {
        std::string dir;
        ~DirGuard() { remove_temp_dir(dir); }
    } guard{dir};
    say(fmt::format("api: broker on port {}, data {}, {} piles x 10 sockets", broker.port(), dir, pile_count));

    // --- the world: a station with coordinates and the power tariff, the piles, every daemon ---
    const auto station = seed_core(dir + "/pilehub.db", piles, 10).second;
    {
        db::Database core(dir + "/pilehub.db");
        db::Statement(core, "UPDATE stations SET lat_e6 = ?1, lon_e6 = ?2, address = '1 Bench Road' WHERE id = ?3")
            .bind_all(kLatE6, kLonE6, station)
            .run();
        db::Database tele(dir + "/telemetry.db");
        db::migrate(tele, db::telemetry_migrations());
    }
    std::vector<std::unique_ptr<Daemon>> daemons;
    for (const auto& d : kDaemons)
        daemons.push_back(std::make_unique<Daemon>(o.bin_dir, d, broker, dir)); // production log level (info)
    for (auto& d : daemons)
        d->start();
    say("api: every daemon ready");
    Monitor monitor(broker);

    const int port = test::free_tcp_port();
    auto api = start_api(o.bin_dir, broker, dir, port);
    say(fmt::format("api: pilehub-api on 127.0.0.1:{}", port));

    {
        std::ofstream f(dir + "/fleet.json");
        f << R"({"devices":[)";
        for (std::size_t i = 0; i < piles.size(); ++i)
            f << (i ? "," : "")
              << fmt::format(R"({{"id":"{}","kind":"ebike_pile","sockets":10,"password":"{}"}})", piles[i],
                             broker.password(piles[i]));
        f << "]}";
    }
    test::SpawnOptions sim_so;
    sim_so.output = dir + "/sim.log";
    auto sim = test::Process::spawn({sim_bin, "--fleet", dir + "/fleet.json", "--state-dir", dir + "/sim", "--port",
                                     std::to_string(broker.port()), "--tele-period-s", "10", "--log-level", "warn"},
                                    sim_so);

    // --- riders: SMS code (dev), login, sandbox recharge of 50 yuan, confirmed ---
    ApiClient http(port);
    const auto t_riders = now_us();
    const auto tokens = funded_riders(http, starts_total, 5000);
    say(fmt::format("api: {} riders logged in and funded (5000 fen each) in {:.1f} s", starts_total,
                    static_cast<double>(now_us() - t_riders) / 1e6));

    // --- every socket the starts use is free in the API's view (the piles are online) ---
    auto socket_of = [&](int i) {
        return fmt::format("{}-{}", piles[static_cast<std::size_t>(i % pile_count)], i / pile_count + 1);
    };
    {
        const auto deadline = now_us() + 60'000'000;
        for (int i = 0; i < starts_total; ++i) {
            std::string state;
            while ((state = http.get("/api/v1/sockets/" + socket_of(i), tokens[0]).str("state")) != "free") {
                if (now_us() > deadline)
                    throw std::runtime_error(fmt::format("socket {} is `{}`, not free, after 60 s; sim log:\n{}",
                                                         socket_of(i), state, tail(slurp(sim_so.output))));
                std::this_thread::sleep_for(100ms);
            }
        }
    }
    say("api: every socket free");

    // --- 1. start round trips: POST /sessions → 202, then GET /sessions/{id} every 1 ms until charging ---
    struct Start {
        std::string sid, token;
        std::int64_t t0 = 0, t202 = 0, tcharging = 0;
    };
    std::vector<Start> done;
    std::map<std::string, int> failures;
    int failed = 0;
    for (int i = 0; i < starts_total; ++i) {
        const bool warm = i < o.warmup;
        const auto& token = tokens[static_cast<std::size_t>(i)];
        Start s;
        s.token = token;
        s.t0 = now_us();
        auto r = http.post("/api/v1/sessions", fmt::format(R"({{"socket":"{}","mode":"power"}})", socket_of(i)), token);
        s.t202 = now_us();
        std::string why, key;
        if (r.status != 202) {
            key = fmt::format("POST {}", r.status ? r.str("error.code") : "no answer");
            why = fmt::format("{}: {}", key, r.brief());
        } else {
            s.sid = r.str("session.id");
            std::string state = r.str("session.state");
            if (state == "charging") {
                s.tcharging = s.t202; // the pile had answered before the API replied
            } else {
                const auto deadline = s.t202 + 10'000'000;
                while (state != "charging" && state != "failed" && state != "stopping" && state != "completed" &&
                       now_us() < deadline) {
                    std::this_thread::sleep_for(1ms);
                    state = http.get("/api/v1/sessions/" + s.sid, token).str("state");
                }
                if (state == "charging")
                    s.tcharging = now_us();
            }
            if (!s.tcharging) {
                key = fmt::format("state {}", state.empty() ? "unknown" : state);
                why = fmt::format("session {} `{}` after the 202", s.sid, state);
            }
        }
        if (!why.empty()) {
            say(fmt::format("api: start {}{} on {} failed: {}", i, warm ? " (warm-up)" : "", socket_of(i), why));
            if (!warm) {
                ++failed;
                ++failures[key];
            }
        } else if (!warm) {
            done.push_back(s);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(o.gap_ms));
    }
    std::this_thread::sleep_for(500ms); // the monitor's last messages
    std::vector<double> to202, tocharging, on_bus, api_in, sessiond_start, pile, sessiond_charging, visible, back;
    int incomplete = 0;
    for (const auto& s : done) {
        to202.push_back(ms(s.t202 - s.t0));
        tocharging.push_back(ms(s.tcharging - s.t0));
        const auto k = monitor.marks(s.sid);
        if (!k.complete()) {
            ++incomplete;
            continue;
        }
        on_bus.push_back(ms(k.charging - s.t0));
        api_in.push_back(ms(k.rpc_req - s.t0));
        sessiond_start.push_back(ms(k.cmd - k.rpc_req));
        pile.push_back(ms(k.reply - k.cmd));
        sessiond_charging.push_back(ms(k.charging - k.reply));
        visible.push_back(ms(s.tcharging - k.charging));
        back.push_back(ms(s.t202 - k.rpc_reply));
    }
    std::string failure_text;
    for (const auto& [why, n] : failures)
        failure_text += fmt::format("{}{} x{}", failure_text.empty() ? "" : ", ", why, n);
    say(fmt::format("api start round trip (n = {}, {} failed{}{}):", done.size(), failed,
                    failure_text.empty() ? "" : ": ", failure_text));
    say("  POST -> 202:                          " + q3(to202));
    say("  POST -> GET shows charging:           " + q3(tocharging));
    say("  POST -> sessiond publishes charging:  " + q3(on_bus));
    say(fmt::format("  where the time goes (bus marks seen by svc.monitor, n = {}):", api_in.size()));
    say("    POST -> rpc start on the bus (API): " + q3(api_in));
    say("    rpc start -> cmd/start_port (sessiond create): " + q3(sessiond_start));
    say("    cmd/start_port -> cmd-reply (pile): " + q3(pile));
    say("    cmd-reply -> state charging (sessiond): " + q3(sessiond_charging));
    say("    state charging -> GET sees it (polling, 1 ms): " + q3(visible));
    say("    rpc reply -> 202 at the rider (API): " + q3(back));
    Result r("api_start");
    r.num("n", double(done.size())).num("failures", failed).num("warmup", o.warmup);
    add_quantiles(r, "accepted", to202);
    add_quantiles(r, "charging", tocharging);
    add_quantiles(r, "charging_bus", on_bus);
    add_quantiles(r, "seg_api_in", api_in);
    add_quantiles(r, "seg_sessiond_start", sessiond_start);
    add_quantiles(r, "seg_pile", pile);
    add_quantiles(r, "seg_sessiond_charging", sessiond_charging);
    add_quantiles(r, "seg_visible", visible);
    add_quantiles(r, "seg_api_out", back);
    r.num("marks_missing", incomplete).str("failure_codes", failure_text).print();

    // --- 2. read endpoints under wrk, with a rider's token ---
    if (done.empty())
        throw std::runtime_error("no session started: nothing to read");
    const auto& reader = done.front();
    const std::vector<std::pair<std::string, std::string>> routes{
        {"sessions_id", "/api/v1/sessions/" + reader.sid},
        {"stations_nearby", std::string("/api/v1/stations/nearby?") + kSearch}};
    for (const auto& [name, path] : routes) {
        auto check = expect(http.get(path, reader.token), 200, "GET " + path);
        if (name == "sessions_id" && check.str("state") != "charging")
            throw std::runtime_error("the session read is not charging: " + check.brief());
        if (name == "stations_nearby" && check.size("stations") != 1)
            throw std::runtime_error("nearby does not find the bench station: " + check.brief());
        say(fmt::format("api: wrk -t2 -c{} -d{}s on GET {} ({} B body)", o.wrk_c, o.wrk_s, path, check.body.size()));
        const auto log0 = fs::file_size(dir + "/pilehub-api.log");
        const auto cpu0 = sample_proc(api.pid());
        const auto t0 = now_us();
        const auto w = run_wrk(port, path, reader.token, o.wrk_c, o.wrk_s, dir + "/wrk-" + name + ".txt");
        const double secs = static_cast<double>(now_us() - t0) / 1e6;
        const auto cpu1 = sample_proc(api.pid());
        const auto log_mb = static_cast<double>(fs::file_size(dir + "/pilehub-api.log") - log0) / 1048576.0;
        if (!w.parsed)
            throw std::runtime_error("wrk output not understood:\n" + slurp(dir + "/wrk-" + name + ".txt"));
        const double cpu_pct = (cpu1.cpu_s - cpu0.cpu_s) / secs * 100;
        say(fmt::format("api {}: {:.0f} req/s, p50 {:.3f} ms, p99 {:.3f} ms ({:.0f} requests, {:.0f} non-2xx, {:.0f} "
                        "socket errors); pilehub-api {:.0f}% of a core, access log +{:.1f} MB",
                        name, w.rps, w.p50_ms, w.p99_ms, w.requests, w.non2xx, w.socket_errors, cpu_pct, log_mb));
        Result("api_read")
            .str("route", name)
            .num("connections", o.wrk_c)
            .num("rps", w.rps)
            .num("p50_ms", w.p50_ms)
            .num("p99_ms", w.p99_ms)
            .num("requests", w.requests)
            .num("non2xx", w.non2xx)
            .num("socket_errors", w.socket_errors)
            .num("api_cpu_pct", cpu_pct)
            .num("log_mb", log_mb)
            .print();
        std::this_thread::sleep_for(1s);
    }

    sim.stop(10s);
    api.stop(10s);
    for (auto it = daemons.rbegin(); it != daemons.rend(); ++it)
        (*it)->stop();
    return failed == 0 ? 0 : 1;
}

} // namespace pilehub::bench
