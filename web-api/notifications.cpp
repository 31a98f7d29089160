#include "web-api/notifications.hpp"

#include "common/log.hpp"
#include "web-api/refunds.hpp"

#include <fmt/format.h>

namespace pilehub::api {

NotifyOutcome handle_notification(Services& s, db::Database& d, payments::Provider& p,
                                  const payments::CallbackRequest& cb) {
    payments::Payments pay(d, s.providers, *s.clock);
    NotifyOutcome out;
    auto verified = p.verify(cb);
    if (auto* refused = std::get_if<payments::CallbackStatus>(&verified)) {
        out.status = *refused;
        out.detail = *refused == payments::CallbackStatus::BadSignature ? "the signature does not verify"
                                                                        : "not a notification of this provider";
        pay.record_callback(p.name(), "payment", "", "", payments::to_string(out.status), out.detail, "");
    } else if (auto* n = std::get_if<payments::Notification>(&verified)) {
        auto res = pay.settle_paid(p, *n);
        out.status = res.status;
        out.detail = res.detail;
        out.payment_id = n->payment_id;
        pay.record_callback(p.name(), "payment", n->payment_id, "", payments::to_string(res.status), res.detail,
                            n->raw);
    } else {
        const auto& rn = std::get<payments::RefundNotification>(verified);
        auto res = Refunds(d, s.providers, *s.clock).settle(p, rn);
        out.status = res.status;
        out.detail = res.detail;
        out.payment_id = rn.payment_id;
        pay.record_callback(p.name(), "refund", rn.payment_id, rn.part_id, payments::to_string(res.status), res.detail,
                            rn.raw);
    }
    if (payments::acknowledge(out.status))
        log::info("{} notification: {} {}", p.name(), payments::to_string(out.status), out.detail);
    else
        log::warn("{} notification refused: {} {}", p.name(), payments::to_string(out.status), out.detail);
    return out;
}

} // namespace pilehub::api
