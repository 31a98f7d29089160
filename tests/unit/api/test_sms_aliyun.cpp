#include "fake_outbound.hpp"
#include "web-api/sms_aliyun.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace pilehub;
using namespace pilehub::api;
using testutil::FakeOutbound;

namespace {

AliyunSmsConfig config() {
    AliyunSmsConfig c;
    c.access_key_id = "LTAI5tStubAccessKey01";
    c.access_key_secret = "abcdefghijklmnopqrstuvwxyz0123";
    c.sign_name = "PileHub";
    c.template_code = "SMS_154950909";
    c.endpoint = "http://127.0.0.1:9/aliyun-sms/";
    return c;
}

} // namespace

TEST_CASE("aliyun sms: the RPC signature reproduces Alibaba Cloud's published example") {
    // Alibaba Cloud, "Signature mechanism" for RPC APIs (English page,
    // https://www.alibabacloud.com/help/en/sdk/product-overview/rpc-mechanism): AccessKey testid /
    // testsecret, DescribeRegions, Timestamp 2016-02-23T12:46:24Z → OLeaidS1JvxuMvnyHOwuJ+uX5qY=.
    AliyunSmsProvider::Params params = {{"Timestamp", "2016-02-23T12:46:24Z"},
                                        {"Format", "XML"},
                                        {"AccessKeyId", "testid"},
                                        {"Action", "DescribeRegions"},
                                        {"SignatureMethod", "HMAC-SHA1"},
                                        {"SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
                                        {"Version", "2014-05-26"},
                                        {"SignatureVersion", "1.0"}};
    CHECK(AliyunSmsProvider::signature("testsecret", "GET", params) == "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    CHECK(AliyunSmsProvider::canonical_query(params) ==
          "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1&SignatureNonce=3ee8c1b8-"
          "83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0&Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26");

    // The Chinese page (help.aliyun.com, "RPC 签名机制") shows CT9X0VtwR86fNWSnsc6v8YGOjuE=: its parameter
    // is spelled `TimeStamp`, which sorts and signs differently; the same rule reproduces that value too.
    params[0].first = "TimeStamp";
    CHECK(AliyunSmsProvider::signature("testsecret", "GET", params) == "CT9X0VtwR86fNWSnsc6v8YGOjuE=");
}

TEST_CASE("aliyun sms: SendSms carries every parameter, signed, with a fresh UUID nonce and a UTC timestamp") {
    FakeOutbound http;
    ManualClock clock(1'796'626'800'123); // 2026-12-07T07:00:00.123Z
    AliyunSmsProvider sms(config(), http, clock);
    for (int i = 0; i < 3; ++i)
        http.canned.push_back(testutil::response(200, R"({"Message":"OK","RequestId":"r","BizId":"b","Code":"OK"})"));

    std::string why;
    CHECK(sms.send("13800000000", "123456", &why));
    CHECK(sms.send("+85261234567", "654321", &why));
    const auto requests = http.requests();
    REQUIRE(requests.size() == 2);
    const auto& req = requests[0];
    CHECK(req.method == "GET");
    CHECK(req.url.rfind("http://127.0.0.1:9/aliyun-sms/?", 0) == 0);
    auto q = testutil::query_of(req.url);
    CHECK(testutil::value_of(q, "AccessKeyId") == "LTAI5tStubAccessKey01");
    CHECK(testutil::value_of(q, "Action") == "SendSms");
    CHECK(testutil::value_of(q, "Format") == "JSON");
    CHECK(testutil::value_of(q, "PhoneNumbers") == "13800000000");
    CHECK(testutil::value_of(q, "RegionId") == "cn-hangzhou");
    CHECK(testutil::value_of(q, "SignName") == "PileHub");
    CHECK(testutil::value_of(q, "SignatureMethod") == "HMAC-SHA1");
    CHECK(testutil::value_of(q, "SignatureVersion") == "1.0");
    CHECK(testutil::value_of(q, "TemplateCode") == "SMS_154950909");
    CHECK(testutil::value_of(q, "TemplateParam") == R"({"code":"123456"})");
    CHECK(testutil::value_of(q, "Timestamp") == "2026-12-07T07:00:00Z");
    CHECK(testutil::value_of(q, "Version") == "2017-05-25");
    const auto nonce = testutil::value_of(q, "SignatureNonce");
    CHECK(nonce.size() == 36);
    CHECK(nonce[14] == '4');

    // The server's check: the signature of every parameter but Signature, under secret + "&".
    auto signed_params = q;
    const auto sig = testutil::value_of(q, "Signature");
    std::erase_if(signed_params, [](const auto& p) { return p.first == "Signature"; });
    CHECK(sig == AliyunSmsProvider::signature(config().access_key_secret, "GET", signed_params));

    auto q2 = testutil::query_of(requests[1].url);
    CHECK(testutil::value_of(q2, "PhoneNumbers") == "85261234567");
    CHECK(testutil::value_of(q2, "SignatureNonce") != nonce);

    std::set<std::string> nonces;
    for (int i = 0; i < 100; ++i)
        nonces.insert(AliyunSmsProvider::uuid4());
    CHECK(nonces.size() == 100);
}

TEST_CASE("aliyun sms: anything but Code OK is not sent, and says the provider's Code and Message") {
    struct Row {
        outbound::Response res;
        std::string why_has;
    };
    outbound::Response none;
    none.error = "connection refused";
    const Row rows[] = {
        {testutil::response(200, R"({"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"触发小时级流控"})"),
         "isv.BUSINESS_LIMIT_CONTROL: 触发小时级流控"},
        {testutil::response(400, R"({"Code":"SignatureDoesNotMatch","Message":"bad"})"),
         "HTTP 400 SignatureDoesNotMatch"},
        {testutil::response(404, R"({"Code":"InvalidAccessKeyId.NotFound","Message":"x"})"),
         "InvalidAccessKeyId.NotFound"},
        {testutil::response(200, R"({"Message":"OK"})"), "(no Code)"},
        {testutil::response(200, "not json"), "(no Code)"},
        {testutil::response(500, R"({"Code":"OK"})"), "HTTP 500"},
        {none, "connection refused"},
    };
    for (const auto& r : rows) {
        FakeOutbound http;
        http.canned.push_back(r.res);
        AliyunSmsProvider sms(config(), http);
        std::string why;
        CHECK_FALSE(sms.send("13800000000", "123456", &why));
        CHECK_MESSAGE(why.find(r.why_has) != std::string::npos, why);
    }
    FakeOutbound http;
    CHECK_FALSE(AliyunSmsProvider(config(), http).reveals_code());
}
