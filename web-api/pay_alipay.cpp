#include "web-api/pay_alipay.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace pilehub::api {
namespace {

using payments::CallbackStatus;
using payments::RefundState;

constexpr std::size_t kMaxNotificationBytes = 16 * 1024;

std::string biz_json(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
    json::Writer w;
    w.begin_object();
    for (const auto& [k, v] : fields)
        if (!v.empty())
            w.field(k, v);
    w.end_object();
    return w.str();
}

} // namespace

AlipayProvider::AlipayProvider(AlipayConfig config, outbound::Client& http, const Clock& clock)
    : config_(std::move(config)), gateway_(config_.gateway, http, clock) {
    if (!config_.notify_url.empty() && !outbound::split_url(config_.notify_url))
        throw std::invalid_argument("pilehub-api.alipay.notify_url: not an http(s) URL: " + config_.notify_url);
}

AlipayConfig AlipayProvider::config_from(const ProviderSettings& s) {
    AlipayConfig c;
    c.gateway = alipay::gateway_config_from(s);
    c.seller_id = s.alipay.seller_id;
    c.notify_url = s.alipay.notify_url;
    return c;
}

std::unique_ptr<AlipayProvider> AlipayProvider::from(const ProviderSettings& s, outbound::Client& http,
                                                     const Clock& clock) {
    return outbound::build_checked<AlipayProvider>(s, http, clock);
}

Result<payments::PayParams> AlipayProvider::create(const payments::Order& order) {
    if (order.payer_id.empty())
        return Result<payments::PayParams>::failure("alipay: the rider has no Alipay user id (buyer_id)");
    const auto total = alipay::yuan(order.amount_fen);
    const auto biz = biz_json({{"out_trade_no", order.id},
                               {"total_amount", total},
                               {"subject", config_.subject},
                               {"buyer_id", order.payer_id},
                               {"product_code", "JSAPI_PAY"},
                               {"op_app_id", config_.op_app_id}});
    std::vector<std::pair<std::string, std::string>> params;
    if (!config_.notify_url.empty())
        params.emplace_back("notify_url", config_.notify_url);
    auto r = gateway_.call("alipay.trade.create", biz, std::move(params));
    if (!r)
        return Result<payments::PayParams>::failure(r.error());
    if (!r->success)
        return Result<payments::PayParams>::failure(r->why());
    std::string err;
    auto o = r->fields(&err);
    const auto trade_no = o.req_str("trade_no", 64);
    if (!err.empty())
        return Result<payments::PayParams>::failure("alipay trade.create: " + err);
    json::Writer w;
    w.begin_object().field("trade_no", trade_no).end_object();
    return payments::PayParams{"alipay", w.str(), trade_no};
}

payments::Verified AlipayProvider::verify(const payments::CallbackRequest& cb) const {
    if (cb.body.size() > kMaxNotificationBytes)
        return CallbackStatus::Malformed;
    const auto form = outbound::form_decode(cb.body);
    if (!form)
        return CallbackStatus::Malformed;
    const auto value = [&](std::string_view k) { return alipay::form_value(*form, k).value_or(""); };
    if (value("sign").empty())
        return CallbackStatus::Malformed;
    if (const auto st = value("sign_type"); !st.empty() && st != "RSA2")
        return CallbackStatus::BadSignature;
    if (!gateway_.verify_notification(*form))
        return CallbackStatus::BadSignature;

    const payments::Merchant stated{value("seller_id"), value("app_id")};
    if (!value("out_biz_no").empty() && !value("refund_fee").empty()) {
        payments::RefundNotification n;
        n.part_id = value("out_biz_no");
        n.payment_id = value("out_trade_no");
        n.provider_refund_id = value("trade_no");
        n.succeeded = true;
        const auto fee = alipay::parse_yuan(value("refund_fee"));
        if (!fee || n.part_id.empty() || n.payment_id.empty())
            return CallbackStatus::Malformed;
        n.amount_fen = *fee; // cumulative over the trade's refunds (see the header)
        n.cumulative = true;
        n.merchant = stated;
        n.state = "REFUND_SUCCESS";
        n.raw = cb.body;
        return n;
    }
    payments::Notification n;
    n.payment_id = value("out_trade_no");
    n.provider_txn = value("trade_no");
    const auto total = alipay::parse_yuan(value("total_amount"));
    if (!total || n.payment_id.empty() || n.provider_txn.empty())
        return CallbackStatus::Malformed;
    n.amount_fen = *total;
    n.trade_state = value("trade_status");
    n.paid = n.trade_state == "TRADE_SUCCESS" || n.trade_state == "TRADE_FINISHED";
    n.paid_at = alipay::parse_beijing_time(value("gmt_payment"))
                    .value_or(alipay::parse_beijing_time(value("notify_time")).value_or(0));
    n.merchant = stated;
    const auto currency = value("trans_currency");
    n.currency = currency.empty() ? "CNY" : currency;
    n.raw = cb.body;
    return n;
}

std::string AlipayProvider::ack_body(CallbackStatus s) const {
    return payments::acknowledge(s) ? "success" : "fail";
}

int AlipayProvider::ack_status(CallbackStatus) const {
    return 200;
}

Result<payments::TradeQuery> AlipayProvider::query(const payments::Order& order) {
    auto r = gateway_.call("alipay.trade.query", biz_json({{"out_trade_no", order.id}}));
    if (!r)
        return Result<payments::TradeQuery>::failure(r.error());
    payments::TradeQuery q;
    q.raw = r->member;
    if (!r->success) {
        if (r->sub_code == "ACQ.TRADE_NOT_EXIST") {
            q.state = payments::TradeState::Closed;
            return q;
        }
        return Result<payments::TradeQuery>::failure(r->why());
    }
    std::string err;
    auto o = r->fields(&err);
    const auto status = o.req_str("trade_status", 32);
    if (!err.empty())
        return Result<payments::TradeQuery>::failure("alipay trade.query: " + err);
    if (status == "WAIT_BUYER_PAY") {
        q.state = payments::TradeState::NotPaid;
        return q;
    }
    if (status == "TRADE_CLOSED") {
        q.state = payments::TradeState::Closed;
        return q;
    }
    if (status != "TRADE_SUCCESS" && status != "TRADE_FINISHED")
        return Result<payments::TradeQuery>::failure("alipay trade.query: unknown trade_status " + status);
    payments::Notification n;
    n.payment_id = o.opt_str("out_trade_no", 64).value_or(order.id);
    n.provider_txn = o.req_str("trade_no", 64);
    const auto total = alipay::parse_yuan(o.req_str("total_amount", 32));
    if (!err.empty() || !total)
        return Result<payments::TradeQuery>::failure("alipay trade.query: " +
                                                     (err.empty() ? std::string("bad total_amount") : err));
    n.amount_fen = *total;
    n.paid_at = alipay::parse_beijing_time(o.opt_str("send_pay_date", 32).value_or("")).value_or(0);
    n.merchant = merchant();
    n.currency = "CNY";
    n.paid = true;
    n.trade_state = status;
    n.raw = r->member;
    q.state = payments::TradeState::Paid;
    q.paid = std::move(n);
    return q;
}

Result<bool> AlipayProvider::close(const payments::Order& order) {
    auto r = gateway_.call("alipay.trade.close", biz_json({{"out_trade_no", order.id}}));
    if (!r)
        return Result<bool>::failure(r.error());
    if (r->success || r->sub_code == "ACQ.TRADE_NOT_EXIST")
        return true;
    if (r->sub_code == "ACQ.TRADE_STATUS_ERROR")
        return false;
    return Result<bool>::failure(r->why());
}

Result<payments::RefundAccepted> AlipayProvider::refund(const payments::RefundRequest& req) {
    const auto amount = alipay::yuan(req.amount_fen);
    auto r = gateway_.call("alipay.trade.refund", biz_json({{"out_trade_no", req.payment_id},
                                                            {"refund_amount", amount},
                                                            {"out_request_no", req.part_id},
                                                            {"refund_reason", req.reason}}));
    if (!r)
        return Result<payments::RefundAccepted>::failure(r.error());
    payments::RefundAccepted a;
    a.raw = r->member;
    if (!r->success) {
        // A business refusal (40004) moved no money; Alipay's own trouble (20000, ACQ.SYSTEM_ERROR) is
        // asked again with the same out_request_no, which Alipay answers once.
        if (r->code != "40004" || r->sub_code == "ACQ.SYSTEM_ERROR")
            return Result<payments::RefundAccepted>::failure(r->why());
        a.state = RefundState::Failed;
        return a;
    }
    std::string err;
    auto o = r->fields(&err);
    a.provider_refund_id = o.opt_str("trade_no", 64).value_or(req.provider_txn);
    a.state = RefundState::Processing;
    return a;
}

Result<payments::RefundAccepted> AlipayProvider::query_refund(const payments::RefundRequest& req) {
    auto r = gateway_.call("alipay.trade.fastpay.refund.query",
                           biz_json({{"out_trade_no", req.payment_id}, {"out_request_no", req.part_id}}));
    if (!r)
        return Result<payments::RefundAccepted>::failure(r.error());
    payments::RefundAccepted a;
    a.raw = r->member;
    a.provider_refund_id = req.provider_txn;
    if (!r->success) {
        if (r->sub_code == "ACQ.TRADE_NOT_EXIST") {
            a.state = RefundState::Failed;
            return a;
        }
        return Result<payments::RefundAccepted>::failure(r->why());
    }
    std::string err;
    auto o = r->fields(&err);
    a.provider_refund_id = o.opt_str("trade_no", 64).value_or(req.provider_txn);
    a.state =
        o.opt_str("refund_status", 32).value_or("") == "REFUND_SUCCESS" ? RefundState::Succeeded : RefundState::Failed;
    return a;
}

} // namespace pilehub::api
