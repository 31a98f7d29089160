#include "gateway/ocpp_meter.hpp"

#include "common/payloads.hpp"
#include "common/tariff.hpp"
#include "gateway/ocpp_mapping.hpp"

#include <fmt/format.h>

#include <string_view>

namespace pilehub::ocpp {

namespace {

enum class Measurand { Energy, Power, Current, Voltage, Soc };

std::optional<Measurand> measurand_of(std::string_view m) {
    if (m == "Energy.Active.Import.Register")
        return Measurand::Energy;
    if (m == "Power.Active.Import")
        return Measurand::Power;
    if (m == "Current.Import")
        return Measurand::Current;
    if (m == "Voltage")
        return Measurand::Voltage;
    if (m == "SoC")
        return Measurand::Soc;
    return std::nullopt;
}

/// Sums of one measurand: the total (a value without phase) and the per-phase values.
struct Acc {
    std::optional<std::int64_t> total_milli;
    std::int64_t phase_sum_milli = 0;
    int phases = 0;
    std::optional<std::int64_t> value_milli() const {
        if (total_milli)
            return total_milli;
        if (phases == 0)
            return std::nullopt;
        return phase_sum_milli;
    }
};

/// The unit's factor to the contract's base unit, as a power of ten; nullopt if the unit does not
/// belong to the measurand.
std::optional<int> unit_scale(Measurand m, std::string_view unit) {
    switch (m) {
    case Measurand::Energy:
        if (unit.empty() || unit == "Wh")
            return 0;
        if (unit == "kWh")
            return 3;
        return std::nullopt;
    case Measurand::Power:
        if (unit.empty() || unit == "W")
            return 0;
        if (unit == "kW")
            return 3;
        return std::nullopt;
    case Measurand::Current:
        return unit.empty() || unit == "A" ? std::optional<int>(0) : std::nullopt;
    case Measurand::Voltage:
        return unit.empty() || unit == "V" ? std::optional<int>(0) : std::nullopt;
    case Measurand::Soc:
        return unit.empty() || unit == "Percent" ? std::optional<int>(0) : std::nullopt;
    }
    return std::nullopt;
}

} // namespace

Result<MeterReading> read_meter_value(const rapidjson::Value& mv) {
    using R = Result<MeterReading>;
    if (!mv.IsObject())
        return R::failure("a meter value is not an object");
    MeterReading out;
    const auto ts = billing::parse_rfc3339(member_str(mv, "timestamp"));
    if (!ts)
        return R::failure("timestamp is not an RFC 3339 time");
    out.ts = *ts;
    const auto sv = mv.FindMember("sampledValue");
    if (sv == mv.MemberEnd() || !sv->value.IsArray())
        return R::failure("sampledValue is missing");
    Acc acc[5];
    for (rapidjson::SizeType i = 0; i < sv->value.Size(); ++i) {
        const auto& s = sv->value[i];
        if (!s.IsObject())
            return R::failure(fmt::format("sampledValue[{}] is not an object", i));
        if (member_str(s, "format") == "SignedData" || member_str(s, "location") == "Inlet")
            continue;
        const auto measurand_word = member_str(s, "measurand");
        const auto m = measurand_of(measurand_word.empty() ? "Energy.Active.Import.Register" : measurand_word);
        if (!m)
            continue;
        const auto scale = unit_scale(*m, member_str(s, "unit"));
        if (!scale)
            return R::failure(fmt::format("sampledValue[{}]: unit {} does not measure {}", i, member_str(s, "unit"),
                                          measurand_word.empty() ? "Energy.Active.Import.Register" : measurand_word));
        // Energy is kept exactly in Wh; the measurements to a thousandth of their unit.
        const int extra = *m == Measurand::Energy ? 0 : 3;
        const auto v = parse_decimal_scaled(member_str(s, "value"), *scale + extra);
        if (!v)
            return R::failure(
                fmt::format("sampledValue[{}].value \"{}\" is not a decimal number", i, member_str(s, "value")));
        auto& a = acc[static_cast<int>(*m)];
        const auto phase = member_str(s, "phase");
        if (phase.empty())
            a.total_milli = *v;
        else if (phase != "N") {
            a.phase_sum_milli += *v;
            ++a.phases;
        }
    }
    if (const auto e = acc[static_cast<int>(Measurand::Energy)].value_milli()) {
        if (*e < 0 || *e > payloads::kMaxRegisterWh)
            return R::failure(fmt::format("the energy register {} Wh is outside 0..{}", *e, payloads::kMaxRegisterWh));
        out.register_wh = *e;
    }
    if (const auto p = acc[static_cast<int>(Measurand::Power)].value_milli())
        out.power_w = static_cast<double>(*p) / 1000.0;
    if (const auto c = acc[static_cast<int>(Measurand::Current)].value_milli())
        out.current_a = static_cast<double>(*c) / 1000.0;
    const auto& va = acc[static_cast<int>(Measurand::Voltage)];
    if (va.total_milli)
        out.voltage_v = static_cast<double>(*va.total_milli) / 1000.0;
    else if (va.phases > 0)
        out.voltage_v = static_cast<double>(va.phase_sum_milli) / 1000.0 / va.phases;
    if (const auto soc = acc[static_cast<int>(Measurand::Soc)].value_milli()) {
        if (*soc < 0 || *soc > 100'000)
            return R::failure(fmt::format("SoC {} is outside 0..100", static_cast<double>(*soc) / 1000.0));
        out.soc_pct = static_cast<int>(*soc / 1000);
    }
    return R(std::move(out));
}

} // namespace pilehub::ocpp
