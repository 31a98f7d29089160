#pragma once
#include <optional>
#include <span>
#include <string_view>

namespace pilehub {

/// The one closed list of stable snake_case error codes (CONTRACT A.3 reply `code`, CONTRACT B
/// `{"error": {"code": ...}}`). Device command replies, request replies and HTTP errors all use
/// it. Codes are promises to app and firmware writers: add new ones, never rename or remove.
enum class ErrorCode {
    InvalidRequest,     ///< `invalid_request` (400): the request or payload is malformed.
    Unauthorized,       ///< `unauthorized` (401): no or bad credentials.
    Forbidden,          ///< `forbidden` (403): authenticated but not allowed.
    NotFound,           ///< `not_found` (404): the addressed thing does not exist.
    UnknownSocket,      ///< `unknown_socket` (404): no such socket / gun / space.
    UnknownDevice,      ///< `unknown_device` (404): no such device.
    UnknownCard,        ///< `unknown_card` (404): the card is not bound to any account.
    CardLost,           ///< `card_lost` (403): the card was reported lost or unbound.
    SocketBusy,         ///< `socket_busy` (409): the socket is in use.
    SessionLimit,       ///< `session_limit` (409): the account already has its sessions running.
    DeviceOffline,      ///< `device_offline` (503): the device is not connected.
    BalanceTooLow,      ///< `balance_too_low` (402): wallet below the start minimum.
    AccountFrozen,      ///< `account_frozen` (403): the account is frozen.
    SocketFaulted,      ///< `socket_faulted` (409): the socket reports a fault.
    InvalidMode,        ///< `invalid_mode` (422): the charging mode/limit is not offered.
    Expired,            ///< `expired` (410): a command arrived after its `exp`.
    Timeout,            ///< `timeout` (504): the device or a worker did not answer in time.
    Conflict,           ///< `conflict` (409): the state changed underneath the request.
    RateLimited,        ///< `rate_limited` (429): too many requests.
    Internal,           ///< `internal` (500): a bug or an infrastructure failure.
    Unsupported,        ///< `unsupported` (501): the device or platform does not implement it.
    Duplicate,          ///< `duplicate` (409): the same id/rid/idempotency key was already handled.
    InvalidAmount,      ///< `invalid_amount` (422): a prepaid amount the station does not offer, or out of range.
    InvalidConnector,   ///< `invalid_connector` (422): a gun's connector (number, type, rated power) is not valid.
    UnknownSpace,       ///< `unknown_space` (404): no such parking space (CONTRACT E).
    SpaceBusy,          ///< `space_busy` (409): the space is occupied or reserved.
    ReservationLimit,   ///< `reservation_limit` (409): the account already has its active reservation.
    PlateNotCertified,  ///< `plate_not_certified` (422): the plate is not the account's certified plate.
    PlateTaken,         ///< `plate_taken` (409): another account holds the plate.
    SpaceReserved,      ///< `space_reserved` (409): the gun's space is reserved for someone else.
    DeviceFailed,       ///< `device_failed` (502): the device tried and failed (a lock that jammed).
    Arrears,            ///< `arrears` (402): the account owes a bill its wallet could not cover; it starts nothing.
    LimitExceeded,      ///< `limit_exceeded` (403): a staff money limit (counter recharge, refunds per day).
    RefundExceedsCost,  ///< `refund_exceeds_cost` (409): an order refund above the session's cost not yet refunded.
    DeviceNotInstalled, ///< `device_not_installed` (409): the device is in stock or retired (CONTRACT G "Lifecycle").
};

/// Every code, in declaration order.
std::span<const ErrorCode> all_error_codes();
/// The stable wire word, e.g. `socket_busy`.
std::string_view to_string(ErrorCode c);
/// The code for a wire word; nullopt for anything not in the list (exact, case-sensitive).
std::optional<ErrorCode> parse_error_code(std::string_view s);
/// The HTTP status an API error with this code carries (CONTRACT B).
int http_status(ErrorCode c);

} // namespace pilehub
