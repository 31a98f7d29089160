#include "common/clock.hpp"
#include "workers/autostopd/autostopd_rules.hpp"
#include "workers/autostopd/autostopd_store.hpp"
#include "workers/autostopd/autostopd_worker.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

using namespace pilehub;
using namespace pilehub::autostopd;

namespace {

constexpr const char* kDev = "pile-1";

SessionTerms session(const std::string& sid, int n, std::optional<Mode> mode, EpochMs start) {
    SessionTerms t;
    t.sid = sid;
    t.dev = kDev;
    t.n = n;
    t.mode = mode;
    t.start_ms = start;
    return t;
}

Telemetry tele(std::vector<PortReading> ports, std::optional<double> temp = std::nullopt,
               std::optional<double> total = std::nullopt) {
    Telemetry t;
    t.dev = kDev;
    t.temp_c = temp;
    t.total_power_w = total;
    t.ports = std::move(ports);
    return t;
}

std::vector<std::string> reasons(const std::vector<Stop>& stops) {
    std::vector<std::string> out;
    for (const auto& s : stops)
        out.push_back(std::string(to_string(s.reason)));
    return out;
}

std::vector<std::string> sids(const std::vector<Stop>& stops) {
    std::vector<std::string> out;
    for (const auto& s : stops)
        out.push_back(s.sid);
    std::sort(out.begin(), out.end());
    return out;
}

/// The report made by `report(t)` (t in s since the first) every `every_s` seconds for `for_s`
/// seconds, ticking every second in between; returns every stop.
std::vector<Stop> run_every(Rules& r, ManualClock& c, std::int64_t every_s, std::int64_t for_s,
                            const std::function<Telemetry(std::int64_t)>& report) {
    std::vector<Stop> all;
    for (std::int64_t t = 0; t < for_s; t += every_s) {
        for (auto& s : r.on_tele(report(t)))
            all.push_back(std::move(s));
        for (std::int64_t k = 0; k < every_s; ++k) {
            c.advance_ms(1000);
            for (auto& s : r.tick())
                all.push_back(std::move(s));
        }
    }
    return all;
}

/// A report of socket 1 every `every_s` seconds at `power_w`, for `for_s` seconds; returns every stop.
std::vector<Stop> run_reports(Rules& r, ManualClock& c, double power_w, std::int64_t every_s, std::int64_t for_s,
                              const char* sid = "S1", int n = 1) {
    return run_every(r, c, every_s, for_s, [&](std::int64_t) { return tele({{n, sid, power_w}}); });
}

/// One row of a rules table: a fresh session's terms and what happens to it.
struct Scenario {
    const char* name;
    std::function<void(SessionTerms&)> terms;
    std::function<std::vector<Stop>(Rules&, ManualClock&)> run;
};

/// Runs every scenario (rows) in every mode (columns: unknown, time, power, energy) on a fresh
/// session `sid` on socket 1 of a device prepared by `setup`, and checks the one reason asked for
/// ("" = none).
void check_table(const std::vector<Scenario>& scenarios, const std::vector<std::vector<std::string>>& table,
                 const char* sid, const std::function<void(Rules&)>& setup = {}) {
    const std::vector<std::optional<Mode>> modes{std::nullopt, Mode::Time, Mode::Power, Mode::Energy};
    REQUIRE(table.size() == scenarios.size());
    for (std::size_t i = 0; i < scenarios.size(); ++i) {
        for (std::size_t j = 0; j < modes.size(); ++j) {
            CAPTURE(scenarios[i].name);
            CAPTURE(modes[j] ? billing::to_string(*modes[j]) : std::string_view("unknown"));
            ManualClock clock;
            Rules rules(clock);
            if (setup)
                setup(rules);
            auto t = session(sid, 1, modes[j], clock.now_ms());
            scenarios[i].terms(t);
            rules.track(t);
            const auto out = reasons(scenarios[i].run(rules, clock));
            if (table[i][j].empty())
                CHECK(out.empty());
            else
                CHECK(out == std::vector<std::string>{table[i][j]});
        }
    }
}

} // namespace

TEST_CASE("autostop: stops a socket that stays under 5 W for the full wait") {
    ManualClock clock;
    Rules rules(clock);
    const auto start = clock.now_ms();
    rules.track(session("S1", 1, Mode::Power, start));
    // Charging at 180 W through the no-load window, then the battery is full: 3 W.
    CHECK(run_reports(rules, clock, 180, 60, 600).empty());
    const auto low_from = clock.now_ms();
    auto out = rules.on_tele(tele({{1, "S1", 3}}));
    CHECK(out.empty());
    clock.advance_ms(1800 * 1000 - 1);
    CHECK(rules.tick().empty());
    clock.advance_ms(1);
    out = rules.tick();
    REQUIRE(out.size() == 1);
    CHECK(out[0].reason == Reason::Full);
    CHECK(out[0].sid == "S1");
    CHECK(out[0].n == 1);
    CHECK(clock.now_ms() - low_from == 1800 * 1000);
    // One request per session per reason: nothing more while sessiond answers.
    CHECK(rules.on_tele(tele({{1, "S1", 3}})).empty());
    CHECK(rules.tick().empty());
}

TEST_CASE("autostop: a report at or above full_stop_w restarts the full wait") {
    ManualClock clock;
    Rules rules(clock);
    rules.track(session("S1", 1, Mode::Energy, clock.now_ms()));
    run_reports(rules, clock, 100, 60, 300);
    CHECK(run_reports(rules, clock, 4, 60, 1200).empty());
    CHECK(run_reports(rules, clock, 5, 60, 120).empty()); // 5 W is not below 5 W
    CHECK(run_reports(rules, clock, 4, 60, 1740).empty());
    const auto out = run_reports(rules, clock, 4, 60, 120);
    CHECK(reasons(out) == std::vector<std::string>{"full"});
}

TEST_CASE("autostop: a socket under full_stop_w during the whole no-load window is stopped as no_load") {
    ManualClock clock;
    Rules rules(clock);
    rules.track(session("S1", 1, Mode::Power, clock.now_ms()));
    rules.on_tele(tele({{1, "S1", 0.5}}));
    clock.advance_ms(99'999);
    CHECK(rules.tick().empty());
    clock.advance_ms(1);
    const auto out = rules.tick();
    REQUIRE(out.size() == 1);
    CHECK(out[0].reason == Reason::NoLoad);
}

TEST_CASE("autostop: one report above full_stop_w in the window means the socket is loaded") {
    ManualClock clock;
    Rules rules(clock);
    rules.track(session("S1", 1, Mode::Power, clock.now_ms()));
    rules.on_tele(tele({{1, "S1", 0}}));
    clock.advance_ms(30'000);
    rules.on_tele(tele({{1, "S1", 60}}));
    clock.advance_ms(30'000);
    rules.on_tele(tele({{1, "S1", 0}}));
    clock.advance_ms(60'000);
    CHECK(rules.tick().empty());
}

TEST_CASE("autostop: a session first seen after its no-load window is not called no_load") {
    ManualClock clock;
    Rules rules(clock);
    // autostopd restarted mid-session: the row says it started an hour ago.
    rules.track(session("S1", 1, Mode::Power, clock.now_ms() - 3'600'000));
    CHECK(rules.on_tele(tele({{1, "S1", 2}})).empty());
    clock.advance_ms(1799 * 1000);
    CHECK(rules.tick().empty());
    clock.advance_ms(1000);
    CHECK(reasons(rules.tick()) == std::vector<std::string>{"full"});
}

TEST_CASE("autostop: device overload stops the highest socket first") {
    ManualClock clock;
    Rules rules(clock);
    DeviceLimits lim;
    lim.config.device_overload_w = 1000;
    rules.set_limits(kDev, lim);
    for (int n = 1; n <= 4; ++n)
        rules.track(session("S" + std::to_string(n), n, Mode::Power, clock.now_ms()));
    // 300 + 450 + 200 + 150 = 1100 W > 1000 W: stopping socket 2 (450 W) is enough.
    auto out = rules.on_tele(tele({{1, "S1", 300}, {2, "S2", 450}, {3, "S3", 200}, {4, "S4", 150}}, 40.0, 1100.0));
    REQUIRE(out.size() == 1);
    CHECK(out[0].reason == Reason::DeviceOverload);
    CHECK(out[0].sid == "S2");
    CHECK(out[0].n == 2);
    // The next report still shows socket 2 drawing (the stop is in flight): no second victim.
    CHECK(rules.on_tele(tele({{1, "S1", 300}, {2, "S2", 450}, {3, "S3", 200}, {4, "S4", 150}}, 40.0, 1100.0)).empty());
    // sessiond accepted; meanwhile sockets 3 and 4 climb: 300 + 450 (stopping) + 500 + 400 = 1650, without
    // socket 2 still 1200 W → stop the highest still running, socket 3.
    rules.answered("S2", Reason::DeviceOverload, Answer::Accepted);
    out = rules.on_tele(tele({{1, "S1", 300}, {2, "S2", 450}, {3, "S3", 500}, {4, "S4", 400}}, 40.0, 1650.0));
    CHECK(sids(out) == std::vector<std::string>{"S3"});
}

TEST_CASE("autostop: device overload stops as many sockets as it takes, highest first") {
    ManualClock clock;
    Rules rules(clock);
    DeviceLimits lim;
    lim.config.device_overload_w = 1000;
    rules.set_limits(kDev, lim);
    for (int n = 1; n <= 4; ++n)
        rules.track(session("S" + std::to_string(n), n, Mode::Energy, clock.now_ms()));
    // 2000 W: 590 → 1410, 560 → 850: two sockets.
    auto out =
        rules.on_tele(tele({{1, "S1", 590}, {2, "S2", 560}, {3, "S3", 450}, {4, "S4", 400}}, std::nullopt, 2000.0));
    CHECK(sids(out) == std::vector<std::string>{"S1", "S2"});
    CHECK(reasons(out) == std::vector<std::string>{"device_overload", "device_overload"});
}

TEST_CASE("autostop: over-temperature stops every socket of the pile") {
    ManualClock clock;
    Rules rules(clock);
    for (int n = 1; n <= 3; ++n)
        rules.track(session("S" + std::to_string(n), n, n == 2 ? Mode::Time : Mode::Power, clock.now_ms()));
    // ...but not a session of another pile.
    SessionTerms other = session("X1", 1, Mode::Power, clock.now_ms());
    other.dev = "pile-2";
    rules.track(other);
    CHECK(rules.on_tele(tele({{1, "S1", 100}, {2, "S2", 100}, {3, "S3", 100}}, 74.9)).empty());
    auto out = rules.on_tele(tele({{1, "S1", 100}, {2, "S2", 100}, {3, "S3", 100}}, 75.0));
    CHECK(sids(out) == std::vector<std::string>{"S1", "S2", "S3"});
    CHECK(reasons(out) == std::vector<std::string>{"over_temp", "over_temp", "over_temp"});
    // The pile's state message says the same: no second request.
    CHECK(rules.on_temp(kDev, 80).empty());
}

TEST_CASE("autostop: the temperature in the device state stops the pile too") {
    ManualClock clock;
    Rules rules(clock);
    DeviceLimits lim;
    lim.config.temp_stop_c = 70;
    rules.set_limits(kDev, lim);
    rules.track(session("S1", 1, Mode::Time, clock.now_ms()));
    rules.track(session("S2", 7, Mode::Energy, clock.now_ms()));
    CHECK(sids(rules.on_temp(kDev, 70)) == std::vector<std::string>{"S1", "S2"});
}

TEST_CASE("autostop: a socket above socket_overload_w, or its override, is stopped") {
    ManualClock clock;
    Rules rules(clock);
    DeviceLimits lim;
    payloads::SocketOverride o;
    o.n = 3;
    o.socket_overload_w = 3500;
    lim.config.socket_overrides.push_back(o);
    lim.registry_overload_w[4] = 1000;
    rules.set_limits(kDev, lim);
    for (int n = 1; n <= 4; ++n)
        rules.track(session("S" + std::to_string(n), n, Mode::Time, clock.now_ms()));
    auto out = rules.on_tele(tele({{1, "S1", 600}, {2, "S2", 601}, {3, "S3", 3000}, {4, "S4", 900}}));
    CHECK(sids(out) == std::vector<std::string>{"S2"});
    out = rules.on_tele(tele({{3, "S3", 3501}, {4, "S4", 1001}}));
    CHECK(sids(out) == std::vector<std::string>{"S3", "S4"});
    CHECK(reasons(out) == std::vector<std::string>{"socket_overload", "socket_overload"});
}

TEST_CASE("autostop: in power mode a socket above the last tier is an overload once the start-up window is over") {
    ManualClock clock;
    Rules rules(clock);
    auto t = session("S1", 1, Mode::Power, clock.now_ms());
    t.tier_limit_w = 500;
    t.tier_ignore_first_s = 60;
    rules.track(t);
    CHECK(rules.on_tele(tele({{1, "S1", 550}})).empty()); // start-up spike
    clock.advance_ms(60'000);
    CHECK(reasons(rules.on_tele(tele({{1, "S1", 550}}))) == std::vector<std::string>{"socket_overload"});
}

TEST_CASE("autostop: an unsafe fault bit stops the socket; a safe one or a cleared one does not") {
    ManualClock clock;
    Rules rules(clock);
    rules.track(session("S1", 1, Mode::Time, clock.now_ms()));
    rules.track(session("S2", 2, Mode::Time, clock.now_ms()));
    CHECK(rules.on_fault(kDev, 1, 12, true).empty());    // door_open: not unsafe
    CHECK(rules.on_fault(kDev, 1, 9, true).size() == 1); // leakage on socket 1
    CHECK(rules.on_fault(kDev, 1, 9, false).empty());
    // A device-wide unsafe bit stops every socket that is not already being stopped.
    CHECK(sids(rules.on_fault_set(kDev, 0, 1u << 6)) == std::vector<std::string>{"S2"});
}

TEST_CASE("autostop: balance_low and cap.max_fen come from billingd's running cost") {
    ManualClock clock;
    Rules rules(clock);
    auto t = session("S1", 1, Mode::Energy, clock.now_ms());
    t.max_fen = 1000;
    rules.track(t);
    rules.track(session("S2", 2, Mode::Energy, clock.now_ms()));
    CHECK(rules.on_cost({"S1", 999, false, false}).empty());
    CHECK(reasons(rules.on_cost({"S1", 1000, false, false})) == std::vector<std::string>{"quota_reached"});
    CHECK(reasons(rules.on_cost({"S2", 50, true, false})) == std::vector<std::string>{"balance_low"});
    CHECK(rules.on_cost({"nobody", 50, true, true}).empty());
}

TEST_CASE("autostop: the chosen time and cap.max_minutes stop the session as quota_reached") {
    ManualClock clock;
    Rules rules(clock);
    auto t = session("S1", 1, Mode::Time, clock.now_ms());
    t.chosen_minutes = 60;
    rules.track(t);
    auto p = session("S2", 2, Mode::Power, clock.now_ms());
    p.max_minutes = 90;
    rules.track(p);
    rules.on_tele(tele({{1, "S1", 150}, {2, "S2", 150}}));
    clock.advance_ms(60 * 60'000 - 1);
    rules.on_tele(tele({{1, "S1", 150}, {2, "S2", 150}}));
    CHECK(rules.tick().empty());
    clock.advance_ms(1);
    CHECK(sids(rules.tick()) == std::vector<std::string>{"S1"});
    clock.advance_ms(30 * 60'000);
    const auto out = rules.tick();
    CHECK(sids(out) == std::vector<std::string>{"S2"});
    CHECK(reasons(out) == std::vector<std::string>{"quota_reached"});
}

TEST_CASE("autostop: which reasons apply in which mode (table)") {
    // Each scenario drives a fresh session on socket 1 for 200 s and returns the stops.
    const std::vector<Scenario> scenarios{
        {"under 5 W from the start", [](SessionTerms&) {},
         [](Rules& r, ManualClock& c) { return run_reports(r, c, 1, 20, 200); }},
        {"610 W", [](SessionTerms&) {}, [](Rules& r, ManualClock& c) { return run_reports(r, c, 610, 20, 40); }},
        {"80 C", [](SessionTerms&) {},
         [](Rules& r, ManualClock&) {
             return r.on_tele(tele({{1, "S1", 100}}, 80.0));
         }},
        {"leakage", [](SessionTerms&) {}, [](Rules& r, ManualClock&) { return r.on_fault(kDev, 1, 9, true); }},
        {"balance low", [](SessionTerms&) {},
         [](Rules& r, ManualClock&) {
             return r.on_cost({"S1", 10, true, false});
         }},
        {"3 min chosen", [](SessionTerms& t) { t.chosen_minutes = 3; },
         [](Rules& r, ManualClock& c) { return run_reports(r, c, 100, 20, 200); }},
        {"cap 3 min", [](SessionTerms& t) { t.max_minutes = 3; },
         [](Rules& r, ManualClock& c) { return run_reports(r, c, 100, 20, 200); }},
    };
    // rows: scenarios; columns: modes. "" = no stop.
    const std::vector<std::vector<std::string>> table{
        {"", "", "no_load", "no_load"},
        {"socket_overload", "socket_overload", "socket_overload", "socket_overload"},
        {"over_temp", "over_temp", "over_temp", "over_temp"},
        {"fault", "fault", "fault", "fault"},
        {"balance_low", "balance_low", "balance_low", "balance_low"},
        {"", "quota_reached", "", ""},
        {"quota_reached", "quota_reached", "quota_reached", "quota_reached"},
    };
    check_table(scenarios, table, "S1");
}

namespace {

using payloads::EvGunStatus;

/// A charger (CONTRACT A.5 `ev_charger`) with `config` in force.
void ev_charger(Rules& r, payloads::EvConfig config = {}) {
    DeviceLimits lim;
    lim.kind = Kind::EvCharger;
    lim.ev_config = config;
    r.set_limits(kDev, lim);
}

/// Gun 1 of the charger in a report: session E1, `power_w`, session energy, status, SoC.
PortReading gun(double power_w, std::optional<std::int64_t> energy_wh, EvGunStatus st = EvGunStatus::Charging,
                std::optional<int> soc = std::nullopt, std::optional<std::int64_t> register_wh = std::nullopt) {
    PortReading p;
    p.n = 1;
    p.sid = "E1";
    p.power_w = power_w;
    p.energy_wh = energy_wh;
    p.register_wh = register_wh;
    p.soc_pct = soc;
    p.ev_status = st;
    return p;
}

/// Reports of gun 1 every `every_s` seconds for `for_s` seconds, each made by `at(t)` (t in s since
/// the first), ticking every second in between; returns every stop.
std::vector<Stop> run_gun(Rules& r, ManualClock& c, std::int64_t every_s, std::int64_t for_s,
                          const std::function<PortReading(std::int64_t)>& at) {
    return run_every(r, c, every_s, for_s, [&](std::int64_t t) { return tele({at(t)}); });
}

/// A car charging at 7 kW: its energy grows with every report.
PortReading charging_7kw(std::int64_t t) {
    return gun(7000, 100 + t * 7000 / 3600);
}

} // namespace

TEST_CASE("autostop: every EV stop reason, in every mode (table)") {
    // Each scenario drives a fresh session E1 on gun 1 of a charger with the default configuration
    // (ev_full_wait_s 180, ev_no_load_wait_s 90, temp_stop_c 85) and returns the stops.
    auto none = [](SessionTerms&) {};
    const std::vector<Scenario> scenarios{
        {"charging at 7 kW for 10 min", none,
         [](Rules& r, ManualClock& c) { return run_gun(r, c, 30, 600, charging_7kw); }},
        {"the car reports 100 % SoC", none,
         [](Rules& r, ManualClock& c) {
             return run_gun(r, c, 30, 60, [](std::int64_t t) {
                 return gun(50'000, 2000 + t * 14, EvGunStatus::Charging, t < 30 ? 99 : 100);
             });
         }},
        {"suspended_ev for 180 s after charging", none,
         [](Rules& r, ManualClock& c) {
             return run_gun(r, c, 30, 330, [](std::int64_t t) {
                 return t < 150 ? charging_7kw(t) : gun(0, 400, EvGunStatus::SuspendedEv);
             });
         }},
        {"suspended_ev for 150 s only", none,
         [](Rules& r, ManualClock& c) {
             return run_gun(r, c, 30, 300, [](std::int64_t t) {
                 return t < 150 ? charging_7kw(t) : gun(0, 400, EvGunStatus::SuspendedEv);
             });
         }},
        {"the sleeping car: no energy for 90 s", none,
         [](Rules& r, ManualClock& c) {
             return run_gun(r, c, 30, 120, [](std::int64_t) { return gun(0, 0, EvGunStatus::SuspendedEv); });
         }},
        {"no session energy, but the register rises", none,
         [](Rules& r, ManualClock& c) {
             return run_gun(r, c, 30, 300, [](std::int64_t t) {
                 return gun(7000, std::nullopt, EvGunStatus::Charging, std::nullopt, 1'000'000 + t * 2);
             });
         }},
        {"neither session energy nor register rises", none,
         [](Rules& r, ManualClock& c) {
             return run_gun(r, c, 30, 120, [](std::int64_t) {
                 return gun(0, std::nullopt, EvGunStatus::Preparing, std::nullopt, 1'000'000);
             });
         }},
        {"the car is unplugged", none,
         [](Rules& r, ManualClock& c) {
             run_gun(r, c, 30, 60, charging_7kw);
             return r.on_plug_out(kDev, 1);
         }},
        {"charger at 85 C", none, [](Rules& r, ManualClock&) { return r.on_tele(tele({charging_7kw(0)}, 85.0)); }},
        {"charger at 84.9 C", none, [](Rules& r, ManualClock&) { return r.on_tele(tele({charging_7kw(0)}, 84.9)); }},
        {"estop", none,
         [](Rules& r, ManualClock&) {
             return r.on_fault_set(kDev, 1, payloads::ev_fault_mask(payloads::EvFault::Estop));
         }},
        {"door open (not unsafe by default)", none,
         [](Rules& r, ManualClock&) {
             return r.on_fault_set(kDev, 0, payloads::ev_fault_mask(payloads::EvFault::DoorOpen));
         }},
        {"balance low", none,
         [](Rules& r, ManualClock&) {
             return r.on_cost({"E1", 10, true, false});
         }},
        {"running cost reaches the prepaid max_fen", [](SessionTerms& t) { t.prepaid_fen = 3000; },
         [](Rules& r, ManualClock&) {
             auto below = r.on_cost({"E1", 2999, false, false});
             CHECK(below.empty());
             return r.on_cost({"E1", 3000, false, false});
         }},
        {"billingd says quota prepaid", none,
         [](Rules& r, ManualClock&) {
             return r.on_cost({"E1", 3000, false, false, billing::Quota::Prepaid});
         }},
        {"cap.max_fen", [](SessionTerms& t) { t.max_fen = 5000; },
         [](Rules& r, ManualClock&) {
             return r.on_cost({"E1", 5000, false, false});
         }},
        {"3 min chosen", [](SessionTerms& t) { t.chosen_minutes = 3; },
         [](Rules& r, ManualClock& c) { return run_gun(r, c, 30, 240, charging_7kw); }},
        {"cap 3 min", [](SessionTerms& t) { t.max_minutes = 3; },
         [](Rules& r, ManualClock& c) { return run_gun(r, c, 30, 240, charging_7kw); }},
        {"120 kW on a gun (overloads are e-bike rules)", none,
         [](Rules& r, ManualClock&) { return r.on_tele(tele({gun(120'000, 100)}, 40.0, 120'000.0)); }},
    };
    // rows: scenarios; columns: modes. "" = no stop.
    const std::vector<std::vector<std::string>> table{
        {"", "", "", ""},
        {"full", "full", "full", "full"},
        {"full", "full", "full", "full"},
        {"", "", "", ""},
        {"no_load", "no_load", "no_load", "no_load"},
        {"", "", "", ""},
        {"no_load", "no_load", "no_load", "no_load"},
        {"unplugged", "unplugged", "unplugged", "unplugged"},
        {"over_temp", "over_temp", "over_temp", "over_temp"},
        {"", "", "", ""},
        {"fault", "fault", "fault", "fault"},
        {"", "", "", ""},
        {"balance_low", "balance_low", "balance_low", "balance_low"},
        {"quota_reached", "quota_reached", "quota_reached", "quota_reached"},
        {"quota_reached", "quota_reached", "quota_reached", "quota_reached"},
        {"quota_reached", "quota_reached", "quota_reached", "quota_reached"},
        {"", "quota_reached", "", ""},
        {"quota_reached", "quota_reached", "quota_reached", "quota_reached"},
        {"", "", "", ""},
    };
    check_table(scenarios, table, "E1", [](Rules& r) { ev_charger(r); });
    CHECK(stop_cause(Reason::Unplugged) == svc::StopCause::Unplugged);
}

TEST_CASE("autostop: EV full asks for suspended_ev without a break for exactly ev_full_wait_s") {
    ManualClock clock;
    Rules rules(clock);
    ev_charger(rules);
    rules.track(session("E1", 1, Mode::Energy, clock.now_ms()));
    CHECK(rules.on_tele(tele({charging_7kw(0)})).empty());
    clock.advance_ms(600'000);
    // The gun's own state says suspended_ev; a charging moment in between starts the wait again.
    CHECK(rules.on_gun_status(kDev, 1, EvGunStatus::SuspendedEv).empty());
    clock.advance_ms(170'000);
    CHECK(rules.tick().empty());
    CHECK(rules.on_gun_status(kDev, 1, EvGunStatus::Charging).empty());
    CHECK(rules.on_gun_status(kDev, 1, EvGunStatus::SuspendedEv).empty());
    const auto from = clock.now_ms();
    clock.advance_ms(179'999);
    CHECK(rules.tick().empty());
    // A report saying the same does not restart it.
    CHECK(rules.on_tele(tele({gun(0, 1300, EvGunStatus::SuspendedEv)})).empty());
    clock.advance_ms(1);
    const auto out = rules.tick();
    REQUIRE(out.size() == 1);
    CHECK(out[0].reason == Reason::Full);
    CHECK(out[0].sid == "E1");
    CHECK(clock.now_ms() - from == 180'000);
}

TEST_CASE("autostop: EV limits come from the charger's configuration") {
    ManualClock clock;
    Rules rules(clock);
    payloads::EvConfig cfg;
    cfg.ev_no_load_wait_s = 30;
    cfg.ev_full_wait_s = 60;
    cfg.temp_warn_c = 50;
    cfg.temp_stop_c = 60;
    ev_charger(rules, cfg);
    rules.track(session("E1", 1, Mode::Energy, clock.now_ms()));
    rules.track(session("E2", 2, Mode::Energy, clock.now_ms()));
    auto sleeping = gun(0, 0, EvGunStatus::SuspendedEv);
    auto charging = gun(7000, 50, EvGunStatus::Charging);
    charging.n = 2;
    charging.sid = "E2";
    CHECK(rules.on_tele(tele({sleeping, charging}, 59.9)).empty());
    clock.advance_ms(29'999);
    CHECK(rules.tick().empty());
    clock.advance_ms(1);
    auto out = rules.tick();
    CHECK(sids(out) == std::vector<std::string>{"E1"});
    CHECK(reasons(out) == std::vector<std::string>{"no_load"});
    charging.ev_status = EvGunStatus::SuspendedEv;
    CHECK(rules.on_tele(tele({charging})).empty());
    clock.advance_ms(60'000);
    CHECK(reasons(rules.tick()) == std::vector<std::string>{"full"});
    rules.track(session("E3", 3, Mode::Energy, clock.now_ms()));
    auto third = gun(7000, 10);
    third.n = 3;
    third.sid = "E3";
    CHECK(reasons(rules.on_tele(tele({third}, 60.0))) == std::vector<std::string>{"over_temp"});
}

TEST_CASE("autostop: an EV session first seen late is no_load only if its energy is still 0") {
    ManualClock clock;
    Rules rules(clock);
    ev_charger(rules);
    // autostopd restarted: the rows say both started an hour ago.
    auto a = session("E1", 1, Mode::Energy, clock.now_ms() - 3'600'000);
    a.meter_start_wh = 1'000'000;
    rules.track(a);
    CHECK(rules.on_tele(tele({gun(7000, std::nullopt, EvGunStatus::Charging, std::nullopt, 1'030'000)})).empty());
    auto b = session("E2", 2, Mode::Energy, clock.now_ms() - 3'600'000);
    rules.track(b);
    auto asleep = gun(0, 0, EvGunStatus::SuspendedEv);
    asleep.n = 2;
    asleep.sid = "E2";
    const auto out = rules.on_tele(tele({asleep}));
    CHECK(sids(out) == std::vector<std::string>{"E2"});
    CHECK(reasons(out) == std::vector<std::string>{"no_load"});
}

TEST_CASE("autostop: plug_out of a gun without a live session asks nothing") {
    ManualClock clock;
    Rules rules(clock);
    ev_charger(rules);
    CHECK(rules.on_plug_out(kDev, 1).empty());
    rules.track(session("E1", 1, Mode::Energy, clock.now_ms()));
    CHECK(rules.on_plug_out(kDev, 2).empty());
    CHECK(rules.session_on(kDev, 1) == "E1");
    CHECK_FALSE(rules.session_on(kDev, 2));
    rules.port_idle(kDev, 1);
    CHECK(rules.on_plug_out(kDev, 1).empty());
}

TEST_CASE("autostop: sessiond's answers: accepted ends the asking, refused ends that reason, failed is retried") {
    ManualClock clock;
    Rules rules(clock, kDefaultUnsafeFaultBits, 10'000);
    rules.track(session("S1", 1, Mode::Time, clock.now_ms()));
    auto over = [&] { return rules.on_tele(tele({{1, "S1", 700}})); };
    REQUIRE(over().size() == 1);
    CHECK(over().empty()); // in flight
    rules.answered("S1", Reason::SocketOverload, Answer::Failed);
    CHECK(over().empty());
    clock.advance_ms(9'999);
    CHECK(over().empty());
    clock.advance_ms(1);
    REQUIRE(over().size() == 1); // asked again after the retry delay
    rules.answered("S1", Reason::SocketOverload, Answer::Rejected);
    clock.advance_ms(60'000);
    CHECK(over().empty()); // never again for this reason
    CHECK(reasons(rules.on_tele(tele({{1, "S1", 700}}, 90.0))) == std::vector<std::string>{"over_temp"});
    rules.answered("S1", Reason::OverTemp, Answer::Accepted);
    CHECK(rules.on_fault(kDev, 1, 0, true).empty()); // being stopped: nothing more
    CHECK(rules.on_cost({"S1", 5, true, true}).empty());
}

TEST_CASE("autostop: a socket that reports another session or none ends the one it had") {
    ManualClock clock;
    Rules rules(clock);
    rules.track(session("S1", 1, Mode::Power, clock.now_ms()));
    rules.track(session("S2", 2, Mode::Power, clock.now_ms()));
    rules.on_tele(tele({{1, "S1", 100}, {2, "S2", 100}}));
    rules.on_tele(tele({{1, "S9", 100}, {2, std::nullopt, 0}}));
    CHECK_FALSE(rules.tracks("S1"));
    CHECK_FALSE(rules.tracks("S2"));
    CHECK(rules.tracks("S9"));
    CHECK_FALSE(rules.terms_known("S9")); // seen in telemetry only
    rules.port_idle(kDev, 1);
    CHECK_FALSE(rules.tracks("S9"));
    CHECK(rules.sessions() == 0);
}

TEST_CASE("autostop: a session is forgotten after an hour without any report") {
    ManualClock clock;
    Rules rules(clock);
    rules.track(session("S1", 1, Mode::Power, clock.now_ms()));
    clock.advance_ms(3'600'000);
    rules.tick();
    CHECK_FALSE(rules.tracks("S1"));
}

TEST_CASE("autostop: configuration documents in their stored and published shapes") {
    auto flat = config_from_document(R"({"full_stop_w": 8, "device_overload_w": 3000})");
    REQUIRE(flat);
    CHECK(flat->full_stop_w == 8);
    CHECK(flat->device_overload_w == 3000);
    CHECK(flat->full_wait_s == 1800); // default
    auto versioned = config_from_document(R"({"version": 4, "temp_stop_c": 70, "temp_warn_c": 50})");
    REQUIRE(versioned);
    CHECK(versioned->temp_stop_c == 70);
    auto message = config_from_document(
        R"({"v":1,"ts":1,"boot":0,"seq":0,"data":{"version":2,"socket_overload_w":800,"socket_overrides":[{"n":3,"socket_overload_w":3500}]}})");
    REQUIRE(message);
    CHECK(message->socket_overload_w == 800);
    REQUIRE(message->socket_overrides.size() == 1);
    CHECK_FALSE(config_from_document(R"({"full_stop_w": 900})")); // out of range
    CHECK_FALSE(config_from_document("{"));
    // A charger's document, stored or published.
    auto ev = ev_config_from_document(R"({"version": 3, "ev_full_wait_s": 300, "temp_stop_c": 80})");
    REQUIRE(ev);
    CHECK(ev->ev_full_wait_s == 300);
    CHECK(ev->ev_no_load_wait_s == 90); // default
    CHECK(ev->temp_stop_c == 80);
    auto ev_message =
        ev_config_from_document(R"({"v":1,"ts":1,"boot":0,"seq":0,"data":{"version":2,"ev_no_load_wait_s":120}})");
    REQUIRE(ev_message);
    CHECK(ev_message->ev_no_load_wait_s == 120);
    CHECK_FALSE(ev_config_from_document(R"({"ev_no_load_wait_s": 4000})"));
}

TEST_CASE("autostop: the tariff gives the caps and, in power mode, the overload tier") {
    const char* doc = R"({"name":"t","timezone":"Asia/Shanghai","modes":["power"],
        "power":{"tiers":[{"up_to_w":150,"fen_per_hour":25},{"up_to_w":2000,"fen_per_hour":100}],"ignore_first_s":60},
        "cap":{"max_minutes":720,"max_fen":1000},"min_start_balance_fen":200,"stop_below_balance_fen":0})";
    SessionTerms t;
    t.mode = Mode::Power;
    CHECK_FALSE(apply_tariff(doc, t));
    CHECK(t.max_minutes == 720);
    CHECK(t.max_fen == 1000);
    CHECK(t.tier_limit_w == 2000);
    CHECK(t.tier_ignore_first_s == 60);
    SessionTerms e;
    e.mode = Mode::Time;
    CHECK_FALSE(apply_tariff(doc, e));
    CHECK_FALSE(e.tier_limit_w);
    CHECK(apply_tariff("{}", e).has_value());
}

TEST_CASE("autostop: the stop request names the session, the reason and the actor") {
    Stop s{"S-42", kDev, 3, Reason::DeviceOverload, "x"};
    CHECK(svc::encode(stop_request(s)) == R"({"session_id":"S-42","reason":"device_overload","actor":"autostopd"})");
}

TEST_CASE("autostop: device overload counts only the sockets of the report that carries the total") {
    ManualClock clock;
    Rules rules(clock);
    DeviceLimits lim;
    lim.config.device_overload_w = 1000;
    rules.set_limits(kDev, lim);
    for (int n = 1; n <= 3; ++n)
        rules.track(session("S" + std::to_string(n), n, Mode::Power, clock.now_ms()));
    // Socket 1 is being stopped (an earlier overload) and is not in the next, sparse report.
    REQUIRE(rules.on_tele(tele({{1, "S1", 700}})).size() == 1);
    const auto out = rules.on_tele(tele({{2, "S2", 600}, {3, "S3", 500}}, std::nullopt, 1100.0));
    CHECK(sids(out) == std::vector<std::string>{"S2"});
}
