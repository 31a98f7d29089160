#include "web-api/refunds.hpp"

#include "common/arrears.hpp"
#include "common/crypto.hpp"
#include "common/log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <stdexcept>

namespace pilehub::api {
namespace {

// ---- SQL ------------------------------------------------------------------------------------

constexpr std::string_view kInsertRefund =
    "INSERT INTO refunds (id, account_id, amount_fen, reason, state, operator, idempotency_key, created_at) "
    "VALUES (?, ?, ?, ?, 'processing', ?, ?, ?)";
constexpr std::string_view kRefundByKey = "SELECT id FROM refunds WHERE idempotency_key = ?";
constexpr std::string_view kInsertReturned =
    "INSERT INTO refunds (id, account_id, amount_fen, reason, state, kind, operator, idempotency_key, created_at) "
    "VALUES (?, ?, ?, ?, 'processing', 'returned', 'reconciler', ?, ?)";
constexpr std::string_view kRefundColumns =
    "SELECT r.id, r.account_id, coalesce(a.phone, ''), r.amount_fen, r.reason, r.state, r.operator, r.created_at, "
    "r.settled_at, r.kind FROM refunds r LEFT JOIN accounts a ON a.id = r.account_id ";
constexpr std::string_view kSetRefundState =
    "UPDATE refunds SET state = ?, settled_at = CASE WHEN ? = 'processing' THEN NULL ELSE ? END WHERE id = ?";
constexpr std::string_view kInsertPart =
    "INSERT INTO refund_parts (id, refund_id, seq, payment_id, channel, amount_fen, state, created_at, settled_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kPartColumns =
    "SELECT id, refund_id, payment_id, channel, amount_fen, state, provider_refund_id, detail, attempts, created_at, "
    "settled_at, polled_at FROM refund_parts ";
constexpr std::string_view kPartStates = "SELECT state FROM refund_parts WHERE refund_id = ?";
constexpr std::string_view kPartAnswered =
    "UPDATE refund_parts SET provider_refund_id = CASE WHEN ? = '' THEN provider_refund_id ELSE ? END, detail = ?, "
    "attempts = attempts + 1, polled_at = ? WHERE id = ? AND state = 'processing'";
constexpr std::string_view kPartFinish =
    "UPDATE refund_parts SET state = ?, provider_refund_id = CASE WHEN ? = '' THEN provider_refund_id ELSE ? END, "
    "detail = ?, settled_at = ?, polled_at = ? WHERE id = ? AND state = 'processing'";
constexpr std::string_view kRefundableOrders =
    "SELECT id, amount_fen - refunded_fen FROM payments WHERE account_id = ? AND status = 'paid' "
    "AND provider_txn IS NOT NULL AND amount_fen > refunded_fen ORDER BY paid_at DESC, created_at DESC";
constexpr std::string_view kReserve =
    "UPDATE payments SET refunded_fen = refunded_fen + ? WHERE id = ? AND refunded_fen + ? <= amount_fen";
constexpr std::string_view kRelease = "UPDATE payments SET refunded_fen = refunded_fen - ? WHERE id = ?";

RefundPart read_part(const db::Statement& st) {
    RefundPart p;
    p.id = st.text(0);
    p.refund_id = st.text(1);
    p.payment_id = st.opt_text(2);
    p.channel = st.text(3);
    p.amount_fen = Fen(st.int64(4));
    p.state = st.text(5);
    p.provider_refund_id = st.text(6);
    p.detail = st.text(7);
    p.attempts = st.int64(8);
    p.created_at = st.int64(9);
    p.settled_at = st.opt_int64(10);
    p.polled_at = st.opt_int64(11);
    return p;
}

RefundRecord read_refund(const db::Statement& st) {
    RefundRecord r;
    r.id = st.text(0);
    r.account_id = st.int64(1);
    r.phone = st.text(2);
    r.amount_fen = Fen(st.int64(3));
    r.reason = st.text(4);
    r.state = st.text(5);
    r.operator_name = st.text(6);
    r.created_at = st.int64(7);
    r.settled_at = st.opt_int64(8);
    r.kind = st.text(9);
    return r;
}

constexpr std::string_view kCounter = "counter";

} // namespace

bool refund_amount_fits(const payments::RefundNotification& n, const RefundPart& part,
                        const std::optional<payments::RefundRequest>& request) {
    if (!n.cumulative)
        return n.amount_fen == part.amount_fen;
    // Everything refunded of the trade so far: at least this part, at most the trade's total.
    return n.amount_fen >= part.amount_fen && request && n.amount_fen <= request->total_fen;
}

std::string refund_state(const std::vector<std::string>& part_states) {
    if (part_states.empty())
        return "succeeded";
    bool any_ok = false, any_failed = false;
    for (const auto& s : part_states) {
        if (s == "processing")
            return "processing";
        (s == "succeeded" ? any_ok : any_failed) = true;
    }
    if (any_ok && any_failed)
        return "partial";
    return any_ok ? "succeeded" : "failed";
}

std::vector<PlannedPart> plan_refund(Fen amount, const std::vector<RefundableOrder>& newest_first) {
    std::vector<PlannedPart> out;
    Fen left = amount;
    for (const auto& o : newest_first) {
        if (left <= Fen(0))
            break;
        const Fen take = std::min(left, o.left_fen);
        if (take <= Fen(0))
            continue;
        out.push_back({o.payment_id, take});
        left -= take;
    }
    if (left > Fen(0))
        out.push_back({"", left});
    return out;
}

Refunds::Refunds(db::Database& db, const payments::ProviderRegistry& providers, const Clock& clock)
    : db_(db), providers_(providers), clock_(clock) {}

RefundStarted Refunds::start(std::int64_t account_id, Fen amount, const std::string& reason,
                             const std::string& operator_name, const std::string& idempotency_key,
                             const std::function<void()>& check) {
    RefundStarted out;
    db::Transaction tx(db_);
    {
        db::Statement st(db_, kRefundByKey);
        st.bind(1, idempotency_key);
        if (st.step()) {
            out.outcome = ledger::Outcome::Duplicate;
            out.refund = get(st.text(0));
            return out;
        }
    }
    if (check)
        check();
    const std::string id = "rf_" + crypto::random_hex(12);
    ledger::Ledger led(db_, clock_);
    ledger::Refund rf;
    rf.account_id = account_id;
    rf.amount_fen = amount;
    rf.meta = ledger::Meta{"refund:" + idempotency_key, id, operator_name, reason};
    const auto posting = led.refund(tx, rf);
    if (posting.outcome != ledger::Outcome::Applied) {
        out.outcome = posting.outcome;
        out.detail = std::string(ledger::to_string(posting.outcome));
        return out;
    }
    const auto now = clock_.now_ms();
    db::Statement(db_, kInsertRefund)
        .bind_all(id, account_id, amount.value(), reason, operator_name, idempotency_key, now)
        .run();

    // Only orders whose provider is still configured can be refunded online; the rest is cash.
    std::vector<RefundableOrder> orders;
    std::map<std::string, std::string> channel_of;
    {
        db::Statement st(db_, kRefundableOrders);
        st.bind(1, account_id);
        while (st.step()) {
            auto o = payments::Payments(db_, providers_, clock_).order(st.text(0));
            if (!o || !providers_.find(o->provider))
                continue;
            orders.push_back({o->id, Fen(st.int64(1))});
            channel_of[o->id] = o->provider;
        }
    }
    std::int64_t seq = 0;
    for (const auto& p : plan_refund(amount, orders)) {
        const std::string part_id = "rfp_" + crypto::random_hex(12);
        ++seq;
        if (p.payment_id.empty()) {
            db::Statement(db_, kInsertPart)
                .bind_all(part_id, id, seq, std::optional<std::string>(), std::string(kCounter), p.amount_fen.value(),
                          "succeeded", now, std::optional<EpochMs>(now))
                .run();
            continue;
        }
        if (db::Statement(db_, kReserve).bind_all(p.amount_fen.value(), p.payment_id, p.amount_fen.value()).run() != 1)
            throw std::runtime_error("refund: payment " + p.payment_id + " changed under the write lock");
        db::Statement(db_, kInsertPart)
            .bind_all(part_id, id, seq, std::optional<std::string>(p.payment_id), channel_of[p.payment_id],
                      p.amount_fen.value(), "processing", now, std::optional<EpochMs>())
            .run();
    }
    {
        std::vector<std::string> states;
        db::Statement st(db_, kPartStates);
        st.bind(1, id);
        while (st.step())
            states.push_back(st.text(0));
        const auto state = refund_state(states);
        db::Statement(db_, kSetRefundState).bind_all(state, state, now, id).run();
    }
    tx.commit();
    out.outcome = ledger::Outcome::Applied;
    out.refund = get(id);
    return out;
}

std::optional<RefundRecord> Refunds::return_refused(const payments::Order& o, Fen paid, const std::string& why) {
    const std::string key = "returned:" + o.id;
    std::string id;
    {
        db::Transaction tx(db_);
        db::Statement found(db_, kRefundByKey);
        found.bind(1, key);
        if (found.step()) {
            id = found.text(0);
        } else {
            id = "rf_" + crypto::random_hex(12);
            const auto now = clock_.now_ms();
            db::Statement(db_, kInsertReturned).bind_all(id, o.account_id, paid.value(), why, key, now).run();
            db::Statement(db_, kInsertPart)
                .bind_all("rfp_" + crypto::random_hex(12), id, std::int64_t{1}, std::optional<std::string>(o.id),
                          o.provider, paid.value(), "processing", now, std::optional<EpochMs>())
                .run();
            const auto note = fmt::format("sent back whole ({})", id);
            payments::Payments(db_, providers_, clock_).flag(o.id, note);
            tx.commit();
            log::warn("payment {}: {}; sending the {} fen back through {} ({})", o.id, why, paid.value(), o.provider,
                      id);
        }
    }
    return send(id);
}

std::optional<payments::RefundRequest> Refunds::request_for(const RefundPart& part) {
    if (!part.payment_id)
        return std::nullopt;
    auto o = payments::Payments(db_, providers_, clock_).order(*part.payment_id);
    if (!o)
        return std::nullopt;
    payments::RefundRequest r;
    r.part_id = part.id;
    r.payment_id = o->id;
    r.provider_txn = o->provider_txn.value_or("");
    r.amount_fen = part.amount_fen;
    auto rec = get(part.refund_id);
    // A returned order goes back whole: the trade's total is what was paid, which may not be the order's.
    r.total_fen = rec && rec->kind == "returned" ? part.amount_fen : o->amount_fen;
    r.reason = rec ? rec->reason.substr(0, 80) : "";
    return r;
}

std::optional<RefundRecord> Refunds::send(const std::string& refund_id) {
    for (const auto& p : parts(refund_id))
        if (p.state == "processing" && p.attempts == 0)
            poll(p);
    return get(refund_id);
}

void Refunds::poll(const RefundPart& part) {
    auto* provider = providers_.find(part.channel);
    auto req = request_for(part);
    if (!provider || !req) {
        db::Transaction tx(db_);
        finish(tx, part, false, "", fmt::format("channel `{}` is not configured here", part.channel));
        tx.commit();
        return;
    }
    // A part never answered is sent (again: the provider keeps one refund per part id); one the
    // provider took is asked about.
    auto answer = part.provider_refund_id.empty() ? provider->refund(*req) : provider->query_refund(*req);
    if (!answer) {
        log::warn("refund part {} ({} via {}): no answer yet: {}", part.id, part.amount_fen.value(), part.channel,
                  answer.error());
        db::Statement(db_, kPartAnswered).bind_all("", "", answer.error(), clock_.now_ms(), part.id).run();
        return;
    }
    apply(part, *answer);
}

void Refunds::apply(const RefundPart& part, const payments::RefundAccepted& a) {
    db::Transaction tx(db_);
    switch (a.state) {
    case payments::RefundState::Processing:
        db::Statement(db_, kPartAnswered)
            .bind_all(a.provider_refund_id, a.provider_refund_id, "processing", clock_.now_ms(), part.id)
            .run();
        break;
    case payments::RefundState::Succeeded:
        finish(tx, part, true, a.provider_refund_id, "succeeded");
        break;
    case payments::RefundState::Failed:
        finish(tx, part, false, a.provider_refund_id, a.raw.empty() ? "failed at the provider" : a.raw);
        break;
    }
    tx.commit();
}

bool Refunds::finish(db::Transaction& tx, const RefundPart& part, bool succeeded, const std::string& provider_refund_id,
                     const std::string& detail) {
    const auto now = clock_.now_ms();
    if (db::Statement(db_, kPartFinish)
            .bind_all(succeeded ? "succeeded" : "failed", provider_refund_id, provider_refund_id, detail.substr(0, 500),
                      now, now, part.id)
            .run() != 1)
        return false;
    auto rec = get(part.refund_id);
    if (rec && rec->kind == "returned" && part.payment_id) {
        // Never in the wallet: nothing goes back there; the order says what became of its money.
        const auto note = succeeded ? fmt::format("sent back ({})", part.refund_id)
                                    : fmt::format("sending it back failed ({}): refund it by hand", detail);
        payments::Payments(db_, providers_, clock_).flag(*part.payment_id, note);
        if (!succeeded)
            log::error("payment {}: sending it back failed: {}", *part.payment_id, detail);
    } else if (!succeeded) {
        if (part.payment_id)
            db::Statement(db_, kRelease).bind_all(part.amount_fen.value(), *part.payment_id).run();
        ledger::Credit c;
        c.account_id = rec ? rec->account_id : 0;
        c.real_fen = part.amount_fen;
        c.kind = ledger::Kind::RefundReversal;
        c.meta = ledger::Meta{"refund_reversal:" + part.id, part.refund_id, "refunds",
                              fmt::format("refund part {} via {} failed: {}", part.id, part.channel, detail)};
        c.allow_frozen = true; // the rider's own money coming back
        ledger::Ledger led(db_, clock_);
        const auto posting = led.credit(tx, c);
        if (!posting.ok())
            throw std::runtime_error(fmt::format("refund part {}: the money could not go back: {}", part.id,
                                                 ledger::to_string(posting.outcome)));
        if (posting.outcome == ledger::Outcome::Applied)
            arrears::collect(tx, db_, led, c.account_id, posting.entry->id); // money in pays debts first
        log::warn("refund part {} ({} fen via {}) failed ({}); the money is back in account {}'s wallet", part.id,
                  part.amount_fen.value(), part.channel, detail, c.account_id);
    }
    std::vector<std::string> states;
    db::Statement st(db_, kPartStates);
    st.bind(1, part.refund_id);
    while (st.step())
        states.push_back(st.text(0));
    const auto state = refund_state(states);
    db::Statement(db_, kSetRefundState).bind_all(state, state, now, part.refund_id).run();
    return true;
}

PartSettled Refunds::settle(const payments::Provider& p, const payments::RefundNotification& n) {
    PartSettled out;
    auto refuse = [&](payments::CallbackStatus s, std::string why) {
        out.status = s;
        out.detail = std::move(why);
        return out;
    };
    const auto us = p.merchant();
    if (!us.merchant_id.empty() && !n.merchant.merchant_id.empty() && n.merchant.merchant_id != us.merchant_id)
        return refuse(payments::CallbackStatus::MerchantMismatch,
                      fmt::format("the refund is merchant `{}`'s, not ours", n.merchant.merchant_id));
    if (!n.merchant.app_id.empty() && n.merchant.app_id != us.app_id)
        return refuse(payments::CallbackStatus::MerchantMismatch,
                      fmt::format("the refund is app `{}`'s, not ours", n.merchant.app_id));
    db::Transaction tx(db_);
    auto pt = part(n.part_id);
    if (!pt)
        return refuse(payments::CallbackStatus::UnknownOrder, fmt::format("no refund part {}", n.part_id));
    out.part = pt;
    if (pt->channel != p.name() || pt->payment_id.value_or("") != n.payment_id)
        return refuse(payments::CallbackStatus::OrderMismatch,
                      fmt::format("refund part {} is for {} via {}, not {} via {}", pt->id, pt->payment_id.value_or(""),
                                  pt->channel, n.payment_id, p.name()));
    if (pt->state != "processing") {
        out.status = payments::CallbackStatus::RefundSettled;
        out.detail = fmt::format("refund part {} had already {}", pt->id, pt->state);
        return out;
    }
    if (n.succeeded && !refund_amount_fits(n, *pt, request_for(*pt)))
        return refuse(payments::CallbackStatus::AmountMismatch,
                      fmt::format("refunded {} fen{}, part {} is {} fen", n.amount_fen.value(),
                                  n.cumulative ? " of the trade so far" : "", pt->id, pt->amount_fen.value()));
    finish(tx, *pt, n.succeeded, n.provider_refund_id, n.state);
    tx.commit();
    out.status = payments::CallbackStatus::RefundSettled;
    out.detail = fmt::format("refund part {} {}", pt->id, n.succeeded ? "succeeded" : "failed");
    out.part = part(n.part_id);
    return out;
}

std::vector<RefundPart> Refunds::due(EpochMs before, int limit) {
    db::Statement st(db_, std::string(kPartColumns) +
                              "WHERE state = 'processing' AND channel <> 'counter' AND coalesce(polled_at, 0) < ? "
                              "ORDER BY created_at LIMIT ?");
    st.bind_all(before, limit);
    std::vector<RefundPart> out;
    while (st.step())
        out.push_back(read_part(st));
    return out;
}

std::vector<RefundPart> Refunds::parts(const std::string& refund_id) {
    db::Statement st(db_, std::string(kPartColumns) + "WHERE refund_id = ? ORDER BY seq");
    st.bind(1, refund_id);
    std::vector<RefundPart> out;
    while (st.step())
        out.push_back(read_part(st));
    return out;
}

std::vector<RefundPart> Refunds::parts_of_payment(const std::string& payment_id) {
    db::Statement st(db_, std::string(kPartColumns) + "WHERE payment_id = ? ORDER BY created_at, refund_id, seq");
    st.bind(1, payment_id);
    std::vector<RefundPart> out;
    while (st.step())
        out.push_back(read_part(st));
    return out;
}

std::optional<RefundPart> Refunds::part(const std::string& id) {
    db::Statement st(db_, std::string(kPartColumns) + "WHERE id = ?");
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    return read_part(st);
}

std::optional<RefundRecord> Refunds::get(const std::string& id) {
    db::Statement st(db_, std::string(kRefundColumns) + "WHERE r.id = ?");
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    auto r = read_refund(st);
    r.parts = parts(r.id);
    return r;
}

std::vector<RefundRecord> Refunds::list(const RefundFilter& f) {
    db::Statement st(db_, std::string(kRefundColumns) +
                              "WHERE (? = '' OR r.state = ?) AND (? IS NULL OR r.account_id = ?) AND r.created_at >= ? "
                              "AND r.created_at < ? ORDER BY r.created_at DESC, r.id LIMIT ? OFFSET ?");
    st.bind_all(f.state, f.state, f.account_id, f.account_id, f.from, f.to, f.limit, f.offset);
    std::vector<RefundRecord> out;
    while (st.step())
        out.push_back(read_refund(st));
    for (auto& r : out)
        r.parts = parts(r.id);
    return out;
}

} // namespace pilehub::api
