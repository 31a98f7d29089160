#include "common/svc/codec_detail.hpp"

#include "common/topics.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace pilehub::svc {
namespace detail {

void refuse_unknown(json::Object& o, const rapidjson::Value& v, std::initializer_list<std::string_view> known,
                    std::string_view what) {
    if (!v.IsObject())
        return;
    for (auto it = v.MemberBegin(); it != v.MemberEnd() && o.ok(); ++it) {
        const std::string_view k(it->name.GetString(), it->name.GetStringLength());
        if (std::find(known.begin(), known.end(), k) == known.end())
            o.fail(k.substr(0, 64), fmt::format("is not a field of {}", what));
    }
}

void read_version(json::Object& o) {
    const auto version = o.req_int("v", 1, 1'000'000);
    if (o.ok() && version != kVersion)
        o.fail("v", fmt::format("is {}; this build speaks svc version {} only", version, kVersion));
}

std::optional<std::string> opt_quote(json::Object& o, std::string_view key, std::size_t max_len) {
    auto s = o.opt_str(key, max_len);
    if (s && s->empty()) {
        o.fail(key, "must not be empty");
        return std::nullopt;
    }
    return s;
}

Fen req_fen(json::Object& o, std::string_view key, std::int64_t min) {
    return Fen(o.req_int(key, min, kMaxFen));
}

std::optional<Fen> opt_fen(json::Object& o, std::string_view key, std::int64_t min, std::int64_t max) {
    const auto x = o.opt_int(key, min, max);
    return x ? std::optional<Fen>(Fen(*x)) : std::nullopt;
}

void check_account_of_method(json::Object& o, SessionMethod method, std::int64_t account_id) {
    if (!o.ok())
        return;
    if (method == SessionMethod::Operator && account_id != 0)
        o.fail("account_id", fmt::format("is {}, but an operator's session has no account (0)", account_id));
    else if (method != SessionMethod::Operator && account_id < 1)
        o.fail("account_id", fmt::format("is {}, outside 1.. (0 only with method operator)", account_id));
}

std::string req_device_id(json::Object& o, std::string_view key) {
    auto id = o.req_str(key, 48);
    if (o.ok() && !topics::valid_device_id(id))
        o.fail(key, "must be 1..48 characters of [A-Za-z0-9_-]");
    return id;
}

} // namespace detail

namespace {

template <typename T> Codec entry() {
    return Codec{Traits<T>::kName, Traits<T>::kTopic, Traits<T>::kStrict, &detail::recode<T>, &detail::round_trips<T>};
}

} // namespace

const std::vector<Codec>& codecs() {
    static const std::vector<Codec> k{
        entry<SessionTransition>(),    entry<RunningCost>(),    entry<PresenceVerdict>(),  entry<StartRequest>(),
        entry<StartReply>(),           entry<StopRequest>(),    entry<ForceEndRequest>(),  entry<SessionChangeReply>(),
        entry<DeviceCommandRequest>(), entry<QueryPortReply>(), entry<QueryDeviceReply>(), entry<CommandAck>(),
        entry<DeviceReport>(),         entry<LockRequest>(),    entry<LockReply>(),        entry<SnapshotRequest>(),
        entry<SnapshotReply>(),        entry<Alert>(),
    };
    return k;
}

const Codec* find_codec(std::string_view name) {
    for (const auto& c : codecs())
        if (c.name == name)
            return &c;
    return nullptr;
}

} // namespace pilehub::svc
