#include "common/crypto.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace pilehub;

TEST_CASE("crypto: hex, SHA-256 and HMAC-SHA256 match the published test vectors") {
    struct Row {
        const char* what;
        std::string got;
        std::string want;
    };
    const Row rows[] = {
        {"hex of bytes", crypto::hex(std::string("\x00\x01\xab\xff", 4)), "0001abff"},
        {"hex of nothing", crypto::hex(""), ""},
        {"sha256 of nothing (FIPS 180-2)", crypto::sha256_hex(""),
         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"sha256 of abc (FIPS 180-2)", crypto::sha256_hex("abc"),
         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"hmac-sha256 RFC 4231 case 2", crypto::hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {"hmac-sha256 RFC 4231 case 1", crypto::hmac_sha256_hex(std::string(20, '\x0b'), "Hi There"),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"base64 (RFC 4648)", crypto::base64("foobar"), "Zm9vYmFy"},
        {"base64 with padding", crypto::base64("fo"), "Zm8="},
        {"base64 back", crypto::unbase64("Zm8="), "fo"},
        {"base64 back without padding", crypto::unbase64("Zm9vYmFy"), "foobar"},
    };
    for (const auto& r : rows)
        CHECK_MESSAGE(r.got == r.want, r.what);
}

TEST_CASE("crypto: random bytes, hex and tokens have the asked size and never repeat") {
    CHECK(crypto::random_bytes(0).empty());
    CHECK(crypto::random_bytes(16).size() == 16);
    std::set<std::string> hexes, tokens;
    for (int i = 0; i < 200; ++i) {
        const auto h = crypto::random_hex(16);
        CHECK(h.size() == 32);
        CHECK(h.find_first_not_of("0123456789abcdef") == std::string::npos);
        hexes.insert(h);
        const auto t = crypto::random_token(24);
        CHECK(t.size() == 32); // 24 bytes = 192 bits, no padding
        CHECK(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
              std::string::npos);
        tokens.insert(t);
    }
    CHECK(hexes.size() == 200);
    CHECK(tokens.size() == 200);
}

TEST_CASE("crypto: constant-time comparison is equality, lengths included") {
    struct Row {
        std::string a, b;
        bool equal;
    };
    const Row rows[] = {
        {"", "", true},
        {"abc", "abc", true},
        {"abc", "abd", false},
        {"abc", "ab", false},
        {"ab", "abc", false},
        {"", "a", false},
        {std::string("a\0b", 3), std::string("a\0c", 3), false},
    };
    for (const auto& r : rows)
        CHECK_MESSAGE(crypto::equal_constant_time(r.a, r.b) == r.equal, r.a << " vs " << r.b);
}
