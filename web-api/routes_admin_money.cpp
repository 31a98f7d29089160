// Payment orders and refunds as operators handle them (CONTRACT F.2, F.3; seed 003 §3.4.3 支付订单,
// §3.4.6 退费管理): lists with filters, an order's detail with what its provider said, asking a
// provider now, and balance refunds back through the channels the money came in by.
#include "web-api/money_controls.hpp"
#include "web-api/openapi_schemas_admin.hpp"
#include "web-api/reconciler.hpp"
#include "web-api/refunds.hpp"
#include "web-api/routes_common.hpp"

#include <fmt/format.h>

namespace pilehub::api {
namespace {

constexpr std::int64_t kMaxExportRows = 200'000;

void write_admin_payment(json::Writer& w, const Services& s, const payments::Order& o) {
    w.begin_object()
        .field("id", o.id)
        .field("account_id", o.account_id)
        .field("channel", o.provider)
        .field("amount_fen", o.amount_fen.value())
        .field("bonus_fen", o.bonus_fen.value());
    w.key("package_id");
    if (o.package_id)
        w.value(*o.package_id);
    else
        w.null();
    w.field("state", payments::to_string(o.status))
        .field("provider_txn", o.provider_txn.value_or(""))
        .field("provider_ref", o.provider_ref)
        .field("payer_id", o.payer_id)
        .field("refunded_fen", o.refunded_fen.value())
        .field("anomaly", o.anomaly)
        .field("created_at", when(s, o.created_at));
    write_time(w, s, "paid_at", o.paid_at);
    write_time(w, s, "queried_at", o.queried_at);
    write_time(w, s, "closed_at", o.closed_at);
    w.end_object();
}

void write_refund_part(json::Writer& w, const Services& s, const RefundPart& p) {
    w.begin_object().field("id", p.id).key("payment_id");
    if (p.payment_id)
        w.value(*p.payment_id);
    else
        w.null();
    w.field("channel", p.channel)
        .field("amount_fen", p.amount_fen.value())
        .field("state", p.state)
        .field("provider_refund_id", p.provider_refund_id)
        .field("detail", p.detail)
        .field("attempts", p.attempts)
        .field("created_at", when(s, p.created_at));
    write_time(w, s, "settled_at", p.settled_at);
    w.end_object();
}

void write_refund(json::Writer& w, const Services& s, const RefundRecord& r) {
    w.begin_object()
        .field("id", r.id)
        .field("account_id", r.account_id)
        .field("phone", r.phone)
        .field("amount_fen", r.amount_fen.value())
        .field("reason", r.reason)
        .field("state", r.state)
        .field("kind", r.kind)
        .field("operator", r.operator_name)
        .field("created_at", when(s, r.created_at));
    write_time(w, s, "settled_at", r.settled_at);
    w.key("parts").begin_array();
    for (const auto& p : r.parts)
        write_refund_part(w, s, p);
    w.end_array().end_object();
}

payments::PaymentFilter payment_filter(const Services& s, const Request& req) {
    payments::PaymentFilter f;
    f.state = req.query("state").value_or("");
    f.channel = req.query("channel").value_or("");
    f.account_id = req.query_int("account_id");
    const auto anomaly = req.query("anomaly").value_or("");
    f.anomaly_only = anomaly == "true" || anomaly == "1";
    f.from = query_time(s, req, "from").value_or(0);
    f.to = query_time(s, req, "to").value_or(std::numeric_limits<EpochMs>::max());
    f.limit = req.query_int("limit").value_or(50);
    f.offset = req.query_int("offset").value_or(0);
    return f;
}

RefundFilter refund_filter(const Services& s, const Request& req) {
    RefundFilter f;
    f.state = req.query("state").value_or("");
    f.account_id = req.query_int("account_id");
    f.from = query_time(s, req, "from").value_or(0);
    f.to = query_time(s, req, "to").value_or(std::numeric_limits<EpochMs>::max());
    f.limit = req.query_int("limit").value_or(50);
    f.offset = req.query_int("offset").value_or(0);
    return f;
}

std::vector<FieldSpec> payment_filter_params() {
    return {str_enum("state", false, {"pending", "paid", "failed", "expired"}, "One state."),
            str_enum("channel", false, {"wechat", "alipay", "sandbox"}, "One channel."),
            integer("account_id", false, 1, INT64_MAX, "One account."),
            boolean("anomaly", false, "Only orders an operator must look at."),
            str("from", false, 40, "Created from (RFC 3339 or YYYY-MM-DD)."),
            str("to", false, 40, "Created before (RFC 3339 or YYYY-MM-DD).")};
}

std::vector<FieldSpec> refund_filter_params() {
    return {str_enum("state", false, {"processing", "succeeded", "failed", "partial"}, "One state."),
            integer("account_id", false, 1, INT64_MAX, "One account."),
            str("from", false, 40, "Created from (RFC 3339 or YYYY-MM-DD)."),
            str("to", false, 40, "Created before (RFC 3339 or YYYY-MM-DD).")};
}

/// Account-wide money lists are for unscoped operators; a scoped one names an account it sees.
void require_money_scope(Services& s, const Request& req, std::string_view what) {
    if (auto account = req.query_int("account_id")) {
        auto d = s.core->get();
        AccountStore accounts(*d);
        user_in_scope(accounts, req.who, *account);
    } else {
        require_unscoped(req.who, what);
    }
}

std::string admin_payment_schema() {
    using namespace oas;
    return obj({{"id", kStr},
                {"account_id", kInt},
                {"channel", kStr},
                {"amount_fen", kInt},
                {"bonus_fen", kInt},
                {"package_id", kIntN},
                {"state", words_of({"pending", "paid", "failed", "expired"})},
                {"provider_txn", kStr},
                {"provider_ref", kStr},
                {"payer_id", kStr},
                {"refunded_fen", kInt},
                {"anomaly", kStr},
                {"created_at", kTime},
                {"paid_at", kTimeN},
                {"queried_at", kTimeN},
                {"closed_at", kTimeN}});
}

std::string callback_schema() {
    using namespace oas;
    return obj({{"id", kInt},
                {"kind", kStr},
                {"part_id", kStr},
                {"verdict", kStr},
                {"detail", kStr},
                {"content", kStr},
                {"received_at", kTime}});
}

std::string refund_part_schema() {
    using namespace oas;
    return obj({{"id", kStr},
                {"payment_id", kStrN},
                {"channel", kStr},
                {"amount_fen", kInt},
                {"state", words_of({"processing", "succeeded", "failed"})},
                {"provider_refund_id", kStr},
                {"detail", kStr},
                {"attempts", kInt},
                {"created_at", kTime},
                {"settled_at", kTimeN}});
}

std::string refund_schema() {
    using namespace oas;
    return obj({{"id", kStr},
                {"account_id", kInt},
                {"phone", kStr},
                {"amount_fen", kInt},
                {"reason", kStr},
                {"state", words_of({"processing", "succeeded", "failed", "partial"})},
                {"kind", kStr},
                {"operator", kStr},
                {"created_at", kTime},
                {"settled_at", kTimeN},
                {"parts", arr(refund_part_schema())}});
}

std::string opt_when(const Services& s, std::optional<EpochMs> t) {
    return t ? when(s, *t) : std::string();
}

} // namespace

void add_admin_money_routes(Router& r, Services& s) {
    auto list = Route::make(Method::Get, "/api/v1/admin/payments", "admin.payments.list", "admin-money",
                            "Payment orders, newest first, with their channel, state, provider numbers and anomalies")
                    .admin("users.read");
    for (auto& p : payment_filter_params())
        list.q(std::move(p));
    r.add(list.q(limit_param())
              .q(offset_param())
              .refuses({ErrorCode::NotFound})
              .returns(oas::list_of("payments", admin_payment_schema()))
              .handle([&s](Request& req) {
                  require_money_scope(s, req, "payment orders across accounts");
                  auto d = s.core->get();
                  json::Writer w;
                  w.begin_object().key("payments").begin_array();
                  for (const auto& o : payments::Payments(*d, s.providers, *s.clock).list(payment_filter(s, req)))
                      write_admin_payment(w, s, o);
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/payments/{id}", "admin.payments.get", "admin-money",
                      "One payment order with every notification and query answer of its provider and its refund "
                      "parts")
              .admin("users.read")
              .param(key_param("id", "Payment id."))
              .refuses({ErrorCode::NotFound})
              .returns(oas::obj({{"payment", admin_payment_schema()},
                                 {"callbacks", oas::arr(callback_schema())},
                                 {"refund_parts", oas::arr(refund_part_schema())}}))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  payments::Payments pay(*d, s.providers, *s.clock);
                  auto o = pay.order(req.param("id"));
                  if (!o)
                      fail(ErrorCode::NotFound, "no such payment");
                  AccountStore accounts(*d);
                  user_in_scope(accounts, req.who, o->account_id);
                  json::Writer w;
                  w.begin_object().key("payment");
                  write_admin_payment(w, s, *o);
                  w.key("callbacks").begin_array();
                  for (const auto& c : pay.callbacks(o->id))
                      w.begin_object()
                          .field("id", c.id)
                          .field("kind", c.kind)
                          .field("part_id", c.part_id)
                          .field("verdict", c.verdict)
                          .field("detail", c.detail)
                          .field("content", c.content)
                          .field("received_at", when(s, c.received_at))
                          .end_object();
                  w.end_array().key("refund_parts").begin_array();
                  for (const auto& p : Refunds(*d, s.providers, *s.clock).parts_of_payment(o->id))
                      write_refund_part(w, s, p);
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/payments/{id}/query", "admin.payments.query", "admin-money",
                      "Ask the provider about a pending order now: a paid trade is credited (once), a closed one "
                      "expired")
              .admin("wallet.recharge")
              .param(key_param("id", "Payment id."))
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .returns(oas::obj({{"verdict", oas::kStr}, {"detail", oas::kStr}, {"payment", admin_payment_schema()}}))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  payments::Payments pay(*d, s.providers, *s.clock);
                  auto o = pay.order(req.param("id"));
                  if (!o)
                      fail(ErrorCode::NotFound, "no such payment");
                  AccountStore accounts(*d);
                  user_in_scope(accounts, req.who, o->account_id);
                  if (o->status != payments::Status::Pending)
                      fail(ErrorCode::Conflict, fmt::format("the order is {}, not pending", to_string(o->status)));
                  const auto out = reconcile_order(s, *d, *o);
                  json::Writer w;
                  w.begin_object().field("verdict", out.verdict).field("detail", out.detail).key("payment");
                  write_admin_payment(w, s, *pay.order(o->id));
                  w.end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/users/{id}/refund", "admin.users.refund", "admin-money",
                      "Pay real balance back through the channels it came in by, newest payment first (each part a "
                      "provider refund; what no payment can take back is cash at the counter). Requires an "
                      "Idempotency-Key header")
              .admin("wallet.refund")
              .param(id_param())
              .field(integer("amount_fen", true, 1, ledger::kMaxAmountFen, "Amount refunded, fen."))
              .field(str("reason", true, 200, "Why."))
              .ok(201)
              .moves_money()
              .answers("`{refund: {id, amount_fen, state, parts: [{payment_id, channel, amount_fen, state, "
                       "provider_refund_id}]}, duplicate}`")
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict, ErrorCode::LimitExceeded})
              .returns(oas::obj({{"duplicate", oas::kBool}, {"refund", refund_schema()}}))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  const auto amount = b.req_int("amount_fen", 1, ledger::kMaxAmountFen);
                  const auto reason = b.req_str("reason", 200);
                  req.check_body();
                  auto d = s.core->get();
                  AccountStore accounts(*d);
                  const auto id = user_in_scope(accounts, req.who, req.param_int("id")).id;
                  Refunds refunds(*d, s.providers, *s.clock);
                  // Inside the refund's write transaction: the day's refunds cannot race past the limit.
                  auto started =
                      refunds.start(id, Fen(amount), reason, req.who.name,
                                    fmt::format("{}:{}", req.who.name, idempotency_key(req).value_or("")), [&] {
                                        if (auto refused = check_refund_day_limit(*d, s.settings, req.who.role,
                                                                                  req.who.id, Fen(amount), s.now()))
                                            throw *refused;
                                    });
                  if (!started.refund)
                      check_posting(ledger::Posting{started.outcome, std::nullopt});
                  const bool duplicate = started.outcome == ledger::Outcome::Duplicate;
                  auto refund = duplicate ? started.refund : refunds.send(started.refund->id);
                  json::Writer w;
                  w.begin_object().field("duplicate", duplicate).key("refund");
                  write_refund(w, s, *refund);
                  w.end_object();
                  return Response::json(w.str(), duplicate ? 200 : 201);
              }));

    auto refunds = Route::make(Method::Get, "/api/v1/admin/refunds", "admin.refunds.list", "admin-money",
                               "Balance refunds, newest first, each with its parts per channel")
                       .admin("users.read");
    for (auto& p : refund_filter_params())
        refunds.q(std::move(p));
    r.add(refunds.q(limit_param())
              .q(offset_param())
              .refuses({ErrorCode::NotFound})
              .returns(oas::list_of("refunds", refund_schema()))
              .handle([&s](Request& req) {
                  require_money_scope(s, req, "refunds across accounts");
                  auto d = s.core->get();
                  json::Writer w;
                  w.begin_object().key("refunds").begin_array();
                  for (const auto& rf : Refunds(*d, s.providers, *s.clock).list(refund_filter(s, req)))
                      write_refund(w, s, rf);
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/refunds/{id}", "admin.refunds.get", "admin-money",
                      "One balance refund with its parts")
              .admin("users.read")
              .param(key_param("id", "Refund id."))
              .refuses({ErrorCode::NotFound})
              .returns(oas::obj({{"refund", refund_schema()}}))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  auto rf = Refunds(*d, s.providers, *s.clock).get(req.param("id"));
                  if (!rf)
                      fail(ErrorCode::NotFound, "no such refund");
                  AccountStore accounts(*d);
                  user_in_scope(accounts, req.who, rf->account_id);
                  json::Writer w;
                  w.begin_object().key("refund");
                  write_refund(w, s, *rf);
                  w.end_object();
                  return Response::json(w.str());
              }));
    auto pay_export = Route::make(Method::Get, "/api/v1/admin/exports/payments", "admin.exports.payments",
                                  "admin-reports", "Payment orders as CSV or XLSX (the list's filters)")
                          .admin("exports.read")
                          .q(format_param());
    for (auto& p : payment_filter_params())
        pay_export.q(std::move(p));
    r.add(pay_export.produce("text/csv").refuses({ErrorCode::NotFound}).handle([&s](Request& req) {
        require_money_scope(s, req, "payment orders across accounts");
        auto f = payment_filter(s, req);
        f.limit = kMaxExportRows;
        f.offset = 0;
        auto d = s.core->get();
        exports::Table t;
        t.name = "payments";
        t.headers = {"id",           "account_id",   "channel",    "amount_fen", "bonus_fen", "state",  "provider_txn",
                     "provider_ref", "refunded_fen", "created_at", "paid_at",    "closed_at", "anomaly"};
        for (const auto& o : payments::Payments(*d, s.providers, *s.clock).list(f))
            t.rows.push_back({o.id, o.account_id, o.provider, o.amount_fen.value(), o.bonus_fen.value(),
                              std::string(payments::to_string(o.status)), o.provider_txn.value_or(""), o.provider_ref,
                              o.refunded_fen.value(), when(s, o.created_at), opt_when(s, o.paid_at),
                              opt_when(s, o.closed_at), o.anomaly});
        return send_table(t, req.query("format").value_or("csv"), "payments");
    }));

    auto refund_export = Route::make(Method::Get, "/api/v1/admin/exports/refunds", "admin.exports.refunds",
                                     "admin-reports", "Balance refund parts as CSV or XLSX (one row per part)")
                             .admin("exports.read")
                             .q(format_param());
    for (auto& p : refund_filter_params())
        refund_export.q(std::move(p));
    r.add(refund_export.produce("text/csv").refuses({ErrorCode::NotFound}).handle([&s](Request& req) {
        require_money_scope(s, req, "refunds across accounts");
        auto f = refund_filter(s, req);
        f.limit = kMaxExportRows;
        f.offset = 0;
        auto d = s.core->get();
        exports::Table t;
        t.name = "refunds";
        t.headers = {
            "refund_id",  "account_id",         "phone",     "refund_amount_fen", "refund_state", "reason",
            "operator",   "created_at",         "part_id",   "channel",           "payment_id",   "part_amount_fen",
            "part_state", "provider_refund_id", "settled_at"};
        for (const auto& rf : Refunds(*d, s.providers, *s.clock).list(f))
            for (const auto& p : rf.parts)
                t.rows.push_back({rf.id, rf.account_id, rf.phone, rf.amount_fen.value(), rf.state, rf.reason,
                                  rf.operator_name, when(s, rf.created_at), p.id, p.channel, p.payment_id.value_or(""),
                                  p.amount_fen.value(), p.state, p.provider_refund_id, opt_when(s, p.settled_at)});
        return send_table(t, req.query("format").value_or("csv"), "refunds");
    }));
}

} // namespace pilehub::api
