#include "alipay_test_util.hpp"
#include "web-api/login_alipay.hpp"
#include "web-api/login_wechat.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <atomic>
#include <thread>

using namespace pilehub;
using namespace pilehub::api;
using testutil::FakeOutbound;

namespace {

constexpr const char* kAppid = "wxa1b2c3d4e5f60001";
constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";

WechatLoginConfig wechat_config() {
    return {kAppid, kSecret, "http://127.0.0.1:9/wechat/"};
}

std::string path_of(const std::string& url) {
    const auto start = url.find("/wechat") + 7;
    return url.substr(start, url.find('?') - start);
}

/// WeChat's API over a FakeOutbound: tokens `T1`, `T2`, … (valid 7200 s); `valid_token` is the one
/// getuserphonenumber accepts (40001 otherwise); `phone_info` what it answers.
struct WechatFake {
    FakeOutbound http;
    std::atomic<int> token_fetches{0};
    std::string valid_token = "T1";
    std::string phone_info = R"({"phoneNumber":"13800000000","purePhoneNumber":"13800000000","countryCode":"86",)"
                             R"("watermark":{"timestamp":1796626800,"appid":"wxa1b2c3d4e5f60001"}})";
    WechatFake() {
        http.answer = [this](const outbound::Request& r) {
            const auto q = testutil::query_of(r.url);
            const auto path = path_of(r.url);
            if (path == "/sns/jscode2session") {
                if (testutil::value_of(q, "secret") != kSecret || testutil::value_of(q, "appid") != kAppid)
                    return testutil::response(200, R"({"errcode":40125,"errmsg":"invalid appsecret"})");
                if (testutil::value_of(q, "grant_type") != "authorization_code")
                    return testutil::response(200, R"({"errcode":40002,"errmsg":"invalid grant_type"})");
                if (testutil::value_of(q, "js_code") != "CODE 1")
                    return testutil::response(200, R"({"errcode":40029,"errmsg":"invalid code"})");
                return testutil::response(200, R"({"openid":"oOPEN","session_key":"k","unionid":"oUNION"})");
            }
            if (path == "/cgi-bin/token") {
                const int n = ++token_fetches;
                return testutil::response(200, fmt::format(R"({{"access_token":"T{}","expires_in":7200}})", n));
            }
            if (path == "/wxa/business/getuserphonenumber") {
                if (testutil::value_of(q, "access_token") != valid_token)
                    return testutil::response(200, R"({"errcode":40001,"errmsg":"invalid credential"})");
                if (r.body != R"({"code":"PHONE"})")
                    return testutil::response(200, R"({"errcode":40029,"errmsg":"invalid code"})");
                return testutil::response(200, R"({"errcode":0,"errmsg":"ok","phone_info":)" + phone_info + "}");
            }
            return testutil::response(404, "");
        };
    }
};

} // namespace

TEST_CASE("wechat login: a wx.login code is exchanged for the rider's openid and unionid") {
    WechatFake f;
    WechatLogin login(wechat_config(), f.http);
    auto s = login.exchange("CODE 1");
    REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error()));
    CHECK(s->provider == "wechat");
    CHECK(s->id == "oOPEN");
    CHECK(s->union_id == "oUNION");
    const auto req = f.http.requests().at(0);
    CHECK(req.method == "GET");
    CHECK(req.url.rfind("http://127.0.0.1:9/wechat/sns/jscode2session?", 0) == 0);
    CHECK(req.url.find("js_code=CODE%201") != std::string::npos);

    auto bad = login.exchange("used");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().find("40029") != std::string::npos);

    WechatFake g;
    auto c = wechat_config();
    c.secret = "wrong";
    auto wrong = WechatLogin(c, g.http).exchange("CODE 1");
    REQUIRE_FALSE(wrong.ok());
    CHECK(wrong.error().find("40125") != std::string::npos);
    CHECK(wrong.error().find("wrong") == std::string::npos); // the secret is never repeated
}

TEST_CASE("wechat login: the phone is read with one cached access token, refetched when expired or refused") {
    WechatFake f;
    ManualClock clock;
    WechatLogin login(wechat_config(), f.http, clock);

    CHECK(login.phone("PHONE").value() == "13800000000");
    CHECK(login.phone("PHONE").value() == "13800000000");
    CHECK(f.token_fetches == 1);
    const auto post = f.http.requests().at(1);
    CHECK(post.method == "POST");
    CHECK(post.content_type == "application/json");
    CHECK(post.url == "http://127.0.0.1:9/wechat/wxa/business/getuserphonenumber?access_token=T1");

    // Kept until 300 s before WeChat's expires_in.
    clock.advance_ms((7200 - 300) * 1000 - 1);
    CHECK(login.phone("PHONE").ok());
    CHECK(f.token_fetches == 1);
    clock.advance_ms(1);
    f.valid_token = "T2";
    CHECK(login.phone("PHONE").ok());
    CHECK(f.token_fetches == 2);

    // WeChat refuses the token (40001): fetched again and the call retried once.
    f.valid_token = "T3";
    CHECK(login.phone("PHONE").value() == "13800000000");
    CHECK(f.token_fetches == 3);

    // Refused again after the retry: a failure, not a loop.
    f.valid_token = "never";
    auto r = login.phone("PHONE");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().find("40001") != std::string::npos);
    CHECK(f.token_fetches == 4);
    CHECK(r.error().find("T4") == std::string::npos); // the token is never repeated

    auto bad = WechatLogin(wechat_config(), f.http, clock).phone("OTHER");
    CHECK_FALSE(bad.ok());
}

TEST_CASE("wechat login: threads share one token fetch") {
    WechatFake f;
    WechatLogin login(wechat_config(), f.http);
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&] { ok += login.phone("PHONE").ok() ? 1 : 0; });
    for (auto& t : threads)
        t.join();
    CHECK(ok == 8);
    CHECK(f.token_fetches == 1);
}

TEST_CASE("wechat login: the phone is the pure number for China, +country otherwise, and only for our app") {
    struct Row {
        const char* info;
        std::optional<std::string> want;
    };
    const Row rows[] = {
        {R"({"phoneNumber":"+8613800000000","purePhoneNumber":"13800000000","countryCode":"86","watermark":{"timestamp":1,"appid":"wxa1b2c3d4e5f60001"}})",
         "13800000000"},
        {R"({"phoneNumber":"+85261234567","purePhoneNumber":"61234567","countryCode":"852","watermark":{"timestamp":1,"appid":"wxa1b2c3d4e5f60001"}})",
         "+85261234567"},
        {R"({"phoneNumber":"13800000000","purePhoneNumber":"13800000000","countryCode":"86","watermark":{"timestamp":1,"appid":"wxOTHER"}})",
         std::nullopt},
        {R"({"phoneNumber":"13800000000","purePhoneNumber":"13800000000","countryCode":"86"})", std::nullopt},
    };
    for (const auto& r : rows) {
        WechatFake f;
        f.phone_info = r.info;
        WechatLogin login(wechat_config(), f.http);
        auto p = login.phone("PHONE");
        CHECK_MESSAGE(p.ok() == r.want.has_value(), r.info);
        if (p.ok() && r.want)
            CHECK(*p == *r.want);
    }
}

namespace {

const std::string kAesKey = std::string("0123456789ABCDEF"); // 16 bytes

AlipayLoginConfig alipay_config() {
    return {testutil::alipay_gateway_config(), kAesKey};
}

/// What my.getPhoneNumber hands the mini-program: the sealed answer and Alipay's signature of it,
/// over `"<response>"` as Alipay's sample code verifies it (or the bare text with `quoted` false).
std::string phone_text(const std::string& inner, bool quoted = true, const std::string& key = kAesKey,
                       const crypto::PrivateKey& signer = testutil::alipay_key()) {
    const auto response = crypto::base64(crypto::aes_cbc_encrypt(key, std::string(16, '\0'), inner));
    const auto sign = signer.sign_sha256_base64(quoted ? "\"" + response + "\"" : response);
    return fmt::format(R"({{"response":"{}","sign":"{}","sign_type":"RSA2","encrypt_type":"AES","charset":"UTF-8"}})",
                       response, sign);
}

const std::string kMobile = R"({"code":"10000","msg":"Success","mobile":"13800000000"})";

} // namespace

TEST_CASE("alipay login: an auth code is exchanged at alipay.system.oauth.token for the user id") {
    testutil::AlipayGatewayFake gw;
    std::string member =
        R"({"user_id":"2088102150477652","open_id":"074a1CcTG1","access_token":"t","expires_in":1296000,)"
        R"("refresh_token":"r","re_expires_in":2592000})";
    gw.reply = [&](const std::string&, const testutil::AlipayGatewayFake::Form&) { return member; };
    AlipayLogin login(alipay_config(), gw.http);
    auto s = login.exchange("authcode1");
    REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error()));
    CHECK(s->provider == "alipay");
    CHECK(s->id == "2088102150477652");
    CHECK(gw.signed_ok);
    CHECK(gw.last("method") == "alipay.system.oauth.token");
    CHECK(gw.last("grant_type") == "authorization_code");
    CHECK(gw.last("code") == "authcode1");
    CHECK(gw.last("biz_content").empty());

    member = R"({"open_id":"074a1CcTG1","access_token":"t","expires_in":1296000})";
    CHECK(login.exchange("authcode2").value().id == "074a1CcTG1");

    gw.reply = [](const std::string&, const testutil::AlipayGatewayFake::Form&) {
        return std::string(
            R"(!{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.code-invalid","sub_msg":"授权码code无效"},"sign":"x"})");
    };
    auto bad = login.exchange("used");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().find("isv.code-invalid") != std::string::npos);
}

TEST_CASE("alipay login: the phone text is verified with Alipay's key, then decrypted with the app's AES key") {
    testutil::AlipayGatewayFake gw;
    AlipayLogin login(alipay_config(), gw.http);
    CHECK(login.phone(phone_text(kMobile)).value() == "13800000000");
    CHECK(login.phone(phone_text(kMobile, false)).value() == "13800000000"); // PROVIDERS-SPEC §3's spelling
    CHECK(gw.http.requests().empty());

    struct Row {
        const char* what;
        std::string text;
    };
    auto flipped = phone_text(kMobile);
    const auto at = flipped.find("\"sign\":\"") + 12;
    flipped[at] = flipped[at] == 'A' ? 'B' : 'A';
    const Row rows[] = {
        {"a signature character", flipped},
        {"signed by our own key", phone_text(kMobile, true, kAesKey, testutil::alipay_app_key())},
        {"sealed with another AES key", phone_text(kMobile, true, "FEDCBA9876543210")},
        {"Alipay's refusal inside",
         phone_text(
             R"({"code":"40006","msg":"Insufficient Permissions","subCode":"isv.insufficient-isv-permissions"})")},
        {"no mobile", phone_text(R"({"code":"10000","msg":"Success"})")},
        {"not JSON", "13800000000"},
        {"no sign", R"({"response":"abc"})"},
        {"another encryption", R"({"response":"abc","sign":"x","encrypt_type":"SM4"})"},
        {"empty", ""},
    };
    for (const auto& r : rows)
        CHECK_MESSAGE(!login.phone(r.text).ok(), r.what);
}

TEST_CASE("alipay login: the AES key must be 16 bytes") {
    testutil::AlipayGatewayFake gw;
    auto c = alipay_config();
    c.aes_key = "short";
    CHECK_THROWS_WITH_AS(AlipayLogin(c, gw.http), doctest::Contains("pilehub-api.alipay.aes_key_file"),
                         std::invalid_argument);
}
