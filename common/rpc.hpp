#pragma once
#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "common/svc/codec.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

/// Request/reply between our own processes over `ph/v1/svc/rpc/...` (docs/topics.md).
///
/// Request: `{"v":1,"rid":"...","from":"svc.pilehub-api","reply_to":"ph/v1/svc/reply/svc.pilehub-api",
///            "exp":<epoch ms>,"data":{...}}` on `ph/v1/svc/rpc/{service}/{method}`.
/// Reply:   `{"v":1,"rid":"...","status":"ok|rejected|failed|busy|expired|invalid|unsupported",
///            "code":"socket_busy","msg":"...","data":{...}}` on the request's `reply_to`.
namespace pilehub::rpc {

/// What a request gets back. `data_json` is the reply's `data` object as JSON text ("{}" if none).
struct Reply {
    std::string status = "ok";
    std::string code;
    std::string msg;
    std::string data_json = "{}";
    bool ok() const { return status == "ok" || status == "accepted"; }
    static Reply success(std::string data_json = "{}") { return Reply{"ok", "", "", std::move(data_json)}; }
    static Reply refuse(std::string code, std::string msg, std::string status = "rejected") {
        return Reply{std::move(status), std::move(code), std::move(msg), "{}"};
    }
};

/// Sends requests and waits for their replies. call() blocks the calling thread, so it must
/// never run on an MQTT callback thread (use it from HTTP handlers or worker threads).
class Client {
public:
    /// Subscribes `mqtt` to this process's reply topic through `router`; call before mqtt.start().
    Client(mqtt::Client& mqtt, mqtt::Router& router, const Clock& clock = SystemClock::instance());
    /// Sends `data_json` to `service`/`method`; a reply `timeout` status "timeout" if none arrives in time.
    Reply call(const std::string& service, const std::string& method, const std::string& data_json,
               std::chrono::milliseconds timeout);
    /// Sends one svc request (svc::StopRequest, ...) to `service`: the method is the request's
    /// (svc::Traits<Req>::kMethod), the data its svc encoding, so a requester spells neither.
    template <typename Req>
    Reply call(const std::string& service, const Req& request, std::chrono::milliseconds timeout) {
        return call(service, std::string(svc::Traits<Req>::kMethod), svc::encode(request), timeout);
    }

private:
    void on_reply(const mqtt::Message& m);
    mqtt::Client& mqtt_;
    const Clock& clock_;
    std::string reply_topic_;
    std::mutex m_;
    std::condition_variable cv_;
    std::map<std::string, std::optional<Reply>> pending_;
    std::uint64_t counter_ = 0;
};

/// A request as a handler sees it. A handler of a ph/v1/svc method decodes `*data_value` with its
/// codec (`svc::decode<svc::StopRequest>(*r.data_value)`); `data` is the field-by-field reader for
/// the rest. Both are valid only during the handler call.
struct Request {
    std::string method;
    std::string rid;
    std::string from;
    json::Object data;
    /// The request's `data` as parsed; never null (an absent `data` is an empty object).
    const rapidjson::Value* data_value = nullptr;
    /// The request's `exp` (epoch ms), if it has one; a request past it never reaches a handler.
    std::optional<std::int64_t> exp;
};

class Server;

/// Answers one request of an asynchronous handler (Server::handle_async), once, whenever the
/// answer is known: at once or later (a device's reply, a time-out). A copy answers the same
/// request; only the first reply() is sent, a later one is refused and logged. Must not outlive
/// the Server that made it.
class Responder {
public:
    /// Sends `r` as the reply. True the first time; false (nothing sent, a warning logged) once the
    /// request is answered.
    bool reply(const Reply& r);
    /// Whether the request has been answered.
    bool answered() const;
    /// The request's rid and sender (for logs).
    const std::string& rid() const;
    const std::string& from() const;

private:
    friend class Server;
    struct State;
    explicit Responder(std::shared_ptr<State> s) : s_(std::move(s)) {}
    std::shared_ptr<State> s_;
};

/// Serves requests for one service. Handlers run on the MQTT callback thread and must commit
/// before returning. A request past its `exp` is answered `expired` and not run; a repeated `rid`
/// gets the first answer again without running twice (or, while an asynchronous handler has not
/// answered yet, gets that answer when it comes).
class Server {
public:
    using Handler = std::function<Reply(Request&)>;
    /// Receives the request (valid during the call only: decode what is needed) and the Responder
    /// that answers it, now or later. A handler that throws before answering is answered `internal`.
    using AsyncHandler = std::function<void(Request&, Responder)>;
    Server(mqtt::Client& mqtt, mqtt::Router& router, std::string service, const Clock& clock = SystemClock::instance());
    /// Registers the handler of `method`, answered with what it returns. Call before mqtt.start().
    void handle(const std::string& method, Handler h);
    /// Registers the asynchronous handler of `method`, answered through its Responder (a relay that
    /// answers when something else does). Call before mqtt.start().
    void handle_async(const std::string& method, AsyncHandler h);
    /// Runs one request (what the router delivers; a worker that orders its inbound messages itself
    /// calls it directly).
    void on_request(const mqtt::Message& m);

private:
    friend class Responder;
    /// Remembers `text` as the answer for `key` ("" = pending) and publishes a non-empty one.
    void answer(const std::string& key, const std::string& reply_to, const std::string& text);
    mqtt::Client& mqtt_;
    std::string service_;
    const Clock& clock_;
    std::map<std::string, Handler> handlers_;
    std::map<std::string, AsyncHandler> async_handlers_;
    std::mutex m_;
    std::map<std::string, std::string> recent_; ///< "from/rid" → reply JSON ("" while an async answer is pending)
    std::deque<std::string> recent_order_;
};

/// Encodes a reply for `rid` (exposed for tests).
std::string encode_reply(const std::string& rid, const Reply& r);

} // namespace pilehub::rpc
