#pragma once
#include "gateway/ocpp_frame.hpp"

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// OCPP 1.6 payloads checked against the JSON schemas of the 1.6 set (gateway/schemas/ocpp1_6.json,
/// vendored from npm ocpp-rpc; the 28 actions of OCPP 1.6 edition 2 and the 11 of the security
/// whitepaper), embedded at build time and compiled once. Pure: no network, no clock; never throws.
///
/// What a violation is answered with (OCPP-J 1.6 §4.2.3, table 7):
/// - FormationViolation: not JSON, not an object, nested deeper than json::kMaxDepth;
/// - TypeConstraintViolation: a field of the wrong JSON type (`"connectorId": "1"`; an integer field
///   written with a fraction, `1.0`, too: RapidJSON reads it as a double, and the gateway reads
///   integers as integers);
/// - OccurenceConstraintViolation: a required field missing, a field the schema does not have
///   (additionalProperties), too few or too many items;
/// - PropertyConstraintViolation: a value outside the field's enum, longer than its maxLength, below its
///   minimum or above its maximum, not a multiple of its multipleOf (within 1e-6, as ocpp-rpc), or not
///   of its format (an RFC 3339 date-time, a URI);
/// - NotImplemented: an action the 1.6 set does not have.
/// ocpp-rpc itself maps additionalProperties to PropertyConstraintViolation and lengths and bounds to
/// OCPP 2.0's FormatViolation; the list above follows the 1.6 table's words instead.
namespace pilehub::ocpp {

/// Which schema of an action: `.req`, the payload of its CALL, or `.conf`, the payload of its CALLRESULT.
enum class Direction { Request, Response };

/// Why a payload is invalid: the CALLERROR code to answer with and a description that starts with the
/// field's path (`meterValue[0].sampledValue[1].unit: "kwh" is not one of ...`).
struct Violation {
    ErrorCode code = ErrorCode::FormationViolation;
    std::string description;
};

/// Whether `action` is an action of the 1.6 set (either direction; case-sensitive, as on the wire).
bool known_action(std::string_view action);

/// Every action of the 1.6 set, sorted; each has both schemas (a .req and a .conf).
const std::vector<std::string>& known_actions();

/// nullopt when `payload` is valid for `action` in direction `d`; NotImplemented for an unknown action,
/// FormationViolation when `payload` is not an object, else the first violation found.
std::optional<Violation> validate(std::string_view action, Direction d, const rapidjson::Value& payload);

/// The same for JSON text (a CALL's or CALLRESULT's payload_json): FormationViolation when it is not
/// JSON (json::parse's limits) or not an object.
std::optional<Violation> validate(std::string_view action, Direction d, std::string_view payload_json);

/// Whether `s` is an RFC 3339 date-time (§5.6): full-date "T" full-time with seconds, an optional
/// fraction (1 to 9 digits, what billing::parse_rfc3339 reads), "Z" or a ±hh:mm offset; months, days (leap years
/// counted), hours, minutes and seconds in range (second 60, a leap second, allowed); "t" and "z" as well, never a
/// space for the "T".
bool is_date_time(std::string_view s);

/// Whether `s` looks like a URI: a scheme (a letter, then letters, digits, "+", "-", ".") ":" and a
/// non-empty rest, with no whitespace or control characters anywhere.
bool is_uri(std::string_view s);

} // namespace pilehub::ocpp
