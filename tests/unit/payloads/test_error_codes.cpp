#include "common/error_codes.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace pilehub;

TEST_CASE("error codes: every code spells a unique snake_case word that parses back to it") {
    std::set<std::string_view> words;
    REQUIRE(all_error_codes().size() == 35);
    for (auto c : all_error_codes()) {
        const auto w = to_string(c);
        CAPTURE(w);
        CHECK(words.insert(w).second);
        CHECK_FALSE(w.empty());
        for (char ch : w)
            CHECK(((ch >= 'a' && ch <= 'z') || ch == '_'));
        CHECK(parse_error_code(w) == c);
    }
}

TEST_CASE("error codes: the list holds every code the contract names") {
    for (const char* w : {"invalid_request",
                          "unauthorized",
                          "forbidden",
                          "not_found",
                          "unknown_socket",
                          "unknown_device",
                          "socket_busy",
                          "session_limit",
                          "device_offline",
                          "balance_too_low",
                          "account_frozen",
                          "socket_faulted",
                          "invalid_mode",
                          "expired",
                          "timeout",
                          "conflict",
                          "rate_limited",
                          "internal",
                          "unsupported",
                          "duplicate",
                          "invalid_amount",
                          "invalid_connector",
                          "unknown_space",
                          "space_busy",
                          "reservation_limit",
                          "plate_not_certified",
                          "plate_taken",
                          "space_reserved",
                          "device_failed",
                          "arrears",
                          "limit_exceeded",
                          "refund_exceeds_cost",
                          "device_not_installed"}) {
        CAPTURE(w);
        CHECK(parse_error_code(w).has_value());
    }
}

TEST_CASE("error codes: parsing is exact") {
    CHECK_FALSE(parse_error_code(""));
    CHECK_FALSE(parse_error_code("Socket_Busy"));
    CHECK_FALSE(parse_error_code("socket_busy "));
    CHECK_FALSE(parse_error_code("socket-busy"));
    CHECK_FALSE(parse_error_code(std::string_view("socket_busy\0", 12)));
    CHECK_FALSE(parse_error_code("no_such_code"));
}

TEST_CASE("error codes: map to the HTTP statuses of CONTRACT B") {
    CHECK(http_status(ErrorCode::UnknownSocket) == 404);
    CHECK(http_status(ErrorCode::SocketBusy) == 409);
    CHECK(http_status(ErrorCode::SessionLimit) == 409);
    CHECK(http_status(ErrorCode::DeviceOffline) == 503);
    CHECK(http_status(ErrorCode::BalanceTooLow) == 402);
    CHECK(http_status(ErrorCode::AccountFrozen) == 403);
    CHECK(http_status(ErrorCode::Arrears) == 402);
    CHECK(http_status(ErrorCode::LimitExceeded) == 403);
    CHECK(http_status(ErrorCode::RefundExceedsCost) == 409);
    CHECK(http_status(ErrorCode::DeviceNotInstalled) == 409);
    CHECK(http_status(ErrorCode::SocketFaulted) == 409);
    CHECK(http_status(ErrorCode::InvalidMode) == 422);
    CHECK(http_status(ErrorCode::InvalidAmount) == 422);
    CHECK(http_status(ErrorCode::InvalidConnector) == 422);
    CHECK(http_status(ErrorCode::InvalidRequest) == 400);
    CHECK(http_status(ErrorCode::Unauthorized) == 401);
    CHECK(http_status(ErrorCode::Forbidden) == 403);
    CHECK(http_status(ErrorCode::NotFound) == 404);
    CHECK(http_status(ErrorCode::RateLimited) == 429);
    CHECK(http_status(ErrorCode::Internal) == 500);
    CHECK(http_status(ErrorCode::Timeout) == 504);
    for (auto c : all_error_codes()) {
        CAPTURE(to_string(c));
        CHECK(http_status(c) >= 400);
        CHECK(http_status(c) <= 599);
    }
}
