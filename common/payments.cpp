#include "common/payments.hpp"

#include "common/arrears.hpp"
#include "common/crypto.hpp"
#include "common/files.hpp"
#include "common/parking_fees.hpp"

#include <fmt/format.h>

#include <limits>
#include <stdexcept>

namespace pilehub::payments {
namespace {

// ---- SQL ------------------------------------------------------------------------------------

constexpr std::string_view kInsertOrder =
    "INSERT INTO payments (id, account_id, amount_fen, bonus_fen, package_id, provider, status, created_at, payer_id) "
    "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)";
constexpr std::string_view kSelectOrder =
    "SELECT id, account_id, amount_fen, bonus_fen, package_id, provider, status, provider_txn, created_at, paid_at, "
    "payer_id, provider_ref, queried_at, closed_at, refunded_fen, anomaly FROM payments WHERE id = ?";
constexpr std::string_view kDueForQuery =
    "SELECT id, account_id, amount_fen, bonus_fen, package_id, provider, status, provider_txn, created_at, paid_at, "
    "payer_id, provider_ref, queried_at, closed_at, refunded_fen, anomaly FROM payments WHERE status = 'pending' "
    "AND created_at < ? AND (queried_at IS NULL OR queried_at < ?) ORDER BY created_at LIMIT ?";
constexpr std::string_view kListOrders =
    "SELECT id, account_id, amount_fen, bonus_fen, package_id, provider, status, provider_txn, created_at, paid_at, "
    "payer_id, provider_ref, queried_at, closed_at, refunded_fen, anomaly FROM payments "
    "WHERE (? = '' OR status = ?) AND (? = '' OR provider = ?) AND (? IS NULL OR account_id = ?) "
    "AND (? = 0 OR anomaly <> '') AND created_at >= ? AND created_at < ? "
    "ORDER BY created_at DESC, id LIMIT ? OFFSET ?";
constexpr std::string_view kCallbacks =
    "SELECT id, provider, kind, payment_id, part_id, verdict, detail, content, received_at FROM payment_callbacks "
    "WHERE payment_id = ? ORDER BY id";
constexpr std::string_view kSetRef = "UPDATE payments SET provider_ref = ? WHERE id = ?";
constexpr std::string_view kMarkQueried = "UPDATE payments SET queried_at = ? WHERE id = ?";
constexpr std::string_view kCloseExpired =
    "UPDATE payments SET status = 'expired', closed_at = ? WHERE id = ? AND status = 'pending'";
constexpr std::string_view kFlag = "UPDATE payments SET anomaly = CASE WHEN anomaly = '' THEN ? ELSE anomaly || '; ' "
                                   "|| ? END WHERE id = ?";
constexpr std::string_view kMarkRefused =
    "UPDATE payments SET status = 'failed', anomaly = CASE WHEN anomaly = '' THEN ? ELSE anomaly || '; ' || ? END "
    "WHERE id = ? AND status = 'pending'";
constexpr std::string_view kInsertCallback =
    "INSERT INTO payment_callbacks (provider, kind, payment_id, part_id, verdict, detail, content, received_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kOrderByTxn = "SELECT id FROM payments WHERE provider_txn = ? AND id <> ?";
constexpr std::string_view kMarkFailed = "UPDATE payments SET status = 'failed' WHERE id = ? AND status = 'pending'";
constexpr std::string_view kMarkPaid =
    "UPDATE payments SET status = 'paid', provider_txn = ?, paid_at = ? "
    "WHERE id = ? AND status IN ('pending', 'expired', 'failed') AND provider_txn IS NULL";
constexpr std::string_view kExpire =
    "UPDATE payments SET status = 'expired' WHERE status = 'pending' AND created_at < ?";

constexpr std::string_view kSandboxConfirmPath = "/api/v1/pay/sandbox/{}/confirm";

Order read_order(const db::Statement& st) {
    Order o;
    o.id = st.text(0);
    o.account_id = st.int64(1);
    o.amount_fen = Fen(st.int64(2));
    o.bonus_fen = Fen(st.int64(3));
    o.package_id = st.opt_int64(4);
    o.provider = st.text(5);
    o.status = parse_status(st.text(6)).value_or(Status::Failed);
    o.provider_txn = st.opt_text(7);
    o.created_at = st.int64(8);
    o.paid_at = st.opt_int64(9);
    o.payer_id = st.text(10);
    o.provider_ref = st.text(11);
    o.queried_at = st.opt_int64(12);
    o.closed_at = st.opt_int64(13);
    o.refunded_fen = Fen(st.int64(14));
    o.anomaly = st.text(15);
    return o;
}

std::string ledger_key(std::string_view provider, std::string_view txn) {
    return fmt::format("pay:{}:{}", provider, txn);
}

CallbackResult refuse(CallbackStatus s, std::string detail, std::optional<Order> order = std::nullopt) {
    CallbackResult r;
    r.status = s;
    r.detail = std::move(detail);
    r.order = std::move(order);
    return r;
}

} // namespace

std::string_view to_string(Status s) {
    switch (s) {
    case Status::Pending:
        return "pending";
    case Status::Paid:
        return "paid";
    case Status::Failed:
        return "failed";
    case Status::Expired:
        return "expired";
    }
    return "failed";
}

std::optional<Status> parse_status(std::string_view s) {
    for (auto st : {Status::Pending, Status::Paid, Status::Failed, Status::Expired})
        if (to_string(st) == s)
            return st;
    return std::nullopt;
}

std::string_view to_string(CallbackStatus s) {
    switch (s) {
    case CallbackStatus::Credited:
        return "credited";
    case CallbackStatus::Replayed:
        return "replayed";
    case CallbackStatus::BadSignature:
        return "bad_signature";
    case CallbackStatus::Malformed:
        return "malformed";
    case CallbackStatus::UnknownProvider:
        return "unknown_provider";
    case CallbackStatus::UnknownOrder:
        return "unknown_order";
    case CallbackStatus::AmountMismatch:
        return "amount_mismatch";
    case CallbackStatus::AccountMismatch:
        return "account_mismatch";
    case CallbackStatus::OrderMismatch:
        return "order_mismatch";
    case CallbackStatus::MerchantMismatch:
        return "merchant_mismatch";
    case CallbackStatus::CurrencyMismatch:
        return "currency_mismatch";
    case CallbackStatus::NotPaid:
        return "not_paid";
    case CallbackStatus::RefundSettled:
        return "refund_settled";
    }
    return "malformed";
}

std::optional<ErrorCode> error_code(CallbackStatus s) {
    switch (s) {
    case CallbackStatus::Credited:
    case CallbackStatus::RefundSettled:
        return std::nullopt;
    case CallbackStatus::Replayed:
        return ErrorCode::Duplicate;
    case CallbackStatus::BadSignature:
        return ErrorCode::Unauthorized;
    case CallbackStatus::Malformed:
        return ErrorCode::InvalidRequest;
    case CallbackStatus::UnknownProvider:
    case CallbackStatus::UnknownOrder:
        return ErrorCode::NotFound;
    case CallbackStatus::AmountMismatch:
    case CallbackStatus::AccountMismatch:
    case CallbackStatus::OrderMismatch:
    case CallbackStatus::MerchantMismatch:
    case CallbackStatus::CurrencyMismatch:
    case CallbackStatus::NotPaid:
        return ErrorCode::Conflict;
    }
    return ErrorCode::InvalidRequest;
}

bool acknowledge(CallbackStatus s) {
    return s == CallbackStatus::Credited || s == CallbackStatus::Replayed || s == CallbackStatus::RefundSettled;
}

std::string_view to_string(RefundState s) {
    switch (s) {
    case RefundState::Processing:
        return "processing";
    case RefundState::Succeeded:
        return "succeeded";
    case RefundState::Failed:
        return "failed";
    }
    return "failed";
}

int Provider::ack_status(CallbackStatus s) const {
    return acknowledge(s) ? 200 : (s == CallbackStatus::BadSignature ? 401 : 400);
}

std::string Provider::ack_body(CallbackStatus s) const {
    json::Writer w;
    w.begin_object().field("code", acknowledge(s) ? "SUCCESS" : "FAIL");
    if (!acknowledge(s))
        w.field("message", to_string(s));
    w.end_object();
    return w.str();
}

void ProviderRegistry::add(std::shared_ptr<Provider> p) {
    const std::string n(p->name());
    providers_[n] = std::move(p);
}

Provider* ProviderRegistry::find(std::string_view name) const {
    auto it = providers_.find(name);
    return it == providers_.end() ? nullptr : it->second.get();
}

std::vector<std::string> ProviderRegistry::names() const {
    std::vector<std::string> out;
    for (const auto& [n, p] : providers_)
        out.push_back(n);
    return out;
}

std::string load_or_create_secret(const std::string& path) {
    auto secret = files::load_or_create_secret(path, [] { return crypto::random_hex(32); });
    if (secret.size() < 32)
        throw std::runtime_error("payments: the secret in " + path + " is shorter than 32 characters");
    return secret;
}

// ---- sandbox --------------------------------------------------------------------------------

SandboxProvider::SandboxProvider(std::string secret, const Clock& clock) : secret_(std::move(secret)), clock_(clock) {
    if (secret_.size() < 32)
        throw std::invalid_argument("sandbox provider: the secret must have at least 32 characters");
}

Result<PayParams> SandboxProvider::create(const Order& order) {
    json::Writer w;
    w.begin_object()
        .field("provider", "sandbox")
        .field("payment_id", order.id)
        .field("amount_fen", order.amount_fen.value())
        .field("confirm_path", fmt::format(kSandboxConfirmPath, order.id))
        .end_object();
    return PayParams{"sandbox", w.str(), ""};
}

std::string SandboxProvider::canonical(const Notification& n) {
    return fmt::format("account_id={}&amount_fen={}&paid_at={}&payment_id={}&provider=sandbox&txn_id={}",
                       n.account_id.value_or(0), n.amount_fen.value(), n.paid_at, n.payment_id, n.provider_txn);
}

CallbackRequest SandboxProvider::make_callback(const Notification& n) const {
    json::Writer w;
    w.begin_object()
        .field("payment_id", n.payment_id)
        .field("account_id", n.account_id.value_or(0))
        .field("amount_fen", n.amount_fen.value())
        .field("txn_id", n.provider_txn)
        .field("paid_at", n.paid_at)
        .field("sign", crypto::hmac_sha256_hex(secret_, canonical(n)))
        .end_object();
    return CallbackRequest{w.str(), {{"content-type", "application/json"}}};
}

CallbackRequest SandboxProvider::confirm_callback(const Order& order) const {
    Notification n;
    n.payment_id = order.id;
    n.provider_txn = "sbx_" + crypto::hmac_sha256_hex(secret_, "txn:" + order.id).substr(0, 24);
    n.amount_fen = order.amount_fen;
    n.account_id = order.account_id;
    n.paid_at = clock_.now_ms();
    return make_callback(n);
}

Result<TradeQuery> SandboxProvider::query(const Order&) {
    return TradeQuery{TradeState::NotPaid, std::nullopt, "{}"};
}

Result<bool> SandboxProvider::close(const Order&) {
    return true;
}

Result<RefundAccepted> SandboxProvider::refund(const RefundRequest& r) {
    return RefundAccepted{RefundState::Succeeded,
                          "sbxr_" + crypto::hmac_sha256_hex(secret_, "refund:" + r.part_id).substr(0, 24), "{}"};
}

Result<RefundAccepted> SandboxProvider::query_refund(const RefundRequest& r) {
    return refund(r);
}

Verified SandboxProvider::verify(const CallbackRequest& cb) const {
    auto doc = json::parse(cb.body, 4096);
    if (!doc)
        return CallbackStatus::Malformed;
    std::string err;
    auto o = json::Object::root(*doc, &err);
    Notification n;
    n.payment_id = o.req_str("payment_id", 64);
    n.account_id = o.req_int("account_id", 1, std::numeric_limits<std::int64_t>::max());
    n.amount_fen = Fen(o.req_int("amount_fen", 1, ledger::kMaxAmountFen));
    n.provider_txn = o.req_str("txn_id", 64);
    n.paid_at = o.req_int("paid_at", 0, std::numeric_limits<std::int64_t>::max());
    const auto sign = o.req_str("sign", 128);
    if (!o.ok() || n.payment_id.empty() || n.provider_txn.empty())
        return CallbackStatus::Malformed;
    const auto expected = crypto::hmac_sha256_hex(secret_, canonical(n));
    if (!crypto::equal_constant_time(sign, expected))
        return CallbackStatus::BadSignature;
    n.merchant = merchant();
    n.trade_state = "SUCCESS";
    n.raw = cb.body;
    return n;
}

// ---- orders and callbacks -------------------------------------------------------------------

std::string_view to_string(CreateStatus s) {
    switch (s) {
    case CreateStatus::Created:
        return "created";
    case CreateStatus::UnknownAccount:
        return "unknown_account";
    case CreateStatus::AccountFrozen:
        return "account_frozen";
    case CreateStatus::UnknownPackage:
        return "unknown_package";
    case CreateStatus::InvalidAmount:
        return "invalid_amount";
    case CreateStatus::UnknownProvider:
        return "unknown_provider";
    case CreateStatus::ProviderFailed:
        return "provider_failed";
    }
    return "invalid_amount";
}

std::optional<ErrorCode> error_code(CreateStatus s) {
    switch (s) {
    case CreateStatus::Created:
        return std::nullopt;
    case CreateStatus::UnknownAccount:
    case CreateStatus::UnknownPackage:
        return ErrorCode::NotFound;
    case CreateStatus::AccountFrozen:
        return ErrorCode::AccountFrozen;
    case CreateStatus::InvalidAmount:
        return ErrorCode::InvalidRequest;
    case CreateStatus::UnknownProvider:
        return ErrorCode::Unsupported;
    case CreateStatus::ProviderFailed:
        return ErrorCode::Internal;
    }
    return ErrorCode::Internal;
}

Payments::Payments(db::Database& db, const ProviderRegistry& providers, const Clock& clock)
    : db_(db), providers_(providers), clock_(clock) {}

Created Payments::create_order(const OrderRequest& r) {
    Created c;
    Provider* p = providers_.find(r.provider);
    if (!p) {
        c.status = CreateStatus::UnknownProvider;
        c.detail = fmt::format("no payment provider `{}`", r.provider);
        return c;
    }
    ledger::Ledger led(db_, clock_);
    Order o;
    o.account_id = r.account_id;
    o.provider = std::string(p->name());
    if (r.amount_fen.has_value() == r.package_id.has_value()) {
        c.status = CreateStatus::InvalidAmount;
        c.detail = "give either amount_fen or package_id";
        return c;
    }
    if (r.package_id) {
        const auto pkg = led.package(*r.package_id);
        if (!pkg || !pkg->enabled) {
            c.status = CreateStatus::UnknownPackage;
            c.detail = fmt::format("no recharge package {}", *r.package_id);
            return c;
        }
        o.amount_fen = pkg->pay_fen;
        o.bonus_fen = pkg->bonus_fen;
        o.package_id = pkg->id;
    } else {
        o.amount_fen = *r.amount_fen;
    }
    if (o.amount_fen < Fen(1) || o.amount_fen > Fen(kMaxRechargeFen)) {
        c.status = CreateStatus::InvalidAmount;
        c.detail = fmt::format("amount_fen must be 1..{}", kMaxRechargeFen);
        return c;
    }
    const auto w = led.wallet(r.account_id);
    if (!w) {
        c.status = CreateStatus::UnknownAccount;
        c.detail = fmt::format("no account {}", r.account_id);
        return c;
    }
    if (w->frozen) {
        c.status = CreateStatus::AccountFrozen;
        c.detail = "the account is frozen";
        return c;
    }
    o.id = "pay_" + crypto::random_hex(16);
    o.created_at = clock_.now_ms();
    db::Statement(db_, kInsertOrder)
        .bind_all(o.id, o.account_id, o.amount_fen.value(), o.bonus_fen.value(), o.package_id, o.provider, o.created_at,
                  r.payer_id)
        .run();
    o.payer_id = r.payer_id;
    auto params = p->create(o);
    if (!params) {
        db::Statement(db_, kMarkFailed).bind_all(o.id).run();
        o.status = Status::Failed;
        c.status = CreateStatus::ProviderFailed;
        c.detail = params.error();
        c.order = std::move(o);
        return c;
    }
    if (!params->provider_ref.empty()) {
        db::Statement(db_, kSetRef).bind_all(params->provider_ref, o.id).run();
        o.provider_ref = params->provider_ref;
    }
    c.status = CreateStatus::Created;
    c.order = std::move(o);
    c.params = std::move(params).value();
    return c;
}

std::optional<Order> Payments::order(const std::string& id) {
    db::Statement st(db_, kSelectOrder);
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    return read_order(st);
}

CallbackResult Payments::handle_callback(std::string_view provider, const CallbackRequest& cb) {
    const Provider* p = providers_.find(provider);
    if (!p)
        return refuse(CallbackStatus::UnknownProvider, fmt::format("no payment provider `{}`", provider));
    auto verified = p->verify(cb);
    if (auto* s = std::get_if<CallbackStatus>(&verified))
        return refuse(*s, *s == CallbackStatus::BadSignature ? "the signature does not verify"
                                                             : "not a notification of this provider");
    if (std::holds_alternative<RefundNotification>(verified))
        return refuse(CallbackStatus::Malformed, "refund notifications are not handled here");
    return settle_paid(*p, std::get<Notification>(verified));
}

CallbackResult Payments::settle_paid(const Provider& p, const Notification& n) {
    const std::string_view provider = p.name();
    const auto us = p.merchant();
    if (!us.merchant_id.empty() && n.merchant.merchant_id != us.merchant_id)
        return refuse(CallbackStatus::MerchantMismatch, fmt::format("the trade is merchant `{}`'s, not ours (`{}`)",
                                                                    n.merchant.merchant_id, us.merchant_id));
    if (n.merchant.app_id != us.app_id)
        return refuse(CallbackStatus::MerchantMismatch,
                      fmt::format("the trade is app `{}`'s, not ours (`{}`)", n.merchant.app_id, us.app_id));
    if (n.currency != "CNY")
        return refuse(CallbackStatus::CurrencyMismatch, fmt::format("paid in `{}`, not CNY", n.currency));
    if (!n.paid)
        return refuse(CallbackStatus::NotPaid, fmt::format("the trade's state is `{}`, not paid", n.trade_state));

    db::Transaction tx(db_);
    auto o = order(n.payment_id);
    if (!o)
        return refuse(CallbackStatus::UnknownOrder, fmt::format("no payment order {}", n.payment_id));
    if (o->provider != provider)
        return refuse(CallbackStatus::OrderMismatch,
                      fmt::format("order {} is for provider {}, not {}", o->id, o->provider, provider), o);

    ledger::Ledger led(db_, clock_);
    const auto key = ledger_key(provider, n.provider_txn);
    if (auto e = led.entry_by_key(key)) {
        if (e->ref == o->id) {
            CallbackResult r = refuse(CallbackStatus::Replayed, "this transaction was already credited", o);
            r.entry = std::move(e);
            return r;
        }
        return refuse(CallbackStatus::OrderMismatch,
                      fmt::format("transaction {} already paid order {}", n.provider_txn, e->ref), o);
    }
    {
        db::Statement st(db_, kOrderByTxn);
        st.bind_all(n.provider_txn, o->id);
        if (st.step())
            return refuse(CallbackStatus::OrderMismatch,
                          fmt::format("transaction {} already paid order {}", n.provider_txn, st.text(0)), o);
    }
    if (o->status == Status::Paid)
        return refuse(CallbackStatus::OrderMismatch,
                      fmt::format("order {} was already paid by transaction {}", o->id, o->provider_txn.value_or("?")),
                      o);
    if (n.account_id && *n.account_id != o->account_id)
        return refuse(
            CallbackStatus::AccountMismatch,
            fmt::format("callback names account {}, order {} is account {}'s", *n.account_id, o->id, o->account_id), o);
    if (n.amount_fen != o->amount_fen)
        return refuse(
            CallbackStatus::AmountMismatch,
            fmt::format("paid {} fen, order {} is {} fen", n.amount_fen.value(), o->id, o->amount_fen.value()), o);

    const EpochMs paid_at = n.paid_at > 0 ? n.paid_at : clock_.now_ms();
    if (db::Statement(db_, kMarkPaid).bind_all(n.provider_txn, paid_at, o->id).run() != 1)
        return refuse(CallbackStatus::OrderMismatch, fmt::format("order {} is no longer payable", o->id), o);
    // The rider paid an order we had given up on: the money goes in, and an operator sees it.
    if (o->status == Status::Failed || o->status == Status::Expired) {
        const auto why =
            fmt::format("paid after it {} (credited)", o->status == Status::Failed ? "failed at creation" : "expired");
        db::Statement(db_, kFlag).bind_all(why, why, o->id).run();
    }
    ledger::Credit c;
    c.account_id = o->account_id;
    c.real_fen = o->amount_fen;
    c.bonus_fen = o->bonus_fen;
    c.kind = ledger::Kind::Recharge;
    c.meta.idempotency_key = key;
    c.meta.ref = o->id;
    c.meta.operator_name = std::string(provider);
    c.meta.note = o->package_id ? fmt::format("online recharge, package {}", *o->package_id) : "online recharge";
    c.allow_frozen = true; // the rider has paid: the money goes in whatever the account's state
    auto posting = led.credit(tx, c);
    if (posting.outcome != ledger::Outcome::Applied)
        return refuse(CallbackStatus::OrderMismatch,
                      fmt::format("order {} cannot be credited: {}", o->id, ledger::to_string(posting.outcome)), o);
    // Parking stays left unpaid are collected with the money that just came in (BILLING §5).
    arrears::collect(tx, db_, led, o->account_id, posting.entry->id); // arrears first (BILLING §5)
    parking::collect_unpaid(tx, db_, led, o->account_id, clock_.now_ms());
    tx.commit();
    CallbackResult r;
    r.status = CallbackStatus::Credited;
    r.order = order(o->id);
    r.entry = std::move(posting.entry);
    r.detail = "credited";
    return r;
}

CallbackResult Payments::sandbox_confirm(const std::string& payment_id) {
    auto* sandbox = dynamic_cast<SandboxProvider*>(providers_.find("sandbox"));
    if (!sandbox)
        return refuse(CallbackStatus::UnknownProvider, "the sandbox provider is not enabled (development mode only)");
    const auto o = order(payment_id);
    if (!o)
        return refuse(CallbackStatus::UnknownOrder, fmt::format("no payment order {}", payment_id));
    return handle_callback("sandbox", sandbox->confirm_callback(*o));
}

int Payments::expire_pending(EpochMs created_before) {
    return db::Statement(db_, kExpire).bind_all(created_before).run();
}

std::vector<Order> Payments::list(const PaymentFilter& f) {
    db::Statement st(db_, kListOrders);
    st.bind_all(f.state, f.state, f.channel, f.channel, f.account_id, f.account_id, f.anomaly_only ? 1 : 0, f.from,
                f.to, f.limit, f.offset);
    std::vector<Order> out;
    while (st.step())
        out.push_back(read_order(st));
    return out;
}

std::vector<CallbackRecord> Payments::callbacks(const std::string& payment_id) {
    db::Statement st(db_, kCallbacks);
    st.bind(1, payment_id);
    std::vector<CallbackRecord> out;
    while (st.step()) {
        CallbackRecord c;
        c.id = st.int64(0);
        c.provider = st.text(1);
        c.kind = st.text(2);
        c.payment_id = st.text(3);
        c.part_id = st.text(4);
        c.verdict = st.text(5);
        c.detail = st.text(6);
        c.content = st.text(7);
        c.received_at = st.int64(8);
        out.push_back(std::move(c));
    }
    return out;
}

std::vector<Order> Payments::due_for_query(EpochMs created_before, EpochMs queried_before, int limit) {
    db::Statement st(db_, kDueForQuery);
    st.bind_all(created_before, queried_before, limit);
    std::vector<Order> out;
    while (st.step())
        out.push_back(read_order(st));
    return out;
}

void Payments::mark_queried(const std::string& id) {
    db::Statement(db_, kMarkQueried).bind_all(clock_.now_ms(), id).run();
}

bool Payments::close_expired(const std::string& id) {
    return db::Statement(db_, kCloseExpired).bind_all(clock_.now_ms(), id).run() == 1;
}

void Payments::mark_refused(const std::string& id, const std::string& anomaly) {
    db::Statement(db_, kMarkRefused).bind_all(anomaly, anomaly, id).run();
}

void Payments::flag(const std::string& id, const std::string& anomaly) {
    db::Statement(db_, kFlag).bind_all(anomaly, anomaly, id).run();
}

void Payments::record_callback(std::string_view provider, std::string_view kind, std::string_view payment_id,
                               std::string_view part_id, std::string_view verdict, std::string_view detail,
                               std::string_view content) {
    db::Statement(db_, kInsertCallback)
        .bind_all(std::string(provider), std::string(kind), std::string(payment_id), std::string(part_id),
                  std::string(verdict), std::string(detail), std::string(content), clock_.now_ms())
        .run();
}

} // namespace pilehub::payments
