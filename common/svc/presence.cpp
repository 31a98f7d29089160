#include "common/svc/codec_detail.hpp"

#include <algorithm>

namespace pilehub::svc {

bool is_late_will(bool online, std::optional<std::int64_t> boot, std::int64_t latest_online_boot) {
    return !online && boot && *boot < latest_online_boot;
}

std::string_view to_string(PresenceChange c) {
    switch (c) {
    case PresenceChange::CameOnline:
        return "came_online";
    case PresenceChange::WentOffline:
        return "went_offline";
    case PresenceChange::Unchanged:
        return "unchanged";
    case PresenceChange::LateWill:
        return "late_will";
    }
    return "?";
}

PresenceChange PresenceView::apply(bool online, std::optional<std::int64_t> boot) {
    if (is_late_will(online, boot, latest_online_boot_))
        return PresenceChange::LateWill;
    if (online && boot)
        latest_online_boot_ = std::max(latest_online_boot_, *boot);
    const bool changed = !known_ || online_ != online;
    known_ = true;
    online_ = online;
    if (!changed)
        return PresenceChange::Unchanged;
    return online ? PresenceChange::CameOnline : PresenceChange::WentOffline;
}

namespace detail {

void read_body(json::Object& o, const rapidjson::Value&, PresenceVerdict& out) {
    read_version(o);
    out.online = o.req_bool("online");
    out.boot = o.req_int("boot", 0);
    out.since = payloads::detail::req_ts(o, "since");
    out.reason = payloads::detail::req_word(o, "reason");
}

void write_body(json::Writer& w, const PresenceVerdict& x) {
    w.field("v", kVersion).field("online", x.online).field("boot", x.boot).field("since", x.since);
    w.field("reason", x.reason);
}

} // namespace detail
} // namespace pilehub::svc

PILEHUB_SVC_INSTANTIATE(pilehub::svc::PresenceVerdict)
