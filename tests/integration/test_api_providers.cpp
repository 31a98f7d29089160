// Money and identity in production (CONTRACT F, issue 13), end to end: the real pilehub-api in
// production mode (dev_mode = false) against tests/stubs/providers.mjs, which speaks WeChat login,
// WeChat Pay API v3, Alipay and Aliyun SMS as published, with fresh keys per run. Nothing here is
// faked on our side: every request the API sends is verified by the stub, every notification the
// stub sends is verified by the API.
#include "tests/integration/provider_stub.hpp"

#include "common/arrears.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <set>

using namespace pilehub;
using namespace pilehub::test;
using namespace pilehub::test::api;
using namespace std::chrono_literals;

TEST_CASE("production: a configuration without a rider login or a payment channel is refused at start, naming "
          "the keys") {
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("pilehub-bare-prod-{}", ::getpid());
    auto out = run({api_binary(), "--set", "data_dir=" + dir.string(), "--set", "dev_mode=false"}, 10s);
    CHECK_MESSAGE(out.exit_code == 2, out.output);
    for (const char* key : {"pilehub-api.sms.provider", "pilehub-api.wechat.appid", "pilehub-api.alipay.app_id",
                            "pilehub-api.wechatpay.mchid"})
        CHECK_MESSAGE(out.output.find(key) != std::string::npos, key << " not named in: " << out.output);
    // Asking for the development providers outside development mode is refused too.
    for (const char* provider : {"pilehub-api.sms_provider=dev", "pilehub-api.payment_provider=sandbox"}) {
        auto r =
            run({api_binary(), "--set", "data_dir=" + dir.string(), "--set", "dev_mode=false", "--set", provider}, 10s);
        CHECK_MESSAGE(r.exit_code == 2, provider << ": " << r.output);
        CHECK(r.output.find("development mode") != std::string::npos);
    }
    CHECK_FALSE(std::filesystem::exists(dir / "pilehub.db"));
}

TEST_CASE("production: riders log in by Aliyun SMS, WeChat and Alipay; one phone is one account") {
    Prod p("login");
    // SMS through Aliyun: the stub verified the signed request; the code never comes back to the app.
    const auto sms = p.sms_rider("13800000001");
    const auto me = p.st.get("/api/v1/me", sms);
    CHECK(me.str("phone") == "13800000001");
    CHECK(p.st.post("/api/v1/pay/sandbox/pay_x/confirm", "{}", sms).status == 404); // no sandbox in production
    auto wallet = p.st.get("/api/v1/wallet", sms);
    REQUIRE(wallet.size("channels") == 2);
    CHECK(wallet.str("channels.0") == "wechat"); // the default first
    CHECK(wallet.str("channels.1") == "alipay");

    // WeChat: an unknown openid without the phone button's code is asked for it.
    REQUIRE(p.stub.post("/_stub/wechat/codes", R"({"code":"first","openid":"o-wx-1"})").status == 200);
    auto ask = p.st.post("/api/v1/auth/wechat", R"({"code":"first"})");
    REQUIRE_MESSAGE(ask.status == 200, ask);
    CHECK(ask.body.find("\"needs_phone\":true") != std::string::npos);
    // With it, the identity is linked to the phone's account (the SMS rider's: not a second account).
    const auto wx = p.wechat_rider("o-wx-1", "13800000001");
    CHECK(p.st.get("/api/v1/me", wx).i64("id") == me.i64("id"));
    // A returning rider logs in with the code alone.
    REQUIRE(p.stub.post("/_stub/wechat/codes", R"({"code":"again","openid":"o-wx-1"})").status == 200);
    auto back = p.st.post("/api/v1/auth/wechat", R"({"code":"again"})");
    REQUIRE_MESSAGE(back.status == 200, back);
    CHECK(back.i64("user.id") == me.i64("id"));
    CHECK(back.body.find("\"registered\":false") != std::string::npos);
    // A used or unknown code is refused.
    CHECK(p.st.post("/api/v1/auth/wechat", R"({"code":"again"})").status == 401);
    // The access token for phone numbers is fetched once and reused; an expired one is renewed once.
    p.wechat_rider("o-wx-2", "13800000002");
    CHECK(p.stub.get("/_stub/wechat/stats").i64("token_fetches") == 1);
    REQUIRE(p.stub.post("/_stub/wechat/expire-token", "{}").status == 200);
    const auto third = p.wechat_rider("o-wx-3", "+447700900123");
    CHECK(p.st.get("/api/v1/me", third).str("phone") == "+447700900123");
    CHECK(p.stub.get("/_stub/wechat/stats").i64("token_fetches") == 2);

    // Alipay: a new user id with a new phone opens an account.
    const auto ali = p.alipay_rider("2088000000000777", "13800000003");
    CHECK(p.st.get("/api/v1/me", ali).str("phone") == "13800000003");
    CHECK(p.st.get("/api/v1/me", ali).i64("id") != me.i64("id"));
    // Every request verified but the one sent with the token the stub had expired (then renewed).
    const auto bad = unverified(p.stub);
    REQUIRE(bad.size() == 1);
    CHECK(bad[0].find("getuserphonenumber") != std::string::npos);
    CHECK(bad[0].find("bad token") != std::string::npos);
}

TEST_CASE("production: a WeChat Pay recharge is credited once by its notification, even delivered 5 times at once") {
    Prod p("wxpay");
    const auto rider = p.wechat_rider("o-pay-1", "13800000011");
    auto r = p.st.post("/api/v1/wallet/recharge", R"({"amount_fen":1000,"channel":"wechat"})", rider);
    REQUIRE_MESSAGE(r.status == 201, r);
    const auto id = r.str("payment_id");
    // wx.requestPayment's parameters are signed with the merchant key (the stub checks them).
    json::Writer params;
    params.raw_value(*r.at("pay_params"));
    auto valid = p.stub.post("/_stub/wechatpay/verify-pay-params", params.str());
    CHECK_MESSAGE(valid.body.find("\"valid\":true") != std::string::npos, valid);
    auto trade = p.stub.get("/_stub/wechatpay/trades/" + id.substr(4));
    CHECK(trade.i64("request.amount.total") == 1000);
    CHECK(trade.str("request.payer.openid") == "o-pay-1");

    for (int status : p.pay("wechat", id, "none", 5))
        CHECK(status == 200); // credited once, then acknowledged as replayed
    CHECK(p.balance(rider) == 1000);
    auto detail = p.st.get("/api/v1/admin/payments/" + id, p.admin);
    CHECK(detail.str("payment.state") == "paid");
    CHECK(detail.str("payment.provider_txn").rfind("4200", 0) == 0);
    std::multiset<std::string> verdicts;
    for (rapidjson::SizeType i = 0; i < detail.size("callbacks"); ++i)
        verdicts.insert(detail.str(fmt::format("callbacks.{}.verdict", i)));
    CHECK(verdicts.count("credited") == 1);
    CHECK(verdicts.count("replayed") == 4);
    auto ledger =
        p.st.get(fmt::format("/api/v1/admin/ledger?account_id={}&kind=recharge", p.st.rider_id(rider)), p.admin);
    CHECK(ledger.size("entries") == 1);
    CHECK(all_verified(p.stub));
}

TEST_CASE("production: forged or foreign payment notifications change nothing, for WeChat Pay and Alipay") {
    Prod p("tamper");
    const auto rider = p.wechat_rider("o-t-1", "13800000021");
    p.alipay_rider("2088000000000021", "13800000021");
    for (const std::string channel : {"wechat", "alipay"}) {
        for (const std::string tamper :
             {"signature", "mchid", "appid", "amount", "currency", "state", "unknown_order"}) {
            CAPTURE(channel);
            CAPTURE(tamper);
            const auto id = p.order(rider, channel, 700);
            const auto statuses = p.pay(channel, id, tamper);
            REQUIRE(statuses.size() == 1);
            if (channel == "wechat")
                CHECK(statuses[0] >= 400); // not acknowledged: WeChat Pay would resend
            else
                CHECK(statuses[0] == 200); // Alipay reads the body: `fail`
            CHECK(p.balance(rider) == 0);
            CHECK(p.st.get("/api/v1/payments/" + id, rider).str("payment.status") == "pending");
        }
    }
    auto paid = p.st.get("/api/v1/admin/payments?state=paid", p.admin);
    CHECK(paid.size("payments") == 0);
}

TEST_CASE("production: an Alipay recharge is credited once; a lost notification is settled by the query") {
    Prod p("alipay");
    const auto rider = p.alipay_rider("2088000000000031", "13800000031");
    auto r = p.st.post("/api/v1/wallet/recharge", R"({"amount_fen":1234,"channel":"alipay"})", rider);
    REQUIRE_MESSAGE(r.status == 201, r);
    CHECK_FALSE(r.str("pay_params.trade_no").empty());
    const auto id = r.str("payment_id");
    auto trade = p.stub.get("/_stub/alipay/trades/" + id);
    CHECK(trade.str("request.biz_content.total_amount") == "12.34");
    CHECK(trade.str("request.biz_content.buyer_id") == "2088000000000031");
    for (int status : p.pay("alipay", id, "none", 5))
        CHECK(status == 200);
    CHECK(p.balance(rider) == 1234);

    // Paid, but the notification never arrives: the operator's query (and the reconciler) settles it.
    const auto lost = p.order(rider, "alipay", 500);
    p.pay("alipay", lost, "none", 1, false);
    auto q = p.st.post("/api/v1/admin/payments/" + lost + "/query", "{}", p.admin);
    REQUIRE_MESSAGE(q.status == 200, q);
    CHECK(q.str("verdict") == "credited");
    CHECK(p.balance(rider) == 1734);

    // WeChat Pay the same way, this time by the reconciler alone.
    p.wechat_rider("o-lost-1", "13800000031");
    const auto wx_lost = p.order(rider, "wechat", 300);
    p.pay("wechat", wx_lost, "none", 1, false);
    CHECK(eventually([&] { return p.balance(rider) == 2034; }, 15s)); // the reconciler runs every second
    CHECK(p.st.get("/api/v1/payments/" + wx_lost, rider).str("payment.status") == "paid");
    CHECK(all_verified(p.stub));
}

TEST_CASE("production: an order never paid is closed at the provider and expires") {
    Prod p("expire", {"pilehub-api.reconcile.expire_after_s=2"});
    const auto rider = p.wechat_rider("o-exp-1", "13800000041");
    const auto id = p.order(rider, "wechat", 800);
    CHECK(
        eventually([&] { return p.st.get("/api/v1/payments/" + id, rider).str("payment.status") == "expired"; }, 15s));
    CHECK(p.stub.get("/_stub/wechatpay/trades/" + id.substr(4)).str("trade.trade_state") == "CLOSED");
    CHECK(p.balance(rider) == 0);
}

TEST_CASE("production: a balance refund goes back through WeChat Pay and Alipay, newest payment first, settled by "
          "their refund notifications") {
    Prod p("refund");
    const auto rider = p.wechat_rider("o-rf-1", "13800000051");
    p.alipay_rider("2088000000000051", "13800000051");
    const auto account = p.st.rider_id(rider);
    const auto wx = p.order(rider, "wechat", 1000);
    p.pay("wechat", wx);
    const auto ali = p.order(rider, "alipay", 500);
    p.pay("alipay", ali);
    REQUIRE(p.balance(rider) == 1500);

    // Without an Idempotency-Key a money route is refused.
    CHECK(p.refund(account, 100, "").status == 400);

    auto rf = p.refund(account, 1200, "refund-1");
    REQUIRE_MESSAGE(rf.status == 201, rf);
    CHECK(rf.str("refund.state") == "processing");
    REQUIRE(rf.size("refund.parts") == 2);
    CHECK(rf.str("refund.parts.0.channel") == "alipay"); // newest first
    CHECK(rf.i64("refund.parts.0.amount_fen") == 500);
    CHECK(rf.str("refund.parts.1.channel") == "wechat");
    CHECK(rf.i64("refund.parts.1.amount_fen") == 700);
    const auto refund_id = rf.str("refund.id");
    CHECK(p.balance(rider) == 300); // the money left the wallet at once

    // The same key again: the same refund, nothing moves twice.
    auto again = p.refund(account, 1200, "refund-1");
    CHECK(again.str("refund.id") == refund_id);
    CHECK(p.balance(rider) == 300);

    const auto ali_part = rf.str("refund.parts.0.id"), wx_part = rf.str("refund.parts.1.id");
    auto s1 = p.stub.post("/_stub/alipay/refunds/" + ali_part + "/settle", R"({"status":"SUCCESS","deliver":true})");
    REQUIRE_MESSAGE(s1.status == 200, s1);
    auto s2 = p.stub.post("/_stub/wechatpay/refunds/" + wx_part + "/settle", R"({"status":"SUCCESS","deliver":true})");
    REQUIRE_MESSAGE(s2.status == 200, s2);
    CHECK(s2.i64("deliveries.0.status") == 200);
    auto done = p.st.get("/api/v1/admin/refunds/" + refund_id, p.admin);
    CHECK(done.str("refund.state") == "succeeded");
    CHECK(done.str("refund.parts.0.state") == "succeeded");
    CHECK(done.str("refund.parts.1.state") == "succeeded");
    CHECK_FALSE(done.str("refund.parts.1.provider_refund_id").empty());
    CHECK(p.balance(rider) == 300);
    CHECK(p.stub.get("/_stub/wechatpay/trades/" + wx.substr(4)).i64("refunds.0.amount.refund") == 700);
    auto listed = p.st.get("/api/v1/admin/refunds?state=succeeded", p.admin);
    CHECK(listed.size("refunds") == 1);
    auto csv = p.st.get("/api/v1/admin/exports/refunds", p.admin);
    CHECK(csv.status == 200);
    CHECK(csv.body.find(wx_part) != std::string::npos);
    CHECK(all_verified(p.stub));
}

TEST_CASE("production: a refund part the provider fails puts its money back in the wallet") {
    Prod p("refund-fail");
    const auto rider = p.wechat_rider("o-rff-1", "13800000061");
    const auto account = p.st.rider_id(rider);
    const auto wx = p.order(rider, "wechat", 1000);
    p.pay("wechat", wx);
    // Refused at once by the provider.
    REQUIRE(p.stub.post("/_stub/wechatpay/refund-mode", R"({"mode":"reject"})").status == 200);
    auto rejected = p.refund(account, 400, "fail-now");
    REQUIRE_MESSAGE(rejected.status == 201, rejected);
    CHECK(rejected.str("refund.state") == "failed");
    CHECK(p.balance(rider) == 1000);
    // Accepted, then abnormal by notification.
    REQUIRE(p.stub.post("/_stub/wechatpay/refund-mode", R"({"mode":"processing"})").status == 200);
    auto later = p.refund(account, 300, "fail-later");
    REQUIRE_MESSAGE(later.status == 201, later);
    CHECK(p.balance(rider) == 700);
    auto s = p.stub.post("/_stub/wechatpay/refunds/" + later.str("refund.parts.0.id") + "/settle",
                         R"({"status":"ABNORMAL","deliver":true})");
    REQUIRE_MESSAGE(s.status == 200, s);
    CHECK(p.st.get("/api/v1/admin/refunds/" + later.str("refund.id"), p.admin).str("refund.state") == "failed");
    CHECK(p.balance(rider) == 1000);
    auto ledger = p.st.get(fmt::format("/api/v1/admin/ledger?account_id={}&kind=refund_reversal", account), p.admin);
    CHECK(ledger.size("entries") == 2);
}

TEST_CASE("production: arrears are paid first by the next recharge through WeChat Pay") {
    Prod p("arrears");
    const auto rider = p.wechat_rider("o-arr-1", "13800000071");
    const auto account = p.st.rider_id(rider);
    {
        // A bill the wallet could not cover, as billingd leaves it (tests/integration/test_billingd.cpp
        // runs billingd itself to that point).
        auto d = p.st.db();
        db::Transaction tx(d);
        arrears::add_shortfall(d, account, Fen(300));
        tx.commit();
    }
    auto me = p.st.get("/api/v1/me", rider);
    CHECK(me.i64("wallet.arrears_fen") == 300);

    const auto id = p.order(rider, "wechat", 1000);
    for (int status : p.pay("wechat", id, "none", 3))
        CHECK(status == 200);
    me = p.st.get("/api/v1/me", rider);
    CHECK(me.i64("wallet.arrears_fen") == 0);
    CHECK(me.i64("wallet.balance_fen") == 700);
    auto paid = p.st.get(fmt::format("/api/v1/admin/ledger?account_id={}&kind=arrears", account), p.admin);
    REQUIRE(paid.size("entries") == 1);
    CHECK(paid.i64("entries.0.real_fen") == -300);
}
