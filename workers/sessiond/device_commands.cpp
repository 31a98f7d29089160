#include "workers/sessiond/device_commands.hpp"

#include "common/json.hpp"
#include "common/log.hpp"
#include "common/topics.hpp"

#include <fmt/format.h>

#include <algorithm>

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

DeviceCommands::DeviceCommands(mqtt::Client& mqtt, const Clock& clock, Options options, Hooks hooks)
    : mqtt_(mqtt), clock_(clock), opts_(options), hooks_(std::move(hooks)) {}

void DeviceCommands::request(const mqtt::Message& m) {
    auto doc = json::parse(m.payload);
    if (!doc)
        return;
    std::string err;
    auto o = json::Object::root(*doc, &err);
    const auto rid = o.req_str("rid", 64);
    const auto reply_to = o.req_str("reply_to", 200);
    const auto from = o.opt_str("from", 100).value_or("");
    const auto exp = o.opt_int("exp", 0);
    if (rid.empty() || reply_to.rfind(topics::rpc_reply(""), 0) != 0) {
        log::warn("rpc device_command without a usable rid/reply_to");
        return;
    }
    const auto key = from + "/" + rid;
    if (const auto* seen = answered_.find(key)) {
        if (!seen->empty()) // else the device has not answered yet; the answer goes out then
            mqtt_.publish({reply_to, *seen, 1, false});
        return;
    }
    Pending p;
    p.rpc_rid = rid;
    p.reply_to = reply_to;
    p.key = key;
    auto refused = [&](const rpc::Reply& r) { answer(p, r); };
    const auto now = clock_.now_ms();
    if (exp && *exp < now)
        return refused(rpc::Reply::refuse("expired", "the request expired before it was handled", "expired"));

    static const rapidjson::Value kEmpty(rapidjson::kObjectType);
    const auto* raw = o.raw("data");
    json::Object data(raw ? raw : &kEmpty, "data", &err);
    p.device_id = data.req_str("device_id", 48);
    p.name = data.req_str("name", 32);
    auto args = data.opt_obj("data");
    std::function<std::string(const payloads::Envelope&)> build;
    if (p.name == "reboot") {
        payloads::CmdReboot c;
        if (auto w = args.opt_str("when", 16)) {
            auto when = payloads::parse_enum<payloads::RebootWhen>(*w);
            if (!when)
                return refused(rpc_invalid("data.data.when must be now or when_idle"));
            c.when = *when;
        }
        build = [c](const payloads::Envelope& e) {
            return payloads::encode(payloads::Message<payloads::CmdReboot>{e, c});
        };
    } else if (p.name == "set_time") {
        const payloads::CmdSetTime c{args.opt_int("epoch_ms", 0, payloads::kMaxEpochMs).value_or(now)};
        build = [c](const payloads::Envelope& e) {
            return payloads::encode(payloads::Message<payloads::CmdSetTime>{e, c});
        };
    } else if (p.name == "query_port") {
        const payloads::EbikeQueryPort c{static_cast<int>(args.req_int("n", 1, payloads::kMaxSockets))};
        build = [c](const payloads::Envelope& e) {
            return payloads::encode(payloads::Message<payloads::EbikeQueryPort>{e, c});
        };
    } else if (p.name == "query_device") {
        build = [](const payloads::Envelope& e) {
            return payloads::encode(payloads::Message<payloads::EbikeQueryDevice>{e, {}});
        };
    } else if (o.ok()) {
        return refused(rpc::Reply::refuse("unsupported", fmt::format("no device command `{}`", p.name), "unsupported"));
    }
    if (!o.ok())
        return refused(rpc_invalid(err));
    if (!topics::valid_device_id(p.device_id) || !hooks_.device_exists(p.device_id))
        return refused(rpc_refusal(ErrorCode::UnknownDevice, fmt::format("no device {}", p.device_id)));
    if (!hooks_.device_online(p.device_id))
        return refused(rpc_refusal(ErrorCode::DeviceOffline, fmt::format("{} is offline", p.device_id)));

    auto env = hooks_.next_env();
    env.rid = fmt::format("{}{}-{}", kDeviceCommandPrefix, now, ++counter_);
    env.exp = command_exp(now, opts_.command_timeout_ms);
    if (exp)
        env.exp = std::min(*env.exp, *exp);
    mqtt_.publish({topics::cmd(p.device_id, p.name), build(env), 1, false});
    deadlines_.arm(*env.rid, timeout_at(*env.exp, opts_.reply_grace_ms));
    answered_.put(key, ""); // pending: a repeated request waits for the device
    log::info(log::Ctx{p.device_id, {}}, "device command {} (rid {}) for {}", p.name, *env.rid, from);
    pending_.emplace(*env.rid, std::move(p));
}

void DeviceCommands::reply(const std::string& dev, const std::string& rid, std::string_view payload) {
    auto it = pending_.find(rid);
    if (it == pending_.end() || it->second.device_id != dev)
        return;
    const auto f = read_reply(payload);
    if (!f || f->status == "accepted")
        return;
    answer(it->second, rpc::Reply{f->status, f->code, f->msg, f->data_json});
    deadlines_.disarm(rid);
    pending_.erase(it);
}

void DeviceCommands::tick() {
    for (const auto& rid : deadlines_.due(clock_.now_ms())) {
        auto it = pending_.find(rid);
        if (it == pending_.end())
            continue;
        answer(it->second,
               rpc::Reply::refuse("timeout", fmt::format("{} did not answer {}", it->second.device_id, it->second.name),
                                  "failed"));
        pending_.erase(it);
    }
}

void DeviceCommands::answer(const Pending& p, const rpc::Reply& r) {
    const auto text = rpc::encode_reply(p.rpc_rid, r);
    answered_.put(p.key, text);
    mqtt_.publish({p.reply_to, text, 1, false});
}

} // namespace pilehub::sessiond
