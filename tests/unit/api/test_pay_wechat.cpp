#include "fake_outbound.hpp"
#include "web-api/pay_wechat.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace pilehub;
using namespace pilehub::api;
using payments::CallbackStatus;
using testutil::FakeOutbound;

namespace {

constexpr const char* kAppid = "wxa1b2c3d4e5f60001";
constexpr const char* kMchid = "1900000109";
constexpr const char* kMerchantSerial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
constexpr const char* kPlatformSerial = "PUB_KEY_ID_0114232134912410000000000000";
constexpr const char* kApiV3Key = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6";
constexpr const char* kPayment = "pay_0123456789abcdef0123456789abcdef";

const crypto::PrivateKey& merchant_key() {
    static const crypto::PrivateKey k(testutil::test_key_pem(1));
    return k;
}
const crypto::PrivateKey& platform_key() {
    static const crypto::PrivateKey k(testutil::test_key_pem(2));
    return k;
}

WechatPayConfig config() {
    WechatPayConfig c;
    c.appid = kAppid;
    c.mchid = kMchid;
    c.merchant_serial = kMerchantSerial;
    c.merchant_key_pem = testutil::test_key_pem(1);
    c.apiv3_key = kApiV3Key;
    c.platform_public_key_pem = platform_key().public_pem();
    c.platform_serial = kPlatformSerial;
    c.base_url = "http://127.0.0.1:9/wechatpay";
    c.notify_url = "http://127.0.0.1:8/api/v1/pay/notify/wechat";
    return c;
}

/// Headers WeChat Pay signs an answer or a notification with (the platform key).
std::map<std::string, std::string> signed_headers(std::string_view body, std::int64_t secs,
                                                  const std::string& serial = kPlatformSerial,
                                                  const crypto::PrivateKey& key = platform_key()) {
    const std::string nonce = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";
    return {{"wechatpay-timestamp", std::to_string(secs)},
            {"wechatpay-nonce", nonce},
            {"wechatpay-serial", serial},
            {"wechatpay-signature", key.sign_sha256_base64(fmt::format("{}\n{}\n{}\n", secs, nonce, body))}};
}

std::string transaction(std::string_view state = "SUCCESS", std::int64_t total = 1234,
                        std::string_view currency = "CNY") {
    return fmt::format(R"({{"appid":"{}","mchid":"{}","out_trade_no":"0123456789abcdef0123456789abcdef",)"
                       R"("transaction_id":"4200000000202612070000000001","trade_type":"JSAPI","trade_state":"{}",)"
                       R"("trade_state_desc":"支付成功","success_time":"2026-12-07T15:04:05+08:00",)"
                       R"("amount":{{"total":{},"payer_total":{},"currency":"{}","payer_currency":"CNY"}},)"
                       R"("payer":{{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}}})",
                       kAppid, kMchid, state, total, total, currency);
}

/// A notification as WeChat Pay sends it: the plaintext sealed with the APIv3 key, the body signed.
payments::CallbackRequest notification(std::string_view event, std::string_view original_type,
                                       const std::string& plaintext, std::int64_t secs,
                                       const std::string& apiv3_key = kApiV3Key) {
    const std::string nonce = "fdasflkja484";
    const auto sealed = crypto::aes256_gcm_encrypt(apiv3_key, nonce, original_type, plaintext);
    const auto body = fmt::format(
        R"({{"id":"EV-2018022511223320873","create_time":"2026-12-07T15:04:06+08:00","resource_type":"encrypt-resource",)"
        R"("event_type":"{}","summary":"支付成功","resource":{{"original_type":"{}","algorithm":"AEAD_AES_256_GCM",)"
        R"("ciphertext":"{}","associated_data":"{}","nonce":"{}"}}}})",
        event, original_type, crypto::base64(sealed), original_type, nonce);
    return {body, signed_headers(body, secs)};
}

struct World {
    ManualClock clock{1'796'626'800'000}; // 2026-12-07T07:00:00Z
    FakeOutbound http;
    WechatPayProvider pay{config(), http, clock};
    std::int64_t now_s() const { return clock.now_ms() / 1000; }
    /// Answers with `status` and `body`, signed by the platform.
    void answer(int status, std::string body) {
        http.canned.push_back(testutil::response(status, body, signed_headers(body, now_s())));
    }
};

payments::Order order() {
    payments::Order o;
    o.id = kPayment;
    o.account_id = 7;
    o.amount_fen = Fen(1234);
    o.provider = "wechat";
    o.payer_id = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
    return o;
}

/// The Authorization header's fields.
std::map<std::string, std::string> authorization_fields(std::string_view header) {
    std::map<std::string, std::string> out;
    const std::string_view scheme = "WECHATPAY2-SHA256-RSA2048 ";
    REQUIRE(header.substr(0, scheme.size()) == scheme);
    header.remove_prefix(scheme.size());
    while (!header.empty()) {
        const auto eq = header.find("=\"");
        const auto close = header.find('"', eq + 2);
        out[std::string(header.substr(0, eq))] = std::string(header.substr(eq + 2, close - eq - 2));
        header.remove_prefix(std::min(header.size(), close + 2)); // past `",`
    }
    return out;
}

std::string header_of(const outbound::Request& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
        if (k == name)
            return v;
    return {};
}

/// Whether a request's Authorization verifies with the merchant's public half, as WeChat Pay checks it.
bool merchant_signed(const outbound::Request& r, std::string_view signed_path) {
    auto f = authorization_fields(header_of(r, "Authorization"));
    const crypto::PublicKey pub(merchant_key().public_pem());
    return f["mchid"] == kMchid && f["serial_no"] == kMerchantSerial &&
           pub.verify_sha256_base64(
               fmt::format("{}\n{}\n{}\n{}\n{}\n", r.method, signed_path, f["timestamp"], f["nonce_str"], r.body),
               f["signature"]);
}

} // namespace

TEST_CASE("wechat pay: the Authorization header verifies with the merchant's public key") {
    World w;
    const auto header =
        w.pay.authorization("GET", "/v3/certificates", "", 1554208460, "593BEC0C930BF1AFEB40B4A08C8FB242");
    auto f = authorization_fields(header);
    CHECK(f["mchid"] == kMchid);
    CHECK(f["nonce_str"] == "593BEC0C930BF1AFEB40B4A08C8FB242");
    CHECK(f["timestamp"] == "1554208460");
    CHECK(f["serial_no"] == kMerchantSerial);
    const crypto::PublicKey pub(merchant_key().public_pem());
    CHECK(pub.verify_sha256_base64("GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n",
                                   f["signature"]));
    CHECK_FALSE(pub.verify_sha256_base64("GET\n/v3/certificates\n1554208461\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n",
                                         f["signature"]));
}

TEST_CASE("wechat pay: create posts a signed JSAPI order and gives wx.requestPayment's signed parameters") {
    World w;
    w.answer(200, R"({"prepay_id":"wx201410272009395522657a690389285100"})");
    auto r = w.pay.create(order());
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error()));

    const auto reqs = w.http.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].method == "POST");
    CHECK(reqs[0].url == "http://127.0.0.1:9/wechatpay/v3/pay/transactions/jsapi");
    CHECK(reqs[0].content_type == "application/json");
    CHECK(header_of(reqs[0], "Accept") == "application/json");
    CHECK(merchant_signed(reqs[0], "/v3/pay/transactions/jsapi")); // relative to base_url's path
    auto body = json::parse(reqs[0].body);
    REQUIRE(body.ok());
    std::string err;
    auto b = json::Object::root(*body, &err);
    CHECK(b.req_str("appid") == kAppid);
    CHECK(b.req_str("mchid") == kMchid);
    CHECK(b.req_str("out_trade_no") == "0123456789abcdef0123456789abcdef"); // 32: WeChat's limit
    CHECK(b.req_str("notify_url") == config().notify_url);
    CHECK(b.req_obj("amount").req_int("total") == 1234);
    CHECK(b.req_obj("amount").req_str("currency") == "CNY");
    CHECK(b.req_obj("payer").req_str("openid") == order().payer_id);
    CHECK(err.empty());

    CHECK(r->provider == "wechat");
    auto p = json::parse(r->json);
    REQUIRE(p.ok());
    auto o = json::Object::root(*p, &err);
    const auto ts = o.req_str("timeStamp"), nonce = o.req_str("nonceStr"), package = o.req_str("package");
    CHECK(o.req_str("appId") == kAppid);
    CHECK(package == "prepay_id=wx201410272009395522657a690389285100");
    CHECK(o.req_str("signType") == "RSA");
    CHECK(ts == std::to_string(w.now_s()));
    const crypto::PublicKey pub(merchant_key().public_pem());
    CHECK(pub.verify_sha256_base64(fmt::format("{}\n{}\n{}\n{}\n", kAppid, ts, nonce, package),
                                   o.req_str("paySign", 1024)));
    CHECK(err.empty());
}

TEST_CASE("wechat pay: an answer that does not verify is a failure, and so is a refusal or no rider openid") {
    struct Row {
        const char* what;
        std::function<void(World&)> arrange;
    };
    const std::string body = R"({"prepay_id":"wx1"})";
    const Row rows[] = {
        {"unsigned", [&](World& w) { w.http.canned.push_back(testutil::response(200, body)); }},
        {"signed by another key",
         [&](World& w) {
             const crypto::PrivateKey other(testutil::test_key_pem(3));
             w.http.canned.push_back(
                 testutil::response(200, body, signed_headers(body, w.now_s(), kPlatformSerial, other)));
         }},
        {"another serial",
         [&](World& w) {
             w.http.canned.push_back(testutil::response(200, body, signed_headers(body, w.now_s(), "X")));
         }},
        {"signed 301 s ago",
         [&](World& w) {
             w.http.canned.push_back(testutil::response(200, body, signed_headers(body, w.now_s() - 301)));
         }},
        {"body changed",
         [&](World& w) { w.http.canned.push_back(testutil::response(200, body, signed_headers("{}", w.now_s()))); }},
        {"param error", [&](World& w) { w.answer(400, R"({"code":"PARAM_ERROR","message":"appid"})"); }},
        {"no answer", [&](World&) {}},
    };
    for (const auto& r : rows) {
        World w;
        r.arrange(w);
        CHECK_MESSAGE(!w.pay.create(order()).ok(), r.what);
    }
    World w;
    auto o = order();
    o.payer_id.clear();
    CHECK_FALSE(w.pay.create(o).ok());
    CHECK(w.http.requests().empty());
}

TEST_CASE("wechat pay: a payment notification that verifies and decrypts is the transaction it states") {
    World w;
    auto v = w.pay.verify(notification("TRANSACTION.SUCCESS", "transaction", transaction(), w.now_s()));
    REQUIRE(std::holds_alternative<payments::Notification>(v));
    const auto& n = std::get<payments::Notification>(v);
    CHECK(n.payment_id == kPayment); // `pay_` put back on WeChat's 32-character out_trade_no
    CHECK(n.provider_txn == "4200000000202612070000000001");
    CHECK(n.amount_fen == Fen(1234));
    CHECK(n.currency == "CNY");
    CHECK(n.paid);
    CHECK(n.trade_state == "SUCCESS");
    CHECK(n.merchant.merchant_id == kMchid);
    CHECK(n.merchant.app_id == kAppid);
    CHECK(n.paid_at == 1'796'627'045'000); // 2026-12-07T15:04:05+08:00
    CHECK(n.raw == transaction());

    // What it states is reported as stated: Payments refuses it (currency, state), not verify().
    auto usd = w.pay.verify(
        notification("TRANSACTION.SUCCESS", "transaction", transaction("SUCCESS", 1234, "USD"), w.now_s()));
    REQUIRE(std::holds_alternative<payments::Notification>(usd));
    CHECK(std::get<payments::Notification>(usd).currency == "USD");
    auto notpay = w.pay.verify(notification("TRANSACTION.SUCCESS", "transaction", transaction("NOTPAY"), w.now_s()));
    REQUIRE(std::holds_alternative<payments::Notification>(notpay));
    CHECK_FALSE(std::get<payments::Notification>(notpay).paid);
}

TEST_CASE("wechat pay: a notification with a tampered signature, serial, timestamp, body or key is BadSignature") {
    struct Row {
        const char* what;
        std::function<void(payments::CallbackRequest&, const World&)> tamper;
        CallbackStatus want;
    };
    const Row rows[] = {
        {"a signature byte",
         [](auto& cb, const World&) {
             auto raw = crypto::unbase64(cb.headers["wechatpay-signature"]);
             raw[5] ^= 1;
             cb.headers["wechatpay-signature"] = crypto::base64(raw);
         },
         CallbackStatus::BadSignature},
        {"the serial", [](auto& cb, const World&) { cb.headers["wechatpay-serial"] = "PUB_KEY_ID_OTHER"; },
         CallbackStatus::BadSignature},
        {"an old timestamp (re-signed)",
         [](auto& cb, const World& w) { cb.headers = signed_headers(cb.body, w.now_s() - 301); },
         CallbackStatus::BadSignature},
        {"a future timestamp (re-signed)",
         [](auto& cb, const World& w) { cb.headers = signed_headers(cb.body, w.now_s() + 301); },
         CallbackStatus::BadSignature},
        {"the timestamp header alone",
         [](auto& cb, const World& w) { cb.headers["wechatpay-timestamp"] = std::to_string(w.now_s() + 1); },
         CallbackStatus::BadSignature},
        {"the body", [](auto& cb, const World&) { cb.body.insert(1, " "); }, CallbackStatus::BadSignature},
        {"no signature header", [](auto& cb, const World&) { cb.headers.erase("wechatpay-signature"); },
         CallbackStatus::BadSignature},
        {"sealed with another APIv3 key",
         [](auto& cb, const World& w) {
             cb = notification("TRANSACTION.SUCCESS", "transaction", transaction(), w.now_s(),
                               "ZZZZc3D4e5F6g7H8i9J0k1L2m3N4o5P6");
         },
         CallbackStatus::BadSignature},
        {"not JSON (signed)",
         [](auto& cb, const World& w) {
             cb.body = "nope";
             cb.headers = signed_headers(cb.body, w.now_s());
         },
         CallbackStatus::Malformed},
        {"an unknown event (signed)",
         [](auto& cb, const World& w) { cb = notification("OTHER.THING", "transaction", transaction(), w.now_s()); },
         CallbackStatus::Malformed},
    };
    for (const auto& r : rows) {
        World w;
        auto cb = notification("TRANSACTION.SUCCESS", "transaction", transaction(), w.now_s());
        REQUIRE(std::holds_alternative<payments::Notification>(w.pay.verify(cb)));
        r.tamper(cb, w);
        auto v = w.pay.verify(cb);
        REQUIRE_MESSAGE(std::holds_alternative<CallbackStatus>(v), r.what);
        CHECK_MESSAGE(std::get<CallbackStatus>(v) == r.want, r.what);
    }
    World w;
    auto cb = notification("TRANSACTION.SUCCESS", "transaction", transaction(), w.now_s() - 300);
    CHECK(std::holds_alternative<payments::Notification>(w.pay.verify(cb))); // 300 s is still fresh
}

TEST_CASE("wechat pay: a refund notification settles its part by out_refund_no") {
    World w;
    const std::string plain =
        R"({"mchid":"1900000109","out_trade_no":"0123456789abcdef0123456789abcdef","transaction_id":"4200000000202612070000000001",)"
        R"("out_refund_no":"rfp_00aa","refund_id":"50000000382019052709732678859","refund_status":"SUCCESS",)"
        R"("success_time":"2026-12-07T15:10:00+08:00","user_received_account":"支付用户零钱",)"
        R"("amount":{"total":1234,"refund":500,"payer_total":1234,"payer_refund":500}})";
    auto v = w.pay.verify(notification("REFUND.SUCCESS", "refund", plain, w.now_s()));
    REQUIRE(std::holds_alternative<payments::RefundNotification>(v));
    const auto& n = std::get<payments::RefundNotification>(v);
    CHECK(n.part_id == "rfp_00aa");
    CHECK(n.payment_id == kPayment);
    CHECK(n.provider_refund_id == "50000000382019052709732678859");
    CHECK(n.succeeded);
    CHECK(n.amount_fen == Fen(500));
    CHECK(n.merchant.merchant_id == kMchid);
    CHECK(n.state == "SUCCESS");

    std::string abnormal = plain;
    abnormal.replace(abnormal.find("\"SUCCESS\""), 9, "\"ABNORMAL\"");
    auto a = w.pay.verify(notification("REFUND.ABNORMAL", "refund", abnormal, w.now_s()));
    REQUIRE(std::holds_alternative<payments::RefundNotification>(a));
    CHECK_FALSE(std::get<payments::RefundNotification>(a).succeeded);
}

TEST_CASE("wechat pay: acknowledgements are 200 with nothing, refusals a FAIL code WeChat resends after") {
    World w;
    CHECK(w.pay.ack_status(CallbackStatus::Credited) == 200);
    CHECK(w.pay.ack_body(CallbackStatus::Credited).empty());
    CHECK(w.pay.ack_status(CallbackStatus::Replayed) == 200);
    CHECK(w.pay.ack_status(CallbackStatus::RefundSettled) == 200);
    CHECK(w.pay.ack_status(CallbackStatus::BadSignature) == 401);
    CHECK(w.pay.ack_status(CallbackStatus::AmountMismatch) == 400);
    CHECK(w.pay.ack_body(CallbackStatus::AmountMismatch) == R"({"code":"FAIL","message":"amount_mismatch"})");
}

TEST_CASE("wechat pay: a query's trade state says paid, not paid or closed") {
    struct Row {
        int status;
        std::string body;
        payments::TradeState want;
    };
    const Row rows[] = {
        {200, transaction("SUCCESS"), payments::TradeState::Paid},
        {200, transaction("REFUND"), payments::TradeState::Paid},
        {200, transaction("NOTPAY"), payments::TradeState::NotPaid},
        {200, transaction("USERPAYING"), payments::TradeState::NotPaid},
        {200, transaction("CLOSED"), payments::TradeState::Closed},
        {200, transaction("REVOKED"), payments::TradeState::Closed},
        {200, transaction("PAYERROR"), payments::TradeState::Closed},
        {404, R"({"code":"ORDER_NOT_EXIST","message":"no"})", payments::TradeState::Closed},
    };
    for (const auto& r : rows) {
        World w;
        w.answer(r.status, r.body);
        auto q = w.pay.query(order());
        REQUIRE_MESSAGE(q.ok(), r.body);
        CHECK_MESSAGE(q->state == r.want, r.body);
        CHECK(q->paid.has_value() == (r.want == payments::TradeState::Paid));
        if (q->paid) {
            CHECK(q->paid->paid);
            CHECK(q->paid->payment_id == kPayment);
            CHECK(q->paid->amount_fen == Fen(1234));
        }
        const auto req = w.http.requests().at(0);
        CHECK(req.method == "GET");
        CHECK(req.url == "http://127.0.0.1:9/wechatpay/v3/pay/transactions/out-trade-no/"
                         "0123456789abcdef0123456789abcdef?mchid=1900000109");
        CHECK(merchant_signed(req,
                              "/v3/pay/transactions/out-trade-no/0123456789abcdef0123456789abcdef?mchid=1900000109"));
    }
    // Not WeChat's answer (a proxy's page, a wrong base_url): asked again, never taken as "never created".
    for (const auto& [status, body] :
         {std::pair{500, R"({"code":"SYSTEM_ERROR","message":"busy"})"}, std::pair{404, "<html>Not Found</html>"}}) {
        World w;
        w.answer(status, body);
        CHECK_FALSE(w.pay.query(order()).ok());
    }
}

TEST_CASE("wechat pay: close is true when closed or unknown, false when already paid") {
    struct Row {
        int status;
        std::string body;
        std::optional<bool> want; // nothing: a failure
    };
    const Row rows[] = {
        {204, "", true},
        {404, R"({"code":"ORDER_NOT_EXIST","message":"no"})", true},
        {400, R"({"code":"ORDERPAID","message":"paid"})", false},
        {500, R"({"code":"SYSTEM_ERROR","message":"busy"})", std::nullopt},
        {404, "<html>Not Found</html>", std::nullopt},
    };
    for (const auto& r : rows) {
        World w;
        w.answer(r.status, r.body);
        auto c = w.pay.close(order());
        CHECK(c.ok() == r.want.has_value());
        if (c.ok() && r.want)
            CHECK(*c == *r.want);
        const auto req = w.http.requests().at(0);
        CHECK(req.body == R"({"mchid":"1900000109"})");
        CHECK(merchant_signed(req, "/v3/pay/transactions/out-trade-no/0123456789abcdef0123456789abcdef/close"));
    }
}

TEST_CASE("wechat pay: a refund's answer says processing, succeeded or failed; a busy provider is asked again") {
    const auto refund_body = [](std::string_view status) {
        return fmt::format(
            R"({{"refund_id":"50000000382019052709732678859","out_refund_no":"rfp_00aa","status":"{}",)"
            R"("amount":{{"total":1234,"refund":500,"payer_total":1234,"payer_refund":500,"currency":"CNY"}}}})",
            status);
    };
    struct Row {
        int status;
        std::string body;
        std::optional<payments::RefundState> want; // nothing: a failure (ask again)
    };
    const Row rows[] = {
        {200, refund_body("PROCESSING"), payments::RefundState::Processing},
        {200, refund_body("SUCCESS"), payments::RefundState::Succeeded},
        {200, refund_body("ABNORMAL"), payments::RefundState::Failed},
        {200, refund_body("CLOSED"), payments::RefundState::Failed},
        {403, R"({"code":"NOT_ENOUGH","message":"no"})", payments::RefundState::Failed},
        {404, R"({"code":"RESOURCE_NOT_EXISTS","message":"no"})", payments::RefundState::Failed},
        {429, R"({"code":"FREQUENCY_LIMITED","message":"slow"})", std::nullopt},
        {401, R"({"code":"SIGN_ERROR","message":"bad"})", std::nullopt},
        {500, R"({"code":"SYSTEM_ERROR","message":"busy"})", std::nullopt},
        {404, "<html>Not Found</html>", std::nullopt},
    };
    payments::RefundRequest req;
    req.part_id = "rfp_00aa";
    req.payment_id = kPayment;
    req.provider_txn = "4200000000202612070000000001";
    req.amount_fen = Fen(500);
    req.total_fen = Fen(1234);
    req.reason = "余额退款";
    for (const auto& r : rows) {
        for (bool query : {false, true}) {
            World w;
            w.answer(r.status, r.body);
            auto a = query ? w.pay.query_refund(req) : w.pay.refund(req);
            REQUIRE_MESSAGE(a.ok() == r.want.has_value(), r.body);
            if (a.ok()) {
                CHECK_MESSAGE(a->state == *r.want, r.body);
                if (r.status == 200)
                    CHECK(a->provider_refund_id == "50000000382019052709732678859");
            }
            const auto sent = w.http.requests().at(0);
            if (query) {
                CHECK(sent.method == "GET");
                CHECK(merchant_signed(sent, "/v3/refund/domestic/refunds/rfp_00aa"));
                continue;
            }
            CHECK(merchant_signed(sent, "/v3/refund/domestic/refunds"));
            auto doc = json::parse(sent.body);
            REQUIRE(doc.ok());
            std::string err;
            auto b = json::Object::root(*doc, &err);
            CHECK(b.req_str("transaction_id") == req.provider_txn);
            CHECK(b.req_str("out_trade_no") == "0123456789abcdef0123456789abcdef");
            CHECK(b.req_str("out_refund_no") == "rfp_00aa");
            CHECK(b.req_str("notify_url") == config().notify_url);
            CHECK(b.req_obj("amount").req_int("refund") == 500);
            CHECK(b.req_obj("amount").req_int("total") == 1234);
            CHECK(err.empty());
        }
    }
}

TEST_CASE("wechat pay: a bad key, key size or missing value is refused naming its configuration key") {
    FakeOutbound http;
    struct Row {
        std::function<void(WechatPayConfig&)> spoil;
        const char* key;
    };
    const Row rows[] = {
        {[](auto& c) { c.merchant_key_pem = "nope"; }, "pilehub-api.wechatpay.merchant_key_file"},
        {[](auto& c) { c.platform_public_key_pem = "nope"; }, "pilehub-api.wechatpay.platform_public_key_file"},
        {[](auto& c) { c.apiv3_key = "short"; }, "pilehub-api.wechatpay.apiv3_key_file"},
        {[](auto& c) { c.platform_serial.clear(); }, "pilehub-api.wechatpay.platform_serial"},
        {[](auto& c) { c.base_url = "ftp://x"; }, "pilehub-api.wechatpay.base_url"},
    };
    for (const auto& r : rows) {
        auto c = config();
        r.spoil(c);
        try {
            WechatPayProvider p(c, http);
            FAIL("accepted: " << r.key);
        } catch (const std::invalid_argument& e) {
            CHECK_MESSAGE(std::string(e.what()).rfind(r.key, 0) == 0, e.what());
        }
    }
}
