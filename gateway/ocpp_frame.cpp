#include "gateway/ocpp_frame.hpp"

#include "common/json.hpp"

#include <fmt/format.h>

#include <array>

namespace pilehub::ocpp {
namespace {

constexpr std::array<std::pair<ErrorCode, std::string_view>, 10> kCodes{{
    {ErrorCode::NotImplemented, "NotImplemented"},
    {ErrorCode::NotSupported, "NotSupported"},
    {ErrorCode::InternalError, "InternalError"},
    {ErrorCode::ProtocolError, "ProtocolError"},
    {ErrorCode::SecurityError, "SecurityError"},
    {ErrorCode::FormationViolation, "FormationViolation"},
    {ErrorCode::PropertyConstraintViolation, "PropertyConstraintViolation"},
    {ErrorCode::OccurenceConstraintViolation, "OccurenceConstraintViolation"},
    {ErrorCode::TypeConstraintViolation, "TypeConstraintViolation"},
    {ErrorCode::GenericError, "GenericError"},
}};

constexpr int kCall = 2, kCallResult = 3, kCallError = 4;

/// A JSON value as text (a payload or the details, kept verbatim).
std::string text_of(const rapidjson::Value& v) {
    json::Writer w;
    w.raw_value(v);
    return w.str();
}

/// A string as a JSON string literal.
std::string quoted(std::string_view s) {
    json::Writer w;
    w.value(s);
    return w.str();
}

const std::string& object_or_empty(const std::string& json) {
    static const std::string kEmpty = "{}";
    return json.empty() ? kEmpty : json;
}

FrameProblem problem(std::optional<std::string> uid, std::string why) {
    return FrameProblem{std::move(uid), ErrorCode::FormationViolation, std::move(why)};
}

} // namespace

std::string_view to_string(ErrorCode c) {
    for (const auto& [code, word] : kCodes)
        if (code == c)
            return word;
    return "GenericError";
}

std::optional<ErrorCode> parse_error_code(std::string_view s) {
    for (const auto& [code, word] : kCodes)
        if (word == s)
            return code;
    return std::nullopt;
}

std::optional<CallError> FrameProblem::answer() const {
    if (!unique_id)
        return std::nullopt;
    return CallError{*unique_id, code, description, "{}"};
}

std::variant<Frame, FrameProblem> read_frame(std::string_view text) {
    auto doc = json::parse(text);
    if (!doc)
        return problem(std::nullopt, "not JSON: " + doc.error());
    const rapidjson::Value& a = *doc;
    if (!a.IsArray() || a.Empty())
        return problem(std::nullopt, "an OCPP-J message is a non-empty JSON array");
    if (!a[0].IsInt())
        return problem(std::nullopt, "the message type must be the integer 2, 3 or 4");
    const int type = a[0].GetInt();
    if (type != kCall && type != kCallResult && type != kCallError)
        return problem(std::nullopt,
                       fmt::format("message type {} is not 2 (CALL), 3 (CALLRESULT) or 4 (CALLERROR)", type));
    if (a.Size() < 2 || !a[1].IsString() || a[1].GetStringLength() == 0 || a[1].GetStringLength() > kMaxUniqueIdLen)
        return problem(std::nullopt,
                       fmt::format("the unique id must be a string of 1..{} characters", kMaxUniqueIdLen));
    std::string uid(a[1].GetString(), a[1].GetStringLength());
    // Only a CALL is ever answered: a broken CALLRESULT or CALLERROR is dropped (and logged).
    const auto answerable = type == kCall ? std::optional<std::string>(uid) : std::nullopt;
    switch (type) {
    case kCall:
        if (a.Size() != 4)
            return problem(answerable, fmt::format("a CALL has 4 elements, not {}", a.Size()));
        if (!a[2].IsString() || a[2].GetStringLength() == 0)
            return problem(answerable, "the action must be a non-empty string");
        if (!a[3].IsObject())
            return problem(answerable, "the payload of a CALL must be a JSON object");
        return Frame{Call{std::move(uid), std::string(a[2].GetString(), a[2].GetStringLength()), text_of(a[3])}};
    case kCallResult:
        if (a.Size() != 3)
            return problem(answerable, fmt::format("a CALLRESULT has 3 elements, not {}", a.Size()));
        if (!a[2].IsObject())
            return problem(answerable, "the payload of a CALLRESULT must be a JSON object");
        return Frame{CallResult{std::move(uid), text_of(a[2])}};
    default: {
        if (a.Size() != 5)
            return problem(answerable, fmt::format("a CALLERROR has 5 elements, not {}", a.Size()));
        if (!a[2].IsString() || !a[3].IsString() || !a[4].IsObject())
            return problem(answerable, "a CALLERROR is [4, uniqueId, errorCode, errorDescription, {errorDetails}]");
        const std::string_view code(a[2].GetString(), a[2].GetStringLength());
        return Frame{CallError{std::move(uid), parse_error_code(code).value_or(ErrorCode::GenericError),
                               std::string(a[3].GetString(), a[3].GetStringLength()), text_of(a[4])}};
    }
    }
}

std::string write(const Call& c) {
    return fmt::format("[{},{},{},{}]", kCall, quoted(c.unique_id), quoted(c.action), object_or_empty(c.payload_json));
}

std::string write(const CallResult& r) {
    return fmt::format("[{},{},{}]", kCallResult, quoted(r.unique_id), object_or_empty(r.payload_json));
}

std::string write(const CallError& e) {
    return fmt::format("[{},{},{},{},{}]", kCallError, quoted(e.unique_id), quoted(to_string(e.code)),
                       quoted(e.description), object_or_empty(e.details_json));
}

std::string write(const Frame& f) {
    return std::visit([](const auto& x) { return write(x); }, f);
}

} // namespace pilehub::ocpp
