#pragma once
#include "common/crypto.hpp"
#include "common/payments.hpp"
#include "web-api/outbound.hpp"
#include "web-api/provider_settings.hpp"

#include <map>
#include <memory>
#include <string>

/// WeChat Pay API v3 for mini-programs (CONTRACT F.2, docs/providers.md §2; WeChat Pay
/// "签名认证" https://pay.weixin.qq.com/doc/v3/merchant/4012365336, "小程序下单"
/// https://pay.weixin.qq.com/doc/v3/merchant/4012525182, "支付通知" and "退款结果通知").
///
/// Every request carries `Authorization: WECHATPAY2-SHA256-RSA2048 mchid=…,nonce_str=…,signature=…,
/// timestamp=…,serial_no=…` where the signature is SHA256withRSA (merchant key) over
/// `METHOD\nPATH?QUERY\nSECS\nNONCE\nBODY\n` (the path from `/v3/…`, relative to base_url). Every 2xx
/// answer and every notification is verified: `Wechatpay-Serial` = the platform key's serial,
/// `Wechatpay-Timestamp` within ±300 s of our clock, `Wechatpay-Signature` = SHA256withRSA
/// (platform key) over `SECS\nNONCE\nBODY\n`. A notification's `resource` is AES-256-GCM
/// (key: the APIv3 key, nonce and associated data from the resource).
///
/// - create: `POST /v3/pay/transactions/jsapi` (payer.openid = Order::payer_id, required); the pay
///   params are wx.requestPayment's `{appId, timeStamp, nonceStr, package: "prepay_id=…",
///   signType: "RSA", paySign}`, paySign over `APPID\nTIMESTAMP\nNONCE\nprepay_id=…\n`.
/// - out_trade_no: WeChat allows at most 32 characters (`[0-9A-Za-z_*-]`); our ids are `pay_` +
///   32 hex, so the `pay_` prefix is left out on the wire and put back on what comes back
///   (out_trade_no()/payment_id_of()). out_refund_no (64) is our part id as is.
/// - verify: TRANSACTION.* → Notification (amount.total fen, success_time, merchant {mchid, appid},
///   amount.currency as stated, paid = trade_state SUCCESS); REFUND.* → RefundNotification
///   (succeeded = refund_status SUCCESS, amount.refund). A signature, serial, time or decryption
///   failure is BadSignature; anything unreadable Malformed.
/// - ack: 200 with an empty body when acknowledged; else 401 (bad signature) or 400 with
///   `{"code":"FAIL","message":…}` (WeChat resends).
/// - query: SUCCESS / REFUND → Paid; NOTPAY / USERPAYING → NotPaid; CLOSED / REVOKED / PAYERROR and
///   404 ORDER_NOT_EXIST → Closed. close: true when closed (204, or 404 ORDER_NOT_EXIST), false
///   when ORDERPAID.
/// - refund: PROCESSING → Processing, SUCCESS → Succeeded, ABNORMAL / CLOSED → Failed; WeChat's 4xx
///   refusal with its code (NOT_ENOUGH, RESOURCE_NOT_EXISTS, …) → Failed; the network, 401, 429, 5xx,
///   a 4xx without WeChat's code or an answer that does not verify → a failure (ask again later).
///   query_refund likewise (404 RESOURCE_NOT_EXISTS → Failed).
namespace pilehub::api {

struct WechatPayConfig {
    std::string appid;                   ///< pilehub-api.wechat.appid (the mini-program)
    std::string mchid;                   ///< pilehub-api.wechatpay.mchid
    std::string merchant_serial;         ///< pilehub-api.wechatpay.merchant_serial (the API certificate's serial)
    std::string merchant_key_pem;        ///< pilehub-api.wechatpay.merchant_key_file
    std::string apiv3_key;               ///< pilehub-api.wechatpay.apiv3_key_file (32 bytes)
    std::string platform_public_key_pem; ///< pilehub-api.wechatpay.platform_public_key_file (key or certificate)
    std::string platform_serial; ///< pilehub-api.wechatpay.platform_serial (`PUB_KEY_ID_…` or the certificate's)
    std::string base_url = "https://api.mch.weixin.qq.com";
    std::string notify_url;                   ///< pilehub-api.wechatpay.notify_url
    std::string description = "PileHub 充值"; ///< the trade's description the rider sees
};

class WechatPayProvider final : public payments::Provider {
public:
    /// How far a signed answer's or notification's timestamp may be from our clock.
    static constexpr std::int64_t kMaxSkewS = 300;

    /// Throws std::invalid_argument naming the configuration key of a bad value.
    WechatPayProvider(WechatPayConfig config, outbound::Client& http, const Clock& clock = SystemClock::instance());
    /// The configuration from the settings, key files read (ConfigError naming an unreadable one).
    static WechatPayConfig config_from(const ProviderSettings& s);
    /// config_from() and the provider; a bad key or value is a ConfigError naming its key.
    static std::unique_ptr<WechatPayProvider> from(const ProviderSettings& s, outbound::Client& http,
                                                   const Clock& clock = SystemClock::instance());
    std::string_view name() const override { return "wechat"; }
    payments::Merchant merchant() const override { return {config_.mchid, config_.appid}; }
    Result<payments::PayParams> create(const payments::Order& order) override;
    payments::Verified verify(const payments::CallbackRequest& cb) const override;
    std::string ack_body(payments::CallbackStatus s) const override;
    int ack_status(payments::CallbackStatus s) const override;
    Result<payments::TradeQuery> query(const payments::Order& order) override;
    Result<bool> close(const payments::Order& order) override;
    Result<payments::RefundAccepted> refund(const payments::RefundRequest& r) override;
    Result<payments::RefundAccepted> query_refund(const payments::RefundRequest& r) override;

    /// The `Authorization` header value for a request (exposed for tests).
    std::string authorization(std::string_view method, std::string_view path_with_query, std::string_view body,
                              std::int64_t secs, std::string_view nonce) const;
    /// wx.requestPayment's parameters for `prepay_id` (exposed for tests).
    std::string pay_params(std::string_view prepay_id, std::int64_t secs, std::string_view nonce) const;
    /// Whether headers (names in lower case) sign `body` with the platform key, serial and a fresh
    /// timestamp; `why` says what failed.
    bool verify_signed(const std::map<std::string, std::string>& headers, std::string_view body,
                       std::string* why) const;
    /// Our order id as WeChat's out_trade_no (without `pay_`), and back.
    static std::string out_trade_no(std::string_view payment_id);
    static std::string payment_id_of(std::string_view out_trade_no);

private:
    struct Answer {
        int status = 0;
        std::string body;
        std::string code; ///< WeChat's error code on a non-2xx answer
        std::string message;
    };
    Result<Answer> call(std::string_view method, std::string_view path, std::string_view body) const;

    WechatPayConfig config_;
    crypto::PrivateKey merchant_key_;
    crypto::PublicKey platform_key_;
    outbound::Client& http_;
    const Clock& clock_;
    std::string base_; ///< base_url without a trailing `/`
};

} // namespace pilehub::api
