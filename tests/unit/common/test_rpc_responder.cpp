// rpc::Server::handle_async and its Responder on a fake MQTT client: a request is answered once,
// whenever the handler's Responder is called; the envelope (rid, reply_to, exp, repeats) stays the
// Server's business.
#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "common/mqtt_router.hpp"
#include "common/rpc.hpp"
#include "common/topics.hpp"
#include "tests/support/fake_mqtt.hpp"
#include "tests/support/rpc_answers.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace pilehub;

namespace {

constexpr EpochMs kNow = 1'732'183'200'000;

struct Served {
    test::FakeMqtt mq{"svc.sessiond"};
    ManualClock clock{kNow};
    mqtt::Router router;
    rpc::Server server{mq, router, "sessiond", clock};
    std::vector<rpc::Responder> held; ///< responders the handler kept for later
    int calls = 0;
    std::string seen_data; ///< the `n` of the last request
    std::optional<std::int64_t> seen_exp;

    Served() {
        server.handle_async("relay", [this](rpc::Request& r, rpc::Responder responder) {
            ++calls;
            seen_data = std::to_string(r.data.req_int("n", 0, 100));
            seen_exp = r.exp;
            held.push_back(std::move(responder));
        });
        server.handle_async("at_once",
                            [](rpc::Request&, rpc::Responder responder) { responder.reply(rpc::Reply::success()); });
        server.handle_async("throws", [](rpc::Request&, rpc::Responder) { throw std::runtime_error("boom"); });
    }

    void request(const std::string& method, const std::string& rid, EpochMs exp = kNow + 5'000) {
        server.on_request(
            {topics::rpc("sessiond", method),
             fmt::format(R"({{"v":1,"rid":"{}","from":"svc.api","reply_to":"{}","exp":{},"data":{{"n":3}}}})", rid,
                         topics::rpc_reply("svc.api"), exp),
             1, false});
    }
    /// The answers published for `rid`, as (status, code).
    std::vector<std::pair<std::string, std::string>> answers(const std::string& rid) const {
        return test::rpc_answers(mq.on(topics::rpc_reply("svc.api")), rid);
    }
};

} // namespace

TEST_CASE("rpc responder: an asynchronous handler answers later, once; a second reply is refused and sends nothing") {
    log::set_level(log::Level::Error);
    Served s;
    s.request("relay", "r-1");
    REQUIRE(s.calls == 1);
    CHECK(s.seen_data == "3");
    CHECK(s.seen_exp == kNow + 5'000);
    CHECK(s.answers("r-1").empty()); // nothing until the responder is called
    REQUIRE(s.held.size() == 1);
    auto copy = s.held[0]; // a copy answers the same request
    CHECK(copy.rid() == "r-1");
    CHECK(copy.from() == "svc.api");
    CHECK_FALSE(copy.answered());
    CHECK(s.held[0].reply(rpc::Reply::success(R"({"n":3})")));
    CHECK(copy.answered());
    CHECK_FALSE(copy.reply(rpc::Reply::refuse("timeout", "too late", "failed")));
    CHECK_FALSE(s.held[0].reply(rpc::Reply::success()));
    REQUIRE(s.answers("r-1").size() == 1);
    CHECK(s.answers("r-1")[0] == std::make_pair(std::string("ok"), std::string()));
}

TEST_CASE("rpc responder: a repeated request waits for the pending answer, then gets it again; the handler runs once") {
    log::set_level(log::Level::Error);
    Served s;
    s.request("relay", "r-1");
    s.request("relay", "r-1"); // the requester's retry while the answer is pending
    CHECK(s.calls == 1);
    CHECK(s.answers("r-1").empty());
    s.held.at(0).reply(rpc::Reply::refuse("device_offline", "P1 is offline"));
    CHECK(s.answers("r-1").size() == 1);
    s.request("relay", "r-1");
    CHECK(s.calls == 1);
    REQUIRE(s.answers("r-1").size() == 2);
    CHECK(s.answers("r-1")[1] == std::make_pair(std::string("rejected"), std::string("device_offline")));
}

TEST_CASE("rpc responder: a handler may answer at once; one that throws before answering is answered internal") {
    log::set_level(log::Level::Error);
    Served s;
    s.request("at_once", "a-1");
    CHECK(s.answers("a-1") == std::vector<std::pair<std::string, std::string>>{{"ok", ""}});
    s.request("throws", "t-1");
    CHECK(s.answers("t-1") == std::vector<std::pair<std::string, std::string>>{{"failed", "internal"}});
}

TEST_CASE("rpc responder: an expired request is answered expired by the server and never reaches the handler") {
    log::set_level(log::Level::Error);
    Served s;
    s.request("relay", "old", kNow - 1);
    CHECK(s.calls == 0);
    CHECK(s.answers("old") == std::vector<std::pair<std::string, std::string>>{{"expired", "expired"}});
    s.request("nothing", "u-1");
    CHECK(s.answers("u-1") == std::vector<std::pair<std::string, std::string>>{{"unsupported", "unsupported"}});
}
