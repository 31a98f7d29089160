// alertd's rules and the alert state machine they share with the API, walked without a broker,
// a database or a sleep.
#include "common/alerts.hpp"
#include "common/clock.hpp"
#include "common/payloads.hpp"
#include "workers/alertd/alertd_rules.hpp"

#include <doctest/doctest.h>

#include <array>

using namespace pilehub;
using alerts::Action;
using alerts::Event;
using alerts::Slot;

namespace {

payloads::Presence presence(bool online, std::int64_t boot, const char* reason = nullptr) {
    payloads::Presence p;
    p.online = online;
    p.boot = boot;
    if (reason)
        p.reason = reason;
    return p;
}

/// The one action of `ds` (Nothing when empty).
Action only(const std::vector<alertd::Decision>& ds) {
    REQUIRE(ds.size() <= 1);
    return ds.empty() ? Action::Nothing : ds[0].action;
}

alertd::RuleOptions quick() {
    alertd::RuleOptions o;
    o.offline_after_ms = 2'000;
    o.silent_after_ms = 2'000;
    o.touch_every_ms = 1'000;
    return o;
}

} // namespace

TEST_CASE("alerts: every (slot, event) pair of one key has exactly one step") {
    struct Row {
        Slot slot;
        Event event;
        Action action;
        Slot next;
    };
    // open/ack/resolve × raise/clear/repeat: a raise in Open or Acknowledged is the repeat.
    const std::array<Row, 16> table{{
        {Slot::None, Event::Raise, Action::Open, Slot::Open},
        {Slot::None, Event::Clear, Action::Nothing, Slot::None},
        {Slot::None, Event::Ack, Action::Refuse, Slot::None},
        {Slot::None, Event::Resolve, Action::Refuse, Slot::None},
        {Slot::Open, Event::Raise, Action::Touch, Slot::Open},
        {Slot::Open, Event::Clear, Action::Resolve, Slot::None},
        {Slot::Open, Event::Ack, Action::Ack, Slot::Acknowledged},
        {Slot::Open, Event::Resolve, Action::Resolve, Slot::Resolved},
        {Slot::Acknowledged, Event::Raise, Action::Touch, Slot::Acknowledged},
        {Slot::Acknowledged, Event::Clear, Action::Resolve, Slot::None},
        {Slot::Acknowledged, Event::Ack, Action::Refuse, Slot::Acknowledged},
        {Slot::Acknowledged, Event::Resolve, Action::Resolve, Slot::Resolved},
        {Slot::Resolved, Event::Raise, Action::Nothing, Slot::Resolved},
        {Slot::Resolved, Event::Clear, Action::Forget, Slot::None},
        {Slot::Resolved, Event::Ack, Action::Refuse, Slot::Resolved},
        {Slot::Resolved, Event::Resolve, Action::Refuse, Slot::Resolved},
    }};
    for (const auto& r : table) {
        CAPTURE(alerts::to_string(r.slot));
        CAPTURE(alerts::to_string(r.event));
        const auto step = alerts::handle(r.slot, r.event);
        CHECK(alerts::to_string(step.action) == alerts::to_string(r.action));
        CHECK(alerts::to_string(step.next) == alerts::to_string(r.next));
    }
}

TEST_CASE("alerts: an acknowledged alert stays closed while its condition repeats; cleared and raised again, a "
          "new alert opens") {
    Slot s = Slot::None;
    auto run = [&](Event e) {
        const auto step = alerts::handle(s, e);
        s = step.next;
        return step.action;
    };
    CHECK(run(Event::Raise) == Action::Open);
    CHECK(run(Event::Ack) == Action::Ack);
    for (int i = 0; i < 5; ++i)
        CHECK(run(Event::Raise) == Action::Touch);
    CHECK(run(Event::Clear) == Action::Resolve);
    CHECK(run(Event::Raise) == Action::Open);
}

TEST_CASE("alerts: dedup keys, states and severities") {
    CHECK(alerts::dedup_key("fault", "pile-1", 3) == "fault:pile-1:3");
    CHECK(alerts::dedup_key("payment_anomaly", "P1") == "payment_anomaly:P1");
    CHECK(alerts::parse_state("acknowledged") == alerts::State::Acknowledged);
    CHECK_FALSE(alerts::parse_state("closed"));
    CHECK(alerts::severity_of(alerts::kOverTemp) == "critical");
    CHECK(alerts::severity_of(alerts::kStuckSession) == "minor");
    CHECK(alerts::severity_of(alerts::kOffline) == "major");
}

TEST_CASE("alertd: a pile offline by its Will past offline_after_s raises one offline alert; back online resolves it") {
    ManualClock clock;
    alertd::Rules r(clock, quick());
    CHECK(r.on_presence("pile-1", presence(true, 4)).empty());
    CHECK(r.on_presence("pile-1", presence(false, 4, "lwt")).empty());
    clock.advance_ms(1'999);
    CHECK(r.tick().empty());
    clock.advance_ms(1);
    const auto opened = r.tick();
    REQUIRE(opened.size() == 1);
    CHECK(opened[0].action == Action::Open);
    CHECK(opened[0].about.kind == "offline");
    CHECK(opened[0].about.key() == "offline:pile-1:0");
    CHECK(opened[0].detail == "offline (lwt) for 2 s");
    // The condition persists: no second alert, last_seen refreshed at most every touch_every_ms.
    clock.advance_ms(500);
    CHECK(r.tick().empty());
    clock.advance_ms(500);
    CHECK(only(r.tick()) == Action::Touch);
    CHECK(only(r.on_presence("pile-1", presence(true, 5))) == Action::Resolve);
    CHECK(r.held() == 0);
}

TEST_CASE("alertd: a late Will (an older boot) neither starts the offline clock nor raises anything") {
    ManualClock clock;
    alertd::Rules r(clock, quick());
    r.on_presence("pile-1", presence(true, 5));
    CHECK(r.on_presence("pile-1", presence(false, 4, "lwt")).empty());
    clock.advance_ms(1'500);
    CHECK(r.on_traffic("pile-1", false).empty());
    clock.advance_ms(1'500);
    CHECK(r.tick().empty());
}

TEST_CASE("alertd: a silent pile raises offline; retained messages replayed at subscribe do not count as heard") {
    ManualClock clock;
    alertd::Rules r(clock, quick());
    r.on_traffic("pile-1", false);
    clock.advance_ms(1'000);
    r.on_traffic("pile-1", true);
    clock.advance_ms(1'000);
    const auto d = r.tick();
    REQUIRE(d.size() == 1);
    CHECK(d[0].action == Action::Open);
    CHECK(d[0].detail == "silent for 2 s");
    CHECK(only(r.on_traffic("pile-1", false)) == Action::Resolve);
    // A camera sends no telemetry: its silence raises nothing (its Will does).
    r.on_traffic("cam-1", false);
    r.set_watch_silence("cam-1", false);
    clock.advance_ms(5'000);
    for (const auto& cam : r.tick())
        CHECK(cam.about.device_id != "cam-1");
}

TEST_CASE("alertd: faults of one socket hold one alert until the last code clears") {
    ManualClock clock;
    alertd::Rules r(clock, quick());
    CHECK(only(r.on_fault_event("pile-1", 3, "relay_stuck", true)) == Action::Open);
    CHECK(r.on_fault_event("pile-1", 3, "over_current", true).empty()); // a repeat inside touch_every_ms
    CHECK(r.on_fault_event("pile-1", 3, "relay_stuck", false).empty());
    CHECK(only(r.on_fault_event("pile-1", 3, "over_current", false)) == Action::Resolve);
    // A snapshot (state, conn state, an EV fault event) replaces the set.
    CHECK(only(r.on_fault_set("ev-1", 0, {"estop"})) == Action::Open);
    CHECK(only(r.on_fault_set("ev-1", 0, {})) == Action::Resolve);
    CHECK(r.on_fault_set("ev-1", 0, {}).empty());
}

TEST_CASE("alertd: over_temp at temp_warn_c (the device's, else 60), cleared only below the margin") {
    ManualClock clock;
    alertd::Rules r(clock, quick());
    CHECK(r.on_temperature("pile-1", 59.9).empty());
    const auto d = r.on_temperature("pile-1", 60);
    REQUIRE(d.size() == 1);
    CHECK(d[0].action == Action::Open);
    CHECK(d[0].about.kind == "over_temp");
    CHECK(r.on_temperature("pile-1", 57).empty()); // within the 5 °C margin: still held
    CHECK(only(r.on_temperature("pile-1", 54.9)) == Action::Resolve);
    r.set_temp_warn("pile-2", 45);
    CHECK(only(r.on_temperature("pile-2", 46)) == Action::Open);
    CHECK(alertd::temp_warn_from_config(R"({"v":1,"data":{"version":3,"temp_warn_c":45}})") == 45.0);
    CHECK(alertd::temp_warn_from_config(R"({"temp_warn_c":50})") == 50.0);
    CHECK_FALSE(alertd::temp_warn_from_config(R"({"data":{}})"));
}

TEST_CASE("alertd: a lock fault seen by parkingd and by the space state is one alert, resolved when both clear") {
    ManualClock clock;
    alertd::Rules r(clock, quick());
    CHECK(only(r.on_lock("cam-1", 2, "parkingd", true, "the lock jammed")) == Action::Open);
    CHECK(r.on_lock("cam-1", 2, "space_state", true, "").empty());
    CHECK(r.on_lock("cam-1", 2, "parkingd", false, "").empty());
    CHECK(only(r.on_lock("cam-1", 2, "space_state", false, "")) == Action::Resolve);
}

TEST_CASE("alertd: stuck sessions and flagged payment orders raise per subject and clear when a scan no longer "
          "finds them") {
    ManualClock clock;
    alertd::Rules r(clock, quick());
    const auto now = clock.now_ms();
    auto d = r.on_stuck_sessions({{"S-1", "pile-1", 2, "starting", now - 700'000}});
    REQUIRE(d.size() == 1);
    CHECK(d[0].about.key() == "stuck_session:S-1");
    CHECK(d[0].detail == "session S-1 starting for 700 s");
    CHECK(r.on_stuck_sessions({{"S-1", "pile-1", 2, "starting", now - 700'000}}).empty());
    d = r.on_stuck_sessions({});
    REQUIRE(d.size() == 1);
    CHECK(d[0].action == Action::Resolve);

    d = r.on_payment_anomalies({{"P-1", "paid after it expired"}});
    REQUIRE(d.size() == 1);
    CHECK(d[0].about.device_id.empty());
    CHECK(d[0].about.key() == "payment_anomaly:P-1");
    CHECK(only(r.on_payment_anomalies({})) == Action::Resolve);
}

TEST_CASE("alertd: an alert read back at start is repeated, not reopened, while its condition holds, and resolved "
          "at the first sight of it gone") {
    ManualClock clock;
    alertd::Rules r(clock, quick());
    r.restore({"offline", "pile-1", 0, "pile-1"});
    r.restore({"fault", "pile-2", 1, "pile-2-1"});
    r.on_presence("pile-1", presence(false, 3, "lwt"));
    clock.advance_ms(2'000);
    CHECK(only(r.tick()) == Action::Touch); // held, not opened again
    CHECK(only(r.on_fault_set("pile-2", 1, {})) == Action::Resolve);
    CHECK(only(r.on_presence("pile-1", presence(true, 4))) == Action::Resolve);
}
