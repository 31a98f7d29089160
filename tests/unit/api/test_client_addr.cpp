// The client behind a reverse proxy (web-api/client_addr.hpp): X-Forwarded-For is believed only
// from a trusted proxy, and then its right-most untrusted address is the client.
#include "web-api/client_addr.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace pilehub::api;

TEST_CASE("client address: the peer unless it is a trusted proxy; then the right-most untrusted X-Forwarded-For hop") {
    struct Row {
        const char* trusted;
        const char* peer;
        const char* xff;
        const char* client;
    };
    for (const auto& r : std::vector<Row>{
             {"", "127.0.0.1", "203.0.113.9", "127.0.0.1"},              // nothing trusted: the header is ignored
             {"10.0.0.0/8", "127.0.0.1", "203.0.113.9", "127.0.0.1"},    // peer not trusted
             {"127.0.0.1/8", "127.0.0.1", "203.0.113.9", "203.0.113.9"}, // one proxy
             {"127.0.0.1/8", "127.0.0.1", "", "127.0.0.1"},              // no header
             {"127.0.0.1/8", "127.0.0.1", "1.1.1.1, 203.0.113.9", "203.0.113.9"}, // the left part is the client's word
             {"127.0.0.1/8, 10.0.0.0/8", "127.0.0.1", "203.0.113.9, 10.1.2.3", "203.0.113.9"}, // two proxies
             {"127.0.0.1/8, 10.0.0.0/8", "127.0.0.1", "10.9.9.9, 10.1.2.3", "10.9.9.9"},       // all trusted: left-most
             {"127.0.0.1/8", "127.0.0.1", "garbage, 203.0.113.9", "203.0.113.9"},
             {"127.0.0.1/8", "127.0.0.1", "203.0.113.9, garbage", "127.0.0.1"}, // a bad hop ends the walk
             {"::1", "::1", "2001:db8::7", "2001:db8::7"},
             {"127.0.0.1", "::ffff:127.0.0.1", "198.51.100.4", "198.51.100.4"}, // IPv4-mapped peer
             {"fd00::/8", "127.0.0.1", "198.51.100.4", "127.0.0.1"},
         }) {
        CAPTURE(r.trusted);
        CAPTURE(r.peer);
        CAPTURE(r.xff);
        std::string err;
        const auto t = TrustedProxies::parse(r.trusted, &err);
        REQUIRE(err.empty());
        CHECK(client_address(r.peer, r.xff, t) == r.client);
    }
}

TEST_CASE("client address: a trusted proxy list with an entry that is not an address or network is refused") {
    for (const char* bad : {"127.0.0.1/33", "localhost", "10.0.0.0/8, nope", "::1/129", "1.2.3.4/x"}) {
        CAPTURE(bad);
        std::string err;
        CHECK(TrustedProxies::parse(bad, &err).empty());
        CHECK_FALSE(err.empty());
    }
    std::string err;
    CHECK_FALSE(TrustedProxies::parse(" 127.0.0.1 , ::1 ,10.0.0.0/8", &err).empty());
    CHECK(err.empty());
}
