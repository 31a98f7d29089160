// Deeply nested JSON from a device never crashes anything (REVIEW-reliability risk #10): a registered
// pile publishes 100 k nested arrays on every uplink the platform reads; afterwards every process is
// alive and still serves. Real Mosquitto, the real pilehub-api (api_stack.hpp) and the real daemons
// as child processes on real SQLite files.
#include "tests/integration/api_stack.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/registry_seed.hpp"

#include "common/payloads.hpp"

#include <memory>

using namespace pilehub;
using namespace pilehub::test::api;

namespace {

/// `{"v":1,"ts":..,"boot":1,"seq":..,"id":..,"rid":"x.start","data":{"x":[[[ ... ]]]}}`.
std::string deep_payload(std::int64_t seq, std::size_t levels) {
    return fmt::format(R"({{"v":1,"ts":{},"boot":1,"seq":{},"id":"deep-{}","rid":"x.start","data":{{"x":{}{}}}}})",
                       SystemClock::instance().now_ms(), seq, seq, std::string(levels, '['), std::string(levels, ']'));
}

} // namespace

TEST_CASE("deep JSON: 100 k nested arrays on every uplink of a pile leave every process alive and serving") {
    StackOptions so;
    so.broker_users = {{"P1", ""}};
    Stack stack(so);
    {
        auto d = stack.db();
        test::register_piles(d, {"P1"});
    }
    std::vector<std::unique_ptr<test::Daemon>> daemons;
    for (const char* name : {"sessiond", "billingd", "autostopd", "presenced", "recorderd"}) {
        daemons.push_back(std::make_unique<test::Daemon>(name, stack.broker(), stack.dir()));
        daemons.back()->start();
    }
    test::Inbox inbox;
    auto pile = test::connect_client(stack.broker().client_options("P1"), {"ph/v1/dev/P1/req-reply/+"}, &inbox);

    const std::size_t levels = 100'000;
    std::int64_t seq = 0;
    const auto deep = deep_payload(1, levels);
    REQUIRE(deep.size() < 1'048'576); // the broker's max_packet_size
    for (const auto& topic :
         {topics::tele("P1"), topics::cmd_reply("P1", "start_port"), topics::evt("P1", "fault"),
          topics::evt("P1", "session_stopped"), topics::req("P1", "session_record"), topics::req("P1", "authorize"),
          topics::state("P1"), topics::cfg_reported("P1"), topics::conn_state("P1", 1), topics::presence("P1")})
        REQUIRE(pile->publish({topic, deep_payload(++seq, levels), 1, false}));

    // Still serving: a normal card swipe is answered by sessiond (after the deep messages, in order),
    // a normal fault event is recorded by recorderd, and the API answers.
    payloads::EbikeAuthorize swipe{"NOCARD01", 1};
    auto env = payloads::make_envelope(SystemClock::instance().now_ms(), 1, ++seq);
    env.id = "swipe-1";
    env.rid = "swipe-1"; // a request carries its rid; the reply echoes it
    REQUIRE(pile->publish({topics::req("P1", "authorize"),
                           payloads::encode(payloads::Message<payloads::EbikeAuthorize>{env, swipe}), 1, false}));
    payloads::EbikeFault fault{"leakage", 9, true, 2};
    auto fenv = payloads::make_envelope(SystemClock::instance().now_ms(), 1, ++seq);
    fenv.id = "fault-after-deep";
    REQUIRE(pile->publish({topics::evt("P1", "fault"),
                           payloads::encode(payloads::Message<payloads::EbikeFault>{fenv, fault}), 1, false}));

    const auto reply = inbox.wait_for(topics::req_reply("P1", "authorize"), "swipe-1", 15s);
    std::string logs;
    for (auto& d : daemons)
        logs += "--- " + d->name() + " ---\n" + test::tail(d->log(), 15);
    CHECK_MESSAGE(reply.has_value(), logs);
    db::Database tele(stack.dir() + "/telemetry.db");
    CHECK_MESSAGE(
        test::wait_count(tele, "SELECT count(*) FROM device_events WHERE msg_id = 'fault-after-deep'", 1, 15s) == 1,
        logs);
    const auto health = stack.request("GET", "/api/v1/health");
    CHECK_MESSAGE(health.status == 200, health);
    for (auto& d : daemons)
        CHECK_MESSAGE(d->running(), d->name() << " died:\n" << test::tail(d->log()));
    for (auto& d : daemons)
        CHECK_MESSAGE(d->stop() == 0, d->name() << " did not stop cleanly:\n" << test::tail(d->log()));
    CHECK(stack.request("GET", "/api/v1/health").status == 200);
}
