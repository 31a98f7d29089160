#include "web-api/pay_wechat.hpp"

#include "common/tariff.hpp"

#include <fmt/format.h>

#include <charconv>
#include <stdexcept>

namespace pilehub::api {
namespace {

using payments::CallbackStatus;
using payments::RefundState;

constexpr std::size_t kMaxNotificationBytes = 64 * 1024;
constexpr std::string_view kIdPrefix = "pay_";

std::int64_t seconds(EpochMs t) {
    return t / 1000;
}

std::string header(const std::map<std::string, std::string>& headers, const std::string& name) {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
}

std::optional<std::int64_t> parse_int(std::string_view s) {
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size())
        return std::nullopt;
    return v;
}

// A transaction object (a notification's plaintext or a query's answer) as a Notification.
std::optional<payments::Notification> transaction_of(json::Object& o, std::string raw) {
    payments::Notification n;
    n.payment_id = WechatPayProvider::payment_id_of(o.req_str("out_trade_no", 32));
    n.provider_txn = o.opt_str("transaction_id", 32).value_or("");
    n.trade_state = o.req_str("trade_state", 32);
    auto amount = o.req_obj("amount");
    n.amount_fen = Fen(amount.req_int("total", 0));
    n.currency = amount.opt_str("currency", 16).value_or("CNY");
    n.merchant = {o.opt_str("mchid", 32).value_or(""), o.opt_str("appid", 32).value_or("")};
    if (const auto t = o.opt_str("success_time", 64))
        n.paid_at = billing::parse_rfc3339(*t).value_or(0);
    n.paid = n.trade_state == "SUCCESS";
    n.raw = std::move(raw);
    if (!o.ok() || (n.paid && n.provider_txn.empty()))
        return std::nullopt;
    return n;
}

RefundState refund_state_of(std::string_view status) {
    if (status == "SUCCESS")
        return RefundState::Succeeded;
    if (status == "ABNORMAL" || status == "CLOSED")
        return RefundState::Failed;
    return RefundState::Processing;
}

} // namespace

WechatPayProvider::WechatPayProvider(WechatPayConfig config, outbound::Client& http, const Clock& clock)
    : config_(std::move(config)),
      merchant_key_(crypto::private_key_from("pilehub-api.wechatpay.merchant_key_file", config_.merchant_key_pem)),
      platform_key_(
          crypto::public_key_from("pilehub-api.wechatpay.platform_public_key_file", config_.platform_public_key_pem)),
      http_(http), clock_(clock), base_(config_.base_url) {
    const std::pair<const char*, const std::string*> required[] = {
        {"pilehub-api.wechat.appid", &config_.appid},
        {"pilehub-api.wechatpay.mchid", &config_.mchid},
        {"pilehub-api.wechatpay.merchant_serial", &config_.merchant_serial},
        {"pilehub-api.wechatpay.platform_serial", &config_.platform_serial},
    };
    for (const auto& [key, value] : required)
        if (value->empty())
            throw std::invalid_argument(std::string(key) + ": required");
    if (config_.apiv3_key.size() != 32)
        throw std::invalid_argument(fmt::format(
            "pilehub-api.wechatpay.apiv3_key_file: the APIv3 key is 32 bytes, not {}", config_.apiv3_key.size()));
    while (!base_.empty() && base_.back() == '/')
        base_.pop_back();
    if (!outbound::split_url(base_))
        throw std::invalid_argument("pilehub-api.wechatpay.base_url: not an http(s) URL: " + config_.base_url);
    if (!config_.notify_url.empty() && !outbound::split_url(config_.notify_url))
        throw std::invalid_argument("pilehub-api.wechatpay.notify_url: not an http(s) URL: " + config_.notify_url);
}

WechatPayConfig WechatPayProvider::config_from(const ProviderSettings& s) {
    WechatPayConfig c;
    c.appid = s.wechat.appid;
    c.mchid = s.wechatpay.mchid;
    c.merchant_serial = s.wechatpay.merchant_serial;
    c.merchant_key_pem = read_key_file("pilehub-api.wechatpay.merchant_key_file", s.wechatpay.merchant_key_file);
    c.apiv3_key = read_key_file("pilehub-api.wechatpay.apiv3_key_file", s.wechatpay.apiv3_key_file);
    c.platform_public_key_pem =
        read_key_file("pilehub-api.wechatpay.platform_public_key_file", s.wechatpay.platform_public_key_file);
    c.platform_serial = s.wechatpay.platform_serial;
    c.base_url = s.wechatpay.base_url;
    c.notify_url = s.wechatpay.notify_url;
    return c;
}

std::unique_ptr<WechatPayProvider> WechatPayProvider::from(const ProviderSettings& s, outbound::Client& http,
                                                           const Clock& clock) {
    return outbound::build_checked<WechatPayProvider>(s, http, clock);
}

std::string WechatPayProvider::out_trade_no(std::string_view payment_id) {
    if (payment_id.substr(0, kIdPrefix.size()) == kIdPrefix)
        payment_id.remove_prefix(kIdPrefix.size());
    return std::string(payment_id);
}

std::string WechatPayProvider::payment_id_of(std::string_view out_trade_no) {
    if (out_trade_no.empty() || out_trade_no.substr(0, kIdPrefix.size()) == kIdPrefix)
        return std::string(out_trade_no);
    return std::string(kIdPrefix) + std::string(out_trade_no);
}

std::string WechatPayProvider::authorization(std::string_view method, std::string_view path_with_query,
                                             std::string_view body, std::int64_t secs, std::string_view nonce) const {
    const auto message = fmt::format("{}\n{}\n{}\n{}\n{}\n", method, path_with_query, secs, nonce, body);
    return fmt::format(
        R"(WECHATPAY2-SHA256-RSA2048 mchid="{}",nonce_str="{}",signature="{}",timestamp="{}",serial_no="{}")",
        config_.mchid, nonce, merchant_key_.sign_sha256_base64(message), secs, config_.merchant_serial);
}

std::string WechatPayProvider::pay_params(std::string_view prepay_id, std::int64_t secs, std::string_view nonce) const {
    const auto package = fmt::format("prepay_id={}", prepay_id);
    const auto ts = std::to_string(secs);
    const auto sign =
        merchant_key_.sign_sha256_base64(fmt::format("{}\n{}\n{}\n{}\n", config_.appid, ts, nonce, package));
    json::Writer w;
    w.begin_object()
        .field("appId", config_.appid)
        .field("timeStamp", ts)
        .field("nonceStr", nonce)
        .field("package", package)
        .field("signType", "RSA")
        .field("paySign", sign)
        .end_object();
    return w.str();
}

bool WechatPayProvider::verify_signed(const std::map<std::string, std::string>& headers, std::string_view body,
                                      std::string* why) const {
    const auto fail = [&](std::string w) {
        if (why)
            *why = std::move(w);
        return false;
    };
    const auto serial = header(headers, "wechatpay-serial");
    const auto ts = header(headers, "wechatpay-timestamp");
    const auto nonce = header(headers, "wechatpay-nonce");
    const auto signature = header(headers, "wechatpay-signature");
    if (serial.empty() || ts.empty() || nonce.empty() || signature.empty())
        return fail("no Wechatpay-Serial, -Timestamp, -Nonce or -Signature header");
    if (serial != config_.platform_serial)
        return fail(fmt::format("Wechatpay-Serial {} is not the platform key's ({})", serial, config_.platform_serial));
    const auto secs = parse_int(ts);
    if (!secs)
        return fail("Wechatpay-Timestamp is not a number");
    const auto skew = *secs - seconds(clock_.now_ms());
    if (skew > kMaxSkewS || skew < -kMaxSkewS)
        return fail(fmt::format("Wechatpay-Timestamp is {} s away from our clock", skew));
    if (!platform_key_.verify_sha256_base64(fmt::format("{}\n{}\n{}\n", ts, nonce, body), signature))
        return fail("Wechatpay-Signature does not verify with the platform key");
    return true;
}

Result<WechatPayProvider::Answer> WechatPayProvider::call(std::string_view method, std::string_view path,
                                                          std::string_view body) const {
    const auto secs = seconds(clock_.now_ms());
    const auto nonce = crypto::random_hex(16);
    outbound::Request req;
    req.method = std::string(method);
    req.url = base_ + std::string(path);
    req.headers.emplace_back("Authorization", authorization(method, path, body, secs, nonce));
    req.headers.emplace_back("Accept", "application/json");
    req.headers.emplace_back("User-Agent", "pilehub-api");
    if (method == "POST") {
        req.content_type = "application/json";
        req.body = std::string(body);
    }
    const auto res = http_.send(req);
    if (res.status == 0)
        return Result<Answer>::failure(fmt::format("wechatpay {} {}: {}", method, path, res.error));
    Answer a;
    a.status = res.status;
    a.body = res.body;
    if (res.ok()) {
        std::string why;
        if (!verify_signed(res.headers, res.body, &why))
            return Result<Answer>::failure(
                fmt::format("wechatpay {} {}: the answer does not verify: {}", method, path, why));
        return a;
    }
    // An error answer is read for its code only: it changes nothing, whoever wrote it.
    if (auto doc = json::parse(res.body)) {
        std::string err;
        auto o = json::Object::root(*doc, &err);
        a.code = o.opt_str("code", 64).value_or("");
        a.message = o.opt_str("message", 1024).value_or("");
    }
    return a;
}

namespace {

std::string describe(std::string_view what, int status, const std::string& code, const std::string& message) {
    return fmt::format("wechatpay {}: HTTP {} {} {}", what, status, code, message);
}

} // namespace

Result<payments::PayParams> WechatPayProvider::create(const payments::Order& order) {
    using R = Result<payments::PayParams>;
    if (order.payer_id.empty())
        return R::failure("wechatpay: the rider has no WeChat openid (payer.openid)");
    json::Writer w;
    w.begin_object()
        .field("appid", config_.appid)
        .field("mchid", config_.mchid)
        .field("description", config_.description)
        .field("out_trade_no", out_trade_no(order.id))
        .field("notify_url", config_.notify_url);
    w.key("amount").begin_object().field("total", order.amount_fen.value()).field("currency", "CNY").end_object();
    w.key("payer").begin_object().field("openid", order.payer_id).end_object();
    w.end_object();
    auto a = call("POST", "/v3/pay/transactions/jsapi", w.str());
    if (!a)
        return R::failure(a.error());
    if (a->status < 200 || a->status >= 300)
        return R::failure(describe("create", a->status, a->code, a->message));
    auto doc = json::parse(a->body);
    if (!doc)
        return R::failure("wechatpay create: " + doc.error());
    std::string err;
    auto o = json::Object::root(*doc, &err);
    const auto prepay_id = o.req_str("prepay_id", 64);
    if (!err.empty())
        return R::failure("wechatpay create: " + err);
    return payments::PayParams{"wechat", pay_params(prepay_id, seconds(clock_.now_ms()), crypto::random_hex(16)),
                               prepay_id};
}

payments::Verified WechatPayProvider::verify(const payments::CallbackRequest& cb) const {
    if (cb.body.size() > kMaxNotificationBytes)
        return CallbackStatus::Malformed;
    if (!verify_signed(cb.headers, cb.body, nullptr))
        return CallbackStatus::BadSignature;
    auto doc = json::parse(cb.body);
    if (!doc)
        return CallbackStatus::Malformed;
    std::string err;
    auto o = json::Object::root(*doc, &err);
    const auto event = o.req_str("event_type", 64);
    auto resource = o.req_obj("resource");
    const auto algorithm = resource.req_str("algorithm", 32);
    const auto ciphertext = crypto::unbase64(resource.req_str("ciphertext", kMaxNotificationBytes));
    const auto aad = resource.opt_str("associated_data", 256).value_or("");
    const auto nonce = resource.req_str("nonce", 64);
    if (!err.empty() || algorithm != "AEAD_AES_256_GCM" || ciphertext.empty())
        return CallbackStatus::Malformed;
    // The resource is authenticated with the APIv3 key: one that does not open is not WeChat's.
    const auto plain = crypto::aes256_gcm_decrypt(config_.apiv3_key, nonce, aad, ciphertext);
    if (!plain)
        return CallbackStatus::BadSignature;
    auto inner = json::parse(*plain);
    if (!inner)
        return CallbackStatus::Malformed;
    auto t = json::Object::root(*inner, &err);
    if (event.rfind("TRANSACTION.", 0) == 0) {
        auto n = transaction_of(t, *plain);
        if (!n)
            return CallbackStatus::Malformed;
        return *n;
    }
    if (event.rfind("REFUND.", 0) == 0) {
        payments::RefundNotification n;
        n.part_id = t.req_str("out_refund_no", 64);
        n.payment_id = payment_id_of(t.req_str("out_trade_no", 32));
        n.provider_refund_id = t.req_str("refund_id", 64);
        n.state = t.req_str("refund_status", 32);
        n.succeeded = n.state == "SUCCESS";
        n.amount_fen = Fen(t.req_obj("amount").req_int("refund", 0));
        n.merchant = {t.opt_str("mchid", 32).value_or(""), ""};
        n.raw = *plain;
        if (!err.empty())
            return CallbackStatus::Malformed;
        return n;
    }
    return CallbackStatus::Malformed;
}

std::string WechatPayProvider::ack_body(CallbackStatus s) const {
    if (payments::acknowledge(s))
        return {};
    json::Writer w;
    w.begin_object().field("code", "FAIL").field("message", payments::to_string(s)).end_object();
    return w.str();
}

int WechatPayProvider::ack_status(CallbackStatus s) const {
    return Provider::ack_status(s);
}

Result<payments::TradeQuery> WechatPayProvider::query(const payments::Order& order) {
    using R = Result<payments::TradeQuery>;
    auto a = call(
        "GET", fmt::format("/v3/pay/transactions/out-trade-no/{}?mchid={}", out_trade_no(order.id), config_.mchid), "");
    if (!a)
        return R::failure(a.error());
    payments::TradeQuery q;
    q.raw = a->body;
    if (a->status == 404 && a->code == "ORDER_NOT_EXIST") {
        q.state = payments::TradeState::Closed; // never created: never paid
        return q;
    }
    if (a->status < 200 || a->status >= 300)
        return R::failure(describe("query", a->status, a->code, a->message));
    auto doc = json::parse(a->body);
    if (!doc)
        return R::failure("wechatpay query: " + doc.error());
    std::string err;
    auto o = json::Object::root(*doc, &err);
    auto n = transaction_of(o, a->body);
    if (!n)
        return R::failure("wechatpay query: " + (err.empty() ? std::string("no transaction_id") : err));
    const auto& st = n->trade_state;
    if (st == "SUCCESS" || st == "REFUND") { // REFUND: it was paid, then (partly) refunded
        n->paid = true;
        q.state = payments::TradeState::Paid;
        q.paid = std::move(*n);
    } else if (st == "NOTPAY" || st == "USERPAYING") {
        q.state = payments::TradeState::NotPaid;
    } else if (st == "CLOSED" || st == "REVOKED" || st == "PAYERROR") {
        q.state = payments::TradeState::Closed;
    } else {
        return R::failure("wechatpay query: unknown trade_state " + st);
    }
    return q;
}

Result<bool> WechatPayProvider::close(const payments::Order& order) {
    json::Writer w;
    w.begin_object().field("mchid", config_.mchid).end_object();
    auto a = call("POST", fmt::format("/v3/pay/transactions/out-trade-no/{}/close", out_trade_no(order.id)), w.str());
    if (!a)
        return Result<bool>::failure(a.error());
    if ((a->status >= 200 && a->status < 300) || (a->status == 404 && a->code == "ORDER_NOT_EXIST"))
        return true;
    if (a->code == "ORDERPAID")
        return false;
    return Result<bool>::failure(describe("close", a->status, a->code, a->message));
}

namespace {

// A refund answer (or query answer) as RefundAccepted; WeChat's 4xx refusal (one with its error code)
// is Failed: nothing moved. 401 (our signature refused: configuration), 429, 5xx and a 4xx without
// WeChat's code (a proxy's page, a wrong base_url) are failures to retry.
Result<payments::RefundAccepted> refund_answer(std::string_view what, int status, const std::string& body,
                                               const std::string& code, const std::string& message) {
    using R = Result<payments::RefundAccepted>;
    payments::RefundAccepted acc;
    acc.raw = body;
    if (status >= 200 && status < 300) {
        auto doc = json::parse(body);
        if (!doc)
            return R::failure(fmt::format("wechatpay {}: {}", what, doc.error()));
        std::string err;
        auto o = json::Object::root(*doc, &err);
        acc.provider_refund_id = o.req_str("refund_id", 64);
        acc.state = refund_state_of(o.req_str("status", 32));
        if (!err.empty())
            return R::failure(fmt::format("wechatpay {}: {}", what, err));
        return acc;
    }
    if (status >= 400 && status < 500 && status != 401 && status != 429 && !code.empty()) {
        acc.state = RefundState::Failed;
        return acc;
    }
    return R::failure(describe(what, status, code, message));
}

} // namespace

Result<payments::RefundAccepted> WechatPayProvider::refund(const payments::RefundRequest& r) {
    json::Writer w;
    w.begin_object();
    if (!r.provider_txn.empty())
        w.field("transaction_id", r.provider_txn);
    w.field("out_trade_no", out_trade_no(r.payment_id)).field("out_refund_no", r.part_id);
    if (!r.reason.empty())
        w.field("reason", r.reason);
    if (!config_.notify_url.empty())
        w.field("notify_url", config_.notify_url);
    w.key("amount")
        .begin_object()
        .field("refund", r.amount_fen.value())
        .field("total", r.total_fen.value())
        .field("currency", "CNY")
        .end_object();
    w.end_object();
    auto a = call("POST", "/v3/refund/domestic/refunds", w.str());
    if (!a)
        return Result<payments::RefundAccepted>::failure(a.error());
    return refund_answer("refund", a->status, a->body, a->code, a->message);
}

Result<payments::RefundAccepted> WechatPayProvider::query_refund(const payments::RefundRequest& r) {
    auto a = call("GET", "/v3/refund/domestic/refunds/" + crypto::percent_encode(r.part_id), "");
    if (!a)
        return Result<payments::RefundAccepted>::failure(a.error());
    return refund_answer("refund query", a->status, a->body, a->code, a->message);
}

} // namespace pilehub::api
