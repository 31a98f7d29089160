// Commissioning (method operator) and the command log in sessiond: the pre-check of an operator's
// start, the start itself over rpc, and the device_commands rows written per tick.
#include "tests/unit/sessiond/sessiond_fixture.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using namespace pilehub::sessiond;
using pilehub::test::World;

namespace {

/// An operator's start: nothing about an account, a tariff or a balance is known.
StartFacts commissioning_facts() {
    StartFacts f;
    f.commissioning = true;
    f.socket_exists = true;
    f.device_installed = true;
    f.socket = sockets::Availability::Free;
    return f;
}

std::string operator_start(const std::string& socket, int minutes, const std::string& who = "alice") {
    return fmt::format(R"({{"socket":"{}","mode":"time","minutes":{},"method":"operator","operator":"{}"}})", socket,
                       minutes, who);
}

/// The id in a start reply's data.
std::string sid_of(const std::string& data_json) {
    const auto d = svc::decode<svc::StartReply>(data_json);
    REQUIRE_MESSAGE(d.ok(), data_json);
    return d.value().session.id;
}

} // namespace

TEST_CASE("sessiond pre-checks: a commissioning start needs no account, tariff mode or balance; only the socket "
          "refuses it, and a device not installed") {
    CHECK_FALSE(precheck(commissioning_facts()).has_value());
    struct Case {
        const char* what;
        void (*change)(StartFacts&);
        const char* code; ///< nullptr: it still starts
    };
    const Case cases[] = {
        {"no account", [](StartFacts& f) { f.account_exists = false; }, nullptr},
        {"frozen account", [](StartFacts& f) { f.account_frozen = true; }, nullptr},
        {"arrears", [](StartFacts& f) { f.arrears_fen = Fen(5); }, nullptr},
        {"mode not in the tariff", [](StartFacts& f) { f.mode_offered = false; }, nullptr},
        {"another session of the method", [](StartFacts& f) { f.method_in_use = true; }, nullptr},
        {"balance below the minimum", [](StartFacts& f) { f.min_start_balance_fen = Fen(200); }, nullptr},
        {"unknown socket", [](StartFacts& f) { f.socket_exists = false; }, "unknown_socket"},
        {"device in stock or retired", [](StartFacts& f) { f.device_installed = false; }, "device_not_installed"},
        {"socket disabled", [](StartFacts& f) { f.socket = sockets::Availability::Disabled; }, "unknown_socket"},
        {"pile offline", [](StartFacts& f) { f.socket = sockets::Availability::Offline; }, "device_offline"},
        {"socket faulted", [](StartFacts& f) { f.socket = sockets::Availability::Faulted; }, "socket_faulted"},
        {"socket busy", [](StartFacts& f) { f.socket = sockets::Availability::Busy; }, "socket_busy"},
    };
    for (const auto& c : cases) {
        auto f = commissioning_facts();
        c.change(f);
        const auto code = precheck(f);
        if (!c.code) {
            CHECK_FALSE_MESSAGE(code.has_value(), c.what);
            continue;
        }
        REQUIRE_MESSAGE(code.has_value(), c.what);
        CHECK_MESSAGE(to_string(*code) == c.code, c.what);
    }
}

TEST_CASE("sessiond command log: who asked for a session command, by the actor of the change that sends it") {
    SessionRow row;
    row.account_id = 17;
    row.card_no = "CARD0001";
    CHECK(command_requester("operator:alice", row) == "alice");
    CHECK(command_requester("rider", row) == "rider:17");
    CHECK(command_requester("card", row) == "card:CARD0001");
    CHECK(command_requester("autostopd", row) == "system:autostopd");
    CHECK(command_requester("sessiond", row) == "system:sessiond");
    CHECK(command_outcome("ok") == "ok");
    CHECK(command_outcome("busy") == "busy");
    CHECK(command_outcome("expired") == "expired");
    CHECK(command_outcome("weird") == "failed");
    CHECK(data_of(R"({"v":1,"rid":"x","data":{"n":3,"sid":"S1"}})") == R"({"n":3,"sid":"S1"})");
    CHECK(data_of("not json") == "{}");
    CHECK(port_of(R"({"n":3})") == 3);
    CHECK_FALSE(port_of("{}").has_value());
}

TEST_CASE("sessiond worker: an operator's start runs the socket for its minutes with no account and no tariff; two "
          "run at once; the command log has each start_port with the operator, the reply and the latency") {
    World w;
    w.presence("P1", true, 1);
    const auto r1 = w.rpc("start", operator_start("P1-1", 30));
    REQUIRE_MESSAGE(r1.status == "ok", r1.payload);
    const auto sid = sid_of(r1.data_json);
    CHECK(r1.data_json.find(R"("method":"operator")") != std::string::npos);
    CHECK(r1.data_json.find(R"("account_id":0)") != std::string::npos);
    CHECK(r1.data_json.find(R"("operator":"alice")") != std::string::npos);
    const auto r2 = w.rpc("start", operator_start("P1-2", 720, "bob"));
    REQUIRE_MESSAGE(r2.status == "ok", r2.payload); // NULL accounts never collide in sessions_one_per_method
    // The socket's own checks still hold: the first socket is taken.
    CHECK(w.rpc("start", operator_start("P1-1", 10)).code == "socket_busy");

    const auto row = w.row(sid);
    CHECK(row.method == "operator");
    CHECK(row.operator_name == "alice");
    CHECK(row.account_id == 0);
    CHECK(w.count("SELECT count(*) FROM sessions WHERE account_id IS NULL AND tariff_id IS NULL") == 2);
    const auto cmds = w.mq.on(topics::cmd("P1", "start_port"));
    REQUIRE(cmds.size() == 2);
    const auto cmd = payloads::decode<payloads::EbikeStartPort>(cmds[0].payload);
    REQUIRE(cmd.ok());
    CHECK(cmd->data.limit == payloads::ChargeLimit::time(30));

    // Written once per tick, not on the message path.
    CHECK(w.count("SELECT count(*) FROM device_commands") == 0);
    w.worker->tick();
    CHECK(w.count("SELECT count(*) FROM device_commands WHERE name = 'start_port' AND outcome IS NULL") == 2);
    w.clock.advance_ms(150);
    w.cmd_reply("P1", "start_port", sid + ".start");
    CHECK(w.state(sid) == State::Charging);
    w.worker->tick();
    db::Statement q(*w.db, "SELECT requested_by, n, sid, reply_status, outcome, latency_ms, payload FROM "
                           "device_commands WHERE rid = ?1");
    q.bind_all(sid + ".start");
    REQUIRE(q.step());
    CHECK(q.text(0) == "alice");
    CHECK(q.int64(1) == 1);
    CHECK(q.text(2) == sid);
    CHECK(q.text(3) == "ok");
    CHECK(q.text(4) == "ok");
    CHECK(q.int64(5) == 150);
    CHECK(q.text(6).find(R"("sid":")" + sid) != std::string::npos);

    // The operator stops it: stop_port logged as theirs.
    const auto stop = w.stop(sid, "user_stop", "operator:alice");
    CHECK(stop.status == "ok");
    w.worker->tick();
    CHECK(w.count("SELECT count(*) FROM device_commands WHERE name = 'stop_port' AND requested_by = 'alice' "
                  "AND outcome IS NULL") == 1);
}

TEST_CASE("sessiond command log: a start the pile never answers is logged as timed out; a rider's start as "
          "rider:<account>") {
    World w;
    w.presence("P1", true, 1);
    const auto sid = w.start(w.rich, "P1-1");
    w.clock.advance_ms(12'000);
    w.worker->tick();
    CHECK(w.state(sid) == State::Failed);
    w.worker->tick();
    db::Statement q(*w.db, "SELECT requested_by, outcome, reply_status IS NULL, latency_ms IS NULL FROM "
                           "device_commands WHERE rid = ?1");
    q.bind_all(sid + ".start");
    REQUIRE(q.step());
    CHECK(q.text(0) == fmt::format("rider:{}", w.rich));
    CHECK(q.text(1) == "timeout");
    CHECK(q.int64(2) == 1);
    CHECK(q.int64(3) == 1);
}

TEST_CASE("sessiond rpc: an operator's start must be time mode for 1..720 minutes, with a name and no account") {
    World w;
    w.presence("P1", true, 1);
    for (const char* bad : {
             R"({"socket":"P1-1","mode":"power","method":"operator","operator":"alice"})",
             R"({"socket":"P1-1","mode":"time","minutes":721,"method":"operator","operator":"alice"})",
             R"({"socket":"P1-1","mode":"time","minutes":10,"method":"operator"})",
             R"({"socket":"P1-1","mode":"time","minutes":10,"method":"operator","operator":"alice","account_id":3})",
             R"({"socket":"P1-1","mode":"time","minutes":10,"method":"operator","operator":"a","max_fen":100})",
             R"({"account_id":3,"socket":"P1-1","mode":"time","minutes":60,"operator":"alice"})",
             R"({"account_id":3,"socket":"P1-1","mode":"time","minutes":60,"method":"card"})",
         }) {
        const auto r = w.rpc("start", bad);
        CHECK_MESSAGE(r.status == "invalid", bad);
    }
    CHECK(w.count("SELECT count(*) FROM sessions") == 0);
    // Encoded as the API sends it, and read back the same.
    svc::StartRequest req;
    req.account_id = 0;
    req.socket = "P1-3";
    req.mode = billing::Mode::Time;
    req.minutes = 10;
    req.operator_name = "alice";
    const auto text = svc::encode(req);
    CHECK(text == R"({"socket":"P1-3","mode":"time","minutes":10,"method":"operator","operator":"alice"})");
    const auto back = svc::decode<svc::StartRequest>(text);
    REQUIRE_MESSAGE(back.ok(), back.error());
    CHECK(back.value() == req);
}
