#pragma once
// The stack the disk and database scenarios break (chaos_disk_full.cpp, chaos_locked_db.cpp): the real
// pilehub-api (tests/integration/api_stack.hpp) on a broker's data directory, the real workers as
// supervised child processes (restarted when they exit, as systemd's Restart=on-failure does), and
// pilehub-sim playing the piles with its state OUTSIDE the data directory (a pile's memory is not on
// the platform's disk). Riders start and stop over HTTP; the test counts what was acknowledged and
// checks that every acknowledged operation ends in the database exactly once.
#include "tests/chaos/chaos.hpp"
#include "tests/integration/api_stack.hpp"
#include "tests/support/daemon.hpp"

#include "common/json.hpp"
#include "common/ledger.hpp"

#include <signal.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>

namespace pilehub::chaos::ops {

using namespace std::chrono_literals;
using test::Process;
using test::SpawnOptions;
using test::api::Http;
using test::api::Stack;

/// What one scenario runs.
struct Options {
    int piles = 2;                        ///< 10 sockets each
    int speed = 10;                       ///< the simulator's acceleration
    std::vector<std::string> api_sets;    ///< more pilehub-api `--set`
    std::vector<std::string> worker_sets; ///< `--set` for every worker (db.busy_timeout_ms)
    std::string sim_dir;                  ///< the simulator's state and log (not on the data directory)
};

/// Milliseconds since `t0`.
inline std::int64_t ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
}

class World {
public:
    explicit World(Options o) : o_(std::move(o)), st_(stack_options(o_)) {
        admin_ = st_.admin();
        const auto station = st_.station(admin_, "Chaos Station");
        REQUIRE(st_.put(fmt::format("/api/v1/admin/stations/{}/tariff", station),
                        R"({"tariff":{"name":"chaos","timezone":"Asia/Shanghai","modes":["time","power"],
                       "time":{"fen_per_hour":600,"options_minutes":[60]},
                       "power":{"tiers":[{"up_to_w":2000,"fen_per_hour":600}],"ignore_first_s":0},
                       "min_start_balance_fen":100}})",
                        admin_)
                    .status == 200);
        std::string fleet;
        std::vector<std::string> passwords;
        for (int i = 1; i <= o_.piles; ++i) {
            const auto id = fmt::format("cp{:03}", i);
            const auto dev = st_.device(admin_, id, station, 10);
            fleet += fmt::format(R"({}{{"id":"{}","kind":"ebike_pile","sockets":10,"password":"{}"}})",
                                 fleet.empty() ? "" : ",", id, dev.str("mqtt_password"));
            piles_.push_back(id);
            passwords.push_back(dev.str("mqtt_password"));
        }
        // The API reloads the broker's password file after each registration: the piles connect once
        // the broker knows every one of them (else the simulator backs off for seconds). Seen twice in
        // five full runs: the last registration never took effect (a SIGHUP lost while Mosquitto was
        // reloading?); then the test sends SIGHUP itself, and says so.
        for (std::size_t i = 0; i < piles_.size(); ++i) {
            int hups = 0;
            const auto t0 = std::chrono::steady_clock::now();
            const bool accepted = test::api::eventually(
                [&] {
                    if (st_.broker().connack(piles_[i], passwords[i]) == 0)
                        return true;
                    if (ms_since(t0) > (hups + 1) * 3000) {
                        ++hups;
                        ::kill(st_.broker().pid(), SIGHUP);
                    }
                    return false;
                },
                15s);
            if (hups > 0)
                MESSAGE("the broker did not accept " << piles_[i] << " after the API's reload; the test sent SIGHUP "
                                                     << hups << " time(s)" << (accepted ? ", then it did" : ""));
            REQUIRE_MESSAGE(accepted, "the broker never accepted " << piles_[i]);
        }
        std::filesystem::create_directories(o_.sim_dir);
        std::ofstream(o_.sim_dir + "/fleet.json") << R"({"devices":[)" << fleet << "]}";
        for (const char* name : {"presenced", "recorderd", "billingd", "sessiond", "autostopd"}) {
            auto sets = o_.worker_sets;
            if (std::string(name) == "billingd")
                sets.insert(sets.end(), {"billingd.scan_period_s=1", "billingd.cost_period_s=1"});
            if (std::string(name) == "sessiond")
                sets.push_back(fmt::format("sessiond.device_time_scale={}", o_.speed));
            workers_.push_back(std::make_unique<test::Daemon>(name, st_.broker(), st_.dir(), sets));
            workers_.back()->start();
        }
        SpawnOptions so;
        so.output = o_.sim_dir + "/sim.log";
        sim_ = Process::spawn({std::string(PILEHUB_BINARY_DIR) + "/workers/pilehub-sim/pilehub-sim", "--fleet",
                               o_.sim_dir + "/fleet.json", "--state-dir", o_.sim_dir + "/state", "--port",
                               std::to_string(st_.broker().port()), "--speed", std::to_string(o_.speed),
                               "--tele-period-s", "2"},
                              so);
        const auto probe = rider(0);
        for (const auto& p : piles_)
            REQUIRE_MESSAGE(
                eventually([&] { return st_.get("/api/v1/sockets/" + p + "-10", probe).str("state") == "free"; }, 20s),
                p << " never came online:\n"
                  << test::tail(test::slurp(o_.sim_dir + "/sim.log")));
    }

    ~World() {
        if (sim_.pid())
            sim_.stop();
        for (auto it = workers_.rbegin(); it != workers_.rend(); ++it)
            (*it)->stop();
    }

    Stack& stack() { return st_; }
    const std::vector<std::string>& piles() const { return piles_; }
    /// The `i`-th socket code of the fleet (`cp001-1` .. `cp001-10`, `cp002-1`, ...).
    std::string socket(int i) const { return fmt::format("{}-{}", piles_.at(i / 10), i % 10 + 1); }
    /// Restarts every worker that exited (a supervisor's job); how many it restarted.
    int supervise() {
        int n = 0;
        for (auto& w : workers_)
            if (!w->running()) {
                const auto failed = w->try_start();
                if (!failed)
                    ++n;
                ++restarts_;
                restarted_ +=
                    fmt::format("{} ({}) ", w->name(), failed ? "not ready: " + failed->substr(0, 80) : "ready");
            }
        return n;
    }
    int restarts() const { return restarts_; }
    /// Which workers were restarted, and whether they came back ready.
    const std::string& restarted() const { return restarted_; }
    /// Polls `pred` every 50 ms, supervising the workers, until it holds or `limit` passes.
    bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < end) {
            supervise();
            if (pred())
                return true;
            std::this_thread::sleep_for(50ms);
        }
        return pred();
    }

    /// Rider `i`'s token (phone 1390000xxxx), logged in once and credited 100 yuan.
    std::string rider(int i) {
        if (auto it = riders_.find(i); it != riders_.end())
            return it->second;
        const auto token = st_.rider(fmt::format("1390000{:04}", i));
        const auto account = st_.rider_id(token);
        auto d = st_.db();
        ledger::Ledger l(d);
        ledger::Credit c;
        c.account_id = account;
        c.real_fen = Fen(10000);
        c.meta.idempotency_key = fmt::format("chaos-seed:{}", i);
        REQUIRE(l.credit(c).ok());
        riders_[i] = token;
        return token;
    }

    /// POST /sessions for rider `i` at socket `socket`: the session id when the API acknowledged it
    /// (202), else empty (the answer is kept in `last`).
    std::string start(int i, const std::string& socket) {
        last = st_.post("/api/v1/sessions", fmt::format(R"({{"socket":"{}","mode":"power"}})", socket), rider(i));
        return last.status == 202 ? last.str("session.id") : std::string();
    }
    /// POST /sessions/{sid}/stop for rider `i`: true when acknowledged (202).
    bool stop(int i, const std::string& sid) {
        last = st_.post("/api/v1/sessions/" + sid + "/stop", "{}", rider(i));
        return last.status == 202;
    }
    /// The session's state in the core database ("" when there is no such row).
    std::string state(const std::string& sid) {
        auto d = st_.db();
        db::Statement q(d, "SELECT state FROM sessions WHERE id = ?");
        q.bind(1, sid);
        return q.step() ? q.text(0) : std::string();
    }
    std::int64_t number(const std::string& sql, const std::string& arg) {
        auto d = st_.db();
        db::Statement q(d, sql);
        q.bind(1, arg);
        return q.step() && !q.is_null(0) ? q.int64(0) : -1;
    }
    /// One line to the simulator's control FIFO.
    void control(const std::string& line) { test::sim_control(o_.sim_dir + "/state/control", line); }
    /// The simulator's unacknowledged session records (status.json), -1 when unreadable.
    std::int64_t pending_records() {
        auto doc = json::parse(test::slurp(o_.sim_dir + "/state/status.json"));
        if (!doc)
            return -1;
        std::string err;
        auto o = json::Object::root(*doc, &err);
        return o.opt_int("pending_records", 0).value_or(-1);
    }
    /// GET /health's status (0: no answer).
    int health() { return st_.get("/api/v1/health").status; }

    /// Waits until every session in `sids` is completed (or failed, for a start the pile never
    /// confirmed) and the piles hold no unacknowledged record; the sessions that did not get there,
    /// or got there with other than one settlement, are lost.
    std::vector<std::string> lost(const std::vector<std::string>& sids, std::chrono::milliseconds limit) {
        auto ended = [&](const std::string& sid) {
            const auto s = state(sid);
            return s == "completed" || s == "failed";
        };
        eventually(
            [&] {
                for (const auto& sid : sids)
                    if (!ended(sid))
                        return false;
                return pending_records() == 0;
            },
            limit);
        std::vector<std::string> out;
        for (const auto& sid : sids) {
            const auto s = state(sid);
            if (s == "completed" && number("SELECT count(*) FROM settlements WHERE session_id = ?", sid) == 1 &&
                number("SELECT count(*) FROM ledger WHERE idempotency_key = 'settle:' || ?", sid) <= 1)
                continue;
            if (s == "failed" && number("SELECT count(*) FROM ledger WHERE ref = ?", sid) == 0)
                continue;
            out.push_back(sid + " (" + (s.empty() ? "no row" : s) + ")");
        }
        return out;
    }

    /// The last lines of every worker's log, the API's and the simulator's.
    std::string logs(std::size_t lines = 15) {
        std::string s;
        for (auto& w : workers_) {
            // Whether it runs, and where it waits (a worker alive but stuck shows its wait channel).
            std::string wchan; // every thread's
            std::error_code ec;
            for (const auto& t : std::filesystem::directory_iterator(fmt::format("/proc/{}/task", w->pid()), ec))
                wchan += test::slurp(t.path().string() + "/wchan") + " ";
            s += fmt::format("--- {} (pid {}, {}, threads waiting in: {}) ---\n", w->name(), w->pid(),
                             w->running() ? "running" : "exited", wchan.empty() ? "-" : wchan) +
                 test::tail(w->log(), lines);
        }
        s += "--- pilehub-api ---\n" + test::tail(st_.log(), lines);
        s += "--- sim ---\n" + test::tail(test::slurp(o_.sim_dir + "/sim.log"), lines);
        return s;
    }

    Http last; ///< the last answer of start() / stop()

private:
    static test::api::StackOptions stack_options(const Options& o) {
        test::api::StackOptions so;
        so.sets = o.api_sets;
        return so;
    }

    Options o_;
    Stack st_;
    std::string admin_;
    std::vector<std::string> piles_;
    std::vector<std::unique_ptr<test::Daemon>> workers_;
    Process sim_;
    std::map<int, std::string> riders_;
    int restarts_ = 0;
    std::string restarted_;
};

/// A fault the stack must survive: what makes it, what ends it, how long it lasts.
struct Fault {
    std::string name;                              ///< the figures' test name
    std::string held;                              ///< "while the lock was held", for messages
    int hold_s = 4;                                ///< how long the fault lasts
    std::function<void()> on;                      ///< makes it
    std::function<void()> off;                     ///< ends it
    std::function<void(const Http&)> check_health; ///< more checks of /health's body while it lasts
};

/// The scenario both share: `sessions` sessions charging; the fault; /health must turn 503 (detection
/// time); half the sessions stopped by their riders, the other half by the piles (unplugged), and
/// `during` new riders try to start; the fault lasts `hold_s`, then ends; riders stop what still runs;
/// every acknowledged session must end once and every record be stored (recovery time); the audit;
/// the four figures.
inline void run(World& w, int sessions, int during, const Fault& f) {
    const auto t_all = std::chrono::steady_clock::now();
    std::vector<std::string> acked; // sessions the API acknowledged
    for (int i = 0; i < sessions; ++i) {
        const auto sid = w.start(i, w.socket(i));
        REQUIRE_MESSAGE(!sid.empty(), w.last);
        acked.push_back(sid);
    }
    REQUIRE_MESSAGE(w.eventually(
                        [&] {
                            for (const auto& sid : acked)
                                if (w.state(sid) != "charging")
                                    return false;
                            return true;
                        },
                        20s),
                    w.logs());
    REQUIRE(w.health() == 200);
    for (int j = 0; j < during; ++j)
        w.rider(sessions + j); // logged in before the fault (a login writes its token)

    int refused = 0, stops_acked = 0;
    std::int64_t detect_ms = -1;
    f.on();
    const auto t_on = std::chrono::steady_clock::now();
    while (detect_ms < 0 && ms_since(t_on) < 5000)
        if (w.health() == 503)
            detect_ms = ms_since(t_on);
    if (f.check_health)
        f.check_health(w.stack().get("/api/v1/health"));
    for (int i = 0; i < sessions; ++i) {
        if (i % 2 == 0) {
            if (w.stop(i, acked[i]))
                ++stops_acked;
            else
                ++refused; // not acknowledged: asked again below
        } else {
            const auto code = w.socket(i);
            w.control("unplug " + code.substr(0, code.rfind('-')) + " " + code.substr(code.rfind('-') + 1));
        }
    }
    for (int j = 0; j < during; ++j) {
        const auto sid = w.start(sessions + j, w.socket(sessions + j));
        if (!sid.empty())
            acked.push_back(sid);
        else
            ++refused;
    }
    while (ms_since(t_on) < f.hold_s * 1000) {
        w.supervise();
        std::this_thread::sleep_for(100ms);
    }
    CHECK(w.health() == 503);
    f.off();
    const auto t_off = std::chrono::steady_clock::now();
    CHECK_MESSAGE(w.eventually([&] { return w.health() == 200; }, 30s), w.stack().get("/api/v1/health"));
    // Riders ask again for what was refused, and stop what they started during the fault (each asks
    // again every half second until the session is stopping or over, 30 s at most in all).
    const auto running = [&](const std::string& sid) {
        const auto st = w.state(sid);
        return st == "charging" || st == "starting";
    };
    auto last_ask = std::chrono::steady_clock::now() - 1s;
    w.eventually(
        [&] {
            bool any = false;
            const bool ask = ms_since(last_ask) >= 500;
            for (std::size_t i = 0; i < acked.size(); ++i)
                if (running(acked[i])) {
                    any = true;
                    if (ask)
                        w.stop(static_cast<int>(i), acked[i]);
                }
            if (ask)
                last_ask = std::chrono::steady_clock::now();
            return !any;
        },
        30s);
    const auto lost = w.lost(acked, 60s);
    const auto recover_ms = ms_since(t_off);
    std::string lost_text;
    for (const auto& l : lost)
        lost_text += l + " ";
    CHECK_MESSAGE(lost.empty(), lost_text << "\n" << w.logs());
    CHECK_MESSAGE(w.pending_records() == 0, w.logs());

    // Starts answered with an error (not acknowledged) that the database holds anyway: the rider was told
    // no, so such a session must not be left running.
    std::vector<std::string> unacked;
    {
        auto d = w.stack().db();
        db::Statement q(d, "SELECT id, state FROM sessions ORDER BY id");
        while (q.step())
            if (std::find(acked.begin(), acked.end(), q.text(0)) == acked.end())
                unacked.push_back(q.text(0) + " (" + q.text(1) + ")");
    }
    std::string unacked_text;
    for (const auto& u : unacked)
        unacked_text += u + " ";
    MESSAGE(unacked.size() << " sessions in the database whose start was refused: " << unacked_text);
    for (const auto& u : unacked)
        CHECK_MESSAGE((u.find("(completed)") != std::string::npos || u.find("(failed)") != std::string::npos),
                      "a refused start left running: " << u);
    const auto a = audit(w.stack().dir() + "/pilehub.db");
    CHECK_MESSAGE(a.ok(), a.output);
    MESSAGE(fmt::format("{} sessions acknowledged, {} stops acknowledged {}, {} operations refused (answered, not "
                        "acknowledged), {} worker restarts ({}), {:.1f} s in all",
                        acked.size(), stops_acked, f.held, refused, w.restarts(), w.restarted(),
                        static_cast<double>(ms_since(t_all)) / 1000.0));
    CHECK(
        report({f.name, fmt::format("{} of {} acknowledged sessions lost or not ended once", lost.size(), acked.size()),
                "0 lost", lost.empty()}));
    CHECK(report(
        {f.name, fmt::format("/health 503 after {} ms", detect_ms), "≤ 2000 ms", detect_ms >= 0 && detect_ms <= 2000}));
    CHECK(report(
        {f.name,
         fmt::format("every acknowledged session ended and record stored {} ms after the fault ended", recover_ms),
         "≤ 30000 ms", lost.empty() && recover_ms <= 30000}));
    CHECK(report({f.name, fmt::format("audit: {} violations", a.violations), "0", a.ok()}));
}

} // namespace pilehub::chaos::ops
