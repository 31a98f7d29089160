// PileHub's provider clients (web-api: login_wechat, pay_wechat, login_alipay, pay_alipay,
// sms_aliyun over HttplibClient) against the provider stub (tests/stubs/providers.mjs), which
// implements the published protocols independently: every request we send verifies at the stub,
// every answer and notification it signs verifies here.
#include "common/crypto.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/line_child.hpp"
#include "web-api/login_alipay.hpp"
#include "web-api/login_wechat.hpp"
#include "web-api/pay_alipay.hpp"
#include "web-api/pay_wechat.hpp"
#include "web-api/sms_aliyun.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <mutex>
#include <thread>

using namespace pilehub;
using namespace pilehub::api;
using namespace std::chrono_literals;

namespace {

/// The stub, started with a fresh key directory, and the settings its providers.conf gives (notify
/// URLs pointing at `notify_port`).
struct Stub {
    std::string dir = test::make_temp_dir("pilehub-stub");
    test::LineChild child{{"node", PILEHUB_SOURCE_DIR "/tests/stubs/providers.mjs", "--dir", dir}, dir + "/stub.log"};
    int port = 0;
    ProviderSettings settings;
    outbound::HttplibClient http;

    explicit Stub(int notify_port) {
        const auto line = child.read_line(std::chrono::steady_clock::now() + 20s);
        REQUIRE_MESSAGE(line.has_value(), "the stub printed no line" << child.why());
        auto doc = json::parse(*line);
        REQUIRE(doc.ok());
        std::string err;
        auto o = json::Object::root(*doc, &err);
        port = static_cast<int>(o.req_int("port", 1, 65535));
        const auto conf = o.req_str("config", 4096);
        REQUIRE(err.empty());
        auto schema = ConfigSchema::common("pilehub-api");
        add_provider_keys(schema);
        const auto base = "http://127.0.0.1:" + std::to_string(notify_port);
        settings = ProviderSettings::from(
            Config::load(schema, conf,
                         {"data_dir=" + dir, "pilehub-api.wechatpay.notify_url=" + base + "/notify/wechat",
                          "pilehub-api.alipay.notify_url=" + base + "/notify/alipay"}));
    }
    ~Stub() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }

    /// A control call; its JSON answer (REQUIREd to be 200).
    rapidjson::Document control(const std::string& method, const std::string& path, const std::string& body = "{}") {
        outbound::Request r;
        r.method = method;
        r.url = "http://127.0.0.1:" + std::to_string(port) + path;
        if (method == "POST") {
            r.body = body;
            r.content_type = "application/json";
        }
        const auto res = http.send(r);
        REQUIRE_MESSAGE(res.status == 200, method << " " << path << ": " << res.status << " " << res.body << res.error);
        auto doc = json::parse(res.body, 4 << 20);
        REQUIRE(doc.ok());
        return std::move(doc).value();
    }
    /// Every provider request the stub received verified.
    void check_log_verified() {
        auto log = control("GET", "/_stub/log");
        REQUIRE(log.IsArray());
        CHECK(log.Size() > 0);
        for (const auto& e : log.GetArray()) {
            rapidjson::StringBuffer sb;
            rapidjson::Writer<rapidjson::StringBuffer> w(sb);
            e.Accept(w);
            CHECK_MESSAGE(e.HasMember("verified"), sb.GetString());
            if (e.HasMember("verified"))
                CHECK_MESSAGE(e["verified"].GetBool(), sb.GetString());
        }
    }
};

/// Our notify endpoint: hands each notification to the provider's verify() and answers as the API would.
struct NotifyServer {
    httplib::Server server;
    int port = 0;
    std::thread thread;
    std::mutex mutex;
    payments::Provider* wechat = nullptr;
    payments::Provider* alipay = nullptr;
    std::vector<payments::Verified> seen;

    NotifyServer() {
        const auto handle = [this](payments::Provider** p) {
            return [this, p](const httplib::Request& req, httplib::Response& res) {
                payments::CallbackRequest cb;
                cb.body = req.body;
                for (const auto& [k, v] : req.headers) {
                    std::string name = k;
                    for (auto& c : name)
                        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                    cb.headers.emplace(name, v);
                }
                std::lock_guard lock(mutex);
                auto v = (*p)->verify(cb);
                const auto status =
                    std::holds_alternative<payments::CallbackStatus>(v)
                        ? std::get<payments::CallbackStatus>(v)
                        : (std::holds_alternative<payments::Notification>(v) ? payments::CallbackStatus::Credited
                                                                             : payments::CallbackStatus::RefundSettled);
                seen.push_back(std::move(v));
                res.status = (*p)->ack_status(status);
                res.set_content((*p)->ack_body(status), (*p)->ack_content_type());
            };
        };
        server.Post("/notify/wechat", handle(&wechat));
        server.Post("/notify/alipay", handle(&alipay));
        port = server.bind_to_any_port("127.0.0.1");
        thread = std::thread([this] { server.listen_after_bind(); });
    }
    ~NotifyServer() {
        server.stop();
        thread.join();
    }
    /// The one notification seen since the last call, as a T (REQUIREd).
    template <typename T> T only() {
        auto all = take();
        REQUIRE(all.size() == 1);
        REQUIRE(std::holds_alternative<T>(all[0]));
        return std::get<T>(all[0]);
    }
    /// The notifications seen so far, and forgets them.
    std::vector<payments::Verified> take() {
        std::lock_guard lock(mutex);
        return std::exchange(seen, {});
    }
};

std::string new_payment_id() {
    return "pay_" + crypto::random_hex(16);
}

/// A payment notification for all of `o`, in CNY, to our merchant and app.
void check_paid(const payments::Notification& n, const payments::Order& o, const payments::Provider& pay) {
    CHECK(n.payment_id == o.id);
    CHECK(n.amount_fen == o.amount_fen);
    CHECK(n.paid);
    CHECK(n.currency == "CNY");
    CHECK(n.merchant.merchant_id == pay.merchant().merchant_id);
    CHECK(n.merchant.app_id == pay.merchant().app_id);
}

/// A refund of `amount` of the paid order `o`, sent: the provider answers it is processing.
payments::RefundRequest refund_part(payments::Provider& pay, const payments::Order& o, const std::string& txn,
                                    Fen amount) {
    payments::RefundRequest r;
    r.part_id = "rfp_" + crypto::random_hex(8);
    r.payment_id = o.id;
    r.provider_txn = txn;
    r.amount_fen = amount;
    r.total_fen = o.amount_fen;
    r.reason = "test";
    auto acc = pay.refund(r);
    REQUIRE_MESSAGE(acc.ok(), (acc.ok() ? "" : acc.error()));
    CHECK(acc->state == payments::RefundState::Processing);
    return r;
}

std::string str(const rapidjson::Value& v, const char* key) {
    return v.HasMember(key) && v[key].IsString() ? v[key].GetString() : "";
}

} // namespace

TEST_CASE("provider clients against the stub: Aliyun SMS sends, and a refusal says its Code") {
    NotifyServer notify;
    Stub stub(notify.port);
    auto sms = AliyunSmsProvider::from(stub.settings, stub.http, SystemClock::instance());
    std::string why;
    CHECK_MESSAGE(sms->send("13800000000", "123456", &why), why);
    auto msgs = stub.control("GET", "/_stub/sms/messages?phone=13800000000");
    REQUIRE(msgs.IsArray());
    REQUIRE(msgs.Size() == 1);
    CHECK(str(msgs[0]["params"], "code") == "123456");
    CHECK(str(msgs[0], "template_code") == "SMS_154950909");

    stub.control("POST", "/_stub/sms/mode", R"({"fail":"isv.BUSINESS_LIMIT_CONTROL"})");
    CHECK_FALSE(sms->send("13800000000", "654321", &why));
    CHECK(why.find("isv.BUSINESS_LIMIT_CONTROL") != std::string::npos);
    stub.check_log_verified();
}

TEST_CASE("provider clients against the stub: WeChat login, the phone, and a token WeChat expires") {
    NotifyServer notify;
    Stub stub(notify.port);
    auto login = WechatLogin::from(stub.settings, stub.http, SystemClock::instance());
    stub.control("POST", "/_stub/wechat/codes", R"({"code":"c1","openid":"oOPEN1","unionid":"oUNION1"})");
    auto s = login->exchange("c1");
    REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error()));
    CHECK(s->id == "oOPEN1");
    CHECK(s->union_id == "oUNION1");
    CHECK_FALSE(login->exchange("c1").ok()); // a code is used once

    stub.control("POST", "/_stub/wechat/phone-codes", R"({"code":"p1","phone":"13800000001"})");
    stub.control("POST", "/_stub/wechat/phone-codes", R"({"code":"p2","phone":"61234567","country_code":"852"})");
    stub.control("POST", "/_stub/wechat/phone-codes", R"({"code":"p3","phone":"13800000003"})");
    auto p1 = login->phone("p1");
    REQUIRE_MESSAGE(p1.ok(), (p1.ok() ? "" : p1.error()));
    CHECK(*p1 == "13800000001");
    CHECK(login->phone("p2").value() == "+85261234567");
    CHECK(stub.control("GET", "/_stub/wechat/stats")["token_fetches"].GetInt() == 1);
    stub.control("POST", "/_stub/wechat/expire-token");
    CHECK(login->phone("p3").value() == "13800000003");
    CHECK(stub.control("GET", "/_stub/wechat/stats")["token_fetches"].GetInt() == 2);
}

TEST_CASE("provider clients against the stub: WeChat Pay order, notifications, query, refund, close") {
    NotifyServer notify;
    Stub stub(notify.port);
    auto pay = WechatPayProvider::from(stub.settings, stub.http, SystemClock::instance());
    notify.wechat = pay.get();

    payments::Order o;
    o.id = new_payment_id();
    o.amount_fen = Fen(1234);
    o.payer_id = "oOPEN1";
    auto params = pay->create(o);
    REQUIRE_MESSAGE(params.ok(), (params.ok() ? "" : params.error()));
    CHECK(stub.control("POST", "/_stub/wechatpay/verify-pay-params", params->json)["valid"].GetBool());
    CHECK(pay->query(o).value().state == payments::TradeState::NotPaid);

    const auto out_trade_no = WechatPayProvider::out_trade_no(o.id);
    // A tampered notification is refused (WeChat keeps the trade unpaid and would resend).
    auto bad = stub.control("POST", "/_stub/wechatpay/pay",
                            R"({"out_trade_no":")" + out_trade_no + R"(","tamper":"signature"})");
    CHECK(bad["deliveries"][0]["status"].GetInt() == 401);
    CHECK(notify.only<payments::CallbackStatus>() == payments::CallbackStatus::BadSignature);

    auto paid = stub.control("POST", "/_stub/wechatpay/pay", R"({"out_trade_no":")" + out_trade_no + R"("})");
    CHECK(paid["deliveries"][0]["status"].GetInt() == 200);
    const auto n = notify.only<payments::Notification>();
    check_paid(n, o, *pay);
    CHECK(n.provider_txn == str(paid, "transaction_id"));

    auto q = pay->query(o);
    REQUIRE(q.ok());
    CHECK(q->state == payments::TradeState::Paid);
    CHECK(q->paid->provider_txn == n.provider_txn);
    CHECK(pay->close(o).value() == false); // paid

    const auto r = refund_part(*pay, o, n.provider_txn, Fen(500));
    CHECK(pay->query_refund(r).value().state == payments::RefundState::Processing);
    auto settled = stub.control("POST", "/_stub/wechatpay/refunds/" + r.part_id + "/settle", R"({"status":"SUCCESS"})");
    CHECK(settled["deliveries"][0]["status"].GetInt() == 200);
    const auto rn = notify.only<payments::RefundNotification>();
    CHECK(rn.part_id == r.part_id);
    CHECK(rn.succeeded);
    CHECK(rn.amount_fen == Fen(500));
    CHECK(pay->query_refund(r).value().state == payments::RefundState::Succeeded);

    auto too_much = r;
    too_much.part_id = "rfp_" + crypto::random_hex(8);
    too_much.amount_fen = Fen(1000);
    CHECK(pay->refund(too_much).value().state == payments::RefundState::Failed);

    payments::Order unpaid = o;
    unpaid.id = new_payment_id();
    REQUIRE(pay->create(unpaid).ok());
    CHECK(pay->close(unpaid).value() == true);
    CHECK(pay->query(unpaid).value().state == payments::TradeState::Closed);
    payments::Order never = o;
    never.id = new_payment_id();
    CHECK(pay->query(never).value().state == payments::TradeState::Closed);
    stub.check_log_verified();
}

TEST_CASE("provider clients against the stub: Alipay login, the phone, order, notifications and refunds") {
    NotifyServer notify;
    Stub stub(notify.port);
    const auto& clock = SystemClock::instance();
    auto login = AlipayLogin::from(stub.settings, stub.http, clock);
    auto pay = AlipayProvider::from(stub.settings, stub.http, clock);
    notify.alipay = pay.get();

    stub.control("POST", "/_stub/alipay/codes", R"({"code":"a1","user_id":"2088102150477652"})");
    auto s = login->exchange("a1");
    REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error()));
    CHECK(s->id == "2088102150477652");
    CHECK_FALSE(login->exchange("a1").ok());
    auto phone_code = str(stub.control("POST", "/_stub/alipay/phone", R"({"phone":"13800000002"})"), "phone_code");
    auto phone = login->phone(phone_code);
    REQUIRE_MESSAGE(phone.ok(), (phone.ok() ? "" : phone.error()));
    CHECK(*phone == "13800000002");

    payments::Order o;
    o.id = new_payment_id();
    o.amount_fen = Fen(1234);
    o.payer_id = "2088102150477652";
    auto params = pay->create(o);
    REQUIRE_MESSAGE(params.ok(), (params.ok() ? "" : params.error()));
    CHECK(pay->query(o).value().state == payments::TradeState::NotPaid);

    auto bad = stub.control("POST", "/_stub/alipay/pay", R"({"out_trade_no":")" + o.id + R"(","tamper":"signature"})");
    CHECK(str(bad["deliveries"][0], "body") == "fail");
    CHECK(notify.only<payments::CallbackStatus>() == payments::CallbackStatus::BadSignature);

    auto paid = stub.control("POST", "/_stub/alipay/pay", R"({"out_trade_no":")" + o.id + R"("})");
    CHECK(str(paid["deliveries"][0], "body") == "success");
    const auto n = notify.only<payments::Notification>();
    check_paid(n, o, *pay);
    CHECK(pay->query(o).value().state == payments::TradeState::Paid);
    CHECK(pay->close(o).value() == false);

    const auto r = refund_part(*pay, o, n.provider_txn, Fen(500));
    stub.control("POST", "/_stub/alipay/refunds/" + r.part_id + "/settle", R"({"status":"SUCCESS"})");
    CHECK(notify.only<payments::RefundNotification>().part_id == r.part_id);
    CHECK(pay->query_refund(r).value().state == payments::RefundState::Succeeded);

    stub.control("POST", "/_stub/alipay/refund-mode", R"({"mode":"reject"})");
    auto rejected = r;
    rejected.part_id = "rfp_" + crypto::random_hex(8);
    CHECK(pay->refund(rejected).value().state == payments::RefundState::Failed);

    payments::Order unpaid = o;
    unpaid.id = new_payment_id();
    REQUIRE(pay->create(unpaid).ok());
    CHECK(pay->close(unpaid).value() == true);
    stub.check_log_verified();
}
