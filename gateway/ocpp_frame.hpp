#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

/// OCPP-J 1.6 framing (the JSON-over-WebSocket RPC of the OCPP-J 1.6 specification, §4): every
/// WebSocket text message is one JSON array, a CALL `[2, uniqueId, action, payload]`, a CALLRESULT
/// `[3, uniqueId, payload]` or a CALLERROR `[4, uniqueId, errorCode, errorDescription, errorDetails]`.
/// Pure: no network, no clock. Payloads stay JSON text here; their schemas are checked elsewhere.
namespace pilehub::ocpp {

/// The longest unique id the specification allows (a maximum of 36 characters).
inline constexpr std::size_t kMaxUniqueIdLen = 36;

/// A CALLERROR's errorCode (OCPP-J 1.6, table 7), in the specification's spelling (`to_string`).
enum class ErrorCode {
    NotImplemented,               ///< the action is not known
    NotSupported,                 ///< the action is known but not supported
    InternalError,                ///< the receiver failed while handling it
    ProtocolError,                ///< the payload is incomplete
    SecurityError,                ///< a security issue prevented handling it
    FormationViolation,           ///< the message or payload is syntactically wrong
    PropertyConstraintViolation,  ///< a field holds an invalid value
    OccurenceConstraintViolation, ///< a field violates occurrence constraints (the spec's spelling)
    TypeConstraintViolation,      ///< a field has the wrong type
    GenericError,                 ///< anything else
};
std::string_view to_string(ErrorCode c);
std::optional<ErrorCode> parse_error_code(std::string_view s);

/// `[2, uniqueId, action, payload]`: a request.
struct Call {
    std::string unique_id;
    std::string action;
    std::string payload_json = "{}"; ///< the payload object, as JSON text
    bool operator==(const Call&) const = default;
};
/// `[3, uniqueId, payload]`: the answer to the CALL with the same unique id.
struct CallResult {
    std::string unique_id;
    std::string payload_json = "{}";
    bool operator==(const CallResult&) const = default;
};
/// `[4, uniqueId, errorCode, errorDescription, errorDetails]`: a CALL that could not be handled.
struct CallError {
    std::string unique_id;
    ErrorCode code = ErrorCode::GenericError;
    std::string description;
    std::string details_json = "{}";
    bool operator==(const CallError&) const = default;
};
using Frame = std::variant<Call, CallResult, CallError>;

/// Why a text is not a frame, and how to answer it: a CALLERROR with `code` when the unique id could
/// be read (`unique_id`), else nothing can be answered (the sender cannot match a reply) and the
/// message is only logged.
struct FrameProblem {
    std::optional<std::string> unique_id;
    ErrorCode code = ErrorCode::FormationViolation;
    std::string description;
    /// The CALLERROR to send, when one can be sent.
    std::optional<CallError> answer() const;
};

/// Reads one WebSocket text message: not JSON, not an array, a message type other than 2, 3, 4, a
/// unique id that is not a string of 1..36 characters, an action that is not a string, a payload that
/// is not an object, or the wrong number of elements are each a FormationViolation with the reason
/// (answerable once the unique id was read). A CALLERROR whose errorCode is not the specification's is
/// read as GenericError. Payloads are kept as JSON text (at most json::parse's limits).
std::variant<Frame, FrameProblem> read_frame(std::string_view text);

/// The wire text of a frame. `payload_json` / `details_json` must be JSON objects (they are written as
/// they are); an empty text is written `{}`.
std::string write(const Call& c);
std::string write(const CallResult& r);
std::string write(const CallError& e);
std::string write(const Frame& f);

} // namespace pilehub::ocpp
