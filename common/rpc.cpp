#include "common/rpc.hpp"

#include "common/log.hpp"
#include "common/topics.hpp"

#include <fmt/format.h>
#include <unistd.h>

namespace pilehub::rpc {
namespace {

constexpr std::size_t kRememberedReplies = 4096;

std::string raw_json(const rapidjson::Value* v) {
    if (!v)
        return "{}";
    json::Writer w;
    w.raw_value(*v);
    return w.str();
}

} // namespace

std::string encode_reply(const std::string& rid, const Reply& r) {
    json::Writer w;
    w.begin_object().field("v", 1).field("rid", rid).field("status", r.status);
    if (!r.code.empty())
        w.field("code", r.code);
    if (!r.msg.empty())
        w.field("msg", r.msg);
    w.end_object();
    // Splice the data object in verbatim (it is JSON text produced by our own code).
    auto s = w.str();
    s.pop_back();
    s += ",\"data\":" + (r.data_json.empty() ? std::string("{}") : r.data_json) + "}";
    return s;
}

Client::Client(mqtt::Client& mqtt, mqtt::Router& router, const Clock& clock)
    : mqtt_(mqtt), clock_(clock), reply_topic_(topics::rpc_reply(mqtt.client_id())) {
    router.add(mqtt, reply_topic_, 1, [this](const mqtt::Message& m) { on_reply(m); });
}

void Client::on_reply(const mqtt::Message& m) {
    auto doc = json::parse(m.payload);
    if (!doc) {
        log::warn("rpc: malformed reply on {}: {}", m.topic, doc.error());
        return;
    }
    std::string err;
    auto o = json::Object::root(*doc, &err);
    const auto rid = o.req_str("rid", 64);
    Reply r;
    r.status = o.req_str("status", 32);
    r.code = o.opt_str("code", 64).value_or("");
    r.msg = o.opt_str("msg", 1024).value_or("");
    r.data_json = raw_json(o.raw("data"));
    if (!o.ok()) {
        log::warn("rpc: bad reply on {}: {}", m.topic, err);
        return;
    }
    {
        std::lock_guard l(m_);
        auto it = pending_.find(rid);
        if (it == pending_.end()) {
            log::debug("rpc: late or unknown reply {}", rid);
            return;
        }
        it->second = std::move(r);
    }
    cv_.notify_all();
}

Reply Client::call(const std::string& service, const std::string& method, const std::string& data_json,
                   std::chrono::milliseconds timeout) {
    std::string rid;
    {
        std::lock_guard l(m_);
        rid = fmt::format("{}-{}-{}", ::getpid(), clock_.now_ms(), ++counter_);
        pending_.emplace(rid, std::nullopt);
    }
    json::Writer w;
    w.begin_object()
        .field("v", 1)
        .field("rid", rid)
        .field("from", mqtt_.client_id())
        .field("reply_to", reply_topic_)
        .field("exp", clock_.now_ms() + timeout.count())
        .end_object();
    auto payload = w.str();
    payload.pop_back();
    payload += ",\"data\":" + (data_json.empty() ? std::string("{}") : data_json) + "}";
    if (!mqtt_.publish({topics::rpc(service, method), payload, 1, false})) {
        std::lock_guard l(m_);
        pending_.erase(rid);
        return Reply::refuse("internal", "the request could not be sent", "failed");
    }
    std::unique_lock l(m_);
    const bool got = cv_.wait_for(l, timeout, [&] { return pending_[rid].has_value(); });
    Reply r =
        got ? std::move(*pending_[rid])
            : Reply::refuse("timeout", fmt::format("{} did not answer in {} ms", service, timeout.count()), "timeout");
    pending_.erase(rid);
    return r;
}

struct Responder::State {
    Server* server = nullptr;
    std::string rid;
    std::string from;
    std::string reply_to;
    std::string method;
    std::mutex m;
    bool answered = false;
};

bool Responder::reply(const Reply& r) {
    {
        std::lock_guard l(s_->m);
        if (s_->answered) {
            log::warn("rpc {}: {} from {} (rid {}) is answered already: reply {} {} not sent", s_->server->service_,
                      s_->method, s_->from, s_->rid, r.status, r.code);
            return false;
        }
        s_->answered = true;
    }
    s_->server->answer(s_->from + "/" + s_->rid, s_->reply_to, encode_reply(s_->rid, r));
    return true;
}

bool Responder::answered() const {
    std::lock_guard l(s_->m);
    return s_->answered;
}

const std::string& Responder::rid() const {
    return s_->rid;
}

const std::string& Responder::from() const {
    return s_->from;
}

Server::Server(mqtt::Client& mqtt, mqtt::Router& router, std::string service, const Clock& clock)
    : mqtt_(mqtt), service_(std::move(service)), clock_(clock) {
    router.add(mqtt, topics::rpc_any(service_), 1, [this](const mqtt::Message& m) { on_request(m); });
}

void Server::handle(const std::string& method, Handler h) {
    handlers_[method] = std::move(h);
}

void Server::handle_async(const std::string& method, AsyncHandler h) {
    async_handlers_[method] = std::move(h);
}

void Server::answer(const std::string& key, const std::string& reply_to, const std::string& text) {
    {
        std::lock_guard l(m_);
        auto [it, fresh] = recent_.try_emplace(key, text);
        if (fresh) {
            recent_order_.push_back(key);
            if (recent_order_.size() > kRememberedReplies) {
                recent_.erase(recent_order_.front());
                recent_order_.pop_front();
            }
        } else {
            it->second = text; // the pending answer of an asynchronous handler arrives
        }
    }
    if (!text.empty())
        mqtt_.publish({reply_to, text, 1, false});
}

void Server::on_request(const mqtt::Message& m) {
    const auto method = m.topic.substr(m.topic.rfind('/') + 1);
    auto doc = json::parse(m.payload);
    if (!doc) {
        log::warn("rpc {}: malformed request on {}: {}", service_, m.topic, doc.error());
        return; // no rid, no reply_to: nobody to answer
    }
    std::string err;
    auto o = json::Object::root(*doc, &err);
    const auto rid = o.req_str("rid", 64);
    const auto reply_to = o.req_str("reply_to", 200);
    const auto from = o.opt_str("from", 100).value_or("");
    const auto exp = o.opt_int("exp", 0);
    if (rid.empty() || reply_to.rfind(topics::rpc_reply(""), 0) != 0) {
        log::warn("rpc {}: request on {} without a usable rid/reply_to: {}", service_, m.topic,
                  err.empty() ? reply_to : err);
        return;
    }
    const auto key = from + "/" + rid;
    auto answer = [&](const Reply& r) { this->answer(key, reply_to, encode_reply(rid, r)); };
    {
        std::lock_guard l(m_);
        auto it = recent_.find(key);
        if (it != recent_.end()) {
            if (!it->second.empty()) // else an asynchronous handler answers when it can
                mqtt_.publish({reply_to, it->second, 1, false});
            return;
        }
    }
    if (!o.ok()) {
        answer(Reply::refuse("invalid_request", err, "invalid"));
        return;
    }
    if (exp && *exp < clock_.now_ms()) {
        answer(Reply::refuse("expired", "the request expired before it was handled", "expired"));
        return;
    }
    auto h = handlers_.find(method);
    auto ah = async_handlers_.find(method);
    if (h == handlers_.end() && ah == async_handlers_.end()) {
        answer(Reply::refuse("unsupported", fmt::format("{} has no method {}", service_, method), "unsupported"));
        return;
    }
    std::string data_err;
    // An absent `data` reads as an empty object, so a handler's required fields are reported missing.
    static const rapidjson::Value kEmpty(rapidjson::kObjectType);
    const auto* data = o.raw("data");
    if (!data)
        data = &kEmpty;
    Request req{method, rid, from, json::Object(data, "data", &data_err), data, exp};
    if (ah != async_handlers_.end()) {
        auto state = std::make_shared<Responder::State>();
        state->server = this;
        state->rid = rid;
        state->from = from;
        state->reply_to = reply_to;
        state->method = method;
        this->answer(key, reply_to, ""); // pending: a repeated request waits for the answer
        Responder responder(state);
        try {
            ah->second(req, responder);
        } catch (const std::exception& e) {
            log::error("rpc {}: {} failed: {}", service_, method, e.what());
            if (!responder.answered())
                responder.reply(Reply::refuse("internal", "internal error", "failed"));
        }
        return;
    }
    try {
        Reply r = h->second(req);
        if (!data_err.empty() && r.ok())
            r = Reply::refuse("invalid_request", data_err, "invalid");
        answer(r);
    } catch (const std::exception& e) {
        log::error("rpc {}: {} failed: {}", service_, method, e.what());
        answer(Reply::refuse("internal", "internal error", "failed"));
    }
}

} // namespace pilehub::rpc
