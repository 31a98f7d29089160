// #25 backup and restore drill: sessions start, charge and settle on 20 sockets while
// `pilehubctl backup` runs at a fixed period against the live databases; at a random moment the
// disaster (the broker and every daemon killed -9); the newest backup completed before it is restored
// into a fresh directory with `pilehubctl restore`, audited, and the stack is started on it and takes a
// new session to settlement. Figures: RPO (the committed work the restore lost: the newest ledger or
// session write in the live database at the disaster minus the newest in the restored copy) and RTO
// (restore until the restarted stack is ready).
#include "tests/chaos/chaos.hpp"
#include "tests/integration/sessions_world.hpp"

#include <atomic>
#include <iostream>
#include <mutex>
#include <random>

using namespace pilehub;
using namespace pilehub::test::sessions;

namespace {

const std::string kCtl = std::string(PILEHUB_BINARY_DIR) + "/workers/pilehubctl/pilehubctl";

std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// The newest committed write of money or sessions in a core database (epoch ms).
std::int64_t newest_write(const std::string& core_path) {
    db::Database d(core_path); // read-write: after a kill -9 the first connection recovers the WAL
    db::Statement q(d, "SELECT max(coalesce((SELECT max(at) FROM ledger), 0), "
                       "coalesce((SELECT max(at) FROM session_events), 0), "
                       "coalesce((SELECT max(updated_at) FROM sessions), 0))");
    REQUIRE(q.step());
    return q.int64(0);
}

/// One backup the drill took: its directory name and when it started and finished (steady ms).
struct Taken {
    std::string dir;
    std::int64_t started = 0;
    std::int64_t finished = 0;
    int exit_code = -1;
};

} // namespace

TEST_CASE("chaos #25: backups under load, disaster by kill -9, restore into a fresh directory, audit, serve again") {
    const int load_s = chaos::scaled(6, 120);
    const int interval_ms = chaos::scaled(2000, 10000);
    const auto seed = static_cast<unsigned>(std::random_device{}());
    std::mt19937 rng(seed);
    std::cout << fmt::format("backup drill: seed {}, {} s of load, a backup every {} ms\n", seed, load_s, interval_ms);

    // 60-minute time sessions at x1200: 3 s each, so sessions settle all through the load.
    WorldOptions o{"backup-drill", 1200, 20};
    o.account_fen = 1000000;
    World w(o);
    const auto out = w.dir() + "/backups";

    std::vector<Taken> taken;
    std::mutex taken_mutex;
    std::atomic<bool> stop_backups{false};
    const auto t0 = steady_ms();
    // Backups at a fixed rate (start k at t0 + k × interval), so that the newest completed one before any
    // moment started at most one interval plus one backup's duration earlier.
    std::thread backups([&] {
        for (int k = 1; !stop_backups; ++k) {
            const auto due = t0 + k * interval_ms;
            while (!stop_backups && steady_ms() < due)
                std::this_thread::sleep_for(10ms);
            if (stop_backups)
                break;
            Taken t;
            t.started = steady_ms();
            const auto r =
                test::run({kCtl, "--set", "data_dir=" + w.dir(), "backup", "--out", out, "--keep", "3"}, 60s);
            t.finished = steady_ms();
            t.exit_code = r.exit_code;
            if (const auto at = r.output.find("backup: "); at != std::string::npos) {
                const auto path = r.output.substr(at + 8, r.output.find(' ', at + 8) - at - 8);
                t.dir = path;
            }
            if (r.exit_code != 0)
                std::cout << "backup failed:\n" << r.output;
            std::lock_guard lock(taken_mutex);
            taken.push_back(t);
        }
    });

    // The load: every socket of P1 and P2 kept busy with one session after another.
    const auto disaster_at = t0 + load_s * 1000 / 2 + static_cast<std::int64_t>(rng() % (load_s * 500 + 1));
    std::vector<std::string> sid(20);
    int started = 0;
    while (steady_ms() < disaster_at) {
        for (int i = 0; i < 20 && steady_ms() < disaster_at; ++i) {
            const auto& s = sid[static_cast<std::size_t>(i)];
            if (!s.empty()) {
                const auto st = w.state(s);
                if (st != "completed" && st != "failed")
                    continue;
            }
            const auto socket = fmt::format("P{}-{}", 1 + i / 10, 1 + i % 10);
            const auto r =
                w.call("start", World::start_json(w.accounts.at(static_cast<std::size_t>(i)), socket, "time", 60));
            if (r.ok()) {
                sid[static_cast<std::size_t>(i)] = World::session_id_of(r.data_json);
                ++started;
                // Staggered starts, so that sessions end (and settle) all the time, not in waves.
                std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 100));
            }
        }
        std::this_thread::sleep_for(50ms);
    }

    // The disaster: the broker and every daemon killed -9 at once (the piles are in the field and go on).
    const auto disaster_ms = steady_ms();
    ::kill(w.broker().pid(), SIGKILL);
    w.sessiond->kill9();
    w.billingd->kill9();
    w.recorderd->kill9();
    stop_backups = true;
    backups.join();
    const auto live_newest = newest_write(w.dir() + "/pilehub.db");
    const auto live_audit = chaos::audit(w.dir() + "/pilehub.db");
    CHECK_MESSAGE(live_audit.ok(), live_audit.output);

    // The newest backup that had completed before the disaster (one still running then is not one).
    std::optional<Taken> latest;
    std::int64_t longest_backup_ms = 0;
    int failed_backups = 0;
    for (const auto& t : taken) {
        failed_backups += t.exit_code != 0;
        if (t.exit_code == 0 && t.finished <= disaster_ms)
            latest = t;
        if (t.exit_code == 0)
            longest_backup_ms = std::max(longest_backup_ms, t.finished - t.started);
    }
    CHECK(failed_backups == 0);
    REQUIRE_MESSAGE(latest.has_value(), "no backup completed before the disaster");
    REQUIRE(fs::exists(latest->dir + "/manifest.json"));

    // Restore into a fresh directory, audit it, start the stack on it.
    const auto fresh = w.dir() + "/restored";
    const auto r0 = steady_ms();
    const auto restore =
        test::run({kCtl, "--set", "data_dir=" + fresh, "restore", "--from", latest->dir, "--data-dir", fresh}, 120s);
    const auto restore_ms = steady_ms() - r0;
    REQUIRE_MESSAGE(restore.exit_code == 0, restore.output);
    const auto restored_audit = chaos::audit(fresh + "/pilehub.db");
    CHECK_MESSAGE(restored_audit.ok(), restored_audit.output);
    const auto restored_newest = newest_write(fresh + "/pilehub.db");
    const auto sessions_lost = w.number("SELECT count(*) FROM sessions") - [&] {
        db::Database d(fresh + "/pilehub.db");
        db::Statement q(d, "SELECT count(*) FROM sessions");
        REQUIRE(q.step());
        return q.int64(0);
    }();

    w.broker().restart();
    const auto scale = "sessiond.device_time_scale=1200";
    // Sessions the lost window ended are still open in the restored data, and their records (already
    // acknowledged to the piles) are gone: sessiond ends them from their last report once their pile
    // has shown the socket idle for idle_record_wait_s (120 s by default; 2 s here, to see it happen).
    Daemon sessiond("sessiond", w.broker(), fresh,
                    {"log.level=info", "sessiond.command_timeout_ms=10000", scale, "sessiond.idle_record_wait_s=2"});
    Daemon recorderd("recorderd", w.broker(), fresh, {"recorderd.batch_ms=100"});
    Daemon billingd("billingd", w.broker(), fresh, {"billingd.scan_period_s=1"});
    sessiond.start();
    recorderd.start();
    billingd.start();
    const auto rto_ms = steady_ms() - r0;

    // Serving again: a new session on the restored data starts, charges and settles.
    std::string fresh_sid;
    const auto until = steady_ms() + 20000;
    for (int i = 0; fresh_sid.empty() && steady_ms() < until; i = (i + 1) % 20) {
        const auto socket = fmt::format("P{}-{}", 1 + i / 10, 1 + i % 10);
        const auto r =
            w.call("start", World::start_json(w.accounts.at(static_cast<std::size_t>(i)), socket, "time", 60));
        if (r.ok())
            fresh_sid = World::session_id_of(r.data_json);
        else
            std::this_thread::sleep_for(100ms);
    }
    REQUIRE_MESSAGE(!fresh_sid.empty(), "the restored stack started no session\n" << tail(sessiond.log()));
    db::Database restored(fresh + "/pilehub.db");
    const auto settled = [&] {
        db::Statement q(restored, "SELECT count(*) FROM ledger WHERE idempotency_key = 'settle:' || ?1");
        q.bind(1, fresh_sid);
        return q.step() && q.int64(0) == 1;
    };
    const auto deadline = steady_ms() + 30000;
    while (!settled() && steady_ms() < deadline)
        std::this_thread::sleep_for(50ms);
    CHECK_MESSAGE(settled(), "the new session " << fresh_sid << " did not settle on the restored data\n"
                                                << tail(sessiond.log()) << tail(billingd.log()));
    // Every session of the restored data ends: settled by its record, or by the one sessiond makes up.
    const auto open_sessions = [&] {
        db::Statement q(restored, "SELECT count(*) FROM sessions WHERE state NOT IN ('completed', 'failed')");
        return q.step() ? q.int64(0) : -1;
    };
    const auto all_ended = steady_ms() + 30000;
    while (open_sessions() != 0 && steady_ms() < all_ended)
        std::this_thread::sleep_for(100ms);
    CHECK_MESSAGE(open_sessions() == 0, "sessions still open on the restored data\n" << tail(sessiond.log()));
    const auto after = chaos::audit(fresh + "/pilehub.db");
    CHECK_MESSAGE(after.ok(), after.output);

    const double rpo_s = static_cast<double>(live_newest - restored_newest) / 1000.0;
    const double rpo_bar_s = static_cast<double>(interval_ms + longest_backup_ms) / 1000.0;
    const double rto_s = static_cast<double>(rto_ms) / 1000.0;
    const double rto_bar_s = 30;
    std::cout << fmt::format("backup drill: {} sessions started, {} backups (longest {} ms), disaster at {:.1f} s, "
                             "restored {} in {} ms, stack ready after {} ms; audits: live {}, restored {}, after "
                             "serving {}\n",
                             started, taken.size(), longest_backup_ms, static_cast<double>(disaster_ms - t0) / 1000.0,
                             latest->dir, restore_ms, rto_ms, live_audit.violations, restored_audit.violations,
                             after.violations);
    CHECK(started > 0);
    CHECK(live_newest > 0);
    CHECK(chaos::report(
        {"#25 backup and restore drill",
         fmt::format(
             "RPO {:.2f} s (newest live write minus newest restored; backup every {} s, "
             "longest backup {} ms; {} of {} sessions lost (started after the backup); {} violations after restore)",
             rpo_s, interval_ms / 1000, longest_backup_ms, sessions_lost, started, restored_audit.violations),
         fmt::format("RPO <= backup interval + backup duration = {:.2f} s, 0 violations", rpo_bar_s),
         rpo_s >= 0 && rpo_s <= rpo_bar_s && restored_audit.ok()}));
    CHECK(chaos::report({"#25 backup and restore drill",
                         fmt::format("RTO {:.2f} s (restore with checks and audit {} ms, then 3 daemons ready; a new "
                                     "session settled: {})",
                                     rto_s, restore_ms, settled() ? "yes" : "no"),
                         fmt::format("RTO <= {:.0f} s and a new session settles", rto_bar_s),
                         rto_s <= rto_bar_s && settled()}));
}
