#pragma once
// The world of sessiond's integration tests: a real Mosquitto (pilehub::test::Broker), the real
// pilehub-sim as a child process playing piles P1 and P2 (10 sockets each), the real sessiond,
// recorderd (sessiond's telemetry is recorderd's device reports) and billingd (when it is built) as
// child processes on real SQLite files, and the test acting as the API (user svc.pilehub-api: rpc
// requests, cfg/desired, reads of every topic). With `WorldOptions::full_stack` also presenced and
// autostopd (test_session_e2e.cpp).
// Children are stopped by PID.
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/json.hpp"
#include "common/ledger.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "common/payloads.hpp"
#include "common/registry.hpp"
#include "common/rpc.hpp"
#include "common/topics.hpp"
#include "tests/support/broker.hpp"
#include "tests/support/process.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace pilehub::test::sessions {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

/// Time and power modes; 60 and 120 minute options; 200 fen to start.
inline constexpr const char* kTariff = R"({
  "name": "Residential e-bike", "timezone": "Asia/Shanghai", "modes": ["time", "power"],
  "time":  {"fen_per_hour": 100, "options_minutes": [60, 120]},
  "power": {"tiers": [{"up_to_w": 300, "fen_per_hour": 30}, {"up_to_w": 1000, "fen_per_hour": 57}],
            "ignore_first_s": 60},
  "free_minutes": 5, "cap": {"max_minutes": 720, "max_fen": 1000},
  "min_start_balance_fen": 200, "stop_below_balance_fen": 0})";

inline std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::string tail(const std::string& text, std::size_t lines = 40) {
    std::size_t pos = text.size();
    for (std::size_t n = 0; n <= lines && pos != std::string::npos && pos > 0; ++n)
        pos = text.rfind('\n', pos - 1);
    return pos == std::string::npos ? text : text.substr(pos + 1);
}

/// Car chargers (CONTRACT A.5 `ev_charger`) price by energy with TOU (BILLING §1, §5): two periods that
/// alternate every half hour (valley at :00-:30, peak at :30-:00 local time), so that a session of a few
/// minutes can cross a slot boundary.
inline std::string ev_tariff() {
    std::string slots;
    for (int i = 0; i < 48; ++i)
        slots += fmt::format(R"({}"{}")", i ? "," : "", i % 2 ? "peak" : "valley");
    return fmt::format(R"({{"name": "Car park", "timezone": "Asia/Shanghai", "modes": ["energy"],
  "energy": {{"periods": {{"peak": {{"elec_e4": 10000, "service_e4": 8000}},
                          "valley": {{"elec_e4": 3500, "service_e4": 4000}}}},
             "slots": [{}], "service_by": "energy"}},
  "min_start_balance_fen": 200, "stop_below_balance_fen": 0}})",
                       slots);
}

/// libfaketime (Debian `libfaketime`, scripts/install-deps): the environment that shifts a child's
/// wall clock by `offset_s` seconds (its monotonic clock stays real). Every process of a world gets the
/// same shift, so they agree on "now" among themselves.
inline std::vector<std::string> clock_shift_env(std::optional<std::int64_t> offset_s) {
    if (!offset_s)
        return {};
    // Debian installs it under the architecture's multiarch directory (x86_64-linux-gnu, aarch64-linux-gnu, ...).
    std::string lib;
    for (const auto& dir : fs::directory_iterator("/usr/lib"))
        if (const auto p = dir.path() / "faketime" / "libfaketimeMT.so.1"; fs::exists(p))
            lib = p.string();
    REQUIRE_MESSAGE(!lib.empty(), "libfaketimeMT.so.1 not found under /usr/lib/*/faketime: scripts/install-deps "
                                  "installs the Debian package libfaketime");
    return {"LD_PRELOAD=" + lib, fmt::format("FAKETIME={:+}s", *offset_s), "FAKETIME_DONT_FAKE_MONOTONIC=1",
            "FAKETIME_NO_CACHE=1"};
}

/// A PileHub daemon run as a child process on the shared data directory, signalled by its PID.
class Daemon {
public:
    Daemon(std::string name, const Broker& broker, std::string data_dir, std::vector<std::string> sets = {},
           std::vector<std::string> env = {})
        : name_(std::move(name)), data_dir_(std::move(data_dir)), sets_(std::move(sets)), env_(std::move(env)) {
        fs::create_directories(data_dir_ + "/secrets");
        std::ofstream(data_dir_ + "/secrets/svc." + name_ + ".pass") << broker.password("svc." + name_) << "\n";
        sets_.push_back("data_dir=" + data_dir_);
        sets_.push_back(fmt::format("mqtt.port={}", broker.port()));
    }
    ~Daemon() { stop(); }
    static std::string binary(const std::string& name) {
        return std::string(PILEHUB_BINARY_DIR) + "/workers/" + name + "/" + name;
    }
    /// Starts it and waits for its ready file (it is connected and subscribed by then).
    void start() {
        const auto problem = try_start();
        REQUIRE_MESSAGE(problem.empty(), problem);
    }
    /// start() without assertions, for a process that may die during start-up (at a fail point): ""
    /// once it is ready, else why not. Call it from the thread that outlives the child (SpawnOptions).
    std::string try_start() {
        const auto ready = data_dir_ + "/run/" + name_ + ".ready";
        fs::remove(ready);
        std::vector<std::string> argv{binary(name_)};
        for (const auto& s : sets_) {
            argv.push_back("--set");
            argv.push_back(s);
        }
        SpawnOptions o;
        o.output = log_path();
        o.env = env_;
        proc_ = Process::spawn(argv, o);
        for (int i = 0; i < 400 && !fs::exists(ready); ++i) {
            if (!proc_.running())
                return name_ + " exited during start-up:\n" + tail(log());
            std::this_thread::sleep_for(25ms);
        }
        return fs::exists(ready) ? "" : name_ + " not ready in 10 s:\n" + tail(log());
    }
    /// The extra environment of its next start() (e.g. PILEHUB_FAILPOINT=…, common/failpoint.hpp).
    void set_env(std::vector<std::string> env) { env_ = std::move(env); }
    /// SIGTERM to our child's PID; its exit code.
    int stop() { return proc_.pid() ? proc_.stop() : 0; }
    /// SIGKILL to our child's PID: no clean disconnect, nothing flushed.
    int kill9() { return proc_.pid() ? proc_.kill() : 0; }
    bool running() { return proc_.pid() && proc_.running(); }
    std::string log_path() const { return data_dir_ + "/" + name_ + ".log"; }
    std::string log() const { return slurp(log_path()); }

private:
    std::string name_;
    std::string data_dir_;
    std::vector<std::string> sets_;
    std::vector<std::string> env_;
    Process proc_;
};

/// How a world is set up.
struct WorldOptions {
    const char* name = "sessions";
    double speed = 10; ///< the simulator's time acceleration
    int accounts = 4;  ///< accounts with account_fen each
    std::int64_t account_fen = 1000;
    bool billingd = true; ///< also run billingd, when it is built
    std::int64_t tele_period_s = 10;
    const char* tariff = kTariff; ///< the station's tariff, version 1, in force from epoch 0
    bool full_stack = false;      ///< also run presenced and autostopd (REQUIREs them built)
    /// sessiond.device_time_scale: how much faster the piles' durations run (default: `speed`, rounded
    /// up), so that sessiond does not take the simulator's accelerated records for absurd ones.
    std::optional<std::int64_t> device_time_scale = std::nullopt;
    std::vector<std::string> sessiond_sets = {}; ///< more `--set key=value` for sessiond
    /// Also car chargers at the same station, in area "Car park" priced by ev_tariff(): EV1 (DC, 2 guns,
    /// 120 kW each) and EV2 (AC, 1 gun, 7 kW), simulated; EV3 (DC, 1 gun) registered with broker
    /// credentials but not simulated (the test plays it with raw MQTT).
    bool cars = false;
    /// Shift every child's wall clock by this many seconds (clock_shift_env): to place a session
    /// across a TOU slot boundary.
    std::optional<std::int64_t> clock_offset_s = std::nullopt;
    /// Also parking (CONTRACT E; needs `cars`): camera CAM1 simulated with 3 spaces in the car park
    /// (space 1 serves gun EV1-1, space 3 has no lock), the car park tariff gains this `parking`
    /// section, and parkingd runs.
    std::optional<std::string> parking = std::nullopt;
};

/// One test's world. Devices P1, P2 simulated (10 sockets each); P3 registered but never online; with
/// `cars`, EV1 and EV2 simulated and EV3 registered.
class World {
public:
    explicit World(WorldOptions o) : opts_(o), broker_(broker_users(o.cars)) {
        std::string templ = (fs::temp_directory_path() / fmt::format("pilehub-{}-XXXXXX", o.name)).string();
        REQUIRE(::mkdtemp(templ.data()) != nullptr);
        dir_ = templ;
        seed();

        // The simulator: P1 and P2 with the secrets the broker knows.
        {
            std::ofstream f(dir_ + "/fleet.json");
            std::string cars;
            if (o.cars)
                cars = fmt::format(R"(,{{"id":"EV1","kind":"ev_charger","guns":2,"dc":true,"password":"{}"}},)"
                                   R"({{"id":"EV2","kind":"ev_charger","guns":1,"password":"{}"}})",
                                   broker_.password("EV1"), broker_.password("EV2"));
            if (o.parking)
                cars += fmt::format(R"(,{{"id":"CAM1","kind":"camera","spaces":3,"password":"{}"}})",
                                    broker_.password("CAM1"));
            f << fmt::format(R"({{"devices":[{{"id":"P1","kind":"ebike_pile","sockets":10,"password":"{}"}},)"
                             R"({{"id":"P2","kind":"ebike_pile","sockets":10,"password":"{}"}}{}]}})",
                             broker_.password("P1"), broker_.password("P2"), cars);
        }
        SpawnOptions so;
        so.output = dir_ + "/sim.log";
        so.env = clock_shift_env(o.clock_offset_s);
        sim_ = Process::spawn({std::string(PILEHUB_BINARY_DIR) + "/workers/pilehub-sim/pilehub-sim", "--fleet",
                               dir_ + "/fleet.json", "--state-dir", dir_ + "/sim", "--port",
                               std::to_string(broker_.port()), "--speed", fmt::format("{}", o.speed), "--tele-period-s",
                               std::to_string(o.tele_period_s)},
                              so);

        // The test is the API: rpc requests, and it reads every topic.
        api_ = mqtt::make_client(broker_.client_options("svc.pilehub-api"));
        rpc_ = std::make_unique<rpc::Client>(*api_, router_);
        for (const auto* filter :
             {"ph/v1/svc/session/+/state", "ph/v1/svc/alert/+", "ph/v1/dev/+/space/+/state", "ph/v1/dev/+/presence",
              "ph/v1/dev/+/conn/+/state", "ph/v1/dev/+/cmd/+", "ph/v1/dev/+/cmd-reply/+", "ph/v1/dev/+/req/+",
              "ph/v1/dev/+/req-reply/+", "ph/v1/dev/+/evt/+", "ph/v1/dev/+/cfg/reported"})
            router_.add(*api_, filter, 1, inbox.handler());
        router_.attach(*api_);
        api_->start();
        REQUIRE(api_->wait_ready(10s));

        std::vector<std::string> sessiond_sets{
            "log.level=info", "sessiond.command_timeout_ms=10000",
            fmt::format("sessiond.device_time_scale={}",
                        o.device_time_scale.value_or(static_cast<std::int64_t>(std::ceil(o.speed))))};
        sessiond_sets.insert(sessiond_sets.end(), o.sessiond_sets.begin(), o.sessiond_sets.end());
        const auto env = clock_shift_env(o.clock_offset_s);
        sessiond.emplace("sessiond", broker_, dir_, sessiond_sets, env);
        sessiond->start();
        // recorderd validates telemetry and binds it to sessions: sessiond's live figures (energy,
        // power, last report) come from its device reports.
        recorderd.emplace("recorderd", broker_, dir_, std::vector<std::string>{"recorderd.batch_ms=100"}, env);
        recorderd->start();
        if (o.billingd && fs::exists(Daemon::binary("billingd"))) {
            billingd.emplace("billingd", broker_, dir_, std::vector<std::string>{"billingd.scan_period_s=1"}, env);
            billingd->start();
        }
        if (o.full_stack) {
            presenced.emplace("presenced", broker_, dir_, std::vector<std::string>{"presenced.tick_ms=100"}, env);
            autostopd.emplace("autostopd", broker_, dir_, std::vector<std::string>{"autostopd.tick_ms=100"}, env);
            for (auto* d : {&presenced, &autostopd})
                (*d)->start();
        }
        if (o.parking) {
            parkingd.emplace("parkingd", broker_, dir_,
                             std::vector<std::string>{"log.level=info", "parkingd.tick_ms=50",
                                                      "parkingd.lock_retry_s=2", "parkingd.lock_exp_s=5"},
                             env);
            parkingd->start();
        }
        std::vector<std::string> simulated{"P1", "P2"};
        if (o.cars) {
            simulated.push_back("EV1");
            simulated.push_back("EV2");
        }
        if (o.parking)
            simulated.push_back("CAM1");
        for (const auto& dev : simulated)
            REQUIRE_MESSAGE(inbox.wait_for(topics::presence(dev), R"("online":true)", 15s).has_value(),
                            dev << " never came online:\n"
                                << tail(slurp(dir_ + "/sim.log")));
        // The piles announce their sockets right after presence; give the retained states a moment.
        for (const auto* dev : {"P1", "P2"})
            REQUIRE(inbox.wait_for(topics::conn_state(dev, 10), R"("st":)", 5s).has_value());
    }

    ~World() {
        for (auto* d : {&parkingd, &autostopd, &presenced, &recorderd})
            if (*d)
                (*d)->stop();
        if (billingd)
            billingd->stop();
        if (sessiond)
            sessiond->stop();
        if (sim_.pid())
            sim_.stop();
        if (api_)
            api_->stop();
        db_.reset();
        const char* keep = std::getenv("PILEHUB_KEEP_TEST_DIRS");
        if (!keep || std::string(keep) != "1") {
            std::error_code ec;
            fs::remove_all(dir_, ec);
        } else {
            MESSAGE("test directory kept: " << dir_);
        }
    }

    bool has_billingd() const { return billingd.has_value(); }
    const std::string& dir() const { return dir_; }
    Broker& broker() { return broker_; }

    /// The station every device belongs to.
    std::int64_t station_id() const { return station_id_; }
    /// Publishes as the API (svc.pilehub-api: ph/v1/svc/# and cfg/desired).
    void publish(const mqtt::Message& m) { REQUIRE(api_->publish(m)); }

    /// An rpc request to sessiond, as the API sends it.
    rpc::Reply call(const std::string& method, const std::string& data_json, std::chrono::milliseconds timeout = 3s) {
        return rpc_->call("sessiond", method, data_json, timeout);
    }
    /// Starts an app session and returns its id (REQUIREs ok).
    std::string start(std::int64_t account, const std::string& socket, const std::string& mode = "power",
                      std::optional<int> minutes = std::nullopt) {
        const auto r = call("start", start_json(account, socket, mode, minutes));
        REQUIRE_MESSAGE(r.ok(), r.status << " " << r.code << " " << r.msg << "\n" << tail(sessiond->log()));
        return session_id_of(r.data_json);
    }
    static std::string start_json(std::int64_t account, const std::string& socket, const std::string& mode,
                                  std::optional<int> minutes) {
        return fmt::format(R"({{"account_id":{},"socket":"{}","mode":"{}"{}}})", account, socket, mode,
                           minutes ? fmt::format(R"(,"minutes":{})", *minutes) : "");
    }
    static std::string session_id_of(const std::string& data_json) {
        auto doc = json::parse(data_json);
        REQUIRE(doc.ok());
        std::string err;
        auto o = json::Object::root(*doc, &err);
        auto s = o.req_obj("session");
        const auto id = s.req_str("id", 64);
        REQUIRE_MESSAGE(o.ok(), err);
        return id;
    }

    /// One control line to the simulator's FIFO.
    void control(const std::string& line) {
        const auto path = dir_ + "/sim/control";
        const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        REQUIRE_MESSAGE(fd >= 0, "cannot open " << path);
        const auto text = line + "\n";
        const auto n = ::write(fd, text.data(), text.size());
        ::close(fd);
        REQUIRE(n == static_cast<ssize_t>(text.size()));
    }
    /// The simulator's status.json `pending_records` (records not yet acknowledged by the platform).
    std::int64_t sim_pending_records() {
        auto doc = json::parse(slurp(dir_ + "/sim/status.json"));
        if (!doc)
            return -1;
        std::string err;
        auto o = json::Object::root(*doc, &err);
        return o.opt_int("pending_records", 0).value_or(-1);
    }

    /// A read connection to the core database.
    db::Database& db() {
        if (!db_)
            db_ = std::make_unique<db::Database>(dir_ + "/pilehub.db");
        return *db_;
    }
    /// The first column of the first row of `sql` with `?1` = `arg`, as text ("" when no row / NULL).
    std::string text(const std::string& sql, const std::string& arg = "") {
        db::Statement q(db(), sql);
        if (sql.find("?1") != std::string::npos)
            q.bind(1, arg);
        if (!q.step() || q.is_null(0))
            return "";
        return q.text(0);
    }
    std::int64_t number(const std::string& sql, const std::string& arg = "") {
        db::Statement q(db(), sql);
        if (sql.find("?1") != std::string::npos)
            q.bind(1, arg);
        if (!q.step() || q.is_null(0))
            return -1;
        return q.int64(0);
    }
    std::string state(const std::string& sid) { return text("SELECT state FROM sessions WHERE id = ?1", sid); }
    /// Polls until `pred` holds or `timeout` passes.
    bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
        const auto until = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < until) {
            if (pred())
                return true;
            std::this_thread::sleep_for(20ms);
        }
        return pred();
    }
    bool wait_state(const std::string& sid, const std::string& st, std::chrono::milliseconds timeout = 10s) {
        return eventually([&] { return state(sid) == st; }, timeout);
    }
    /// Everything worth reading when a check fails.
    std::string logs(std::size_t lines = 30) {
        std::string s = "--- sessiond ---\n" + tail(sessiond->log(), lines);
        if (billingd)
            s += "--- billingd ---\n" + tail(billingd->log(), lines);
        if (recorderd)
            s += "--- recorderd ---\n" + tail(recorderd->log(), lines);
        if (autostopd)
            s += "--- autostopd ---\n" + tail(autostopd->log(), lines);
        if (parkingd)
            s += "--- parkingd ---\n" + tail(parkingd->log(), lines);
        s += "--- sim ---\n" + tail(slurp(dir_ + "/sim.log"), lines);
        return s;
    }

    Inbox inbox;
    std::optional<Daemon> sessiond;
    std::optional<Daemon> billingd;
    std::optional<Daemon> recorderd;
    std::optional<Daemon> presenced; ///< full_stack only
    std::optional<Daemon> autostopd; ///< full_stack only
    std::optional<Daemon> parkingd;  ///< parking only
    std::vector<std::int64_t> accounts;
    std::int64_t frozen = 0;
    std::int64_t poor = 0;

private:
    void seed() {
        db::Database::Options o;
        o.sync = db::Sync::Full;
        db::Database d(dir_ + "/pilehub.db", o);
        db::migrate(d, db::core_migrations());
        const auto now = SystemClock::instance().now_ms();
        registry::Store reg(d);
        const auto op = reg.ensure_operator("op", now);
        registry::Station st;
        st.operator_id = op;
        st.name = "Garden";
        const auto station = reg.add_station(st, now);
        station_id_ = station;
        for (const auto* id : {"P1", "P2", "P3"}) {
            registry::Device dev;
            dev.id = id;
            dev.station_id = station;
            dev.ports = 10;
            reg.add_device(dev, "$7$unused", now);
        }
        db::Statement t(d, "INSERT INTO tariffs (station_id, version, document, effective_from, created_at) "
                           "VALUES (?1, 1, ?2, 0, 0)");
        t.bind(1, station).bind(2, std::string(opts_.tariff)).run();
        if (opts_.cars)
            seed_cars(d, station, now);
        ledger::Ledger l(d);
        auto account = [&](int i, std::int64_t fen) {
            const auto a = l.open_account({fmt::format("139{:08}", i), "", std::nullopt, ledger::DebitOrder::RealFirst})
                               .account_id;
            ledger::Credit c;
            c.account_id = a;
            c.real_fen = Fen(fen);
            c.meta.idempotency_key = fmt::format("seed:{}", i);
            REQUIRE(l.credit(c).ok());
            return a;
        };
        for (int i = 0; i < opts_.accounts; ++i)
            accounts.push_back(account(i, opts_.account_fen));
        frozen = account(900, 1000);
        REQUIRE(l.set_frozen(frozen, true) == ledger::Outcome::Applied);
        poor = account(901, 100);
        db::Statement c(d, "INSERT INTO cards (card_no, account_id, status, issued_at) VALUES ('CARD0001', ?1, "
                           "'active', 0)");
        c.bind(1, accounts.at(0)).run();
    }

    /// The devices the broker knows: the piles, and with `cars` the chargers.
    static std::vector<Credential> broker_users(bool cars) {
        std::vector<Credential> users;
        for (const char* id : {"P1", "P2", "EV1", "EV2", "EV3"})
            if (cars || id[0] == 'P')
                users.push_back(Credential{id, ""});
        if (cars)
            users.push_back(Credential{"CAM1", ""});
        return users;
    }

    /// The car park: an area of the station with its own energy tariff, chargers EV1..EV3 in it.
    void seed_cars(db::Database& d, std::int64_t station, EpochMs now) {
        {
            db::Statement a(
                d, "INSERT INTO areas (station_id, name, created_at) VALUES (?1, 'Car park', ?2) RETURNING id");
            a.bind(1, station).bind(2, now);
            REQUIRE(a.step());
            car_area_ = a.int64(0);
        }
        registry::Store reg(d);
        for (const auto& [id, guns] : {std::pair{"EV1", 2}, std::pair{"EV2", 1}, std::pair{"EV3", 1}}) {
            registry::Device dev;
            dev.id = id;
            dev.kind = registry::DeviceKind::EvCharger;
            dev.station_id = station;
            dev.ports = guns;
            reg.add_device(dev, "$7$unused", now);
        }
        db::Statement area(d, "UPDATE devices SET area_id = ?1 WHERE kind = 'ev_charger'");
        area.bind(1, car_area_).run();
        db::Statement dc(d, "UPDATE guns SET max_power_w = 120000, current_type = 'dc', connector_type = 'gbt_dc' "
                            "WHERE device_id IN ('EV1', 'EV3')");
        dc.run();
        db::Statement ac(d, "UPDATE guns SET connector_type = 'gbt_ac' WHERE device_id = 'EV2'");
        ac.run();
        auto doc = ev_tariff();
        if (opts_.parking) {
            // the car park's tariff with its parking section; CAM1 watches the car park
            doc.insert(doc.rfind('}'), R"(, "parking": )" + *opts_.parking);
            registry::Device cam;
            cam.id = "CAM1";
            cam.kind = registry::DeviceKind::Camera;
            cam.station_id = station;
            cam.ports = 3;
            reg.add_device(cam, "$7$unused", now);
            db::Statement(d, "UPDATE devices SET area_id = ?1 WHERE id = 'CAM1'").bind(1, car_area_).run();
            d.exec("UPDATE spaces SET ev_gun = 'EV1-1' WHERE device_id = 'CAM1' AND n = 1");
            d.exec("UPDATE spaces SET has_lock = 0 WHERE device_id = 'CAM1' AND n = 3");
        }
        db::Statement t(d, "INSERT INTO tariffs (station_id, area_id, version, document, effective_from, created_at) "
                           "VALUES (?1, ?2, 1, ?3, 0, 0)");
        t.bind(1, station).bind(2, car_area_).bind(3, doc).run();
    }

    WorldOptions opts_;
    Broker broker_;
    std::string dir_;
    Process sim_;
    std::unique_ptr<mqtt::Client> api_;
    mqtt::Router router_;
    std::unique_ptr<rpc::Client> rpc_;
    std::unique_ptr<db::Database> db_;
    std::int64_t station_id_ = 0;
    std::int64_t car_area_ = 0;
};

} // namespace pilehub::test::sessions
