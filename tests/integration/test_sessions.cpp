// sessiond end to end: real Mosquitto, real pilehub-sim, real sessiond (and billingd when built),
// real SQLite files. See sessions_world.hpp for the world; test_session_suspend.cpp and
// test_session_kill.cpp hold the presence-loss and kill -9 cases.
#include "tests/integration/sessions_world.hpp"

#include <iostream>

using namespace pilehub;
using namespace pilehub::test::sessions;

TEST_CASE("sessions: start refusals over rpc, each with its CONTRACT B code") {
    World w(WorldOptions{"sessions-refusals"});
    const auto rich = w.accounts.at(0);
    const auto rich2 = w.accounts.at(1);
    // A socket the pile reports faulted.
    w.control("fault P1 6 relay_welded");
    REQUIRE(w.inbox.wait_for(topics::conn_state("P1", 6), "relay_welded", 5s).has_value());
    // A live session holds P1-1 and is rich's one app session.
    const auto held = w.start(rich, "P1-1");
    REQUIRE(w.wait_state(held, "charging"));

    struct Case {
        const char *what;
        std::int64_t account;
        const char *socket;
        const char *mode;
        const char *code;
    };
    const Case cases[] = {
        {"no such socket", rich2, "P1-11", "power", "unknown_socket"},
        {"no such device", rich2, "PX-1", "power", "unknown_socket"},
        {"a live session holds the socket", rich2, "P1-1", "power", "socket_busy"},
        {"one app session per account", rich, "P1-2", "power", "session_limit"},
        {"the pile is offline", rich2, "P3-1", "power", "device_offline"},
        {"balance + bonus below the minimum", w.poor, "P1-3", "power", "balance_too_low"},
        {"frozen account", w.frozen, "P1-3", "power", "account_frozen"},
        {"the pile reports the socket faulted", rich2, "P1-6", "power", "socket_faulted"},
        {"a mode the tariff does not offer", rich2, "P1-3", "energy", "invalid_mode"},
    };
    for (const auto &c : cases) {
        const auto t0 = monotonic_ms();
        const auto r = w.call("start", World::start_json(c.account, c.socket, c.mode, std::nullopt));
        const auto ms = monotonic_ms() - t0;
        CHECK_MESSAGE(r.status == "rejected", c.what, ": ", r.status, " ", r.code, " ", r.msg);
        CHECK_MESSAGE(r.code == c.code, c.what, ": ", r.status, " ", r.code, " ", r.msg);
        CHECK_MESSAGE(ms < 1000, c.what, ": answered in ", ms, " ms");
    }
    // Nothing was created by a refusal, and nothing was sent to a pile for one.
    CHECK(w.number("SELECT count(*) FROM sessions") == 1);
    CHECK_FALSE(w.inbox.wait_for(topics::cmd("P1", "start_port"), R"("n":3)", 200ms).has_value());
}

TEST_CASE(
    "sessions: start → start_port at the pile → ok → charging; rider stop → record committed, then acknowledged") {
    World w(WorldOptions{"sessions-start-stop"});
    const auto account = w.accounts.at(0);

    // Warm-up start on another account so the measured one does not pay for first-use costs.
    const auto warm = w.start(w.accounts.at(1), "P2-1");
    REQUIRE(w.wait_state(warm, "charging"));

    const auto t0 = monotonic_ms();
    const auto r = w.call("start", World::start_json(account, "P1-1", "power", std::nullopt));
    const auto t_reply = monotonic_ms();
    REQUIRE_MESSAGE(r.ok(), r.code << " " << r.msg << "\n" << w.logs());
    CHECK(r.data_json.find(R"("state":"starting")") != std::string::npos);
    const auto sid = World::session_id_of(r.data_json);
    const auto charging = w.inbox.wait_for(topics::session_state(sid), R"("state":"charging")", 5s);
    const auto t_charging = monotonic_ms();
    REQUIRE_MESSAGE(charging.has_value(), w.logs());
    std::cout << fmt::format("sessiond start round trip: rpc answered in {} ms, session charging {} ms after the "
                             "request (rpc → start_port → pile → cmd-reply → charging)\n",
                             t_reply - t0, t_charging - t0);
    CHECK(t_reply - t0 < 1000);

    // What the pile saw: start_port with the session's rid and an exp; its ok.
    const auto cmd = w.inbox.wait_for(topics::cmd("P1", "start_port"), sid, 1s);
    REQUIRE(cmd.has_value());
    CHECK(cmd->payload.find(fmt::format(R"("rid":"{}.start")", sid)) != std::string::npos);
    CHECK(cmd->payload.find(R"("exp":)") != std::string::npos);
    CHECK(w.inbox.wait_for(topics::cmd_reply("P1", "start_port"), fmt::format(R"("rid":"{}.start")", sid), 1s)
              .has_value());
    CHECK(w.state(sid) == "charging");
    CHECK(w.text("SELECT started_at IS NOT NULL FROM sessions WHERE id = ?1", sid) == "1");

    // The rider stops: stop_port, the pile stops and sends its record.
    const auto stop = w.call("stop", fmt::format(R"({{"session_id":"{}","reason":"user_stop","actor":"rider"}})", sid));
    REQUIRE_MESSAGE(stop.ok(), stop.code << " " << stop.msg);
    REQUIRE(w.inbox.wait_for(topics::cmd("P1", "stop_port"), fmt::format(R"("rid":"{}.stop")", sid), 2s).has_value());
    const auto rec = w.inbox.wait_for(topics::req("P1", "session_record"), sid, 5s);
    REQUIRE_MESSAGE(rec.has_value(), w.logs());
    const auto rec_env = payloads::peek_envelope(rec->payload);
    REQUIRE(rec_env.ok());
    const auto ack =
        w.inbox.wait_for(topics::req_reply("P1", "session_record"), fmt::format(R"("rid":"{}")", *rec_env->rid), 5s);
    REQUIRE_MESSAGE(ack.has_value(), w.logs());
    CHECK(ack->payload.find(R"("status":"ok")") != std::string::npos);
    // The acknowledgement follows the commit: by the time the pile has it, the row holds the record.
    CHECK(w.text("SELECT record_msg_id FROM sessions WHERE id = ?1", sid) == *rec_env->id);
    CHECK(w.text("SELECT stop_reason FROM sessions WHERE id = ?1", sid) == "remote_stop");
    CHECK(w.number("SELECT ended_at IS NOT NULL FROM sessions WHERE id = ?1", sid) == 1);
    CHECK(w.number("SELECT count(*) FROM session_events WHERE session_id = ?1 AND reason LIKE 'record:%'", sid) == 1);
    CHECK(w.inbox.wait_for(topics::session_state(sid), R"("record":true)", 2s).has_value());

    if (w.has_billingd()) {
        REQUIRE_MESSAGE(w.wait_state(sid, "completed", 15s), w.logs());
        CHECK(w.number("SELECT count(*) FROM ledger WHERE idempotency_key = 'settle:' || ?1", sid) == 1);
        CHECK(w.number("SELECT cost_fen IS NOT NULL FROM sessions WHERE id = ?1", sid) == 1);
    } else {
        MESSAGE("billingd is not built: checked up to the committed record");
        CHECK(w.state(sid) == "stopping");
    }
}

TEST_CASE("sessions: a card swipe starts a card session; one app plus one card session per account") {
    World w(WorldOptions{"sessions-card"});
    const auto holder = w.accounts.at(0); // holds CARD0001

    w.control("swipe P1 4 CARD0001");
    const auto accepted = w.inbox.wait_for(topics::req_reply("P1", "authorize"), R"("decision":"accept")", 5s);
    REQUIRE_MESSAGE(accepted.has_value(), w.logs());
    const auto card_sid = w.text("SELECT id FROM sessions WHERE method = 'card' AND device_id = 'P1' AND n = 4");
    REQUIRE_FALSE(card_sid.empty());
    CHECK(accepted->payload.find(card_sid) != std::string::npos);
    REQUIRE_MESSAGE(w.wait_state(card_sid, "charging"), w.logs());
    CHECK(w.text("SELECT card_no FROM sessions WHERE id = ?1", card_sid) == "CARD0001");
    CHECK(w.number("SELECT account_id FROM sessions WHERE id = ?1", card_sid) == holder);

    // One app session beside the card session is allowed...
    const auto app = w.start(holder, "P1-2");
    REQUIRE(w.wait_state(app, "charging"));
    // ...a second of either kind is not.
    const auto again = w.call("start", World::start_json(holder, "P1-3", "power", std::nullopt));
    CHECK(again.code == "session_limit");
    w.control("swipe P1 5 CARD0001");
    const auto refused = w.inbox.wait_for(topics::req_reply("P1", "authorize"), R"("reason":"session_limit")", 5s);
    CHECK_MESSAGE(refused.has_value(), w.logs());
    CHECK(w.number("SELECT count(*) FROM sessions WHERE account_id = ?1", std::to_string(holder)) == 2);

    // The same card at its own socket ends its session; the record is committed and acknowledged.
    w.control("swipe P1 4 CARD0001");
    REQUIRE_MESSAGE(
        w.eventually([&] { return !w.text("SELECT record_msg_id FROM sessions WHERE id = ?1", card_sid).empty(); },
                     10s),
        w.logs());
    CHECK(w.text("SELECT stop_reason FROM sessions WHERE id = ?1", card_sid) == "user_stop");
    if (w.has_billingd()) {
        REQUIRE_MESSAGE(w.wait_state(card_sid, "completed", 15s), w.logs());
        CHECK(w.number("SELECT count(*) FROM ledger WHERE idempotency_key = 'settle:' || ?1", card_sid) == 1);
    }
}
