// sessiond under faults, end to end: a real Mosquitto, the real pilehub-sim at real time (speed 1, so
// a record's duration is wall time), the real sessiond and billingd (sessions_world.hpp).
// (a) a rider's stop during a 15 s pile outage reaches the pile within 5 s of its return, and the bill
//     ends at the stop request; (b) a safety stop whose first stop_port the pile loses is re-sent and
//     the socket stops; (c) a suspended session is settled after a shortened suspend_timeout_s as
//     power_loss, and the socket and the rider are free again.
#include "tests/integration/sessions_world.hpp"
#include "tests/support/json_path.hpp"

#include <iostream>

using namespace pilehub;
using namespace pilehub::test::sessions;

namespace {

using Steady = std::chrono::steady_clock;

std::int64_t ms_between(Steady::time_point a, Steady::time_point b) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

/// Messages on `topic` whose payload contains every one of `needles`.
int count_on(const pilehub::test::Inbox& inbox, const std::string& topic, const std::vector<std::string>& needles) {
    int n = 0;
    for (const auto& m : inbox.messages()) {
        if (m.topic != topic)
            continue;
        bool all = true;
        for (const auto& x : needles)
            all = all && m.payload.find(x) != std::string::npos;
        n += all ? 1 : 0;
    }
    return n;
}

WorldOptions real_time(const char* name, std::vector<std::string> sessiond_sets) {
    WorldOptions o;
    o.name = name;
    o.speed = 1;
    o.tele_period_s = 2;
    o.sessiond_sets = std::move(sessiond_sets);
    return o;
}

/// An integer member of the settlement's bill (`charged_s`, `energy_mwh`, ...).
std::int64_t bill_int(World& w, const std::string& sid, const std::string& key) {
    const auto text = w.text("SELECT bill FROM settlements WHERE session_id = ?1", sid);
    auto doc = json::parse(text);
    REQUIRE_MESSAGE(doc.ok(), text);
    const auto* v = pilehub::test::json_at(*doc, key);
    REQUIRE_MESSAGE((v && v->IsInt64()), key << " in " << text);
    return v->GetInt64();
}

} // namespace

TEST_CASE("sessions faults: a rider's stop during a 15 s pile outage reaches the pile within 5 s of its return, and "
          "the bill ends at the stop request") {
    World w(real_time("faults-outage", {"sessiond.stop_resend_ms=2000"}));
    const auto sid = w.start(w.accounts.at(0), "P1-1", "time", 60);
    REQUIRE_MESSAGE(w.wait_state(sid, "charging"), w.logs());
    // A few seconds of charging (two reports) before the pile's network fails.
    const auto last_report = [&] { return w.number("SELECT last_report_at FROM sessions WHERE id = ?1", sid); };
    REQUIRE(w.eventually([&] { return last_report() > 0; }, 10s));
    const auto report = last_report();
    REQUIRE(w.eventually([&] { return last_report() > report; }, 10s));
    const auto online_before = count_on(w.inbox, topics::presence("P1"), {R"("online":true)"});

    w.control("disconnect P1 15");
    REQUIRE_MESSAGE(w.wait_state(sid, "suspended", 5s), w.logs());
    const auto stop = w.call("stop", fmt::format(R"({{"session_id":"{}","reason":"user_stop","actor":"rider"}})", sid));
    REQUIRE_MESSAGE(stop.ok(), stop.code << " " << stop.msg);
    const auto asked_at = w.number("SELECT stop_requested_at FROM sessions WHERE id = ?1", sid);
    REQUIRE(asked_at > 0);

    // The pile comes back about 15 s later, still charging (nothing reached it while it was away).
    Steady::time_point back;
    REQUIRE_MESSAGE(w.eventually(
                        [&] {
                            back = Steady::now();
                            return count_on(w.inbox, topics::presence("P1"), {R"("online":true)"}) > online_before;
                        },
                        25s),
                    w.logs());
    // The stop reaches it and is executed within 5 s of its return.
    const std::vector<std::string> ok{fmt::format(R"("rid":"{}.stop")", sid), R"("status":"ok")"};
    Steady::time_point obeyed;
    REQUIRE_MESSAGE(w.eventually(
                        [&] {
                            obeyed = Steady::now();
                            return count_on(w.inbox, topics::cmd_reply("P1", "stop_port"), ok) > 0;
                        },
                        5s),
                    "the stop did not reach the pile within 5 s of its return\n"
                        << w.logs());
    const auto to_obey = ms_between(back, obeyed);
    CHECK(to_obey <= 5'000);
    CHECK(w.inbox.wait_for(topics::conn_state("P1", 1), R"("st":"idle")", 5s).has_value());

    // Settled from the pile's record, billed to the stop request.
    REQUIRE_MESSAGE(w.wait_state(sid, "completed", 20s), w.logs());
    CHECK(w.text("SELECT stop_reason FROM sessions WHERE id = ?1", sid) == "remote_stop");
    const auto created_at = w.number("SELECT created_at FROM sessions WHERE id = ?1", sid);
    const auto pile_s = w.number("SELECT duration_s FROM sessions WHERE id = ?1", sid);
    const auto charged_s = bill_int(w, sid, "charged_s");
    CHECK(charged_s >= 2);
    CHECK(charged_s <= (asked_at - created_at) / 1000);
    CHECK(pile_s >= charged_s + 12); // the pile ran through its outage
    CHECK(w.number("SELECT count(*) FROM ledger WHERE idempotency_key = 'settle:' || ?1", sid) == 1);
    const auto expired = count_on(w.inbox, topics::cmd_reply("P1", "stop_port"),
                                  {fmt::format(R"("rid":"{}.stop")", sid), R"("status":"expired")"});
    std::cout << fmt::format(
        "[faults outage] stop asked during a 15 s outage; the pile back ({} stale cop{} answered "
        "expired) -> stop_port ok in {} ms; the pile ran {} s, billed {} s (to the stop request)\n",
        expired, expired == 1 ? "y" : "ies", to_obey, pile_s, charged_s);
}

TEST_CASE("sessions faults: a safety stop whose first stop_port the pile loses is re-sent, and the socket stops") {
    World w(real_time("faults-drop", {"sessiond.stop_resend_ms=2000"}));
    const auto sid = w.start(w.accounts.at(0), "P1-2", "power");
    REQUIRE_MESSAGE(w.wait_state(sid, "charging"), w.logs());
    w.control("drop P1 stop_port 1");
    REQUIRE(w.eventually(
        [&] { return slurp(w.dir() + "/sim.log").find("control: drop P1 stop_port 1") != std::string::npos; }, 5s));

    // autostopd's over-temperature stop, as it asks sessiond for it.
    const auto t0 = Steady::now();
    const auto stop =
        w.call("stop", fmt::format(R"({{"session_id":"{}","reason":"over_temp","actor":"autostopd"}})", sid));
    REQUIRE(stop.ok());
    const std::vector<std::string> cmd{fmt::format(R"("rid":"{}.stop")", sid)};
    REQUIRE_MESSAGE(w.eventually([&] { return count_on(w.inbox, topics::cmd("P1", "stop_port"), cmd) >= 2; }, 10s),
                    w.logs());
    const auto resent_after = ms_between(t0, Steady::now());
    CHECK(w.eventually([&] { return slurp(w.dir() + "/sim.log").find("cmd/stop_port dropped") != std::string::npos; },
                       2s));
    // The re-sent command has the same rid and a fresh exp, and the pile obeys it.
    std::vector<EpochMs> exps;
    for (const auto& m : w.inbox.messages())
        if (m.topic == topics::cmd("P1", "stop_port") && m.payload.find(cmd[0]) != std::string::npos)
            if (auto env = payloads::peek_envelope(m.payload); env.ok() && env->exp)
                exps.push_back(*env->exp);
    REQUIRE(exps.size() >= 2);
    CHECK(exps[1] > exps[0]);
    CHECK(w.inbox.wait_for(topics::cmd_reply("P1", "stop_port"), cmd[0], 5s).has_value());
    CHECK(w.inbox.wait_for(topics::conn_state("P1", 2), R"("st":"idle")", 5s).has_value());
    REQUIRE_MESSAGE(w.wait_state(sid, "completed", 20s), w.logs());
    CHECK(w.text("SELECT stop_reason FROM sessions WHERE id = ?1", sid) == "over_temp");
    std::cout << fmt::format("[faults drop] the first stop_port lost; re-sent after {} ms; the socket stopped\n",
                             resent_after);
}

TEST_CASE("sessions faults: a suspended session is settled after suspend_timeout_s as power_loss; the socket and the "
          "rider are free again") {
    World w(real_time("faults-suspend", {"sessiond.suspend_timeout_s=3"}));
    const auto rider = w.accounts.at(0);
    const auto sid = w.start(rider, "P1-3", "power");
    REQUIRE_MESSAGE(w.wait_state(sid, "charging"), w.logs());
    CHECK(w.eventually([&] { return w.number("SELECT last_report_at FROM sessions WHERE id = ?1", sid) > 0; }, 10s));

    w.control("disconnect P1 120"); // it never comes back during the test
    REQUIRE_MESSAGE(w.wait_state(sid, "suspended", 5s), w.logs());
    const auto t0 = Steady::now();
    REQUIRE_MESSAGE(w.wait_state(sid, "completed", 20s), w.logs());
    const auto took = ms_between(t0, Steady::now());
    CHECK(took >= 2'500); // not before the time-out (3 s after its last report at the latest)
    CHECK(w.text("SELECT stop_reason FROM sessions WHERE id = ?1", sid) == "power_loss");
    CHECK(w.text("SELECT record_msg_id FROM sessions WHERE id = ?1", sid) == "forced:" + sid);
    CHECK(w.number("SELECT count(*) FROM session_events WHERE session_id = ?1 AND from_state = 'suspended' AND "
                   "to_state = 'settling' AND reason = 'suspend_timeout'",
                   sid) == 1);
    CHECK(w.number("SELECT count(*) FROM incidents WHERE session_id = ?1 AND kind = 'suspend_timeout' AND "
                   "device_id = 'P1'",
                   sid) == 1);
    CHECK(w.number("SELECT count(*) FROM ledger WHERE idempotency_key = 'settle:' || ?1", sid) == 1);

    // The socket is free (no live session holds it; the pile itself is away) and the rider can charge again.
    CHECK(w.number("SELECT count(*) FROM sessions WHERE device_id = 'P1' AND n = 3 AND state NOT IN ('completed', "
                   "'failed')") == 0);
    const auto again = w.call("start", World::start_json(rider, "P1-3", "power", std::nullopt));
    CHECK(again.code == "device_offline");
    const auto elsewhere = w.start(rider, "P2-1", "power");
    CHECK(w.wait_state(elsewhere, "charging"));
    std::cout << fmt::format("[faults suspend] settled as power_loss {} ms after the suspension (timeout 3 s)\n", took);
}
