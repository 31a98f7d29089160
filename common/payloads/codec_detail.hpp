#pragma once
// Internal to common/payloads/*.cpp: the building blocks of every codec. Not for other code;
// include "common/payloads.hpp" instead.
#include "common/payloads.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pilehub::payloads::detail {

// --- ranges (documented next to each struct member) ---
inline constexpr std::int64_t kI64Max = std::numeric_limits<std::int64_t>::max();
inline constexpr double kMaxTempC = 200, kMinTempC = -50;
inline constexpr double kMaxSocketPowerW = static_cast<double>(kMaxEbikeSocketPowerW);
inline constexpr double kMaxPileTotalPowerW = 200'000;
inline constexpr double kMaxEvPowerW = static_cast<double>(kMaxEvGunPowerW);
inline constexpr double kMaxDeviceTotalPowerW = 2'000'000;
inline constexpr double kMaxEbikeVoltageV = 500, kMaxEbikeCurrentA = 100;
inline constexpr double kMaxEvVoltageV = 1'500, kMaxEvCurrentA = 1'000;
inline constexpr std::int64_t kMaxSessionEnergyWh = 10'000'000;
inline constexpr std::int64_t kMaxDurationS = 30 * 86'400;
inline constexpr std::int64_t kMaxFen = 100'000'000'000;
inline constexpr std::size_t kMaxFaults = 32, kMaxWordLen = 32;
inline constexpr std::size_t kMaxTextLen = 64, kMaxMsgLen = 256, kMaxUrlLen = 1024;
inline constexpr std::size_t kMaxCardUidLen = 32, kMaxIdTagLen = 20, kMaxPlateLen = 32;
/// How deep a free-form `data` may nest before RawData refuses it (its writer recurses).
inline constexpr int kMaxRawDepth = 32;

// --- enum words: index = enum value; an empty word means "no such value" ---
// clang-format off
template <typename E> inline constexpr std::array<std::string_view, 0> kNames{};
template <> inline constexpr std::array<std::string_view, 8> kNames<ReplyStatus>{
    "accepted", "ok", "rejected", "failed", "busy", "expired", "unsupported", "invalid"};
template <> inline constexpr std::array<std::string_view, 3> kNames<DeviceKind>{"ebike_pile", "ev_charger", "camera"};
template <> inline constexpr std::array<std::string_view, 3> kNames<LimitKind>{"time", "energy", "full"};
template <> inline constexpr std::array<std::string_view, 2> kNames<Decision>{"accept", "reject"};
template <> inline constexpr std::array<std::string_view, 2> kNames<RebootWhen>{"now", "when_idle"};
template <> inline constexpr std::array<std::string_view, 5> kNames<OtaStatus>{
    "downloading", "downloaded", "installing", "installed", "failed"};
template <> inline constexpr std::array<std::string_view, 6> kNames<EbikeSocketStatus>{
    "idle", "starting", "charging", "full_wait", "fault", "disabled"};
template <> inline constexpr std::array<std::string_view, 12> kNames<EbikeStopReason>{
    "quota_reached", "full", "no_load", "unplugged", "socket_overload", "device_overload",
    "over_temp", "remote_stop", "user_stop", "power_loss", "fault", "other"};
template <> inline constexpr std::array<std::string_view, 3> kNames<CfgStatus>{"applied", "partial", "rejected"};
template <> inline constexpr std::array<std::string_view, 9> kNames<EvGunStatus>{
    "available", "preparing", "charging", "suspended_evse", "suspended_ev",
    "finishing", "reserved", "unavailable", "faulted"};
// Indexed by bit number (CONTRACT A.5); bits 13..30 have no name yet.
template <> inline constexpr std::array<std::string_view, 32> kNames<EvFault>{
    "no_ground", "relay_welded", "over_current", "over_voltage", "under_voltage", "meter_fault", "estop", "cp_error",
    "over_temp", "leakage", "leakage_selftest", "reader_fault", "door_open", "", "", "",
    "", "", "", "", "", "", "", "",
    "", "", "", "", "", "", "", "other"};
template <> inline constexpr std::array<std::string_view, 12> kNames<EvStopReason>{
    "emergency_stop", "ev_disconnected", "hard_reset", "local", "other", "power_loss",
    "reboot", "remote", "soft_reset", "unlock_command", "de_authorized", "quota_reached"};
template <> inline constexpr std::array<std::string_view, 2> kNames<ResetType>{"soft", "hard"};
template <> inline constexpr std::array<std::string_view, 5> kNames<LockStatus>{
    "raised", "lowered", "moving", "fault", "unknown"};
template <> inline constexpr std::array<std::string_view, 2> kNames<LockAction>{"raise", "lower"};
template <> inline constexpr std::array<std::string_view, 7> kNames<PlateColor>{
    "blue", "yellow", "green", "white", "black", "yellow_green", "unknown"};
template <> inline constexpr std::array<std::string_view, 2> kNames<PlateDirection>{"in", "out"};
// clang-format on

template <typename E> constexpr std::string_view enum_name(E e) {
    const auto i = static_cast<std::size_t>(e);
    return i < kNames<E>.size() ? kNames<E>[i] : std::string_view();
}

template <typename E> std::optional<E> enum_from(std::string_view s) {
    static_assert(kNames<E>.size() > 0, "no word table for this enum");
    if (s.empty())
        return std::nullopt;
    for (std::size_t i = 0; i < kNames<E>.size(); ++i)
        if (kNames<E>[i] == s)
            return static_cast<E>(i);
    return std::nullopt;
}

/// "a|b|c" for failure reasons.
template <typename E> std::string enum_choices() {
    std::string out;
    for (auto n : kNames<E>) {
        if (n.empty())
            continue;
        if (!out.empty())
            out += '|';
        out += n;
    }
    return out;
}

// --- field readers on top of json::Object (first error wins, with its path) ---
template <typename E> std::optional<E> opt_enum(json::Object& o, std::string_view key) {
    auto s = o.opt_str(key, 64);
    if (!s)
        return std::nullopt;
    auto e = enum_from<E>(*s);
    if (!e)
        o.fail(key, "must be one of " + enum_choices<E>());
    return e;
}
template <typename E> E req_enum(json::Object& o, std::string_view key) {
    if (!o.has(key)) {
        if (o.present())
            o.fail(key, "is required");
        return E{};
    }
    return opt_enum<E>(o, key).value_or(E{});
}

/// Identifiers (id, rid, sid, card uid, id tag): `[A-Za-z0-9_.:-]{1,max}`; `alnum_only` drops `_.:-`.
std::optional<std::string> opt_token(json::Object& o, std::string_view key, std::size_t max_len = kMaxIdLen,
                                     bool alnum_only = false);
std::string req_token(json::Object& o, std::string_view key, std::size_t max_len = kMaxIdLen, bool alnum_only = false);
/// Human text: non-empty, no control characters, at most `max_len` bytes (UTF-8 checked by the parser).
std::optional<std::string> opt_text(json::Object& o, std::string_view key, std::size_t max_len = kMaxTextLen);
std::string req_text(json::Object& o, std::string_view key, std::size_t max_len = kMaxTextLen);
/// A snake_case word `[a-z0-9_]{1,32}` (fault codes, presence reasons).
std::optional<std::string> opt_word(json::Object& o, std::string_view key);
std::string req_word(json::Object& o, std::string_view key);
/// An optional array of snake_case words (absent = empty).
std::vector<std::string> opt_words(json::Object& o, std::string_view key, std::size_t max_items = kMaxFaults);
/// An http(s) URL without spaces or control characters.
std::optional<std::string> opt_url(json::Object& o, std::string_view key);
std::string req_url(json::Object& o, std::string_view key);
/// Epoch ms in 0..kMaxEpochMs.
EpochMs req_ts(json::Object& o, std::string_view key);
std::optional<EpochMs> opt_ts(json::Object& o, std::string_view key);
/// A socket/gun/space number in lo..hi.
int req_n(json::Object& o, std::string_view key, int lo, int hi);
std::optional<int> opt_small(json::Object& o, std::string_view key, int lo, int hi);
std::uint32_t opt_bits(json::Object& o, std::string_view key);
std::optional<ErrorCode> opt_code(json::Object& o, std::string_view key);

void write_words(json::Writer& w, std::string_view key, const std::vector<std::string>& words);

// --- data readers/writers: read fills `out` from the `data` object; write emits its members ---
#define PILEHUB_DATA_CODEC(T)                                                                                          \
    void read_data(json::Object& d, T& out);                                                                           \
    void write_data(json::Writer& w, const T& v);
PILEHUB_DATA_CODEC(Empty)
PILEHUB_DATA_CODEC(DeviceInfo)
PILEHUB_DATA_CODEC(DeviceState)
PILEHUB_DATA_CODEC(ChargeLimit)
PILEHUB_DATA_CODEC(AuthorizeReply)
PILEHUB_DATA_CODEC(CmdReboot)
PILEHUB_DATA_CODEC(CmdSetTime)
PILEHUB_DATA_CODEC(CmdOta)
PILEHUB_DATA_CODEC(EvtOta)
PILEHUB_DATA_CODEC(EbikeConnState)
PILEHUB_DATA_CODEC(EbikeSocketTele)
PILEHUB_DATA_CODEC(EbikeTele)
PILEHUB_DATA_CODEC(EbikeCardSwipe)
PILEHUB_DATA_CODEC(EbikeSessionStarted)
PILEHUB_DATA_CODEC(EbikeSessionStopped)
PILEHUB_DATA_CODEC(EbikeFault)
PILEHUB_DATA_CODEC(EbikeAuthorize)
PILEHUB_DATA_CODEC(EbikeSessionRecord)
PILEHUB_DATA_CODEC(EbikeStartPort)
PILEHUB_DATA_CODEC(EbikeStopPort)
PILEHUB_DATA_CODEC(EbikeQueryPort)
PILEHUB_DATA_CODEC(EbikeQueryDevice)
PILEHUB_DATA_CODEC(EbikePortStatus)
PILEHUB_DATA_CODEC(EbikeDeviceReport)
PILEHUB_DATA_CODEC(EbikeCfgDesired)
PILEHUB_DATA_CODEC(EbikeCfgReported)
PILEHUB_DATA_CODEC(EvConnState)
PILEHUB_DATA_CODEC(EvTele)
PILEHUB_DATA_CODEC(EvPlugIn)
PILEHUB_DATA_CODEC(EvPlugOut)
PILEHUB_DATA_CODEC(EvSessionStarted)
PILEHUB_DATA_CODEC(EvSessionStopped)
PILEHUB_DATA_CODEC(EvFaultEvent)
PILEHUB_DATA_CODEC(EvAuthorize)
PILEHUB_DATA_CODEC(EvStartSessionReq)
PILEHUB_DATA_CODEC(EvStartSessionReply)
PILEHUB_DATA_CODEC(EvSessionRecord)
PILEHUB_DATA_CODEC(EvStartSessionCmd)
PILEHUB_DATA_CODEC(EvStopSessionCmd)
PILEHUB_DATA_CODEC(EvReset)
PILEHUB_DATA_CODEC(EvUnlock)
PILEHUB_DATA_CODEC(EvSetAvailability)
PILEHUB_DATA_CODEC(EvSetTariff)
PILEHUB_DATA_CODEC(EvCfgDesired)
PILEHUB_DATA_CODEC(EvCfgReported)
PILEHUB_DATA_CODEC(LockState)
PILEHUB_DATA_CODEC(CameraSpaceState)
PILEHUB_DATA_CODEC(CameraPlate)
PILEHUB_DATA_CODEC(CameraSpace)
PILEHUB_DATA_CODEC(CameraLockEvent)
PILEHUB_DATA_CODEC(CameraLockCmd)
PILEHUB_DATA_CODEC(CameraSnapshotCmd)
PILEHUB_DATA_CODEC(CameraSnapshotResult)
#undef PILEHUB_DATA_CODEC

/// A nested object member: `key: {...}` through read_data / write_data.
template <typename T> void write_obj(json::Writer& w, std::string_view key, const T& v) {
    w.key(key).begin_object();
    write_data(w, v);
    w.end_object();
}

// --- configuration documents (cfg/desired, cfg/reported) of the kinds that have one ---
/// A kind's configuration values: a missing key reads as its default; every key is written
/// (ebike.cpp, ev.cpp).
void read_config(json::Object& d, EbikeConfig& c);
void write_config(json::Writer& w, const EbikeConfig& c);
void read_config(json::Object& d, EvConfig& c);
void write_config(json::Writer& w, const EvConfig& c);

/// `cfg/desired` data: `version` (>= 1) plus every configuration key, flat.
template <typename Desired> void read_cfg_desired(json::Object& d, Desired& out) {
    out.version = d.req_int("version", 1, kI64Max);
    read_config(d, out.values);
}
template <typename Desired> void write_cfg_desired(json::Writer& w, const Desired& v) {
    w.field("version", v.version);
    write_config(w, v.values);
}
/// `cfg/reported` data: `{version, status, values, rejected, msg}`.
template <typename Reported> void read_cfg_reported(json::Object& d, Reported& out) {
    out.version = d.req_int("version", 0, kI64Max);
    out.status = req_enum<CfgStatus>(d, "status");
    auto values = d.req_obj("values");
    if (values.present())
        read_config(values, out.values);
    out.rejected = opt_words(d, "rejected", 16);
    out.msg = opt_text(d, "msg", kMaxMsgLen);
}
template <typename Reported> void write_cfg_reported(json::Writer& w, const Reported& v) {
    w.field("version", v.version).field("status", enum_name(v.status));
    w.key("values").begin_object();
    write_config(w, v.values);
    w.end_object();
    write_words(w, "rejected", v.rejected);
    w.opt_field("msg", v.msg);
}

// --- envelope ---
void read_envelope(json::Object& root, Flow flow, Envelope& e);
void write_envelope(json::Writer& w, const Envelope& e);
void read_raw(json::Object& root, RawData& out);
void write_raw(json::Writer& w, const RawData& v);

/// How the body (everything after the envelope) of a payload is read and written.
template <typename T> struct Body {
    static void read(json::Object& root, T& out) {
        auto d = root.req_obj("data");
        if (d.present())
            read_data(d, out);
    }
    static void write(json::Writer& w, const T& v) { write_obj(w, "data", v); }
};
template <> struct Body<RawData> {
    static void read(json::Object& root, RawData& out) { read_raw(root, out); }
    static void write(json::Writer& w, const RawData& v) { write_raw(w, v); }
};
template <typename D> struct Body<Reply<D>> {
    static void read(json::Object& root, Reply<D>& out) {
        out.status = req_enum<ReplyStatus>(root, "status");
        out.code = opt_code(root, "code");
        out.msg = opt_text(root, "msg", kMaxMsgLen);
        auto d = root.opt_obj("data");
        if (d.present()) {
            D x{};
            read_data(d, x);
            out.data = std::move(x);
        }
    }
    static void write(json::Writer& w, const Reply<D>& v) {
        w.field("status", enum_name(v.status));
        if (v.code)
            w.field("code", to_string(*v.code));
        w.opt_field("msg", v.msg);
        if (v.data)
            write_obj(w, "data", *v.data);
    }
};

template <typename T> Result<Message<T>> decode_impl(std::string_view text) {
    auto doc = json::parse(text);
    if (!doc)
        return Result<Message<T>>::failure(doc.error());
    std::string err;
    auto root = json::Object::root(doc.value(), &err);
    Message<T> m{};
    read_envelope(root, PayloadTraits<T>::kFlow, m.env);
    if (err.empty())
        Body<T>::read(root, m.data);
    if (!err.empty())
        return Result<Message<T>>::failure(std::move(err));
    return Result<Message<T>>(std::move(m));
}

template <typename T> std::string encode_impl(const Message<T>& m) {
    json::Writer w;
    w.begin_object();
    write_envelope(w, m.env);
    Body<T>::write(w, m.data);
    w.end_object();
    return w.str();
}

/// For the registry: decode + encode.
template <typename T> Result<std::string> recode(std::string_view text) {
    auto m = decode<T>(text);
    if (!m)
        return Result<std::string>::failure(m.error());
    return Result<std::string>(encode(m.value()));
}

/// For the registry: decode, encode, decode again, compare by value.
template <typename T> Result<bool> round_trips(std::string_view text) {
    auto a = decode<T>(text);
    if (!a)
        return Result<bool>::failure(a.error());
    auto b = decode<T>(encode(a.value()));
    if (!b)
        return Result<bool>::failure("re-decoding the encoded payload failed: " + b.error());
    return Result<bool>(a.value() == b.value());
}

} // namespace pilehub::payloads::detail

namespace pilehub::payloads {

template <typename T> Result<Message<T>> decode(std::string_view text) {
    return detail::decode_impl<T>(text);
}
template <typename T> std::string encode(const Message<T>& m) {
    return detail::encode_impl<T>(m);
}

} // namespace pilehub::payloads

/// Explicit instantiation of decode/encode for one payload type (once, in its kind's .cpp).
#define PILEHUB_INSTANTIATE_PAYLOAD(T)                                                                                 \
    template pilehub::Result<pilehub::payloads::Message<T>> pilehub::payloads::decode<T>(std::string_view);            \
    template std::string pilehub::payloads::encode<T>(const pilehub::payloads::Message<T>&);
