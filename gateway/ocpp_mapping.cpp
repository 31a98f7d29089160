#include "gateway/ocpp_mapping.hpp"

#include <array>
#include <limits>
#include <utility>

namespace pilehub::ocpp {

using payloads::EvFault;
using payloads::EvGunStatus;
using payloads::EvStopReason;

std::optional<EvGunStatus> parse_status(std::string_view s) {
    static constexpr std::array<std::pair<std::string_view, EvGunStatus>, 9> k{{
        {"Available", EvGunStatus::Available},
        {"Preparing", EvGunStatus::Preparing},
        {"Charging", EvGunStatus::Charging},
        {"SuspendedEVSE", EvGunStatus::SuspendedEvse},
        {"SuspendedEV", EvGunStatus::SuspendedEv},
        {"Finishing", EvGunStatus::Finishing},
        {"Reserved", EvGunStatus::Reserved},
        {"Unavailable", EvGunStatus::Unavailable},
        {"Faulted", EvGunStatus::Faulted},
    }};
    for (const auto& [word, st] : k)
        if (word == s)
            return st;
    return std::nullopt;
}

std::optional<std::uint32_t> fault_bits_of(std::string_view code) {
    struct Row {
        std::string_view word;
        std::optional<EvFault> fault; // nullopt: no fault bit
    };
    static constexpr std::array<Row, 16> k{{
        {"NoError", std::nullopt},
        {"WeakSignal", std::nullopt},
        {"LocalListConflict", std::nullopt},
        {"ConnectorLockFailure", EvFault::Other},
        {"EVCommunicationError", EvFault::CpError},
        {"GroundFailure", EvFault::NoGround},
        {"HighTemperature", EvFault::OverTemp},
        {"InternalError", EvFault::Other},
        {"OtherError", EvFault::Other},
        {"OverCurrentFailure", EvFault::OverCurrent},
        {"OverVoltage", EvFault::OverVoltage},
        {"PowerMeterFailure", EvFault::MeterFault},
        {"PowerSwitchFailure", EvFault::RelayWelded},
        {"ReaderFailure", EvFault::ReaderFault},
        {"ResetFailure", EvFault::Other},
        {"UnderVoltage", EvFault::UnderVoltage},
    }};
    for (const auto& r : k)
        if (r.word == code)
            return r.fault ? payloads::ev_fault_mask(*r.fault) : 0u;
    return std::nullopt;
}

std::optional<EvStopReason> parse_stop_reason(std::string_view s) {
    static constexpr std::array<std::pair<std::string_view, EvStopReason>, 11> k{{
        {"EmergencyStop", EvStopReason::EmergencyStop},
        {"EVDisconnected", EvStopReason::EvDisconnected},
        {"HardReset", EvStopReason::HardReset},
        {"Local", EvStopReason::Local},
        {"Other", EvStopReason::Other},
        {"PowerLoss", EvStopReason::PowerLoss},
        {"Reboot", EvStopReason::Reboot},
        {"Remote", EvStopReason::Remote},
        {"SoftReset", EvStopReason::SoftReset},
        {"UnlockCommand", EvStopReason::UnlockCommand},
        {"DeAuthorized", EvStopReason::DeAuthorized},
    }};
    for (const auto& [word, r] : k)
        if (word == s)
            return r;
    return std::nullopt;
}

std::string_view id_tag_status(payloads::Decision decision, std::optional<pilehub::ErrorCode> reason) {
    if (decision == payloads::Decision::Accept)
        return "Accepted";
    if (!reason)
        return "Invalid";
    switch (*reason) {
    case pilehub::ErrorCode::CardLost:
    case pilehub::ErrorCode::AccountFrozen:
        return "Blocked";
    case pilehub::ErrorCode::SessionLimit:
        return "ConcurrentTx";
    case pilehub::ErrorCode::Expired:
        return "Expired";
    default:
        return "Invalid";
    }
}

namespace {
bool idle(EvGunStatus s) {
    return s == EvGunStatus::Available || s == EvGunStatus::Unavailable || s == EvGunStatus::Faulted ||
           s == EvGunStatus::Reserved;
}
bool occupied(EvGunStatus s) {
    return s == EvGunStatus::Preparing || s == EvGunStatus::Charging || s == EvGunStatus::SuspendedEv ||
           s == EvGunStatus::SuspendedEvse || s == EvGunStatus::Finishing;
}
} // namespace

Plug plug_change(EvGunStatus before, EvGunStatus after) {
    if (idle(before) && occupied(after) && after != EvGunStatus::Finishing)
        return Plug::In;
    if (occupied(before) && after == EvGunStatus::Available)
        return Plug::Out;
    return Plug::None;
}

bool in_transaction(EvGunStatus s) {
    return s == EvGunStatus::Charging || s == EvGunStatus::SuspendedEv || s == EvGunStatus::SuspendedEvse;
}

std::optional<std::int64_t> parse_decimal_scaled(std::string_view text, int scale) {
    // sign, digits [. digits] [e|E [sign] digits]; the value is mantissa * 10^(scale + exp - fraction digits).
    std::size_t i = 0;
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-'))
        negative = text[i++] == '-';
    std::int64_t mantissa = 0;
    int digits = 0, fraction_digits = 0, dropped = 0;
    bool in_fraction = false;
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max() / 10;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '.' && !in_fraction) {
            in_fraction = true;
            continue;
        }
        if (c < '0' || c > '9')
            break;
        ++digits;
        if (mantissa > kMax) { // more precision than an int64 holds: the rest only scales
            if (!in_fraction)
                ++dropped;
            continue;
        }
        mantissa = mantissa * 10 + (c - '0');
        if (in_fraction)
            ++fraction_digits;
    }
    if (digits == 0)
        return std::nullopt;
    int exponent = 0;
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        bool exp_negative = false;
        if (i < text.size() && (text[i] == '+' || text[i] == '-'))
            exp_negative = text[i++] == '-';
        int exp_digits = 0;
        for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++exp_digits)
            if (exponent < 10'000)
                exponent = exponent * 10 + (text[i] - '0');
        if (exp_digits == 0)
            return std::nullopt;
        if (exp_negative)
            exponent = -exponent;
    }
    if (i != text.size())
        return std::nullopt;
    int shift = scale + exponent + dropped - fraction_digits;
    for (; shift < 0 && mantissa != 0; ++shift)
        mantissa /= 10;
    for (; shift > 0 && mantissa != 0; --shift) {
        if (mantissa > kMax)
            return std::nullopt;
        mantissa *= 10;
    }
    return negative ? -mantissa : mantissa;
}

std::string_view member_str(const rapidjson::Value& o, const char* key) {
    const auto it = o.FindMember(key);
    if (it == o.MemberEnd() || !it->value.IsString())
        return {};
    return {it->value.GetString(), it->value.GetStringLength()};
}

std::optional<std::string> member_opt_str(const rapidjson::Value& o, const char* key) {
    const auto it = o.FindMember(key);
    if (it == o.MemberEnd() || !it->value.IsString())
        return std::nullopt;
    return std::string(it->value.GetString(), it->value.GetStringLength());
}

void cut_utf8(std::string& s, std::size_t max) {
    if (s.size() <= max)
        return;
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) // s[cut] continues a character
        --cut;
    s.resize(cut);
}

std::int64_t member_int(const rapidjson::Value& o, const char* key, std::int64_t fallback) {
    return member_opt_int(o, key).value_or(fallback);
}

std::optional<std::int64_t> member_opt_int(const rapidjson::Value& o, const char* key) {
    const auto it = o.FindMember(key);
    if (it == o.MemberEnd() || !it->value.IsInt64())
        return std::nullopt;
    return it->value.GetInt64();
}

} // namespace pilehub::ocpp
