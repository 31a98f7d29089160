#include "web-api/http.hpp"

#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/tariff.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <regex>

namespace pilehub::api {

std::string_view to_string(Method m) {
    switch (m) {
    case Method::Get:
        return "GET";
    case Method::Post:
        return "POST";
    case Method::Put:
        return "PUT";
    case Method::Delete:
        return "DELETE";
    }
    return "GET";
}

namespace {
FieldSpec make_field(std::string name, FieldType type, bool required, std::string doc) {
    FieldSpec f;
    f.name = std::move(name);
    f.type = type;
    f.required = required;
    f.doc = std::move(doc);
    return f;
}
} // namespace

FieldSpec str(std::string name, bool required, std::int64_t max_len, std::string doc) {
    FieldSpec f = make_field(std::move(name), FieldType::String, required, std::move(doc));
    f.max = max_len;
    return f;
}
FieldSpec str_enum(std::string name, bool required, std::vector<std::string> words, std::string doc) {
    FieldSpec f = make_field(std::move(name), FieldType::String, required, std::move(doc));
    f.max = 64;
    f.one_of = std::move(words);
    return f;
}
FieldSpec integer(std::string name, bool required, std::int64_t min, std::int64_t max, std::string doc) {
    FieldSpec f = make_field(std::move(name), FieldType::Integer, required, std::move(doc));
    f.min = min;
    f.max = max;
    return f;
}
FieldSpec number(std::string name, bool required, double min, double max, std::string doc) {
    FieldSpec f = make_field(std::move(name), FieldType::Number, required, std::move(doc));
    f.num_min = min;
    f.num_max = max;
    return f;
}
FieldSpec boolean(std::string name, bool required, std::string doc) {
    return make_field(std::move(name), FieldType::Boolean, required, std::move(doc));
}
FieldSpec object(std::string name, bool required, std::string doc) {
    return make_field(std::move(name), FieldType::Object, required, std::move(doc));
}
FieldSpec array(std::string name, bool required, std::string doc) {
    return make_field(std::move(name), FieldType::Array, required, std::move(doc));
}

Route Route::make(Method m, std::string path, std::string operation_id, std::string tag, std::string summary) {
    Route r;
    r.method = m;
    r.path = std::move(path);
    r.operation_id = std::move(operation_id);
    r.tag = std::move(tag);
    r.summary = std::move(summary);
    return r;
}

FieldSpec id_param(std::string name, std::string doc) {
    FieldSpec f = make_field(std::move(name), FieldType::Integer, true, std::move(doc));
    f.min = 1;
    f.max = INT64_MAX;
    return f;
}

FieldSpec key_param(std::string name, std::string doc) {
    FieldSpec f = make_field(std::move(name), FieldType::String, true, std::move(doc));
    f.min = 1;
    f.max = 64;
    return f;
}

FieldSpec text_param(std::string name, std::int64_t max_len, std::string doc) {
    FieldSpec f = key_param(std::move(name), std::move(doc));
    f.max = max_len;
    f.any_text = true;
    return f;
}

void fail(ErrorCode code, std::string message) {
    throw ApiError(code, std::move(message));
}

std::string error_body(ErrorCode code, std::string_view message) {
    json::Writer w;
    w.begin_object().key("error").begin_object();
    w.field("code", to_string(code)).field("message", message);
    w.end_object().end_object();
    return w.str();
}

std::string rfc3339(EpochMs t, std::int32_t utc_offset_s) {
    return billing::format_rfc3339(t, utc_offset_s);
}

Response Response::file(std::string body, std::string content_type, std::string filename) {
    Response r{200, std::move(body), std::move(content_type), {}};
    if (!filename.empty())
        r.headers.emplace_back("Content-Disposition", fmt::format("attachment; filename=\"{}\"", filename));
    return r;
}

// ---- Request ------------------------------------------------------------------------------------

Request::Request(const httplib::Request& raw, std::map<std::string, std::string> path_params, std::string client_ip)
    : ip(std::move(client_ip)), raw_(raw), params_(std::move(path_params)) {
    path = raw.path;
}

Request::~Request() = default;

const std::string& Request::param(const std::string& name) const {
    static const std::string kEmpty;
    auto it = params_.find(name);
    return it == params_.end() ? kEmpty : it->second;
}

std::int64_t Request::param_int(const std::string& name) const {
    std::int64_t v = 0;
    const auto& s = param(name);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size())
        fail(ErrorCode::InvalidRequest, fmt::format("{} must be an integer", name));
    return v;
}

std::optional<std::string> Request::query(const std::string& name) const {
    if (!raw_.has_param(name.c_str()))
        return std::nullopt;
    return raw_.get_param_value(name.c_str());
}

std::optional<std::int64_t> Request::query_int(const std::string& name) const {
    auto s = query(name);
    if (!s || s->empty())
        return std::nullopt;
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
    if (ec != std::errc() || p != s->data() + s->size())
        fail(ErrorCode::InvalidRequest, fmt::format("{} must be an integer", name));
    return v;
}

std::optional<double> Request::query_num(const std::string& name) const {
    auto s = query(name);
    if (!s || s->empty())
        return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(s->c_str(), &end);
    if (end != s->c_str() + s->size() || !std::isfinite(v))
        fail(ErrorCode::InvalidRequest, fmt::format("{} must be a number", name));
    return v;
}

std::optional<bool> Request::query_bool(const std::string& name) const {
    auto s = query(name);
    if (!s || s->empty())
        return std::nullopt;
    if (*s == "true" || *s == "1")
        return true;
    if (*s == "false" || *s == "0")
        return false;
    fail(ErrorCode::InvalidRequest, fmt::format("{} must be true or false", name));
}

std::optional<std::string> Request::header(const std::string& name) const {
    if (!raw_.has_header(name.c_str()))
        return std::nullopt;
    return raw_.get_header_value(name.c_str());
}

json::Object Request::body() {
    if (!doc_)
        fail(ErrorCode::InvalidRequest, "a JSON object body is required");
    return json::Object(doc_.get(), "", &body_err_);
}

const std::string& Request::body_text() const {
    return raw_.body;
}

void Request::check_body() const {
    if (!body_err_.empty())
        fail(ErrorCode::InvalidRequest, body_err_);
}

std::optional<std::string> idempotency_key(const Request& req) {
    auto h = req.header(kIdempotencyHeader);
    if (!h)
        return std::nullopt;
    if (h->empty() || h->size() > 64)
        fail(ErrorCode::InvalidRequest, "Idempotency-Key must be 1..64 characters");
    for (char c : *h)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
            fail(ErrorCode::InvalidRequest, "Idempotency-Key must be [A-Za-z0-9_-]");
    return h;
}

std::string Request::target() const {
    std::string out;
    for (const auto& [k, v] : params_) {
        if (!out.empty())
            out += ",";
        out += k + "=" + v;
    }
    return out;
}

// ---- validation -------------------------------------------------------------------------------------

std::string param_pattern(const FieldSpec& p) {
    if (p.type == FieldType::Integer)
        return "([0-9]{1,18})";
    if (p.any_text)
        return fmt::format("([^/]{{1,{}}})", p.max.value_or(64));
    return "([A-Za-z0-9_.:-]{1,64})";
}

std::string route_regex(const Route& r) {
    static const std::regex kParam(R"(\{([A-Za-z_][A-Za-z0-9_]*)\})");
    std::string out;
    auto begin = std::sregex_iterator(r.path.begin(), r.path.end(), kParam);
    std::size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
        const auto& m = *it;
        // Literal parts of our templates are [a-z0-9/_-.]; escape the dot.
        for (char c : r.path.substr(last, static_cast<std::size_t>(m.position()) - last)) {
            if (c == '.')
                out += "\\.";
            else
                out += c;
        }
        const auto name = m[1].str();
        const FieldSpec* spec = nullptr;
        for (const auto& p : r.path_params)
            if (p.name == name)
                spec = &p;
        out += spec ? param_pattern(*spec) : "([A-Za-z0-9_.:-]{1,64})";
        last = static_cast<std::size_t>(m.position() + m.length());
    }
    for (char c : r.path.substr(last)) {
        if (c == '.')
            out += "\\.";
        else
            out += c;
    }
    return out;
}

std::optional<std::string> check_value(const FieldSpec& spec, const std::string& value) {
    switch (spec.type) {
    case FieldType::Integer: {
        std::int64_t v = 0;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (value.empty() || ec != std::errc() || p != value.data() + value.size())
            return fmt::format("{} must be an integer", spec.name);
        if ((spec.min && v < *spec.min) || (spec.max && v > *spec.max))
            return fmt::format("{} must be within {}..{}", spec.name, spec.min.value_or(INT64_MIN),
                               spec.max.value_or(INT64_MAX));
        return std::nullopt;
    }
    case FieldType::Number: {
        char* end = nullptr;
        const double v = std::strtod(value.c_str(), &end);
        if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(v))
            return fmt::format("{} must be a number", spec.name);
        if ((spec.num_min && v < *spec.num_min) || (spec.num_max && v > *spec.num_max))
            return fmt::format("{} must be within {}..{}", spec.name, spec.num_min.value_or(-1e308),
                               spec.num_max.value_or(1e308));
        return std::nullopt;
    }
    case FieldType::Boolean:
        if (value == "true" || value == "false" || value == "1" || value == "0")
            return std::nullopt;
        return fmt::format("{} must be true or false", spec.name);
    case FieldType::String:
        if (spec.max && static_cast<std::int64_t>(value.size()) > *spec.max)
            return fmt::format("{} is longer than {} bytes", spec.name, *spec.max);
        if (spec.min && static_cast<std::int64_t>(value.size()) < *spec.min)
            return fmt::format("{} is shorter than {} bytes", spec.name, *spec.min);
        if (!spec.one_of.empty()) {
            for (const auto& w : spec.one_of)
                if (w == value)
                    return std::nullopt;
            std::string words;
            for (const auto& w : spec.one_of)
                words += (words.empty() ? "" : ", ") + w;
            return fmt::format("{} must be one of {}", spec.name, words);
        }
        return std::nullopt;
    default:
        return fmt::format("{} cannot be given here", spec.name);
    }
}

namespace {

const char* json_type_name(FieldType t) {
    switch (t) {
    case FieldType::String:
        return "a string";
    case FieldType::Integer:
        return "an integer";
    case FieldType::Number:
        return "a number";
    case FieldType::Boolean:
        return "true or false";
    case FieldType::Object:
        return "an object";
    case FieldType::Array:
        return "an array";
    }
    return "a value";
}

/// Checks the top-level body fields against the route's list; the first problem, or nothing.
std::optional<std::string> check_body_fields(const Route& r, const rapidjson::Value& root) {
    for (const auto& f : r.body) {
        auto it = root.FindMember(rapidjson::StringRef(f.name.data(), static_cast<rapidjson::SizeType>(f.name.size())));
        if (it == root.MemberEnd() || it->value.IsNull()) {
            if (f.required)
                return fmt::format("{} is required", f.name);
            continue;
        }
        const auto& v = it->value;
        bool type_ok = false;
        switch (f.type) {
        case FieldType::String:
            type_ok = v.IsString();
            break;
        case FieldType::Integer:
            type_ok = v.IsInt64();
            break;
        case FieldType::Number:
            type_ok = v.IsNumber();
            break;
        case FieldType::Boolean:
            type_ok = v.IsBool();
            break;
        case FieldType::Object:
            type_ok = v.IsObject();
            break;
        case FieldType::Array:
            type_ok = v.IsArray();
            break;
        }
        if (!type_ok)
            return fmt::format("{} must be {}", f.name, json_type_name(f.type));
        if (f.type == FieldType::String) {
            if (auto e = check_value(f, std::string(v.GetString(), v.GetStringLength())))
                return e;
        } else if (f.type == FieldType::Integer) {
            const auto x = v.GetInt64();
            if ((f.min && x < *f.min) || (f.max && x > *f.max))
                return fmt::format("{} must be within {}..{}", f.name, f.min.value_or(INT64_MIN),
                                   f.max.value_or(INT64_MAX));
        } else if (f.type == FieldType::Number) {
            const auto x = v.GetDouble();
            if ((f.num_min && x < *f.num_min) || (f.num_max && x > *f.num_max))
                return fmt::format("{} must be within {}..{}", f.name, f.num_min.value_or(-1e308),
                                   f.num_max.value_or(1e308));
        }
    }
    if (root.MemberCount() > 256)
        return std::string("too many fields");
    // A key given twice is ambiguous (which one wins differs between parsers): refused.
    for (auto it = root.MemberBegin(); it != root.MemberEnd(); ++it)
        for (auto jt = std::next(it); jt != root.MemberEnd(); ++jt)
            if (it->name == jt->name)
                return std::string("a field is given twice");
    if (!r.body_open) {
        for (auto it = root.MemberBegin(); it != root.MemberEnd(); ++it) {
            const std::string_view k(it->name.GetString(), it->name.GetStringLength());
            bool known = false;
            for (const auto& f : r.body)
                known = known || f.name == k;
            if (!known) {
                std::string safe;
                for (char c : k.substr(0, 64))
                    safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '?';
                return fmt::format("unknown field `{}`", safe);
            }
        }
    }
    return std::nullopt;
}

thread_local std::int64_t t_started_ms = 0;
thread_local std::string t_who;
thread_local std::string t_client; // the client's address (client_address), for the access log

/// X-Forwarded-For as one list: every such header's value, joined by commas, in order.
std::string forwarded_for(const httplib::Request& raw) {
    std::string out;
    const auto n = raw.get_header_value_count("X-Forwarded-For");
    for (std::size_t i = 0; i < n; ++i) {
        if (!out.empty())
            out += ',';
        out += raw.get_header_value("X-Forwarded-For", i);
    }
    return out;
}

int status_for(ErrorCode c) {
    return http_status(c);
}

void write_error(httplib::Response& res, ErrorCode code, std::string_view message) {
    res.status = status_for(code);
    res.set_content(error_body(code, message), "application/json");
}

} // namespace

void Router::add(Route r) {
    if (r.access == Access::Admin && r.method != Method::Get)
        r.audit = true;
    // Path parameters in the order they appear in the template (the regex captures in that order);
    // a parameter without a spec gets the default key pattern.
    static const std::regex kParam(R"(\{([A-Za-z_][A-Za-z0-9_]*)\})");
    std::vector<FieldSpec> ordered;
    for (auto it = std::sregex_iterator(r.path.begin(), r.path.end(), kParam); it != std::sregex_iterator(); ++it) {
        const auto name = (*it)[1].str();
        auto spec = std::find_if(r.path_params.begin(), r.path_params.end(),
                                 [&](const FieldSpec& f) { return f.name == name; });
        ordered.push_back(spec != r.path_params.end() ? *spec : key_param(name, ""));
    }
    r.path_params = std::move(ordered);
    routes_.push_back(std::move(r));
}

Response Router::dispatch(const Route& route, const httplib::Request& raw, const std::string& ip) {
    std::map<std::string, std::string> params;
    for (std::size_t i = 0; i < route.path_params.size() && i + 1 < raw.matches.size(); ++i)
        params[route.path_params[i].name] = raw.matches[i + 1].str();
    Request req(raw, std::move(params), ip);
    req.method = route.method;
    if (raw.body.size() > route.raw_body_max.value_or(max_body_bytes_))
        return Response::json(error_body(ErrorCode::InvalidRequest, "the body is too large"), 413);
    try {
        if (route.access != Access::Public) {
            auto h = req.header("Authorization");
            if (!h || h->rfind("Bearer ", 0) != 0 || h->size() <= 7)
                fail(ErrorCode::Unauthorized, "an Authorization: Bearer <token> header is required");
            req.who = auth_(h->substr(7), route.access);
            t_who = req.who.kind == Access::Admin ? "admin:" + req.who.name : fmt::format("rider:{}", req.who.id);
            if (route.access == Access::Admin && !route.permission.empty() &&
                !req.who.permissions.count(route.permission))
                fail(ErrorCode::Forbidden, fmt::format("this needs the permission {}", route.permission));
        }
        for (const auto& p : route.path_params)
            if (auto e = check_value(p, req.param(p.name)))
                fail(ErrorCode::InvalidRequest, *e);
        for (const auto& q : route.query) {
            auto v = req.query(q.name);
            if (!v) {
                if (q.required)
                    fail(ErrorCode::InvalidRequest, fmt::format("query parameter {} is required", q.name));
                continue;
            }
            if (auto e = check_value(q, *v))
                fail(ErrorCode::InvalidRequest, *e);
        }
        const bool wants_body = !route.body.empty() || route.body_open;
        if (wants_body) {
            const bool empty = raw.body.find_first_not_of(" \t\r\n") == std::string::npos;
            bool required = route.body_open;
            for (const auto& f : route.body)
                required = required || f.required;
            if (empty && !required) {
                req.doc_ = std::make_unique<rapidjson::Document>();
                req.doc_->SetObject();
            } else {
                auto doc = json::parse(raw.body);
                if (!doc)
                    fail(ErrorCode::InvalidRequest, "the body is not valid JSON: " + doc.error());
                if (!doc->IsObject())
                    fail(ErrorCode::InvalidRequest, "the body must be a JSON object");
                if (auto e = check_body_fields(route, *doc))
                    fail(ErrorCode::InvalidRequest, *e);
                req.doc_ = std::make_unique<rapidjson::Document>(std::move(doc).value());
            }
        }
        // A money route: the key is required; the same key replays the first answer (nothing runs twice).
        std::optional<std::string> money_key;
        std::string request_hash;
        const std::string actor = "admin:" + req.who.name;
        if (route.money) {
            money_key = idempotency_key(req);
            if (!money_key)
                fail(ErrorCode::InvalidRequest,
                     "this route moves money: an Idempotency-Key header is required (1..64 of [A-Za-z0-9_-]; the "
                     "same key again answers the first result and changes nothing)");
            request_hash = crypto::sha256_hex(fmt::format("{} {}\n{}", to_string(route.method), raw.path, raw.body));
            if (idempotency_.find) {
                if (auto stored = idempotency_.find(actor, *money_key)) {
                    if (stored->operation != route.operation_id || stored->request_hash != request_hash)
                        fail(ErrorCode::Conflict, "this Idempotency-Key was used for another request");
                    auto replay = std::move(stored->response);
                    replay.headers.emplace_back("Idempotent-Replayed", "true");
                    return replay;
                }
            }
        }
        auto res = route.handler(req);
        if (money_key && idempotency_.save && res.status < 400) {
            try {
                idempotency_.save(actor, *money_key, StoredAnswer{route.operation_id, request_hash, res});
            } catch (const std::exception& e) {
                log::error("answer of {} for its Idempotency-Key not kept: {}", route.operation_id, e.what());
            }
        }
        if (route.audit && audit_ && res.status < 400) {
            try {
                audit_(req, route, res.status);
            } catch (const std::exception& e) {
                log::error("audit row for {} not written: {}", route.operation_id, e.what());
            }
        }
        return res;
    } catch (const ApiError& e) {
        return Response::json(error_body(e.code(), e.what()), status_for(e.code()));
    } catch (const db::Error& e) {
        if (e.is_constraint()) {
            log::warn("{} {}: constraint: {}", to_string(route.method), raw.path, e.what());
            return Response::json(error_body(ErrorCode::Conflict, "the change conflicts with existing data"),
                                  status_for(ErrorCode::Conflict));
        }
        log::error("{} {}: database: {}", to_string(route.method), raw.path, e.what());
    } catch (const std::exception& e) {
        log::error("{} {}: unexpected: {}", to_string(route.method), raw.path, e.what());
    } catch (...) {
        log::error("{} {}: unexpected non-standard exception", to_string(route.method), raw.path);
    }
    return Response::json(error_body(ErrorCode::Internal, "internal error"), status_for(ErrorCode::Internal));
}

std::optional<Response> Router::dispatch_in_process(std::size_t index, httplib::Request& raw, const std::string& ip) {
    const auto& route = routes_.at(index);
    if (!std::regex_match(raw.path, raw.matches, std::regex(route_regex(route))))
        return std::nullopt;
    try {
        return dispatch(route, raw, ip);
    } catch (...) { // what the server's route lambda does
        return Response::json(error_body(ErrorCode::Internal, "internal error"), 500);
    }
}

void Router::install(httplib::Server& server, const ServerOptions& o) {
    server.set_tcp_nodelay(true);
    // The server reads bodies up to the largest bound of any route; a request declaring more than
    // the common bound is refused before its body is read unless its path is one of the larger routes.
    max_body_bytes_ = o.max_body_bytes;
    std::size_t largest = o.max_body_bytes;
    std::vector<std::regex> large;
    for (const auto& route : routes_)
        if (route.raw_body_max && *route.raw_body_max > o.max_body_bytes) {
            largest = std::max(largest, *route.raw_body_max);
            large.emplace_back(route_regex(route));
        }
    server.set_payload_max_length(largest);
    server.set_read_timeout(o.read_timeout_s, 0);
    server.set_write_timeout(o.write_timeout_s, 0);
    server.set_keep_alive_max_count(o.keep_alive_max);
    server.set_keep_alive_timeout(5);
    const auto threads = o.threads;
    server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };

    const auto trusted = o.trusted_proxies;
    const auto common_max = o.max_body_bytes;
    server.set_pre_routing_handler([trusted, common_max, large](const httplib::Request& raw, httplib::Response& res) {
        t_started_ms = monotonic_ms();
        t_who.clear();
        t_client = client_address(raw.remote_addr, forwarded_for(raw), trusted);
        if (!large.empty() && raw.has_header("Content-Length")) {
            const auto declared = raw.get_header_value<std::uint64_t>("Content-Length");
            if (declared > common_max && std::none_of(large.begin(), large.end(), [&](const std::regex& re) {
                    return std::regex_match(raw.path, re);
                })) {
                write_error(res, ErrorCode::InvalidRequest, "the body is too large");
                res.status = 413;
                return httplib::Server::HandlerResponse::Handled;
            }
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
        // One line per request; the path without its query (which may carry phone numbers).
        std::string path = req.path.substr(0, 256);
        for (auto& c : path)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
                c = '?'; // no forged log lines
        log::info("access {} {} {} {}B {}ms {} {}", req.method, path, res.status, res.body.size(),
                  monotonic_ms() - t_started_ms, t_client.empty() ? req.remote_addr : t_client,
                  t_who.empty() ? std::string_view("-") : std::string_view(t_who));
    });
    server.set_error_handler(
        httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty())
                return httplib::Server::HandlerResponse::Unhandled; // our own error reply
            switch (res.status) {
            case 404:
                write_error(res, ErrorCode::NotFound, fmt::format("no route {} {}", req.method, req.path));
                break;
            case 413:
                write_error(res, ErrorCode::InvalidRequest, "the body is too large");
                res.status = 413;
                break;
            case 400:
            case 414:
            case 416:
                write_error(res, ErrorCode::InvalidRequest, "malformed request");
                res.status = 400;
                break;
            default:
                write_error(res, ErrorCode::Internal, "internal error");
                break;
            }
            return httplib::Server::HandlerResponse::Handled;
        }));
    server.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
        log::error("{} {}: exception escaped a handler", req.method, req.path);
        write_error(res, ErrorCode::Internal, "internal error");
    });

    if (o.site) {
        // The console, the H5 page and their files: `/`, `/console…`, `/h5…`, `/static/…`.
        server.Get(R"(/|/console(/.*)?|/h5(/.*)?|/static/.*)",
                   [site = o.site](const httplib::Request& raw, httplib::Response& res) {
                       auto r = site->get(raw.path, raw.get_header_value("If-None-Match"));
                       res.status = r.status;
                       for (const auto& [k, v] : r.headers)
                           res.set_header(k.c_str(), v);
                       if (r.status == 301)
                           res.set_header("Location", r.location);
                       if (r.status == 200)
                           res.set_content(std::move(r.body), r.content_type.c_str());
                       else if (r.status == 404)
                           res.set_content("not found\n", "text/plain; charset=utf-8");
                   });
    }

    for (const auto& route : routes_) {
        const auto re = route_regex(route);
        registered_.emplace_back(std::string(to_string(route.method)), re);
        const Route* rp = &route;
        auto h = [this, rp](const httplib::Request& raw, httplib::Response& res) {
            Response r;
            try {
                r = dispatch(*rp, raw, t_client.empty() ? raw.remote_addr : t_client);
            } catch (...) {
                r = Response::json(error_body(ErrorCode::Internal, "internal error"), 500);
            }
            res.status = r.status;
            for (const auto& [k, v] : r.headers)
                res.set_header(k.c_str(), v);
            res.set_header("Cache-Control", "no-store");
            res.set_content(std::move(r.body), r.content_type.c_str());
        };
        switch (route.method) {
        case Method::Get:
            server.Get(re, h);
            break;
        case Method::Post:
            server.Post(re, h);
            break;
        case Method::Put:
            server.Put(re, h);
            break;
        case Method::Delete:
            server.Delete(re, h);
            break;
        }
    }
}

} // namespace pilehub::api
