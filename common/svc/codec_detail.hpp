#pragma once
// Internal to common/svc/*.cpp: the building blocks of the svc codecs. Not for other code;
// include "common/svc.hpp" instead. The field readers of the device codecs
// (common/payloads/codec_detail.hpp) are reused, so both contracts check ids, text and words alike.
#include "common/payloads/codec_detail.hpp"
#include "common/svc.hpp"

#include <array>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace pilehub::svc::detail {

using payloads::detail::kI64Max;
using payloads::detail::kMaxFen;

/// `a|b|c`: the words of every value in `all`, for failure reasons.
template <typename E, std::size_t N> std::string choices(const std::array<E, N>& all) {
    std::string out;
    for (E e : all) {
        if (!out.empty())
            out += '|';
        out += to_string(e);
    }
    return out;
}

/// An optional enum member read by its wire word (`to_string` over `all`).
template <typename E, std::size_t N>
std::optional<E> opt_enum(json::Object& o, std::string_view key, const std::array<E, N>& all) {
    const auto s = o.opt_str(key, 32);
    if (!s)
        return std::nullopt;
    for (E e : all)
        if (to_string(e) == *s)
            return e;
    o.fail(key, "must be one of " + choices(all));
    return std::nullopt;
}
/// A required enum member.
template <typename E, std::size_t N> E req_enum(json::Object& o, std::string_view key, const std::array<E, N>& all) {
    if (!o.has(key)) {
        if (o.present())
            o.fail(key, "is required");
        return all[0];
    }
    return opt_enum(o, key, all).value_or(all[0]);
}

/// Refuses (through `o`) the first member of `v` that is not in `known`: strict payloads.
void refuse_unknown(json::Object& o, const rapidjson::Value& v, std::initializer_list<std::string_view> known,
                    std::string_view what);
/// `v`: required, and exactly kVersion.
void read_version(json::Object& o);
/// Text of at most `max_len` bytes, possibly quoting a device (control characters allowed): non-empty.
std::optional<std::string> opt_quote(json::Object& o, std::string_view key, std::size_t max_len);
/// An amount in fen, 0..kMaxFen (`min` may allow negatives).
Fen req_fen(json::Object& o, std::string_view key, std::int64_t min = 0);
std::optional<Fen> opt_fen(json::Object& o, std::string_view key, std::int64_t min, std::int64_t max);
/// A device id (`[A-Za-z0-9_-]{1,48}`, topics::valid_device_id).
std::string req_device_id(json::Object& o, std::string_view key);
/// A session's `account_id` for its method: 1.. for app and card, 0 (no rider account) for operator.
void check_account_of_method(json::Object& o, SessionMethod method, std::int64_t account_id);

/// How each payload is read and written; defined next to each payload's other code. `v` is the
/// value `o` reads (for refuse_unknown).
#define PILEHUB_SVC_BODY(T)                                                                                            \
    void read_body(json::Object& o, const rapidjson::Value& v, T& out);                                                \
    void write_body(json::Writer& w, const T& x);
PILEHUB_SVC_BODY(SessionTransition)
PILEHUB_SVC_BODY(RunningCost)
PILEHUB_SVC_BODY(PresenceVerdict)
PILEHUB_SVC_BODY(SessionView)
PILEHUB_SVC_BODY(StartRequest)
PILEHUB_SVC_BODY(StartReply)
PILEHUB_SVC_BODY(StopRequest)
PILEHUB_SVC_BODY(ForceEndRequest)
PILEHUB_SVC_BODY(SessionChangeReply)
PILEHUB_SVC_BODY(DeviceCommandRequest)
PILEHUB_SVC_BODY(QueryPortReply)
PILEHUB_SVC_BODY(QueryDeviceReply)
PILEHUB_SVC_BODY(CommandAck)
PILEHUB_SVC_BODY(DeviceReport)
PILEHUB_SVC_BODY(LockRequest)
PILEHUB_SVC_BODY(LockReply)
PILEHUB_SVC_BODY(SnapshotRequest)
PILEHUB_SVC_BODY(SnapshotReply)
PILEHUB_SVC_BODY(Alert)
#undef PILEHUB_SVC_BODY

template <typename T> Result<T> decode_value(const rapidjson::Value& v) {
    std::string err;
    json::Object o(&v, "", &err);
    T out{};
    if (err.empty())
        read_body(o, v, out);
    if (!err.empty())
        return Result<T>::failure(std::move(err));
    return Result<T>(std::move(out));
}

template <typename T> Result<T> decode_text(std::string_view text) {
    auto doc = json::parse(text);
    if (!doc)
        return Result<T>::failure(doc.error());
    return decode_value<T>(doc.value());
}

template <typename T> std::string encode_value(const T& x) {
    json::Writer w;
    w.begin_object();
    write_body(w, x);
    w.end_object();
    return w.str();
}

/// For the registry: decode then encode.
template <typename T> Result<std::string> recode(std::string_view text) {
    auto x = decode<T>(text);
    return x ? Result<std::string>(encode(x.value())) : Result<std::string>::failure(x.error());
}

/// For the registry: decode, encode, decode again, compare by value.
template <typename T> Result<bool> round_trips(std::string_view text) {
    auto a = decode<T>(text);
    if (!a)
        return Result<bool>::failure(a.error());
    auto b = decode<T>(encode(a.value()));
    return b ? Result<bool>(a.value() == b.value())
             : Result<bool>::failure("re-decoding the encoded payload failed: " + b.error());
}

} // namespace pilehub::svc::detail

namespace pilehub::svc {

template <typename T> Result<T> decode(std::string_view text) {
    return detail::decode_text<T>(text);
}
template <typename T> Result<T> decode(const rapidjson::Value& value) {
    return detail::decode_value<T>(value);
}
template <typename T> std::string encode(const T& value) {
    return detail::encode_value(value);
}

} // namespace pilehub::svc

/// Explicit instantiation of decode/encode for one svc payload (once, in its .cpp).
#define PILEHUB_SVC_INSTANTIATE(T)                                                                                     \
    template pilehub::Result<T> pilehub::svc::decode<T>(std::string_view);                                             \
    template pilehub::Result<T> pilehub::svc::decode<T>(const rapidjson::Value&);                                      \
    template std::string pilehub::svc::encode<T>(const T&);
