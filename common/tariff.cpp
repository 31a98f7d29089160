#include "common/tariff.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <tuple>

namespace pilehub::billing {
namespace {

// Bounds a saved tariff must respect. They refuse typos (an extra zero) and nonsense, not
// business choices: every real tariff we know of sits far inside them.
constexpr std::int64_t kMaxFenPerHour = 100'000; // 1000 yuan per hour
constexpr std::int64_t kMaxE4PerKwh = 200'000;   // 20 yuan per kWh
constexpr std::int64_t kMaxPowerW = 1'000'000;   // 1 MW (the largest DC chargers)
constexpr std::int64_t kMaxIgnoreFirstS = 600;
constexpr std::int64_t kMaxMinutes = 48 * 60; // BILLING.md: cap.max_minutes at most 48 h
constexpr std::int64_t kMaxFreeMinutes = 24 * 60;
constexpr std::int64_t kMaxCapFen = 10'000'000; // 100 000 yuan
constexpr std::int64_t kMaxBalanceRuleFen = 1'000'000;
constexpr std::int64_t kMaxRaiseDelayS = 3'600;
constexpr std::size_t kMaxTiers = 16;
constexpr std::size_t kMaxOptions = 16;
constexpr std::size_t kMaxNameBytes = 100;

constexpr std::int64_t kMsPerDay = 86'400'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        --q;
    return q;
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian calendar).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
    std::int64_t y;
    unsigned m;
    unsigned d;
};

Civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2), m, d};
}

bool leap(std::int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}
unsigned days_in_month(std::int64_t y, unsigned m) {
    static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` decimal digits at `pos`.
std::optional<unsigned> digits(std::string_view s, std::size_t pos, std::size_t n) {
    if (pos + n > s.size())
        return std::nullopt;
    unsigned v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9')
            return std::nullopt;
        v = v * 10 + static_cast<unsigned>(s[i] - '0');
    }
    return v;
}

// "YYYY-MM-DD?HH:MM[:SS[.fff]]" where ? is one of `seps`; the local wall time in ms and where it
// stopped. Seconds are required when `need_seconds`.
struct Wall {
    EpochMs local_ms;
    std::size_t end;
};
std::optional<Wall> parse_wall(std::string_view s, std::string_view seps, bool need_seconds) {
    const auto y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
    const auto h = digits(s, 11, 2), mi = digits(s, 14, 2);
    if (!y || !mo || !d || !h || !mi || s[4] != '-' || s[7] != '-' || seps.find(s[10]) == std::string_view::npos ||
        s[13] != ':')
        return std::nullopt;
    if (*mo < 1 || *mo > 12 || *d < 1 || *d > days_in_month(*y, *mo) || *h > 23 || *mi > 59)
        return std::nullopt;
    std::size_t pos = 16;
    unsigned sec = 0, ms = 0;
    if (pos < s.size() && s[pos] == ':') {
        const auto ss = digits(s, pos + 1, 2);
        if (!ss || *ss > 59)
            return std::nullopt;
        sec = *ss;
        pos += 3;
        if (pos < s.size() && s[pos] == '.') {
            ++pos;
            std::size_t n = 0;
            while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
                if (n < 3)
                    ms = ms * 10 + static_cast<unsigned>(s[pos] - '0');
                ++n;
                ++pos;
            }
            if (n == 0 || n > 9)
                return std::nullopt;
            for (; n < 3; ++n)
                ms *= 10;
        }
    } else if (need_seconds) {
        return std::nullopt;
    }
    const std::int64_t days = days_from_civil(*y, *mo, *d);
    return Wall{days * kMsPerDay + (static_cast<std::int64_t>(*h) * 3600 + *mi * 60 + sec) * 1000 + ms, pos};
}

std::string join(std::string_view path, std::string_view key) {
    return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

void set_error(std::string* err, std::string msg) {
    if (err->empty())
        *err = std::move(msg);
}

// Refuses members of `v` not listed in `known`.
void refuse_unknown(const rapidjson::Value* v, std::string_view path, std::initializer_list<std::string_view> known,
                    std::string* err) {
    if (!v || !v->IsObject())
        return;
    for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
        const std::string_view k(it->name.GetString(), it->name.GetStringLength());
        if (std::find(known.begin(), known.end(), k) == known.end())
            set_error(err, fmt::format("{} is not a known field", join(path, k)));
    }
}

std::optional<Period> parse_period(std::string_view s) {
    if (s == "sharp")
        return Period::Sharp;
    if (s == "peak")
        return Period::Peak;
    if (s == "flat")
        return Period::Flat;
    if (s == "valley")
        return Period::Valley;
    return std::nullopt;
}

std::optional<ServiceBy> parse_service_by(std::string_view s) {
    if (s == "energy")
        return ServiceBy::Energy;
    if (s == "hour")
        return ServiceBy::Hour;
    if (s == "power")
        return ServiceBy::Power;
    return std::nullopt;
}

constexpr std::array<Period, 4> kPeriods = {Period::Sharp, Period::Peak, Period::Flat, Period::Valley};

std::optional<TimePricing> read_time(json::Object o) {
    if (!o.present())
        return std::nullopt;
    TimePricing t;
    t.fen_per_hour = o.req_int("fen_per_hour");
    auto opts = o.req_arr("options_minutes", kMaxOptions);
    for (std::size_t i = 0; i < opts.size(); ++i)
        if (auto v = opts.int_at(i, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()))
            t.options_minutes.push_back(*v);
    return t;
}

std::optional<PowerPricing> read_power(json::Object o, std::string* err) {
    if (!o.present())
        return std::nullopt;
    PowerPricing p;
    auto tiers = o.req_arr("tiers", kMaxTiers);
    const rapidjson::Value* raw = o.raw("tiers");
    for (std::size_t i = 0; i < tiers.size(); ++i) {
        auto tier = tiers.obj(i);
        if (raw && raw->IsArray())
            refuse_unknown(&(*raw)[static_cast<rapidjson::SizeType>(i)], fmt::format("{}.tiers[{}]", o.path(), i),
                           {"up_to_w", "fen_per_hour"}, err);
        PowerTier pt;
        pt.up_to_w = tier.req_int("up_to_w");
        pt.fen_per_hour = tier.req_int("fen_per_hour");
        p.tiers.push_back(pt);
    }
    p.ignore_first_s = o.opt_int("ignore_first_s").value_or(0);
    return p;
}

std::optional<EnergyPricing> read_energy(json::Object o, std::string* err) {
    if (!o.present())
        return std::nullopt;
    EnergyPricing e;
    auto periods = o.req_obj("periods");
    refuse_unknown(o.raw("periods"), periods.path(), {"sharp", "peak", "flat", "valley"}, err);
    for (Period p : kPeriods) {
        const auto name = to_string(p);
        auto po = periods.opt_obj(name);
        if (!po.present())
            continue;
        refuse_unknown(periods.raw(name), po.path(), {"elec_e4", "service_e4"}, err);
        PeriodPrice pp;
        pp.elec_e4 = po.req_int("elec_e4");
        pp.service_e4 = po.opt_int("service_e4").value_or(0);
        e.periods[static_cast<std::size_t>(p)] = pp;
    }
    auto slots = o.req_arr("slots", 1000);
    if (slots.present() && slots.size() != kSlotsPerDay)
        o.fail("slots", fmt::format("must have {} entries, one per half hour from 00:00 local (has {})", kSlotsPerDay,
                                    slots.size()));
    for (std::size_t i = 0; i < kSlotsPerDay && i < slots.size(); ++i) {
        const auto s = slots.str_at(i, 16);
        if (!s)
            break;
        const auto p = parse_period(*s);
        if (!p) {
            set_error(err, fmt::format("{}.slots[{}] is \"{}\"; it must be one of sharp, peak, flat, valley", o.path(),
                                       i, *s));
            break;
        }
        e.slots[i] = *p;
    }
    const auto by = o.opt_str("service_by", 16).value_or("energy");
    if (const auto sb = parse_service_by(by))
        e.service_by = *sb;
    else
        o.fail("service_by", fmt::format("is \"{}\"; it must be energy, hour or power", by));
    const auto sfh = o.opt_int("service_fen_per_hour");
    if (e.service_by == ServiceBy::Hour && !sfh)
        o.fail("service_fen_per_hour", "is required when service_by is hour");
    e.service_fen_per_hour = sfh.value_or(0);
    if (sfh && e.service_by != ServiceBy::Hour)
        o.fail("service_fen_per_hour", "is only used with service_by hour");
    return e;
}

std::string zone_list() {
    std::string s;
    for (const auto& z : supported_time_zones())
        s += (s.empty() ? "" : ", ") + std::string(z.name);
    return s;
}

std::string range_error(std::string_view field, std::int64_t v, std::int64_t lo, std::int64_t hi,
                        std::string_view unit) {
    return fmt::format("{} is {}; it must be between {} and {}{}", field, v, lo, hi, unit);
}

std::optional<std::string> validate_at(const Tariff& t, std::string_view prefix) {
    const auto f = [&](std::string_view field) { return join(prefix, field); };
    const auto in = [](std::int64_t v, std::int64_t lo, std::int64_t hi) { return v >= lo && v <= hi; };

    if (t.name.empty())
        return f("name") + " must not be empty";
    if (t.name.size() > kMaxNameBytes)
        return fmt::format("{} is longer than {} bytes", f("name"), kMaxNameBytes);
    if (!find_time_zone(t.timezone))
        return fmt::format("{} \"{}\" is not supported; PileHub prices in fixed-offset zones only: {}", f("timezone"),
                           t.timezone, zone_list());
    if (t.modes.empty())
        return f("modes") + " must list at least one of time, power, energy";
    for (std::size_t i = 0; i < t.modes.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (t.modes[i] == t.modes[j])
                return fmt::format("{}[{}] repeats \"{}\"", f("modes"), i, to_string(t.modes[i]));
    for (Mode m : t.modes) {
        const bool has =
            (m == Mode::Time && t.time) || (m == Mode::Power && t.power) || (m == Mode::Energy && t.energy);
        if (!has)
            return fmt::format("{} lists \"{}\" but the {} section is missing", f("modes"), to_string(m),
                               f(to_string(m)));
    }

    if (t.cap.max_minutes && !in(*t.cap.max_minutes, 1, kMaxMinutes))
        return range_error(f("cap.max_minutes"), *t.cap.max_minutes, 1, kMaxMinutes, " (48 h)");
    if (t.cap.max_fen && !in(t.cap.max_fen->value(), 1, kMaxCapFen))
        return range_error(f("cap.max_fen"), t.cap.max_fen->value(), 1, kMaxCapFen, " fen");

    if (t.time) {
        const auto& tm = *t.time;
        if (!in(tm.fen_per_hour, 0, kMaxFenPerHour))
            return range_error(f("time.fen_per_hour"), tm.fen_per_hour, 0, kMaxFenPerHour, " fen per hour");
        if (tm.options_minutes.empty())
            return f("time.options_minutes") + " must list at least one duration";
        if (tm.options_minutes.size() > kMaxOptions)
            return fmt::format("{} has more than {} entries", f("time.options_minutes"), kMaxOptions);
        for (std::size_t i = 0; i < tm.options_minutes.size(); ++i) {
            const auto v = tm.options_minutes[i];
            const auto field = fmt::format("{}[{}]", f("time.options_minutes"), i);
            if (!in(v, 1, kMaxMinutes))
                return range_error(field, v, 1, kMaxMinutes, " minutes");
            if (i > 0 && v <= tm.options_minutes[i - 1])
                return field + " must be greater than the previous option";
            if (t.cap.max_minutes && v > *t.cap.max_minutes)
                return fmt::format("{} ({} min) exceeds {} ({} min)", field, v, f("cap.max_minutes"),
                                   *t.cap.max_minutes);
        }
    }

    if (t.power) {
        const auto& pw = *t.power;
        if (pw.tiers.empty())
            return f("power.tiers") + " must list at least one tier";
        if (pw.tiers.size() > kMaxTiers)
            return fmt::format("{} has more than {} tiers", f("power.tiers"), kMaxTiers);
        for (std::size_t i = 0; i < pw.tiers.size(); ++i) {
            const auto& tier = pw.tiers[i];
            const auto base = fmt::format("{}[{}]", f("power.tiers"), i);
            if (!in(tier.up_to_w, 1, kMaxPowerW))
                return range_error(base + ".up_to_w", tier.up_to_w, 1, kMaxPowerW, " W");
            if (!in(tier.fen_per_hour, 0, kMaxFenPerHour))
                return range_error(base + ".fen_per_hour", tier.fen_per_hour, 0, kMaxFenPerHour, " fen per hour");
            if (i > 0 && tier.up_to_w <= pw.tiers[i - 1].up_to_w)
                return base + ".up_to_w must be greater than the previous tier";
            // A dearer lower tier would make a session cheaper as its power grows.
            if (i > 0 && tier.fen_per_hour < pw.tiers[i - 1].fen_per_hour)
                return base + ".fen_per_hour must not be lower than the previous tier";
        }
        if (!in(pw.ignore_first_s, 0, kMaxIgnoreFirstS))
            return range_error(f("power.ignore_first_s"), pw.ignore_first_s, 0, kMaxIgnoreFirstS, " s");
    }

    if (t.energy) {
        const auto& en = *t.energy;
        for (Period p : kPeriods) {
            const auto& pp = en.periods[static_cast<std::size_t>(p)];
            if (!pp)
                continue;
            const auto base = fmt::format("{}.{}", f("energy.periods"), to_string(p));
            if (!in(pp->elec_e4, 0, kMaxE4PerKwh))
                return range_error(base + ".elec_e4", pp->elec_e4, 0, kMaxE4PerKwh, " (0.0001 yuan per kWh)");
            if (!in(pp->service_e4, 0, kMaxE4PerKwh))
                return range_error(base + ".service_e4", pp->service_e4, 0, kMaxE4PerKwh, " (0.0001 yuan per kWh)");
            if (en.service_by != ServiceBy::Energy && pp->service_e4 != 0)
                return fmt::format("{}.service_e4 must be 0 when service_by is {} (the service fee would be charged "
                                   "twice)",
                                   base, to_string(en.service_by));
        }
        for (std::size_t i = 0; i < kSlotsPerDay; ++i)
            if (!en.periods[static_cast<std::size_t>(en.slots[i])])
                return fmt::format("{}[{}] is \"{}\" but {}.{} is missing", f("energy.slots"), i,
                                   to_string(en.slots[i]), f("energy.periods"), to_string(en.slots[i]));
        if (en.service_by == ServiceBy::Hour && !in(en.service_fen_per_hour, 0, kMaxFenPerHour))
            return range_error(f("energy.service_fen_per_hour"), en.service_fen_per_hour, 0, kMaxFenPerHour,
                               " fen per hour");
        if (en.service_by != ServiceBy::Hour && en.service_fen_per_hour != 0)
            return f("energy.service_fen_per_hour") + " is only used with service_by hour";
        if (en.service_by == ServiceBy::Power && !t.power)
            return f("energy.service_by") + " is power but the " + f("power") + " section is missing";
    }

    if (!in(t.free_minutes, 0, kMaxFreeMinutes))
        return range_error(f("free_minutes"), t.free_minutes, 0, kMaxFreeMinutes, " minutes");
    if (const auto& pk = t.parking) {
        if (!in(pk->free_minutes, 0, kMaxFreeMinutes))
            return range_error(f("parking.free_minutes"), pk->free_minutes, 0, kMaxFreeMinutes, " minutes");
        if (!in(pk->fen_per_hour, 0, kMaxFenPerHour))
            return range_error(f("parking.fen_per_hour"), pk->fen_per_hour, 0, kMaxFenPerHour, " fen per hour");
        if (pk->max_fen && !in(pk->max_fen->value(), 1, kMaxCapFen))
            return range_error(f("parking.max_fen"), pk->max_fen->value(), 1, kMaxCapFen, " fen");
        if (!in(pk->raise_delay_s, 0, kMaxRaiseDelayS))
            return range_error(f("parking.raise_delay_s"), pk->raise_delay_s, 0, kMaxRaiseDelayS, " s");
        if (!in(pk->reservation_hold_minutes, 1, kMaxFreeMinutes))
            return range_error(f("parking.reservation_hold_minutes"), pk->reservation_hold_minutes, 1, kMaxFreeMinutes,
                               " minutes");
    }
    if (!in(t.min_start_balance_fen.value(), 0, kMaxBalanceRuleFen))
        return range_error(f("min_start_balance_fen"), t.min_start_balance_fen.value(), 0, kMaxBalanceRuleFen, " fen");
    if (!in(t.stop_below_balance_fen.value(), 0, kMaxBalanceRuleFen))
        return range_error(f("stop_below_balance_fen"), t.stop_below_balance_fen.value(), 0, kMaxBalanceRuleFen,
                           " fen");
    return std::nullopt;
}

} // namespace

std::string_view to_string(Mode m) {
    switch (m) {
    case Mode::Time:
        return "time";
    case Mode::Power:
        return "power";
    case Mode::Energy:
        return "energy";
    }
    return "?";
}

std::string_view to_string(Period p) {
    switch (p) {
    case Period::Sharp:
        return "sharp";
    case Period::Peak:
        return "peak";
    case Period::Flat:
        return "flat";
    case Period::Valley:
        return "valley";
    }
    return "?";
}

std::string_view to_string(ServiceBy s) {
    switch (s) {
    case ServiceBy::Energy:
        return "energy";
    case ServiceBy::Hour:
        return "hour";
    case ServiceBy::Power:
        return "power";
    }
    return "?";
}

std::optional<Mode> parse_mode(std::string_view s) {
    if (s == "time")
        return Mode::Time;
    if (s == "power")
        return Mode::Power;
    if (s == "energy")
        return Mode::Energy;
    return std::nullopt;
}

bool offers(const Tariff& t, Mode m) {
    return std::find(t.modes.begin(), t.modes.end(), m) != t.modes.end();
}

std::optional<std::string> validate_tariff(const Tariff& t) {
    return validate_at(t, "");
}

Result<Tariff> parse_tariff(std::string_view json) {
    auto doc = json::parse(json);
    if (!doc)
        return Result<Tariff>::failure("tariff: " + doc.error());
    return parse_tariff(doc.value(), "");
}

Result<Tariff> parse_tariff(const rapidjson::Value& v, std::string_view path) {
    std::string err;
    json::Object o(&v, std::string(path), &err);
    if (!err.empty())
        return Result<Tariff>::failure(path.empty() ? "the tariff must be a JSON object" : err);
    refuse_unknown(&v, path,
                   {"name", "timezone", "modes", "time", "power", "energy", "free", "free_minutes", "cap",
                    "min_start_balance_fen", "stop_below_balance_fen", "effective_from", "parking"},
                   &err);
    refuse_unknown(o.raw("parking"), join(path, "parking"),
                   {"free_minutes", "fen_per_hour", "max_fen", "raise_delay_s", "reservation_hold_minutes"}, &err);
    refuse_unknown(o.raw("time"), join(path, "time"), {"fen_per_hour", "options_minutes"}, &err);
    refuse_unknown(o.raw("power"), join(path, "power"), {"tiers", "ignore_first_s"}, &err);
    refuse_unknown(o.raw("energy"), join(path, "energy"), {"periods", "slots", "service_by", "service_fen_per_hour"},
                   &err);
    refuse_unknown(o.raw("cap"), join(path, "cap"), {"max_minutes", "max_fen"}, &err);

    Tariff t;
    t.name = o.req_str("name", 1024);
    t.timezone = o.req_str("timezone", 64);
    auto modes = o.req_arr("modes", 8);
    for (std::size_t i = 0; i < modes.size(); ++i) {
        const auto s = modes.str_at(i, 16);
        if (!s)
            break;
        if (const auto m = parse_mode(*s))
            t.modes.push_back(*m);
        else
            set_error(&err,
                      fmt::format("{}[{}] is \"{}\"; a mode is time, power or energy", join(path, "modes"), i, *s));
    }
    t.time = read_time(o.opt_obj("time"));
    t.power = read_power(o.opt_obj("power"), &err);
    t.energy = read_energy(o.opt_obj("energy"), &err);
    t.free = o.opt_bool("free").value_or(false);
    t.free_minutes = o.opt_int("free_minutes").value_or(0);
    auto cap = o.opt_obj("cap");
    t.cap.max_minutes = cap.opt_int("max_minutes");
    if (const auto mf = cap.opt_int("max_fen"))
        t.cap.max_fen = Fen(*mf);
    if (auto pk = o.opt_obj("parking"); pk.present()) {
        ParkingPricing p;
        p.free_minutes = pk.opt_int("free_minutes").value_or(p.free_minutes);
        p.fen_per_hour = pk.opt_int("fen_per_hour").value_or(p.fen_per_hour);
        if (const auto mf = pk.opt_int("max_fen"))
            p.max_fen = Fen(*mf);
        p.raise_delay_s = pk.opt_int("raise_delay_s").value_or(p.raise_delay_s);
        p.reservation_hold_minutes = pk.opt_int("reservation_hold_minutes").value_or(p.reservation_hold_minutes);
        t.parking = p;
    }
    t.min_start_balance_fen = Fen(o.opt_int("min_start_balance_fen").value_or(kDefaultMinStartBalanceFen.value()));
    t.stop_below_balance_fen = Fen(o.opt_int("stop_below_balance_fen").value_or(kDefaultStopBelowBalanceFen.value()));
    if (const auto ef = o.opt_str("effective_from", 64)) {
        if (*ef == "now") {
            t.effective_from.kind = EffectiveFrom::Kind::Now;
        } else if (const auto at = parse_rfc3339(*ef)) {
            t.effective_from.kind = EffectiveFrom::Kind::At;
            t.effective_from.at_ms = *at;
        } else {
            o.fail("effective_from", fmt::format("is \"{}\"; it must be \"now\" or an RFC 3339 time", *ef));
        }
    }
    if (!err.empty())
        return Result<Tariff>::failure(std::move(err));
    if (auto problem = validate_at(t, path))
        return Result<Tariff>::failure(std::move(*problem));
    return Result<Tariff>(std::move(t));
}

void write_tariff(json::Writer& w, const Tariff& t) {
    w.begin_object();
    w.field("name", std::string_view(t.name)).field("timezone", std::string_view(t.timezone));
    w.key("modes").begin_array();
    for (Mode m : t.modes)
        w.value(to_string(m));
    w.end_array();
    if (t.time) {
        w.key("time").begin_object().field("fen_per_hour", t.time->fen_per_hour);
        w.key("options_minutes").begin_array();
        for (auto m : t.time->options_minutes)
            w.value(m);
        w.end_array().end_object();
    }
    if (t.power) {
        w.key("power").begin_object().key("tiers").begin_array();
        for (const auto& tier : t.power->tiers)
            w.begin_object().field("up_to_w", tier.up_to_w).field("fen_per_hour", tier.fen_per_hour).end_object();
        w.end_array().field("ignore_first_s", t.power->ignore_first_s).end_object();
    }
    if (t.energy) {
        const auto& e = *t.energy;
        w.key("energy").begin_object().key("periods").begin_object();
        for (Period p : kPeriods)
            if (const auto& pp = e.periods[static_cast<std::size_t>(p)])
                w.key(to_string(p))
                    .begin_object()
                    .field("elec_e4", pp->elec_e4)
                    .field("service_e4", pp->service_e4)
                    .end_object();
        w.end_object().key("slots").begin_array();
        for (Period p : e.slots)
            w.value(to_string(p));
        w.end_array().field("service_by", to_string(e.service_by));
        if (e.service_by == ServiceBy::Hour)
            w.field("service_fen_per_hour", e.service_fen_per_hour);
        w.end_object();
    }
    if (t.free)
        w.field("free", true);
    w.field("free_minutes", t.free_minutes);
    if (t.cap.max_minutes || t.cap.max_fen) {
        w.key("cap").begin_object();
        if (t.cap.max_minutes)
            w.field("max_minutes", *t.cap.max_minutes);
        if (t.cap.max_fen)
            w.field("max_fen", t.cap.max_fen->value());
        w.end_object();
    }
    if (const auto& pk = t.parking) {
        w.key("parking").begin_object().field("free_minutes", pk->free_minutes).field("fen_per_hour", pk->fen_per_hour);
        if (pk->max_fen)
            w.field("max_fen", pk->max_fen->value());
        w.field("raise_delay_s", pk->raise_delay_s)
            .field("reservation_hold_minutes", pk->reservation_hold_minutes)
            .end_object();
    }
    w.field("min_start_balance_fen", t.min_start_balance_fen.value());
    w.field("stop_below_balance_fen", t.stop_below_balance_fen.value());
    if (t.effective_from.kind == EffectiveFrom::Kind::Now) {
        w.field("effective_from", "now");
    } else if (t.effective_from.kind == EffectiveFrom::Kind::At) {
        const auto tz = find_time_zone(t.timezone);
        w.field("effective_from", format_rfc3339(t.effective_from.at_ms, tz ? tz->utc_offset_s : 0));
    }
    w.end_object();
}

std::string to_json(const Tariff& t) {
    json::Writer w;
    write_tariff(w, t);
    return w.str();
}

// ---- time zones -------------------------------------------------------------------------------

const std::vector<TimeZone>& supported_time_zones() {
    // Zones whose offset has been fixed, without daylight saving, for every date PileHub can see
    // (China since 1992, Hong Kong and Taiwan since 1980, Macau since 1980). Asia/Urumqi is left
    // out on purpose: tzdata gives it +06:00 while most Xinjiang sites bill on Beijing time.
    static const std::vector<TimeZone> zones = {
        {"Asia/Shanghai", 8 * 3600},
        {"Asia/Chongqing", 8 * 3600},
        {"Asia/Chungking", 8 * 3600},
        {"Asia/Harbin", 8 * 3600},
        {"PRC", 8 * 3600},
        {"Asia/Hong_Kong", 8 * 3600},
        {"Asia/Macau", 8 * 3600},
        {"Asia/Taipei", 8 * 3600},
        {"UTC", 0},
        {"Etc/UTC", 0},
    };
    return zones;
}

std::optional<TimeZone> find_time_zone(std::string_view name) {
    for (const auto& z : supported_time_zones())
        if (z.name == name)
            return z;
    return std::nullopt;
}

std::optional<EpochMs> parse_rfc3339(std::string_view s) {
    const auto wall = parse_wall(s, "Tt ", true);
    if (!wall)
        return std::nullopt;
    const auto rest = s.substr(wall->end);
    if (rest == "Z" || rest == "z")
        return wall->local_ms;
    if (rest.size() != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':')
        return std::nullopt;
    const auto oh = digits(rest, 1, 2), om = digits(rest, 4, 2);
    if (!oh || !om || *oh > 23 || *om > 59)
        return std::nullopt;
    const std::int64_t off_ms = (static_cast<std::int64_t>(*oh) * 3600 + *om * 60) * 1000;
    return rest[0] == '+' ? wall->local_ms - off_ms : wall->local_ms + off_ms;
}

std::optional<EpochMs> parse_local_datetime(std::string_view s, std::int32_t utc_offset_s) {
    const auto wall = parse_wall(s, " T", false);
    if (!wall || wall->end != s.size())
        return std::nullopt;
    return wall->local_ms - static_cast<std::int64_t>(utc_offset_s) * 1000;
}

std::string format_rfc3339(EpochMs t, std::int32_t utc_offset_s) {
    const EpochMs local = t + static_cast<std::int64_t>(utc_offset_s) * 1000;
    const std::int64_t days = floor_div(local, kMsPerDay);
    const std::int64_t ms_of_day = local - days * kMsPerDay;
    const Civil c = civil_from_days(days);
    const std::int64_t secs = ms_of_day / 1000, ms = ms_of_day % 1000;
    const std::int32_t off = utc_offset_s < 0 ? -utc_offset_s : utc_offset_s;
    std::string frac = ms ? fmt::format(".{:03}", ms) : std::string();
    std::string zone = utc_offset_s == 0
                           ? std::string("Z")
                           : fmt::format("{}{:02}:{:02}", utc_offset_s < 0 ? '-' : '+', off / 3600, (off % 3600) / 60);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{}", c.y, c.m, c.d, secs / 3600, (secs % 3600) / 60,
                       secs % 60, frac, zone);
}

Period period_at(const EnergyPricing& e, EpochMs t, std::int32_t utc_offset_s) {
    const std::int64_t off_ms = static_cast<std::int64_t>(utc_offset_s) * 1000;
    const std::int64_t in_day = t + off_ms - floor_div(t + off_ms, kMsPerDay) * kMsPerDay;
    return e.slots[static_cast<std::size_t>(in_day / (kMsPerDay / static_cast<std::int64_t>(kSlotsPerDay)))];
}

EpochMs next_local_midnight(EpochMs t, std::int32_t utc_offset_s) {
    const std::int64_t off_ms = static_cast<std::int64_t>(utc_offset_s) * 1000;
    return (floor_div(t + off_ms, kMsPerDay) + 1) * kMsPerDay - off_ms;
}

// ---- versions ---------------------------------------------------------------------------------

EpochMs effective_from(const Tariff& t, EpochMs saved_at, bool first_for_station) {
    switch (t.effective_from.kind) {
    case EffectiveFrom::Kind::Now:
        return saved_at;
    case EffectiveFrom::Kind::At:
        return std::max(t.effective_from.at_ms, saved_at);
    case EffectiveFrom::Kind::Default:
        break;
    }
    if (first_for_station)
        return saved_at;
    const auto tz = find_time_zone(t.timezone);
    return next_local_midnight(saved_at, tz ? tz->utc_offset_s : 0);
}

} // namespace pilehub::billing
