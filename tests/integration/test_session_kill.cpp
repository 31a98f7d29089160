// sessiond end to end under kill -9: 20 sessions on two simulated piles while sessiond is killed
// (SIGKILL to its PID) at random points and restarted: no session is lost, none ends twice.
#include "tests/integration/sessions_world.hpp"

#include <future>
#include <iostream>
#include <random>

using namespace pilehub;
using namespace pilehub::test::sessions;

TEST_CASE("sessions: sessiond killed with kill -9 at random points in 20 sessions: none lost, none ended twice") {
    constexpr int kSessions = 20;
    // 60-minute time sessions at x600: each lasts 6 s, so kills land on starts, charging and records.
    World w(WorldOptions{"sessions-kill", 600, kSessions});
    const auto seed = static_cast<unsigned>(std::random_device{}());
    std::mt19937 rng(seed);
    std::cout << "kill -9 test: seed " << seed << "\n";
    auto pause = [&](int max_ms) { std::this_thread::sleep_for(std::chrono::milliseconds(rng() % (max_ms + 1))); };
    int kills = 0;
    auto kill_and_restart = [&] {
        w.sessiond->kill9();
        ++kills;
        pause(300);
        w.sessiond->start();
    };
    const auto t0 = monotonic_ms();

    std::vector<std::string> sids;
    for (int i = 0; i < kSessions; ++i) {
        const auto account = w.accounts.at(static_cast<std::size_t>(i));
        const auto socket = fmt::format("P{}-{}", 1 + i / 10, 1 + i % 10);
        std::string sid;
        for (int attempt = 0; attempt < 20 && sid.empty(); ++attempt) {
            // A third of the starts have sessiond killed under them: before the request lands, while
            // the session row is committed, or while start_port and its reply are on the way.
            const bool kill_during = attempt == 0 && rng() % 3 == 0;
            auto pending = std::async(std::launch::async, [&] {
                return w.call("start", World::start_json(account, socket, "time", 60), 1500ms);
            });
            if (kill_during) {
                pause(15);
                kill_and_restart();
            }
            const auto r = pending.get();
            if (r.ok()) {
                sid = World::session_id_of(r.data_json);
                break;
            }
            // No answer (killed mid-request) or refused because the request did run after all.
            sid = w.text("SELECT id FROM sessions WHERE account_id = ?1 ORDER BY created_at DESC LIMIT 1",
                         std::to_string(account));
            if (sid.empty()) {
                REQUIRE_MESSAGE((r.status == "timeout" || r.status == "expired"),
                                r.status << " " << r.code << " " << r.msg);
                std::this_thread::sleep_for(100ms);
            }
        }
        REQUIRE_MESSAGE(!sid.empty(), "session " << i << " never started\n" << w.logs());
        sids.push_back(sid);
        if (rng() % 2 == 0) {
            pause(400);
            kill_and_restart();
        }
    }
    // More kills while the last sessions run out and their records arrive.
    for (int k = 0; k < 6; ++k) {
        pause(900);
        kill_and_restart();
    }

    // Every session ends: committed record (then completed, with billingd) or failed.
    const std::string ended =
        w.has_billingd() ? "state IN ('completed', 'failed')" : "(record_msg_id IS NOT NULL OR state = 'failed')";
    const auto all_ended = [&] { return w.number("SELECT count(*) FROM sessions WHERE NOT " + ended) == 0; };
    REQUIRE_MESSAGE(w.eventually(all_ended, 60s), "sessions still open:\n" << w.logs(60));
    REQUIRE_MESSAGE(w.eventually([&] { return w.sim_pending_records() == 0; }, 20s),
                    "the piles still hold unacknowledged records\n"
                        << w.logs());

    const auto total = w.number("SELECT count(*) FROM sessions");
    CHECK(total >= kSessions);
    for (const auto &sid : sids)
        CHECK_MESSAGE(!w.state(sid).empty(), "session " << sid << " the rider was told about is missing");
    db::Statement q(w.db(), "SELECT id, state, record_msg_id IS NOT NULL FROM sessions");
    int failed = 0, completed = 0;
    while (q.step()) {
        const auto sid = q.text(0);
        const auto st = q.text(1);
        failed += st == "failed";
        completed += st == "completed";
        CHECK_MESSAGE(w.number("SELECT count(*) FROM session_events WHERE session_id = ?1 AND "
                               "(reason LIKE 'record:%' OR to_state = 'failed')",
                               sid) == 1,
                      "session ", sid, " (", st, ") did not end exactly once");
        CHECK_MESSAGE(
            w.number("SELECT count(*) FROM session_events WHERE session_id = ?1 AND to_state = 'completed'", sid) <= 1,
            sid);
        if (st != "failed")
            CHECK_MESSAGE(q.int64(2) == 1, "session ", sid, " ended without its record");
        if (st == "completed")
            CHECK_MESSAGE(w.number("SELECT count(*) FROM ledger WHERE idempotency_key = 'settle:' || ?1", sid) == 1,
                          sid);
    }
    CHECK_MESSAGE(failed == 0, failed, " session(s) failed\n", w.logs(60));
    if (w.has_billingd()) {
        CHECK(completed == total - failed);
        for (const auto &v : ledger::audit(w.db()))
            FAIL_CHECK(v.what);
    } else {
        MESSAGE("billingd is not built: checked up to the committed records");
    }
    std::cout << fmt::format("kill -9 test: {} sessions, {} kills of sessiond, {} completed, {} failed, {} ms\n", total,
                             kills, completed, failed, monotonic_ms() - t0);
}
