// The worker end to end without a broker: real SQLite, ManualClock, a fake MQTT client.
#include "tests/unit/sessiond/sessiond_fixture.hpp"

#include "common/worker_loop.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using namespace pilehub::sessiond;
using pilehub::test::World;
using St = payloads::EbikeSocketStatus;
using RS = payloads::ReplyStatus;

TEST_CASE("sessiond worker: a start sends start_port with the session's rid and exp; ok makes it charging") {
    World w;
    w.presence("P1", true, 1);
    const auto t0 = w.clock.now_ms();
    const auto sid = w.start(w.rich, "P1-1", "time", 60);
    CHECK(w.state(sid) == State::Starting);

    const auto cmds = w.mq.on(topics::cmd("P1", "start_port"));
    REQUIRE(cmds.size() == 1);
    const auto cmd = payloads::decode<payloads::EbikeStartPort>(cmds[0].payload);
    REQUIRE_MESSAGE(cmd.ok(), cmds[0].payload);
    CHECK(cmd->env.rid == sid + ".start");
    CHECK(cmd->env.exp == t0 + 10'000);
    CHECK(cmd->data.n == 1);
    CHECK(cmd->data.sid == sid);
    CHECK(cmd->data.limit == payloads::ChargeLimit::time(60));
    CHECK(w.row(sid).cmd_rid == sid + ".start");

    w.clock.advance_ms(150);
    w.cmd_reply("P1", "start_port", sid + ".start");
    const auto row = w.row(sid);
    CHECK(row.state == State::Charging);
    CHECK_FALSE(row.cmd_rid.has_value());
    CHECK(row.started_at == t0 + 150);
    const auto states = w.state_messages(sid);
    REQUIRE(states.size() == 2);
    CHECK(states[0].find(R"("state":"starting","prev":null)") != std::string::npos);
    CHECK(states[1].find(R"("state":"charging","prev":"starting")") != std::string::npos);
    CHECK(states[1].find(R"("record":false)") != std::string::npos);
    CHECK(w.events(sid) == 2);
}

TEST_CASE(
    "sessiond worker: a start the pile does not confirm fails at exp + grace, by the clock, and charges nothing") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.start(w.rich, "P1-1");
    w.clock.advance_ms(11'999);
    w.worker->tick();
    CHECK(w.state(sid) == State::Starting);
    w.clock.advance_ms(1);
    w.worker->tick();
    const auto row = w.row(sid);
    CHECK(row.state == State::Failed);
    CHECK(row.failure.value_or("").find(sid + ".start") != std::string::npos);
    CHECK(row.ended_at.has_value());
    CHECK_FALSE(row.record_msg_id.has_value());

    // The start was never retried with a new rid.
    const auto starts = w.commands("P1", "start_port");
    REQUIRE(starts.size() == 1);

    // A late ok changes nothing but tells the pile to stop what it should not run.
    w.cmd_reply("P1", "start_port", sid + ".start");
    CHECK(w.state(sid) == State::Failed);
    const auto stops = w.commands("P1", "stop_port");
    REQUIRE(stops.size() == 1);
    CHECK(stops[0].rid == sid + ".stop");
    // ...and only once.
    w.conn("P1", 1, St::Charging, sid);
    CHECK(w.commands("P1", "stop_port").size() == 1);
    // Its record is acknowledged and ignored: nothing is charged for a failed start.
    CHECK(w.record("P1", 1, sid, "rec-late") == "ok");
    CHECK_FALSE(w.row(sid).record_msg_id.has_value());
    CHECK(w.state(sid) == State::Failed);
}

TEST_CASE("sessiond worker: a refused start_port leaves the session failed") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.start(w.rich, "P1-1");
    w.cmd_reply("P1", "start_port", sid + ".start", RS::Busy, ErrorCode::SocketBusy);
    CHECK(w.state(sid) == State::Failed);
    CHECK(w.row(sid).failure.value_or("").find("socket_busy") != std::string::npos);
    // The socket and the account are free again.
    CHECK(w.start(w.rich, "P1-1") != sid);
}

TEST_CASE("sessiond worker: start refusals, each with its CONTRACT B code") {
    World w;
    w.presence("P1", true, 1);
    w.presence("P2", false, 1, "lwt");
    w.conn("P1", 2, St::Charging, std::string("SOMEONE"));
    w.conn("P1", 6, St::Fault, std::nullopt, {"relay_welded"});
    w.conn("P1", 8, St::Disabled);
    w.conn("P1", 9, St::Idle, std::nullopt, {"over_temp"});
    db::Statement(*w.db, "UPDATE sockets SET enabled = 0 WHERE device_id = 'P1' AND n = 10").run();
    db::Statement f(*w.db, "INSERT INTO fault_records (device_id, n, code, opened_at) VALUES ('P1', 7, 'leakage', 0)");
    f.run();
    w.start(w.rich, "P1-3"); // holds P1-3 and is rich's one app session

    struct Case {
        const char* what;
        std::int64_t account;
        const char* socket;
        const char* mode;
        const char* code;
    };
    const Case cases[] = {
        {"no such device", w.rich2, "P9-1", "power", "unknown_socket"},
        {"no such socket", w.rich2, "P1-11", "power", "unknown_socket"},
        {"not a socket code", w.rich2, "P1", "power", "unknown_socket"},
        {"the pile reports the socket in use", w.rich2, "P1-2", "power", "socket_busy"},
        {"a live session holds the socket", w.rich2, "P1-3", "power", "socket_busy"},
        {"the account has its app session", w.rich, "P1-4", "power", "session_limit"},
        {"the pile is offline", w.rich2, "P2-1", "power", "device_offline"},
        {"balance + bonus below the minimum", w.poor, "P1-5", "power", "balance_too_low"},
        {"frozen account", w.frozen, "P1-5", "power", "account_frozen"},
        {"the pile reports a fault", w.rich2, "P1-6", "power", "socket_faulted"},
        {"an open fault record", w.rich2, "P1-7", "power", "socket_faulted"},
        {"an idle socket listing fault words", w.rich2, "P1-9", "power", "socket_faulted"},
        // What riders see as `unavailable` (sockets::rider_word) is refused as not in service.
        {"the pile took the socket out of service", w.rich2, "P1-8", "power", "unknown_socket"},
        {"the operator disabled the socket", w.rich2, "P1-10", "power", "unknown_socket"},
        {"mode not in the tariff", w.rich2, "P1-5", "energy", "invalid_mode"},
    };
    for (const auto& c : cases) {
        const auto r = w.rpc(
            "start", fmt::format(R"({{"account_id":{},"socket":"{}","mode":"{}"}})", c.account, c.socket, c.mode));
        CHECK_MESSAGE(r.status == "rejected", c.what, ": ", r.payload);
        CHECK_MESSAGE(r.code == c.code, c.what, ": ", r.payload);
    }
    const auto bad_minutes =
        w.rpc("start", fmt::format(R"({{"account_id":{},"socket":"P1-5","mode":"time","minutes":90}})", w.rich2));
    CHECK(bad_minutes.code == "invalid_mode");
    const auto no_minutes =
        w.rpc("start", fmt::format(R"({{"account_id":{},"socket":"P1-5","mode":"time"}})", w.rich2));
    CHECK(no_minutes.code == "invalid_mode");
    // A request outside svc::StartRequest (a mode that is no mode, a member it does not have) is
    // refused by its codec before any check runs (the API maps a rider's bad mode to invalid_mode).
    for (const auto* data : {R"({{"account_id":{},"socket":"P1-5","mode":"warp"}})",
                             R"({{"account_id":{},"socket":"P1-5","mode":"power","minutez":5}})",
                             R"({{"account_id":{},"socket":"P1-5","mode":"power","method":"card"}})"}) {
        const auto r = w.rpc("start", fmt::format(fmt::runtime(data), w.rich2));
        CHECK_MESSAGE(r.status == "invalid", r.payload);
        CHECK_MESSAGE(r.code == "invalid_request", r.payload);
    }
    // Nothing was created by any refusal.
    CHECK(w.count("SELECT count(*) FROM sessions") == 1);
}

TEST_CASE("sessiond worker: an autostopd stop ends with autostopd's reason although the pile says remote_stop") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.start(w.rich, "P1-1");
    w.cmd_reply("P1", "start_port", sid + ".start");
    const auto stop =
        w.rpc("stop", fmt::format(R"({{"session_id":"{}","reason":"no_load","actor":"autostopd"}})", sid));
    CHECK(stop.status == "ok");
    CHECK(w.row(sid).stop_requested == "no_load");
    CHECK(w.record("P1", 1, sid, "rec-1", 0, 600) == "ok"); // the pile: remote_stop
    const auto row = w.row(sid);
    CHECK(row.stop_reason == "no_load");                        // so billingd waives it (BILLING.md §2)
    CHECK(w.events(sid, "reason = 'record:remote_stop'") == 1); // the pile's own word stays in the history
}

TEST_CASE(
    "sessiond worker: rider stop → stop_port → record committed, then acknowledged; a resent record changes nothing") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.start(w.rich, "P1-1");
    w.cmd_reply("P1", "start_port", sid + ".start");
    const auto stop = w.rpc("stop", fmt::format(R"({{"session_id":"{}","reason":"user_stop","actor":"rider"}})", sid));
    CHECK(stop.status == "ok");
    CHECK(stop.data_json.find(R"("changed":true)") != std::string::npos);
    CHECK(w.state(sid) == State::Stopping);
    const auto stops = w.commands("P1", "stop_port");
    REQUIRE(stops.size() == 1);
    CHECK(stops[0].rid == sid + ".stop");
    CHECK(w.row(sid).stop_requested == "user_stop");
    w.cmd_reply("P1", "stop_port", sid + ".stop");
    CHECK_FALSE(w.row(sid).cmd_rid.has_value());

    w.clock.advance_ms(600'000); // the ten minutes the record reports
    CHECK(w.record("P1", 1, sid, "rec-1", 120, 600) == "ok");
    auto row = w.row(sid);
    CHECK(row.state == State::Stopping);
    CHECK(row.record_msg_id == "rec-1");
    CHECK(row.energy_wh == 120);
    CHECK(row.duration_s == 600);
    CHECK(row.max_power_w == 180);
    CHECK(row.stop_reason == "remote_stop");
    CHECK(row.ended_at == w.clock.now_ms());
    CHECK(w.events(sid, "reason LIKE 'record:%'") == 1);
    const auto states = w.state_messages(sid);
    CHECK(states.back().find(R"("record":true)") != std::string::npos);

    const auto events_before = w.events(sid);
    CHECK(w.record("P1", 1, sid, "rec-1", 999, 999) == "ok"); // the same record again
    CHECK(w.record("P1", 1, sid, "rec-2", 999, 999) == "ok"); // another record for the same session
    CHECK(w.replies_to("P1", "session_record", "rec-1") == 2);
    row = w.row(sid);
    CHECK(row.record_msg_id == "rec-1");
    CHECK(row.energy_wh == 120);
    CHECK(w.events(sid) == events_before);
    // A second stop changes nothing either.
    const auto again = w.rpc("stop", fmt::format(R"({{"session_id":"{}"}})", sid));
    CHECK(again.status == "ok");
    CHECK(again.data_json.find(R"("changed":false)") != std::string::npos);
    CHECK(w.commands("P1", "stop_port").size() == 1);
}

TEST_CASE("sessiond worker: a record for a session this socket never ran is refused, never acknowledged") {
    World w;
    CHECK(w.record("P1", 1, "S-nobody", "rec-x") == "rejected");
}

TEST_CASE("sessiond worker: the pile leaves mid-session: suspended; back with its record: settling") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.start(w.rich, "P1-1");
    w.cmd_reply("P1", "start_port", sid + ".start");
    w.presence("P1", false, 1, "lwt");
    CHECK(w.state(sid) == State::Suspended);
    w.presence("P1", true, 2);
    w.presence("P1", false, 1, "lwt"); // a late Will of the earlier connection
    CHECK(w.state(sid) == State::Suspended);
    CHECK(w.record("P1", 1, sid, "rec-1", 300, 1800, payloads::EbikeStopReason::QuotaReached) == "ok");
    CHECK(w.state(sid) == State::Settling);
    CHECK(w.row(sid).stop_reason == "quota_reached");
    CHECK(w.record("P1", 1, sid, "rec-1", 300, 1800) == "ok");
    CHECK(w.state(sid) == State::Settling);
    CHECK(w.events(sid, "reason LIKE 'record:%'") == 1);
    // An operator's force-end of a settling session with its record changes nothing.
    const auto f = w.rpc("force_end", fmt::format(R"({{"session_id":"{}","operator":"alice"}})", sid));
    CHECK(f.status == "ok");
    CHECK(w.row(sid).record_msg_id == "rec-1");
}

TEST_CASE("sessiond worker: presenced's verdict suspends too, and a stale one (older boot) does not") {
    World w;
    w.presence("P1", true, 3);
    const auto sid = w.start(w.rich, "P1-1");
    w.cmd_reply("P1", "start_port", sid + ".start");
    w.deliver(topics::device_presence("P1"), R"({"v":1,"online":false,"boot":2,"since":1,"reason":"lwt"})", true);
    CHECK(w.state(sid) == State::Charging);
    w.deliver(topics::device_presence("P1"), R"({"v":1,"online":false,"boot":3,"since":1,"reason":"silent"})", true);
    CHECK(w.state(sid) == State::Suspended);
    CHECK(w.events(sid, "actor = 'presenced' AND to_state = 'suspended'") == 1);
}

TEST_CASE("sessiond worker: an operator force-ends a suspended session on its last report; the real record later "
          "changes nothing") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.start(w.rich, "P1-1");
    w.cmd_reply("P1", "start_port", sid + ".start");
    w.clock.advance_ms(60'000);
    w.report("P1", 1, sid, 55, 151.6);
    w.presence("P1", false, 1, "lwt");
    w.clock.advance_ms(600'000);
    const auto f = w.rpc("force_end", fmt::format(R"({{"session_id":"{}","operator":"alice"}})", sid));
    CHECK(f.status == "ok");
    auto row = w.row(sid);
    CHECK(row.state == State::Settling);
    CHECK(row.record_msg_id == "forced:" + sid);
    CHECK(row.energy_wh == 55);
    CHECK(row.max_power_w == 152);
    CHECK(row.stop_reason == "forced");
    CHECK(row.duration_s == 60);
    CHECK(w.events(sid, "actor = 'operator:alice' AND reason = 'forced'") == 1);

    w.presence("P1", true, 2);
    CHECK(w.record("P1", 1, sid, "rec-real", 70, 700) == "ok");
    row = w.row(sid);
    CHECK(row.record_msg_id == "forced:" + sid);
    CHECK(row.energy_wh == 55);

    // billingd completes it; then a force-end is refused.
    db::Statement q(*w.db, "UPDATE sessions SET state = 'completed', cost_fen = 0 WHERE id = ?1");
    q.bind(1, sid).run();
    const auto late = w.rpc("force_end", fmt::format(R"({{"session_id":"{}","operator":"alice"}})", sid));
    CHECK(late.status == "rejected");
    CHECK(late.code == "conflict");
    CHECK(w.rpc("force_end", R"({"session_id":"nope","operator":"alice"})").code == "not_found");
}

TEST_CASE("sessiond worker: a session ends exactly once whatever mix of stops, records and presence arrives") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.start(w.rich, "P1-1");
    w.cmd_reply("P1", "start_port", sid + ".start");
    w.rpc("stop", fmt::format(R"({{"session_id":"{}","reason":"user_stop","actor":"rider"}})", sid));
    w.rpc("stop", fmt::format(R"({{"session_id":"{}","reason":"full","actor":"autostopd"}})", sid));
    w.session_stopped("P1", 1, sid, 80, "ev-1");
    w.session_stopped("P1", 1, sid, 80, "ev-1");
    w.conn("P1", 1, St::Idle);
    w.cmd_reply("P1", "stop_port", sid + ".stop");
    w.cmd_reply("P1", "stop_port", sid + ".stop");
    CHECK(w.record("P1", 1, sid, "rec-1", 80, 300) == "ok");
    w.presence("P1", false, 1, "lwt");
    CHECK(w.record("P1", 1, sid, "rec-1", 80, 300) == "ok");
    w.rpc("force_end", fmt::format(R"({{"session_id":"{}","operator":"bob"}})", sid));
    w.presence("P1", true, 2);
    CHECK(w.record("P1", 1, sid, "rec-2", 90, 310) == "ok");
    w.clock.advance_ms(60'000);
    w.worker->tick();

    const auto row = w.row(sid);
    CHECK(row.state == State::Stopping);
    CHECK(row.record_msg_id == "rec-1");
    CHECK(row.energy_wh == 80);
    CHECK(row.stop_requested == "user_stop");
    CHECK(w.events(sid, "reason LIKE 'record:%'") == 1);
    CHECK(w.events(sid, "to_state = 'failed'") == 0);
    CHECK(w.events(sid, "to_state = 'stopping' AND from_state = 'charging'") == 1);
    CHECK(w.commands("P1", "stop_port").size() == 1);
}

TEST_CASE("sessiond worker: after a restart, open sessions resume: the command is resent with its rid and exp, and "
          "times out from cmd_exp") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.start(w.rich, "P1-1");
    const auto first = w.commands("P1", "start_port");
    REQUIRE(first.size() == 1);

    w.clock.advance_ms(3'000);
    w.restart_worker(); // as after kill -9: nothing in memory, everything in SQLite
    auto all = w.commands("P1", "start_port");
    REQUIRE(all.size() == 2);
    CHECK(all[1].rid == first[0].rid);
    CHECK(all[1].exp == first[0].exp);

    w.clock.advance_ms(8'000); // past exp
    w.restart_worker();
    CHECK(w.commands("P1", "start_port").size() == 2); // never send an expired command
    w.worker->tick();
    CHECK(w.state(sid) == State::Starting); // within the grace
    w.clock.advance_ms(1'000);
    w.worker->tick();
    CHECK(w.state(sid) == State::Failed);
}

TEST_CASE("sessiond worker: after a restart the retained conn state reconciles a session the pile ended meanwhile") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.start(w.rich, "P1-1");
    w.cmd_reply("P1", "start_port", sid + ".start");
    w.restart_worker();
    w.conn("P1", 1, St::Charging, sid); // retained, still ours: nothing changes
    CHECK(w.state(sid) == State::Charging);
    w.conn("P1", 1, St::Idle); // the pile stopped while we were away
    CHECK(w.state(sid) == State::Stopping);
    CHECK(w.record("P1", 1, sid, "rec-1") == "ok");
    CHECK(w.row(sid).record_msg_id == "rec-1");
    // A record committed before a crash is announced again on the next start, for billingd.
    w.mq.clear();
    w.restart_worker();
    const auto states = w.state_messages(sid);
    REQUIRE(states.size() == 1);
    CHECK(states[0].find(R"("reason":"resume")") != std::string::npos);
    CHECK(states[0].find(R"("record":true)") != std::string::npos);
}

TEST_CASE("sessiond worker: a card swipe is authorised once, starts a card session, and respects one app + one card") {
    World w;
    w.presence("P1", true, 1);
    const auto a = w.authorize("P1", 1, "CARD0001", "auth-1");
    REQUIRE(a.has_value());
    CHECK(a->decision == payloads::Decision::Accept);
    REQUIRE(a->sid.has_value());
    const auto sid = *a->sid;
    CHECK(sid == card_sid("P1", "auth-1"));
    CHECK(a->limit == payloads::ChargeLimit::full());
    CHECK(a->balance_fen == 1000);
    auto row = w.row(sid);
    CHECK(row.method == "card");
    CHECK(row.card_no == "CARD0001");
    CHECK(row.state == State::Starting);
    CHECK_FALSE(row.cmd_rid.has_value());
    CHECK(w.mq.on(topics::cmd("P1", "start_port")).empty()); // the pile starts a card session itself

    // The same request again (QoS 1 redelivery), also after a restart: the same answer, one session.
    CHECK(w.authorize("P1", 1, "CARD0001", "auth-1")->sid == sid);
    w.restart_worker();
    w.presence("P1", true, 1); // retained: arrives again on subscribe
    CHECK(w.authorize("P1", 1, "CARD0001", "auth-1")->sid == sid);
    CHECK(w.count("SELECT count(*) FROM sessions WHERE method = 'card'") == 1);

    payloads::EbikeSessionStarted started{1, sid, w.clock.now_ms()};
    w.event("P1", "session_started", started, "ev-s1");
    CHECK(w.state(sid) == State::Charging);

    // One app session beside it is fine; a second of either kind is not.
    const auto app = w.start(w.rich, "P1-2");
    CHECK(w.state(app) == State::Starting);
    const auto second = w.authorize("P1", 3, "CARD0001", "auth-2");
    REQUIRE(second.has_value());
    CHECK(second->decision == payloads::Decision::Reject);
    CHECK(second->reason == ErrorCode::SessionLimit);
    CHECK(w.rpc("start", fmt::format(R"({{"account_id":{},"socket":"P1-4","mode":"power"}})", w.rich)).code ==
          "session_limit");

    CHECK(w.authorize("P1", 5, "NOSUCHCARD", "auth-3")->reason == ErrorCode::UnknownCard);
    CHECK(w.authorize("P1", 5, "CARDLOST", "auth-4")->reason == ErrorCode::CardLost);
}

TEST_CASE("sessiond worker: an accepted card the pile never starts fails after the card time-out") {
    World w;
    w.presence("P1", true, 1);
    const auto a = w.authorize("P1", 1, "CARD0001", "auth-1");
    REQUIRE(a.has_value());
    const auto sid = *a->sid;
    w.clock.advance_ms(w.opts.card_start_timeout_ms + w.opts.reply_grace_ms);
    w.worker->tick();
    CHECK(w.state(sid) == State::Failed);
}

TEST_CASE("sessiond worker: device_command forwards the API's command and answers with the device's reply") {
    World w;
    w.presence("P1", true, 1);
    w.presence("P2", false, 1);
    const auto none = w.rpc("device_command", R"({"device_id":"P1","name":"query_port","data":{"n":3}})");
    CHECK(none.status == "none"); // answered when the device answers
    const auto cmds = w.commands("P1", "query_port");
    REQUIRE(cmds.size() == 1);
    REQUIRE(cmds[0].rid.has_value());
    CHECK(cmds[0].rid->rfind("dc-", 0) == 0);
    CHECK(cmds[0].exp == w.clock.now_ms() + 5'000); // bounded by the request's own exp
    w.cmd_reply("P1", "query_port", *cmds[0].rid, RS::Ok, std::nullopt, R"({"n":3,"st":"idle","since":0,"faults":[]})");
    const auto got = w.reply_for(fmt::format("t-{}", w.rid_counter));
    REQUIRE(got.has_value());
    CHECK(got->status == "ok");
    CHECK(got->data_json.find(R"("st":"idle")") != std::string::npos);

    CHECK(w.rpc("device_command", R"({"device_id":"P9","name":"reboot"})").code == "unknown_device");
    CHECK(w.rpc("device_command", R"({"device_id":"P2","name":"reboot"})").code == "device_offline");
    CHECK(w.rpc("device_command", R"({"device_id":"P1","name":"selfdestruct"})").status == "unsupported");
    CHECK(w.rpc("device_command", R"({"device_id":"P1","name":"reboot","data":{"when":"later"}})").status == "invalid");

    const auto pending = w.rpc("device_command", R"({"device_id":"P1","name":"query_device"})");
    CHECK(pending.status == "none");
    w.clock.advance_ms(12'001);
    w.worker->tick();
    const auto timed_out = w.reply_for(fmt::format("t-{}", w.rid_counter));
    REQUIRE(timed_out.has_value());
    CHECK(timed_out->status == "failed");
    CHECK(timed_out->code == "timeout");
}

TEST_CASE("sessiond worker: every device request gets an answer, even one the platform does not serve") {
    World w;
    auto e = w.env();
    e.id = "q-1";
    e.rid = "q-1";
    w.deliver(topics::req("P1", "start_session"),
              payloads::encode(payloads::Message<payloads::RawData>{e, payloads::RawData{}}));
    CHECK(w.last_reply_status("P1", "start_session", "q-1") == "unsupported");
}

TEST_CASE("sessiond worker: requests queued while it was down wait for the retained presence before they are checked") {
    World w;
    w.worker.reset();
    w.worker = std::make_unique<Worker>(*w.db, w.mq, w.clock, w.opts);
    w.worker->attach();
    w.worker->resume();
    // The broker delivers the queued request first (persistent session), the retained presence later.
    const auto early = w.rpc("start", fmt::format(R"({{"account_id":{},"socket":"P1-1","mode":"power"}})", w.rich));
    CHECK(early.status == "none");
    w.presence("P1", true, 1);
    w.worker->on_connected(); // after the last SUBACK
    const auto r = w.reply_for(fmt::format("t-{}", w.rid_counter));
    REQUIRE(r.has_value());
    CHECK_MESSAGE(r->status == "ok", r->payload);
}

TEST_CASE(
    "sessiond worker: a stop while starting: the pile's late ok is remembered, so a lost stop reply cannot fail it") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.start(w.rich, "P1-1");
    CHECK(w.rpc("stop", fmt::format(R"({{"session_id":"{}"}})", sid)).status == "ok");
    CHECK(w.state(sid) == State::Stopping);
    CHECK(w.row(sid).cmd_rid == sid + ".stop");
    w.cmd_reply("P1", "start_port", sid + ".start"); // the pile ran the start first
    CHECK(w.row(sid).started_at.has_value());
    w.clock.advance_ms(12'000); // the stop's reply never comes
    w.worker->tick();
    CHECK(w.state(sid) == State::Stopping);
    CHECK(w.record("P1", 1, sid, "rec-1") == "ok");
    CHECK(w.row(sid).record_msg_id == "rec-1");
}

TEST_CASE("sessiond worker: a stop while starting whose start the pile refused fails it, charging nothing") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.start(w.rich, "P1-1");
    w.rpc("stop", fmt::format(R"({{"session_id":"{}"}})", sid));
    w.cmd_reply("P1", "start_port", sid + ".start", RS::Busy, ErrorCode::SocketBusy);
    CHECK(w.state(sid) == State::Failed);
}

TEST_CASE("sessiond worker: a message whose commit the database refuses is rethrown uncommitted (the worker loop "
          "retries it or exits unacknowledged); delivered again it commits once") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.start(w.rich, "P1-1");
    w.cmd_reply("P1", "start_port", sid + ".start");
    REQUIRE(w.state(sid) == State::Charging);
    const auto events = w.events(sid);
    payloads::EbikeSessionStopped stopped;
    stopped.n = 1;
    stopped.sid = sid;
    stopped.reason = payloads::EbikeStopReason::Unplugged;
    stopped.energy_wh = 40;
    {
        db::Database blocker(w.dir.file("pilehub.db"));
        blocker.exec("BEGIN IMMEDIATE"); // another process holds the write lock
        w.db->exec("PRAGMA busy_timeout = 1");
        bool retryable = false;
        try {
            w.event("P1", "session_stopped", stopped, "ev-locked");
        } catch (const db::Error& e) {
            retryable = worker::retryable(e);
        }
        CHECK(retryable);
        blocker.exec("ROLLBACK");
    }
    CHECK(w.state(sid) == State::Charging);
    CHECK(w.events(sid) == events);
    CHECK(w.count("SELECT count(*) FROM processed_messages WHERE msg_id = 'ev-locked'") == 0);
    w.event("P1", "session_stopped", stopped, "ev-locked"); // the broker's redelivery
    w.event("P1", "session_stopped", stopped, "ev-locked");
    CHECK(w.state(sid) == State::Stopping);
    CHECK(w.events(sid) == events + 1);
}

TEST_CASE("sessiond worker: device reports are merged per session and written once per report_flush_ms; any other "
          "message writes them first") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.charging(w.rich, "P1-1");
    const auto before = w.row(sid);
    w.worker->tick(); // the first tick writes what is pending (nothing) and arms the next write
    w.report("P1", 1, sid, 10, 150.4);
    w.report("P1", 1, sid, 12, 230);
    w.report("P1", 1, sid, 11, 170); // energy never falls; power is the latest, max the highest
    const auto reported_at = w.clock.now_ms();
    // Not written yet: reports arrive by the thousand, the row is written once per report_flush_ms.
    CHECK(w.row(sid).energy_wh == before.energy_wh);
    CHECK(w.row(sid).last_report_at == before.last_report_at);
    w.clock.advance_ms(w.opts.report_flush_ms - 1);
    w.worker->tick();
    CHECK(w.row(sid).energy_wh == before.energy_wh);
    w.clock.advance_ms(1);
    w.worker->tick();
    auto row = w.row(sid);
    CHECK(row.energy_wh == 12);
    CHECK(row.last_power_w == 170);
    CHECK(row.max_power_w == 230);
    CHECK(row.last_report_at == reported_at);

    // Any other message (here the rider's stop) writes the pending figures before it is handled.
    w.clock.advance_ms(10);
    w.report("P1", 1, sid, 40, 250);
    w.stop(sid);
    row = w.row(sid);
    CHECK(row.energy_wh == 40);
    CHECK(row.max_power_w == 250);
    CHECK(row.last_report_at == w.clock.now_ms());
}

TEST_CASE("sessiond store: a later report folds into a pending one: energy and max power only grow") {
    Report a{"P1", "S1", 100, 200, 200, 1'000};
    a.merge({"P1", "S1", 90, 120, 120, 2'000}); // a stale energy reading, lower power
    CHECK(a.energy_wh == 100);
    CHECK(a.power_w == 120);
    CHECK(a.max_power_w == 200);
    CHECK(a.at == 2'000);
    a.merge({"P1", "S1", 130, 260, 260, 1'500}); // received out of order: time stays the latest
    CHECK(a.energy_wh == 130);
    CHECK(a.power_w == 260);
    CHECK(a.max_power_w == 260);
    CHECK(a.at == 2'000);
}
