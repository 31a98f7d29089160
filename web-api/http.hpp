#pragma once
#include "common/error_codes.hpp"
#include "common/json.hpp"
#include "common/money.hpp"
#include "web-api/client_addr.hpp"
#include "web-api/static_site.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace httplib {
class Server;
struct Request;
} // namespace httplib

/// The API's small HTTP layer: a declarative route table (method, path template, access,
/// permission, parameters, body fields, error codes) from which both the server's registrations
/// and the OpenAPI document are generated; validation, the one error shape, the access log.
/// Only http.cpp includes cpp-httplib.
namespace pilehub::api {

/// HTTP methods the API uses.
enum class Method { Get, Post, Put, Delete };
/// "GET", "POST", ...
std::string_view to_string(Method m);

/// Who may call a route.
enum class Access {
    Public, ///< anyone (login, SMS codes, the OpenAPI document)
    Rider,  ///< a rider's bearer token
    Admin   ///< an operator's bearer token and the route's permission
};

/// JSON / parameter types, as OpenAPI names them.
enum class FieldType { String, Integer, Number, Boolean, Object, Array };

/// One path or query parameter, or one top-level body field: documented and validated from the
/// same description.
struct FieldSpec {
    std::string name;
    FieldType type = FieldType::String;
    bool required = false;
    std::string doc;
    std::optional<std::int64_t> min; ///< integers: lowest value; strings: shortest length
    std::optional<std::int64_t> max; ///< integers: highest value; strings: longest length
    std::vector<std::string> one_of; ///< strings: the allowed words
    std::optional<double> num_min;   ///< numbers (coordinates): bounds
    std::optional<double> num_max;
    bool any_text = false; ///< path parameters: any text but `/` (a plate: `京A12345`), up to `max` bytes
};

/// Builders for FieldSpec, so route tables read as one line per field.
FieldSpec str(std::string name, bool required, std::int64_t max_len, std::string doc);
FieldSpec str_enum(std::string name, bool required, std::vector<std::string> words, std::string doc);
FieldSpec integer(std::string name, bool required, std::int64_t min, std::int64_t max, std::string doc);
FieldSpec number(std::string name, bool required, double min, double max, std::string doc);
FieldSpec boolean(std::string name, bool required, std::string doc);
FieldSpec object(std::string name, bool required, std::string doc);
FieldSpec array(std::string name, bool required, std::string doc);

/// An error a handler refuses with: a stable code from common/error_codes.hpp and a message for
/// people. Thrown inside handlers and caught by the router (it never leaves a callback).
class ApiError : public std::runtime_error {
public:
    ApiError(ErrorCode code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}
    ErrorCode code() const { return code_; }

private:
    ErrorCode code_;
};

/// Refuses the request: throws ApiError.
[[noreturn]] void fail(ErrorCode code, std::string message);

/// The body of an error reply: `{"error":{"code":"...","message":"..."}}`.
std::string error_body(ErrorCode code, std::string_view message);

/// Who is calling, once authenticated.
struct Principal {
    Access kind = Access::Public;
    std::int64_t id = 0; ///< accounts.id for riders, admins.id for operators
    std::string name;    ///< phone for riders, user name for operators
    std::string role;    ///< operators: their role
    std::set<std::string> permissions;
    bool all_stations = false;          ///< operators: unscoped
    std::set<std::int64_t> station_ids; ///< operators: the stations in scope (when scoped)
    std::string token_hash;             ///< the token used (logout revokes it)
    /// Whether a station is visible to this operator.
    bool sees_station(std::int64_t station_id) const { return all_stations || station_ids.count(station_id) > 0; }
};

/// A validated request as a handler sees it.
class Request {
public:
    Request(const httplib::Request& raw, std::map<std::string, std::string> path_params, std::string ip);
    ~Request();
    Request(const Request&) = delete;
    Request& operator=(const Request&) = delete;

    Method method = Method::Get;
    std::string path;
    std::string ip;
    Principal who;

    /// A path parameter (validated by the route's pattern).
    const std::string& param(const std::string& name) const;
    /// A path parameter declared as an integer.
    std::int64_t param_int(const std::string& name) const;
    /// A query parameter, if given (already checked against the route's FieldSpec).
    std::optional<std::string> query(const std::string& name) const;
    std::optional<std::int64_t> query_int(const std::string& name) const;
    std::optional<double> query_num(const std::string& name) const;
    std::optional<bool> query_bool(const std::string& name) const;
    /// A request header, if present.
    std::optional<std::string> header(const std::string& name) const;
    /// The JSON body's root object (already checked against the route's body fields); an
    /// object reader whose failures raise invalid_request through check_body().
    json::Object body();
    /// The raw body text.
    const std::string& body_text() const;
    /// The parsed JSON document (null when the route has no body).
    const rapidjson::Document* document() const { return doc_.get(); }
    /// Throws invalid_request if any body read so far failed (json::Object keeps the first error).
    void check_body() const;
    /// Path parameters as "name=value,..." (for the audit log).
    std::string target() const;

private:
    friend class Router;
    const httplib::Request& raw_;
    std::map<std::string, std::string> params_;
    std::unique_ptr<rapidjson::Document> doc_;
    mutable std::string body_err_;
};

/// What a handler answers.
struct Response {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    /// A JSON reply.
    static Response json(std::string body, int status = 200) {
        return Response{status, std::move(body), "application/json", {}};
    }
    /// Any other content (CSV, XLSX, PNG, SVG), optionally as a download with a file name.
    static Response file(std::string body, std::string content_type, std::string filename = {});
};

using Handler = std::function<Response(Request&)>;

/// One route: everything the server and the OpenAPI document need.
struct Route {
    Method method = Method::Get;
    std::string path; ///< template, e.g. `/api/v1/sessions/{id}`
    std::string operation_id;
    std::string tag;
    std::string summary;
    Access access = Access::Public;
    std::string permission; ///< Admin routes: the permission required (empty: any operator)
    std::vector<FieldSpec> path_params;
    std::vector<FieldSpec> query;
    std::vector<FieldSpec> body;
    bool body_open = false; ///< the body may carry fields beyond `body` (free-form documents)
    int success_status = 200;
    std::string answer; ///< what the success answer holds (the OpenAPI response description); empty: the status text
    std::string produces = "application/json";
    /// The success body's JSON Schema (OpenAPI 3.0 dialect, a JSON text), written into the OpenAPI
    /// document; empty: `{"type":"object"}` (not yet declared).
    std::string response_schema;
    std::vector<ErrorCode> errors; ///< refusals besides the generic ones
    bool audit = false;            ///< write an audit row when it succeeds (set for admin writes)
    /// A money-moving operator route (CONTRACT F.3): an `Idempotency-Key` header is required, and the
    /// same key again (same operator, same request) replays the first successful answer.
    bool money = false;
    /// A raw (non-JSON) body bounded by this many bytes instead of the server's max_body_bytes (a
    /// firmware image); the handler reads it with Request::body_text().
    std::optional<std::size_t> raw_body_max;
    /// Statuses besides success_status whose body has the success body's shape (also_ok, also_answers),
    /// each with its OpenAPI description (empty: the status text).
    std::vector<std::pair<int, std::string>> other_answers;
    Handler handler;

    /// Starts a public route; the builder calls below fill in the rest.
    static Route make(Method m, std::string path, std::string operation_id, std::string tag, std::string summary);
    Route& rider() {
        access = Access::Rider;
        return *this;
    }
    /// An operator route needing `perm` (empty: any operator).
    Route& admin(std::string perm) {
        access = Access::Admin;
        permission = std::move(perm);
        return *this;
    }
    Route& param(FieldSpec f) {
        path_params.push_back(std::move(f));
        return *this;
    }
    Route& q(FieldSpec f) {
        query.push_back(std::move(f));
        return *this;
    }
    Route& field(FieldSpec f) {
        body.push_back(std::move(f));
        return *this;
    }
    Route& open() {
        body_open = true;
        return *this;
    }
    Route& ok(int status) {
        success_status = status;
        return *this;
    }
    /// Declares a further success status answered with the same body (me.plates.add: 200 for a plate
    /// the rider holds already, 201 for a new one); see `other_answers`.
    Route& also_ok(int status) {
        other_answers.emplace_back(status, std::string());
        return *this;
    }
    /// Describes the success answer's members (e.g. which appear for which kind of request).
    Route& answers(std::string doc) {
        answer = std::move(doc);
        return *this;
    }
    /// Declares the success body's JSON Schema (see `response_schema`).
    Route& returns(std::string schema_json) {
        response_schema = std::move(schema_json);
        return *this;
    }
    Route& produce(std::string type) {
        produces = std::move(type);
        return *this;
    }
    /// Marks a money-moving operator route (see `money`).
    Route& moves_money() {
        money = true;
        return *this;
    }
    /// Takes a raw body of up to `max_bytes` (see `raw_body_max`).
    Route& raw_body(std::size_t max_bytes) {
        raw_body_max = max_bytes;
        return *this;
    }
    /// Declares another status that answers with the success body's schema (health's 503).
    Route& also_answers(int status, std::string doc) {
        other_answers.emplace_back(status, std::move(doc));
        return *this;
    }
    Route& refuses(std::vector<ErrorCode> codes) {
        errors.insert(errors.end(), codes.begin(), codes.end());
        return *this;
    }
    Route& handle(Handler h) {
        handler = std::move(h);
        return *this;
    }
};

/// A path parameter of any text but `/` (percent-encoded in the URL), at most `max_len` bytes.
FieldSpec text_param(std::string name, std::int64_t max_len, std::string doc);
/// A path parameter holding a numeric id.
FieldSpec id_param(std::string name = "id", std::string doc = "Numeric id.");
/// A path parameter holding a textual key (device id, session id, card number, socket code).
FieldSpec key_param(std::string name, std::string doc);

/// Pattern of a path parameter, by type: integers `[0-9]{1,18}`, other ids `[A-Za-z0-9_.:-]{1,64}`.
std::string param_pattern(const FieldSpec& p);
/// The regular expression a route template is registered with.
std::string route_regex(const Route& r);
/// Parses one query / path value against its spec; the error names the parameter.
std::optional<std::string> check_value(const FieldSpec& spec, const std::string& value);

/// Authenticates a bearer token for a route's access level; throws ApiError (401/403).
using Authenticator = std::function<Principal(const std::string& token, Access needed)>;
/// Writes one audit row for a successful operator write.
using AuditSink = std::function<void(const Request& req, const Route& route, int status)>;

/// A money route's answer kept for its Idempotency-Key (CONTRACT F.3).
struct StoredAnswer {
    std::string operation;    ///< the route's operation id
    std::string request_hash; ///< SHA-256 of method, path and body
    Response response;
};
/// Where money routes' answers are kept: find() the one for (actor, key), save() a new one (the
/// first save for a key wins). Either may be empty (nothing is replayed; the ledger's own keys still
/// apply every change once).
struct IdempotencySink {
    std::function<std::optional<StoredAnswer>(const std::string& actor, const std::string& key)> find;
    std::function<void(const std::string& actor, const std::string& key, const StoredAnswer& answer)> save;
};

/// The header a money route requires, and its rule: 1..64 of [A-Za-z0-9_-].
inline constexpr const char* kIdempotencyHeader = "Idempotency-Key";
/// The Idempotency-Key of a request, checked: nothing when absent; throws invalid_request when it
/// is not 1..64 of [A-Za-z0-9_-].
std::optional<std::string> idempotency_key(const Request& req);

/// Server-wide settings of the HTTP layer.
struct ServerOptions {
    /// Peers whose X-Forwarded-For is believed (client_address): empty = none.
    TrustedProxies trusted_proxies;
    std::size_t max_body_bytes = 1 << 20;
    int read_timeout_s = 10;
    int write_timeout_s = 10;
    int keep_alive_max = 100;
    std::size_t threads = 32;
    /// The web UIs (CONTRACT H) served beside the API; none when null.
    std::shared_ptr<const StaticSite> site;
};

/// Registers routes with cpp-httplib and runs every request through the same steps: route
/// match, authentication, permission, parameter and body validation, the handler, the error
/// shape, one access-log line. No exception leaves a handler: anything unexpected becomes
/// `500 internal` with a log line.
class Router {
public:
    Router(Authenticator auth, AuditSink audit) : auth_(std::move(auth)), audit_(std::move(audit)) {}
    /// Where money routes' answers are kept (before install()).
    void set_idempotency(IdempotencySink sink) { idempotency_ = std::move(sink); }
    /// Adds a route (before install()).
    void add(Route r);
    /// Every route, in registration order (the OpenAPI document is generated from this list).
    const std::vector<Route>& routes() const { return routes_; }
    /// (method, regex) of every registration made with the server, in order.
    const std::vector<std::pair<std::string, std::string>>& registered() const { return registered_; }
    /// Configures `server` (nodelay, limits, time-outs, thread pool, handlers) and registers every route.
    void install(httplib::Server& server, const ServerOptions& options);
    /// Runs `raw` through routes()[index] exactly as the server would once that route matched (every
    /// step of dispatch), in process, without a server or a socket: for the HTTP fuzz target
    /// (tests/fuzz/). nullopt when `raw.path` does not match the route's pattern (the server's 404);
    /// sets `raw.matches`.
    std::optional<Response> dispatch_in_process(std::size_t index, httplib::Request& raw, const std::string& ip);

private:
    Response dispatch(const Route& route, const httplib::Request& raw, const std::string& ip);
    Authenticator auth_;
    AuditSink audit_;
    IdempotencySink idempotency_;
    std::size_t max_body_bytes_ = 1 << 20; ///< ServerOptions::max_body_bytes, for routes without raw_body_max
    std::vector<Route> routes_;
    std::vector<std::pair<std::string, std::string>> registered_;
};

/// Formats an epoch-ms time as RFC 3339 at a fixed UTC offset.
std::string rfc3339(EpochMs t, std::int32_t utc_offset_s);

} // namespace pilehub::api
