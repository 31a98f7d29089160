#include "web-api/reconciler.hpp"

#include "common/log.hpp"
#include "web-api/refunds.hpp"

#include <fmt/format.h>

namespace pilehub::api {
namespace {

constexpr int kBatch = 100;

} // namespace

QueryOutcome reconcile_order(Services& s, db::Database& d, const payments::Order& o) {
    payments::Payments pay(d, s.providers, *s.clock);
    auto* p = s.providers.find(o.provider);
    if (!p)
        return {"error", fmt::format("payment channel `{}` is not configured here", o.provider)};
    auto q = p->query(o);
    pay.mark_queried(o.id);
    if (!q) {
        log::warn("payment {}: the query at {} failed: {}", o.id, o.provider, q.error());
        return {"error", q.error()};
    }
    const auto& rc = s.settings.providers.reconcile;
    switch (q->state) {
    case payments::TradeState::Paid: {
        auto res = pay.settle_paid(*p, *q->paid);
        const auto verdict = std::string(payments::to_string(res.status));
        pay.record_callback(o.provider, "query", o.id, "", verdict, res.detail, q->raw);
        if (res.status == payments::CallbackStatus::Credited) {
            log::info("payment {}: paid at {} without a notification; credited by the query", o.id, o.provider);
        } else if (!payments::acknowledge(res.status)) {
            const auto why = fmt::format("paid at the provider but refused here: {} ({})", verdict, res.detail);
            pay.mark_refused(o.id, why);
            log::error("payment {}: {}", o.id, why);
            // Money paid for another amount is ours to give back, whole, through the same channel.
            if (res.status == payments::CallbackStatus::AmountMismatch)
                Refunds(d, s.providers, *s.clock).return_refused(o, q->paid->amount_fen, why);
        }
        return {verdict, res.detail};
    }
    case payments::TradeState::Closed:
        pay.close_expired(o.id);
        pay.record_callback(o.provider, "query", o.id, "", "closed", "closed at the provider", q->raw);
        return {"closed", "closed at the provider"};
    case payments::TradeState::NotPaid:
        break;
    }
    if (s.now() - o.created_at < static_cast<EpochMs>(rc.expire_after_s) * 1000)
        return {"not_paid", "not paid yet"};
    auto closed = p->close(o);
    if (!closed) {
        log::warn("payment {}: closing it at {} failed: {}", o.id, o.provider, closed.error());
        return {"error", closed.error()};
    }
    if (!*closed)
        return {"not_paid", "the provider would not close it (paid meanwhile?): asked again later"};
    pay.close_expired(o.id);
    pay.record_callback(o.provider, "query", o.id, "", "expired", "unpaid: closed at the provider and expired", q->raw);
    return {"expired", "unpaid: closed at the provider"};
}

ReconcileReport Reconciler::run_once() {
    ReconcileReport r;
    const auto& rc = s_.settings.providers.reconcile;
    const auto now = s_.now();
    auto d = s_.core->get();
    payments::Payments pay(*d, s_.providers, *s_.clock);
    const auto after = now - static_cast<EpochMs>(rc.query_after_s) * 1000;
    for (const auto& o : pay.due_for_query(after, after, kBatch)) {
        ++r.queried;
        const auto out = reconcile_order(s_, *d, o);
        if (out.verdict == "credited")
            ++r.credited;
        else if (out.verdict == "expired" || out.verdict == "closed")
            ++r.expired;
        else if (out.verdict != "not_paid" && out.verdict != "error" && out.verdict != "replayed")
            ++r.refused;
    }
    Refunds refunds(*d, s_.providers, *s_.clock);
    for (const auto& part : refunds.due(now - static_cast<EpochMs>(rc.refund_query_after_s) * 1000, kBatch)) {
        refunds.poll(part);
        ++r.refunds_polled;
    }
    return r;
}

void Reconciler::start() {
    thread_ = std::thread([this] {
        const auto every = std::chrono::seconds(std::max(1, s_.settings.providers.reconcile.interval_s));
        std::unique_lock lock(mu_);
        while (!cv_.wait_for(lock, every, [this] { return stopping_; })) {
            lock.unlock();
            try {
                const auto r = run_once();
                if (r.queried || r.refunds_polled)
                    log::info("reconcile: {} orders queried ({} credited, {} expired, {} refused), {} refund parts "
                              "asked about",
                              r.queried, r.credited, r.expired, r.refused, r.refunds_polled);
            } catch (const std::exception& e) {
                log::error("reconcile: {}", e.what());
            }
            lock.lock();
        }
    });
}

void Reconciler::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable())
        thread_.join();
}

} // namespace pilehub::api
