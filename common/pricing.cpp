#include "common/pricing.hpp"

#include "common/svc/codec.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <numeric>
#include <stdexcept>

namespace pilehub::billing {
namespace {

__extension__ typedef __int128 Int128;

constexpr std::int64_t kSlotMs = 30 * 60 * 1000;
constexpr std::int64_t kMsPerDay = 86'400'000;
constexpr std::size_t kMaxFallLines = 5;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        --q;
    return q;
}
std::int64_t floor_mod(std::int64_t a, std::int64_t b) {
    return a - floor_div(a, b) * b;
}

std::int64_t mul_checked(std::int64_t a, std::int64_t b) {
    std::int64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        throw std::overflow_error("amount overflows int64");
    return r;
}

std::string duration_text(std::int64_t s) {
    return fmt::format("{} min {:02} s", s / 60, s % 60);
}

std::string yuan_e4(std::int64_t e4) {
    return fmt::format("{}.{:04}", e4 / 10000, e4 % 10000);
}

std::string wh_text(std::int64_t mwh) {
    if (mwh % 1000 == 0)
        return fmt::format("{} Wh", mwh / 1000);
    auto frac = fmt::format("{:03}", mwh % 1000);
    while (frac.back() == '0')
        frac.pop_back();
    return fmt::format("{}.{} Wh", mwh / 1000, frac);
}

std::string tier_text(const PowerTier& t) {
    return fmt::format("≤{} W", t.up_to_w);
}

// Local wall-clock pieces of an instant.
struct Local {
    std::string date; // YYYY-MM-DD
    std::int64_t day; // days since epoch, local
    std::int64_t ms_of_day;
};
Local local_of(EpochMs t, std::int64_t off_ms) {
    const std::int64_t l = t + off_ms;
    const std::int64_t day = floor_div(l, kMsPerDay);
    const auto iso = format_rfc3339(t, static_cast<std::int32_t>(off_ms / 1000));
    return {iso.substr(0, 10), day, l - day * kMsPerDay};
}
std::string hhmm(std::int64_t ms_of_day) {
    return fmt::format("{:02}:{:02}", ms_of_day / 3'600'000, (ms_of_day / 60'000) % 60);
}
std::string hhmmss(EpochMs t, std::int64_t off_ms) {
    const auto l = local_of(t, off_ms);
    return fmt::format("{}:{:02}", hhmm(l.ms_of_day), (l.ms_of_day / 1000) % 60);
}

BillLine line(LineKind kind, std::string text, ExactFen exact = ExactFen()) {
    BillLine l;
    l.kind = kind;
    l.text = std::move(text);
    l.exact = exact;
    l.fen = exact.floor_fen();
    return l;
}

// A reading after cleaning: its time clamped into the session, its energy as the high-water mark.
struct Point {
    EpochMs t;
    std::int64_t mwh;
    std::int64_t power_w;
};

struct Cleaned {
    std::vector<Point> points;
    std::vector<BillLine> notes;
    std::vector<std::string> warnings;
};

Cleaned clean(const PricingInput& in, std::int64_t off_ms) {
    Cleaned c;
    std::optional<EpochMs> last_t;
    std::int64_t last_reading = 0, high_wh = 0;
    std::size_t falls = 0;
    for (std::size_t i = 0; i < in.samples.size(); ++i) {
        const Sample& s = in.samples[i];
        if (last_t && s.t < *last_t) {
            c.warnings.push_back(
                fmt::format("sample {} at {} is earlier than the one before it; ignored", i, hhmmss(s.t, off_ms)));
            continue;
        }
        last_t = s.t;
        const EpochMs t = std::clamp(s.t, in.start_ms, in.stop_ms);
        if (s.energy_wh < last_reading) {
            // A counter that resets or runs backwards: the fall is ignored, and energy is counted
            // again only above the highest reading, so no Wh is ever charged twice.
            const auto msg = fmt::format("energy reading fell from {} Wh to {} Wh at {}; the fall is ignored and "
                                         "energy counts again only above {} Wh",
                                         last_reading, s.energy_wh, hhmmss(t, off_ms), high_wh);
            c.warnings.push_back(msg);
            if (++falls <= kMaxFallLines)
                c.notes.push_back(line(LineKind::Note, msg));
        }
        last_reading = s.energy_wh;
        high_wh = std::max(high_wh, s.energy_wh);
        c.points.push_back({t, mul_checked(high_wh, 1000), std::max<std::int64_t>(0, s.power_w)});
    }
    if (falls > kMaxFallLines)
        c.notes.push_back(line(LineKind::Note, fmt::format("… and {} more falls of the energy reading, all ignored",
                                                           falls - kMaxFallLines)));
    return c;
}

struct TierChoice {
    std::size_t index = 0;
    std::int64_t max_w = 0;
    bool any = false;
    bool overload = false;
    std::string note;
};

// The tier of the highest power reported after ignore_first_s (and within the charged time).
TierChoice choose_tier(const PowerPricing& pw, const std::vector<Point>& points, EpochMs from, EpochMs until) {
    TierChoice c;
    for (const auto& p : points)
        if (p.t >= from && p.t <= until) {
            c.max_w = c.any ? std::max(c.max_w, p.power_w) : p.power_w;
            c.any = true;
        }
    const auto after = pw.ignore_first_s > 0 ? fmt::format(" after the first {} s", pw.ignore_first_s) : std::string();
    if (!c.any) {
        c.note = fmt::format("no power reported{}: the lowest tier ({}) applies", after, tier_text(pw.tiers.front()));
        return c;
    }
    c.index = pw.tiers.size() - 1;
    for (std::size_t i = 0; i < pw.tiers.size(); ++i)
        if (c.max_w <= pw.tiers[i].up_to_w) {
            c.index = i;
            break;
        }
    c.overload = c.max_w > pw.tiers.back().up_to_w;
    if (c.overload)
        c.note = fmt::format("highest power{}: {} W, above the last tier ({}): priced at the last tier; overload",
                             after, c.max_w, tier_text(pw.tiers.back()));
    else
        c.note = fmt::format("highest power{}: {} W → tier {}", after, c.max_w, tier_text(pw.tiers[c.index]));
    return c;
}

bool is_no_load(std::string_view r) {
    return r == "no_load";
}

Result<Bill> price_impl(const Tariff& t, const PricingInput& in) {
    if (auto problem = validate_tariff(t))
        return Result<Bill>::failure("invalid tariff: " + *problem);
    if (!offers(t, in.mode))
        return Result<Bill>::failure(fmt::format("mode {} is not offered by this tariff", to_string(in.mode)));
    if (in.stop_ms < in.start_ms)
        return Result<Bill>::failure("the session stops before it starts");
    if (in.max_fen && *in.max_fen < Fen(1))
        return Result<Bill>::failure(fmt::format("max_fen {} must be at least 1 fen", in.max_fen->value()));
    if (in.mode == Mode::Time && in.minutes) {
        const auto& opts = t.time->options_minutes;
        if (std::find(opts.begin(), opts.end(), *in.minutes) == opts.end())
            return Result<Bill>::failure(
                fmt::format("minutes {} is not one of time.options_minutes [{}]", *in.minutes, fmt::join(opts, ", ")));
    }
    const std::int64_t off_ms = static_cast<std::int64_t>(find_time_zone(t.timezone)->utc_offset_s) * 1000;

    Bill b;
    b.elapsed_s = (in.stop_ms - in.start_ms) / 1000;

    // The charged time: elapsed, bounded by the chosen time (time mode) and cap.max_minutes.
    std::optional<std::int64_t> limit_s;
    std::string limit_by;
    if (in.mode == Mode::Time && in.minutes) {
        limit_s = *in.minutes * 60;
        limit_by = "the chosen time";
    }
    if (t.cap.max_minutes && (!limit_s || *t.cap.max_minutes * 60 < *limit_s)) {
        limit_s = *t.cap.max_minutes * 60;
        limit_by = "cap.max_minutes";
    }
    b.time_limited = limit_s && b.elapsed_s > *limit_s;
    b.charged_s = b.time_limited ? *limit_s : b.elapsed_s;
    // Energy and power after window_end are not charged (only when a limit cut the session short).
    const EpochMs window_end = b.time_limited ? in.start_ms + *limit_s * 1000 : in.stop_ms;

    Cleaned c = clean(in, off_ms);
    b.warnings = std::move(c.warnings);

    std::vector<BillLine> charges;
    std::vector<BillLine> notes;
    if (b.time_limited)
        notes.push_back(
            line(LineKind::Note, fmt::format("charged time limited to {} by {} (ran {})", duration_text(b.charged_s),
                                             limit_by, duration_text(b.elapsed_s))));

    const auto tier_line = [&](LineKind kind, std::string_view what) {
        const auto& pw = *t.power;
        const TierChoice tc = choose_tier(pw, c.points, in.start_ms + pw.ignore_first_s * 1000, window_end);
        const PowerTier& tier = pw.tiers[tc.index];
        b.max_power_w = tc.max_w;
        b.tier = tier;
        b.overload = tc.overload;
        notes.push_back(line(LineKind::Note, tc.note));
        BillLine l = line(kind,
                          fmt::format("{}power tier {} at {} fen/h × {}", what, tier_text(tier), tier.fen_per_hour,
                                      duration_text(b.charged_s)),
                          ExactFen::from_seconds_at(b.charged_s, tier.fen_per_hour));
        l.seconds = b.charged_s;
        charges.push_back(std::move(l));
    };

    switch (in.mode) {
    case Mode::Time: {
        BillLine l =
            line(LineKind::Time, fmt::format("time at {} fen/h × {}", t.time->fen_per_hour, duration_text(b.charged_s)),
                 ExactFen::from_seconds_at(b.charged_s, t.time->fen_per_hour));
        l.seconds = b.charged_s;
        charges.push_back(std::move(l));
        break;
    }
    case Mode::Power:
        tier_line(LineKind::Power, "");
        break;
    case Mode::Energy: {
        const auto& en = *t.energy;
        // Energy per half-hour slot occurrence (key: local ms / 30 min), and after the limit.
        std::map<std::int64_t, std::int64_t> slot_mwh;
        std::int64_t uncharged = 0;
        const auto slot_of = [&](EpochMs x) { return floor_div(x + off_ms, kSlotMs); };
        Point prev{in.start_ms, 0, 0};
        std::vector<std::int64_t> weights;
        std::vector<std::optional<std::int64_t>> keys;
        for (const Point& p : c.points) {
            const std::int64_t d = p.mwh - prev.mwh;
            if (d > 0 && p.t == prev.t) {
                // Energy reported with no time elapsed: it was used just before the report.
                const EpochMs x = p.t > in.start_ms ? p.t - 1 : p.t;
                if (b.time_limited && x >= window_end)
                    uncharged += d;
                else
                    slot_mwh[slot_of(x)] += d;
            } else if (d > 0) {
                weights.clear();
                keys.clear();
                for (EpochMs cur = prev.t; cur < p.t;) {
                    EpochMs end = std::min(p.t, (slot_of(cur) + 1) * kSlotMs - off_ms);
                    if (b.time_limited && cur < window_end && end > window_end)
                        end = window_end;
                    weights.push_back(end - cur);
                    keys.push_back(b.time_limited && cur >= window_end ? std::nullopt
                                                                       : std::optional<std::int64_t>(slot_of(cur)));
                    cur = end;
                }
                const auto parts = apportion_mwh(d, weights);
                for (std::size_t i = 0; i < parts.size(); ++i) {
                    if (keys[i])
                        slot_mwh[*keys[i]] += parts[i];
                    else
                        uncharged += parts[i];
                }
            }
            prev = p;
        }
        const bool several_days =
            local_of(in.start_ms, off_ms).day != local_of(std::max(in.start_ms, window_end - 1), off_ms).day;
        const bool with_service = en.service_by == ServiceBy::Energy;
        for (const auto& [key, mwh] : slot_mwh) {
            if (mwh == 0)
                continue;
            const auto period = en.slots[static_cast<std::size_t>(floor_mod(key, kSlotsPerDay))];
            const PeriodPrice& pp = en.price(period);
            const EpochMs from = key * kSlotMs - off_ms;
            const auto lf = local_of(from, off_ms);
            const auto slot_text =
                fmt::format("{} {}{}–{}: {}", to_string(period), several_days ? lf.date + " " : std::string(),
                            hhmm(lf.ms_of_day), hhmm(lf.ms_of_day + kSlotMs), wh_text(mwh));
            // Electricity and service are separate lines of the same slot (BILLING §5: invoices split them).
            // The slot's energy is captured by copy: clang before 16 cannot capture a structured binding.
            const auto slot_line = [&, slot_energy_mwh = mwh](LineKind kind, std::string_view what, std::int64_t e4) {
                BillLine l = line(kind, fmt::format("{} {} × {} yuan/kWh", slot_text, what, yuan_e4(e4)),
                                  ExactFen::from_mwh_at_e4(slot_energy_mwh, e4));
                l.energy_mwh = slot_energy_mwh;
                l.from_ms = from;
                l.to_ms = from + kSlotMs;
                l.period = period;
                charges.push_back(std::move(l));
            };
            slot_line(LineKind::Energy, "electricity", pp.elec_e4);
            if (with_service && pp.service_e4 > 0)
                slot_line(LineKind::Service, "service", pp.service_e4);
            b.energy_mwh += mwh;
        }
        b.uncharged_energy_mwh = uncharged;
        if (b.energy_mwh == 0)
            notes.push_back(line(LineKind::Note, "no energy delivered"));
        if (uncharged > 0)
            notes.push_back(
                line(LineKind::Note, fmt::format("{} after the charged time limit: not charged", wh_text(uncharged))));
        if (en.service_by == ServiceBy::Hour) {
            BillLine l =
                line(LineKind::Service,
                     fmt::format("service at {} fen/h × {}", en.service_fen_per_hour, duration_text(b.charged_s)),
                     ExactFen::from_seconds_at(b.charged_s, en.service_fen_per_hour));
            l.seconds = b.charged_s;
            charges.push_back(std::move(l));
        } else if (en.service_by == ServiceBy::Power) {
            tier_line(LineKind::Service, "service: ");
        }
        break;
    }
    }

    for (const auto& l : charges)
        (l.kind == LineKind::Energy ? b.electricity_exact : b.service_exact) += l.exact;
    b.charges_exact = b.electricity_exact + b.service_exact;

    // Waivers cancel the charges (one line, so the charges stay visible); then the cap, then the
    // session's prepaid amount.
    std::optional<std::string> waiver;
    if (t.free)
        waiver = "free station";
    else if (is_no_load(in.stop_reason))
        waiver = "no load: free";
    else if (t.free_minutes > 0 && b.elapsed_s <= t.free_minutes * 60)
        waiver = fmt::format("free minutes: ended after {}, within the {} free minutes", duration_text(b.elapsed_s),
                             t.free_minutes);
    std::vector<BillLine> adjustments;
    if (waiver) {
        b.waived = true;
        adjustments.push_back(line(LineKind::Waiver, *waiver, ExactFen() - b.charges_exact));
    }
    b.uncapped_exact = b.waived ? ExactFen() : b.charges_exact;
    if (t.cap.max_fen && b.uncapped_exact > ExactFen::from_fen(*t.cap.max_fen)) {
        b.cap_applied = true;
        adjustments.push_back(line(LineKind::Cap,
                                   fmt::format("cap applied: at most {} yuan (cap.max_fen {})",
                                               t.cap.max_fen->yuan_string(), t.cap.max_fen->value()),
                                   ExactFen::from_fen(*t.cap.max_fen) - b.uncapped_exact));
    }
    // The rider's prepaid amount bounds what is left after the tariff's cap (its own line).
    const ExactFen bounded = b.cap_applied ? ExactFen::from_fen(*t.cap.max_fen) : b.uncapped_exact;
    if (in.max_fen && bounded > ExactFen::from_fen(*in.max_fen)) {
        b.prepaid_applied = true;
        adjustments.push_back(line(LineKind::Cap,
                                   fmt::format("prepaid amount reached: at most {} yuan (max_fen {})",
                                               in.max_fen->yuan_string(), in.max_fen->value()),
                                   ExactFen::from_fen(*in.max_fen) - bounded));
    }

    for (auto* group : {&charges, &c.notes, &notes, &adjustments})
        for (auto& l : *group)
            b.lines.push_back(std::move(l));
    for (const auto& l : b.lines)
        b.exact_total += l.exact;
    b.cost_fen = b.exact_total.floor_fen(); // the one rounding of the bill
    // The split rounds nothing again: electricity is its own charges floored (none when waived), never
    // more than the cost; service is the rest. So a bound lowers service first, and the fraction of a
    // fen that the single rounding keeps lands in service.
    const Fen electricity = b.waived ? Fen(0) : b.electricity_exact.floor_fen();
    b.electricity_fen = std::clamp(electricity, Fen(0), std::max(b.cost_fen, Fen(0)));
    b.service_fen = b.cost_fen - b.electricity_fen;
    return Result<Bill>(std::move(b));
}

void write_line(json::Writer& w, const BillLine& l) {
    w.begin_object()
        .field("kind", to_string(l.kind))
        .field("text", std::string_view(l.text))
        .field("fen", l.fen.value())
        .field("exact_units", l.exact.units());
    if (l.seconds)
        w.field("seconds", l.seconds);
    if (l.period) { // a per-slot line: electricity, or service by energy
        w.field("energy_mwh", l.energy_mwh);
        w.field("period", to_string(*l.period));
        w.field("from_ms", l.from_ms).field("to_ms", l.to_ms);
    }
    w.end_object();
}

std::optional<EpochMs> read_when(json::Object& o, std::string_view key) {
    const rapidjson::Value* v = o.raw(key);
    if (!v)
        return std::nullopt;
    if (v->IsInt64())
        return v->GetInt64();
    if (v->IsString())
        if (auto t = parse_rfc3339(std::string_view(v->GetString(), v->GetStringLength())))
            return t;
    o.fail(key, "must be an RFC 3339 time or epoch milliseconds");
    return std::nullopt;
}

} // namespace

std::string_view to_string(LineKind k) {
    switch (k) {
    case LineKind::Time:
        return "time";
    case LineKind::Power:
        return "power";
    case LineKind::Energy:
        return "energy";
    case LineKind::Service:
        return "service";
    case LineKind::Waiver:
        return "waiver";
    case LineKind::Cap:
        return "cap";
    case LineKind::Note:
        return "note";
    }
    return "?";
}

std::string_view to_string(Quota q) {
    switch (q) {
    case Quota::ChosenTime:
        return "chosen_time";
    case Quota::MaxMinutes:
        return "max_minutes";
    case Quota::MaxFen:
        return "max_fen";
    case Quota::Prepaid:
        return "prepaid";
    }
    return "?";
}

Result<Bill> price(const Tariff& t, const PricingInput& in) {
    try {
        return price_impl(t, in);
    } catch (const std::overflow_error& e) {
        return Result<Bill>::failure(fmt::format("the bill cannot be computed: {}", e.what()));
    }
}

Result<Bill> running_cost(const Tariff& t, PricingInput in, EpochMs now_ms) {
    in.stop_ms = std::max(now_ms, in.start_ms);
    in.stop_reason = {};
    return price(t, in);
}

std::vector<std::int64_t> apportion_mwh(std::int64_t total_mwh, std::span<const std::int64_t> weights) {
    std::vector<std::int64_t> parts(weights.size(), 0);
    if (weights.empty())
        return parts;
    Int128 sum = 0;
    for (auto w : weights)
        sum += std::max<std::int64_t>(0, w);
    if (sum == 0) {
        parts[0] = total_mwh;
        return parts;
    }
    std::vector<Int128> remainders(weights.size());
    std::int64_t given = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        const Int128 share = static_cast<Int128>(total_mwh) * std::max<std::int64_t>(0, weights[i]);
        parts[i] = static_cast<std::int64_t>(share / sum);
        remainders[i] = share % sum;
        given += parts[i];
    }
    // Hand out what is left, one mWh each, to the largest remainders (ties: the earlier part).
    std::vector<std::size_t> order(weights.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return remainders[a] > remainders[b]; });
    for (std::size_t k = 0; given < total_mwh; ++k, ++given)
        ++parts[order[k % order.size()]];
    return parts;
}

bool time_quota_reached(const Tariff& t, const PricingInput& in, std::int64_t elapsed_s) {
    if (in.mode == Mode::Time && in.minutes && elapsed_s >= *in.minutes * 60)
        return true;
    return t.cap.max_minutes && elapsed_s >= *t.cap.max_minutes * 60;
}

bool cap_reached(const Tariff& t, const Bill& running) {
    return t.cap.max_fen && running.uncapped_exact >= ExactFen::from_fen(*t.cap.max_fen);
}

bool prepaid_reached(const PricingInput& in, const Bill& running) {
    return in.max_fen && running.uncapped_exact >= ExactFen::from_fen(*in.max_fen);
}

std::optional<Quota> quota_reached(const Tariff& t, const PricingInput& in, const Bill& running) {
    if (in.mode == Mode::Time && in.minutes && running.elapsed_s >= *in.minutes * 60)
        return Quota::ChosenTime;
    if (t.cap.max_minutes && running.elapsed_s >= *t.cap.max_minutes * 60)
        return Quota::MaxMinutes;
    if (cap_reached(t, running))
        return Quota::MaxFen;
    if (prepaid_reached(in, running))
        return Quota::Prepaid;
    return std::nullopt;
}

bool balance_low(const Tariff& t, Fen available, Fen running_cost) {
    return available - running_cost < t.stop_below_balance_fen;
}

bool can_start(const Tariff& t, Fen available) {
    return available >= t.min_start_balance_fen;
}

bool is_stop_reason(std::string_view s) {
    static constexpr std::array<std::string_view, 13> kReasons = {
        "quota_reached", "full",      "no_load",    "unplugged", "socket_overload", "device_overload", "over_temp",
        "remote_stop",   "user_stop", "power_loss", "fault",     "other",           "balance_low"};
    return std::find(kReasons.begin(), kReasons.end(), s) != kReasons.end();
}

Result<QuoteRequest> parse_quote_request(std::string_view body) {
    auto doc = json::parse(body, 1024 * 1024);
    if (!doc)
        return Result<QuoteRequest>::failure(doc.error());
    std::string err;
    auto o = json::Object::root(doc.value(), &err);
    if (!err.empty())
        return Result<QuoteRequest>::failure(err);
    for (auto it = doc.value().MemberBegin(); it != doc.value().MemberEnd(); ++it) {
        static constexpr std::array<std::string_view, 8> kKnown = {"tariff",  "mode",    "samples", "stop_reason",
                                                                   "minutes", "max_fen", "start",   "stop"};
        const std::string_view k(it->name.GetString(), it->name.GetStringLength());
        if (std::find(kKnown.begin(), kKnown.end(), k) == kKnown.end())
            return Result<QuoteRequest>::failure(fmt::format("{} is not a known field", k));
    }
    const rapidjson::Value* tv = o.raw("tariff");
    if (!tv)
        return Result<QuoteRequest>::failure("tariff is required");
    auto tariff = parse_tariff(*tv, "tariff");
    if (!tariff)
        return Result<QuoteRequest>::failure(tariff.error());

    QuoteRequest q{std::move(tariff).value(), Mode::Power, {}, {}, {}, 0, 0, {}};
    const auto mode = o.req_str("mode", 16);
    if (const auto m = parse_mode(mode))
        q.mode = *m;
    else if (err.empty())
        o.fail("mode", fmt::format("is \"{}\"; it must be time, power or energy", mode));
    auto samples = o.req_arr("samples", 20'000);
    for (std::size_t i = 0; i < samples.size() && err.empty(); ++i) {
        auto s = samples.obj(i);
        Sample x;
        if (!s.has("t"))
            s.fail("t", "is required");
        x.t = read_when(s, "t").value_or(0);
        x.energy_wh = s.req_int("energy_wh", 0, 1'000'000'000'000);
        // power_w is a measurement and may carry decimals: the nearest whole watt chooses the tier.
        x.power_w = std::llround(s.req_num("power_w", 0, 1e7));
        q.samples.push_back(x);
    }
    q.stop_reason = o.opt_str("stop_reason", 32).value_or("");
    if (!q.stop_reason.empty() && !is_stop_reason(q.stop_reason))
        o.fail("stop_reason", fmt::format("is \"{}\", not a known stop reason", q.stop_reason));
    q.minutes = o.opt_int("minutes", 1, 48 * 60);
    if (const auto max_fen = o.opt_int("max_fen", 1, svc::kMaxPrepaidFen))
        q.max_fen = Fen(*max_fen);
    const auto start = read_when(o, "start"), stop = read_when(o, "stop");
    if (!err.empty())
        return Result<QuoteRequest>::failure(err);
    if (q.samples.empty() && (!start || !stop))
        return Result<QuoteRequest>::failure("samples must not be empty unless start and stop are given");
    q.start_ms = start ? *start : q.samples.front().t;
    q.stop_ms = stop ? *stop : std::max(q.start_ms, q.samples.back().t);
    if (q.stop_ms < q.start_ms)
        return Result<QuoteRequest>::failure("stop is before start");
    return Result<QuoteRequest>(std::move(q));
}

Result<Bill> price_quote(const QuoteRequest& q) {
    PricingInput in;
    in.mode = q.mode;
    in.start_ms = q.start_ms;
    in.stop_ms = q.stop_ms;
    in.minutes = q.minutes;
    in.samples = q.samples;
    in.stop_reason = q.stop_reason;
    in.max_fen = q.max_fen;
    return price(q.tariff, in);
}

void write_bill(json::Writer& w, const Bill& b) {
    w.begin_object()
        .field("cost_fen", b.cost_fen.value())
        .field("electricity_fen", b.electricity_fen.value())
        .field("service_fen", b.service_fen.value())
        .field("exact_units", b.exact_total.units())
        .field("units_per_fen", ExactFen::kUnitsPerFen);
    w.key("lines").begin_array();
    for (const auto& l : b.lines)
        write_line(w, l);
    w.end_array();
    w.key("warnings").begin_array();
    for (const auto& s : b.warnings)
        w.value(std::string_view(s));
    w.end_array();
    w.field("overload", b.overload)
        .field("waived", b.waived)
        .field("cap_applied", b.cap_applied)
        .field("prepaid_applied", b.prepaid_applied)
        .field("time_limited", b.time_limited)
        .field("elapsed_s", b.elapsed_s)
        .field("charged_s", b.charged_s)
        .field("energy_mwh", b.energy_mwh)
        .field("max_power_w", b.max_power_w);
    w.end_object();
}

std::string to_json(const Bill& b) {
    json::Writer w;
    write_bill(w, b);
    return w.str();
}

} // namespace pilehub::billing
