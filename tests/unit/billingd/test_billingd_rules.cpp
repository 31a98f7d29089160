#include "billingd_rules.hpp"

#include "tests/unit/ledger/ledger_fixture.hpp"

#include "common/json.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using namespace pilehub::billing;

namespace {

constexpr EpochMs kStart = 1'732'183'200'000; // 2024-11-21T10:00:00Z = 18:00 in Shanghai
constexpr EpochMs kMin = 60'000;

std::shared_ptr<const Tariff> tariff(std::string doc = pilehub::test::kPowerTariff) {
    auto t = parse_tariff(doc);
    REQUIRE_MESSAGE(t.ok(), (t.ok() ? std::string() : t.error()));
    return std::make_shared<const Tariff>(std::move(t).value());
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
    const auto p = s.find(from);
    REQUIRE(p != std::string::npos);
    s.replace(p, from.size(), to);
    return s;
}

SessionFacts ended(std::string mode, std::int64_t duration_s, std::int64_t energy_wh = 0,
                   std::int64_t max_power_w = 0) {
    SessionFacts s;
    s.id = "s1";
    s.account_id = 1;
    s.station_id = 1;
    s.state = svc::SessionState::Stopping;
    s.mode = std::move(mode);
    s.tariff_id = 7;
    s.created_at = kStart - 2000;
    s.started_at = kStart;
    s.ended_at = kStart + duration_s * 1000 + 1500;
    s.duration_s = duration_s;
    s.energy_wh = energy_wh;
    s.max_power_w = max_power_w;
    s.stop_reason = "full";
    s.record_msg_id = "e-17-4411";
    return s;
}

TariffChoice choice(std::shared_ptr<const Tariff> t, std::int64_t id = 7) {
    return {id, std::move(t), {}};
}

LiveSession live(std::string mode, std::optional<std::int64_t> minutes = std::nullopt) {
    return {"s1", 1, std::move(mode), minutes, kStart, "pile-1", 1};
}

} // namespace

TEST_CASE(
    "billingd: a session is settled only once its record is committed, while stopping or settling, without a cost") {
    auto s = ended("power", 600);
    CHECK(settleable(s));
    s.state = svc::SessionState::Settling;
    CHECK(settleable(s));
    for (auto st : {svc::SessionState::Starting, svc::SessionState::Charging, svc::SessionState::Suspended,
                    svc::SessionState::Completed, svc::SessionState::Failed}) {
        s.state = st;
        CHECK_MESSAGE(!settleable(s), svc::to_string(st));
    }
    s.state = svc::SessionState::Stopping;
    s.record_msg_id.reset();
    CHECK_FALSE(settleable(s));
    s.record_msg_id = "forced:s1";
    s.cost_fen = 0;
    CHECK_FALSE(settleable(s));

    // However long ago and whatever the telemetry: a row that is not settleable is never due.
    ManualClock clock(kStart + 24 * 3'600'000);
    s.committed_at = kStart;
    CHECK_FALSE(due_for_settlement(s, clock, 2000, {kStart + 3'600'000}));
    s.cost_fen.reset();
    CHECK(due_for_settlement(s, clock, 2000, {kStart + 3'600'000}));
}

TEST_CASE("billing: a session is not settled before its telemetry is stored or the settle delay has passed") {
    auto s = ended("power", 600); // stopped (ended_at) at kStart + 601.5 s by the pile's clock
    const EpochMs committed = *s.ended_at + 40;
    s.committed_at = committed;
    ManualClock clock(committed + 5); // billingd hears of it milliseconds after the commit
    // The last reports are still in recorderd's batch: the stored curve ends before the stop.
    const TelemetryEvidence partial{kStart + 540'000};
    const TelemetryEvidence none{};
    CHECK(settle_not_before(s, 2000) == committed + 2000);
    CHECK_FALSE(due_for_settlement(s, clock, 2000, partial));
    CHECK_FALSE(due_for_settlement(s, clock, 2000, none));
    clock.set(committed + 1999);
    CHECK_FALSE(due_for_settlement(s, clock, 2000, partial));
    CHECK_FALSE(due_for_settlement(s, clock, 2000, none));
    // The delay is up: settled from what is stored, telemetry or not (a session may have none).
    clock.set(committed + 2000);
    CHECK(due_for_settlement(s, clock, 2000, partial));
    CHECK(due_for_settlement(s, clock, 2000, none));
    // A session found by the start-up scan long after its commit is due at once.
    clock.set(committed + 3'600'000);
    CHECK(due_for_settlement(s, clock, 2000, none));
    // A delay of 0 restores settling on the commit.
    clock.set(committed);
    CHECK(due_for_settlement(s, clock, 0, none));
    CHECK(settle_not_before(s, -5) == committed);
    // Evidence is the latest stored sample.
    CHECK_FALSE(evidence_of({}).last_sample_ms.has_value());
    CHECK(evidence_of({{kStart + 5, 0, 1}, {kStart + 90, 1, 2}, {kStart + 20, 1, 3}}).last_sample_ms == kStart + 90);
}

TEST_CASE("billing: a session whose samples cover its stop time settles at once") {
    auto s = ended("power", 600);
    s.committed_at = *s.ended_at + 40;
    ManualClock clock(s.committed_at + 5);
    // A report at the stop (or after it) is stored: recorderd writes a device's reports in order,
    // so every report before it is stored too.
    CHECK(due_for_settlement(s, clock, 2000, {*s.ended_at}));
    CHECK(due_for_settlement(s, clock, 2000, {*s.ended_at + 900}));
    CHECK(due_for_settlement(s, clock, 2000, evidence_of({{kStart + 60'000, 3, 180}, {*s.ended_at, 30, 0}})));
    CHECK_FALSE(due_for_settlement(s, clock, 2000, {*s.ended_at - 1}));
    // Without ended_at the stop is the pricing window's.
    s.ended_at.reset();
    CHECK(due_for_settlement(s, clock, 2000, {settlement_window(s).stop_ms}));
    CHECK_FALSE(due_for_settlement(s, clock, 2000, {settlement_window(s).stop_ms - 1}));
}

TEST_CASE("billingd: worked example, power mode: 180 W after the first minute, 18 min 00 s → tier 300 W → 9 fen") {
    const auto t = tariff();
    auto s = ended("power", 18 * 60, 54, 400);
    // A 400 W spike in the first minute is ignored; 180 W afterwards picks the 300 W tier.
    std::vector<Sample> recorded{{kStart + 10'000, 1, 400},
                                 {kStart + 2 * kMin, 6, 180},
                                 {kStart + 10 * kMin, 30, 175},
                                 {kStart + 17 * kMin, 51, 160}};
    const auto p = plan_settlement(s, choice(t), recorded);
    CHECK(p.priced_fen == Fen(9));
    CHECK(p.tariff_id == 7);
    CHECK(p.note.empty());
    std::string err;
    auto doc = json::parse(p.bill_json);
    REQUIRE(doc.ok());
    auto o = json::Object::root(*doc, &err);
    CHECK(o.req_int("cost_fen") == 9);
    CHECK(o.req_int("max_power_w") == 180);
}

TEST_CASE("billingd: the pricing window runs from the start for the pile's duration_s, else to ended_at") {
    auto s = ended("time", 600);
    auto w = settlement_window(s);
    CHECK(w.start_ms == kStart);
    CHECK(w.stop_ms == kStart + 600'000); // not ended_at, which is 1.5 s later by our clock
    s.duration_s = 0;
    w = settlement_window(s);
    CHECK(w.stop_ms == *s.ended_at);
    s.started_at.reset();
    CHECK(settlement_window(s).start_ms == s.created_at);
}

TEST_CASE("billingd: a session the platform asked to stop is billed to the stop request, not to when the pile obeyed") {
    const auto t = tariff();
    auto s = ended("time", 30 * 60); // the pile ran 30 min: it was away when the rider pressed stop
    s.minutes = 60;
    CHECK(plan_settlement(s, choice(t), {}).priced_fen == Fen(50));
    // Asked 12 min after the platform created it (2 s before the start the pile confirmed).
    s.stop_requested_at = s.created_at + 12 * kMin;
    const auto w = settlement_window(s);
    CHECK(w.stop_ms == kStart + 12 * kMin);
    CHECK(w.pile_stop_ms == kStart + 30 * kMin);
    CHECK(w.cut_at_stop_request());
    CHECK(plan_settlement(s, choice(t), {}).priced_fen == Fen(20)); // 12 min x 100 fen/h
    // The pile's clock (which may have set started_at) does not move it: only the platform's times count.
    s.started_at = kStart + 7 * kMin;
    CHECK(settlement_window(s).stop_ms == kStart + 19 * kMin);
    s.started_at = kStart;
    // A pile that stopped on its own before the request: its own end stands.
    s.stop_requested_at = s.created_at + 45 * kMin;
    CHECK_FALSE(settlement_window(s).cut_at_stop_request());
    CHECK(plan_settlement(s, choice(t), {}).priced_fen == Fen(50));
    // Asked to stop as it was created (stopped while starting): nothing to bill.
    s.stop_requested_at = s.created_at;
    CHECK(settlement_window(s).stop_ms == kStart);
    CHECK(plan_settlement(s, choice(t), {}).priced_fen == Fen(0));
    // Power mode: reports after the request choose no tier.
    auto p = ended("power", 60 * 60, 400, 900);
    p.stop_requested_at = p.created_at + 30 * kMin;
    const std::vector<Sample> curve{{kStart + 5 * kMin, 10, 120}, {kStart + 40 * kMin, 300, 900}};
    CHECK(plan_settlement(p, choice(t), curve).priced_fen == Fen(12)); // 30 min x 25 fen/h (120 W tier)
}

TEST_CASE("billingd: the energy at a stop request is read off the curve closed by the record") {
    const std::vector<Sample> curve{
        {kStart + 10 * kMin, 100, 200}, {kStart + 20 * kMin, 200, 200}, {kStart + 30 * kMin, 300, 200}};
    const auto final_ms = kStart + 60 * kMin;
    struct Case {
        const char* what;
        std::vector<Sample> recorded;
        EpochMs at;
        std::int64_t want_wh;
    };
    const Case cases[] = {
        {"between two reports", curve, kStart + 25 * kMin, 250},
        {"on a report", curve, kStart + 20 * kMin, 200},
        {"before the first report: from 0 at the start", curve, kStart + 5 * kMin, 50},
        {"after the last report: toward the record's total", curve, kStart + 45 * kMin, 450},
        {"at the record's end", curve, final_ms, 600},
        {"no report at all (the pile was away): along the record", {}, kStart + 15 * kMin, 150},
        {"a falling report is ignored",
         {{kStart + 10 * kMin, 100, 0}, {kStart + 20 * kMin, 40, 0}},
         kStart + 20 * kMin,
         100},
        {"a report above the record's total counts as the total",
         {{kStart + 10 * kMin, 900, 0}},
         kStart + 10 * kMin,
         600},
    };
    for (const auto& c : cases)
        CHECK_MESSAGE(energy_at(c.recorded, kStart, final_ms, 600, c.at) == c.want_wh, c.what);
}

TEST_CASE("billingd: an energy session stopped late is billed the energy up to the stop request") {
    const auto t = tariff(R"({
      "name": "Energy", "timezone": "Asia/Shanghai", "modes": ["energy"],
      "energy": {"periods": {"flat": {"elec_e4": 7000, "service_e4": 6000}}, "slots": [)" +
                          [] {
                              std::string slots;
                              for (int i = 0; i < 48; ++i)
                                  slots += i ? ",\"flat\"" : "\"flat\"";
                              return slots;
                          }() +
                          R"(], "service_by": "energy"},
      "free_minutes": 0, "min_start_balance_fen": 200, "stop_below_balance_fen": 0})");
    auto s = ended("energy", 60 * 60, 600, 200);
    // Reports up to 20 min (the pile then went away); the rider stopped at 25 min; the pile obeyed at 60.
    const std::vector<Sample> curve{{kStart + 10 * kMin, 100, 200}, {kStart + 20 * kMin, 200, 200}};
    auto energy_mwh = [&](const SessionFacts& f) {
        const auto p = plan_settlement(f, choice(t), curve);
        auto doc = json::parse(p.bill_json);
        REQUIRE(doc.ok());
        std::string err;
        auto o = json::Object::root(*doc, &err);
        return o.req_int("energy_mwh");
    };
    CHECK(energy_mwh(s) == 600'000);
    s.stop_requested_at = s.created_at + 25 * kMin;
    CHECK(energy_mwh(s) == 250'000); // 200 Wh at 20 min, toward 600 Wh at 60 min
    const auto samples =
        settlement_samples(s, t.get(), {{kStart + 10 * kMin, 100, 200}, {kStart + 50 * kMin, 500, 200}});
    REQUIRE(samples.size() == 2); // the report after the request is left out
    CHECK(samples.back().t == kStart + 25 * kMin);
    CHECK(samples.back().energy_wh == 250); // 100 Wh at 10 min, toward 500 Wh at 50 min
}

TEST_CASE("billingd: the record's final reading closes the curve; lost telemetry is tiered on the pile's max_power_w") {
    const auto t = tariff();
    auto s = ended("power", 60 * 60, 400, 450);
    // No report at all: the pile's own max (450 W) picks the 500 W tier: 60 min × 45 fen/h.
    auto p = plan_settlement(s, choice(t), {});
    CHECK(p.priced_fen == Fen(45));
    // Reports after the first minute exist: they decide (120 W → 25 fen/h), the final reading adds energy only.
    p = plan_settlement(s, choice(t), {{kStart + 5 * kMin, 10, 120}});
    CHECK(p.priced_fen == Fen(25));
    const auto samples = settlement_samples(s, t.get(), {{kStart + 5 * kMin, 10, 120}, {kStart + 70 * kMin, 500, 90}});
    REQUIRE(samples.size() == 3);
    CHECK(samples[1].t == kStart + 60 * kMin); // a late report is moved to the stop
    CHECK(samples.back().t == kStart + 60 * kMin);
    CHECK(samples.back().energy_wh == 400);
    CHECK(samples.back().power_w == 0);
}

TEST_CASE("billingd: no_load and sessions within the free minutes cost 0") {
    const auto t = tariff();
    auto s = ended("power", 30 * 60, 0, 0);
    s.stop_reason = "no_load";
    CHECK(plan_settlement(s, choice(t), {}).priced_fen == Fen(0));
    s = ended("time", 4 * 60 + 59);
    s.minutes = 60;
    CHECK(plan_settlement(s, choice(t), {}).priced_fen == Fen(0));
    s = ended("time", 30 * 60);
    s.minutes = 60;
    CHECK(plan_settlement(s, choice(t), {}).priced_fen == Fen(50));
}

TEST_CASE("billingd: a session that cannot be priced is settled at 0 with the reason, so its socket is freed") {
    const auto t = tariff();
    auto s = ended("power", 600);
    auto p = plan_settlement(s, TariffChoice{}, {});
    CHECK(p.priced_fen == Fen(0));
    CHECK(p.note.find("no tariff") != std::string::npos);
    CHECK(p.bill_json.find("\"error\"") != std::string::npos);
    p = plan_settlement(s, TariffChoice{9, nullptr, "slots must have 48 entries"}, {});
    CHECK(p.priced_fen == Fen(0));
    CHECK(p.tariff_id == 9);
    CHECK(p.note.find("slots must have 48 entries") != std::string::npos);
    s.mode = "energy"; // not offered by this tariff
    p = plan_settlement(s, choice(t), {});
    CHECK(p.priced_fen == Fen(0));
    CHECK(p.note.find("cannot be priced") != std::string::npos);
}

TEST_CASE("billingd: the shortfall rule debits what the wallet holds and records the rest as the shortfall") {
    auto a = settle_amounts(Fen(300), Fen(1000));
    CHECK(a.debit_fen == Fen(300));
    CHECK(a.shortfall_fen == Fen(0));
    a = settle_amounts(Fen(300), Fen(120));
    CHECK(a.debit_fen == Fen(120));
    CHECK(a.shortfall_fen == Fen(180));
    a = settle_amounts(Fen(300), Fen(0));
    CHECK(a.debit_fen == Fen(0));
    CHECK(a.shortfall_fen == Fen(300));
    a = settle_amounts(Fen(0), Fen(50));
    CHECK(a.debit_fen + a.shortfall_fen == Fen(0));
}

TEST_CASE(
    "billingd: running cost grows with time, published after a reading at most once per interval and periodically") {
    ManualClock clock(kStart);
    CostTracker costs(clock, {1000, 15000, 20000});
    costs.track(live("time", 60), tariff(), {});
    CHECK(costs.tracking("s1"));
    CHECK(costs.due() == std::vector<std::string>{"s1"}); // never published yet
    clock.advance_ms(30 * kMin);
    auto u = costs.compute("s1", {Fen(1000), Fen(0)});
    REQUIRE(u);
    CHECK(u->cost_fen == Fen(50)); // 30 min × 100 fen/h
    CHECK(u->elapsed_s == 1800);
    CHECK(u->available_fen == Fen(1000));
    CHECK_FALSE(u->balance_low);
    CHECK(costs.due().empty());

    CHECK_FALSE(costs.on_reading("s1", clock.now_ms(), 10, 100)); // just published
    clock.advance_ms(1000);
    CHECK(costs.on_reading("s1", clock.now_ms(), 11, 100));
    CHECK_FALSE(costs.on_reading("s1", clock.now_ms() - 5000, 9, 100)); // an older reading is ignored
    CHECK_FALSE(costs.on_reading("other", clock.now_ms(), 1, 1));       // untracked
    clock.advance_ms(15000);
    CHECK(costs.due() == std::vector<std::string>{"s1"});
    u = costs.compute("s1", {Fen(1000), Fen(0)});
    CHECK(u->energy_wh == 11);
    CHECK(u->cost_fen == Fen(50)); // 30 min 16 s × 100 fen/h = 50.44 → 50
    const auto text = svc::encode(running_cost(*u));
    CHECK(text.find("\"cost_fen\":50") != std::string::npos);
    CHECK(text.find("\"balance_low\":false") != std::string::npos);
    CHECK(text.find("\"cap_reached\":false") != std::string::npos);

    CHECK(costs.retain({}) == std::vector<std::string>{"s1"});
    CHECK_FALSE(costs.tracking("s1"));
}

TEST_CASE("billingd: balance_low once wallet − running cost < stop_below_balance_fen") {
    ManualClock clock(kStart);
    CostTracker costs(clock, {});
    costs.track(live("time", 60), tariff(), {});
    clock.advance_ms(6 * kMin); // 10 fen so far
    auto u = costs.compute("s1", {Fen(6), Fen(4)});
    CHECK(u->cost_fen == Fen(10));
    CHECK_FALSE(u->balance_low); // 10 − 10 = 0, not below 0
    clock.advance_ms(36'000);    // 11 fen
    u = costs.compute("s1", {Fen(6), Fen(4)});
    CHECK(u->cost_fen == Fen(11));
    CHECK(u->balance_low);
    CHECK(u->available_fen == Fen(10));

    // With stop_below_balance_fen 200 (2 yuan, seeds/000), the same wallet is low at once.
    auto strict = tariff(
        replace(pilehub::test::kPowerTariff, "\"stop_below_balance_fen\": 0", "\"stop_below_balance_fen\": 200"));
    costs.track(live("time", 60), strict, {});
    u = costs.compute("s1", {Fen(150), Fen(49)});
    CHECK(u->balance_low);
    u = costs.compute("s1", {Fen(1000), Fen(0)});
    CHECK_FALSE(u->balance_low);
}

TEST_CASE("billingd: cap_reached once the running cost reaches cap.max_fen") {
    ManualClock clock(kStart);
    CostTracker costs(clock, {});
    costs.track(live("time", 480), tariff(replace(pilehub::test::kPowerTariff, "\"max_fen\": 1000", "\"max_fen\": 50")),
                {});
    clock.advance_ms(29 * kMin);
    auto u = costs.compute("s1", {Fen(10000), Fen(0)});
    CHECK_FALSE(u->cap_reached);
    CHECK_FALSE(u->quota);
    clock.advance_ms(kMin);
    u = costs.compute("s1", {Fen(10000), Fen(0)});
    CHECK(u->cost_fen == Fen(50));
    CHECK(u->cap_reached);
    REQUIRE(u->quota);
    CHECK(*u->quota == Quota::MaxFen);
    CHECK(svc::encode(running_cost(*u)).find("\"quota\":\"max_fen\"") != std::string::npos);
}

TEST_CASE("billingd: the chosen time of a time-mode session is reported as its quota") {
    ManualClock clock(kStart);
    CostTracker costs(clock, {});
    costs.track(live("time", 60), tariff(), {});
    clock.advance_ms(60 * kMin);
    const auto u = costs.compute("s1", {Fen(10000), Fen(0)});
    REQUIRE(u->quota);
    CHECK(*u->quota == Quota::ChosenTime);
    CHECK(u->cost_fen == Fen(100));
}

TEST_CASE("billingd: a live session without a tariff costs nothing and is never low") {
    ManualClock clock(kStart);
    CostTracker costs(clock, {});
    costs.track(live("power"), nullptr, {});
    clock.advance_ms(120 * kMin);
    const auto u = costs.compute("s1", {Fen(0), Fen(0)});
    REQUIRE(u);
    CHECK(u->cost_fen == Fen(0));
    CHECK_FALSE(u->balance_low);
    CHECK_FALSE(u->cap_reached);
    CHECK_FALSE(u->error.empty());
}

TEST_CASE("billingd: power-mode running cost follows the tier of the highest reading after the first minute") {
    ManualClock clock(kStart);
    CostTracker costs(clock, {0, 15000, 20000});
    costs.track(live("power"), tariff(), {{kStart + 20'000, 0, 900}}); // start-up spike, ignored
    clock.advance_ms(10 * kMin);
    CHECK(costs.on_reading("s1", clock.now_ms(), 20, 180));
    clock.advance_ms(50 * kMin);
    CHECK(costs.on_reading("s1", clock.now_ms(), std::nullopt, 170)); // no energy: the last one is kept
    const auto u = costs.compute("s1", {Fen(1000), Fen(0)});
    CHECK(u->cost_fen == Fen(30)); // 60 min at the 300 W tier (30 fen/h)
    CHECK(u->energy_wh == 20);
}

TEST_CASE("billingd: a commissioning run (method operator) is free whatever the tariff says, and charges no wallet") {
    const auto t = tariff();
    auto s = ended("time", 30 * 60);
    s.minutes = 60;
    REQUIRE(plan_settlement(s, choice(t), {}).priced_fen > Fen(0)); // a rider's half hour costs something
    REQUIRE(plan_settlement(s, choice(t), {}).charges_wallet);
    s.method = svc::SessionMethod::Operator;
    s.account_id = 0;
    const auto p = plan_settlement(s, choice(t), {});
    CHECK(p.priced_fen == Fen(0));
    CHECK(p.electricity_fen == Fen(0));
    CHECK_FALSE(p.charges_wallet);
    CHECK_FALSE(p.tariff_id.has_value());
    CHECK(p.note.find("commissioning") != std::string::npos);
    // With no tariff in force either.
    CHECK_FALSE(plan_settlement(s, TariffChoice{}, {}).charges_wallet);
}
