// Properties of the pricing engine, checked on many deterministic pseudo-random sessions (the same
// cases on every run and every machine: the generator is splitmix64, not <random>'s distributions).
#include "doc_fixtures.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using namespace pilehub::billing;

namespace {

__extension__ typedef __int128 Int128;

class Rng {
public:
    explicit Rng(std::uint64_t seed) : s_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    /// Uniform enough in [lo, hi] for test generation.
    std::int64_t range(std::int64_t lo, std::int64_t hi) {
        return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
    }
    bool chance(int in) { return range(1, in) == 1; }

private:
    std::uint64_t s_;
};

const std::map<std::string, Tariff>& fixtures() {
    static const auto all = testing::doc_tariffs();
    return all;
}

struct Scenario {
    std::string tariff;
    Mode mode;
};

const std::vector<Scenario> kScenarios = {
    {"residential", Mode::Power},    {"residential", Mode::Energy},  {"residential", Mode::Time},
    {"energy-hour", Mode::Energy},   {"energy-power", Mode::Energy}, {"capped", Mode::Power},
    {"capped", Mode::Time},          {"utc-tou", Mode::Energy},      {"free-station", Mode::Power},
    {"residential-v2", Mode::Power}, {"ev-dc", Mode::Energy},
};

constexpr int kSessionsPerScenario = 150;

struct Session {
    PricingInput in;
    std::vector<Sample> samples;
};

// A session of 1–40 reports: mostly every few minutes, sometimes silent for hours, sometimes two
// reports at the same instant; energy mostly rising, sometimes falling (bad counters); power
// sometimes spiking above the last tier.
Session random_session(Rng& rng, const Tariff& t, Mode mode) {
    Session s;
    s.in.mode = mode;
    s.in.start_ms = parse_local_datetime("2024-11-18 00:00", 8 * 3600).value() + rng.range(0, 7 * 86'400'000LL);
    if (mode == Mode::Time && rng.range(0, 3) > 0) {
        const auto& opts = t.time->options_minutes;
        s.in.minutes = opts[static_cast<std::size_t>(rng.range(0, static_cast<std::int64_t>(opts.size()) - 1))];
    }
    EpochMs at = s.in.start_ms;
    std::int64_t energy = 0;
    const auto n = rng.range(1, 40);
    for (std::int64_t i = 0; i < n; ++i) {
        at += rng.chance(12) ? rng.range(30 * 60'000, 3 * 3'600'000) : rng.chance(15) ? 0 : rng.range(1, 20 * 60'000);
        if (rng.chance(15))
            energy -= rng.range(0, energy);
        else
            energy += rng.range(0, 400);
        const std::int64_t power = rng.chance(10) ? rng.range(1500, 2600) : rng.range(0, 1200);
        s.samples.push_back({at, energy, power});
    }
    s.in.stop_ms = at + rng.range(0, 10 * 60'000);
    return s;
}

Bill priced(const Tariff& t, const PricingInput& in) {
    auto b = price(t, in);
    const bool ok = b.ok();
    REQUIRE_MESSAGE(ok, (ok ? std::string() : b.error()));
    return std::move(b).value();
}

ExactFen sum_of_lines(const Bill& b) {
    ExactFen s;
    for (const auto& l : b.lines)
        s += l.exact;
    return s;
}

} // namespace

TEST_CASE("pricing properties: cost never decreases as a session goes on (more time, more energy)") {
    Rng rng(20241121);
    int checks = 0;
    for (const auto& sc : kScenarios) {
        const Tariff& t = fixtures().at(sc.tariff);
        for (int i = 0; i < kSessionsPerScenario; ++i) {
            Session s = random_session(rng, t, sc.mode);
            INFO("scenario ", sc.tariff, "/", to_string(sc.mode), " session ", i);
            // The running cost after each report, and between reports, as the session goes on.
            ExactFen last_exact;
            Fen last_fen;
            for (std::size_t k = 0; k <= s.samples.size(); ++k) {
                PricingInput in = s.in;
                in.samples = std::span<const Sample>(s.samples.data(), k);
                const EpochMs at = k == 0 ? s.in.start_ms : s.samples[k - 1].t;
                const EpochMs next = k < s.samples.size() ? s.samples[k].t : s.in.stop_ms;
                for (const EpochMs now : {at, at + (next - at) / 2}) {
                    const auto b = running_cost(t, in, now);
                    REQUIRE(b.ok());
                    CHECK(b->exact_total >= last_exact);
                    CHECK(b->cost_fen >= last_fen);
                    last_exact = b->exact_total;
                    last_fen = b->cost_fen;
                    ++checks;
                }
            }
            // And once every report is in, a later stop never costs less.
            PricingInput in = s.in;
            in.samples = s.samples;
            ExactFen before = priced(t, in).exact_total;
            CHECK(before >= last_exact);
            for (int step = 0; step < 3; ++step) {
                in.stop_ms += rng.range(1, 90 * 60'000);
                const ExactFen after = priced(t, in).exact_total;
                CHECK(after >= before);
                before = after;
                ++checks;
            }
        }
    }
    CHECK(checks > 10'000);
}

TEST_CASE("pricing properties: a TOU bill is the sum of its per-slot exact amounts, and energy is conserved") {
    Rng rng(88);
    int bills = 0;
    for (const auto& sc : kScenarios) {
        if (sc.mode != Mode::Energy)
            continue;
        const Tariff& t = fixtures().at(sc.tariff);
        const auto& en = *t.energy;
        const std::int64_t off_ms = static_cast<std::int64_t>(testing::offset_of(t)) * 1000;
        for (int i = 0; i < kSessionsPerScenario * 2; ++i) {
            Session s = random_session(rng, t, sc.mode);
            s.in.samples = s.samples;
            INFO("scenario ", sc.tariff, " session ", i);
            const Bill b = priced(t, s.in);
            ExactFen energy_lines, service_lines;
            std::int64_t mwh = 0;
            std::int64_t service_mwh = 0;
            for (const auto& l : b.lines) {
                if (l.period) {
                    // Each slot line is its energy at its own period's price (electricity or service), in
                    // the right slot.
                    REQUIRE((l.kind == LineKind::Energy || l.kind == LineKind::Service));
                    const auto local = l.from_ms + off_ms;
                    CHECK(local % (30 * 60'000) == 0);
                    CHECK(l.to_ms - l.from_ms == 30 * 60'000);
                    const auto slot =
                        static_cast<std::size_t>(((local % 86'400'000) + 86'400'000) % 86'400'000 / (30 * 60'000));
                    CHECK(en.slots[slot] == *l.period);
                    const auto& pp = en.price(*l.period);
                    const bool elec = l.kind == LineKind::Energy;
                    CHECK(l.exact == ExactFen::from_mwh_at_e4(l.energy_mwh, elec ? pp.elec_e4 : pp.service_e4));
                    CHECK(l.energy_mwh > 0);
                    (elec ? mwh : service_mwh) += l.energy_mwh;
                }
                if (l.kind == LineKind::Energy)
                    energy_lines += l.exact;
                else if (l.kind == LineKind::Service)
                    service_lines += l.exact;
            }
            CHECK(energy_lines == b.electricity_exact);
            CHECK(service_lines == b.service_exact);
            CHECK(energy_lines + service_lines == b.charges_exact);
            CHECK(b.electricity_fen + b.service_fen == b.cost_fen);
            // With service by energy, every slot with a service price has its service line.
            if (en.service_by != ServiceBy::Energy)
                CHECK(service_mwh == 0);
            else
                CHECK(service_mwh <= mwh);
            CHECK(sum_of_lines(b) == b.exact_total);
            CHECK(mwh == b.energy_mwh);
            // Every Wh above the high-water mark is either charged or reported as after the limit.
            std::int64_t high = 0;
            for (const auto& x : s.samples)
                high = std::max(high, x.energy_wh);
            CHECK(b.energy_mwh + b.uncharged_energy_mwh == high * 1000);
            if (en.service_by == ServiceBy::Energy && !b.waived && !b.cap_applied)
                CHECK(b.exact_total == energy_lines + service_lines);
            ++bills;
        }
    }
    CHECK(bills >= 900);
}

TEST_CASE("pricing properties: a bill is rounded once — floor of the exact sum, not the sum of floors") {
    Rng rng(7);
    int bills = 0, differs = 0;
    for (const auto& sc : kScenarios) {
        const Tariff& t = fixtures().at(sc.tariff);
        for (int i = 0; i < kSessionsPerScenario * 2; ++i) {
            Session s = random_session(rng, t, sc.mode);
            s.in.samples = s.samples;
            const Bill b = priced(t, s.in);
            INFO("scenario ", sc.tariff, " session ", i);
            CHECK(b.exact_total == sum_of_lines(b));
            CHECK(b.cost_fen == b.exact_total.floor_fen());
            CHECK(b.cost_fen >= Fen(0));
            CHECK(b.exact_total >= ExactFen());
            if (t.cap.max_fen)
                CHECK(b.cost_fen <= *t.cap.max_fen);
            std::int64_t shown = 0;
            for (const auto& l : b.lines) {
                CHECK(l.fen == l.exact.floor_fen());
                shown += l.fen.value();
            }
            differs += shown != b.cost_fen.value();
            ++bills;
        }
    }
    CHECK(bills >= 3000);
    CHECK(differs > 0); // proof that rounding per line would give other bills
}

TEST_CASE("pricing properties: electricity + service is the cost; a prepaid amount bounds it, service first") {
    Rng rng(1010);
    int bills = 0, bounded = 0;
    for (const auto& sc : kScenarios) {
        const Tariff& t = fixtures().at(sc.tariff);
        for (int i = 0; i < kSessionsPerScenario; ++i) {
            Session s = random_session(rng, t, sc.mode);
            s.in.samples = s.samples;
            INFO("scenario ", sc.tariff, "/", to_string(sc.mode), " session ", i);
            const Bill b = priced(t, s.in);
            const auto check_split = [](const Bill& x) {
                CHECK(x.electricity_fen + x.service_fen == x.cost_fen);
                CHECK(x.electricity_fen >= Fen(0));
                CHECK(x.service_fen >= Fen(0));
                CHECK(x.electricity_exact + x.service_exact == x.charges_exact);
                CHECK(x.electricity_fen <= (x.waived ? Fen(0) : x.electricity_exact.floor_fen()));
                if (x.waived)
                    CHECK(x.cost_fen == Fen(0));
            };
            check_split(b);
            if (sc.mode != Mode::Energy)
                CHECK(b.electricity_fen == Fen(0));
            // The same session with a prepaid amount somewhere around its cost.
            PricingInput in = s.in;
            in.max_fen = Fen(rng.range(1, b.cost_fen.value() + 50));
            const Bill p = priced(t, in);
            check_split(p);
            CHECK(p.cost_fen <= *in.max_fen);
            CHECK(p.cost_fen == std::min(b.cost_fen, *in.max_fen));
            CHECK(p.prepaid_applied == (b.exact_total > ExactFen::from_fen(*in.max_fen)));
            if (p.prepaid_applied) {
                ++bounded;
                // Service goes first: electricity keeps its share while the cost still covers it.
                CHECK(p.electricity_fen == std::min(b.electricity_fen, p.cost_fen));
            }
            ++bills;
        }
    }
    CHECK(bills >= 1500);
    CHECK(bounded > 100);
}

TEST_CASE("pricing properties: a small example of rounding once") {
    // A small example: two slot lines each under a fen (display 0 + 0) make a bill of 1 fen.
    const Tariff& energy_hour = fixtures().at("energy-hour");
    const EpochMs start = parse_local_datetime("2024-11-21 12:30", 8 * 3600).value();
    const std::vector<Sample> samples = {{start + 60 * 60'000, 10, 0}};
    PricingInput in;
    in.mode = Mode::Energy;
    in.start_ms = start;
    in.stop_ms = start + 60 * 60'000;
    in.samples = samples;
    auto t = energy_hour;
    t.energy->service_fen_per_hour = 0;
    const Bill b = priced(t, in); // 5 Wh peak (0.5 fen) + 5 Wh flat (0.35 fen)
    std::int64_t shown = 0;
    for (const auto& l : b.lines)
        shown += l.fen.value();
    CHECK(shown == 0);
    CHECK(b.exact_total == ExactFen::from_mwh_at_e4(5000, 10000) + ExactFen::from_mwh_at_e4(5000, 7000));
    CHECK(b.cost_fen == Fen(0)); // 0.85 fen
    const std::vector<Sample> more = {{start + 60 * 60'000, 12, 0}};
    in.samples = more; // 6 Wh × 1.0 + 6 Wh × 0.7 = 0.6 + 0.42 = 1.02 fen: lines show 0 + 0, the bill 1
    const Bill c = priced(t, in);
    shown = 0;
    for (const auto& l : c.lines)
        shown += l.fen.value();
    CHECK(shown == 0);
    CHECK(c.cost_fen == Fen(1));
}

TEST_CASE("pricing properties: apportioned energy adds up exactly and each part is within 1 mWh of its share") {
    Rng rng(3);
    for (int i = 0; i < 5000; ++i) {
        const auto n = static_cast<std::size_t>(rng.range(1, 60));
        std::vector<std::int64_t> w(n);
        Int128 sum = 0;
        for (auto& x : w) {
            x = rng.chance(5) ? 0 : rng.range(1, 1'800'000);
            sum += x;
        }
        const std::int64_t total = rng.chance(4) ? rng.range(0, 50) : rng.range(0, 2'000'000'000);
        const auto parts = apportion_mwh(total, w);
        REQUIRE(parts.size() == n);
        std::int64_t got = 0;
        for (std::size_t k = 0; k < n; ++k) {
            got += parts[k];
            if (sum == 0) {
                CHECK(parts[k] == (k == 0 ? total : 0));
                continue;
            }
            const auto floor_share = static_cast<std::int64_t>(static_cast<Int128>(total) * w[k] / sum);
            CHECK(parts[k] >= floor_share);
            CHECK(parts[k] <= floor_share + 1);
            if (w[k] == 0)
                CHECK(parts[k] == 0);
        }
        CHECK(got == total);
    }
}

TEST_CASE("pricing properties: any valid tariff survives to_json and parse_tariff unchanged") {
    Rng rng(42);
    const std::array<std::string, 4> zones = {"Asia/Shanghai", "Asia/Hong_Kong", "UTC", "Asia/Taipei"};
    int checked = 0;
    for (int i = 0; i < 500; ++i) {
        Tariff t;
        t.name = "Random " + std::to_string(i);
        t.timezone = zones[static_cast<std::size_t>(rng.range(0, 3))];
        t.cap.max_minutes = rng.chance(2) ? std::optional<std::int64_t>(rng.range(480, 2880)) : std::nullopt;
        t.cap.max_fen = rng.chance(2) ? std::optional<Fen>(Fen(rng.range(1, 100'000))) : std::nullopt;
        if (rng.chance(2)) {
            TimePricing tp{rng.range(0, 1000), {}};
            for (std::int64_t m = rng.range(1, 60); m <= 480 && tp.options_minutes.size() < 8; m += rng.range(1, 120))
                tp.options_minutes.push_back(m);
            t.time = tp;
            t.modes.push_back(Mode::Time);
        }
        const bool power = rng.chance(2);
        if (power || t.modes.empty()) {
            PowerPricing pp;
            std::int64_t w = 0, fen = 0;
            for (auto k = rng.range(1, 8); k > 0; --k)
                pp.tiers.push_back({w += rng.range(1, 5000), fen += rng.range(0, 200)});
            pp.ignore_first_s = rng.range(0, 600);
            t.power = pp;
            t.modes.push_back(Mode::Power);
        }
        if (rng.chance(2)) {
            EnergyPricing e;
            for (auto& p : e.periods)
                p = PeriodPrice{rng.range(0, 200'000), 0};
            for (auto& s : e.slots)
                s = static_cast<Period>(rng.range(0, 3));
            e.service_by = t.power ? static_cast<ServiceBy>(rng.range(0, 2)) : static_cast<ServiceBy>(rng.range(0, 1));
            if (e.service_by == ServiceBy::Energy)
                for (auto& p : e.periods)
                    p->service_e4 = rng.range(0, 200'000);
            if (e.service_by == ServiceBy::Hour)
                e.service_fen_per_hour = rng.range(0, 100'000);
            t.energy = e;
            t.modes.push_back(Mode::Energy);
        }
        t.free = rng.chance(10);
        t.free_minutes = rng.range(0, 30);
        t.min_start_balance_fen = Fen(rng.range(0, 1000));
        t.stop_below_balance_fen = Fen(rng.range(0, 100));
        if (rng.chance(3)) {
            t.effective_from.kind = EffectiveFrom::Kind::At;
            t.effective_from.at_ms = 1'700'000'000'000 + rng.range(0, 100'000'000'000);
        } else if (rng.chance(3)) {
            t.effective_from.kind = EffectiveFrom::Kind::Now;
        }
        INFO("tariff ", to_json(t));
        const auto problem = validate_tariff(t);
        CHECK_MESSAGE(!problem.has_value(), problem.value_or(""));
        const auto again = parse_tariff(to_json(t));
        const bool ok = again.ok();
        REQUIRE_MESSAGE(ok, (ok ? std::string() : again.error()));
        CHECK(*again == t);
        ++checked;
    }
    CHECK(checked == 500);
}
