#include "fake_outbound.hpp"
#include "tests/support/daemon.hpp"
#include "web-api/login_alipay.hpp"
#include "web-api/login_wechat.hpp"
#include "web-api/pay_alipay.hpp"
#include "web-api/pay_wechat.hpp"
#include "web-api/sms_aliyun.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

using namespace pilehub;
using namespace pilehub::api;

namespace {

/// A directory of key files like the stub's (tests/stubs/providers.mjs), and the settings naming them.
struct KeyDir {
    std::string dir = test::make_temp_dir("pilehub-provider-keys");
    ProviderSettings s;

    KeyDir() {
        s.wechat = {"wxa1b2c3d4e5f60001", write("wechat-secret", "0123456789abcdef0123456789abcdef"),
                    "http://127.0.0.1:9/wechat"};
        s.wechatpay = {
            "1900000109",
            "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
            write("wechatpay-merchant-key.pem", testutil::test_key_pem(1)),
            write("wechatpay-apiv3.key", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6\n"),
            write("wechatpay-platform-public.pem", crypto::PrivateKey(testutil::test_key_pem(2)).public_pem()),
            "PUB_KEY_ID_01",
            "http://127.0.0.1:9/wechatpay",
            "http://127.0.0.1:8/api/v1/pay/notify/wechat"};
        s.alipay = {"2021000000000001",
                    "2088000000000001",
                    write("alipay-app-private.pem", testutil::test_key_pem(4)),
                    write("alipay-public.pem", crypto::PrivateKey(testutil::test_key_pem(5)).public_pem()),
                    write("alipay-aes.key", crypto::base64("0123456789ABCDEF") + "\n"),
                    "http://127.0.0.1:9/alipay/gateway.do",
                    "http://127.0.0.1:8/api/v1/pay/notify/alipay"};
        s.sms = {"aliyun",     "LTAI5tStubAccessKey01", write("aliyun-sms-secret", "abcdefghijklmnopqrstuvwxyz0123"),
                 "PileHub",    "SMS_154950909",         "http://127.0.0.1:9/aliyun-sms/",
                 "cn-hangzhou"};
    }
    ~KeyDir() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    std::string write(const std::string& name, const std::string& text) {
        const auto path = dir + "/" + name;
        std::ofstream(path) << text;
        return path;
    }
};

/// The ConfigError's message when `build` throws one ("" when it does not).
template <typename F> std::string config_error(F build) {
    try {
        build();
    } catch (const ConfigError& e) {
        return e.what();
    }
    return {};
}

} // namespace

TEST_CASE("provider clients: each is built from the settings and its key files") {
    KeyDir k;
    testutil::FakeOutbound http;
    const auto& clock = SystemClock::instance();
    CHECK(WechatPayProvider::from(k.s, http, clock) != nullptr);
    CHECK(WechatPayProvider::config_from(k.s).apiv3_key == "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6");
    CHECK(AlipayProvider::from(k.s, http, clock) != nullptr);
    CHECK(AlipayProvider::from(k.s, http, clock)->merchant().merchant_id == "2088000000000001");
    CHECK(WechatLogin::from(k.s, http, clock) != nullptr);
    CHECK(AlipayLogin::from(k.s, http, clock) != nullptr);
    CHECK(AlipayLogin::config_from(k.s).aes_key == "0123456789ABCDEF");
    CHECK(AliyunSmsProvider::from(k.s, http, clock) != nullptr);
    CHECK(http.requests().empty()); // building calls nobody
}

TEST_CASE("provider clients: a missing, bad or wrong-sized key file is a ConfigError naming its key") {
    testutil::FakeOutbound http;
    const auto& clock = SystemClock::instance();
    struct Row {
        std::function<void(KeyDir&)> spoil;
        std::function<void(const ProviderSettings&)> build;
        const char* key;
    };
    const Row rows[] = {
        {[](KeyDir& k) { k.s.wechatpay.merchant_key_file = k.dir + "/absent.pem"; },
         [&](const ProviderSettings& s) { WechatPayProvider::from(s, http, clock); },
         "pilehub-api.wechatpay.merchant_key_file"},
        {[](KeyDir& k) { k.write("wechatpay-merchant-key.pem", "not a key"); },
         [&](const ProviderSettings& s) { WechatPayProvider::from(s, http, clock); },
         "pilehub-api.wechatpay.merchant_key_file"},
        {[](KeyDir& k) {
             k.write("wechatpay-platform-public.pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----");
         },
         [&](const ProviderSettings& s) { WechatPayProvider::from(s, http, clock); },
         "pilehub-api.wechatpay.platform_public_key_file"},
        {[](KeyDir& k) { k.write("wechatpay-apiv3.key", "tooshort"); },
         [&](const ProviderSettings& s) { WechatPayProvider::from(s, http, clock); },
         "pilehub-api.wechatpay.apiv3_key_file"},
        {[](KeyDir& k) { k.write("alipay-app-private.pem", "MIIB"); },
         [&](const ProviderSettings& s) { AlipayProvider::from(s, http, clock); },
         "pilehub-api.alipay.app_private_key_file"},
        {[](KeyDir& k) { k.write("alipay-public.pem", "garbage"); },
         [&](const ProviderSettings& s) { AlipayLogin::from(s, http, clock); },
         "pilehub-api.alipay.alipay_public_key_file"},
        {[](KeyDir& k) { k.write("alipay-aes.key", "not base64!"); },
         [&](const ProviderSettings& s) { AlipayLogin::from(s, http, clock); }, "pilehub-api.alipay.aes_key_file"},
        {[](KeyDir& k) { k.write("wechat-secret", "\n"); },
         [&](const ProviderSettings& s) { WechatLogin::from(s, http, clock); }, "pilehub-api.wechat.secret_file"},
        {[](KeyDir& k) { k.s.sms.access_key_secret_file = k.dir + "/absent"; },
         [&](const ProviderSettings& s) { AliyunSmsProvider::from(s, http, clock); },
         "pilehub-api.sms.access_key_secret_file"},
    };
    for (const auto& r : rows) {
        KeyDir k;
        r.spoil(k);
        const auto why = config_error([&] { r.build(k.s); });
        CHECK_MESSAGE(why.find(r.key) != std::string::npos, r.key << ": " << why);
    }
}
