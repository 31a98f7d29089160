#pragma once
#include "common/error_codes.hpp"
#include "common/json.hpp"
#include "common/money.hpp"
#include "common/payloads.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// The word-for-word tables of CONTRACT D.2 between OCPP 1.6 and the device contract (A.5
/// `ev_charger`), and OCPP's decimal strings. Pure. (RFC 3339 times: billing::parse_rfc3339.)
namespace pilehub::ocpp {

/// ChargePointStatus (`Available`, ..., `SuspendedEVSE`, `SuspendedEV`, ...) → the gun's `st`.
std::optional<payloads::EvGunStatus> parse_status(std::string_view ocpp_status);

/// A ChargePointErrorCode as fault bits (CONTRACT A.5's table): `NoError` is none; the hardware
/// failures map to their bit (`GroundFailure` → no_ground, `PowerSwitchFailure` → relay_welded,
/// `EVCommunicationError` → cp_error, ...); `WeakSignal` and `LocalListConflict` do not stop
/// charging and are none (kept as the vendor code); everything else is `other`. nullopt for a word
/// that is not an OCPP 1.6 error code.
std::optional<std::uint32_t> fault_bits_of(std::string_view ocpp_error_code);

/// StopTransaction `reason` → the device contract's stop reason; absent means `Local` (OCPP 1.6).
std::optional<payloads::EvStopReason> parse_stop_reason(std::string_view ocpp_reason);

/// `idTagInfo.status` for the platform's decision on an id tag: Accepted; Blocked for a lost card
/// or a frozen account; ConcurrentTx when the account already charges; Expired; Invalid otherwise
/// (an unknown card, too little balance, a busy or faulted gun).
std::string_view id_tag_status(payloads::Decision decision, std::optional<pilehub::ErrorCode> reason);

/// Whether a status change of a gun means the car was plugged in or out: from Available (or
/// Unavailable, Faulted, Reserved) to Preparing or a charging state is `In`; from Preparing, a
/// charging state or Finishing to Available is `Out`.
enum class Plug { None, In, Out };
Plug plug_change(payloads::EvGunStatus before, payloads::EvGunStatus after);

/// Whether a gun in this status has a car drawing or waiting for power under a transaction.
bool in_transaction(payloads::EvGunStatus s);

/// A decimal string (`"12"`, `"12.345"`, `"-0.5"`, `"1e3"`) times 10^`scale`, rounded toward zero,
/// as an integer; nullopt when it is not a number or does not fit. Energy goes through here so that
/// `"12.345"` kWh is exactly 12 345 Wh, with no floating point.
std::optional<std::int64_t> parse_decimal_scaled(std::string_view text, int scale);

/// Members of a payload the schema has already checked (ocpp_schema): a string member's text (empty when
/// absent), an optional string, an integer (`fallback` when absent or not an int64), an optional integer.
std::string_view member_str(const rapidjson::Value& o, const char* key);
std::optional<std::string> member_opt_str(const rapidjson::Value& o, const char* key);
std::int64_t member_int(const rapidjson::Value& o, const char* key, std::int64_t fallback = 0);
/// Shortens `s` to at most `max` bytes without cutting a UTF-8 character in two (a cut character
/// made the frame carrying the text invalid UTF-8: fuzz_ocpp found a CALLERROR the gateway sent so).
void cut_utf8(std::string& s, std::size_t max);
std::optional<std::int64_t> member_opt_int(const rapidjson::Value& o, const char* key);

} // namespace pilehub::ocpp
