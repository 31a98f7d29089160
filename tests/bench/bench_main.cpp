// pilehub-bench: the benchmark programs scripts/bench runs. Each subcommand prints `RESULT {json}`
// lines (see bench_util.hpp) and progress on stderr.
//
//   pilehub-bench ingest   --bin-dir D --rates R,R,.. --bare-rates R,R,.. --refine N --step-s S
//                          [--devices N] [--blast-threads T] [--charging S] [--api 0|1] [--calibrate 0|1]
//                          [--platform 0 --consumers K]   ingest: the platform, bare 1 and K subscribers
//   pilehub-bench subscriber --port P --user U --password-file F --counter FILE   (ingest's child)
//   pilehub-bench bare     --samples N                            bare Mosquitto: pub→sub round trip
//   pilehub-bench platform --bin-dir D --samples N [--background R] [--charging S]   auto-stop latency
//   pilehub-bench money    --bin-dir D --sessions N                billingd settlements/s (synchronous=FULL)
//   pilehub-bench debit    --n N                                   bare SQLite FULL-sync debit loop
//   pilehub-bench http     --port P                                bare cpp-httplib endpoint reading one row
//   pilehub-bench scale    --bin-dir D --piles N --window-s W      pilehub-sim fleet: connect time, CPU, RSS, DB
//   pilehub-bench api      --bin-dir D --wrk-s S --starts N        pilehub-api: start round trip, wrk on reads
//   pilehub-bench ocpp     --bin-dir D [--chargers N] [--window-s W] [--starts K] [--saturate-s S] [--idle-s I]
//                          [--echo 0|1] [--platform 0|1] [--perf-out FILE]   OCPP gateway vs a bare Beast echo
//   pilehub-bench ocpp-echo --port P                               the bare echo (ocpp's child)
//   pilehub-bench parking  --bin-dir D [--cameras N] [--window-s W] [--rate R] [--bare-s B] [--stay-s S]
//                          plate in → parkingd's cmd/lock vs the bare evt/plate round trip
#include "api_bench.hpp"
#include "bench_util.hpp"
#include "ingest.hpp"
#include "ocpp_bench.hpp"
#include "ocpp_load.hpp"
#include "parking_bench.hpp"
#include "platform.hpp"

#include "common/ledger.hpp"

#include <httplib.h>
#include <signal.h>
#include <sqlite3.h>

#include <cstdio>
#include <iostream>

namespace pilehub::bench {
namespace {

struct Args {
    std::map<std::string, std::string> kv;
    std::string get(const std::string& k, const std::string& def) const {
        auto it = kv.find(k);
        return it == kv.end() ? def : it->second;
    }
    int num(const std::string& k, int def) const { return std::stoi(get(k, std::to_string(def))); }
    std::vector<double> rates(const std::string& key = "rates", const std::string& def = "2000,4000,8000") const {
        std::vector<double> out;
        std::stringstream ss(get(key, def));
        std::string t;
        while (std::getline(ss, t, ','))
            out.push_back(std::stod(t));
        return out;
    }
};

std::vector<std::string> names(const std::string& prefix, int n) {
    std::vector<std::string> v;
    for (int i = 1; i <= n; ++i)
        v.push_back(fmt::format("{}{}", prefix, i));
    return v;
}

std::vector<test::Credential> creds(const std::vector<std::string>& ids) {
    std::vector<test::Credential> c;
    for (const auto& i : ids)
        c.push_back({i, ""});
    return c;
}

// ---------------------------------------------------------------------------------------------
// bare Mosquitto
// ---------------------------------------------------------------------------------------------

int cmd_bare(const Args& a) {
    const auto blasters = names("blast-", 8);
    auto users = creds(blasters);
    users.push_back({"rtt-a", ""});
    test::Broker broker(users);
    say(fmt::format("bare broker on port {}", broker.port()));

    Blaster blaster(broker, blasters);

    // --- publish → subscribe round trip, QoS 1: a device's report to a service (svc.autostopd) ---
    const int samples = a.num("samples", 100);
    auto rtt_pub = test::connect_client(broker.client_options("rtt-a"));
    auto rtt_client = mqtt::make_client(broker.client_options("svc.autostopd"));
    std::mutex m;
    std::condition_variable cv;
    std::int64_t arrived = 0;
    const std::string topic = topics::tele("rtt-a");
    rtt_client->subscribe(topic, 1);
    rtt_client->on_message([&](const mqtt::Message&) {
        std::lock_guard l(m);
        arrived = now_us();
        cv.notify_all();
    });
    rtt_client->start();
    if (!rtt_client->wait_ready(10s))
        throw std::runtime_error("rtt client did not connect");
    for (double bg : {0.0, 5000.0}) {
        blaster.set_rate(bg);
        std::this_thread::sleep_for(1s);
        std::vector<double> ms;
        for (int i = 0; i < samples; ++i) {
            std::unique_lock l(m);
            arrived = 0;
            const auto t0 = now_us();
            rtt_pub->publish({topic, fmt::format(R"({{"i":{}}})", i), 1, false});
            if (cv.wait_for(l, 2s, [&] { return arrived != 0; }))
                ms.push_back(static_cast<double>(arrived - t0) / 1000.0);
            l.unlock();
            std::this_thread::sleep_for(20ms);
        }
        blaster.set_rate(0);
        Result("bare_rtt")
            .num("background", bg)
            .num("p50_ms", quantile(ms, 0.5))
            .num("p99_ms", quantile(ms, 0.99))
            .num("max_ms", quantile(ms, 1.0))
            .num("n", double(ms.size()))
            .print();
    }
    rtt_client->stop();
    rtt_pub->stop();
    return 0;
}

// ---------------------------------------------------------------------------------------------
// the platform
// ---------------------------------------------------------------------------------------------

struct Stack {
    std::string dir;
    std::vector<std::unique_ptr<Daemon>> daemons;
};

int cmd_platform(const Args& a) {
    const std::string bin = a.get("bin-dir", "build");
    const int samples = a.num("samples", 40);
    const int probe_piles = std::max(2, (samples + 9) / 10) * 2; // two load levels
    const auto blasters = names("blast-", 8);
    const auto probes = names("probe-", probe_piles);
    auto all = blasters;
    all.insert(all.end(), probes.begin(), probes.end());
    test::Broker broker(creds(all));
    Stack st;
    st.dir = make_temp_dir("pilehub-bench");
    say(fmt::format("platform: broker on port {}, data {}", broker.port(), st.dir));
    const auto [tariff, station] = seed_core(st.dir + "/pilehub.db", all, 10);
    add_charging_sessions(st.dir + "/pilehub.db", probes, 10, tariff, station);
    // The background piles charge `--charging` sessions each, so their reports reach autostopd.
    const int charging = a.num("charging", 3);
    if (charging < 0 || charging > 10)
        throw std::runtime_error("--charging is 0..10 (sockets charging per background pile)");
    if (charging > 0)
        add_charging_sessions(st.dir + "/pilehub.db", blasters, charging, tariff, station);
    {
        db::Database tele(st.dir + "/telemetry.db");
        db::migrate(tele, db::telemetry_migrations());
    }
    for (const auto& d : kDaemons)
        st.daemons.push_back(
            std::make_unique<Daemon>(bin, d, broker, st.dir, std::vector<std::string>{"log.level=warn"}));
    for (auto& d : st.daemons)
        d->start();
    say("platform: every daemon ready");

    Arrivals stops;
    std::vector<std::unique_ptr<ProbePile>> piles;
    {
        std::vector<test::ClientSpec> specs;
        for (const auto& p : probes)
            piles.push_back(std::make_unique<ProbePile>(broker, p, stops));
        for (auto& p : piles)
            p->client().start();
        for (auto& p : piles)
            if (!p->client().wait_ready(30s))
                throw std::runtime_error("probe pile did not connect");
        for (std::size_t i = 0; i < piles.size(); ++i) {
            payloads::Presence pr;
            pr.online = true;
            pr.boot = 1;
            pr.ts = SystemClock::instance().now_ms();
            piles[i]->client().publish({topics::presence(probes[i]), payloads::encode_presence(pr), 1, true});
        }
    }
    Blaster blaster(broker, blasters, 1, charging);
    std::this_thread::sleep_for(2s);

    // --- auto-stop latency: overload report published by the pile → stop_port received by it ---
    std::size_t next_pile = 0;
    // --background: the blaster rate of the second series (5000 in scripts/bench).
    for (double bg : {0.0, static_cast<double>(a.num("background", 5000))}) {
        blaster.set_rate(bg);
        std::this_thread::sleep_for(2s);
        std::vector<double> ms;
        int lost = 0;
        const std::size_t piles_here = piles.size() / 2;
        for (int i = 0; i < samples; ++i) {
            const std::size_t pi = next_pile + static_cast<std::size_t>(i) % piles_here;
            const int n = i / static_cast<int>(piles_here) % 10 + 1;
            const auto sid = fmt::format("{}-{}", probes[pi], n);
            const auto t0 = now_us();
            piles[pi]->tele(n, sid, 812.0);
            if (auto at = stops.wait(sid, 3s))
                ms.push_back(static_cast<double>(*at - t0) / 1000.0);
            else
                ++lost;
            std::this_thread::sleep_for(30ms);
        }
        next_pile += piles_here;
        blaster.set_rate(0);
        say(fmt::format("auto-stop at {:.0f} msg/s background: p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms, {} lost",
                        bg, quantile(ms, 0.5), quantile(ms, 0.99), quantile(ms, 1.0), lost));
        Result("autostop")
            .num("background", bg)
            .num("p50_ms", quantile(ms, 0.5))
            .num("p99_ms", quantile(ms, 0.99))
            .num("max_ms", quantile(ms, 1.0))
            .num("n", double(ms.size()))
            .num("lost", lost)
            .print();
    }

    piles.clear();
    for (auto it = st.daemons.rbegin(); it != st.daemons.rend(); ++it)
        (*it)->stop();
    remove_temp_dir(st.dir);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// the money path
// ---------------------------------------------------------------------------------------------

int cmd_money(const Args& a) {
    const std::string bin = a.get("bin-dir", "build");
    const int n = a.num("sessions", 2000);
    test::Broker broker;
    const auto dir = make_temp_dir("pilehub-bench-money");
    const auto core_path = dir + "/pilehub.db";
    // One unfinished session per socket (a unique index): n / 10 piles of 10 sockets.
    const auto piles = names("pile-", n / 10 + 1);
    const auto [tariff, station] = seed_core(core_path, piles, 10);
    {
        db::Database tele(dir + "/telemetry.db");
        db::migrate(tele, db::telemetry_migrations());
        // Seeded with synchronous=NORMAL (quick); billingd itself settles with FULL.
        db::Database core(core_path);
        ManualClock clock;
        ledger::Ledger led(core, clock);
        const int accounts = n; // one unfinished session per account (a unique index)
        std::vector<std::int64_t> ids;
        for (int i = 0; i < accounts; ++i) {
            auto acc = led.open_account(
                {fmt::format("137{:08}", i), fmt::format("rider {}", i), std::nullopt, ledger::DebitOrder::RealFirst});
            ledger::Credit c;
            c.account_id = acc.account_id;
            c.real_fen = Fen(10'000'000);
            c.meta.idempotency_key = fmt::format("open:{}", acc.account_id);
            c.meta.operator_name = "bench";
            led.credit(c);
            ids.push_back(acc.account_id);
        }
        const EpochMs start = SystemClock::instance().now_ms() - 20 * 60'000;
        db::Transaction tx(core), ttx(tele);
        for (int i = 0; i < n; ++i) {
            const auto sid = fmt::format("m{}", i);
            db::Statement(core, "INSERT INTO sessions (id, account_id, method, device_id, n, station_id, mode, "
                                "minutes, tariff_id, state, stop_reason, created_at, started_at, ended_at, energy_wh, "
                                "duration_s, max_power_w, record_msg_id, updated_at) VALUES (?, ?, 'app', ?, "
                                "?, ?, 'power', NULL, ?, 'stopping', 'full', ?, ?, ?, 54, 1080, 400, ?, ?)")
                .bind_all(sid, ids[static_cast<std::size_t>(i % accounts)], piles[static_cast<std::size_t>(i / 10)],
                          std::int64_t{i % 10 + 1}, station, tariff, start, start, start + 1'080'000, "rec-" + sid,
                          start)
                .run();
            for (int k = 0; k < 3; ++k)
                db::Statement(tele,
                              "INSERT INTO session_samples (session_id, t, power_w, energy_wh) VALUES (?, ?, ?, ?)")
                    .bind_all(sid, start + 10'000 + k * 400'000, std::int64_t{180}, std::int64_t{k * 20})
                    .run();
        }
        tx.commit();
        ttx.commit();
    }
    say(fmt::format("money: {} sessions awaiting settlement; starting billingd", n));
    Daemon billingd(bin, "billingd", broker, dir, {"log.level=warn"});
    // Counted from a second thread: billingd settles what is due at start-up, before it is ready.
    std::int64_t first_t = 0, first_c = 0, last_t = 0, c = 0;
    const auto t_spawn = now_us();
    std::thread poll([&] {
        db::Database core(core_path);
        for (int i = 0; i < 60000; ++i) {
            db::Statement q(core, "SELECT count(*) FROM settlements");
            q.step();
            c = q.int64(0);
            const auto t = now_us();
            if (c > 0 && first_t == 0)
                first_t = t, first_c = c;
            if (c >= n) {
                last_t = t;
                break;
            }
            std::this_thread::sleep_for(2ms);
        }
    });
    billingd.start();
    poll.join();
    billingd.stop();
    const double rate =
        last_t > first_t ? static_cast<double>(c - first_c) / (static_cast<double>(last_t - first_t) / 1e6) : 0;
    say(fmt::format("money: {} settled; {:.0f} settlements/s (from the first to the last; {:.1f} s after spawn)", c,
                    rate, static_cast<double>(last_t - t_spawn) / 1e6));
    Result("money").num("settled", double(c)).num("settlements_per_s", rate).print();
    remove_temp_dir(dir);
    return 0;
}

int cmd_debit(const Args& a) {
    const int n = a.num("n", 5000);
    const auto dir = make_temp_dir("pilehub-bench-debit");
    sqlite3* db = nullptr;
    sqlite3_open((dir + "/bare.db").c_str(), &db);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 "CREATE TABLE wallets (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);"
                 "CREATE TABLE ledger (id INTEGER PRIMARY KEY, account INTEGER, amount INTEGER, key TEXT UNIQUE);"
                 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<100) "
                 "INSERT INTO wallets SELECT x, 1000000000 FROM c;",
                 nullptr, nullptr, nullptr);
    sqlite3_stmt *upd = nullptr, *ins = nullptr;
    sqlite3_prepare_v2(db, "UPDATE wallets SET balance = balance - ?2 WHERE id = ?1", -1, &upd, nullptr);
    sqlite3_prepare_v2(db, "INSERT INTO ledger (account, amount, key) VALUES (?1, ?2, ?3)", -1, &ins, nullptr);
    const auto t0 = now_us();
    for (int i = 0; i < n; ++i) {
        sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
        sqlite3_bind_int(upd, 1, i % 100 + 1);
        sqlite3_bind_int(upd, 2, 9);
        sqlite3_step(upd);
        sqlite3_reset(upd);
        const auto key = fmt::format("settle:{}", i);
        sqlite3_bind_int(ins, 1, i % 100 + 1);
        sqlite3_bind_int(ins, 2, -9);
        sqlite3_bind_text(ins, 3, key.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_step(ins);
        sqlite3_reset(ins);
        sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    }
    const double rate = n / (static_cast<double>(now_us() - t0) / 1e6);
    sqlite3_finalize(upd);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    say(fmt::format("bare SQLite FULL debit: {:.0f}/s", rate));
    Result("bare_debit").num("debits_per_s", rate).print();
    remove_temp_dir(dir);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// bare cpp-httplib: one SQLite row per request
// ---------------------------------------------------------------------------------------------

int cmd_http(const Args& a) {
    const int port = a.num("port", 18999);
    const auto dir = make_temp_dir("pilehub-bench-http");
    const std::string path = dir + "/bare.db";
    {
        sqlite3* db = nullptr;
        sqlite3_open(path.c_str(), &db);
        sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; CREATE TABLE sessions (id TEXT PRIMARY KEY, state TEXT, cost INTEGER);"
                     "INSERT INTO sessions VALUES ('s1', 'charging', 42);",
                     nullptr, nullptr, nullptr);
        sqlite3_close(db);
    }
    httplib::Server srv;
    srv.set_tcp_nodelay(true);
    srv.Get(R"(/sessions/([A-Za-z0-9_-]+))", [&path](const httplib::Request& req, httplib::Response& res) {
        thread_local sqlite3* db = nullptr;
        thread_local sqlite3_stmt* st = nullptr;
        if (!db) {
            sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
            sqlite3_prepare_v2(db, "SELECT id, state, cost FROM sessions WHERE id = ?1", -1, &st, nullptr);
        }
        const std::string id = req.matches[1];
        sqlite3_bind_text(st, 1, id.c_str(), -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            res.set_content(fmt::format(R"({{"id":"{}","state":"{}","cost_fen":{}}})",
                                        reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                                        reinterpret_cast<const char*>(sqlite3_column_text(st, 1)),
                                        sqlite3_column_int64(st, 2)),
                            "application/json");
        } else {
            res.status = 404;
        }
        sqlite3_reset(st);
    });
    say(fmt::format("bare httplib on 127.0.0.1:{}", port));
    srv.listen("127.0.0.1", port);
    remove_temp_dir(dir);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// scale: a pilehub-sim fleet
// ---------------------------------------------------------------------------------------------

std::int64_t file_size(const std::string& p) {
    std::error_code ec;
    std::int64_t s = 0;
    for (const char* suffix : {"", "-wal"}) {
        auto v = fs::file_size(p + suffix, ec);
        if (!ec)
            s += static_cast<std::int64_t>(v);
    }
    return s;
}

int cmd_scale(const Args& a) {
    const std::string bin = a.get("bin-dir", "build");
    const int n = a.num("piles", 1000);
    const int window = a.num("window-s", 60);
    const int rate = a.num("connect-rate", 150);
    const auto ids = names("s", n);
    say(fmt::format("scale: {} piles, hashing their passwords", n));
    test::Broker broker(creds(ids));
    const auto dir = make_temp_dir("pilehub-bench-scale");
    seed_core(dir + "/pilehub.db", ids, 10);
    {
        db::Database tele(dir + "/telemetry.db");
        db::migrate(tele, db::telemetry_migrations());
        std::ofstream f(dir + "/fleet.json");
        f << R"({"devices":[)";
        for (int i = 0; i < n; ++i)
            f << (i ? "," : "")
              << fmt::format(R"({{"id":"{}","kind":"ebike_pile","sockets":10,"password":"{}"}})", ids[i],
                             broker.password(ids[static_cast<std::size_t>(i)]));
        f << "]}";
    }
    std::vector<std::unique_ptr<Daemon>> daemons;
    for (const auto& d : kDaemons)
        daemons.push_back(std::make_unique<Daemon>(bin, d, broker, dir, std::vector<std::string>{"log.level=warn"}));
    for (auto& d : daemons)
        d->start();
    test::SpawnOptions so;
    so.output = dir + "/sim.log";
    const auto t0 = now_us();
    auto sim =
        test::Process::spawn({bin + "/workers/pilehub-sim/pilehub-sim", "--fleet", dir + "/fleet.json", "--state-dir",
                              dir + "/sim", "--port", std::to_string(broker.port()), "--tele-period-s", "60",
                              "--connect-rate", std::to_string(rate), "--log-level", "warn"},
                             so);
    // Connected when status.json says so.
    double connect_s = -1;
    std::int64_t connected = 0;
    for (int i = 0; i < 3000; ++i) {
        std::ifstream in(dir + "/sim/status.json");
        std::stringstream ss;
        ss << in.rdbuf();
        // ~100 bytes per device: larger than json::parse's default bound for untrusted payloads.
        auto doc = json::parse(ss.str(), std::size_t{64} << 20);
        if (doc && doc->IsObject() && doc->HasMember("connected") && (*doc)["connected"].IsInt64()) {
            connected = (*doc)["connected"].GetInt64();
            if (connected >= n) {
                connect_s = static_cast<double>(now_us() - t0) / 1e6;
                break;
            }
        }
        std::this_thread::sleep_for(100ms);
    }
    say(fmt::format("scale: {} of {} connected after {:.1f} s", connected, n,
                    static_cast<double>(now_us() - t0) / 1e6));
    std::map<std::string, pid_t> pids{{"mosquitto", broker.pid()}, {"pilehub-sim", sim.pid()}};
    for (auto& d : daemons)
        pids[d->name()] = d->pid();
    std::map<std::string, ProcSample> before;
    for (auto& [name, pid] : pids)
        before[name] = sample_proc(pid);
    const auto db0 = file_size(dir + "/pilehub.db") + file_size(dir + "/telemetry.db");
    const auto w0 = now_us();
    std::this_thread::sleep_for(std::chrono::seconds(window));
    const double secs = static_cast<double>(now_us() - w0) / 1e6;
    const auto db1 = file_size(dir + "/pilehub.db") + file_size(dir + "/telemetry.db");
    Result("scale")
        .num("piles", n)
        .num("connected", double(connected))
        .num("connect_s", connect_s)
        .num("db_mb_per_day", static_cast<double>(db1 - db0) / secs * 86400 / 1048576.0)
        .print();
    for (auto& [name, pid] : pids) {
        auto s = sample_proc(pid);
        Result("scale_proc")
            .str("process", name)
            .num("cpu_pct", (s.cpu_s - before[name].cpu_s) / secs * 100)
            .num("rss_mb", double(s.rss) / 1048576.0)
            .print();
    }
    sim.stop(30s);
    for (auto it = daemons.rbegin(); it != daemons.rend(); ++it)
        (*it)->stop();
    remove_temp_dir(dir);
    return 0;
}

} // namespace
} // namespace pilehub::bench

int main(int argc, char** argv) {
    using namespace pilehub::bench;
    if (argc < 2) {
        std::cerr
            << "usage: pilehub-bench ingest|bare|platform|money|debit|http|scale|api|ocpp|ocpp-echo|parking [--key "
               "value]...\n"
               "  api --bin-dir DIR --wrk-s S --starts N [--warmup N] [--wrk-c C]: the API half of benchmark 3\n"
               "  ocpp --bin-dir DIR [--chargers N] [--window-s W] [--starts K] [--saturate-s S]: the OCPP gateway\n"
               "  parking --bin-dir DIR [--cameras N] [--window-s W] [--rate R]: plate in → cmd/lock latency\n";
        return 2;
    }
    ::signal(SIGPIPE, SIG_IGN);
    Args a;
    for (int i = 2; i + 1 < argc; i += 2) {
        std::string k = argv[i];
        if (k.rfind("--", 0) == 0)
            k = k.substr(2);
        a.kv[k] = argv[i + 1];
    }
    const std::string cmd = argv[1];
    try {
        if (cmd == "ingest") {
            IngestOptions o;
            o.bin_dir = a.get("bin-dir", o.bin_dir);
            o.platform_rates = a.rates("rates", "2000,4000,8000,16000");
            o.bare_rates = a.rates("bare-rates", "8000,16000,32000,64000");
            o.refine = a.num("refine", o.refine);
            o.step_s = a.num("step-s", o.step_s);
            o.devices = a.num("devices", o.devices);
            o.blast_threads = a.num("blast-threads", o.blast_threads);
            o.charging = a.num("charging", o.charging);
            if (o.charging < 0 || o.charging > 10)
                throw std::runtime_error("--charging is 0..10 (sockets charging per blaster device)");
            o.api = a.num("api", 1) != 0;
            o.calibrate = a.num("calibrate", 1) != 0;
            o.platform = a.num("platform", 1) != 0;
            o.consumers = a.num("consumers", 0);
            return run_ingest_bench(o);
        }
        if (cmd == "subscriber") {
            BareSubscriberOptions o;
            o.port = a.num("port", 0);
            o.user = a.get("user", "");
            o.password_file = a.get("password-file", "");
            o.counter_path = a.get("counter", "");
            return run_bare_subscriber(o);
        }
        if (cmd == "bare")
            return cmd_bare(a);
        if (cmd == "platform")
            return cmd_platform(a);
        if (cmd == "money")
            return cmd_money(a);
        if (cmd == "debit")
            return cmd_debit(a);
        if (cmd == "http")
            return cmd_http(a);
        if (cmd == "scale")
            return cmd_scale(a);
        if (cmd == "api") {
            ApiBenchOptions o;
            o.bin_dir = a.get("bin-dir", o.bin_dir);
            o.wrk_s = a.num("wrk-s", o.wrk_s);
            o.wrk_c = a.num("wrk-c", o.wrk_c);
            o.starts = a.num("starts", o.starts);
            o.warmup = a.num("warmup", o.warmup);
            return run_api_bench(o);
        }
        if (cmd == "ocpp") {
            OcppBenchOptions o;
            o.bin_dir = a.get("bin-dir", o.bin_dir);
            o.self = std::filesystem::read_symlink("/proc/self/exe").string();
            o.chargers = a.num("chargers", o.chargers);
            o.window_s = a.num("window-s", o.window_s);
            o.idle_s = a.num("idle-s", o.idle_s);
            o.meter_period_s = a.num("meter-period-s", o.meter_period_s);
            o.saturate_s = a.num("saturate-s", o.saturate_s);
            o.starts = a.num("starts", o.starts);
            o.start_rate = std::stod(a.get("start-rate", "10"));
            o.connect_rate = std::stod(a.get("connect-rate", "200"));
            o.echo = a.num("echo", 1) != 0;
            o.platform = a.num("platform", 1) != 0;
            o.perf_out = a.get("perf-out", "");
            return run_ocpp_bench(o);
        }
        if (cmd == "ocpp-echo")
            return run_ocpp_echo(a.num("port", 0));
        if (cmd == "parking") {
            ParkingBenchOptions o;
            o.bin_dir = a.get("bin-dir", o.bin_dir);
            o.cameras = a.num("cameras", o.cameras);
            o.window_s = a.num("window-s", o.window_s);
            o.bare_s = a.num("bare-s", o.bare_s);
            o.rate = std::stod(a.get("rate", "50"));
            o.stay_s = a.num("stay-s", o.stay_s);
            return run_parking_bench(o);
        }
    } catch (const std::exception& e) {
        std::cerr << "pilehub-bench " << cmd << ": " << e.what() << "\n";
        return 1;
    }
    std::cerr << "unknown subcommand " << cmd << "\n";
    return 2;
}
