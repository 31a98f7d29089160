// A failed handler never acknowledges (REVIEW-reliability §2.5, risk #6): another process holds the
// core database locked past sessiond's busy_timeout while the pile reports a session's end. sessiond
// retries with back-off (a short lock passes), or exits with code 1 without returning to Paho (a
// long one), so the broker delivers the pile's messages again to its persistent session; the test
// restarts it as a supervisor would, and the session ends exactly once.
#include "tests/integration/sessions_world.hpp"

using namespace pilehub;
using namespace pilehub::test::sessions;

namespace {

/// Transitions of `sid` into each state (a record committed while stopping is stopping → stopping,
/// not a second entry): every one happens at most once, and the session completes once.
void check_ended_once(World& w, const std::string& sid) {
    for (const char* to : {"stopping", "settling", "completed"}) {
        const auto n = w.number("SELECT count(*) FROM session_events WHERE session_id = ?1 AND to_state = '" +
                                    std::string(to) + "' AND from_state IS NOT '" + std::string(to) + "'",
                                sid);
        CHECK_MESSAGE(n <= 1, sid << " entered " << std::string(to) << " " << n << " times");
    }
    CHECK(w.number("SELECT count(*) FROM session_events WHERE session_id = ?1 AND to_state = 'completed'", sid) == 1);
    CHECK(w.number("SELECT count(*) FROM ledger WHERE idempotency_key = 'settle:' || ?1", sid) == 1);
    CHECK(w.number("SELECT count(*) FROM settlements WHERE session_id = ?1", sid) == 1);
}

/// The `id` of the pile's evt/session_stopped for `sid` (the test reads every device topic).
std::string stopped_event_id(World& w, const std::string& sid) {
    const auto m = w.inbox.wait_for(topics::evt("P1", "session_stopped"), sid, 10s);
    REQUIRE_MESSAGE(m.has_value(), "the pile never reported " << sid << " stopped\n" << w.logs());
    const auto env = payloads::peek_envelope(m->payload);
    REQUIRE(env.ok());
    REQUIRE(env->id.has_value());
    return *env->id;
}

} // namespace

TEST_CASE("sessions: evt/session_stopped during a database lock past busy_timeout is retried, or sessiond exits "
          "unacknowledged and the redelivery ends the session once") {
    WorldOptions o;
    o.name = "locked-db";
    o.sessiond_sets = {"db.busy_timeout_ms=200"};
    World w(o);
    REQUIRE(w.has_billingd());
    const auto core = w.dir() + "/pilehub.db";

    // 1. A lock shorter than the retries: sessiond waits it out and commits; it does not exit.
    const auto a = w.start(w.accounts.at(0), "P1-3", "power");
    REQUIRE_MESSAGE(w.wait_state(a, "charging", 10s), w.logs());
    {
        db::Database blocker(core);
        blocker.exec("BEGIN IMMEDIATE");
        w.control("unplug P1 3");
        const auto id = stopped_event_id(w, a);
        CHECK(w.eventually([&] { return w.sessiond->log().find("trying again in") != std::string::npos; }, 10s));
        std::this_thread::sleep_for(1s);
        CHECK(w.state(a) == "charging"); // nothing committed under the lock
        blocker.exec("ROLLBACK");
        REQUIRE_MESSAGE(w.wait_state(a, "completed", 30s), w.logs());
        CHECK(w.number("SELECT count(*) FROM processed_messages WHERE device_id = 'P1' AND msg_id = ?1", id) >= 1);
    }
    CHECK(w.sessiond->running());
    check_ended_once(w, a);

    // 2. A lock held past every retry: sessiond gives up and exits 1 inside Paho's callback, so the
    // message it could not commit is never acknowledged.
    const auto b = w.start(w.accounts.at(1), "P1-4", "power");
    REQUIRE_MESSAGE(w.wait_state(b, "charging", 10s), w.logs());
    std::string first_run;
    std::string id;
    {
        db::Database blocker(core);
        blocker.exec("BEGIN IMMEDIATE");
        w.control("unplug P1 4");
        id = stopped_event_id(w, b);
        REQUIRE_MESSAGE(w.eventually([&] { return !w.sessiond->running(); }, 40s), w.logs());
        CHECK(w.sessiond->stop() == 1);
        first_run = w.sessiond->log();
        CHECK(first_run.find("still fails after") != std::string::npos);
        CHECK(w.state(b) == "charging");
        CHECK(w.number("SELECT count(*) FROM processed_messages WHERE device_id = 'P1' AND msg_id = ?1", id) == 0);
        blocker.exec("ROLLBACK");
    }
    // The supervisor starts it again; the broker redelivers what was not acknowledged.
    w.sessiond->start();
    REQUIRE_MESSAGE(w.wait_state(b, "completed", 30s), first_run << "\n--- after the restart ---\n" << w.logs());
    CHECK(w.number("SELECT count(*) FROM processed_messages WHERE device_id = 'P1' AND msg_id = ?1", id) >= 1);
    check_ended_once(w, b);
    const auto violations = ledger::audit(w.db());
    for (const auto& v : violations)
        MESSAGE("audit: " << v.what);
    CHECK(violations.empty());
}
