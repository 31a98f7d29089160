// #2 worker kill -9 loop (docs/reliability.md, "Sessions and money"): sessiond and billingd each
// killed with SIGKILL 50 times in the full run (about 8 in the quick one) while sessions start,
// charge and end on 20 simulated sockets. Some kills are random; the others are fail points
// (common/failpoint.hpp) right after a COMMIT and before the publish or acknowledgement that follows.
// Then: every session ended exactly once, one settlement per completed session, no record lost, the
// piles hold no unacknowledged record, and `pilehubctl audit` is clean.
#include "tests/chaos/chaos.hpp"
#include "tests/chaos/sessions.hpp"
#include "tests/integration/sessions_world.hpp"

#include <atomic>
#include <iostream>
#include <mutex>
#include <random>

using namespace pilehub;
using namespace pilehub::test::sessions;

namespace {

constexpr int kSockets = 20;

/// The rider side, on its own thread with its own database connection: starts `n` 60-minute time
/// sessions, socket after socket (one account per socket), each once the socket's previous session
/// has its record; a start that gets no answer (sessiond killed under it) is looked up and retried.
struct Riders {
    Riders(World& world, int count) : w(world), n(count) {}
    World& w;
    int n;
    std::mutex m;
    std::vector<std::string> sids; ///< every session a rider was told about
    std::vector<std::string> errors;
    std::atomic<bool> done{false};

    void run() {
        db::Database d(w.dir() + "/pilehub.db");
        auto text = [&](const std::string& sql, const std::string& arg) {
            db::Statement q(d, sql);
            q.bind(1, arg);
            return q.step() && !q.is_null(0) ? q.text(0) : std::string();
        };
        std::vector<std::string> last(kSockets);
        for (int i = 0; i < n; ++i) {
            const int s = i % kSockets;
            const auto account = w.accounts.at(static_cast<std::size_t>(s));
            const auto socket = fmt::format("P{}-{}", 1 + s / 10, 1 + s % 10);
            const auto free_at = std::chrono::steady_clock::now() + 60s;
            while (!last[s].empty() && std::chrono::steady_clock::now() < free_at &&
                   text("SELECT 1 FROM sessions WHERE id = ?1 AND (record_msg_id IS NOT NULL OR state IN "
                        "('completed', 'failed'))",
                        last[s])
                       .empty())
                std::this_thread::sleep_for(50ms);
            std::string sid;
            for (int attempt = 0; attempt < 60 && sid.empty(); ++attempt) {
                const auto r = w.call("start", World::start_json(account, socket, "time", 60), 1500ms);
                if (r.ok()) {
                    sid = World::session_id_of(r.data_json);
                    break;
                }
                // No answer, or refused because the first try did run: the newest session of the account.
                const auto newest = text("SELECT id FROM sessions WHERE account_id = ?1 ORDER BY created_at DESC "
                                         "LIMIT 1",
                                         std::to_string(account));
                if (!newest.empty() && newest != last[s])
                    sid = newest;
                else
                    std::this_thread::sleep_for(200ms);
            }
            std::lock_guard l(m);
            if (sid.empty()) {
                errors.push_back(fmt::format("session {} on {} never started", i, socket));
                continue;
            }
            last[s] = sid;
            sids.push_back(sid);
        }
        done = true;
    }
};

} // namespace

TEST_CASE("chaos #2: sessiond and billingd killed with kill -9 (randomly and at fail points) while sessions run") {
    const int kills_each = chaos::scaled(8, 50);
    const int sessions = chaos::scaled(24, 200);
    const auto seed = static_cast<unsigned>(std::random_device{}());
    std::mt19937 rng(seed);
    std::cout << fmt::format("chaos_worker_kill: seed {}, {} kills of each, {} sessions\n", seed, kills_each, sessions);
    // 60-minute time sessions at x600: 6 s each, so kills land on starts, charging, records and settlements.
    WorldOptions o{"chaos-worker-kill", 600, kSockets, 1'000'000};
    World w(o);
    REQUIRE(w.has_billingd());
    const auto t0 = monotonic_ms();

    Riders riders(w, sessions);
    std::thread rider_thread([&] { riders.run(); });

    struct Victim {
        const char* name;
        Daemon* d;
        std::vector<const char*> points;
        bool armed = false; ///< started with a fail point that has not fired yet
        int random_kills = 0;
        int failpoint_kills = 0;
        int kills() const { return random_kills + failpoint_kills; }
    };
    Victim victims[] = {
        {"sessiond",
         &*w.sessiond,
         {"sessiond.after_commit", "sessiond.after_create_commit", "sessiond.before_record_ack"}},
        {"billingd", &*w.billingd, {"billingd.after_settle_commit"}},
    };
    std::int64_t max_restart_ms = 0;
    std::vector<std::string> start_problems;
    // Restarts the victim (from this thread: the children die with the thread that spawned them), armed
    // with a fail point half of the time. A start that dies at its fail point is a fail-point kill.
    auto restart = [&](Victim& v) {
        const auto t = monotonic_ms();
        for (int tries = 0; tries < 20; ++tries) {
            v.armed = v.kills() < kills_each && (v.failpoint_kills == 0 || rng() % 2 == 0);
            v.d->set_env(v.armed ? std::vector<std::string>{fmt::format(
                                       "PILEHUB_FAILPOINT={}@{}", v.points[rng() % v.points.size()], 1 + rng() % 2)}
                                 : std::vector<std::string>{});
            const auto problem = v.d->try_start();
            if (problem.empty())
                break;
            if (v.d->running() || problem.find("exited during start-up") == std::string::npos) {
                start_problems.push_back(problem);
                break;
            }
            ++v.failpoint_kills; // died at its fail point while starting up
        }
        max_restart_ms = std::max(max_restart_ms, monotonic_ms() - t);
    };

    // The kill loop: every few hundred ms one victim is killed (unless it already died at its fail
    // point), until both have had their kills and the riders are done.
    while (!(riders.done && victims[0].kills() >= kills_each && victims[1].kills() >= kills_each) &&
           monotonic_ms() - t0 < 1000 * chaos::scaled(60, 900)) {
        const auto until = monotonic_ms() + 150 + static_cast<std::int64_t>(rng() % 700);
        while (monotonic_ms() < until) {
            for (auto& v : victims)
                if (!v.d->running()) {
                    ++v.failpoint_kills;
                    restart(v);
                }
            std::this_thread::sleep_for(10ms);
        }
        auto& v = victims[rng() % 2];
        if (v.kills() >= kills_each || (v.armed && (v.failpoint_kills == 0 || rng() % 3 != 0)))
            continue; // an armed victim is mostly left to die at its fail point (always, until one has)
        if (v.d->running()) {
            v.d->kill9();
            ++v.random_kills;
        } else {
            ++v.failpoint_kills;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 200));
        restart(v);
    }
    // An armed process that has not fired yet is restarted unarmed, so the run can settle.
    for (auto& v : victims) {
        if (!v.d->running())
            ++v.failpoint_kills;
        else
            v.d->kill9(), ++v.random_kills;
        v.d->set_env({});
        v.d->start();
    }
    rider_thread.join();
    const auto t_last = monotonic_ms();
    for (const auto& e : riders.errors)
        FAIL_CHECK(e);
    for (const auto& p : start_problems)
        FAIL_CHECK(p);

    const auto all_ended = [&] {
        return w.number("SELECT count(*) FROM sessions WHERE state NOT IN ('completed', 'failed')") == 0 &&
               w.sim_pending_records() == 0;
    };
    const bool recovered = w.eventually(all_ended, 90s);
    const auto recover_ms = monotonic_ms() - t_last;
    CHECK_MESSAGE(recovered, "sessions still open or records pending:\n" << w.logs(60));

    const auto t = chaos::tally_sessions(w.db());
    for (const auto& p : t.problems)
        FAIL_CHECK(p);
    std::int64_t missing = 0;
    for (const auto& sid : riders.sids)
        missing += w.state(sid).empty();
    const auto lost = t.lost + missing + std::max<std::int64_t>(0, w.sim_pending_records());
    const auto audit = chaos::audit(w.dir() + "/pilehub.db");
    CHECK_MESSAGE(audit.ok(), audit.output);

    const auto sk = victims[0], bk = victims[1];
    std::cout << fmt::format("chaos_worker_kill: sessiond {} random + {} fail-point kills, billingd {} + {}; {} "
                             "sessions ({} completed, {} failed); longest restart {} ms; recovered in {} ms; {} ms\n",
                             sk.random_kills, sk.failpoint_kills, bk.random_kills, bk.failpoint_kills, t.total,
                             t.completed, t.failed, max_restart_ms, recover_ms, monotonic_ms() - t0);
    const std::string row = "#2 worker kill -9 loop";
    CHECK(chaos::report(
        {row,
         fmt::format("kills: sessiond {} ({} at fail points), billingd {} ({} at fail points)", sk.kills(),
                     sk.failpoint_kills, bk.kills(), bk.failpoint_kills),
         fmt::format(">= {} each, some at fail points", kills_each),
         sk.kills() >= kills_each && bk.kills() >= kills_each && sk.failpoint_kills > 0 && bk.failpoint_kills > 0}));
    CHECK(chaos::report({row,
                         fmt::format("sessions ended exactly once: {}/{} ({} failed)", t.ended_once, t.total, t.failed),
                         "all, and >= " + std::to_string(sessions), t.ended_once == t.total && t.total >= sessions}));
    CHECK(chaos::report({row, fmt::format("lost records: {}", lost), "0", lost == 0 && recovered}));
    CHECK(chaos::report({row, fmt::format("double settlements: {} (unsettled completed: {})", t.doubles, t.unsettled),
                         "0", t.doubles == 0 && t.unsettled == 0}));
    CHECK(chaos::report({row,
                         fmt::format("time to recover: every session ended and settled {} ms after the last kill "
                                     "(the last ones still charging, 6 s each); longest kill-to-ready {} ms",
                                     recover_ms, max_restart_ms),
                         "<= 30000 ms", recovered && recover_ms <= 30000}));
    CHECK(chaos::report({row, fmt::format("audit violations: {}", audit.violations), "0", audit.ok()}));
}
