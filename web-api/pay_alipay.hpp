#pragma once
#include "common/payments.hpp"
#include "web-api/alipay_gateway.hpp"

#include <memory>
#include <string>

/// Alipay mini-program payments (CONTRACT F.2, docs/providers.md §3; Alipay open platform:
/// https://opendocs.alipay.com/mini/api/openapi-pay and the trade APIs alipay.trade.create / query /
/// close / refund / fastpay.refund.query, the asynchronous notification at
/// https://opendocs.alipay.com/open/203/105286). Calls go through alipay::Gateway (RSA2-signed forms,
/// answers verified on the exact `*_response` text).
///
/// - create: `alipay.trade.create` with `product_code` JSAPI_PAY and the rider's `buyer_id`
///   (Order::payer_id, required); the app pays with `my.tradePay({tradeNO})`, so the pay params are
///   `{"trade_no"}`.
/// - verify: the notification is a form; its RSA2 signature covers every decoded parameter but
///   `sign` and `sign_type`, sorted. A form with `out_biz_no` and `refund_fee` is a refund's
///   (RefundNotification, succeeded; `amount_fen` is `refund_fee`, which is CUMULATIVE over the
///   trade's refunds, not this part's amount: the caller matches the part by `out_biz_no`); any
///   other is a payment (paid = TRADE_SUCCESS or TRADE_FINISHED; currency `trans_currency` when
///   stated, else CNY; merchant `seller_id` and `app_id` as stated).
/// - ack: always HTTP 200, `text/plain` `success` when handled, else `fail` (Alipay resends
///   until it reads `success`).
/// - query: TRADE_SUCCESS / TRADE_FINISHED → Paid; WAIT_BUYER_PAY → NotPaid; TRADE_CLOSED and
///   ACQ.TRADE_NOT_EXIST → Closed. The answer names no merchant: it is our app's trade (we asked
///   under our app_id and Alipay signed it), so the Notification states ours.
/// - close: true when closed (or unknown at Alipay), false when Alipay refuses because it is paid
///   (ACQ.TRADE_STATUS_ERROR).
/// - refund: a 10000 answer leaves the part Processing (its notification or query settles it); a
///   signed business refusal (40004, but ACQ.SYSTEM_ERROR) is Failed; the network, another code
///   (20000: Alipay busy), ACQ.SYSTEM_ERROR, an `error_response` or a bad signature are a failure
///   (try again later). query_refund: REFUND_SUCCESS → Succeeded; 10000
///   without it (the refund did not happen) or ACQ.TRADE_NOT_EXIST → Failed.
namespace pilehub::api {

struct AlipayConfig {
    alipay::GatewayConfig gateway;
    std::string seller_id;  ///< pilehub-api.alipay.seller_id: the merchant's PID (2088…); empty: not checked
    std::string notify_url; ///< pilehub-api.alipay.notify_url
    std::string subject = "PileHub 充值"; ///< the trade's subject the rider sees
    std::string op_app_id;                ///< `op_app_id` (the mini-program, when it differs from app_id); empty: none
};

class AlipayProvider final : public payments::Provider {
public:
    /// Throws std::invalid_argument naming the configuration key of a bad value.
    AlipayProvider(AlipayConfig config, outbound::Client& http, const Clock& clock = SystemClock::instance());
    /// The configuration from the settings, key files read (ConfigError naming an unreadable one).
    static AlipayConfig config_from(const ProviderSettings& s);
    /// config_from() and the provider; a bad key or value is a ConfigError naming its key.
    static std::unique_ptr<AlipayProvider> from(const ProviderSettings& s, outbound::Client& http,
                                                const Clock& clock = SystemClock::instance());
    std::string_view name() const override { return "alipay"; }
    payments::Merchant merchant() const override { return {config_.seller_id, config_.gateway.app_id}; }
    Result<payments::PayParams> create(const payments::Order& order) override;
    payments::Verified verify(const payments::CallbackRequest& cb) const override;
    std::string ack_body(payments::CallbackStatus s) const override;
    int ack_status(payments::CallbackStatus s) const override;
    std::string ack_content_type() const override { return "text/plain"; }
    Result<payments::TradeQuery> query(const payments::Order& order) override;
    Result<bool> close(const payments::Order& order) override;
    Result<payments::RefundAccepted> refund(const payments::RefundRequest& r) override;
    Result<payments::RefundAccepted> query_refund(const payments::RefundRequest& r) override;

private:
    AlipayConfig config_;
    alipay::Gateway gateway_;
};

} // namespace pilehub::api
