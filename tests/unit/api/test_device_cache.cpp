#include "common/clock.hpp"
#include "common/topics.hpp"
#include "web-api/catalog_store.hpp"
#include "web-api/device_cache.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace pilehub;
using namespace pilehub::api;

TEST_CASE("device cache: presence follows the device, ignoring a late Will from an older boot") {
    ManualClock clock;
    DeviceCache c(clock);
    c.handle({topics::presence("P1"), R"({"v":1,"online":true,"boot":5,"ts":1})", 1, true});
    REQUIRE(c.device("P1"));
    CHECK(c.device("P1")->is_online() == true);
    c.handle({topics::presence("P1"), R"({"v":1,"online":false,"boot":4,"reason":"lwt"})", 1, true});
    CHECK(c.device("P1")->is_online() == true);
    c.handle({topics::presence("P1"), R"({"v":1,"online":false,"boot":5,"reason":"shutdown"})", 1, true});
    CHECK(c.device("P1")->is_online() == false);
    // presenced's verdict wins over the presence topic.
    c.handle({topics::device_presence("P1"), R"({"v":1,"online":true})", 1, true});
    CHECK(c.device("P1")->is_online() == true);
    CHECK_FALSE(c.device("P2"));
}

TEST_CASE("device cache: socket states and telemetry give each socket its live figures; an idle socket has none") {
    DeviceCache c;
    c.handle({topics::conn_state("P1", 3),
              R"({"v":1,"ts":1,"boot":1,"seq":1,"data":{"st":"charging","sid":"S1","since":5,"faults":[]}})", 1, true});
    c.handle(
        {topics::tele("P1"),
         R"({"v":1,"ts":1732183200123,"boot":1,"seq":2,"data":{"temp_c":30,"total_power_w":180,"sockets":[{"n":3,"st":"charging","power_w":180.4,"session_energy_wh":12,"sid":"S1"}]}})",
         0, false});
    auto p = c.port("P1", 3);
    REQUIRE(p);
    CHECK(p->st == "charging");
    CHECK(p->sid == "S1");
    CHECK(*p->power_w == doctest::Approx(180.4));
    CHECK(*p->energy_wh == 12);
    CHECK(c.device("P1")->tele_at == 1732183200123);
    c.handle({topics::conn_state("P1", 3),
              R"({"v":1,"ts":2,"boot":1,"seq":3,"data":{"st":"idle","since":9,"faults":[]}})", 1, true});
    p = c.port("P1", 3);
    CHECK(p->st == "idle");
    CHECK_FALSE(p->power_w);
    // Garbage changes nothing and throws nothing.
    c.handle({topics::tele("P1"), "not json", 0, false});
    c.handle({topics::conn_state("P1", 3), R"({"v":1,"data":[1,2]})", 1, true});
    c.handle({"ph/v1/dev/bad id/tele", "{}", 0, false});
    CHECK(c.port("P1", 3)->st == "idle");
}

TEST_CASE("device cache: billingd's running cost is kept per session") {
    DeviceCache c;
    c.handle({topics::session_cost("S9"), R"({"v":1,"sid":"S9","cost_fen":42})", 0, false});
    CHECK(c.session_cost("S9") == 42);
    c.handle({topics::session_cost("S8"), R"({"v":1,"data":{"cost_fen":7}})", 0, false});
    CHECK(c.session_cost("S8") == 7);
    CHECK_FALSE(c.session_cost("S7"));
}

TEST_CASE("device cache: port states read each socket's word and fault list as sessiond does") {
    DeviceCache c;
    auto conn = [&](int n, const char* data) {
        c.handle({topics::conn_state("P1", n), fmt::format(R"({{"v":1,"ts":1,"boot":1,"seq":{},"data":{}}})", n, data),
                  1, true});
    };
    conn(1, R"({"st":"idle","since":1,"faults":[]})");
    conn(2, R"({"st":"idle","since":1,"faults":["relay_welded"]})");
    conn(3, R"({"st":"charging","sid":"S1","since":1,"faults":["over_temp"]})");
    conn(4, R"({"st":"disabled","since":1,"faults":[]})");
    conn(5, R"({"st":"faulted","since":1})"); // an EV gun's word
    conn(6, R"({"st":"unavailable","since":1})");
    conn(7, R"({"st":"gremlins","since":1})");
    const auto states = c.port_states("P1");
    using R = sockets::Reported;
    CHECK(states == std::map<int, R>{
                        {1, R::Idle}, {2, R::Fault}, {3, R::InUse}, {4, R::Disabled}, {5, R::Fault}, {6, R::Disabled}});
    CHECK(c.port_states("P9").empty());
}
