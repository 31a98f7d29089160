#include "web-api/device_cache.hpp"

#include "common/json.hpp"
#include "common/log.hpp"
#include "common/payloads.hpp"
#include "common/svc.hpp"
#include "common/topics.hpp"

namespace pilehub::api {
namespace {

std::string raw_text(const rapidjson::Value* v) {
    // json::parse refuses deep nesting already; a raw copy recurses, so it checks again.
    if (!v || !v->IsObject() || json::nesting_depth(*v) > json::kMaxDepth)
        return "{}";
    json::Writer w;
    w.raw_value(*v);
    return w.str();
}

} // namespace

std::vector<std::string> DeviceCache::filters() {
    return {topics::any_device::presence(),     topics::any_device::state(),   topics::any_device::conn_state(),
            topics::any_device::cfg_reported(), topics::any_device_presence(), topics::any_session_state(),
            topics::any_session_cost()};
}

void DeviceCache::apply_presence(DeviceLive& d, bool online, std::optional<std::int64_t> boot, EpochMs since) {
    const auto change = d.presence.apply(online, boot);
    if (change == svc::PresenceChange::LateWill)
        return;
    const bool new_boot = boot && *boot != d.boot;
    if (change != svc::PresenceChange::Unchanged || new_boot)
        d.presence_at = since;
    if (boot)
        d.boot = *boot;
}

void DeviceCache::on_verdict(const std::string& device_id, std::string_view payload) {
    const auto v = svc::decode<svc::PresenceVerdict>(payload);
    if (!v) {
        log::warn(log::Ctx{device_id, {}}, "presence verdict ignored: {}", v.error());
        return;
    }
    std::lock_guard l(m_);
    apply_presence(devices_[device_id], v.value().online, v.value().boot, v.value().since);
}

void DeviceCache::on_cost(const std::string& sid, std::string_view payload, EpochMs now) {
    const auto c = svc::decode<svc::RunningCost>(payload);
    if (!c || c.value().sid != sid) {
        log::warn(log::Ctx{{}, sid}, "running cost ignored: {}", c ? "its sid is not its topic's" : c.error());
        return;
    }
    std::lock_guard l(m_);
    if (c.value().error) { // billingd cannot price it: no figure rather than a 0
        costs_.erase(sid);
        return;
    }
    costs_[sid] = {c.value().cost_fen.value(), now};
    if (costs_.size() > 100000) {
        for (auto it = costs_.begin(); it != costs_.end();)
            it = it->second.second < now - 86'400'000 ? costs_.erase(it) : std::next(it);
    }
}

void DeviceCache::on_transition(const std::string& sid, std::string_view payload) {
    const auto t = svc::decode<svc::SessionTransition>(payload);
    if (!t || t.value().sid != sid) {
        log::warn(log::Ctx{{}, sid}, "session transition ignored: {}", t ? "its sid is not its topic's" : t.error());
        return;
    }
    if (!svc::is_ended(t.value().state))
        return;
    std::lock_guard l(m_); // an ended session's bill is its settlement's: its running cost is no longer shown
    costs_.erase(sid);
}

void DeviceCache::handle(const mqtt::Message& m) {
    const auto now = clock_.now_ms();
    if (auto dev = topics::device_of_presence(m.topic)) {
        on_verdict(*dev, m.payload);
        return;
    }
    if (auto sid = topics::session_of(m.topic)) {
        if (m.topic == topics::session_cost(*sid))
            on_cost(*sid, m.payload, now);
        else
            on_transition(*sid, m.payload);
        return;
    }
    auto t = topics::parse_device_topic(m.topic);
    if (!t)
        return;
    if (t->leaf == topics::Leaf::Presence) {
        auto p = payloads::decode_presence(m.payload);
        if (!p)
            return;
        std::lock_guard l(m_);
        auto& d = devices_[t->device_id];
        apply_presence(d, p->online, p->boot, now);
        if (p->fw)
            d.fw = *p->fw;
        return;
    }
    auto doc = json::parse(m.payload);
    if (!doc || !doc->IsObject())
        return;
    std::string err;
    auto root = json::Object::root(*doc, &err);
    auto data = root.opt_obj("data");
    if (!data.present())
        return;
    const auto ts = root.opt_int("ts", 0, payloads::kMaxEpochMs).value_or(0);
    const EpochMs at = ts > 0 ? ts : now;
    std::lock_guard l(m_);
    auto& d = devices_[t->device_id];
    switch (t->leaf) {
    case topics::Leaf::State:
        d.state_json = raw_text(root.raw("data"));
        break;
    case topics::Leaf::ConnState: {
        auto& p = d.ports[t->n];
        p.st = data.opt_str("st", 32).value_or("");
        p.sid = data.opt_str("sid", 64).value_or("");
        p.since = data.opt_int("since", 0, payloads::kMaxEpochMs).value_or(at);
        p.faults.clear();
        auto f = data.opt_arr("faults", 64);
        for (std::size_t i = 0; i < f.size(); ++i)
            if (auto s = f.str_at(i, 64))
                p.faults.push_back(*s);
        break;
    }
    case topics::Leaf::CfgReported:
        d.reported_json = raw_text(root.raw("data"));
        break;
    default:
        break;
    }
}

std::optional<DeviceLive> DeviceCache::device(const std::string& id) const {
    std::lock_guard l(m_);
    auto it = devices_.find(id);
    if (it == devices_.end())
        return std::nullopt;
    return it->second;
}

std::optional<PortLive> DeviceCache::port(const std::string& id, int n) const {
    std::lock_guard l(m_);
    auto it = devices_.find(id);
    if (it == devices_.end())
        return std::nullopt;
    auto p = it->second.ports.find(n);
    if (p == it->second.ports.end())
        return std::nullopt;
    return p->second;
}

std::optional<bool> DeviceCache::online(const std::string& id) const {
    std::lock_guard l(m_);
    auto it = devices_.find(id);
    return it == devices_.end() ? std::nullopt : it->second.is_online();
}

std::map<int, sockets::Reported> DeviceCache::port_states(const std::string& id) const {
    std::map<int, sockets::Reported> out;
    std::lock_guard l(m_);
    if (auto it = devices_.find(id); it != devices_.end())
        for (const auto& [n, p] : it->second.ports)
            if (const auto r = sockets::reported_from_word(p.st, p.faults))
                out.emplace(n, *r);
    return out;
}

std::optional<std::int64_t> DeviceCache::session_cost(const std::string& sid) const {
    std::lock_guard l(m_);
    auto it = costs_.find(sid);
    if (it == costs_.end())
        return std::nullopt;
    return it->second.first;
}

} // namespace pilehub::api
