#include "workers/sessiond/device_commands.hpp"

#include "common/json.hpp"
#include "common/log.hpp"
#include "common/topics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <type_traits>
#include <variant>

namespace pilehub::sessiond {
rpc::Reply rpc_refusal(ErrorCode code, std::string msg) {
    return rpc::Reply::refuse(std::string(to_string(code)), std::move(msg), "rejected");
}

rpc::Reply rpc_invalid(std::string msg) {
    return rpc::Reply::refuse(std::string(to_string(ErrorCode::InvalidRequest)), std::move(msg), "invalid");
}

std::optional<ReplyFields> read_reply(std::string_view payload) {
    auto doc = json::parse(payload);
    if (!doc)
        return std::nullopt;
    std::string err;
    auto o = json::Object::root(*doc, &err);
    ReplyFields f;
    f.status = o.req_str("status", 16);
    f.code = o.opt_str("code", 64).value_or("");
    f.msg = o.opt_str("msg", 256).value_or("");
    if (const auto* d = o.raw("data"); d && d->IsObject() && json::nesting_depth(*d) <= json::kMaxDepth) {
        json::Writer w;
        w.raw_value(*d);
        f.data_json = w.str();
    }
    if (!o.ok())
        return std::nullopt;
    return f;
}

std::string data_of(std::string_view payload) {
    const auto doc = json::parse(payload);
    if (!doc || !doc->IsObject())
        return "{}";
    const auto it = doc->FindMember("data");
    if (it == doc->MemberEnd() || !it->value.IsObject() || json::nesting_depth(it->value) > json::kMaxDepth)
        return "{}";
    json::Writer w;
    w.raw_value(it->value);
    return w.str();
}

std::optional<int> port_of(std::string_view data_json) {
    const auto doc = json::parse(data_json);
    if (!doc || !doc->IsObject())
        return std::nullopt;
    const auto it = doc->FindMember("n");
    if (it == doc->MemberEnd() || !it->value.IsInt())
        return std::nullopt;
    return it->value.GetInt();
}

std::string command_outcome(std::string_view status) {
    static constexpr std::array<std::string_view, 7> kFinal{"ok",      "rejected",    "failed", "busy",
                                                            "expired", "unsupported", "invalid"};
    return std::find(kFinal.begin(), kFinal.end(), status) != kFinal.end() ? std::string(status) : "failed";
}

std::string logged_reply(const ReplyFields& f) {
    json::Writer w;
    w.begin_object().field("code", f.code).field("msg", f.msg).key("data");
    if (const auto d = json::parse(f.data_json); d && d->IsObject())
        w.raw_value(*d);
    else
        w.null();
    w.end_object();
    return w.str();
}

std::string command_requester(std::string_view actor, const SessionRow& row) {
    constexpr std::string_view kOperator = "operator:";
    if (actor.rfind(kOperator, 0) == 0)
        return std::string(actor.substr(kOperator.size()));
    if (actor == "rider")
        return fmt::format("rider:{}", row.account_id);
    if (actor == "card")
        return fmt::format("card:{}", row.card_no.value_or(""));
    return fmt::format("system:{}", actor);
}

DeviceCommands::DeviceCommands(mqtt::Client& mqtt, const Clock& clock, Options options, Hooks hooks)
    : mqtt_(mqtt), clock_(clock), opts_(options), hooks_(std::move(hooks)) {}

namespace {

/// The downlink of one command, in its CONTRACT A.5 shape; set_time without a time sends `now`.
std::string command_payload(const svc::DeviceCommand& c, const payloads::Envelope& env, EpochMs now) {
    return std::visit(
        [&](const auto& x) -> std::string {
            using C = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<C, svc::SetTimeArgs>)
                return payloads::encode(payloads::Message<payloads::CmdSetTime>{env, {x.epoch_ms.value_or(now)}});
            else
                return payloads::encode(payloads::Message<C>{env, x});
        },
        c);
}

} // namespace

void DeviceCommands::request(rpc::Request& r, rpc::Responder responder) {
    const auto req = svc::decode<svc::DeviceCommandRequest>(*r.data_value);
    if (!req) {
        // A command this relay does not know is `unsupported`, not a malformed request.
        if (const auto name = r.data.opt_str("name", 64); name && !svc::parse_device_command_name(*name)) {
            responder.reply(
                rpc::Reply::refuse("unsupported", fmt::format("no device command `{}`", *name), "unsupported"));
            return;
        }
        responder.reply(rpc_invalid(req.error()));
        return;
    }
    const auto& dev = req->device_id;
    const auto kind = hooks_.device_kind(dev);
    if (!kind) {
        responder.reply(rpc_refusal(ErrorCode::UnknownDevice, fmt::format("no device {}", dev)));
        return;
    }
    if (const auto cmd = svc::name_of(req->command); !kind_has_command(*kind, cmd)) {
        responder.reply(rpc::Reply::refuse(
            "unsupported", fmt::format("a device of kind {} has no command {}", *kind, svc::to_string(cmd)),
            "unsupported"));
        return;
    }
    if (!hooks_.device_online(dev)) {
        responder.reply(rpc_refusal(ErrorCode::DeviceOffline, fmt::format("{} is offline", dev)));
        return;
    }
    const auto now = clock_.now_ms();
    const auto name = std::string(svc::to_string(svc::name_of(req->command)));
    auto env = hooks_.next_env();
    env.rid = fmt::format("{}{}-{}", kDeviceCommandPrefix, now, ++counter_);
    env.exp = command_exp(now, opts_.command_timeout_ms);
    if (r.exp)
        env.exp = std::min(*env.exp, *r.exp);
    const auto text = command_payload(req->command, env, now);
    mqtt_.publish({topics::cmd(dev, name), text, 1, false});
    if (hooks_.log) {
        auto data = data_of(text);
        const auto n = port_of(data);
        hooks_.log(CommandSent{dev, name, n, *env.rid, std::move(data), req->operator_name.value_or("system:" + r.from),
                               std::nullopt, now});
    }
    deadlines_.arm(*env.rid, timeout_at(*env.exp, opts_.reply_grace_ms));
    log::info(log::Ctx{dev, {}}, "device command {} (rid {}) for {}{}", name, *env.rid, r.from,
              req->operator_name ? " (operator " + *req->operator_name + ")" : std::string());
    pending_.emplace(*env.rid, Pending{dev, name, std::move(responder)});
}

void DeviceCommands::reply(const std::string& dev, const std::string& rid, std::string_view payload) {
    auto it = pending_.find(rid);
    if (it == pending_.end() || it->second.device_id != dev)
        return;
    const auto f = read_reply(payload);
    if (!f || f->status == "accepted")
        return;
    it->second.responder.reply(rpc::Reply{f->status, f->code, f->msg, f->data_json});
    if (hooks_.log)
        hooks_.log(CommandAnswered{rid, f->status, logged_reply(*f), command_outcome(f->status), clock_.now_ms()});
    deadlines_.disarm(rid);
    pending_.erase(it);
}

void DeviceCommands::tick() {
    for (const auto& rid : deadlines_.due(clock_.now_ms())) {
        auto it = pending_.find(rid);
        if (it == pending_.end())
            continue;
        it->second.responder.reply(rpc::Reply::refuse(
            "timeout", fmt::format("{} did not answer {}", it->second.device_id, it->second.name), "failed"));
        if (hooks_.log)
            hooks_.log(CommandAnswered{rid, std::nullopt, std::nullopt, "timeout", clock_.now_ms()});
        pending_.erase(it);
    }
}

} // namespace pilehub::sessiond
