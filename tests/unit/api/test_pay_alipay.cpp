#include "alipay_test_util.hpp"
#include "web-api/pay_alipay.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace pilehub;
using namespace pilehub::api;
using payments::CallbackStatus;
using testutil::AlipayGatewayFake;

namespace {

constexpr const char* kPayment = "pay_0123456789abcdef0123456789abcdef";
constexpr const char* kSeller = "2088000000000001";

AlipayConfig config() {
    AlipayConfig c;
    c.gateway = testutil::alipay_gateway_config();
    c.seller_id = kSeller;
    c.notify_url = "http://127.0.0.1:8/api/v1/pay/notify/alipay";
    return c;
}

struct World {
    ManualClock clock{1'796'626'800'000}; // 2026-12-07T07:00:00Z = 15:00:00 in Beijing
    AlipayGatewayFake gw;
    AlipayProvider pay{config(), gw.http, clock};
};

payments::Order order() {
    payments::Order o;
    o.id = kPayment;
    o.account_id = 7;
    o.amount_fen = Fen(1234);
    o.provider = "alipay";
    o.payer_id = "2088102177846880";
    return o;
}

using Form = std::vector<std::pair<std::string, std::string>>;

Form paid_form() {
    return {{"notify_time", "2026-12-07 15:04:06"},
            {"notify_type", "trade_status_sync"},
            {"notify_id", "ac05099524730693a8b330c5ecf72da9786"},
            {"app_id", "2021000000000001"},
            {"charset", "utf-8"},
            {"version", "1.0"},
            {"sign_type", "RSA2"},
            {"trade_no", "2026120722001404880000000001"},
            {"out_trade_no", kPayment},
            {"buyer_id", "2088102177846880"},
            {"seller_id", kSeller},
            {"trade_status", "TRADE_SUCCESS"},
            {"total_amount", "12.34"},
            {"receipt_amount", "12.34"},
            {"subject", "PileHub 充值"},
            {"gmt_create", "2026-12-07 15:04:00"},
            {"gmt_payment", "2026-12-07 15:04:05"}};
}

/// The notification Alipay posts: `form` signed with Alipay's key (every parameter but sign and
/// sign_type, sorted, decoded), form-encoded as Java's URLEncoder does (a space is `+`).
/// `flip` spoils one byte of the signature.
payments::CallbackRequest notification(Form form, const crypto::PrivateKey& key = testutil::alipay_key(),
                                       bool flip = false) {
    auto sign = crypto::unbase64(key.sign_sha256_base64(alipay::Gateway::canonical(form, true)));
    if (flip)
        sign[7] ^= 1;
    form.emplace_back("sign", crypto::base64(sign));
    std::string body;
    for (const auto& [k, v] : form) {
        auto enc = crypto::percent_encode(v);
        for (auto at = enc.find("%20"); at != std::string::npos; at = enc.find("%20"))
            enc.replace(at, 3, "+");
        body += (body.empty() ? "" : "&") + k + "=" + enc;
    }
    return {body, {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"}}};
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
    return s;
}

} // namespace

TEST_CASE("alipay: a call is a form signed with the app key, and its answer is verified on the exact member text") {
    World w;
    // Spaces, an escaped slash and non-ASCII as Alipay may write them: the signature covers this text.
    const std::string member =
        R"({"code":"10000", "msg":"Success","trade_no":"2026120722001404880000000001","out_trade_no":"pay_0123456789abcdef0123456789abcdef",)"
        R"( "buyer_user_id":"2088102177846880","trade_status":"TRADE_SUCCESS","total_amount":"12.34","send_pay_date":"2026-12-07 15:04:05","note":"a\/b 中文"})";
    w.gw.reply = [&](const std::string&, const Form&) { return member; };
    auto q = w.pay.query(order());
    REQUIRE_MESSAGE(q.ok(), (q.ok() ? "" : q.error()));
    CHECK(q->state == payments::TradeState::Paid);
    CHECK(q->raw == member);

    CHECK(w.gw.signed_ok);
    CHECK(w.gw.last("app_id") == "2021000000000001");
    CHECK(w.gw.last("method") == "alipay.trade.query");
    CHECK(w.gw.last("format") == "JSON");
    CHECK(w.gw.last("charset") == "utf-8");
    CHECK(w.gw.last("sign_type") == "RSA2");
    CHECK(w.gw.last("timestamp") == "2026-12-07 15:00:00"); // Beijing time
    CHECK(w.gw.last("version") == "1.0");
    CHECK(w.gw.last("biz_content") == R"({"out_trade_no":"pay_0123456789abcdef0123456789abcdef"})");
    const auto req = w.gw.http.requests().at(0);
    CHECK(req.method == "POST");
    CHECK(req.url == "http://127.0.0.1:9/alipay/gateway.do");
    CHECK(req.content_type == "application/x-www-form-urlencoded;charset=utf-8");

    // The same facts signed over another spelling (a re-serialisation) do not verify.
    World other;
    other.gw.http.answer = [&](const outbound::Request&) {
        const std::string compact = replace_all(replace_all(member, ", ", ","), "\\/", "/");
        return testutil::response(200, fmt::format(R"({{"alipay_trade_query_response":{},"sign":"{}"}})", member,
                                                   testutil::alipay_key().sign_sha256_base64(compact)));
    };
    CHECK_FALSE(other.pay.query(order()).ok());
}

TEST_CASE("alipay: answers that are unsigned, signed by another key, refused by the gateway or absent fail") {
    const std::string member = R"({"code":"10000","msg":"Success","out_trade_no":"x","trade_no":"2026"})";
    const std::pair<const char*, std::string> rows[] = {
        {"unsigned", "!" + fmt::format(R"({{"alipay_trade_create_response":{}}})", member)},
        {"signed by our own key", "!" + fmt::format(R"({{"alipay_trade_create_response":{},"sign":"{}"}})", member,
                                                    testutil::alipay_app_key().sign_sha256_base64(member))},
        {"error_response",
         R"(!{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature","sub_msg":"验签出错"},"sign":"x"})"},
        {"another method's member", "!" + fmt::format(R"({{"alipay_trade_query_response":{},"sign":"{}"}})", member,
                                                      testutil::alipay_key().sign_sha256_base64(member))},
        {"not JSON", "!<html>"},
    };
    for (const auto& [what, reply] : rows) {
        World w;
        w.gw.reply = [&](const std::string&, const Form&) { return reply; };
        CHECK_MESSAGE(!w.pay.create(order()).ok(), what);
    }
}

TEST_CASE("alipay: create asks for a JSAPI_PAY trade for the rider and gives the mini-program its trade_no") {
    World w;
    w.gw.reply = [](const std::string&, const Form&) {
        return std::string(
            R"({"code":"10000","msg":"Success","out_trade_no":"pay_0123456789abcdef0123456789abcdef","trade_no":"2026120722001404880000000001"})");
    };
    auto r = w.pay.create(order());
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error()));
    CHECK(r->provider == "alipay");
    CHECK(r->json == R"({"trade_no":"2026120722001404880000000001"})");
    CHECK(w.gw.signed_ok);
    CHECK(w.gw.last("method") == "alipay.trade.create");
    CHECK(w.gw.last("notify_url") == config().notify_url);
    auto biz = json::parse(w.gw.last("biz_content"));
    REQUIRE(biz.ok());
    std::string err;
    auto b = json::Object::root(*biz, &err);
    CHECK(b.req_str("out_trade_no") == kPayment);
    CHECK(b.req_str("total_amount") == "12.34");
    CHECK(b.req_str("buyer_id") == "2088102177846880");
    CHECK(b.req_str("product_code") == "JSAPI_PAY");
    CHECK(b.req_str("subject") == "PileHub 充值");
    CHECK(err.empty());

    World refused;
    refused.gw.reply = [](const std::string&, const Form&) {
        return std::string(
            R"({"code":"40004","msg":"Business Failed","sub_code":"ACQ.INVALID_PARAMETER","sub_msg":"参数无效"})");
    };
    auto f = refused.pay.create(order());
    REQUIRE_FALSE(f.ok());
    CHECK(f.error().find("ACQ.INVALID_PARAMETER") != std::string::npos);

    auto no_buyer = order();
    no_buyer.payer_id.clear();
    CHECK_FALSE(w.pay.create(no_buyer).ok());
}

TEST_CASE("alipay: a notification verifies over its decoded, sorted parameters and states what it says") {
    World w;
    auto v = w.pay.verify(notification(paid_form()));
    REQUIRE(std::holds_alternative<payments::Notification>(v));
    const auto& n = std::get<payments::Notification>(v);
    CHECK(n.payment_id == kPayment);
    CHECK(n.provider_txn == "2026120722001404880000000001");
    CHECK(n.amount_fen == Fen(1234));
    CHECK(n.paid);
    CHECK(n.trade_state == "TRADE_SUCCESS");
    CHECK(n.currency == "CNY");
    CHECK(n.merchant.merchant_id == kSeller);
    CHECK(n.merchant.app_id == "2021000000000001");
    CHECK(n.paid_at == 1'796'627'045'000); // 2026-12-07 15:04:05 Beijing

    auto usd = paid_form();
    usd.emplace_back("trans_currency", "USD");
    auto u = w.pay.verify(notification(usd));
    REQUIRE(std::holds_alternative<payments::Notification>(u));
    CHECK(std::get<payments::Notification>(u).currency == "USD");

    auto waiting = paid_form();
    waiting[11].second = "WAIT_BUYER_PAY";
    auto wt = w.pay.verify(notification(waiting));
    REQUIRE(std::holds_alternative<payments::Notification>(wt));
    CHECK_FALSE(std::get<payments::Notification>(wt).paid);

    CHECK(w.pay.ack_status(CallbackStatus::Credited) == 200);
    CHECK(w.pay.ack_body(CallbackStatus::Credited) == "success");
    CHECK(w.pay.ack_body(CallbackStatus::Replayed) == "success");
    CHECK(w.pay.ack_status(CallbackStatus::BadSignature) == 200);
    CHECK(w.pay.ack_body(CallbackStatus::BadSignature) == "fail");
    CHECK(w.pay.ack_content_type() == "text/plain");
}

TEST_CASE("alipay: a tampered notification is BadSignature, an unreadable one Malformed") {
    struct Row {
        const char* what;
        std::function<payments::CallbackRequest()> make;
        CallbackStatus want;
    };
    const Row rows[] = {
        {"amount changed after signing",
         [] {
             auto cb = notification(paid_form());
             cb.body = replace_all(cb.body, "total_amount=12.34", "total_amount=12.35");
             return cb;
         },
         CallbackStatus::BadSignature},
        {"a signature byte", [] { return notification(paid_form(), testutil::alipay_key(), true); },
         CallbackStatus::BadSignature},
        {"signed by our app key", [] { return notification(paid_form(), testutil::alipay_app_key()); },
         CallbackStatus::BadSignature},
        {"sign_type RSA",
         [] {
             auto f = paid_form();
             f[6].second = "RSA";
             return notification(f);
         },
         CallbackStatus::BadSignature},
        {"no sign",
         [] {
             auto cb = notification(paid_form());
             cb.body = cb.body.substr(0, cb.body.find("&sign="));
             return cb;
         },
         CallbackStatus::Malformed},
        {"a bad escape",
         [] {
             return payments::CallbackRequest{"a=%G1&sign=x", {}};
         },
         CallbackStatus::Malformed},
        {"signed but no out_trade_no",
         [] {
             auto f = paid_form();
             f.erase(f.begin() + 8);
             return notification(f);
         },
         CallbackStatus::Malformed},
        {"signed but a yuan amount with three decimals",
         [] {
             auto f = paid_form();
             f[12].second = "12.345";
             return notification(f);
         },
         CallbackStatus::Malformed},
    };
    for (const auto& r : rows) {
        World w;
        auto v = w.pay.verify(r.make());
        REQUIRE_MESSAGE(std::holds_alternative<CallbackStatus>(v), r.what);
        CHECK_MESSAGE(std::get<CallbackStatus>(v) == r.want, r.what);
    }
}

TEST_CASE("alipay: a refund's notification names its part and the trade's cumulative refund") {
    World w;
    auto f = paid_form();
    f.emplace_back("out_biz_no", "rfp_00aa");
    f.emplace_back("refund_fee", "5.00");
    f.emplace_back("gmt_refund", "2026-12-07 15:10:00.123");
    auto v = w.pay.verify(notification(f));
    REQUIRE(std::holds_alternative<payments::RefundNotification>(v));
    const auto& n = std::get<payments::RefundNotification>(v);
    CHECK(n.part_id == "rfp_00aa");
    CHECK(n.payment_id == kPayment);
    CHECK(n.provider_refund_id == "2026120722001404880000000001");
    CHECK(n.succeeded);
    CHECK(n.amount_fen == Fen(500));
    CHECK(n.cumulative); // refund_fee is everything refunded of the trade so far
    CHECK(n.merchant.merchant_id == kSeller);
}

TEST_CASE("alipay: query, close and refunds map Alipay's answers") {
    const auto ok = [](std::string extra) { return R"({"code":"10000","msg":"Success")" + extra + "}"; };
    const auto refused = [](std::string sub) {
        return fmt::format(R"({{"code":"40004","msg":"Business Failed","sub_code":"{}","sub_msg":"x"}})", sub);
    };
    SUBCASE("query") {
        const std::pair<std::string, payments::TradeState> rows[] = {
            {ok(R"(,"trade_no":"2026","out_trade_no":"pay_0123456789abcdef0123456789abcdef","trade_status":"TRADE_SUCCESS","total_amount":"12.34","send_pay_date":"2026-12-07 15:04:05")"),
             payments::TradeState::Paid},
            {ok(R"(,"trade_no":"2026","trade_status":"TRADE_FINISHED","total_amount":"12.34")"),
             payments::TradeState::Paid},
            {ok(R"(,"trade_no":"2026","trade_status":"WAIT_BUYER_PAY","total_amount":"12.34")"),
             payments::TradeState::NotPaid},
            {ok(R"(,"trade_no":"2026","trade_status":"TRADE_CLOSED","total_amount":"12.34")"),
             payments::TradeState::Closed},
            {refused("ACQ.TRADE_NOT_EXIST"), payments::TradeState::Closed},
        };
        for (const auto& [reply, want] : rows) {
            World w;
            w.gw.reply = [&](const std::string&, const Form&) { return reply; };
            auto q = w.pay.query(order());
            REQUIRE_MESSAGE(q.ok(), reply);
            CHECK_MESSAGE(q->state == want, reply);
            if (want == payments::TradeState::Paid) {
                CHECK(q->paid->amount_fen == Fen(1234));
                CHECK(q->paid->merchant.app_id == "2021000000000001");
                CHECK(q->paid->currency == "CNY");
            }
        }
        World w;
        w.gw.reply = [&](const std::string&, const Form&) { return refused("ACQ.SYSTEM_ERROR"); };
        CHECK_FALSE(w.pay.query(order()).ok());
    }
    SUBCASE("close") {
        const std::pair<std::string, bool> rows[] = {
            {ok(""), true}, {refused("ACQ.TRADE_NOT_EXIST"), true}, {refused("ACQ.TRADE_STATUS_ERROR"), false}};
        for (const auto& [reply, want] : rows) {
            World w;
            w.gw.reply = [&](const std::string&, const Form&) { return reply; };
            auto c = w.pay.close(order());
            REQUIRE_MESSAGE(c.ok(), reply);
            CHECK(*c == want);
            CHECK(w.gw.last("method") == "alipay.trade.close");
        }
    }
    SUBCASE("refund and its query") {
        payments::RefundRequest req;
        req.part_id = "rfp_00aa";
        req.payment_id = kPayment;
        req.provider_txn = "2026120722001404880000000001";
        req.amount_fen = Fen(100);
        req.total_fen = Fen(1234);
        req.reason = "余额退款";
        struct Row {
            bool query;
            std::string reply;
            std::optional<payments::RefundState> want;
        };
        const Row rows[] = {
            {false, ok(R"(,"trade_no":"2026","fund_change":"Y","refund_fee":"1.00")"),
             payments::RefundState::Processing},
            {false, refused("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"), payments::RefundState::Failed},
            {false, refused("ACQ.SYSTEM_ERROR"), std::nullopt},
            {false, R"({"code":"20000","msg":"Service Currently Unavailable","sub_code":"isp.unknow-error"})",
             std::nullopt},
            {true, ok(R"(,"out_request_no":"rfp_00aa","refund_amount":"1.00","refund_status":"REFUND_SUCCESS")"),
             payments::RefundState::Succeeded},
            {true, ok(R"(,"out_request_no":"rfp_00aa")"), payments::RefundState::Failed},
            {true, refused("ACQ.TRADE_NOT_EXIST"), payments::RefundState::Failed},
        };
        for (const auto& r : rows) {
            World w;
            w.gw.reply = [&](const std::string&, const Form&) { return r.reply; };
            auto a = r.query ? w.pay.query_refund(req) : w.pay.refund(req);
            REQUIRE_MESSAGE(a.ok() == r.want.has_value(), r.reply);
            if (a.ok())
                CHECK_MESSAGE(a->state == *r.want, r.reply);
            CHECK(w.gw.last("method") == (r.query ? "alipay.trade.fastpay.refund.query" : "alipay.trade.refund"));
            auto biz = json::parse(w.gw.last("biz_content"));
            REQUIRE(biz.ok());
            std::string err;
            auto b = json::Object::root(*biz, &err);
            CHECK(b.req_str("out_trade_no") == kPayment);
            CHECK(b.req_str("out_request_no") == "rfp_00aa");
            if (!r.query)
                CHECK(b.req_str("refund_amount") == "1.00");
        }
    }
}

TEST_CASE("alipay: yuan amounts are read exactly, without floating point") {
    const std::pair<const char*, std::optional<std::int64_t>> rows[] = {
        {"12.34", 1234},          {"0.5", 50},
        {"100", 10000},           {"0.05", 5},
        {"12.345", std::nullopt}, {"-1.00", std::nullopt},
        {"1e3", std::nullopt},    {"", std::nullopt},
        {".5", std::nullopt},     {"5.", std::nullopt},
        {" 1", std::nullopt},     {"1234567890123", std::nullopt},
    };
    for (const auto& [text, want] : rows) {
        const auto got = alipay::parse_yuan(text);
        CHECK_MESSAGE(got.has_value() == want.has_value(), text);
        if (got && want)
            CHECK_MESSAGE(got->value() == *want, text);
    }
    CHECK(alipay::yuan(Fen(5)) == "0.05");
    CHECK(alipay::yuan(Fen(1234)) == "12.34");
}
