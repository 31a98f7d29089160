#include "web-api/openapi.hpp"
#include "web-api/openapi_schemas.hpp"

#include <fmt/format.h>

#include <map>
#include <set>
#include <stdexcept>

namespace pilehub::api {
namespace {

const char* type_name(FieldType t) {
    switch (t) {
    case FieldType::String:
        return "string";
    case FieldType::Integer:
        return "integer";
    case FieldType::Number:
        return "number";
    case FieldType::Boolean:
        return "boolean";
    case FieldType::Object:
        return "object";
    case FieldType::Array:
        return "array";
    }
    return "string";
}

void write_schema(json::Writer& w, const FieldSpec& f) {
    w.begin_object().field("type", type_name(f.type));
    if (f.type == FieldType::Integer) {
        w.field("format", "int64");
        if (f.min)
            w.field("minimum", *f.min);
        if (f.max)
            w.field("maximum", *f.max);
    } else if (f.type == FieldType::String) {
        if (f.min)
            w.field("minLength", *f.min);
        if (f.max)
            w.field("maxLength", *f.max);
        if (!f.one_of.empty()) {
            w.key("enum").begin_array();
            for (const auto& s : f.one_of)
                w.value(s);
            w.end_array();
        }
    } else if (f.type == FieldType::Number) {
        if (f.num_min)
            w.field("minimum", *f.num_min);
        if (f.num_max)
            w.field("maximum", *f.num_max);
    } else if (f.type == FieldType::Array) {
        w.key("items").begin_object().end_object();
    }
    if (!f.doc.empty())
        w.field("description", f.doc);
    w.end_object();
}

void write_param(json::Writer& w, const FieldSpec& f, const char* in) {
    w.begin_object()
        .field("name", f.name)
        .field("in", in)
        .field("required", std::string_view(in) == "path" || f.required);
    if (!f.doc.empty())
        w.field("description", f.doc);
    w.key("schema");
    if (std::string_view(in) == "path") {
        FieldSpec s = f;
        w.begin_object()
            .field("type", type_name(f.type))
            .field("pattern", "^" + param_pattern(s).substr(1, param_pattern(s).size() - 2) + "$")
            .end_object();
    } else {
        write_schema(w, f);
    }
    w.end_object();
}

const char* status_text(int s) {
    switch (s) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    default:
        return "Success";
    }
}

/// What each tag's routes are (redocly's tag-description); a tag not listed here fails the contract check's lint.
const std::map<std::string, std::string>& tag_descriptions() {
    static const std::map<std::string, std::string> kTags{
        {"system", "The OpenAPI document and liveness."},
        {"auth", "Rider login: SMS code, WeChat and Alipay mini-programs; logout."},
        {"rider", "The rider's mini-program: profile, stations, sockets, sessions, wallet, payments, IC cards."},
        {"rider-parking", "The rider's plates, parking spaces, reservations and parking orders."},
        {"rider-service", "The rider's fault reports."},
        {"payments", "Payment providers' notifications and the development sandbox."},
        {"ota", "Firmware downloads by devices (with a rollout's token)."},
        {"admin-auth", "Operator login, logout, own profile and password."},
        {"admin-access", "Staff accounts, roles, permissions and the audit log."},
        {"admin-hierarchy", "Providers, properties, stations and areas."},
        {"admin-devices", "Devices, models, ports, commands and the command log."},
        {"admin-parking", "Parking spaces, locks, captures, decisions, whitelist, plates, reservations, orders."},
        {"admin-cards", "IC cards: issue, bind, replace, report lost."},
        {"admin-tariffs", "Tariffs, tariff schemes and quotes."},
        {"admin-users", "Riders, wallets, the ledger and recharge packages."},
        {"admin-money", "Payments, refunds and reconciliation."},
        {"admin-sessions", "Charging sessions: list, stop, refund."},
        {"admin-reports", "The dashboard, reports and exports (CSV, XLSX)."},
        {"admin-service", "Fault reports, service calls and repairs."},
        {"admin-monitor", "Alerts and monitoring."},
        {"admin-ota", "Firmware images and rollouts."},
    };
    return kTags;
}

} // namespace

std::string openapi_document(const std::vector<Route>& routes, const std::string& version) {
    json::Writer w;
    w.begin_object().field("openapi", "3.0.3");
    w.key("info").begin_object();
    w.field("title", "PileHub API").field("version", version);
    w.key("license").begin_object().field("name", "Proprietary (UNLICENSED)").end_object();
    w.field("description", "Rider mini-program (CONTRACT B) and operator console (CONTRACT C) API. Errors are "
                           "{\"error\":{\"code\",\"message\"}} with stable codes; times RFC 3339; money integer fen.");
    w.end_object();
    w.key("servers").begin_array().begin_object().field("url", "/").end_object().end_array();

    std::map<std::string, std::vector<const Route*>> by_path;
    std::set<std::string> tags;
    for (const auto& r : routes) {
        by_path[r.path].push_back(&r);
        tags.insert(r.tag);
    }
    w.key("tags").begin_array();
    for (const auto& t : tags) {
        w.begin_object().field("name", t);
        if (auto d = tag_descriptions().find(t); d != tag_descriptions().end())
            w.field("description", d->second);
        w.end_object();
    }
    w.end_array();

    w.key("paths").begin_object();
    for (const auto& [path, list] : by_path) {
        w.key(path).begin_object();
        for (const Route* r : list) {
            std::string m(to_string(r->method));
            for (auto& c : m)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            w.key(m).begin_object();
            w.field("operationId", r->operation_id).field("summary", r->summary);
            w.key("tags").begin_array().value(r->tag).end_array();
            if (r->access == Access::Public) {
                w.key("security").begin_array().end_array();
            } else {
                w.key("security").begin_array().begin_object();
                w.key(r->access == Access::Rider ? "riderToken" : "adminToken").begin_array().end_array();
                w.end_object().end_array();
            }
            w.field("x-access", r->access == Access::Public  ? "public"
                                : r->access == Access::Rider ? "rider"
                                                             : "admin");
            if (!r->permission.empty())
                w.field("x-permission", r->permission);
            if (r->money)
                w.field("x-moves-money", true);
            if (!r->path_params.empty() || !r->query.empty() || r->money) {
                w.key("parameters").begin_array();
                for (const auto& p : r->path_params)
                    write_param(w, p, "path");
                for (const auto& q : r->query)
                    write_param(w, q, "query");
                if (r->money) // CONTRACT F.3: the same key again answers the first answer
                    write_param(w,
                                str(kIdempotencyHeader, true, 64,
                                    "Required: the same key again (same request) "
                                    "answers the first answer and changes nothing."),
                                "header");
                w.end_array();
            }
            if (!r->body.empty() || r->body_open) {
                bool required = r->body_open;
                for (const auto& f : r->body)
                    required = required || f.required;
                w.key("requestBody").begin_object().field("required", required);
                w.key("content").begin_object().key("application/json").begin_object().key("schema").begin_object();
                w.field("type", "object").field("additionalProperties", r->body_open);
                w.key("properties").begin_object();
                for (const auto& f : r->body) {
                    w.key(f.name);
                    write_schema(w, f);
                }
                w.end_object();
                std::vector<std::string> req;
                for (const auto& f : r->body)
                    if (f.required)
                        req.push_back(f.name);
                if (!req.empty()) {
                    w.key("required").begin_array();
                    for (const auto& n : req)
                        w.value(n);
                    w.end_array();
                }
                w.end_object().end_object().end_object().end_object();
            } else if (r->raw_body_max) {
                w.key("requestBody").begin_object().field("required", true);
                w.key("content").begin_object().key("application/octet-stream").begin_object().key("schema");
                w.begin_object().field("type", "string").field("format", "binary");
                w.field("maxLength", static_cast<std::int64_t>(*r->raw_body_max));
                w.end_object().end_object().end_object().end_object();
            }
            // Responses: success, then every error status with the codes it may carry.
            std::map<int, std::set<std::string>> errors;
            auto add = [&](ErrorCode c) { errors[http_status(c)].insert(std::string(to_string(c))); };
            add(ErrorCode::Internal);
            // Every route: a malformed request (a request line or URI the server cannot read) is 400.
            add(ErrorCode::InvalidRequest);
            // A path parameter outside its pattern matches no route: 404 not_found.
            if (!r->path_params.empty())
                add(ErrorCode::NotFound);
            // A body over the server's bound (or the route's raw bound): 413 invalid_request.
            if (!r->body.empty() || r->body_open || r->raw_body_max)
                errors[413].insert(std::string(to_string(ErrorCode::InvalidRequest)));
            if (r->access != Access::Public) {
                add(ErrorCode::Unauthorized);
                add(ErrorCode::Forbidden);
            }
            for (auto c : r->errors)
                add(c);
            w.key("responses").begin_object();
            std::vector<std::pair<int, std::string>> answers{{r->success_status, r->answer}};
            answers.insert(answers.end(), r->other_answers.begin(), r->other_answers.end());
            for (const auto& [status, description] : answers) {
                w.key(std::to_string(status))
                    .begin_object()
                    .field("description", description.empty() ? std::string(status_text(status)) : description);
                w.key("content").begin_object().key(r->produces).begin_object();
                if (r->produces == "application/json" && !r->response_schema.empty()) {
                    // A declared schema that is not JSON is a programming error: the document test fails on it.
                    auto doc = json::parse(r->response_schema, 1024 * 1024);
                    if (!doc)
                        throw std::logic_error(
                            fmt::format("{}: its response schema is not JSON: {}", r->operation_id, doc.error()));
                    w.key("schema").raw_value(*doc);
                } else if (r->produces == "application/json")
                    w.key("schema").begin_object().field("type", "object").end_object();
                else
                    w.key("schema").begin_object().field("type", "string").field("format", "binary").end_object();
                w.end_object().end_object().end_object();
            }
            for (const auto& [status, codes] : errors) {
                std::string words;
                for (const auto& c : codes)
                    words += (words.empty() ? "" : ", ") + c;
                w.key(std::to_string(status)).begin_object().field("description", "error codes: " + words);
                w.key("x-error-codes").begin_array();
                for (const auto& c : codes)
                    w.value(c);
                w.end_array();
                w.key("content").begin_object().key("application/json").begin_object().key("schema").begin_object();
                w.field("$ref", "#/components/schemas/Error").end_object().end_object().end_object();
                w.end_object();
            }
            w.end_object();
            w.end_object();
        }
        w.end_object();
    }
    w.end_object();

    w.key("components").begin_object();
    w.key("securitySchemes").begin_object();
    w.key("riderToken")
        .begin_object()
        .field("type", "http")
        .field("scheme", "bearer")
        .field("description", "POST /api/v1/auth/login")
        .end_object();
    w.key("adminToken")
        .begin_object()
        .field("type", "http")
        .field("scheme", "bearer")
        .field("description", "POST /api/v1/admin/login")
        .end_object();
    w.end_object();
    w.key("schemas").begin_object();
    for (const auto& named : schemas::components()) {
        auto doc = json::parse(named.json, 1024 * 1024);
        if (!doc)
            throw std::logic_error(fmt::format("schema {} is not JSON: {}", named.name, doc.error()));
        w.key(named.name).raw_value(*doc);
    }
    w.key("Error").begin_object().field("type", "object");
    w.key("required").begin_array().value("error").end_array();
    w.key("properties").begin_object().key("error").begin_object().field("type", "object");
    w.key("required").begin_array().value("code").value("message").end_array();
    w.key("properties").begin_object();
    w.key("code").begin_object().field("type", "string").key("enum").begin_array();
    for (auto c : all_error_codes())
        w.value(to_string(c));
    w.end_array().end_object();
    w.key("message").begin_object().field("type", "string").end_object();
    w.end_object().end_object().end_object().end_object().end_object();
    w.end_object();
    w.end_object();
    return w.str();
}

} // namespace pilehub::api
