// sessiond end to end: a pile drops mid-session (sim control `disconnect`): the session is suspended;
// the pile comes back and resends its record: settling (then completed by billingd, when built);
// the very same record delivered again is acknowledged and changes nothing.
#include "tests/integration/sessions_world.hpp"

#include "common/payloads.hpp"

#include <iostream>

using namespace pilehub;
using namespace pilehub::test::sessions;

namespace {

int acks_for(const pilehub::test::Inbox& inbox, const std::string& rid) {
    int n = 0;
    for (const auto& m : inbox.messages())
        if (m.topic == topics::req_reply("P1", "session_record") &&
            m.payload.find(fmt::format(R"("rid":"{}")", rid)) != std::string::npos &&
            m.payload.find(R"("status":"ok")") != std::string::npos)
            ++n;
    return n;
}

} // namespace

TEST_CASE("sessions: a pile dropping mid-session is suspended; back with its record it is settling; the record again "
          "changes nothing") {
    WorldOptions o{"sessions-suspend"};
    o.device_time_scale = 3000; // the hour runs out at speed 3000 below
    World w(o);
    const auto sid = w.start(w.accounts.at(0), "P1-1", "time", 60);
    REQUIRE_MESSAGE(w.wait_state(sid, "charging"), w.logs());

    // The network of P1 fails for 6 s: the broker publishes its Will.
    w.control("disconnect P1 6");
    REQUIRE_MESSAGE(w.wait_state(sid, "suspended", 5s), w.logs());
    CHECK(w.number("SELECT count(*) FROM session_events WHERE session_id = ?1 AND from_state = 'charging' "
                   "AND to_state = 'suspended' AND reason = 'offline:lwt'",
                   sid) == 1);
    // While it is away its hour runs out on the pile (time accelerated): the record waits on its flash.
    w.control("speed 3000");
    const auto rec = w.inbox.wait_for(topics::req("P1", "session_record"), sid, 15s);
    w.control("speed 10");
    REQUIRE_MESSAGE(rec.has_value(), w.logs());
    const auto env = payloads::peek_envelope(rec->payload);
    REQUIRE(env.ok());
    REQUIRE_MESSAGE(w.eventually([&] { return acks_for(w.inbox, *env->rid) >= 1; }, 5s), w.logs());
    CHECK(w.text("SELECT record_msg_id FROM sessions WHERE id = ?1", sid) == *env->id);
    CHECK(w.text("SELECT stop_reason FROM sessions WHERE id = ?1", sid) == "quota_reached");
    CHECK(w.number("SELECT count(*) FROM session_events WHERE session_id = ?1 AND from_state = 'suspended' "
                   "AND to_state = 'settling' AND reason LIKE 'record:%'",
                   sid) == 1);
    CHECK(w.inbox.wait_for(topics::session_state(sid), R"("state":"settling")", 2s).has_value());
    if (w.has_billingd()) {
        REQUIRE_MESSAGE(w.wait_state(sid, "completed", 15s), w.logs());
        CHECK(w.number("SELECT count(*) FROM ledger WHERE idempotency_key = 'settle:' || ?1", sid) == 1);
    } else {
        MESSAGE("billingd is not built: checked up to the committed record");
        CHECK(w.state(sid) == "settling");
    }

    // The same record once more (a QoS 1 redelivery, a pile that missed the answer), verbatim, from
    // the gateway user that may publish device uplinks.
    const auto acks = acks_for(w.inbox, *env->rid);
    const auto events = w.number("SELECT count(*) FROM session_events WHERE session_id = ?1", sid);
    const auto row = w.text("SELECT state || '|' || energy_wh || '|' || duration_s || '|' || record_msg_id || '|' || "
                            "ended_at || '|' || ifnull(cost_fen, '-') FROM sessions WHERE id = ?1",
                            sid);
    auto gw = pilehub::test::connect_client(w.broker().client_options("svc.pilehub-ocpp"));
    REQUIRE(gw->publish({rec->topic, rec->payload, 1, false}));
    REQUIRE_MESSAGE(w.eventually([&] { return acks_for(w.inbox, *env->rid) > acks; }, 5s), w.logs());
    std::this_thread::sleep_for(300ms);
    CHECK(w.number("SELECT count(*) FROM session_events WHERE session_id = ?1", sid) == events);
    CHECK(w.text("SELECT state || '|' || energy_wh || '|' || duration_s || '|' || record_msg_id || '|' || "
                 "ended_at || '|' || ifnull(cost_fen, '-') FROM sessions WHERE id = ?1",
                 sid) == row);
    CHECK(w.number("SELECT count(*) FROM ledger WHERE idempotency_key = 'settle:' || ?1", sid) <= 1);
    gw->stop();
}
