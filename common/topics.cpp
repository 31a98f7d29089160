#include "common/topics.hpp"

#include <charconv>
#include <vector>

namespace pilehub::topics {
namespace {

std::string dev(std::string_view id, std::string_view leaf) {
    std::string s;
    s.reserve(kDevRoot.size() + id.size() + 1 + leaf.size());
    s.append(kDevRoot).append(id).push_back('/');
    s.append(leaf);
    return s;
}

std::string numbered(std::string_view id, std::string_view kind, int n) {
    std::string leaf(kind);
    leaf.push_back('/');
    leaf += std::to_string(n);
    leaf += "/state";
    return dev(id, leaf);
}

std::string named(std::string_view id, std::string_view kind, std::string_view name) {
    std::string leaf(kind);
    leaf.push_back('/');
    leaf.append(name);
    return dev(id, leaf);
}

std::vector<std::string_view> split(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        auto p = s.find('/', start);
        if (p == std::string_view::npos) {
            out.push_back(s.substr(start));
            return out;
        }
        out.push_back(s.substr(start, p - start));
        start = p + 1;
    }
}

bool valid_name(std::string_view s) {
    if (s.empty() || s.size() > 48)
        return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    return true;
}

std::optional<int> parse_n(std::string_view s) {
    int n = 0;
    if (s.empty() || s.size() > 3 || s[0] == '0')
        return std::nullopt;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || p != s.data() + s.size() || n < 1)
        return std::nullopt;
    return n;
}

} // namespace

bool valid_device_id(std::string_view id) {
    if (id.empty() || id.size() > 48)
        return false;
    for (char c : id) {
        const bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

std::string presence(std::string_view d) {
    return dev(d, "presence");
}
std::string info(std::string_view d) {
    return dev(d, "info");
}
std::string state(std::string_view d) {
    return dev(d, "state");
}
std::string conn_state(std::string_view d, int n) {
    return numbered(d, "conn", n);
}
std::string space_state(std::string_view d, int n) {
    return numbered(d, "space", n);
}
std::string tele(std::string_view d) {
    return dev(d, "tele");
}
std::string evt(std::string_view d, std::string_view t) {
    return named(d, "evt", t);
}
std::string req(std::string_view d, std::string_view n) {
    return named(d, "req", n);
}
std::string req_reply(std::string_view d, std::string_view n) {
    return named(d, "req-reply", n);
}
std::string cmd(std::string_view d, std::string_view n) {
    return named(d, "cmd", n);
}
std::string cmd_reply(std::string_view d, std::string_view n) {
    return named(d, "cmd-reply", n);
}
std::string cfg_desired(std::string_view d) {
    return dev(d, "cfg/desired");
}
std::string cfg_reported(std::string_view d) {
    return dev(d, "cfg/reported");
}
std::string device_all(std::string_view d) {
    return dev(d, "#");
}

namespace any_device {
std::string presence() {
    return topics::presence("+");
}
std::string info() {
    return topics::info("+");
}
std::string state() {
    return topics::state("+");
}
std::string conn_state() {
    return dev("+", "conn/+/state");
}
std::string space_state() {
    return dev("+", "space/+/state");
}
std::string tele() {
    return topics::tele("+");
}
std::string evt() {
    return topics::evt("+", "+");
}
std::string req() {
    return topics::req("+", "+");
}
std::string cmd_reply() {
    return topics::cmd_reply("+", "+");
}
std::string cfg_reported() {
    return topics::cfg_reported("+");
}
std::string all() {
    return dev("+", "#");
}
} // namespace any_device

std::string svc_status(std::string_view process) {
    std::string s(kSvcRoot);
    s.append(process).append("/status");
    return s;
}
std::string any_svc_status() {
    return svc_status("+");
}

std::string rpc(std::string_view service, std::string_view method) {
    std::string s(kSvcRoot);
    s.append("rpc/").append(service).push_back('/');
    s.append(method);
    return s;
}
std::string rpc_any(std::string_view service) {
    return rpc(service, "+");
}
std::string rpc_reply(std::string_view client_id) {
    std::string s(kSvcRoot);
    s.append("reply/").append(client_id);
    return s;
}
std::string session_state(std::string_view sid) {
    std::string s(kSvcRoot);
    s.append("session/").append(sid).append("/state");
    return s;
}
std::string alert(std::string_view kind) {
    std::string s(kSvcRoot);
    s.append("alert/").append(kind);
    return s;
}
std::string all_alerts() {
    return alert("+");
}
std::string session_cost(std::string_view sid) {
    std::string s(kSvcRoot);
    s.append("session/").append(sid).append("/cost");
    return s;
}
namespace {
std::string svc_device(std::string_view dev, std::string_view leaf) {
    std::string s(kSvcRoot);
    s.append("device/").append(dev).push_back('/');
    s.append(leaf);
    return s;
}

/// The device id in `ph/v1/svc/device/{id}/{leaf}`.
std::optional<std::string> svc_device_of(std::string_view topic, std::string_view leaf) {
    std::string prefix(kSvcRoot);
    prefix.append("device/");
    if (topic.substr(0, prefix.size()) != prefix)
        return std::nullopt;
    auto parts = split(topic.substr(prefix.size()));
    if (parts.size() != 2 || parts[1] != leaf || !valid_device_id(parts[0]))
        return std::nullopt;
    return std::string(parts[0]);
}
} // namespace

std::string device_presence(std::string_view dev) {
    return svc_device(dev, "presence");
}
std::string device_report(std::string_view dev) {
    return svc_device(dev, "report");
}

std::string any_session_state() {
    return session_state("+");
}
std::string any_session_cost() {
    return session_cost("+");
}
std::string any_device_presence() {
    return device_presence("+");
}
std::string any_device_report() {
    return device_report("+");
}
std::optional<std::string> session_of(std::string_view topic) {
    std::string prefix(kSvcRoot);
    prefix.append("session/");
    if (topic.substr(0, prefix.size()) != prefix)
        return std::nullopt;
    auto parts = split(topic.substr(prefix.size()));
    if (parts.size() != 2 || parts[0].empty() || (parts[1] != "state" && parts[1] != "cost"))
        return std::nullopt;
    return std::string(parts[0]);
}

std::optional<std::string> device_of_presence(std::string_view topic) {
    return svc_device_of(topic, "presence");
}
std::optional<std::string> device_of_report(std::string_view topic) {
    return svc_device_of(topic, "report");
}

std::optional<DeviceTopic> parse_device_topic(std::string_view topic) {
    if (topic.substr(0, kDevRoot.size()) != kDevRoot)
        return std::nullopt;
    auto parts = split(topic.substr(kDevRoot.size()));
    if (parts.size() < 2 || !valid_device_id(parts[0]))
        return std::nullopt;
    DeviceTopic t{std::string(parts[0]), Leaf::Presence, 0, {}};
    const auto& a = parts[1];
    if (parts.size() == 2) {
        if (a == "presence")
            t.leaf = Leaf::Presence;
        else if (a == "info")
            t.leaf = Leaf::Info;
        else if (a == "state")
            t.leaf = Leaf::State;
        else if (a == "tele")
            t.leaf = Leaf::Tele;
        else
            return std::nullopt;
        return t;
    }
    if (parts.size() == 3) {
        const auto& b = parts[2];
        if (a == "cfg") {
            if (b == "desired")
                t.leaf = Leaf::CfgDesired;
            else if (b == "reported")
                t.leaf = Leaf::CfgReported;
            else
                return std::nullopt;
            return t;
        }
        if (!valid_name(b))
            return std::nullopt;
        if (a == "evt")
            t.leaf = Leaf::Evt;
        else if (a == "req")
            t.leaf = Leaf::Req;
        else if (a == "req-reply")
            t.leaf = Leaf::ReqReply;
        else if (a == "cmd")
            t.leaf = Leaf::Cmd;
        else if (a == "cmd-reply")
            t.leaf = Leaf::CmdReply;
        else
            return std::nullopt;
        t.name = std::string(b);
        return t;
    }
    if (parts.size() == 4 && parts[3] == "state" && (a == "conn" || a == "space")) {
        auto n = parse_n(parts[2]);
        if (!n)
            return std::nullopt;
        t.leaf = a == "conn" ? Leaf::ConnState : Leaf::SpaceState;
        t.n = *n;
        return t;
    }
    return std::nullopt;
}

bool valid_filter(std::string_view filter) {
    if (filter.empty())
        return false;
    auto parts = split(filter);
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const auto& p = parts[i];
        if (p.find('#') != std::string_view::npos && (p != "#" || i + 1 != parts.size()))
            return false;
        if (p.find('+') != std::string_view::npos && p != "+")
            return false;
    }
    return true;
}

bool matches(std::string_view filter, std::string_view topic) {
    if (!valid_filter(filter) || topic.empty())
        return false;
    if (topic[0] == '$' && (filter[0] == '+' || filter[0] == '#'))
        return false;
    auto f = split(filter);
    auto t = split(topic);
    std::size_t i = 0;
    for (; i < f.size(); ++i) {
        if (f[i] == "#")
            return true; // also matches the parent level ("a/#" matches "a")
        if (i >= t.size())
            return false;
        if (f[i] != "+" && f[i] != t[i])
            return false;
    }
    return i == t.size();
}

} // namespace pilehub::topics
