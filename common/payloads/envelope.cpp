#include "common/payloads/codec_detail.hpp"

#include <fmt/format.h>

#include <utility>

namespace pilehub::payloads {
namespace detail {

namespace {

bool token_char(char c, bool alnum_only) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    return alnum || (!alnum_only && (c == '_' || c == '.' || c == ':' || c == '-'));
}

bool word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool has_control(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return true;
    return false;
}

} // namespace

std::optional<std::string> opt_token(json::Object& o, std::string_view key, std::size_t max_len, bool alnum_only) {
    auto s = o.opt_str(key, max_len);
    if (!s)
        return std::nullopt;
    bool good = !s->empty();
    for (char c : *s)
        good = good && token_char(c, alnum_only);
    if (!good) {
        o.fail(key,
               fmt::format("must be 1..{} characters of {}", max_len, alnum_only ? "[A-Za-z0-9]" : "[A-Za-z0-9_.:-]"));
        return std::nullopt;
    }
    return s;
}

std::string req_token(json::Object& o, std::string_view key, std::size_t max_len, bool alnum_only) {
    if (!o.has(key)) {
        if (o.present())
            o.fail(key, "is required");
        return {};
    }
    return opt_token(o, key, max_len, alnum_only).value_or(std::string());
}

std::optional<std::string> opt_text(json::Object& o, std::string_view key, std::size_t max_len) {
    auto s = o.opt_str(key, max_len);
    if (!s)
        return std::nullopt;
    if (s->empty() || has_control(*s)) {
        o.fail(key, "must be non-empty text without control characters");
        return std::nullopt;
    }
    return s;
}

std::string req_text(json::Object& o, std::string_view key, std::size_t max_len) {
    if (!o.has(key)) {
        if (o.present())
            o.fail(key, "is required");
        return {};
    }
    return opt_text(o, key, max_len).value_or(std::string());
}

std::optional<std::string> opt_word(json::Object& o, std::string_view key) {
    auto s = o.opt_str(key, kMaxWordLen);
    if (!s)
        return std::nullopt;
    bool good = !s->empty();
    for (char c : *s)
        good = good && word_char(c);
    if (!good) {
        o.fail(key, "must be a snake_case word [a-z0-9_]{1,32}");
        return std::nullopt;
    }
    return s;
}

std::string req_word(json::Object& o, std::string_view key) {
    if (!o.has(key)) {
        if (o.present())
            o.fail(key, "is required");
        return {};
    }
    return opt_word(o, key).value_or(std::string());
}

std::vector<std::string> opt_words(json::Object& o, std::string_view key, std::size_t max_items) {
    std::vector<std::string> out;
    auto a = o.opt_arr(key, max_items);
    for (std::size_t i = 0; i < a.size() && o.ok(); ++i) {
        auto s = a.str_at(i, kMaxWordLen);
        if (!s)
            break;
        bool good = !s->empty();
        for (char c : *s)
            good = good && word_char(c);
        if (!good) {
            o.fail(fmt::format("{}[{}]", key, i), "must be a snake_case word [a-z0-9_]{1,32}");
            break;
        }
        out.push_back(std::move(*s));
    }
    return out;
}

std::optional<std::string> opt_url(json::Object& o, std::string_view key) {
    auto s = o.opt_str(key, kMaxUrlLen);
    if (!s)
        return std::nullopt;
    const bool scheme = s->starts_with("https://") || s->starts_with("http://");
    if (!scheme || has_control(*s) || s->find(' ') != std::string::npos) {
        o.fail(key, "must be an http(s) URL without spaces");
        return std::nullopt;
    }
    return s;
}

std::string req_url(json::Object& o, std::string_view key) {
    if (!o.has(key)) {
        if (o.present())
            o.fail(key, "is required");
        return {};
    }
    return opt_url(o, key).value_or(std::string());
}

EpochMs req_ts(json::Object& o, std::string_view key) {
    return o.req_int(key, 0, kMaxEpochMs);
}
std::optional<EpochMs> opt_ts(json::Object& o, std::string_view key) {
    return o.opt_int(key, 0, kMaxEpochMs);
}

int req_n(json::Object& o, std::string_view key, int lo, int hi) {
    return static_cast<int>(o.req_int(key, lo, hi));
}

std::optional<int> opt_small(json::Object& o, std::string_view key, int lo, int hi) {
    auto v = o.opt_int(key, lo, hi);
    if (!v)
        return std::nullopt;
    return static_cast<int>(*v);
}

std::uint32_t opt_bits(json::Object& o, std::string_view key) {
    return static_cast<std::uint32_t>(o.opt_int(key, 0, 0xFFFF'FFFFLL).value_or(0));
}

std::optional<ErrorCode> opt_code(json::Object& o, std::string_view key) {
    auto s = o.opt_str(key, 64);
    if (!s)
        return std::nullopt;
    auto c = parse_error_code(*s);
    if (!c)
        o.fail(key, fmt::format("'{}' is not a known error code", *s));
    return c;
}

void write_words(json::Writer& w, std::string_view key, const std::vector<std::string>& words) {
    w.key(key).begin_array();
    for (const auto& s : words)
        w.value(std::string_view(s));
    w.end_array();
}

void read_envelope(json::Object& root, Flow flow, Envelope& e) {
    if (!root.ok())
        return;
    if (!root.has("v")) {
        root.fail("v", "is required");
        return;
    }
    const auto v = root.req_int("v", 1, 1'000'000);
    if (!root.ok())
        return;
    if (v != kVersion) {
        root.fail("v", fmt::format("is {}; this build speaks payload version {} only", v, kVersion));
        return;
    }
    e.v = static_cast<int>(v);
    e.ts = req_ts(root, "ts");
    e.boot = root.req_int("boot", 0, kI64Max);
    e.seq = root.req_int("seq", 0, kI64Max);
    const bool need_id = flow == Flow::Event || flow == Flow::Request;
    const bool need_rid = flow == Flow::Request || flow == Flow::Command || flow == Flow::Reply;
    e.id = need_id ? std::optional(req_token(root, "id")) : opt_token(root, "id");
    e.rid = need_rid ? std::optional(req_token(root, "rid")) : opt_token(root, "rid");
    e.exp = flow == Flow::Command ? std::optional(req_ts(root, "exp")) : opt_ts(root, "exp");
}

void write_envelope(json::Writer& w, const Envelope& e) {
    w.field("v", e.v).field("ts", e.ts).field("boot", e.boot).field("seq", e.seq);
    w.opt_field("id", e.id).opt_field("rid", e.rid).opt_field("exp", e.exp);
}

namespace {

// Iterative, so a hostile nesting depth cannot overflow the stack before it is refused.
bool depth_at_most(const rapidjson::Value& root, int limit) {
    struct Frame {
        const rapidjson::Value* v;
        int depth;
    };
    std::vector<Frame> stack{{&root, 1}};
    while (!stack.empty()) {
        const auto f = stack.back();
        stack.pop_back();
        if (f.depth > limit)
            return false;
        if (f.v->IsObject())
            for (auto it = f.v->MemberBegin(); it != f.v->MemberEnd(); ++it)
                stack.push_back({&it->value, f.depth + 1});
        else if (f.v->IsArray())
            for (auto it = f.v->Begin(); it != f.v->End(); ++it)
                stack.push_back({&*it, f.depth + 1});
    }
    return true;
}

} // namespace

void read_raw(json::Object& root, RawData& out) {
    auto d = root.req_obj("data");
    if (!d.present())
        return;
    const auto* v = root.raw("data");
    if (!v)
        return;
    if (!depth_at_most(*v, kMaxRawDepth)) {
        root.fail("data", fmt::format("nests deeper than {} levels", kMaxRawDepth));
        return;
    }
    json::Writer w;
    w.raw_value(*v);
    out.json = w.str();
}

void write_raw(json::Writer& w, const RawData& v) {
    w.key("data");
    auto doc = json::parse(v.json);
    if (doc && doc.value().IsObject() && depth_at_most(doc.value(), kMaxRawDepth))
        w.raw_value(doc.value());
    else
        w.begin_object().end_object();
}

} // namespace detail

Result<Envelope> peek_envelope(std::string_view text) {
    auto doc = json::parse(text);
    if (!doc)
        return Result<Envelope>::failure(doc.error());
    std::string err;
    auto root = json::Object::root(doc.value(), &err);
    Envelope e;
    detail::read_envelope(root, Flow::Status, e);
    (void)root.opt_obj("data");
    if (!err.empty())
        return Result<Envelope>::failure(std::move(err));
    return Result<Envelope>(std::move(e));
}

template <typename E> std::optional<E> parse_enum(std::string_view s) {
    return detail::enum_from<E>(s);
}

std::string_view to_string(ReplyStatus s) {
    return detail::enum_name(s);
}
std::string_view to_string(DeviceKind k) {
    return detail::enum_name(k);
}
std::string_view to_string(LimitKind k) {
    return detail::enum_name(k);
}
std::string_view to_string(Decision d) {
    return detail::enum_name(d);
}
std::string_view to_string(RebootWhen w) {
    return detail::enum_name(w);
}
std::string_view to_string(OtaStatus s) {
    return detail::enum_name(s);
}
std::string_view to_string(EbikeSocketStatus s) {
    return detail::enum_name(s);
}
std::string_view to_string(EbikeStopReason r) {
    return detail::enum_name(r);
}
std::string_view to_string(CfgStatus s) {
    return detail::enum_name(s);
}
std::string_view to_string(EvGunStatus s) {
    return detail::enum_name(s);
}
std::string_view to_string(EvFault f) {
    return detail::enum_name(f);
}
std::string_view to_string(EvStopReason r) {
    return detail::enum_name(r);
}
std::string_view to_string(ResetType t) {
    return detail::enum_name(t);
}
std::string_view to_string(LockStatus s) {
    return detail::enum_name(s);
}
std::string_view to_string(LockAction a) {
    return detail::enum_name(a);
}
std::string_view to_string(PlateColor c) {
    return detail::enum_name(c);
}
std::string_view to_string(PlateDirection d) {
    return detail::enum_name(d);
}

template std::optional<ReplyStatus> parse_enum<ReplyStatus>(std::string_view);
template std::optional<DeviceKind> parse_enum<DeviceKind>(std::string_view);
template std::optional<LimitKind> parse_enum<LimitKind>(std::string_view);
template std::optional<Decision> parse_enum<Decision>(std::string_view);
template std::optional<RebootWhen> parse_enum<RebootWhen>(std::string_view);
template std::optional<OtaStatus> parse_enum<OtaStatus>(std::string_view);
template std::optional<EbikeSocketStatus> parse_enum<EbikeSocketStatus>(std::string_view);
template std::optional<EbikeStopReason> parse_enum<EbikeStopReason>(std::string_view);
template std::optional<CfgStatus> parse_enum<CfgStatus>(std::string_view);
template std::optional<EvGunStatus> parse_enum<EvGunStatus>(std::string_view);
template std::optional<EvFault> parse_enum<EvFault>(std::string_view);
template std::optional<EvStopReason> parse_enum<EvStopReason>(std::string_view);
template std::optional<ResetType> parse_enum<ResetType>(std::string_view);
template std::optional<LockStatus> parse_enum<LockStatus>(std::string_view);
template std::optional<LockAction> parse_enum<LockAction>(std::string_view);
template std::optional<PlateColor> parse_enum<PlateColor>(std::string_view);
template std::optional<PlateDirection> parse_enum<PlateDirection>(std::string_view);

} // namespace pilehub::payloads

PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::RawData)
