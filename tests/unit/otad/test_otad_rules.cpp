#include "common/clock.hpp"
#include "workers/otad/otad_rules.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

using namespace pilehub;
using namespace pilehub::otad;

namespace {

constexpr const char* kVersion = "2.0.0";

Rollout rollout(std::vector<std::string> devices, int batch_size = 1, std::int64_t interval_s = 0, int max_failures = 0,
                std::int64_t timeout_s = 60) {
    Rollout r;
    r.id = 7;
    r.firmware_id = 3;
    r.version = kVersion;
    r.sha256 = std::string(64, 'a');
    r.url = "http://api.test/api/v1/firmware/3?token=t";
    r.batch_size = batch_size;
    r.batch_interval_s = interval_s;
    r.max_failures = max_failures;
    r.timeout_s = timeout_s;
    for (auto& d : devices) {
        RolloutDevice x;
        x.device_id = d;
        r.devices.push_back(std::move(x));
    }
    return r;
}

payloads::EvtOta evt(payloads::OtaStatus st, std::optional<std::string> error = std::nullopt) {
    return payloads::EvtOta{kVersion, st, std::nullopt, std::move(error)};
}

/// Every device online and idle unless listed.
struct Fleet {
    std::map<std::string, Readiness> r;
    ReadinessOf fn() {
        return [this](const std::string& dev) {
            auto it = r.find(dev);
            return it == r.end() ? Readiness{true, false} : it->second;
        };
    }
};

DeviceState state_of(const Rules& rules, const std::string& dev, std::int64_t id = 7) {
    for (const auto& d : rules.rollouts().at(id).devices)
        if (d.device_id == dev)
            return d.state;
    FAIL("no device " << dev);
    return DeviceState::Pending;
}

std::vector<std::string> sent_to(const Effects& e) {
    std::vector<std::string> out;
    for (const auto& c : e.commands)
        out.push_back(c.device_id);
    return out;
}

std::optional<RolloutState> rollout_state(const Effects& e) {
    if (e.rollouts.empty())
        return std::nullopt;
    return e.rollouts.back().state;
}

/// Brings device P1 of a one-device rollout into `s` (pending, sent, downloading, installing,
/// installed, failed); returns the rules (max_failures 1, so one failure does not halt).
struct Setup {
    ManualClock clock;
    Rules rules{clock, RulesOptions{60, 0}};
    Fleet fleet;
    explicit Setup(DeviceState s) {
        rules.add(rollout({"P1", "P2"}, 1, 0, 1));
        if (s == DeviceState::Pending)
            return;
        auto e = rules.tick(fleet.fn());
        REQUIRE(sent_to(e) == std::vector<std::string>{"P1"});
        if (s == DeviceState::Downloading)
            rules.on_event("P1", evt(payloads::OtaStatus::Downloading));
        if (s == DeviceState::Installing)
            rules.on_event("P1", evt(payloads::OtaStatus::Installing));
        if (s == DeviceState::Installed)
            rules.on_firmware("P1", kVersion);
        if (s == DeviceState::Failed)
            rules.on_event("P1", evt(payloads::OtaStatus::Failed, "bad"));
        REQUIRE(state_of(rules, "P1") == s);
    }
};

} // namespace

TEST_CASE("otad: device state × event table") {
    using S = DeviceState;
    using O = payloads::OtaStatus;
    struct Event {
        const char* name;
        std::function<void(Setup&)> run;
    };
    const std::vector<Event> events{
        {"evt downloading", [](Setup& s) { s.rules.on_event("P1", evt(O::Downloading)); }},
        {"evt downloaded", [](Setup& s) { s.rules.on_event("P1", evt(O::Downloaded)); }},
        {"evt installing", [](Setup& s) { s.rules.on_event("P1", evt(O::Installing)); }},
        {"evt installed", [](Setup& s) { s.rules.on_event("P1", evt(O::Installed)); }},
        {"evt failed", [](Setup& s) { s.rules.on_event("P1", evt(O::Failed, "sha256 mismatch")); }},
        {"new fw", [](Setup& s) { s.rules.on_firmware("P1", kVersion); }},
        {"old fw", [](Setup& s) { s.rules.on_firmware("P1", "1.0.0"); }},
        {"reply rejected",
         [](Setup& s) { s.rules.on_reply("P1", "ota-7", payloads::ReplyStatus::Unsupported, "no ota"); }},
        {"timeout",
         [](Setup& s) {
             s.clock.advance_ms(61'000);
             s.fleet.r["P2"] = Readiness{true, true}; // keeps P2 from taking the next batch
             s.rules.tick(s.fleet.fn());
         }},
    };
    // expected[state][event]; Pending devices ignore device events (no cmd/ota was sent).
    const std::map<S, std::vector<S>> expected{
        {S::Pending,
         {S::Pending, S::Pending, S::Pending, S::Pending, S::Pending, S::Pending, S::Pending, S::Pending, S::Pending}},
        {S::Sent,
         {S::Downloading, S::Downloading, S::Installing, S::Installing, S::Failed, S::Installed, S::Sent, S::Failed,
          S::Failed}},
        {S::Downloading,
         {S::Downloading, S::Downloading, S::Installing, S::Installing, S::Failed, S::Installed, S::Downloading,
          S::Failed, S::Failed}},
        {S::Installing,
         {S::Installing, S::Installing, S::Installing, S::Installing, S::Failed, S::Installed, S::Installing, S::Failed,
          S::Failed}},
        {S::Installed,
         {S::Installed, S::Installed, S::Installed, S::Installed, S::Installed, S::Installed, S::Installed,
          S::Installed, S::Installed}},
        {S::Failed,
         {S::Failed, S::Failed, S::Failed, S::Failed, S::Failed, S::Failed, S::Failed, S::Failed, S::Failed}},
    };
    for (const auto& [from, row] : expected) {
        for (std::size_t i = 0; i < events.size(); ++i) {
            const std::string state_name(to_string(from)), event_name(events[i].name);
            CAPTURE(state_name);
            CAPTURE(event_name);
            Setup s(from);
            events[i].run(s);
            if (from == S::Pending && std::string(events[i].name) == "timeout") {
                // the tick sends P1 its command (its turn); no event moved it before
                CHECK(state_of(s.rules, "P1") == S::Sent);
                continue;
            }
            CHECK(state_of(s.rules, "P1") == row[i]);
        }
    }
}

TEST_CASE("otad: batches of 1 go one after another, each after the previous one ended and the interval passed") {
    ManualClock clock;
    Rules rules(clock, RulesOptions{60, 0});
    Fleet fleet;
    rules.add(rollout({"P1", "P2", "P3"}, 1, 30));
    auto e = rules.tick(fleet.fn());
    CHECK(sent_to(e) == std::vector<std::string>{"P1"});
    CHECK(e.commands.at(0).rid == "ota-7");
    CHECK(e.commands.at(0).exp == clock.now_ms() + 60'000);
    CHECK(e.commands.at(0).data.url == "http://api.test/api/v1/firmware/3?token=t");
    CHECK(sent_to(rules.tick(fleet.fn())).empty()); // P1 still at work

    clock.advance_ms(5'000);
    rules.on_firmware("P1", kVersion);
    CHECK(sent_to(rules.tick(fleet.fn())).empty()); // the interval has not passed
    clock.advance_ms(30'000);
    CHECK(sent_to(rules.tick(fleet.fn())) == std::vector<std::string>{"P2"});
    rules.on_firmware("P2", kVersion);
    clock.advance_ms(30'000);
    CHECK(sent_to(rules.tick(fleet.fn())) == std::vector<std::string>{"P3"});
    auto done = rules.on_firmware("P3", kVersion);
    CHECK(rollout_state(done) == RolloutState::Completed);
    CHECK_FALSE(rules.holds(7)); // an ended rollout is dropped
}

TEST_CASE("otad: a batch takes batch_size devices at once") {
    ManualClock clock;
    Rules rules(clock, RulesOptions{60, 0});
    Fleet fleet;
    rules.add(rollout({"P1", "P2", "P3"}, 2, 0, 1));
    CHECK(sent_to(rules.tick(fleet.fn())) == std::vector<std::string>{"P1", "P2"});
    rules.on_firmware("P1", kVersion);
    CHECK(sent_to(rules.tick(fleet.fn())).empty()); // P2 still at work
    rules.on_event("P2", evt(payloads::OtaStatus::Failed, "bad image"));
    CHECK(sent_to(rules.tick(fleet.fn())) == std::vector<std::string>{"P3"});
}

TEST_CASE("otad: failures past max_failures halt the rollout; the pending devices are skipped and never sent") {
    ManualClock clock;
    Rules rules(clock, RulesOptions{60, 0});
    Fleet fleet;
    rules.add(rollout({"P1", "P2", "P3"}, 1, 0, 1));
    CHECK(sent_to(rules.tick(fleet.fn())) == std::vector<std::string>{"P1"});
    auto first = rules.on_event("P1", evt(payloads::OtaStatus::Failed, "sha256 mismatch"));
    CHECK(rollout_state(first) == RolloutState::Running); // 1 failure is not past max_failures 1
    CHECK(first.rollouts.back().failures == 1);
    CHECK(sent_to(rules.tick(fleet.fn())) == std::vector<std::string>{"P2"});
    auto second = rules.on_event("P2", evt(payloads::OtaStatus::Failed, "sha256 mismatch"));
    CHECK(rollout_state(second) == RolloutState::Halted);
    CHECK(second.rollouts.back().failures == 2);
    bool p3_skipped = false;
    for (const auto& d : second.devices)
        p3_skipped = p3_skipped || (d.device.device_id == "P3" && d.device.state == DeviceState::Skipped);
    CHECK(p3_skipped);
    CHECK_FALSE(rules.holds(7));
    CHECK(sent_to(rules.tick(fleet.fn())).empty());
}

TEST_CASE("otad: a device that makes no progress within timeout_s fails") {
    ManualClock clock;
    Rules rules(clock, RulesOptions{60, 0});
    Fleet fleet;
    rules.add(rollout({"P1"}, 1, 0, 0, 60));
    rules.tick(fleet.fn());
    clock.advance_ms(50'000);
    rules.on_event("P1", evt(payloads::OtaStatus::Downloading)); // progress restarts the time-out
    clock.advance_ms(50'000);
    CHECK(rules.tick(fleet.fn()).devices.empty());
    clock.advance_ms(10'000);
    auto e = rules.tick(fleet.fn());
    REQUIRE_FALSE(e.devices.empty());
    CHECK(e.devices.front().device.state == DeviceState::Failed);
    CHECK(e.devices.front().device.error.find("timeout_s") != std::string::npos);
    CHECK(rollout_state(e) == RolloutState::Halted); // max_failures 0
}

TEST_CASE("otad: a busy device waits for its session to end; the others go first") {
    ManualClock clock;
    Rules rules(clock, RulesOptions{60, 0});
    Fleet fleet;
    fleet.r["P1"] = Readiness{true, true};
    rules.add(rollout({"P1", "P2"}));
    CHECK(sent_to(rules.tick(fleet.fn())) == std::vector<std::string>{"P2"});
    rules.on_firmware("P2", kVersion);
    clock.advance_ms(3'600'000); // however long the session lasts
    CHECK(sent_to(rules.tick(fleet.fn())).empty());
    CHECK(state_of(rules, "P1") == DeviceState::Pending);
    fleet.r.erase("P1");
    CHECK(sent_to(rules.tick(fleet.fn())) == std::vector<std::string>{"P1"});
}

TEST_CASE("otad: an offline device waits, and is skipped once offline for timeout_s after its turn came") {
    ManualClock clock;
    Rules rules(clock, RulesOptions{60, 0});
    Fleet fleet;
    fleet.r["P1"] = Readiness{false, false};
    rules.add(rollout({"P1"}, 1, 0, 0, 120));
    CHECK(rules.tick(fleet.fn()).empty());
    clock.advance_ms(119'000);
    CHECK(rules.tick(fleet.fn()).empty());
    clock.advance_ms(1'000);
    auto e = rules.tick(fleet.fn());
    REQUIRE(e.devices.size() == 1);
    CHECK(e.devices[0].device.state == DeviceState::Skipped);
    CHECK(rollout_state(e) == RolloutState::Completed);
}

TEST_CASE("otad: a device already on the version is installed without a command") {
    ManualClock clock;
    Rules rules(clock, RulesOptions{60, 0});
    Fleet fleet;
    rules.on_firmware("P1", kVersion);
    rules.add(rollout({"P1", "P2"}));
    auto e = rules.tick(fleet.fn());
    CHECK(sent_to(e) == std::vector<std::string>{"P2"});
    CHECK(state_of(rules, "P1") == DeviceState::Installed);
}

TEST_CASE("otad: a busy reply puts the device back in the queue; a restarted worker keeps the batch interval") {
    ManualClock clock;
    Rules rules(clock, RulesOptions{60, 0});
    Fleet fleet;
    rules.add(rollout({"P1"}));
    rules.tick(fleet.fn());
    rules.on_reply("P1", "ota-7", payloads::ReplyStatus::Busy, "");
    CHECK(state_of(rules, "P1") == DeviceState::Pending);
    CHECK(sent_to(rules.tick(fleet.fn())) == std::vector<std::string>{"P1"});

    // Restart: batch 1 ended 10 s ago, the interval is 30 s.
    Rules again(clock, RulesOptions{60, 0});
    auto r = rollout({"P1", "P2"}, 1, 30);
    r.devices[0].state = DeviceState::Installed;
    r.devices[0].batch = 1;
    r.devices[0].updated_at = clock.now_ms() - 10'000;
    again.add(r);
    CHECK(sent_to(again.tick(fleet.fn())).empty());
    clock.advance_ms(20'000);
    CHECK(sent_to(again.tick(fleet.fn())) == std::vector<std::string>{"P2"});
}

TEST_CASE("otad: an unanswered cmd/ota is sent again with the same rid and a fresh exp; an answered one is not") {
    ManualClock clock;
    Rules rules(clock, RulesOptions{60, 0});
    Fleet fleet;
    rules.add(rollout({"P1", "P2"}, 2, 0, 0, 600));
    CHECK(sent_to(rules.tick(fleet.fn())) == std::vector<std::string>{"P1", "P2"});
    rules.on_reply("P2", "ota-7", payloads::ReplyStatus::Ok, "");
    clock.advance_ms(59'000);
    CHECK(rules.tick(fleet.fn()).commands.empty());
    clock.advance_ms(1'000);
    auto again = rules.tick(fleet.fn());
    REQUIRE(sent_to(again) == std::vector<std::string>{"P1"}); // P2 answered
    CHECK(again.commands[0].rid == "ota-7");
    CHECK(again.commands[0].exp == clock.now_ms() + 60'000);
    CHECK(again.devices.empty()); // no state change: the time-out still counts from the first send
    fleet.r["P1"] = Readiness{false, false};
    clock.advance_ms(60'000);
    CHECK(rules.tick(fleet.fn()).commands.empty()); // offline: it waits for the device
}
