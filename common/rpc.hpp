#pragma once
#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
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
};

/// Serves requests for one service. Handlers run on the MQTT callback thread and must commit
/// before returning. A request past its `exp` is answered `expired` and not run; a repeated `rid`
/// gets the first answer again without running twice.
class Server {
public:
    using Handler = std::function<Reply(Request&)>;
    Server(mqtt::Client& mqtt, mqtt::Router& router, std::string service, const Clock& clock = SystemClock::instance());
    /// Registers the handler of `method`. Call before mqtt.start().
    void handle(const std::string& method, Handler h);

private:
    void on_request(const mqtt::Message& m);
    mqtt::Client& mqtt_;
    std::string service_;
    const Clock& clock_;
    std::map<std::string, Handler> handlers_;
    std::mutex m_;
    std::map<std::string, std::string> recent_; ///< "from/rid" → reply JSON
    std::deque<std::string> recent_order_;
};

/// Encodes a reply for `rid` (exposed for tests).
std::string encode_reply(const std::string& rid, const Reply& r);

} // namespace pilehub::rpc
