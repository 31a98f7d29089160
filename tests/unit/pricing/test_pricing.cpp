#include "doc_fixtures.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace pilehub;
using namespace pilehub::billing;

namespace {

const Tariff& fixture(const std::string& name) {
    static const auto all = testing::doc_tariffs();
    return all.at(name);
}

constexpr EpochMs kMin = 60'000;
constexpr EpochMs kSec = 1000;

EpochMs shanghai(const char* local) {
    return parse_local_datetime(local, 8 * 3600).value();
}

struct Run {
    Run(Mode m, EpochMs from, EpochMs to, std::vector<Sample> relative = {}, std::string why = {},
        std::optional<std::int64_t> chosen = {})
        : mode(m), start(from), stop(to), samples(std::move(relative)), reason(std::move(why)), minutes(chosen) {}
    Mode mode;
    EpochMs start;
    EpochMs stop;
    std::vector<Sample> samples; // times relative to start
    std::string reason;
    std::optional<std::int64_t> minutes;
    std::optional<Fen> max_fen = {}; // the session's prepaid amount
};

Result<Bill> run(const Tariff& t, Run r) {
    for (auto& s : r.samples)
        s.t += r.start;
    PricingInput in;
    in.mode = r.mode;
    in.start_ms = r.start;
    in.stop_ms = r.stop;
    in.samples = r.samples;
    in.stop_reason = r.reason;
    in.minutes = r.minutes;
    in.max_fen = r.max_fen;
    return price(t, in);
}

Bill must(const Result<Bill>& b) {
    const bool ok = b.ok();
    REQUIRE_MESSAGE(ok, (ok ? std::string() : b.error()));
    return b.value();
}

std::vector<const BillLine*> of_kind(const Bill& b, LineKind k) {
    std::vector<const BillLine*> out;
    for (const auto& l : b.lines)
        if (l.kind == k)
            out.push_back(&l);
    return out;
}

bool has_line(const Bill& b, std::string_view text) {
    for (const auto& l : b.lines)
        if (l.text.find(text) != std::string::npos)
            return true;
    return false;
}

Tariff with_cap_minutes(Tariff t, std::int64_t minutes) {
    t.cap.max_minutes = minutes;
    if (t.time)
        t.time->options_minutes = {minutes};
    return t;
}

} // namespace

TEST_CASE("pricing: BILLING.md's worked example — 180 W after the first minute, 18 min 00 s → 9 fen") {
    const EpochMs start = shanghai("2024-11-21 10:00");
    const auto b = must(
        run(fixture("residential"), {Mode::Power,
                                     start,
                                     start + 18 * kMin,
                                     {{30 * kSec, 0, 150}, {kMin, 2, 180}, {10 * kMin, 26, 175}, {18 * kMin, 50, 160}},
                                     "full"}));
    CHECK(b.cost_fen == Fen(9));
    CHECK(b.exact_total == ExactFen::from_fen(Fen(9)));
    CHECK(b.max_power_w == 180);
    CHECK(b.tier.value() == PowerTier{300, 30});
    CHECK(b.charged_s == 18 * 60);
    CHECK(has_line(b, "power tier ≤300 W at 30 fen/h × 18 min 00 s"));
    CHECK(has_line(b, "highest power after the first 60 s: 180 W → tier ≤300 W"));
}

TEST_CASE("pricing: a power spike inside ignore_first_s does not choose the tier, one just after does") {
    const auto& t = fixture("residential");
    const EpochMs start = shanghai("2024-11-21 10:00");
    const auto inside =
        must(run(t, {Mode::Power, start, start + 30 * kMin, {{59 * kSec, 0, 1900}, {2 * kMin, 5, 200}}}));
    CHECK(inside.tier->up_to_w == 300);
    const auto at_60s =
        must(run(t, {Mode::Power, start, start + 30 * kMin, {{60 * kSec, 0, 1900}, {2 * kMin, 5, 200}}}));
    CHECK(at_60s.tier->up_to_w == 2000);
    CHECK(at_60s.cost_fen == Fen(50));
}

TEST_CASE("pricing: above the last tier the session is flagged overload and priced at the last tier") {
    const EpochMs start = shanghai("2024-11-21 10:00");
    const auto b = must(run(fixture("residential"),
                            {Mode::Power, start, start + 30 * kMin, {{2 * kMin, 10, 2500}}, "socket_overload"}));
    CHECK(b.overload);
    CHECK(b.tier->up_to_w == 2000);
    CHECK(b.cost_fen == Fen(50));
    CHECK(has_line(b, "2500 W, above the last tier (≤2000 W): priced at the last tier; overload"));
}

TEST_CASE("pricing: minutes charged are whole seconds / 60, exactly, and milliseconds are dropped") {
    const auto& t = fixture("residential");
    const EpochMs start = shanghai("2024-11-21 10:00");
    // 59.999 s at 100 fen/h: 59 whole seconds.
    const auto b = must(run(t, {Mode::Time, start, start + 59'999, {}, "user_stop", 60}));
    CHECK(b.elapsed_s == 59);
    CHECK(b.exact_total == ExactFen()); // within the free minutes
    const auto c = must(run(t, {Mode::Time, start, start + 6 * kMin + 59'999, {}, "user_stop", 60}));
    CHECK(c.charged_s == 419);
    CHECK(c.exact_total == ExactFen::from_seconds_at(419, 100));
    CHECK(c.cost_fen == Fen(11)); // 11.638…
    CHECK(has_line(c, "time at 100 fen/h × 6 min 59 s"));
}

TEST_CASE("pricing: a TOU slot has an electricity line and a service line, each naming its period, slot and price") {
    const EpochMs start = shanghai("2024-11-21 09:00");
    const auto b =
        must(run(fixture("residential"), {Mode::Energy, start, start + 30 * kMin, {{30 * kMin, 300, 600}}, "full"}));
    const auto elec = of_kind(b, LineKind::Energy);
    const auto service = of_kind(b, LineKind::Service);
    REQUIRE(elec.size() == 1);
    REQUIRE(service.size() == 1);
    CHECK(elec[0]->text == "flat 09:00–09:30: 300 Wh electricity × 0.7000 yuan/kWh");
    CHECK(service[0]->text == "flat 09:00–09:30: 300 Wh service × 0.6000 yuan/kWh");
    for (const auto* l : {elec[0], service[0]}) {
        CHECK(l->energy_mwh == 300'000);
        CHECK(l->period == Period::Flat);
        CHECK(l->from_ms == start);
        CHECK(l->to_ms == start + 30 * kMin);
    }
    CHECK(elec[0]->fen == Fen(21));
    CHECK(service[0]->fen == Fen(18));
    CHECK(b.cost_fen == Fen(39));
    CHECK(b.electricity_fen == Fen(21));
    CHECK(b.service_fen == Fen(18));
    // The service line follows its slot's electricity line.
    CHECK(&b.lines[0] == elec[0]);
    CHECK(&b.lines[1] == service[0]);
}

TEST_CASE("pricing: a period without a service price has no service line") {
    const EpochMs start = shanghai("2024-11-21 09:00"); // 01:00 UTC: valley
    const auto b = must(run(fixture("utc-tou"), {Mode::Energy, start, start + 20 * kMin, {{20 * kMin, 200, 600}}}));
    CHECK(of_kind(b, LineKind::Energy).size() == 1);
    CHECK(of_kind(b, LineKind::Service).empty());
    CHECK(b.service_fen == Fen(0));
    CHECK(b.electricity_fen == b.cost_fen);
}

TEST_CASE("pricing: energy lines carry the date when the session spans local midnight") {
    const EpochMs start = shanghai("2024-11-21 23:50");
    const auto b = must(run(fixture("residential"), {Mode::Energy, start, start + 20 * kMin, {{20 * kMin, 100, 300}}}));
    const auto lines = of_kind(b, LineKind::Energy);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0]->text == "valley 2024-11-21 23:30–24:00: 50 Wh electricity × 0.3500 yuan/kWh");
    CHECK(lines[1]->text == "valley 2024-11-22 00:00–00:30: 50 Wh electricity × 0.3500 yuan/kWh");
    CHECK(of_kind(b, LineKind::Service)[1]->text == "valley 2024-11-22 00:00–00:30: 50 Wh service × 0.4000 yuan/kWh");
}

TEST_CASE("pricing: an increase split across slots gives whole mWh that add up to the increase") {
    const EpochMs start = shanghai("2024-11-21 07:59");
    // 1 Wh over 07:59:00–08:02:00: 1/3 before 08:00, 2/3 after.
    const auto b = must(run(fixture("residential"), {Mode::Energy, start, start + 3 * kMin, {{3 * kMin, 1, 20}}}));
    const auto lines = of_kind(b, LineKind::Energy);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0]->energy_mwh == 333);
    CHECK(lines[1]->energy_mwh == 667);
    CHECK(lines[0]->text == "valley 07:30–08:00: 0.333 Wh electricity × 0.3500 yuan/kWh");
    CHECK(b.charges_exact == ExactFen::from_mwh_at_e4(333, 7500) + ExactFen::from_mwh_at_e4(667, 13000));
    CHECK(b.waived); // 3 minutes: within the free minutes
}

TEST_CASE("pricing: apportioning energy is the largest-remainder rule, ties to the earlier slot") {
    const std::vector<std::int64_t> thirds = {1, 1, 1};
    CHECK(apportion_mwh(1000, thirds) == std::vector<std::int64_t>{334, 333, 333});
    CHECK(apportion_mwh(2, thirds) == std::vector<std::int64_t>{1, 1, 0});
    const std::vector<std::int64_t> uneven = {10, 45, 45};
    CHECK(apportion_mwh(7, uneven) == std::vector<std::int64_t>{1, 3, 3});
    const std::vector<std::int64_t> skewed = {1, 6, 3};
    CHECK(apportion_mwh(9, skewed) == std::vector<std::int64_t>{1, 5, 3}); // 0.9, 5.4, 2.7
    const std::vector<std::int64_t> zeros = {0, 0};
    CHECK(apportion_mwh(5, zeros) == std::vector<std::int64_t>{5, 0});
    CHECK(apportion_mwh(5, {}).empty());
    const std::vector<std::int64_t> huge = {1'800'000, 1'800'000};
    CHECK(apportion_mwh(9'000'000'000'000'000, huge) ==
          std::vector<std::int64_t>{4'500'000'000'000'000, 4'500'000'000'000'000});
}

TEST_CASE("pricing: energy reported with no time elapsed belongs to the slot just before the report") {
    const EpochMs start = shanghai("2024-11-21 07:30");
    // Two reports at 08:00:00 exactly, the second one higher: its energy was used before 08:00.
    const auto b = must(run(fixture("residential"),
                            {Mode::Energy, start, start + 30 * kMin, {{30 * kMin, 100, 200}, {30 * kMin, 120, 200}}}));
    const auto lines = of_kind(b, LineKind::Energy);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0]->period == Period::Valley);
    CHECK(lines[0]->energy_mwh == 120'000);
}

TEST_CASE("pricing: a falling energy counter is ignored, said so, and never charged twice") {
    const EpochMs start = shanghai("2024-11-21 09:00");
    const auto b =
        must(run(fixture("residential"),
                 {Mode::Energy,
                  start,
                  start + 40 * kMin,
                  {{10 * kMin, 100, 600}, {20 * kMin, 0, 600}, {30 * kMin, 60, 600}, {40 * kMin, 130, 600}}}));
    CHECK(b.energy_mwh == 130'000);
    REQUIRE(b.warnings.size() == 1);
    CHECK(b.warnings[0] == "energy reading fell from 100 Wh to 0 Wh at 09:20:00; the fall is ignored and energy counts "
                           "again only above 100 Wh");
    CHECK(has_line(b, "energy reading fell from 100 Wh to 0 Wh"));
    for (const auto& l : b.lines)
        CHECK(l.energy_mwh >= 0);
}

TEST_CASE("pricing: negative readings and negative power never make negative energy or cost") {
    const EpochMs start = shanghai("2024-11-21 09:00");
    const auto b = must(run(fixture("residential"),
                            {Mode::Energy, start, start + 20 * kMin, {{10 * kMin, -50, -300}, {20 * kMin, -10, -1}}}));
    CHECK(b.energy_mwh == 0);
    CHECK(b.cost_fen == Fen(0));
    CHECK(b.exact_total == ExactFen());
    CHECK_FALSE(b.warnings.empty());
    const auto p = must(run(fixture("residential"), {Mode::Power, start, start + 20 * kMin, {{10 * kMin, 0, -300}}}));
    CHECK(p.max_power_w == 0);
    CHECK(p.tier->up_to_w == 150);
}

TEST_CASE("pricing: a sample earlier than the one before it is ignored with a warning") {
    const EpochMs start = shanghai("2024-11-21 10:00");
    const auto b = must(run(fixture("residential"),
                            {Mode::Power, start, start + 30 * kMin, {{10 * kMin, 10, 200}, {5 * kMin, 20, 1900}}}));
    CHECK(b.tier->up_to_w == 300);
    REQUIRE(b.warnings.size() == 1);
    CHECK(b.warnings[0].find("earlier than the one before it; ignored") != std::string::npos);
}

TEST_CASE("pricing: samples outside the session are clamped to its start and stop") {
    const EpochMs start = shanghai("2024-11-21 09:00");
    const auto b = must(run(fixture("residential"),
                            {Mode::Energy, start, start + 10 * kMin, {{-5 * kMin, 0, 0}, {20 * kMin, 100, 600}}}));
    CHECK(b.energy_mwh == 100'000);
    CHECK(of_kind(b, LineKind::Energy).size() == 1);
}

TEST_CASE("pricing: energy after cap.max_minutes is not charged and the bill says how much") {
    const auto t = with_cap_minutes(fixture("residential"), 60);
    const EpochMs start = shanghai("2024-11-21 09:00");
    // 0–60 min: 600 Wh; 60–90 min: 300 Wh, half of the 50–70 min interval's 200 Wh after the cap.
    const auto b = must(run(t, {Mode::Energy,
                                start,
                                start + 90 * kMin,
                                {{50 * kMin, 500, 600}, {70 * kMin, 700, 600}, {90 * kMin, 900, 600}}}));
    CHECK(b.time_limited);
    CHECK(b.charged_s == 3600);
    CHECK(b.energy_mwh == 600'000);
    CHECK(b.uncharged_energy_mwh == 300'000);
    CHECK(has_line(b, "300 Wh after the charged time limit: not charged"));
    CHECK(has_line(b, "charged time limited to 60 min 00 s by cap.max_minutes (ran 90 min 00 s)"));
}

TEST_CASE("pricing: waivers cancel the charges in one visible line") {
    const auto& t = fixture("residential");
    const EpochMs start = shanghai("2024-11-21 10:00");
    const auto free_min = must(run(t, {Mode::Power, start, start + 4 * kMin, {{2 * kMin, 5, 200}}, "user_stop"}));
    CHECK(free_min.waived);
    CHECK(free_min.cost_fen == Fen(0));
    CHECK(free_min.charges_exact == ExactFen::from_seconds_at(240, 30));
    REQUIRE(of_kind(free_min, LineKind::Waiver).size() == 1);
    CHECK(of_kind(free_min, LineKind::Waiver)[0]->text ==
          "free minutes: ended after 4 min 00 s, within the 5 free minutes");
    CHECK(of_kind(free_min, LineKind::Waiver)[0]->exact == ExactFen() - free_min.charges_exact);

    const auto no_load = must(run(t, {Mode::Energy, start, start + 30 * kMin, {{30 * kMin, 5, 1}}, "no_load"}));
    CHECK(no_load.cost_fen == Fen(0));
    CHECK(has_line(no_load, "no load: free"));

    const auto free_station =
        must(run(fixture("free-station"), {Mode::Power, start, start + 10 * 60 * kMin, {{kMin, 10, 600}}}));
    CHECK(free_station.cost_fen == Fen(0));
    CHECK(free_station.charges_exact == ExactFen::from_fen(Fen(600)));
    CHECK(has_line(free_station, "free station"));
}

TEST_CASE("pricing: cap.max_fen bounds the cost exactly") {
    const EpochMs start = shanghai("2024-11-21 10:00");
    const auto b = must(run(fixture("residential"), {Mode::Time, start, start + 480 * kMin, {}, "", 480}));
    CHECK(b.charges_exact == ExactFen::from_fen(Fen(800)));
    CHECK_FALSE(b.cap_applied);
    auto t = fixture("residential");
    t.cap.max_fen = Fen(555);
    const auto c = must(run(t, {Mode::Time, start, start + 480 * kMin, {}, "", 480}));
    CHECK(c.cap_applied);
    CHECK(c.exact_total == ExactFen::from_fen(Fen(555)));
    CHECK(c.cost_fen == Fen(555));
    CHECK(has_line(c, "cap applied: at most 5.55 yuan (cap.max_fen 555)"));
}

// ---- EV sessions: electricity and service apart, the prepaid amount ---------------------------

namespace {

// docs/billing.md §3a: a DC session 10:10–10:50 on ev-dc (flat until 10:30, then peak), its energy the
// meter delta 1 288 007 − 1 250 000 = 38 007 Wh, reported at 10:15 (5 000 Wh) and 10:35 (25 000 Wh).
Run ev_session(std::string reason = "full") {
    const EpochMs start = shanghai("2024-11-21 10:10");
    const std::int64_t meter_start_wh = 1'250'000, meter_stop_wh = 1'288'007;
    return {Mode::Energy,
            start,
            start + 40 * kMin,
            {{5 * kMin, 5'000, 60'000}, {25 * kMin, 25'000, 60'000}, {40 * kMin, meter_stop_wh - meter_start_wh, 0}},
            std::move(reason)};
}

Result<Bill> run_prepaid(const Tariff& t, Run r, std::optional<Fen> max_fen) {
    r.max_fen = max_fen;
    return run(t, std::move(r));
}

} // namespace

TEST_CASE("pricing: an EV energy session across a slot boundary — hand-computed electricity and service lines") {
    const auto b = must(run(fixture("ev-dc"), ev_session()));
    // 10:15–10:35 crosses 10:30: its 20 000 Wh split 15 000 flat / 5 000 peak by time.
    struct Expected {
        LineKind kind;
        std::string text;
        std::int64_t mwh;
        Period period;
        ExactFen exact;
    };
    const std::vector<Expected> expected = {
        {LineKind::Energy, "flat 10:00–10:30: 20000 Wh electricity × 0.6500 yuan/kWh", 20'000'000, Period::Flat,
         ExactFen::from_fen(Fen(1300))},
        {LineKind::Service, "flat 10:00–10:30: 20000 Wh service × 0.6000 yuan/kWh", 20'000'000, Period::Flat,
         ExactFen::from_fen(Fen(1200))},
        {LineKind::Energy, "peak 10:30–11:00: 18007 Wh electricity × 1.0500 yuan/kWh", 18'007'000, Period::Peak,
         ExactFen::from_mwh_at_e4(18'007'000, 10500)}, // 1890.735 fen
        {LineKind::Service, "peak 10:30–11:00: 18007 Wh service × 0.8000 yuan/kWh", 18'007'000, Period::Peak,
         ExactFen::from_mwh_at_e4(18'007'000, 8000)}, // 1440.56 fen
    };
    REQUIRE(b.lines.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        INFO("line ", i, ": ", b.lines[i].text);
        CHECK(b.lines[i].kind == expected[i].kind);
        CHECK(b.lines[i].text == expected[i].text);
        CHECK(b.lines[i].energy_mwh == expected[i].mwh);
        CHECK(b.lines[i].period == expected[i].period);
        CHECK(b.lines[i].exact == expected[i].exact);
    }
    CHECK(b.lines[2].from_ms == shanghai("2024-11-21 10:30"));
    CHECK(b.lines[2].to_ms == shanghai("2024-11-21 11:00"));
    CHECK(b.lines[1].fen == Fen(1200));
    CHECK(b.lines[2].fen == Fen(1890));
    CHECK(b.lines[3].fen == Fen(1440));
    CHECK(b.energy_mwh == 38'007'000);
    // ⌊5831.295⌋; electricity ⌊3190.735⌋, service the rest (one fen more than its own ⌊2640.56⌋).
    CHECK(b.cost_fen == Fen(5831));
    CHECK(b.electricity_fen == Fen(3190));
    CHECK(b.service_fen == Fen(2641));
    CHECK(b.electricity_exact == ExactFen::from_fen(Fen(1300)) + ExactFen::from_mwh_at_e4(18'007'000, 10500));

    // The calculator's JSON writes a service line's slot too.
    const auto parsed = json::parse(to_json(b));
    REQUIRE(parsed.ok());
    std::string err;
    auto o = json::Object::root(parsed.value(), &err);
    CHECK(o.req_int("electricity_fen") == 3190);
    CHECK(o.req_int("service_fen") == 2641);
    auto lines = o.req_arr("lines");
    auto service = lines.obj(3);
    CHECK(service.req_str("kind") == "service");
    CHECK(service.req_str("period") == "peak");
    CHECK(service.req_int("energy_mwh") == 18'007'000);
    CHECK(service.req_int("from_ms") == shanghai("2024-11-21 10:30"));
    CHECK(service.req_int("to_ms") == shanghai("2024-11-21 11:00"));
    CHECK(err.empty());
}

TEST_CASE("pricing: the split rule — electricity is its charges floored, at most the cost; service is the rest") {
    const auto& ev = fixture("ev-dc");
    auto capped = ev;
    capped.cap.max_fen = Fen(4000);
    struct Case {
        const char* name;
        const Tariff* tariff;
        std::string reason;
        std::optional<Fen> max_fen;
        Fen cost, electricity, service;
        bool waived, cap, prepaid;
    };
    const std::vector<Case> cases = {
        {"no bound: service takes the rounding fen",
         &ev,
         "full",
         {},
         Fen(5831),
         Fen(3190),
         Fen(2641),
         false,
         false,
         false},
        {"no_load waiver zeroes both", &ev, "no_load", {}, Fen(0), Fen(0), Fen(0), true, false, false},
        {"a waiver wins over the prepaid amount", &ev, "no_load", Fen(100), Fen(0), Fen(0), Fen(0), true, false, false},
        {"cap.max_fen lowers service first",
         &capped,
         "quota_reached",
         {},
         Fen(4000),
         Fen(3190),
         Fen(810),
         false,
         true,
         false},
        {"prepaid above the cost changes nothing", &ev, "full", Fen(6000), Fen(5831), Fen(3190), Fen(2641), false,
         false, false},
        {"prepaid exactly the whole fen of the cost: only the fraction is cut", &ev, "full", Fen(5831), Fen(5831),
         Fen(3190), Fen(2641), false, false, true}, // 5831.295 > 5831: a line of 0.295 fen
        {"prepaid lowers service first", &ev, "quota_reached", Fen(5000), Fen(5000), Fen(3190), Fen(1810), false, false,
         true},
        {"prepaid below the electricity: service 0", &ev, "quota_reached", Fen(3000), Fen(3000), Fen(3000), Fen(0),
         false, false, true},
        {"prepaid below the cap: both lines, then the prepaid bound", &capped, "quota_reached", Fen(3500), Fen(3500),
         Fen(3190), Fen(310), false, true, true},
        {"cap below the prepaid amount: the cap alone", &capped, "quota_reached", Fen(4500), Fen(4000), Fen(3190),
         Fen(810), false, true, false},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto b = must(run_prepaid(*c.tariff, ev_session(c.reason), c.max_fen));
        CHECK(b.cost_fen == c.cost);
        CHECK(b.electricity_fen == c.electricity);
        CHECK(b.service_fen == c.service);
        CHECK(b.electricity_fen + b.service_fen == b.cost_fen);
        CHECK(b.waived == c.waived);
        CHECK(b.cap_applied == c.cap);
        CHECK(b.prepaid_applied == c.prepaid);
        CHECK(b.exact_total.floor_fen() == b.cost_fen);
    }
    // The prepaid amount has its own line, of kind cap.
    const auto b = must(run_prepaid(ev, ev_session("quota_reached"), Fen(5000)));
    const auto caps = of_kind(b, LineKind::Cap);
    REQUIRE(caps.size() == 1);
    CHECK(caps[0]->text == "prepaid amount reached: at most 50.00 yuan (max_fen 5000)");
    CHECK(caps[0]->exact == ExactFen::from_fen(Fen(5000)) - b.charges_exact);
    const auto both = must(run_prepaid(capped, ev_session("quota_reached"), Fen(3500)));
    REQUIRE(of_kind(both, LineKind::Cap).size() == 2);
    CHECK(of_kind(both, LineKind::Cap)[0]->text == "cap applied: at most 40.00 yuan (cap.max_fen 4000)");
    CHECK(of_kind(both, LineKind::Cap)[1]->exact == ExactFen::from_fen(Fen(-500)));
    // Time and power charges are service: no metered electricity price.
    const EpochMs start = shanghai("2024-11-21 10:00");
    const auto time = must(run(fixture("residential"), {Mode::Time, start, start + 60 * kMin, {}, "", 60}));
    CHECK(time.electricity_fen == Fen(0));
    CHECK(time.service_fen == Fen(100));
    CHECK(run_prepaid(ev, ev_session(), Fen(0)).error() == "max_fen 0 must be at least 1 fen");
}

TEST_CASE("stop rules: the session's prepaid amount reaches the quota as `prepaid`, after the tariff's own limits") {
    const auto& t = fixture("ev-dc");
    const EpochMs start = shanghai("2024-11-21 10:10");
    // 60 kW: 1 000 Wh a minute at flat (0.65 + 0.60) = 125 fen a minute; the first 5 minutes are free.
    std::vector<Sample> samples;
    for (int m = 1; m <= 10; ++m)
        samples.push_back({start + m * kMin, m * 1000, 60'000});
    PricingInput in;
    in.mode = Mode::Energy;
    in.start_ms = start;
    in.samples = samples;
    in.max_fen = Fen(1000);
    const auto at = [&](int minute) {
        PricingInput now = in;
        const std::span<const Sample> seen(samples.data(), static_cast<std::size_t>(minute));
        now.samples = seen;
        return must(running_cost(t, now, start + minute * kMin));
    };
    CHECK_FALSE(quota_reached(t, in, at(7)).has_value()); // 875 fen
    CHECK_FALSE(prepaid_reached(in, at(7)));
    CHECK(quota_reached(t, in, at(8)) == Quota::Prepaid); // 1000 fen: reached
    CHECK(prepaid_reached(in, at(8)));
    CHECK(at(9).cost_fen == Fen(1000)); // a late stop never bills above it
    CHECK(at(9).prepaid_applied);
    CHECK(to_string(Quota::Prepaid) == "prepaid");
    // The tariff's cap, when it is lower, is reached first and named.
    auto capped = t;
    capped.cap.max_fen = Fen(900);
    CHECK(quota_reached(capped, in, at(8)) == Quota::MaxFen);
    // Within the free minutes nothing is owed yet.
    CHECK_FALSE(quota_reached(t, in, at(5)).has_value());
    // Without a prepaid amount nothing stops it.
    in.max_fen.reset();
    CHECK_FALSE(quota_reached(t, in, at(10)).has_value());
}

TEST_CASE("pricing: service by the hour and by power tier are separate lines of an energy bill") {
    const EpochMs start = shanghai("2024-11-21 14:00");
    const auto hour = must(run(fixture("energy-hour"), {Mode::Energy, start, start + 90 * kMin, {{90 * kMin, 0, 0}}}));
    REQUIRE(of_kind(hour, LineKind::Service).size() == 1);
    CHECK(of_kind(hour, LineKind::Service)[0]->text == "service at 20 fen/h × 90 min 00 s");
    CHECK(hour.cost_fen == Fen(30));
    const auto power =
        must(run(fixture("energy-power"), {Mode::Energy, start, start + 90 * kMin, {{2 * kMin, 10, 1500}}}));
    REQUIRE(of_kind(power, LineKind::Service).size() == 1);
    CHECK(of_kind(power, LineKind::Service)[0]->text == "service: power tier ≤2000 W at 40 fen/h × 90 min 00 s");
    CHECK(of_kind(power, LineKind::Energy)[0]->text == "flat 14:00–14:30: 10 Wh electricity × 0.6000 yuan/kWh");
    // Service by hour or by tier is one line without a slot; the slot lines are electricity alone.
    CHECK_FALSE(of_kind(power, LineKind::Service)[0]->period.has_value());
    CHECK(hour.electricity_exact == ExactFen());
    CHECK(hour.service_exact == ExactFen::from_seconds_at(90 * 60, 20));
    CHECK(power.electricity_exact == ExactFen::from_mwh_at_e4(10'000, 6000));
}

TEST_CASE("pricing: rounding happens once — the total is not the sum of rounded lines") {
    // energy-hour, 12:00–13:30, 45 Wh evenly: peak 12:00–12:30 and 12:30–13:00 (1.0000 yuan/kWh) and
    // flat 13:00–13:30 (0.7000) get 15 Wh each = 1.5, 1.5 and 1.05 fen; service 90 min × 20 fen/h = 30.
    const EpochMs start = shanghai("2024-11-21 12:00");
    const auto b = must(run(fixture("energy-hour"), {Mode::Energy, start, start + 90 * kMin, {{90 * kMin, 45, 30}}}));
    std::int64_t shown = 0;
    for (const auto& l : b.lines)
        shown += l.fen.value();
    CHECK(shown == 1 + 1 + 1 + 30);
    CHECK(b.cost_fen == Fen(34)); // ⌊1.5 + 1.5 + 1.05 + 30⌋ = ⌊34.05⌋
    CHECK(b.cost_fen == b.exact_total.floor_fen());
}

TEST_CASE("pricing: what cannot be priced is refused, not guessed") {
    const auto& t = fixture("energy-hour");
    const EpochMs start = shanghai("2024-11-21 10:00");
    CHECK(run(t, {Mode::Power, start, start + kMin}).error() == "mode power is not offered by this tariff");
    CHECK(run(fixture("residential"), {Mode::Time, start, start + kMin, {}, "", 45}).error() ==
          "minutes 45 is not one of time.options_minutes [60, 120, 240, 480]");
    CHECK(run(t, {Mode::Energy, start, start - 1}).error() == "the session stops before it starts");
    auto bad = t;
    bad.timezone = "Mars/Olympus";
    CHECK(run(bad, {Mode::Energy, start, start + kMin}).error().find("invalid tariff: timezone") == 0);
    const auto huge = run(t, {Mode::Energy, start, start + kMin, {{kMin, 9'000'000'000'000'000, 0}}});
    REQUIRE_FALSE(huge.ok());
    CHECK(huge.error().find("overflows") != std::string::npos);
}

TEST_CASE("pricing: a time session without a chosen duration is bounded by the cap only") {
    const EpochMs start = shanghai("2024-11-21 10:00");
    const auto b = must(run(fixture("capped"), {Mode::Time, start, start + 90 * kMin}));
    CHECK(b.charged_s == 3600);
    CHECK(b.time_limited);
    CHECK(b.cost_fen == Fen(50)); // 120 fen, then cap.max_fen
}

// ---- running cost and stop rules ---------------------------------------------------------------

TEST_CASE("running cost: the bill as if the session ended now, free minutes included") {
    const auto& t = fixture("residential");
    const EpochMs start = shanghai("2024-11-21 10:00");
    const std::vector<Sample> samples = {{start + kMin, 2, 200}, {start + 10 * kMin, 30, 200}};
    PricingInput in;
    in.mode = Mode::Power;
    in.start_ms = start;
    in.samples = samples;
    in.stop_reason = "no_load"; // ignored: the session is still running
    CHECK(must(running_cost(t, in, start + 5 * kMin)).cost_fen == Fen(0));
    CHECK(must(running_cost(t, in, start + 10 * kMin)).cost_fen == Fen(5));
    CHECK(must(running_cost(t, in, start - kMin)).elapsed_s == 0); // a clock behind the start
}

TEST_CASE("stop rules: the chosen time, cap.max_minutes and cap.max_fen each reach the quota") {
    const auto& t = fixture("capped"); // time 120 fen/h, options 30 and 60 min; cap 60 min and 50 fen
    auto uncapped = t;
    uncapped.cap.max_fen.reset();
    const EpochMs start = shanghai("2024-11-21 10:00");
    PricingInput in;
    in.mode = Mode::Time;
    in.start_ms = start;
    in.minutes = 30;
    const auto bill_at = [&](const Tariff& tariff, EpochMs now) { return must(running_cost(tariff, in, now)); };
    CHECK_FALSE(quota_reached(uncapped, in, bill_at(uncapped, start + 29 * kMin + 59 * kSec)).has_value());
    CHECK(quota_reached(uncapped, in, bill_at(uncapped, start + 30 * kMin)) == Quota::ChosenTime);
    CHECK(time_quota_reached(uncapped, in, 30 * 60));
    CHECK_FALSE(time_quota_reached(uncapped, in, 30 * 60 - 1));

    const auto at = [&](EpochMs now) { return bill_at(t, now); };
    in.minutes = 60; // 120 fen/h reaches cap.max_fen 50 after 25 min
    CHECK_FALSE(quota_reached(t, in, at(start + 24 * kMin + 59 * kSec)).has_value());
    CHECK(quota_reached(t, in, at(start + 25 * kMin)) == Quota::MaxFen);
    CHECK(cap_reached(t, at(start + 25 * kMin)));

    in.mode = Mode::Power;
    std::vector<Sample> low = {{start + kMin, 1, 100}};
    in.samples = low; // 30 fen/h never reaches 50 fen in 60 min: the time cap stops it
    CHECK_FALSE(quota_reached(t, in, at(start + 59 * kMin)).has_value());
    CHECK(quota_reached(t, in, at(start + 60 * kMin)) == Quota::MaxMinutes);
    CHECK(to_string(Quota::MaxMinutes) == "max_minutes");
}

TEST_CASE("stop rules: a waived running session does not reach cap.max_fen") {
    const EpochMs start = shanghai("2024-11-21 10:00");
    auto t = fixture("free-station");
    t.cap.max_fen = Fen(10);
    PricingInput in;
    in.mode = Mode::Power;
    in.start_ms = start;
    CHECK_FALSE(cap_reached(t, must(running_cost(t, in, start + 600 * kMin))));
}

TEST_CASE("stop rules: balance_low and can_start follow the tariff's thresholds") {
    auto t = fixture("residential"); // min start 200, stop below 0
    CHECK(can_start(t, Fen(200)));
    CHECK_FALSE(can_start(t, Fen(199)));
    CHECK_FALSE(balance_low(t, Fen(100), Fen(100)));
    CHECK(balance_low(t, Fen(100), Fen(101)));
    t.stop_below_balance_fen = Fen(50);
    CHECK(balance_low(t, Fen(100), Fen(51)));
    CHECK_FALSE(balance_low(t, Fen(100), Fen(50)));
}

// ---- the calculator ------------------------------------------------------------------------------

namespace {
std::string quote_body(std::string_view rest) {
    return fmt::format(R"({{"tariff": {}, {}}})", to_json(fixture("residential")), rest);
}
} // namespace

TEST_CASE("calculator: a quote request is priced by the same engine (the worked example)") {
    const auto q = parse_quote_request(quote_body(R"("mode": "power", "stop_reason": "full", "samples": [
        {"t": "2024-11-21T10:00:00+08:00", "energy_wh": 0, "power_w": 0},
        {"t": "2024-11-21T10:00:30+08:00", "energy_wh": 0, "power_w": 150},
        {"t": 1732154460000, "energy_wh": 2, "power_w": 179.6},
        {"t": "2024-11-21T10:18:00+08:00", "energy_wh": 50, "power_w": 160}])"));
    const bool ok = q.ok();
    REQUIRE_MESSAGE(ok, (ok ? std::string() : q.error()));
    CHECK(q->samples[2].power_w == 180); // decimals round to the nearest watt
    CHECK(q->start_ms == shanghai("2024-11-21 10:00"));
    CHECK(q->stop_ms == shanghai("2024-11-21 10:18"));
    const auto b = must(price_quote(*q));
    CHECK(b.cost_fen == Fen(9));
    const auto text = to_json(b);
    const auto parsed = json::parse(text);
    REQUIRE(parsed.ok());
    std::string err;
    auto o = json::Object::root(parsed.value(), &err);
    CHECK(o.req_int("cost_fen") == 9);
    CHECK(o.req_int("units_per_fen") == ExactFen::kUnitsPerFen);
    auto lines = o.req_arr("lines");
    REQUIRE(lines.size() == b.lines.size());
    CHECK(lines.obj(0).req_str("text") == "power tier ≤300 W at 30 fen/h × 18 min 00 s");
    CHECK(lines.obj(0).req_int("exact_units") == 9 * ExactFen::kUnitsPerFen);
    CHECK(err.empty());
}

TEST_CASE("calculator: a bad quote request is refused with the field named") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {quote_body(R"("mode": "fast", "samples": [{"t": 0, "energy_wh": 0, "power_w": 0}])"),
         "mode is \"fast\"; it must be time, power or energy"},
        {quote_body(R"("mode": "power", "samples": [{"t": 0, "energy_wh": 0, "power_w": 0}, {"t": 1, "power_w": 0}])"),
         "samples[1].energy_wh is required"},
        {quote_body(R"("mode": "power", "samples": [{"t": "yesterday", "energy_wh": 0, "power_w": 0}])"),
         "samples[0].t must be an RFC 3339 time or epoch milliseconds"},
        {quote_body(R"("mode": "power", "samples": [{"energy_wh": 0, "power_w": 0}])"), "samples[0].t is required"},
        {quote_body(R"("mode": "power", "samples": [{"t": 0, "energy_wh": -1, "power_w": 0}])"),
         "samples[0].energy_wh is -1"},
        {quote_body(R"("mode": "power", "samples": [])"), "samples must not be empty"},
        {quote_body(R"("mode": "power", "stop_reason": "bored", "samples": [{"t": 0, "energy_wh": 0, "power_w": 0}])"),
         "stop_reason is \"bored\", not a known stop reason"},
        {quote_body(R"("mode": "power", "speed": 1, "samples": [])"), "speed is not a known field"},
        {R"({"mode": "power", "samples": []})", "tariff is required"},
        {quote_body(R"("mode": "power", "max_fen": 0, "samples": [{"t": 0, "energy_wh": 0, "power_w": 0}])"),
         "max_fen is 0"},
        {R"({"tariff": {"name": "x"}, "mode": "power", "samples": []})", "tariff.timezone is required"},
    };
    for (const auto& [body, error] : cases) {
        INFO("expected: ", error);
        const auto q = parse_quote_request(body);
        REQUIRE_FALSE(q.ok());
        INFO("got: ", q.error());
        CHECK(q.error().find(error) != std::string::npos);
    }
}

TEST_CASE("calculator: a quote with max_fen is bounded by it and shows electricity and service") {
    const auto q = parse_quote_request(quote_body(R"("mode": "energy", "max_fen": 30, "samples": [
        {"t": "2024-11-21T09:00:00+08:00", "energy_wh": 0, "power_w": 0},
        {"t": "2024-11-21T09:30:00+08:00", "energy_wh": 300, "power_w": 600}])"));
    const bool ok = q.ok();
    REQUIRE_MESSAGE(ok, (ok ? std::string() : q.error()));
    CHECK(q->max_fen == Fen(30));
    const auto b = must(price_quote(*q)); // 39 fen: electricity 21 + service 18, bounded to 30
    CHECK(b.cost_fen == Fen(30));
    CHECK(b.prepaid_applied);
    const auto parsed = json::parse(to_json(b));
    REQUIRE(parsed.ok());
    std::string err;
    auto o = json::Object::root(parsed.value(), &err);
    CHECK(o.req_int("cost_fen") == 30);
    CHECK(o.req_int("electricity_fen") == 21);
    CHECK(o.req_int("service_fen") == 9);
    CHECK(o.req_bool("prepaid_applied"));
    CHECK(err.empty());
}
