#pragma once
#include "web-api/context.hpp"

/// A provider's notification (CONTRACT F.2, F.3) as the notify routes hand it over: verified by its
/// provider, then a payment settled (credited once) or a refund part settled, and kept in
/// `payment_callbacks` with its verdict whatever it was. Never throws for a bad notification.
namespace pilehub::api {

struct NotifyOutcome {
    payments::CallbackStatus status = payments::CallbackStatus::Malformed;
    std::string detail;
    std::string payment_id; ///< the order named, when the notification verified
};

NotifyOutcome handle_notification(Services& s, db::Database& d, payments::Provider& p,
                                  const payments::CallbackRequest& cb);

} // namespace pilehub::api
