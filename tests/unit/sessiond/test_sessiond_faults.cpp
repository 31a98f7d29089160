// sessiond under faults, the worker end to end without a broker (real SQLite, ManualClock, a fake MQTT
// client): stops re-sent until confirmed, the stop request time kept for the bill, sessions stuck in
// suspended or stopping settled on their last report, absurd records clamped, handled ids pruned.
#include "tests/unit/sessiond/sessiond_fixture.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using namespace pilehub::sessiond;
using pilehub::test::World;
using St = payloads::EbikeSocketStatus;
using RS = payloads::ReplyStatus;

namespace {

constexpr std::int64_t kHour = 3'600'000;

} // namespace

// ---- a stop is re-sent until the pile confirms it ----

TEST_CASE("sessiond faults: a stop the pile does not confirm is re-sent every stop_resend_ms, same rid, fresh exp, "
          "until stop_port ok") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.charging(w.rich, "P1-1");
    const auto t0 = w.clock.now_ms();
    CHECK(w.stop(sid).status == "ok");
    REQUIRE(w.commands("P1", "stop_port").size() == 1);

    w.clock.advance_ms(w.opts.stop_resend_ms - 1);
    w.worker->tick();
    CHECK(w.commands("P1", "stop_port").size() == 1);
    w.clock.advance_ms(1);
    w.worker->tick();
    auto stops = w.commands("P1", "stop_port");
    REQUIRE(stops.size() == 2);
    CHECK(stops[1].rid == sid + ".stop");
    CHECK(stops[1].exp == w.clock.now_ms() + w.opts.command_timeout_ms);
    // Long past the first command's exp + grace: still re-sent, never given up.
    w.clock.set(t0 + 60'000);
    w.worker->tick();
    w.clock.advance_ms(w.opts.stop_resend_ms);
    w.worker->tick();
    stops = w.commands("P1", "stop_port");
    REQUIRE(stops.size() == 4);
    CHECK(stops[3].rid == sid + ".stop");
    CHECK(stops[3].exp == w.clock.now_ms() + w.opts.command_timeout_ms);
    CHECK(w.state(sid) == State::Stopping);
    CHECK(w.row(sid).cmd_rid == sid + ".stop");

    // The pile confirms: nothing more is sent.
    w.cmd_reply("P1", "stop_port", sid + ".stop");
    CHECK_FALSE(w.row(sid).cmd_rid.has_value());
    w.clock.advance_ms(60'000);
    w.worker->tick();
    CHECK(w.commands("P1", "stop_port").size() == 4);
    CHECK(w.worker->counters().commands_resent == 3);
}

TEST_CASE("sessiond faults: a safety stop whose command is lost is re-sent until the pile shows the socket idle; the "
          "session ends with the safety reason") {
    for (const char* reason : {"over_temp", "socket_overload", "device_overload", "fault"}) {
        CAPTURE(reason);
        World w;
        w.presence("P1", true, 1);
        const auto sid = w.charging(w.rich, "P1-1");
        CHECK(w.stop(sid, reason, "autostopd").status == "ok");
        w.clock.advance_ms(w.opts.stop_resend_ms);
        w.worker->tick();
        REQUIRE(w.commands("P1", "stop_port").size() == 2); // the first one never arrived
        // The pile obeys the second one: its socket goes idle (its reply is lost too).
        w.conn("P1", 1, St::Idle);
        CHECK_FALSE(w.row(sid).cmd_rid.has_value());
        w.clock.advance_ms(w.opts.stop_resend_ms * 3);
        w.worker->tick();
        CHECK(w.commands("P1", "stop_port").size() == 2);
        w.clock.advance_ms(60'000);
        CHECK(w.record("P1", 1, sid, "rec-1", 30, 70) == "ok");
        CHECK(w.row(sid).stop_reason == reason);
    }
}

TEST_CASE("sessiond faults: evt/session_stopped confirms an outstanding stop") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.charging(w.rich, "P1-1");
    w.stop(sid);
    w.session_stopped("P1", 1, sid, 12, "ev-1");
    CHECK_FALSE(w.row(sid).cmd_rid.has_value());
    w.clock.advance_ms(w.opts.stop_resend_ms * 2);
    w.worker->tick();
    CHECK(w.commands("P1", "stop_port").size() == 1);
}

TEST_CASE("sessiond faults: a stop for a pile that is away is not queued again and again; the pile back gets it at "
          "once, and an expired copy does not end it") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.charging(w.rich, "P1-1", "time", 60);
    w.presence("P1", false, 1, "lwt");
    REQUIRE(w.state(sid) == State::Suspended);
    const auto asked = w.clock.now_ms();
    CHECK(w.stop(sid).status == "ok"); // the rider stops during the outage
    CHECK(w.row(sid).stop_requested == "user_stop");
    CHECK(w.row(sid).stop_requested_at == asked);
    REQUIRE(w.commands("P1", "stop_port").size() == 1); // queued by the broker, it will arrive expired
    for (int i = 0; i < 3; ++i) {
        w.clock.advance_ms(w.opts.stop_resend_ms);
        w.worker->tick();
    }
    CHECK(w.commands("P1", "stop_port").size() == 1); // nothing piles up at the broker meanwhile

    // The pile is back: the queued stop reached it expired, and the stop goes again at once.
    w.cmd_reply("P1", "stop_port", sid + ".stop", RS::Expired, ErrorCode::Expired);
    CHECK(w.row(sid).cmd_rid == sid + ".stop"); // an expired copy is no answer
    w.presence("P1", true, 2);
    auto stops = w.commands("P1", "stop_port");
    REQUIRE(stops.size() == 2);
    CHECK(stops[1].rid == sid + ".stop");
    CHECK(stops[1].exp == w.clock.now_ms() + w.opts.command_timeout_ms);
    w.cmd_reply("P1", "stop_port", sid + ".stop");
    CHECK_FALSE(w.row(sid).cmd_rid.has_value());
    CHECK(w.record("P1", 1, sid, "rec-1", 40, 60) == "ok");
    CHECK(w.state(sid) == State::Settling);
    CHECK(w.row(sid).stop_requested_at == asked); // the bill ends there (billingd)
}

TEST_CASE("sessiond faults: after a restart a stop still outstanding goes at the first connect, same rid, fresh exp") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.charging(w.rich, "P1-1");
    w.stop(sid);
    w.clock.advance_ms(30'000); // sessiond is down for 30 s: the first stop has expired
    w.restart_worker();
    w.presence("P1", true, 1); // retained: arrives again on subscribe
    auto stops = w.commands("P1", "stop_port");
    REQUIRE(stops.size() == 2);
    CHECK(stops[1].rid == sid + ".stop");
    CHECK(stops[1].exp == w.clock.now_ms() + w.opts.command_timeout_ms);
    w.clock.advance_ms(w.opts.stop_resend_ms);
    w.worker->tick();
    CHECK(w.commands("P1", "stop_port").size() == 3);
}

TEST_CASE("sessiond faults: the stop request time is written once, with the first stop") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.charging(w.rich, "P1-1");
    CHECK_FALSE(w.row(sid).stop_requested_at.has_value());
    const auto t = w.clock.now_ms();
    w.stop(sid, "no_load", "autostopd");
    w.clock.advance_ms(3'000);
    w.stop(sid, "user_stop", "rider");
    CHECK(w.row(sid).stop_requested == "no_load");
    CHECK(w.row(sid).stop_requested_at == t);
    // A pile that stops on its own leaves it empty.
    const auto other = w.charging(w.rich2, "P1-2");
    w.conn("P1", 2, St::Idle);
    CHECK(w.state(other) == State::Stopping);
    CHECK_FALSE(w.row(other).stop_requested_at.has_value());
}

// ---- sessions stuck in suspended or stopping ----

TEST_CASE("sessiond faults: a suspended session without news for suspend_timeout_s is settled on its last report "
          "as power_loss, with an incident, also across a restart") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.charging(w.rich, "P1-1");
    w.clock.advance_ms(600'000);
    w.report("P1", 1, sid, 55, 151.6);
    const auto last_report = w.clock.now_ms();
    w.clock.advance_ms(30'000);
    w.presence("P1", false, 1, "lwt");
    REQUIRE(w.state(sid) == State::Suspended);
    const auto suspended_at = w.clock.now_ms();

    w.clock.advance_ms(kHour);
    w.restart_worker(); // the deadline comes back from the row
    w.clock.set(suspended_at + w.opts.suspend_timeout_s * 1000 - 1);
    w.worker->tick();
    CHECK(w.state(sid) == State::Suspended);
    w.clock.advance_ms(1);
    w.worker->tick();
    const auto row = w.row(sid);
    CHECK(row.state == State::Settling); // billingd settles it and frees the socket and the rider
    CHECK(row.record_msg_id == "forced:" + sid);
    CHECK(row.stop_reason == "power_loss");
    CHECK(row.energy_wh == 55);
    CHECK(row.ended_at == last_report);
    CHECK(row.duration_s == 600);
    CHECK(w.events(sid, "from_state = 'suspended' AND to_state = 'settling' AND reason = 'suspend_timeout' AND "
                        "actor = 'sessiond'") == 1);
    const auto inc = w.incidents(sid);
    REQUIRE(inc.size() == 1);
    CHECK(inc[0].kind == "suspend_timeout");
    CHECK(inc[0].device_id == "P1");
    CHECK(inc[0].at == w.clock.now_ms());
    CHECK(w.state_messages(sid).back().find(R"("record":true)") != std::string::npos); // billingd's cue
    // The pile's real record, if it ever comes, changes nothing.
    w.presence("P1", true, 2);
    CHECK(w.record("P1", 1, sid, "rec-late", 900, 90'000) == "ok");
    CHECK(w.row(sid).record_msg_id == "forced:" + sid);
}

TEST_CASE("sessiond faults: a suspended pile that is back and still reporting the session is not given up on") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.charging(w.rich, "P1-1", "time", 120);
    w.presence("P1", false, 1, "lwt");
    const auto suspended_at = w.clock.now_ms();
    w.clock.advance_ms(60'000);
    w.presence("P1", true, 2); // back, still charging this session: it stays suspended until its record
    w.conn("P1", 1, St::Charging, sid);
    w.clock.set(suspended_at + w.opts.suspend_timeout_s * 1000 - 10'000);
    w.report("P1", 1, sid, 300, 180);
    w.clock.set(suspended_at + w.opts.suspend_timeout_s * 1000 + 1);
    w.worker->tick();
    CHECK(w.state(sid) == State::Suspended);
    CHECK(w.incidents(sid).empty());
    // Without news after that report, it is.
    w.clock.advance_ms(w.opts.suspend_timeout_s * 1000);
    w.worker->tick();
    CHECK(w.state(sid) == State::Settling);
    CHECK(w.row(sid).stop_reason == "power_loss");
    CHECK(w.row(sid).energy_wh == 300);
}

TEST_CASE("sessiond faults: a stopping session whose pile shows the socket idle and sends no record is settled on "
          "its last report after idle_record_wait_s") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.charging(w.rich, "P1-1");
    w.clock.advance_ms(300'000);
    w.report("P1", 1, sid, 20, 190);
    const auto last_report = w.clock.now_ms();
    w.stop(sid);
    w.conn("P1", 1, St::Idle); // stopped; the record is lost (the pile's flash was replaced)
    w.clock.advance_ms(w.opts.idle_record_wait_s * 1000 - 1);
    w.worker->tick();
    CHECK_FALSE(w.row(sid).record_msg_id.has_value());
    w.clock.advance_ms(1);
    w.worker->tick();
    const auto row = w.row(sid);
    CHECK(row.state == State::Stopping); // billingd completes it
    CHECK(row.record_msg_id == "forced:" + sid);
    CHECK(row.stop_reason == "remote_stop");
    CHECK(row.energy_wh == 20);
    CHECK(row.ended_at == last_report);
    const auto inc = w.incidents(sid);
    REQUIRE(inc.size() == 1);
    CHECK(inc[0].kind == "record_overdue");
}

TEST_CASE("sessiond faults: a record within the wait settles the session as usual, with no incident") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.charging(w.rich, "P1-1");
    w.clock.advance_ms(300'000);
    w.stop(sid);
    w.conn("P1", 1, St::Idle);
    w.clock.advance_ms(20'000);
    CHECK(w.record("P1", 1, sid, "rec-1", 25, 300) == "ok");
    w.clock.advance_ms(w.opts.idle_record_wait_s * 1000);
    w.worker->tick();
    CHECK(w.row(sid).record_msg_id == "rec-1");
    CHECK(w.incidents(sid).empty());
}

TEST_CASE("sessiond faults: a suspended pile back with the socket idle and no record is settled after the wait as "
          "power_loss") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.charging(w.rich, "P1-1");
    w.presence("P1", false, 1, "lwt");
    w.clock.advance_ms(kHour);
    w.presence("P1", true, 2); // rebooted, its record lost
    w.conn("P1", 1, St::Idle);
    w.clock.advance_ms(w.opts.idle_record_wait_s * 1000);
    w.worker->tick();
    CHECK(w.state(sid) == State::Settling);
    CHECK(w.row(sid).stop_reason == "power_loss");
    REQUIRE(w.incidents(sid).size() == 1);
    CHECK(w.incidents(sid)[0].kind == "record_overdue");
}

// ---- device values against platform time and rated power ----

TEST_CASE("sessiond faults: a record of 30 days for ten minutes of charging is clamped to what the platform saw and "
          "flagged") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.charging(w.rich, "P1-1");
    const auto started = w.row(sid).started_at.value();
    w.clock.advance_ms(600'000);
    w.report("P1", 1, sid, 30, 180);
    w.stop(sid);
    CHECK(w.record("P1", 1, sid, "rec-1", 10'000'000, 30 * 86'400) == "ok");
    const auto row = w.row(sid);
    CHECK(row.record_msg_id == "rec-1");
    CHECK(row.duration_s == (w.clock.now_ms() - started) / 1000);
    CHECK(row.energy_wh == 30);
    const auto inc = w.incidents(sid);
    REQUIRE(inc.size() == 1);
    CHECK(inc[0].kind == "record_clamped");
    CHECK(inc[0].detail.find("duration_s 2592000") != std::string::npos);
    CHECK(w.worker->counters().records_clamped == 1);
}

TEST_CASE("sessiond faults: the socket's rated power from the registry bounds a record's energy") {
    World w;
    db::Statement q(*w.db, "UPDATE sockets SET socket_overload_w = 300 WHERE device_id = 'P1' AND n = 1");
    q.run();
    w.presence("P1", true, 1);
    const auto sid = w.charging(w.rich, "P1-1");
    w.clock.advance_ms(kHour);
    w.report("P1", 1, sid, 280, 280);
    // 300 W for an hour and a minute is 305 Wh; 900 Wh cannot be.
    CHECK(w.record("P1", 1, sid, "rec-1", 900, 3600) == "ok");
    CHECK(w.row(sid).energy_wh == 280);
    CHECK(w.row(sid).duration_s == 3600);
    REQUIRE(w.incidents(sid).size() == 1);
    // A plausible record on another socket passes untouched.
    const auto ok = w.charging(w.rich2, "P1-2");
    w.clock.advance_ms(kHour);
    CHECK(w.record("P1", 2, ok, "rec-2", 250, 3600) == "ok");
    CHECK(w.row(ok).energy_wh == 250);
    CHECK(w.incidents(ok).empty());
}

TEST_CASE("sessiond faults: a record that could not be committed is not acknowledged, so the pile sends it again") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.charging(w.rich, "P1-1");
    w.clock.advance_ms(60'000);
    // Every attempt to commit a record finds the row changed (as if another writer kept moving it).
    db::Statement(*w.db, "CREATE TEMP TRIGGER moving BEFORE UPDATE OF record_msg_id ON sessions "
                         "WHEN NEW.record_msg_id IS NOT NULL BEGIN SELECT RAISE(IGNORE); END")
        .run();
    CHECK(w.record("P1", 1, sid, "rec-1", 3, 60) == "none");
    CHECK_FALSE(w.row(sid).record_msg_id.has_value());
    db::Statement(*w.db, "DROP TRIGGER moving").run();
    CHECK(w.record("P1", 1, sid, "rec-1", 3, 60) == "ok"); // the resend is committed and acknowledged
    CHECK(w.row(sid).record_msg_id == "rec-1");
}

// ---- handled message ids are pruned ----

TEST_CASE("sessiond faults: handled message ids are forgotten after processed_keep_days, others' are not") {
    World w;
    w.presence("P1", true, 1);
    w.authorize("P1", 5, "NOSUCHCARD", "auth-1"); // handled: recorded in processed_messages
    const auto sid = w.charging(w.rich, "P1-1");
    w.clock.advance_ms(60'000);
    w.record("P1", 1, sid, "rec-1", 3, 60);
    db::Statement other(*w.db, "INSERT INTO processed_messages (consumer, device_id, msg_id, processed_at) "
                               "VALUES ('recorderd', 'P1', 'x-1', 0)");
    other.run();
    const auto mine = "SELECT count(*) FROM processed_messages WHERE consumer = 'sessiond'";
    REQUIRE(w.count(mine) == 2);

    w.clock.advance_ms(w.opts.processed_keep_days * 24 * kHour - 60'001);
    w.worker->tick();
    CHECK(w.count(mine) == 2);     // 7 days minus a minute old: kept
    w.clock.advance_ms(2 * kHour); // the next prune, an hour later
    w.worker->tick();
    CHECK(w.count(mine) == 0);
    CHECK(w.count("SELECT count(*) FROM processed_messages WHERE consumer = 'recorderd'") == 1);
    CHECK(w.worker->counters().processed_pruned == 2);
    // A record resent after that is still acknowledged and changes nothing: the session has its record.
    CHECK(w.record("P1", 1, sid, "rec-1", 99, 99) == "ok");
    CHECK(w.row(sid).energy_wh == 3);
}

TEST_CASE("sessiond faults: a large backlog of handled ids is pruned in short batches over a few ticks") {
    World w;
    {
        db::Transaction tx(*w.db);
        db::Statement q(*w.db, "INSERT INTO processed_messages (consumer, device_id, msg_id, processed_at) "
                               "VALUES ('sessiond', 'P1', ?1, 0)");
        for (int i = 0; i < 25'000; ++i) {
            q.reset();
            q.bind(1, fmt::format("m-{}", i)).run();
        }
        tx.commit();
    }
    w.clock.advance_ms(w.opts.processed_keep_days * 24 * kHour + 1);
    w.worker->tick();
    const auto left = w.count("SELECT count(*) FROM processed_messages");
    CHECK(left > 0); // one tick does a bounded amount
    CHECK(left < 25'000);
    for (int i = 0; i < 5; ++i)
        w.worker->tick();
    CHECK(w.count("SELECT count(*) FROM processed_messages") == 0);
}
