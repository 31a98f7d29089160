// fuzz_tariff: the tariff document parser (BILLING.md §1) and the pricing engine. The input is a tariff
// document, then optionally a NUL byte and the bytes a short session is generated from (mode, times,
// up to 12 samples, stop reason, chosen minutes, prepaid amount). The whole input is also read as an
// operator's quote request (POST /admin/tariff-quote). Properties: a parsed tariff is valid and
// survives to_json → parse_tariff unchanged; every bill keeps its invariants (pricing.hpp, Bill).
#include "common/log.hpp"
#include "common/pricing.hpp"
#include "common/tariff.hpp"
#include "tests/fuzz/entries.hpp"

#include <fmt/format.h>

#include <array>

namespace pilehub::fuzz {
namespace {

constexpr EpochMs kT0 = 1'796'000'000'000; // 2026-11-30, in a TOU peak for most zones

/// Reads the session bytes one at a time (0 once they run out).
struct Bytes {
    std::string_view b;
    std::size_t i = 0;
    unsigned next() { return i < b.size() ? static_cast<unsigned char>(b[i++]) : 0u; }
};

std::string bill_invariants(const billing::Bill& b, const billing::Tariff& t, const std::optional<Fen>& max_fen,
                            std::string_view what) {
    std::int64_t sum = 0;
    for (const auto& l : b.lines)
        if (__builtin_add_overflow(sum, l.exact.units(), &sum))
            return fmt::format("{}: the lines overflow int64", what);
    if (sum != b.exact_total.units())
        return fmt::format("{}: exact_total {} is not the sum of its lines {}", what, b.exact_total.units(), sum);
    if (b.cost_fen != b.exact_total.floor_fen())
        return fmt::format("{}: cost_fen is not exact_total rounded down", what);
    if (b.cost_fen.value() < 0)
        return fmt::format("{}: negative cost {}", what, b.cost_fen.value());
    if (b.electricity_fen.value() < 0 || b.service_fen.value() < 0 ||
        b.electricity_fen.value() + b.service_fen.value() != b.cost_fen.value())
        return fmt::format("{}: electricity {} + service {} is not the cost {}", what, b.electricity_fen.value(),
                           b.service_fen.value(), b.cost_fen.value());
    if (t.cap.max_fen && b.cost_fen > *t.cap.max_fen)
        return fmt::format("{}: cost {} above cap.max_fen {}", what, b.cost_fen.value(), t.cap.max_fen->value());
    if (max_fen && b.cost_fen > *max_fen)
        return fmt::format("{}: cost {} above the prepaid max_fen {}", what, b.cost_fen.value(), max_fen->value());
    if (t.free && b.cost_fen.value() != 0)
        return fmt::format("{}: a free station charged {}", what, b.cost_fen.value());
    return {};
}

std::string price_session(const billing::Tariff& t, std::string_view session) {
    Bytes in{session};
    billing::PricingInput p;
    p.mode = static_cast<billing::Mode>(in.next() % 3);
    p.start_ms = kT0 + static_cast<EpochMs>(in.next()) * 7 * 60'000; // anywhere in the next 30 hours
    std::vector<billing::Sample> samples;
    const unsigned n = in.next() % 13;
    EpochMs t_ms = p.start_ms;
    std::int64_t wh = 0;
    for (unsigned i = 0; i < n; ++i) {
        const unsigned step = in.next(), delta = in.next(), power = in.next();
        t_ms += static_cast<EpochMs>(step) * 30'000 - (step > 250 ? 600'000 : 0); // sometimes backwards
        wh += delta < 240 ? static_cast<std::int64_t>(delta) * 5 : -static_cast<std::int64_t>(delta); // sometimes falls
        samples.push_back({t_ms, wh, static_cast<std::int64_t>(power) * 40});
    }
    p.samples = samples;
    p.stop_ms = std::max(p.start_ms, t_ms) + static_cast<EpochMs>(in.next()) * 60'000;
    static constexpr std::array<std::string_view, 5> kStops{"", "user_stop", "no_load", "full", "quota_reached"};
    p.stop_reason = kStops[in.next() % kStops.size()];
    if (const unsigned m = in.next(); m != 0 && t.time && !t.time->options_minutes.empty())
        p.minutes = t.time->options_minutes[m % t.time->options_minutes.size()];
    else if (m != 0)
        p.minutes = static_cast<std::int64_t>(m) * 10;
    if (const unsigned f = in.next(); f != 0)
        p.max_fen = Fen(static_cast<std::int64_t>(f) * 37);

    if (auto bill = billing::price(t, p)) {
        if (auto e = bill_invariants(bill.value(), t, p.max_fen, "price"); !e.empty())
            return e;
        if (!billing::is_stop_reason(p.stop_reason) && !p.stop_reason.empty())
            return "a generated stop reason is not a stop reason";
    }
    const EpochMs now = p.start_ms + (p.stop_ms - p.start_ms) / 2;
    if (auto running = billing::running_cost(t, p, now)) {
        if (auto e = bill_invariants(running.value(), t, p.max_fen, "running_cost"); !e.empty())
            return e;
        (void)billing::quota_reached(t, p, running.value());
        (void)billing::balance_low(t, Fen(500), running.value().cost_fen);
    }
    return {};
}

} // namespace

std::string tariff(const std::uint8_t* data, std::size_t size) {
    static const bool quiet = (log::set_level(log::Level::Error), true);
    (void)quiet;
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    const auto nul = all.find('\0');
    const auto doc = all.substr(0, nul);
    const auto session = nul == std::string_view::npos ? std::string_view{} : all.substr(nul + 1);

    if (auto t = billing::parse_tariff(doc)) {
        const auto& tariff = t.value();
        if (auto why = billing::validate_tariff(tariff))
            return "parse_tariff accepted a tariff validate_tariff refuses: " + *why;
        const auto text = billing::to_json(tariff);
        auto again = billing::parse_tariff(text);
        if (!again)
            return "to_json of a parsed tariff does not parse: " + again.error() + " in " + text;
        if (!(again.value() == tariff))
            return "parse_tariff(to_json(t)) != t for " + text;
        if (auto e = price_session(tariff, session); !e.empty())
            return e;
    }
    if (auto q = billing::parse_quote_request(doc)) {
        if (auto bill = billing::price_quote(q.value()))
            if (auto e = bill_invariants(bill.value(), q.value().tariff, q.value().max_fen, "price_quote"); !e.empty())
                return e;
    }
    return {};
}

} // namespace pilehub::fuzz
