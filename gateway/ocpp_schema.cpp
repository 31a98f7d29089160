#include "gateway/ocpp_schema.hpp"

#include "common/json.hpp"
#include "common/tariff.hpp"
#include "gateway/ocpp_mapping.hpp"

#include <fmt/format.h>
#include <rapidjson/pointer.h>
#include <rapidjson/schema.h>

#include <array>
#include <cmath>
#include <map>
#include <memory>

namespace pilehub::ocpp {
namespace detail {
// Generated at build time by gateway/schemas/embed.cmake: gateway/schemas/ocpp1_6.json, verbatim.
std::string_view ocpp16_schemas_json();
} // namespace detail

namespace {

using rapidjson::Value;

/// One schema of the set: the vendored text's object (kept for format and multipleOf, which we check
/// ourselves) and, compiled from a copy without multipleOf, RapidJSON's validator for the rest.
struct Schema {
    std::string name; // "Authorize.req"
    rapidjson::Document source;
    rapidjson::Document stripped;
    std::unique_ptr<rapidjson::SchemaDocument> compiled;
};

struct ActionSchemas {
    Schema request;
    Schema response;
};

struct Catalogue {
    std::map<std::string, ActionSchemas, std::less<>> actions;
    std::vector<std::string> names;
};

const Value* member(const Value& v, std::string_view key) {
    if (!v.IsObject())
        return nullptr;
    const auto it = v.FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
    return it == v.MemberEnd() ? nullptr : &it->value;
}

std::string_view str(const Value& v) {
    return {v.GetString(), v.GetStringLength()};
}

// RapidJSON 1.1 checks multipleOf by floor division, so 0.3 is not a multiple of 0.1 there; the
// keyword goes (only where it is a keyword: not a property called so) and check_extras checks it.
void strip_multiple_of(Value& schema) {
    if (!schema.IsObject())
        return;
    schema.RemoveMember("multipleOf");
    for (const char* map : {"properties", "definitions"})
        if (auto it = schema.FindMember(map); it != schema.MemberEnd() && it->value.IsObject())
            for (auto& m : it->value.GetObject())
                strip_multiple_of(m.value);
    if (auto it = schema.FindMember("items"); it != schema.MemberEnd())
        strip_multiple_of(it->value);
    if (auto it = schema.FindMember("additionalProperties"); it != schema.MemberEnd())
        strip_multiple_of(it->value);
}

// "urn:Authorize.req" -> ("Authorize", true).
std::optional<std::pair<std::string, bool>> action_of(const Value& schema) {
    const Value* id = member(schema, "$id");
    if (!id || !id->IsString())
        return std::nullopt;
    std::string_view s = str(*id);
    constexpr std::string_view kUrn = "urn:", kReq = ".req", kConf = ".conf";
    if (!s.starts_with(kUrn))
        return std::nullopt;
    s.remove_prefix(kUrn.size());
    if (s.ends_with(kReq))
        return std::pair{std::string(s.substr(0, s.size() - kReq.size())), true};
    if (s.ends_with(kConf))
        return std::pair{std::string(s.substr(0, s.size() - kConf.size())), false};
    return std::nullopt;
}

// A broken embedded file is a broken build (the unit tests load every schema): the catalogue is then
// empty and every action is NotImplemented rather than anything throwing at a charger.
Catalogue load() {
    Catalogue c;
    const auto all = json::parse(detail::ocpp16_schemas_json(), 1024 * 1024);
    if (!all || !all->IsArray())
        return c;
    for (const auto& s : all->GetArray()) {
        const auto which = action_of(s);
        if (!which)
            continue;
        auto& pair = c.actions[which->first];
        Schema& out = which->second ? pair.request : pair.response;
        out.name = which->first + (which->second ? ".req" : ".conf");
        out.source.CopyFrom(s, out.source.GetAllocator());
        out.stripped.CopyFrom(s, out.stripped.GetAllocator());
        strip_multiple_of(out.stripped);
        out.compiled = std::make_unique<rapidjson::SchemaDocument>(out.stripped);
    }
    for (auto it = c.actions.begin(); it != c.actions.end();) {
        if (!it->second.request.compiled || !it->second.response.compiled) {
            it = c.actions.erase(it);
        } else {
            c.names.push_back(it->first);
            ++it;
        }
    }
    return c;
}

const Catalogue& catalogue() {
    static const Catalogue c = load();
    return c;
}

// ---- descriptions ----

std::string join(std::string_view path, std::string_view key) {
    return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string_view or_payload(std::string_view path) {
    return path.empty() ? std::string_view("(payload)") : path;
}

/// A value as JSON text for a description, cut (on a character boundary) when long.
std::string shown(const Value& v) {
    constexpr std::size_t kMax = 48;
    json::Writer w;
    w.raw_value(v);
    std::string s = w.str();
    if (s.size() <= kMax)
        return s;
    cut_utf8(s, kMax);
    return s + "...";
}

std::string_view type_name(const Value& v) {
    if (v.IsNull())
        return "null";
    if (v.IsBool())
        return "boolean";
    if (v.IsObject())
        return "object";
    if (v.IsArray())
        return "array";
    if (v.IsString())
        return "string";
    if (v.IsInt64() || v.IsUint64())
        return "integer";
    return "number";
}

std::string expected_types(const Value* t) {
    if (!t)
        return "?";
    if (t->IsString())
        return std::string(str(*t));
    std::string out;
    if (t->IsArray())
        for (const auto& x : t->GetArray())
            if (x.IsString())
                out += (out.empty() ? "" : " or ") + std::string(str(x));
    return out;
}

std::string enum_values(const Value* e) {
    std::string out;
    if (e && e->IsArray())
        for (const auto& x : e->GetArray())
            out += (out.empty() ? "" : ", ") + (x.IsString() ? std::string(str(x)) : shown(x));
    return out;
}

std::string number_text(const Value* n) {
    return n ? shown(*n) : "?";
}

/// Follows a document pointer from RapidJSON's validator into the payload: the node and its field path
/// (`meterValue[0].sampledValue[1].unit`).
std::pair<const Value*, std::string> locate(const Value& root, const rapidjson::Pointer& p) {
    const Value* v = &root;
    std::string path;
    for (std::size_t i = 0; i < p.GetTokenCount() && v; ++i) {
        const auto& t = p.GetTokens()[i];
        const std::string_view name(t.name, t.length);
        if (v->IsArray()) {
            if (t.index == rapidjson::kPointerInvalidIndex || t.index >= v->Size())
                return {nullptr, path};
            path += fmt::format("[{}]", t.index);
            v = &(*v)[t.index];
        } else {
            path = join(path, name);
            v = member(*v, name);
        }
    }
    return {v, path};
}

std::optional<std::size_t> code_points(const Value& v) {
    if (!v.IsString())
        return std::nullopt;
    std::size_t n = 0;
    for (const char c : str(v))
        n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}

/// The code the OCPP-J 1.6 table gives a failed keyword.
ErrorCode code_of(std::string_view keyword) {
    static constexpr std::array<std::pair<std::string_view, ErrorCode>, 17> kTable{{
        {"type", ErrorCode::TypeConstraintViolation},
        {"required", ErrorCode::OccurenceConstraintViolation},
        {"additionalProperties", ErrorCode::OccurenceConstraintViolation},
        {"minItems", ErrorCode::OccurenceConstraintViolation},
        {"maxItems", ErrorCode::OccurenceConstraintViolation},
        {"additionalItems", ErrorCode::OccurenceConstraintViolation},
        {"items", ErrorCode::OccurenceConstraintViolation},
        {"minProperties", ErrorCode::OccurenceConstraintViolation},
        {"maxProperties", ErrorCode::OccurenceConstraintViolation},
        {"dependencies", ErrorCode::OccurenceConstraintViolation},
        {"enum", ErrorCode::PropertyConstraintViolation},
        {"maxLength", ErrorCode::PropertyConstraintViolation},
        {"minLength", ErrorCode::PropertyConstraintViolation},
        {"minimum", ErrorCode::PropertyConstraintViolation},
        {"maximum", ErrorCode::PropertyConstraintViolation},
        {"multipleOf", ErrorCode::PropertyConstraintViolation},
        {"pattern", ErrorCode::PropertyConstraintViolation},
    }};
    for (const auto& [word, code] : kTable)
        if (word == keyword)
            return code;
    // allOf, anyOf, oneOf, not, patternProperties (none in the 1.6 set): the PDU's structure.
    return ErrorCode::FormationViolation;
}

/// What RapidJSON's validator found, with the field's path and the schema's limit.
Violation explain(const Schema& s, const rapidjson::SchemaValidator& v, const Value& payload) {
    const std::string_view keyword = v.GetInvalidSchemaKeyword() ? v.GetInvalidSchemaKeyword() : "";
    const auto [node, path] = locate(payload, v.GetInvalidDocumentPointer());
    const Value* schema = v.GetInvalidSchemaPointer().Get(s.stripped);
    const Value* limit = schema ? member(*schema, keyword) : nullptr;
    const ErrorCode code = code_of(keyword);
    if (keyword == "required") {
        const Value* props = node;
        if (limit && limit->IsArray() && props)
            for (const auto& name : limit->GetArray())
                if (name.IsString() && !member(*props, str(name)))
                    return {code, fmt::format("{}: is required", join(path, str(name)))};
        return {code, fmt::format("{}: a required field is missing", or_payload(path))};
    }
    if (keyword == "additionalProperties")
        return {code, fmt::format("{}: is not a field of {}", or_payload(path), s.name)};
    if (!node)
        return {code, fmt::format("{}: violates {}", or_payload(path), keyword)};
    if (keyword == "type") {
        const bool fraction = node->IsDouble() && std::floor(node->GetDouble()) == node->GetDouble() &&
                              expected_types(limit) == "integer";
        return {code, fmt::format("{}: must be {}, is {}{}", or_payload(path), expected_types(limit), type_name(*node),
                                  fraction ? " (write an integer without \".0\")" : "")};
    }
    if (keyword == "enum")
        return {code, fmt::format("{}: {} is not one of {}", or_payload(path), shown(*node), enum_values(limit))};
    if (keyword == "maxLength" || keyword == "minLength")
        return {code, fmt::format("{}: {} characters, {} the {} {}", or_payload(path), code_points(*node).value_or(0),
                                  keyword == "maxLength" ? "more than" : "fewer than",
                                  keyword == "maxLength" ? "maximum" : "minimum", number_text(limit))};
    if (keyword == "minItems" || keyword == "maxItems")
        return {code, fmt::format("{}: {} items, {} the {} {}", or_payload(path), node->IsArray() ? node->Size() : 0,
                                  keyword == "maxItems" ? "more than" : "fewer than",
                                  keyword == "maxItems" ? "maximum" : "minimum", number_text(limit))};
    if (keyword == "minimum" || keyword == "maximum")
        return {code, fmt::format("{}: {} is {} the {} {}", or_payload(path), shown(*node),
                                  keyword == "minimum" ? "below" : "above", keyword, number_text(limit))};
    return {code, fmt::format("{}: {} violates {}", or_payload(path), shown(*node), keyword)};
}

// ---- what RapidJSON 1.1 does not check: format, multipleOf ----

const Value* resolve_ref(const Value& root, const Value* schema) {
    // The 1.6 set refers only to "#/definitions/..."; a chain is followed a few steps at most.
    for (int hops = 0; schema && hops < 8; ++hops) {
        const Value* ref = member(*schema, "$ref");
        if (!ref || !ref->IsString())
            return schema;
        const std::string_view r = str(*ref);
        if (!r.starts_with("#"))
            return nullptr;
        schema = rapidjson::Pointer(r.data() + 1, r.size() - 1).Get(root);
    }
    return nullptr;
}

bool multiple_of(double value, double step) {
    // As ocpp-rpc: a quotient within 1e-6 of an integer (0.3 / 0.1 is 2.9999999999999996).
    const double q = value / step;
    return std::isfinite(q) && std::abs(std::round(q) - q) < 1e-6;
}

/// The first format or multipleOf violation of a payload RapidJSON found valid, walking the schema's
/// properties and items (through $ref) alongside the payload.
std::optional<Violation> check_extras(const Value& root, const Value* schema, const Value& v, std::string& path,
                                      std::size_t depth) {
    schema = resolve_ref(root, schema);
    if (!schema || depth > json::kMaxDepth)
        return std::nullopt;
    if (const Value* f = member(*schema, "format"); f && f->IsString() && v.IsString()) {
        const std::string_view format = str(*f);
        const bool ok = format == "date-time" ? is_date_time(str(v)) : format == "uri" ? is_uri(str(v)) : true;
        if (!ok)
            return Violation{ErrorCode::PropertyConstraintViolation,
                             fmt::format("{}: {} is not {}", or_payload(path), shown(v),
                                         format == "date-time" ? "an RFC 3339 date-time" : "a URI")};
    }
    if (const Value* m = member(*schema, "multipleOf"); m && m->IsNumber() && m->GetDouble() > 0 && v.IsNumber())
        if (!multiple_of(v.GetDouble(), m->GetDouble()))
            return Violation{ErrorCode::PropertyConstraintViolation,
                             fmt::format("{}: {} is not a multiple of {}", or_payload(path), shown(v), shown(*m))};
    const std::size_t len = path.size();
    if (const Value* props = member(*schema, "properties"); props && props->IsObject() && v.IsObject()) {
        for (const auto& m : v.GetObject()) {
            const Value* sub = member(*props, str(m.name));
            if (!sub)
                continue;
            path = join(path, str(m.name));
            auto bad = check_extras(root, sub, m.value, path, depth + 1);
            path.resize(len);
            if (bad)
                return bad;
        }
    }
    if (const Value* items = member(*schema, "items"); items && items->IsObject() && v.IsArray()) {
        for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
            path += fmt::format("[{}]", i);
            auto bad = check_extras(root, items, v[i], path, depth + 1);
            path.resize(len);
            if (bad)
                return bad;
        }
    }
    return std::nullopt;
}

Violation not_implemented(std::string_view action) {
    return {ErrorCode::NotImplemented, fmt::format("{}: not an OCPP 1.6 action", action)};
}

} // namespace

bool known_action(std::string_view action) {
    return catalogue().actions.contains(action);
}

const std::vector<std::string>& known_actions() {
    return catalogue().names;
}

std::optional<Violation> validate(std::string_view action, Direction d, const rapidjson::Value& payload) {
    const auto& actions = catalogue().actions;
    const auto it = actions.find(action);
    if (it == actions.end())
        return not_implemented(action);
    if (!payload.IsObject())
        return Violation{ErrorCode::FormationViolation, "(payload): must be a JSON object"};
    // RapidJSON's validator recurses once per level (json::parse never gives deeper than this).
    if (json::nesting_depth(payload) > json::kMaxDepth)
        return Violation{ErrorCode::FormationViolation,
                         fmt::format("(payload): nests deeper than {} levels", json::kMaxDepth)};
    const Schema& s = d == Direction::Request ? it->second.request : it->second.response;
    rapidjson::SchemaValidator v(*s.compiled);
    if (!payload.Accept(v))
        return explain(s, v, payload);
    std::string path;
    return check_extras(s.source, &s.source, payload, path, 0);
}

std::optional<Violation> validate(std::string_view action, Direction d, std::string_view payload_json) {
    if (!known_action(action))
        return not_implemented(action);
    const auto doc = json::parse(payload_json);
    if (!doc)
        return Violation{ErrorCode::FormationViolation, "(payload): not JSON: " + doc.error()};
    return validate(action, d, *doc);
}

bool is_date_time(std::string_view s) {
    // billing::parse_rfc3339 reads the same grammar but also a space for the "T", and no leap second.
    if (s.size() < 20 || (s[10] != 'T' && s[10] != 't'))
        return false;
    if (s.substr(16, 3) == ":60") {
        std::string no_leap(s);
        no_leap[17] = '5';
        no_leap[18] = '9';
        return billing::parse_rfc3339(no_leap).has_value();
    }
    return billing::parse_rfc3339(s).has_value();
}

bool is_uri(std::string_view s) {
    const auto colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size())
        return false;
    const auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (!alpha(s[0]))
        return false;
    for (std::size_t i = 1; i < colon; ++i)
        if (!alpha(s[i]) && !digit(s[i]) && s[i] != '+' && s[i] != '-' && s[i] != '.')
            return false;
    for (const char c : s)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F)
            return false;
    return true;
}

} // namespace pilehub::ocpp
