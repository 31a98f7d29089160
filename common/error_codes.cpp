#include "common/error_codes.hpp"

#include <array>

namespace pilehub {

namespace {

struct CodeInfo {
    ErrorCode code;
    std::string_view word;
    int http;
};

// One row per code, in declaration order (a test checks that every enumerator has its row).
constexpr std::array kCodes{
    CodeInfo{ErrorCode::InvalidRequest, "invalid_request", 400},
    CodeInfo{ErrorCode::Unauthorized, "unauthorized", 401},
    CodeInfo{ErrorCode::Forbidden, "forbidden", 403},
    CodeInfo{ErrorCode::NotFound, "not_found", 404},
    CodeInfo{ErrorCode::UnknownSocket, "unknown_socket", 404},
    CodeInfo{ErrorCode::UnknownDevice, "unknown_device", 404},
    CodeInfo{ErrorCode::UnknownCard, "unknown_card", 404},
    CodeInfo{ErrorCode::CardLost, "card_lost", 403},
    CodeInfo{ErrorCode::SocketBusy, "socket_busy", 409},
    CodeInfo{ErrorCode::SessionLimit, "session_limit", 409},
    CodeInfo{ErrorCode::DeviceOffline, "device_offline", 503},
    CodeInfo{ErrorCode::BalanceTooLow, "balance_too_low", 402},
    CodeInfo{ErrorCode::AccountFrozen, "account_frozen", 403},
    CodeInfo{ErrorCode::SocketFaulted, "socket_faulted", 409},
    CodeInfo{ErrorCode::InvalidMode, "invalid_mode", 422},
    CodeInfo{ErrorCode::Expired, "expired", 410},
    CodeInfo{ErrorCode::Timeout, "timeout", 504},
    CodeInfo{ErrorCode::Conflict, "conflict", 409},
    CodeInfo{ErrorCode::RateLimited, "rate_limited", 429},
    CodeInfo{ErrorCode::Internal, "internal", 500},
    CodeInfo{ErrorCode::Unsupported, "unsupported", 501},
    CodeInfo{ErrorCode::Duplicate, "duplicate", 409},
    CodeInfo{ErrorCode::InvalidAmount, "invalid_amount", 422},
    CodeInfo{ErrorCode::InvalidConnector, "invalid_connector", 422},
    CodeInfo{ErrorCode::UnknownSpace, "unknown_space", 404},
    CodeInfo{ErrorCode::SpaceBusy, "space_busy", 409},
    CodeInfo{ErrorCode::ReservationLimit, "reservation_limit", 409},
    CodeInfo{ErrorCode::PlateNotCertified, "plate_not_certified", 422},
    CodeInfo{ErrorCode::PlateTaken, "plate_taken", 409},
    CodeInfo{ErrorCode::SpaceReserved, "space_reserved", 409},
    CodeInfo{ErrorCode::DeviceFailed, "device_failed", 502},
    CodeInfo{ErrorCode::Arrears, "arrears", 402},
    CodeInfo{ErrorCode::LimitExceeded, "limit_exceeded", 403},
    CodeInfo{ErrorCode::RefundExceedsCost, "refund_exceeds_cost", 409},
    CodeInfo{ErrorCode::DeviceNotInstalled, "device_not_installed", 409},
};

constexpr std::array<ErrorCode, kCodes.size()> make_all() {
    std::array<ErrorCode, kCodes.size()> out{};
    for (std::size_t i = 0; i < kCodes.size(); ++i)
        out[i] = kCodes[i].code;
    return out;
}
constexpr auto kAll = make_all();

constexpr bool rows_in_order() {
    for (std::size_t i = 0; i < kCodes.size(); ++i)
        if (static_cast<std::size_t>(kCodes[i].code) != i)
            return false;
    return true;
}
static_assert(rows_in_order(), "kCodes must list ErrorCode in declaration order");

} // namespace

std::span<const ErrorCode> all_error_codes() {
    return kAll;
}

std::string_view to_string(ErrorCode c) {
    const auto i = static_cast<std::size_t>(c);
    return i < kCodes.size() ? kCodes[i].word : std::string_view("internal");
}

std::optional<ErrorCode> parse_error_code(std::string_view s) {
    for (const auto& row : kCodes)
        if (row.word == s)
            return row.code;
    return std::nullopt;
}

int http_status(ErrorCode c) {
    const auto i = static_cast<std::size_t>(c);
    return i < kCodes.size() ? kCodes[i].http : 500;
}

} // namespace pilehub
