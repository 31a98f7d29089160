// A database held locked (issue 16, REVIEW-reliability §2.13 and risk #7): while riders start and stop
// sessions over HTTP and piles end sessions by themselves (their records resent until stored), another
// process holds `BEGIN IMMEDIATE` on the core database for longer than every program's busy_timeout.
// Nothing acknowledged may be lost: every start answered 202 and every session running before the lock
// ends exactly once with one settlement, the piles keep no unacknowledged record, the ledger audit is
// clean. Workers that give up exit 1 and are restarted (as systemd would). /health must turn 503 while
// the lock is held. Figures (ops::run): operations lost, /health detection time, time to recover after
// the lock is released.
#include "tests/chaos/ops_stack.hpp"

#include <optional>

using namespace pilehub;
using namespace pilehub::chaos;

TEST_CASE("chaos: the core database held locked past busy_timeout while starts, stops and records arrive") {
    const int sessions = scaled(6, 40); // running when the lock is taken
    const int during = scaled(4, 20);   // starts tried while it is held
    const auto sim_dir = test::make_temp_dir("pilehub-chaos-locked-sim");
    ops::Options o;
    o.piles = (sessions + during + 9) / 10;
    o.sim_dir = sim_dir;
    o.api_sets = {"db.busy_timeout_ms=1000", "pilehub-api.health.write_timeout_ms=300",
                  "pilehub-api.health.min_free_mb=1"};
    o.worker_sets = {"db.busy_timeout_ms=1000"};
    {
        ops::World w(o);
        std::optional<db::Database> blocker;
        ops::Fault f;
        f.name = "database held locked";
        f.held = "under the lock";
        f.hold_s = scaled(4, 15); // every busy_timeout is 1 s
        f.on = [&] {
            blocker.emplace(w.stack().dir() + "/pilehub.db");
            blocker->exec("BEGIN IMMEDIATE");
        };
        f.off = [&] {
            blocker->exec("ROLLBACK");
            blocker.reset();
        };
        f.check_health = [](const ops::Http& h) {
            CHECK_FALSE(h.boolean("checks.database_write.ok"));
            CHECK(h.str("checks.database_write.error").find("locked") != std::string::npos);
        };
        ops::run(w, sessions, during, f);
    }
    std::error_code ec;
    std::filesystem::remove_all(sim_dir, ec);
}
