#include "common/json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

namespace pilehub::json {

namespace {

/// Calls `visit(i)` at each position of `text` outside strings (a string's quotes and escapes are
/// skipped). `visit` returns the last position it read (`i`, or the end of a token it took whole),
/// or npos to stop.
template <typename Visit> void outside_strings(std::string_view text, Visit&& visit) {
    bool in_string = false, escaped = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (i = visit(i); i == std::string_view::npos) {
            return;
        }
    }
}

/// Bounds on a number's text that keep RapidJSON 1.1's full-precision reader defined:
/// - a long significand with a large exponent (fuzz_ocpp: 58 digits, E-368) passes its underflow
///   check and then looks up a power of ten below its table (a read out of bounds, SEGV);
/// - a zero written with its exponent beyond 10^-22..10^37 (`0.00000000000000000000000`, `0e40`)
///   reaches its normaliser with a zero significand (`clz(0)`, shifts by garbage: UBSan).
/// The magnitude (the power of ten of the first nonzero digit) is bounded, not the exponent as
/// written, so that what we write back (at most 17 digits) always reads again (fuzz_ocpp: 29 digits
/// E278 came back as E306). No number of any PileHub document comes near these bounds.
constexpr std::size_t kMaxNumberDigits = 30;
constexpr long kMaxNumberMagnitude = 290;
constexpr long kMinZeroExponent = -20, kMaxZeroExponent = 30;

/// The offset of the first number (outside strings) beyond those bounds, if any.
std::optional<std::size_t> outsized_number(std::string_view text) {
    const auto digit = [&](std::size_t i) { return i < text.size() && text[i] >= '0' && text[i] <= '9'; };
    constexpr long kCap = 100'000; // exponents are read saturating here
    std::optional<std::size_t> found;
    outside_strings(text, [&](std::size_t i) {
        if (text[i] != '-' && !digit(i))
            return i;
        const auto start = i;
        if (text[i] == '-')
            ++i;
        long digits = 0, whole = 0, fraction = 0, first = -1; // first: index of the first nonzero digit
        for (; digit(i); ++i, ++digits, ++whole)
            if (first < 0 && text[i] != '0')
                first = digits;
        if (i < text.size() && text[i] == '.')
            for (++i; digit(i); ++i, ++digits, ++fraction)
                if (first < 0 && text[i] != '0')
                    first = digits;
        long exponent = 0;
        bool negative = false;
        if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
            ++i;
            if (i < text.size() && (text[i] == '+' || text[i] == '-'))
                negative = text[i++] == '-';
            for (; digit(i); ++i)
                exponent = std::min(exponent * 10 + (text[i] - '0'), kCap);
        }
        if (negative)
            exponent = -exponent;
        const bool outsized = first < 0
                                  ? exponent - fraction < kMinZeroExponent || exponent - fraction > kMaxZeroExponent
                                  : digits > static_cast<long>(kMaxNumberDigits) ||
                                        std::abs(exponent + whole - 1 - first) > kMaxNumberMagnitude;
        if (outsized) {
            found = start;
            return std::string_view::npos;
        }
        return i - 1; // the last character of the number
    });
    return found;
}

} // namespace

Result<rapidjson::Document> parse(std::string_view text, std::size_t max_bytes) {
    if (text.size() > max_bytes)
        return Result<rapidjson::Document>::failure(
            fmt::format("payload of {} bytes exceeds {}", text.size(), max_bytes));
    if (nesting_depth(text) > kMaxDepth)
        return Result<rapidjson::Document>::failure(fmt::format("nested deeper than {} levels", kMaxDepth));
    if (const auto at = lone_low_surrogate(text))
        return Result<rapidjson::Document>::failure(
            fmt::format("malformed JSON at offset {}: a \\u escape of a lone low surrogate", *at));
    if (const auto at = outsized_number(text))
        return Result<rapidjson::Document>::failure(
            fmt::format("malformed JSON at offset {}: a number of more than {} digits or beyond 10^±{}, or a zero "
                        "written beyond 10^{}..10^{}",
                        *at, kMaxNumberDigits, kMaxNumberMagnitude, kMinZeroExponent, kMaxZeroExponent));
    rapidjson::Document d;
    // Full precision: a number reads as the double nearest to its text, so what we write back (the
    // shortest text of that double) reads as the same double again (fuzz_ocpp found a number that
    // changed on every read and write without it).
    d.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag |
            rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
    if (d.HasParseError())
        return Result<rapidjson::Document>::failure(fmt::format(
            "malformed JSON at offset {} (code {})", d.GetErrorOffset(), static_cast<int>(d.GetParseError())));
    return Result<rapidjson::Document>(std::move(d));
}

std::optional<std::size_t> lone_low_surrogate(std::string_view text) {
    const auto hex4 = [&](std::size_t at) -> std::optional<unsigned> {
        unsigned v = 0;
        for (std::size_t k = at; k < at + 4; ++k) {
            const char c = text[k];
            const int d = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;
            if (d < 0)
                return std::nullopt;
            v = v * 16 + static_cast<unsigned>(d);
        }
        return v;
    };
    bool after_high = false; // the previous character was the escape of a high surrogate
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\' || i + 1 >= text.size()) {
            after_high = false;
            continue;
        }
        if (text[i + 1] != 'u' || i + 5 >= text.size()) {
            after_high = false;
            ++i; // an escaped character: \\, \", \n, ...
            continue;
        }
        const auto v = hex4(i + 2);
        if (v && *v >= 0xDC00 && *v <= 0xDFFF && !after_high)
            return i;
        after_high = v && *v >= 0xD800 && *v <= 0xDBFF;
        i += 5;
    }
    return std::nullopt;
}

std::size_t nesting_depth(std::string_view text, std::size_t limit) {
    std::size_t depth = 0;
    std::size_t deepest = 0;
    outside_strings(text, [&](std::size_t i) {
        const char c = text[i];
        if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
            if (deepest > limit) {
                deepest = limit + 1;
                return std::string_view::npos;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
        return i;
    });
    return deepest;
}

std::size_t nesting_depth(const rapidjson::Value& v, std::size_t limit) {
    // Depth-first with an explicit stack of (value, its depth).
    std::vector<std::pair<const rapidjson::Value*, std::size_t>> stack{{&v, 0}};
    std::size_t deepest = 0;
    while (!stack.empty()) {
        const auto [x, d] = stack.back();
        stack.pop_back();
        if (!x->IsArray() && !x->IsObject())
            continue;
        deepest = std::max(deepest, d + 1);
        if (deepest > limit)
            return limit + 1;
        if (x->IsArray()) {
            for (const auto& e : x->GetArray())
                stack.emplace_back(&e, d + 1);
        } else {
            for (const auto& m : x->GetObject())
                stack.emplace_back(&m.value, d + 1);
        }
    }
    return deepest;
}

Object::Object(const rapidjson::Value* v, std::string path, std::string* err)
    : v_(v), path_(std::move(path)), err_(err) {
    if (v_ && !v_->IsObject()) {
        if (err_->empty())
            *err_ = fmt::format("{} must be an object", path_.empty() ? "payload" : path_);
        v_ = nullptr;
    }
}

Object Object::root(const rapidjson::Value& doc, std::string* err) {
    return Object(&doc, "", err);
}

std::string Object::at(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

void Object::fail(std::string_view key, std::string_view what) {
    if (err_->empty())
        *err_ = fmt::format("{} {}", at(key), what);
}

const rapidjson::Value* Object::find(std::string_view key) const {
    if (!v_)
        return nullptr;
    auto it = v_->FindMember(rapidjson::Value(rapidjson::StringRef(key.data(), key.size())));
    if (it == v_->MemberEnd() || it->value.IsNull())
        return nullptr;
    return &it->value;
}

bool Object::has(std::string_view key) const {
    return find(key) != nullptr;
}
const rapidjson::Value* Object::raw(std::string_view key) const {
    return find(key);
}

std::optional<std::int64_t> Object::opt_int(std::string_view key, std::int64_t min, std::int64_t max) {
    const auto* v = find(key);
    if (!v)
        return std::nullopt;
    if (!v->IsInt64()) {
        fail(key, v->IsNumber() ? "must be an integer" : "must be a number");
        return std::nullopt;
    }
    const auto x = v->GetInt64();
    if (x < min || x > max) {
        fail(key, fmt::format("is {}, outside {}..{}", x, min, max));
        return std::nullopt;
    }
    return x;
}

std::int64_t Object::req_int(std::string_view key, std::int64_t min, std::int64_t max) {
    if (!find(key)) {
        if (v_)
            fail(key, "is required");
        return 0;
    }
    return opt_int(key, min, max).value_or(0);
}

std::optional<double> Object::opt_num(std::string_view key, double min, double max) {
    const auto* v = find(key);
    if (!v)
        return std::nullopt;
    if (!v->IsNumber()) {
        fail(key, "must be a number");
        return std::nullopt;
    }
    const double x = v->GetDouble();
    if (!std::isfinite(x) || x < min || x > max) {
        fail(key, fmt::format("is {}, outside {}..{}", x, min, max));
        return std::nullopt;
    }
    return x;
}

double Object::req_num(std::string_view key, double min, double max) {
    if (!find(key)) {
        if (v_)
            fail(key, "is required");
        return 0;
    }
    return opt_num(key, min, max).value_or(0);
}

std::optional<bool> Object::opt_bool(std::string_view key) {
    const auto* v = find(key);
    if (!v)
        return std::nullopt;
    if (!v->IsBool()) {
        fail(key, "must be true or false");
        return std::nullopt;
    }
    return v->GetBool();
}

bool Object::req_bool(std::string_view key) {
    if (!find(key)) {
        if (v_)
            fail(key, "is required");
        return false;
    }
    return opt_bool(key).value_or(false);
}

std::optional<std::string> Object::opt_str(std::string_view key, std::size_t max_len) {
    const auto* v = find(key);
    if (!v)
        return std::nullopt;
    if (!v->IsString()) {
        fail(key, "must be a string");
        return std::nullopt;
    }
    if (v->GetStringLength() > max_len) {
        fail(key, fmt::format("is longer than {} bytes", max_len));
        return std::nullopt;
    }
    return std::string(v->GetString(), v->GetStringLength());
}

std::string Object::req_str(std::string_view key, std::size_t max_len) {
    if (!find(key)) {
        if (v_)
            fail(key, "is required");
        return {};
    }
    return opt_str(key, max_len).value_or(std::string());
}

Object Object::opt_obj(std::string_view key) {
    const auto* v = find(key);
    if (v && !v->IsObject()) {
        fail(key, "must be an object");
        v = nullptr;
    }
    return Object(v, at(key), err_);
}

Object Object::req_obj(std::string_view key) {
    if (!find(key) && v_)
        fail(key, "is required");
    return opt_obj(key);
}

Array Object::opt_arr(std::string_view key, std::size_t max_items) {
    const auto* v = find(key);
    if (v && !v->IsArray()) {
        fail(key, "must be an array");
        v = nullptr;
    } else if (v && v->Size() > max_items) {
        fail(key, fmt::format("has more than {} items", max_items));
        v = nullptr;
    }
    return Array(v, at(key), err_);
}

Array Object::req_arr(std::string_view key, std::size_t max_items) {
    if (!find(key) && v_)
        fail(key, "is required");
    return opt_arr(key, max_items);
}

std::string Array::at(std::size_t i) const {
    return fmt::format("{}[{}]", path_, i);
}

Object Array::obj(std::size_t i) {
    if (!v_ || i >= v_->Size())
        return Object(nullptr, at(i), err_);
    const auto& e = (*v_)[static_cast<rapidjson::SizeType>(i)];
    if (!e.IsObject()) {
        if (err_->empty())
            *err_ = fmt::format("{} must be an object", at(i));
        return Object(nullptr, at(i), err_);
    }
    return Object(&e, at(i), err_);
}

std::optional<std::int64_t> Array::int_at(std::size_t i, std::int64_t min, std::int64_t max) {
    if (!v_ || i >= v_->Size())
        return std::nullopt;
    const auto& e = (*v_)[static_cast<rapidjson::SizeType>(i)];
    if (!e.IsInt64() || e.GetInt64() < min || e.GetInt64() > max) {
        if (err_->empty())
            *err_ = fmt::format("{} must be an integer in {}..{}", at(i), min, max);
        return std::nullopt;
    }
    return e.GetInt64();
}

std::optional<std::string> Array::str_at(std::size_t i, std::size_t max_len) {
    if (!v_ || i >= v_->Size())
        return std::nullopt;
    const auto& e = (*v_)[static_cast<rapidjson::SizeType>(i)];
    if (!e.IsString() || e.GetStringLength() > max_len) {
        if (err_->empty())
            *err_ = fmt::format("{} must be a string of at most {} bytes", at(i), max_len);
        return std::nullopt;
    }
    return std::string(e.GetString(), e.GetStringLength());
}

Writer::Writer() : w_(buf_) {}
Writer& Writer::begin_object() {
    w_.StartObject();
    return *this;
}
Writer& Writer::end_object() {
    w_.EndObject();
    return *this;
}
Writer& Writer::begin_array() {
    w_.StartArray();
    return *this;
}
Writer& Writer::end_array() {
    w_.EndArray();
    return *this;
}
Writer& Writer::key(std::string_view k) {
    w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    return *this;
}
Writer& Writer::value(std::int64_t v) {
    w_.Int64(v);
    return *this;
}
Writer& Writer::value(double v) {
    // Measurements: keep them short and stable (one decimal is what meters report).
    if (std::isfinite(v) && std::floor(v) == v && std::fabs(v) < 1e15)
        w_.Int64(static_cast<std::int64_t>(v));
    else if (std::isfinite(v)) {
        const auto text = fmt::format("{}", v); // shortest text that reads back as the same double
        w_.RawValue(text.c_str(), text.size(), rapidjson::kNumberType);
    } else
        w_.Null();
    return *this;
}
Writer& Writer::value(bool v) {
    w_.Bool(v);
    return *this;
}
Writer& Writer::value(std::string_view v) {
    w_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    return *this;
}
Writer& Writer::null() {
    w_.Null();
    return *this;
}
Writer& Writer::raw_value(const rapidjson::Value& v) {
    if (nesting_depth(v) > kMaxDepth) {
        w_.Null();
        return *this;
    }
    v.Accept(w_);
    return *this;
}
std::string Writer::str() const {
    return std::string(buf_.GetString(), buf_.GetSize());
}

} // namespace pilehub::json
