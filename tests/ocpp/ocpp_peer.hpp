#pragma once
// A real OCPP 1.6-J charge point for C++ integration tests: tests/ocpp/charge_point.mjs (npm
// ocpp-rpc 2.2.1 in strict mode: every message both ways checked against the official schemas)
// run under Node and driven over its newline-delimited JSON protocol (tests/ocpp/README.md).
//
//   OcppPeer cp(dir + "/cp1.log");
//   REQUIRE(cp.connect({"ws://127.0.0.1:" + port + "/ocpp", "CP1", "its password"}).ok);
//   auto boot = cp.call("BootNotification", R"({"chargePointVendor":"V","chargePointModel":"M"})");
//   CHECK(json_text_at(boot.result_json, "status") == "Accepted");
//   cp.handle("RemoteStartTransaction", R"({"status":"Accepted"})");
//   auto start = cp.wait_call("RemoteStartTransaction");   // its payload, once the CSMS sends it
#include "common/json.hpp"
#include "tests/support/json_path.hpp"
#include "tests/support/line_child.hpp"
#include "tests/support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace pilehub::test {

/// The JSON text of a parsed value.
inline std::string json_text(const rapidjson::Value& v) {
    return json::Writer().raw_value(v).str();
}

/// The value at a dotted path (json_at) of JSON text: a string's characters, any other value's
/// JSON text; nullopt when the text does not parse or the path is missing.
inline std::optional<std::string> json_text_at(std::string_view json_text_in, const std::string& path) {
    auto doc = json::parse(json_text_in);
    if (!doc)
        return std::nullopt;
    const auto* v = json_at(*doc, path);
    if (!v)
        return std::nullopt;
    return v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : json_text(*v);
}

/// Where and how OcppPeer::connect() connects.
struct ConnectOptions {
    ConnectOptions(std::string url_in, std::string identity_in, std::optional<std::string> password_in = std::nullopt)
        : url(std::move(url_in)), identity(std::move(identity_in)), password(std::move(password_in)) {}
    /// The CSMS endpoint WITHOUT the charge point id: "ws://127.0.0.1:<port>/ocpp" (wss:// for TLS).
    std::string url;
    /// The charge point id, appended to url; also the Basic-auth user.
    std::string identity;
    /// The Basic-auth password (security profiles 1 and 2); none: no Authorization header.
    std::optional<std::string> password;
    /// Offered WebSocket subprotocols; strict mode validates ocpp1.6.
    std::vector<std::string> protocols{"ocpp1.6"};
    /// wss://: the PEM file of the CA to trust (e.g. broker-config/make-dev-ca's ca.crt).
    std::string ca_file;
    /// ocpp-rpc reconnects by itself after a drop (each new connection is an "open" event).
    bool reconnect = false;
};

/// What connect() found.
struct ConnectOutcome {
    bool ok = false;
    /// The subprotocol the server chose.
    std::string protocol;
    /// The HTTP status of a refused upgrade (401, 404, ...); 0 if none.
    int http_status = 0;
    /// "http" (a refused upgrade), "socket" (TCP or TLS failure); empty when ok.
    std::string error_kind;
    /// A socket error's code ("ECONNREFUSED", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", ...).
    std::string error_code;
    std::string error_message;
};

/// What call() got.
struct CallOutcome {
    bool ok = false;
    /// The CALLRESULT payload (JSON text) when ok.
    std::string result_json;
    /// "callerror" (the server answered a CALLERROR), "invalid_request" (strict mode refused our
    /// payload; nothing was sent), "invalid_response" (strict mode refused the server's
    /// CALLRESULT), "timeout" (no answer in time), "closed" (not connected, or dropped).
    std::string error_kind;
    /// The CALLERROR's code as the server sent it, or strict mode's code (ocpp-rpc spells it
    /// "OccurenceConstraintViolation", "TypeConstraintViolation", "FormatViolation", ...).
    std::string error_code;
    std::string error_message;
    /// The CALLERROR's details, or strict mode's (ajv errors), as JSON text ("{}" if none).
    std::string error_details_json = "{}";
};

/// How close() ended the connection.
struct CloseOutcome {
    int code = 0; // 1006 after a forced close
    std::string reason;
};

/// One charge point: a `node tests/ocpp/charge_point.mjs` child. Requests block until the child
/// answers; waits take a time-out and never outlast it. Events (incoming CALLs, closes, strict
/// violations, raw replies) queue in arrival order until a wait takes them.
class OcppPeer {
public:
    /// Starts the charge point (no connection yet); Node's stderr goes to `log_file`. Throws if
    /// Node or the npm packages are missing (scripts/install-deps installs both).
    explicit OcppPeer(const std::string& log_file) : child_(command(), log_file) {}

    /// Connects; waits for the WebSocket handshake's end. The "open" event it causes is consumed.
    ConnectOutcome connect(const ConnectOptions& o, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
        json::Writer w;
        begin(w, "connect").field("url", o.url).field("identity", o.identity).opt_field("password", o.password);
        w.key("protocols").begin_array();
        for (const auto& p : o.protocols)
            w.value(p);
        w.end_array();
        if (!o.ca_file.empty())
            w.field("ca", o.ca_file);
        w.field("reconnect", o.reconnect).field("callTimeoutMs", std::int64_t{10000});
        const auto a = request(w, timeout);
        ConnectOutcome out;
        out.ok = is_ok(a);
        if (out.ok) {
            out.protocol = str(a, "protocol");
            take_event([](const rapidjson::Value& e) { return is(e, "event", "open"); }, now());
        } else {
            out.error_kind = str(a, "error.kind");
            out.error_code = str(a, "error.code");
            out.error_message = str(a, "error.message");
            if (const auto* s = json_at(a, "error.status"); s && s->IsInt())
                out.http_status = s->GetInt();
        }
        return out;
    }

    /// Sends a CALL and waits for its answer. `payload_json` must be JSON text (it may break the
    /// schema: strict mode then refuses it locally, error_kind "invalid_request"). The charge
    /// point's own time-out is `timeout`; the bridge gets 5 s more before this throws.
    CallOutcome call(std::string_view action, std::string_view payload_json,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        json::Writer w;
        begin(w, "call").field("action", action).field("timeoutMs", static_cast<std::int64_t>(timeout.count()));
        w.key("payload").raw_value(parse_arg(payload_json));
        const auto a = request(w, timeout + std::chrono::seconds(5));
        CallOutcome out;
        out.ok = is_ok(a);
        if (out.ok) {
            const auto* r = json_at(a, "result");
            out.result_json = r ? json_text(*r) : "null";
        } else {
            out.error_kind = str(a, "error.kind");
            out.error_code = str(a, "error.code");
            out.error_message = str(a, "error.message");
            if (const auto* d = json_at(a, "error.details"))
                out.error_details_json = json_text(*d);
        }
        return out;
    }

    /// How later CALLs of `action` from the server are answered: `respond_json` is the
    /// CALLRESULT payload, or {"error":{"code":"NotSupported","message":"..."}} for a CALLERROR.
    /// `once`: only the next such CALL; after it (and for actions never configured) the charge
    /// point answers NotImplemented.
    void handle(std::string_view action, std::string_view respond_json, bool once = false) {
        json::Writer w;
        begin(w, "handle").field("action", action).field("once", once);
        w.key("respond").raw_value(parse_arg(respond_json));
        expect_ok(request(w, std::chrono::seconds(5)), "handle");
    }

    /// Sends `text` as one WebSocket text frame, unvalidated (an invalid CALL, garbage). The
    /// server's reply to it arrives as a "raw_message" event (wait_event), text in "text".
    void raw(std::string_view text) {
        json::Writer w;
        begin(w, "raw").field("text", text);
        expect_ok(request(w, std::chrono::seconds(5)), "raw");
    }

    /// The payload (JSON text) of the next CALL of `action` the server sent; nullopt if none
    /// arrives within `timeout`. The CALL is answered as handle() said, whether or not anyone waits.
    std::optional<std::string> wait_call(std::string_view action,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        auto e =
            take_event([&](const rapidjson::Value& v) { return is(v, "event", "call") && is(v, "action", action); },
                       now() + timeout);
        if (!e)
            return std::nullopt;
        const auto* p = json_at(*e, "payload");
        return p ? json_text(*p) : "null";
    }

    /// The next event named `name` ("call", "close", "open", "strict_violation", "raw_message",
    /// "log") as JSON text, e.g. {"event":"close","code":1000,"reason":""}; nullopt if none
    /// arrives within `timeout` (0: only those already received).
    std::optional<std::string> wait_event(std::string_view name,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        auto e = take_event([&](const rapidjson::Value& v) { return is(v, "event", name); }, now() + timeout);
        return e ? std::optional<std::string>(json_text(*e)) : std::nullopt;
    }

    /// Closes the connection: a close frame with `code`, or with `force` a dropped TCP connection
    /// (no close frame; the server sees an abnormal closure). The "close" event is consumed.
    CloseOutcome close(bool force = false, int code = 1000, std::string_view reason = "") {
        json::Writer w;
        begin(w, "close").field("force", force).field("code", code).field("reason", reason);
        const auto a = request(w, std::chrono::seconds(10));
        expect_ok(a, "close");
        take_event([](const rapidjson::Value& e) { return is(e, "event", "close"); }, now());
        CloseOutcome out;
        if (const auto* c = json_at(a, "code"); c && c->IsInt())
            out.code = c->GetInt();
        out.reason = str(a, "reason");
        return out;
    }

    /// The child process (to kill it abruptly, check it runs).
    Process& process() { return child_.process(); }

private:
    using Clock = std::chrono::steady_clock;
    static Clock::time_point now() { return Clock::now(); }

    static std::vector<std::string> command() {
        const std::string root = PILEHUB_SOURCE_DIR;
        if (!std::filesystem::exists(root + "/node_modules/ocpp-rpc/package.json"))
            throw std::runtime_error("OcppPeer: " + root +
                                     "/node_modules/ocpp-rpc is missing: run scripts/install-deps");
        return {"node", root + "/tests/ocpp/charge_point.mjs"};
    }

    static bool is(const rapidjson::Value& v, const char* key, std::string_view want) {
        const auto* s = json_at(v, key);
        return s && s->IsString() && std::string_view(s->GetString(), s->GetStringLength()) == want;
    }
    static bool is_ok(const rapidjson::Value& a) {
        const auto* ok = json_at(a, "ok");
        return ok && ok->IsBool() && ok->GetBool();
    }
    static std::string str(const rapidjson::Value& v, const std::string& path) {
        const auto* s = json_at(v, path);
        return s && s->IsString() ? std::string(s->GetString(), s->GetStringLength()) : std::string();
    }
    void expect_ok(const rapidjson::Document& a, const char* op) {
        if (!is_ok(a))
            throw std::runtime_error(std::string("OcppPeer: ") + op + " failed: " + json_text(a) + child_.why());
    }

    rapidjson::Document parse_arg(std::string_view text) {
        auto doc = json::parse(text);
        if (!doc)
            throw std::invalid_argument("OcppPeer: not JSON (" + doc.error() + "): " + std::string(text));
        return std::move(doc).value();
    }

    json::Writer& begin(json::Writer& w, const char* op) {
        return w.begin_object().field("op", op).field("tag", ++last_tag_);
    }

    /// Sends the request begun with begin() and waits for the answer with its tag.
    rapidjson::Document request(json::Writer& w, std::chrono::milliseconds timeout) {
        const auto tag = last_tag_;
        child_.send(w.end_object().str());
        const auto deadline = now() + timeout;
        for (;;) {
            if (auto it = answers_.find(tag); it != answers_.end()) {
                auto a = std::move(it->second);
                answers_.erase(it);
                return a;
            }
            if (!pump(deadline))
                throw std::runtime_error("OcppPeer: no answer to request " + std::to_string(tag) +
                                         (child_.eof() ? " (charge_point.mjs exited)" : " in time") + child_.why());
        }
    }

    /// Reads one line of the child into answers_ or events_; false at the deadline or EOF.
    bool pump(Clock::time_point deadline) {
        auto line = child_.read_line(deadline);
        if (!line)
            return false;
        auto doc = json::parse(*line);
        if (!doc) {
            rapidjson::Document e(rapidjson::kObjectType);
            e.AddMember("event", "unparsed", e.GetAllocator());
            e.AddMember("text", rapidjson::Value(line->c_str(), e.GetAllocator()), e.GetAllocator());
            events_.push_back(std::move(e));
            return true;
        }
        if (const auto* t = json_at(*doc, "tag"); t && t->IsInt64())
            answers_.emplace(t->GetInt64(), std::move(doc).value());
        else
            events_.push_back(std::move(doc).value());
        return true;
    }

    /// The oldest queued event `match` accepts (removed from the queue), reading more until
    /// `deadline`; at least what has already arrived is always looked at.
    template <typename Match> std::optional<rapidjson::Document> take_event(Match match, Clock::time_point deadline) {
        std::size_t seen = 0;
        for (;;) {
            for (; seen < events_.size(); ++seen)
                if (match(events_[seen])) {
                    auto e = std::move(events_[seen]);
                    events_.erase(events_.begin() + static_cast<std::ptrdiff_t>(seen));
                    return e;
                }
            if (!pump(deadline))
                return std::nullopt;
        }
    }

    LineChild child_;
    std::int64_t last_tag_ = 0;
    std::map<std::int64_t, rapidjson::Document> answers_;
    std::deque<rapidjson::Document> events_;
};

} // namespace pilehub::test
