#include "common/socket_code.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace pilehub;
using sockets::SocketRef;

TEST_CASE("socket codes: <device_id>-<n> splits at the last dash, n 1..64 without a leading zero") {
    struct Row {
        std::string code;
        std::optional<SocketRef> want;
    };
    const Row rows[] = {
        {"P1-3", SocketRef{"P1", 3}},
        {"pile-07a-12", SocketRef{"pile-07a", 12}},
        {"demo-e00001-3", SocketRef{"demo-e00001", 3}},
        {"P1-64", SocketRef{"P1", 64}},
        {"A_b-1", SocketRef{"A_b", 1}},
        {std::string(48, 'x') + "-1", SocketRef{std::string(48, 'x'), 1}},
        {std::string(49, 'x') + "-1", std::nullopt}, // device ids have at most 48 characters
        {"P1", std::nullopt},
        {"P1-", std::nullopt},
        {"-3", std::nullopt},
        {"P1-0", std::nullopt},
        {"P1-03", std::nullopt},
        {"P1-65", std::nullopt},
        {"P1-100", std::nullopt},
        {"P1-99999999999", std::nullopt},
        {"P1-x", std::nullopt},
        {"P1-+3", std::nullopt},
        {"P1-3 ", std::nullopt},
        {"P 1-3", std::nullopt},
        {"P1-3-", std::nullopt},
        {"P1'--3", std::nullopt},
        {"a/b-3", std::nullopt},
        {"svc.x-3", std::nullopt},
        {"", std::nullopt},
    };
    for (const auto& r : rows)
        CHECK_MESSAGE(sockets::parse_socket_code(r.code) == r.want, r.code);
}

TEST_CASE("socket codes: socket_code writes what parse_socket_code reads") {
    for (const SocketRef& s : {SocketRef{"P1", 1}, SocketRef{"pile-07a", 12}, SocketRef{"e_9", 64}}) {
        CHECK(sockets::socket_code(s) == s.device_id + "-" + std::to_string(s.n));
        CHECK(sockets::parse_socket_code(sockets::socket_code(s)) == s);
    }
}
