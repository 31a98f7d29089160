#include "web-api/outbound.hpp"

#include <doctest/doctest.h>

using namespace pilehub::api;

TEST_CASE("outbound: an absolute URL splits into where to connect and what to ask for") {
    struct Row {
        const char* url;
        bool ok;
        const char* scheme = "";
        const char* host = "";
        int port = 0;
        const char* origin = "";
        const char* target = "";
    };
    const Row rows[] = {
        {"https://api.mch.weixin.qq.com/v3/pay/transactions/jsapi", true, "https", "api.mch.weixin.qq.com", 443,
         "https://api.mch.weixin.qq.com:443", "/v3/pay/transactions/jsapi"},
        {"http://127.0.0.1:8080/wechat/sns/jscode2session?appid=a&secret=b", true, "http", "127.0.0.1", 8080,
         "http://127.0.0.1:8080", "/wechat/sns/jscode2session?appid=a&secret=b"},
        {"HTTPS://openapi.alipay.com/gateway.do#frag", true, "https", "openapi.alipay.com", 443,
         "https://openapi.alipay.com:443", "/gateway.do"},
        {"http://[::1]:9/x", true, "http", "::1", 9, "http://[::1]:9", "/x"},
        {"https://dysmsapi.aliyuncs.com", true, "https", "dysmsapi.aliyuncs.com", 443,
         "https://dysmsapi.aliyuncs.com:443", "/"},
        {"https://dysmsapi.aliyuncs.com?x=1", true, "https", "dysmsapi.aliyuncs.com", 443,
         "https://dysmsapi.aliyuncs.com:443", "/?x=1"},
        {"ftp://example.com/", false},
        {"example.com/path", false},
        {"https://user:pw@example.com/", false},
        {"https:///path", false},
        {"http://host:0/", false},
        {"http://host:65536/", false},
        {"http://host:8x/", false},
        {"http://host:/", false},
        {"http://[::1/", false},
    };
    for (const auto& r : rows) {
        const auto u = outbound::split_url(r.url);
        REQUIRE_MESSAGE(u.has_value() == r.ok, r.url);
        if (!u)
            continue;
        CHECK_MESSAGE(u->scheme == r.scheme, r.url);
        CHECK_MESSAGE(u->host == r.host, r.url);
        CHECK_MESSAGE(u->port == r.port, r.url);
        CHECK_MESSAGE(u->origin == r.origin, r.url);
        CHECK_MESSAGE(u->target == r.target, r.url);
    }
}

TEST_CASE("outbound: plain http may reach this machine's loopback only") {
    const std::pair<const char*, bool> rows[] = {
        {"127.0.0.1", true},   {"127.1.2.3", true},          {"::1", true},
        {"localhost", true},   {"127.example.com", false},   {"127.0.0", false},
        {"127.0.0.1.", false}, {"127..0.1", false},          {"128.0.0.1", false},
        {"10.0.0.1", false},   {"api.weixin.qq.com", false},
    };
    for (const auto& [host, want] : rows)
        CHECK_MESSAGE(outbound::is_loopback(host) == want, host);
}

TEST_CASE("outbound: forms are percent-encoded both sides and decoded with + as a space") {
    CHECK(outbound::form_encode({{"biz_content", R"({"a":"b c"})"}, {"sign", "ab+/=="}}) ==
          "biz_content=%7B%22a%22%3A%22b%20c%22%7D&sign=ab%2B%2F%3D%3D");
    const auto d = outbound::form_decode("notify_time=2026-12-07+15%3A04%3A06&flag&x=%E4%B8%AD&&y=");
    REQUIRE(d.has_value());
    const std::vector<std::pair<std::string, std::string>> want = {
        {"notify_time", "2026-12-07 15:04:06"}, {"flag", ""}, {"x", "中"}, {"y", ""}};
    CHECK(*d == want);
    CHECK_FALSE(outbound::form_decode("a=%zz"));
    const std::vector<std::pair<std::string, std::string>> round = {{"k y", "v&=+%中"}};
    CHECK(outbound::form_decode(outbound::form_encode(round)) == round);
}
