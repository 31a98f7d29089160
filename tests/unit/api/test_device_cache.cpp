#include "common/clock.hpp"
#include "common/topics.hpp"
#include "web-api/catalog_store.hpp"
#include "web-api/device_cache.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <string_view>

using namespace pilehub;
using namespace pilehub::api;

namespace {

std::string verdict(bool online, int boot, const char* reason, EpochMs since = 1732183200123) {
    return fmt::format(R"({{"v":1,"online":{},"boot":{},"since":{},"reason":"{}"}})", online, boot, since, reason);
}

std::string cost(const char* sid, std::int64_t fen, const char* extra = "") {
    return fmt::format(R"({{"v":1,"sid":"{}","ts":1732183500000,"cost_fen":{},"balance_fen":4200,"bonus_fen":0,)"
                       R"("available_fen":4200,"balance_low":false,"cap_reached":false,"elapsed_s":300,)"
                       R"("energy_wh":16{}}})",
                       sid, fen, extra);
}

std::string transition(const char* sid, const char* state, const char* prev) {
    return fmt::format(R"({{"v":1,"sid":"{}","state":"{}","prev":"{}","reason":"user_stop","actor":"billingd",)"
                       R"("ts":1732183300000,"record":true,"device_id":"P1","n":3,"account_id":17,"method":"app"{}}})",
                       sid, state, prev,
                       std::string_view(state) == "completed" ? R"(,"cost_fen":150,"priced_fen":150,"shortfall_fen":0)"
                                                              : "");
}

} // namespace

TEST_CASE("device cache: presence is one view of the device's own presence and presenced's verdicts; "
          "the latest report wins and a late Will is ignored") {
    ManualClock clock;
    DeviceCache c(clock);
    const auto online = [&] { return c.device("P1")->is_online(); };
    c.handle({topics::presence("P1"), R"({"v":1,"online":true,"boot":5,"ts":1})", 1, true});
    REQUIRE(c.device("P1"));
    CHECK(online() == true);
    c.handle({topics::presence("P1"), R"({"v":1,"online":false,"boot":4,"reason":"lwt"})", 1, true});
    CHECK(online() == true); // the Will of boot 4, after boot 5 came online
    c.handle({topics::presence("P1"), R"({"v":1,"online":false,"boot":5,"reason":"shutdown"})", 1, true});
    CHECK(online() == false);
    c.handle({topics::device_presence("P1"), verdict(true, 6, "connect"), 1, true});
    CHECK(online() == true);
    CHECK(c.device("P1")->boot == 6);
    CHECK(c.device("P1")->presence_at == 1732183200123); // a verdict's `since`
    // presenced's late verdict of an older boot is a late Will too.
    c.handle({topics::device_presence("P1"), verdict(false, 5, "lwt"), 1, true});
    CHECK(online() == true);
    // The device's own word after presenced's counts: the latest report wins (presenced's
    // verdict no longer shadows the device's presence for good).
    c.handle({topics::presence("P1"), R"({"v":1,"online":false,"boot":6,"reason":"shutdown"})", 1, true});
    CHECK(online() == false);
    // Offline, a late Will of an older boot changes neither the view nor the boot shown (the old
    // API check compared only while online, so this Will used to rewrite the boot to 4).
    c.handle({topics::presence("P1"), R"({"v":1,"online":false,"boot":4,"reason":"lwt"})", 1, true});
    CHECK(online() == false);
    CHECK(c.device("P1")->boot == 6);
    CHECK_FALSE(c.device("P2"));
}

TEST_CASE("device cache: a presence verdict in another shape is ignored, never guessed at") {
    DeviceCache c;
    c.handle({topics::presence("P1"), R"({"v":1,"online":true,"boot":5,"ts":1})", 1, true});
    for (const char* bad : {R"({"v":1,"online":false})", R"({"online":false,"boot":6,"since":1,"reason":"lwt"})",
                            R"({"v":2,"online":false,"boot":6,"since":1,"reason":"lwt"})", "not json", "[]"})
        c.handle({topics::device_presence("P1"), bad, 1, true});
    CHECK(c.device("P1")->is_online() == true);
    c.handle({topics::device_presence("P9"), R"({"v":1,"online":true})", 1, true});
    CHECK_FALSE(c.online("P9"));
}

TEST_CASE("device cache: a socket's state and session come from its retained conn state; raw telemetry is not read") {
    DeviceCache c;
    c.handle({topics::conn_state("P1", 3),
              R"({"v":1,"ts":1,"boot":1,"seq":1,"data":{"st":"charging","sid":"S1","since":5,"faults":[]}})", 1, true});
    auto p = c.port("P1", 3);
    REQUIRE(p);
    CHECK(p->st == "charging");
    CHECK(p->sid == "S1");
    // Telemetry saying otherwise changes nothing: the API reads what recorderd stored.
    c.handle(
        {topics::tele("P1"),
         R"({"v":1,"ts":1732183200123,"boot":1,"seq":2,"data":{"temp_c":30,"total_power_w":180,"sockets":[{"n":3,"st":"fault","power_w":180.4,"session_energy_wh":12,"sid":"S9"}]}})",
         0, false});
    CHECK(c.port("P1", 3)->st == "charging");
    CHECK(c.port("P1", 3)->sid == "S1");
    c.handle({topics::conn_state("P1", 3),
              R"({"v":1,"ts":2,"boot":1,"seq":3,"data":{"st":"idle","since":9,"faults":[]}})", 1, true});
    p = c.port("P1", 3);
    CHECK(p->st == "idle");
    CHECK(p->sid.empty());
    // Garbage changes nothing and throws nothing.
    c.handle({topics::conn_state("P1", 3), R"({"v":1,"data":[1,2]})", 1, true});
    c.handle({"ph/v1/dev/bad id/conn/3/state", "{}", 0, false});
    CHECK(c.port("P1", 3)->st == "idle");
}

TEST_CASE("device cache: billingd's running cost is kept per session until its transition says it ended") {
    DeviceCache c;
    c.handle({topics::session_cost("S9"), cost("S9", 42), 0, false});
    CHECK(c.session_cost("S9") == 42);
    c.handle({topics::session_cost("S9"), cost("S9", 43), 0, false});
    CHECK(c.session_cost("S9") == 43);
    // Transitions that keep the session going keep its cost; the end forgets it.
    c.handle({topics::session_state("S9"), transition("S9", "stopping", "charging"), 1, false});
    CHECK(c.session_cost("S9") == 43);
    c.handle({topics::session_state("S9"), transition("S9", "completed", "stopping"), 1, false});
    CHECK_FALSE(c.session_cost("S9"));
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

TEST_CASE("device cache: a running cost in another shape, for another sid or with an error gives no figure") {
    DeviceCache c;
    // The old reader also took `data.cost_fen` and a bare `cost_fen`; the contract has one shape.
    c.handle({topics::session_cost("S8"), R"({"v":1,"data":{"cost_fen":7}})", 0, false});
    c.handle({topics::session_cost("S8"), R"({"v":1,"sid":"S8","cost_fen":42})", 0, false});
    CHECK_FALSE(c.session_cost("S8"));
    c.handle({topics::session_cost("S8"), cost("S9", 5), 0, false});
    CHECK_FALSE(c.session_cost("S8"));
    c.handle({topics::session_cost("S8"), cost("S8", 5), 0, false});
    CHECK(c.session_cost("S8") == 5);
    c.handle({topics::session_cost("S8"), cost("S8", 0, R"(,"error":"no tariff")"), 0, false});
    CHECK_FALSE(c.session_cost("S8"));
    // A transition in another shape (the `to` spelling) is ignored: the cost stays.
    c.handle({topics::session_cost("S8"), cost("S8", 6), 0, false});
    c.handle({topics::session_state("S8"), R"({"v":1,"sid":"S8","to":"completed"})", 1, false});
    CHECK(c.session_cost("S8") == 6);
}

TEST_CASE("device cache: it subscribes through the topic builders, to every payload it reads") {
    const auto f = DeviceCache::filters();
    for (const auto& want : {topics::any_device_presence(), topics::any_session_state(), topics::any_session_cost(),
                             topics::any_device::presence()})
        CHECK_MESSAGE(std::find(f.begin(), f.end(), want) != f.end(), want);
    CHECK(std::find(f.begin(), f.end(), topics::any_device::tele()) == f.end()); // recorderd validates telemetry
}
