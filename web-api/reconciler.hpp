#pragma once
#include "web-api/context.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

/// Asks the providers about what their notifications did not settle (CONTRACT F.2, F.3): pending
/// payment orders older than `reconcile.query_after_s` are queried — a paid trade is settled like a
/// notification, a closed one expired, and one still unpaid after `reconcile.expire_after_s` closed
/// at the provider and expired; refund parts still processing after `reconcile.refund_query_after_s`
/// are re-sent (never answered) or queried. A trade paid at the provider that the platform refuses
/// (another amount, currency or merchant) is marked failed with an anomaly an operator sees; one
/// paid for another amount is also sent back whole (a `returned` refund, web-api/refunds.hpp).
namespace pilehub::api {

struct ReconcileReport {
    int queried = 0;  ///< orders asked about
    int credited = 0; ///< of which credited now
    int expired = 0;  ///< closed and expired
    int refused = 0;  ///< paid at the provider, refused here (anomaly)
    int refunds_polled = 0;
};

/// One order asked about at its provider now (also the operator's "query" button).
struct QueryOutcome {
    std::string verdict; ///< credited, replayed, not_paid, expired, closed, a refusal word, or `error`
    std::string detail;
};
QueryOutcome reconcile_order(Services& s, db::Database& d, const payments::Order& o);

class Reconciler {
public:
    explicit Reconciler(Services& s) : s_(s) {}
    ~Reconciler() { stop(); }
    /// One pass over what is due now.
    ReconcileReport run_once();
    /// Runs a pass every `reconcile.interval_s` on its own thread until stop().
    void start();
    void stop();

private:
    Services& s_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace pilehub::api
