// The device-command relay (DeviceCommands) on its own: a fake MQTT client, a ManualClock, stub
// lookups, no database.
#include "tests/support/rpc_answers.hpp"
#include "tests/unit/sessiond/sessiond_fixture.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace pilehub;
using namespace pilehub::sessiond;
using pilehub::test::FakeMqtt;

namespace {

struct Relay {
    FakeMqtt mq;
    ManualClock clock;
    std::map<std::string, std::string> known{{"P1", "ebike_pile"}, {"P2", "ebike_pile"}, {"EV1", "ev_charger"}};
    std::set<std::string> online{"P1", "EV1"};
    std::int64_t seq = 0;
    DeviceCommands dc{mq, clock, DeviceCommands::Options{10'000, 2'000},
                      DeviceCommands::Hooks{[this](const std::string& d) -> std::optional<std::string> {
                                                if (auto it = known.find(d); it != known.end())
                                                    return it->second;
                                                return std::nullopt;
                                            },
                                            [this](const std::string& d) { return online.count(d) > 0; },
                                            [this] { return payloads::make_envelope(clock.now_ms(), 0, ++seq); },
                                            [this](CommandLogEntry e) { log.push_back(std::move(e)); }}};
    std::vector<CommandLogEntry> log; ///< what the relay asked to be logged
    mqtt::Router router;
    rpc::Server server{mq, router, "sessiond", clock};

    Relay() {
        server.handle_async("device_command", [this](rpc::Request& req, rpc::Responder responder) {
            dc.request(req, std::move(responder));
        });
    }

    /// An rpc request as the API sends it; `exp` 0 means five seconds ahead.
    void request(const std::string& rid, const std::string& data_json, EpochMs exp = 0) {
        const auto text = fmt::format(R"({{"v":1,"rid":"{}","from":"svc.api","reply_to":"{}","exp":{},"data":{}}})",
                                      rid, topics::rpc_reply("svc.api"), exp ? exp : clock.now_ms() + 5'000, data_json);
        server.on_request({topics::rpc("sessiond", "device_command"), text, 1, false});
    }
    /// The answers published for rpc `rid`, as (status, code).
    std::vector<std::pair<std::string, std::string>> answers(const std::string& rid) const {
        return test::rpc_answers(mq.on(topics::rpc_reply("svc.api")), rid);
    }
    std::vector<payloads::Envelope> sent(const std::string& dev, const std::string& name) const {
        std::vector<payloads::Envelope> r;
        for (const auto& m : mq.on(topics::cmd(dev, name)))
            r.push_back(*payloads::peek_envelope(m.payload));
        return r;
    }
    void device_reply(const std::string& dev, const std::string& name, const std::string& rid,
                      const std::string& status) {
        dc.reply(dev, rid,
                 fmt::format(R"({{"v":1,"ts":{},"boot":1,"seq":1,"rid":"{}","status":"{}","data":{{"n":3}}}})",
                             clock.now_ms(), rid, status));
        (void)name;
    }
};

} // namespace

TEST_CASE("device commands: a command goes out with its own rid, bounded by the request's exp, and is answered with "
          "the device's reply") {
    Relay r;
    r.request("q-1", R"({"device_id":"P1","name":"query_port","data":{"n":3}})");
    CHECK(r.answers("q-1").empty()); // answered when the device answers
    const auto sent = r.sent("P1", "query_port");
    REQUIRE(sent.size() == 1);
    REQUIRE(sent[0].rid.has_value());
    CHECK(DeviceCommands::is_ours(*sent[0].rid));
    CHECK(sent[0].exp == r.clock.now_ms() + 5'000);
    CHECK(r.dc.pending() == 1);
    r.device_reply("P1", "query_port", *sent[0].rid, "accepted"); // interim: still waiting
    CHECK(r.answers("q-1").empty());
    r.device_reply("P2", "query_port", *sent[0].rid, "ok"); // another device cannot answer it
    CHECK(r.answers("q-1").empty());
    r.device_reply("P1", "query_port", *sent[0].rid, "ok");
    REQUIRE(r.answers("q-1").size() == 1);
    CHECK(r.answers("q-1")[0].first == "ok");
    CHECK(r.dc.pending() == 0);
    // Logged: sent with the requester (no operator named: the rpc client) and the socket, then answered.
    REQUIRE(r.log.size() == 2);
    const auto& s = std::get<CommandSent>(r.log[0]);
    CHECK(s.name == "query_port");
    CHECK(s.rid == *sent[0].rid);
    CHECK(s.n == 3);
    CHECK(s.requested_by == "system:svc.api");
    CHECK(s.payload == R"({"n":3})");
    const auto& a = std::get<CommandAnswered>(r.log[1]);
    CHECK(a.rid == *sent[0].rid);
    CHECK(a.status == "ok");
    CHECK(a.outcome == "ok");
    CHECK_FALSE(r.dc.next_deadline().has_value());
    // The same request again (the API's retry) gets the same answer, and nothing is sent again.
    r.request("q-1", R"({"device_id":"P1","name":"query_port","data":{"n":3}})");
    CHECK(r.answers("q-1").size() == 2);
    CHECK(r.sent("P1", "query_port").size() == 1);
}

TEST_CASE("device commands: refusals come at once, each with its code") {
    Relay r;
    struct Case {
        const char* data;
        const char* status;
        const char* code;
    };
    const Case cases[] = {
        {R"({"device_id":"P9","name":"reboot"})", "rejected", "unknown_device"},
        {R"({"device_id":"P2","name":"reboot"})", "rejected", "device_offline"},
        {R"({"device_id":"P1","name":"selfdestruct"})", "unsupported", "unsupported"},
        {R"({"device_id":"P1","name":"reboot","data":{"when":"later"}})", "invalid", "invalid_request"},
        {R"({"device_id":"P1","name":"query_port","data":{"n":65}})", "invalid", "invalid_request"},
        // A command the device's kind does not have.
        {R"({"device_id":"P1","name":"unlock","data":{"n":1}})", "unsupported", "unsupported"},
        {R"({"device_id":"EV1","name":"query_port","data":{"n":1}})", "unsupported", "unsupported"},
        {R"({"device_id":"EV1","name":"reboot"})", "unsupported", "unsupported"},
        {R"({"device_id":"EV1","name":"reset","data":{"type":"warm"}})", "invalid", "invalid_request"},
        {R"({"device_id":"EV1","name":"unlock"})", "invalid", "invalid_request"},
    };
    int i = 0;
    for (const auto& c : cases) {
        const auto rid = fmt::format("x-{}", ++i);
        r.request(rid, c.data);
        const auto a = r.answers(rid);
        REQUIRE_MESSAGE(a.size() == 1, std::string(c.data));
        CHECK_MESSAGE(a[0].first == c.status, c.data);
        CHECK_MESSAGE(a[0].second == c.code, c.data);
    }
    r.request("late", R"({"device_id":"P1","name":"reboot"})", r.clock.now_ms() - 1);
    CHECK(r.answers("late").at(0).first == "expired");
    CHECK(r.mq.matching("ph/v1/dev/+/cmd/+").empty());
}

TEST_CASE("device commands: an EV charger gets its own commands in their CONTRACT A.5 shape, and its reply is the "
          "answer") {
    Relay r;
    const struct {
        const char* request;
        const char* name;
        const char* data;
    } cases[] = {
        {R"({"device_id":"EV1","name":"reset","data":{"type":"hard"}})", "reset", R"({"type":"hard"})"},
        {R"({"device_id":"EV1","name":"unlock","data":{"n":2}})", "unlock", R"({"n":2})"},
        {R"({"device_id":"EV1","name":"set_availability","data":{"n":1,"operative":false}})", "set_availability",
         R"({"n":1,"operative":false})"},
        {R"({"device_id":"EV1","name":"set_tariff","data":{"elec_e4":7000,"service_e4":6000}})", "set_tariff",
         R"({"elec_e4":7000,"service_e4":6000})"},
        {R"({"device_id":"EV1","name":"set_time","data":{"epoch_ms":1732183200000}})", "set_time",
         R"({"epoch_ms":1732183200000})"},
    };
    int i = 0;
    for (const auto& c : cases) {
        const auto rid = fmt::format("ev-{}", ++i);
        r.request(rid, c.request);
        const auto out = r.mq.on(topics::cmd("EV1", c.name));
        REQUIRE_MESSAGE(out.size() == 1, c.name);
        const auto doc = json::parse(out[0].payload);
        REQUIRE(doc);
        json::Writer data;
        data.raw_value((*doc)["data"]);
        CHECK_MESSAGE(data.str() == c.data, c.name);
        r.device_reply("EV1", c.name, *payloads::peek_envelope(out[0].payload)->rid, "rejected");
        REQUIRE(r.answers(rid).size() == 1);
        CHECK_MESSAGE(r.answers(rid)[0].first == "rejected", c.name); // the charger's own word
    }
}

TEST_CASE("device commands: a device that does not answer by exp + grace gets the request answered timeout") {
    Relay r;
    r.request("q-1", R"({"device_id":"P1","name":"query_device","operator":"alice"})", r.clock.now_ms() + 60'000);
    const auto sent = r.sent("P1", "query_device");
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].exp == r.clock.now_ms() + 10'000); // the command's own timeout is shorter
    REQUIRE(r.log.size() == 1);
    CHECK(std::get<CommandSent>(r.log[0]).requested_by == "alice");
    CHECK(r.dc.next_deadline() == r.clock.now_ms() + 12'000);
    r.clock.advance_ms(11'999);
    r.dc.tick();
    CHECK(r.answers("q-1").empty());
    r.clock.advance_ms(1);
    r.dc.tick();
    REQUIRE(r.answers("q-1").size() == 1);
    CHECK(r.answers("q-1")[0] == std::make_pair(std::string("failed"), std::string("timeout")));
    // Logged as timed out: no reply status.
    REQUIRE(r.log.size() == 2);
    const auto& a = std::get<CommandAnswered>(r.log[1]);
    CHECK(a.outcome == "timeout");
    CHECK_FALSE(a.status.has_value());
    // A reply after that changes nothing.
    r.device_reply("P1", "query_device", *sent[0].rid, "ok");
    CHECK(r.answers("q-1").size() == 1);
}

TEST_CASE("device commands: any command reply is read, with its data") {
    const auto f = read_reply(R"({"v":1,"rid":"dc-1","status":"ok","code":"","msg":"fine","data":{"n":3}})");
    REQUIRE(f.has_value());
    CHECK(f->status == "ok");
    CHECK(f->msg == "fine");
    CHECK(f->data_json == R"({"n":3})");
    CHECK_FALSE(read_reply(R"({"v":1,"rid":"dc-1"})").has_value());
    CHECK_FALSE(read_reply("not json").has_value());
}
