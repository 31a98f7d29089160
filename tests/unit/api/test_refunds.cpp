// Balance refunds (web-api/refunds) and the reconciler's per-order rule (web-api/reconciler) over a
// real core database, with a scripted provider: what each provider answer does to parts, refunds,
// orders and the wallet. The providers' wire protocols are tested in test_pay_wechat / test_pay_alipay
// and end to end against the stub in tests/integration/test_api_providers.cpp.
#include "tests/unit/ledger/ledger_fixture.hpp"

#include "web-api/reconciler.hpp"
#include "web-api/refunds.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using namespace pilehub::api;
using pilehub::test::MoneyDb;

namespace {

/// A provider whose answers the test sets.
struct Scripted final : payments::Provider {
    std::string channel = "wechat";
    std::optional<payments::TradeState> trade = payments::TradeState::NotPaid;
    Fen paid_amount{0}; ///< 0: the order's
    std::string currency = "CNY";
    std::optional<payments::RefundState> refund_answer = payments::RefundState::Processing; ///< nothing: no answer
    bool close_ok = true;
    int refunds_sent = 0, refund_queries = 0, closes = 0;

    std::string_view name() const override { return channel; }
    payments::Merchant merchant() const override { return {"1900000109", "wxapp"}; }
    Result<payments::PayParams> create(const payments::Order& o) override {
        return payments::PayParams{channel, "{}", "ref-" + o.id};
    }
    payments::Verified verify(const payments::CallbackRequest&) const override {
        return payments::CallbackStatus::Malformed;
    }
    Result<payments::TradeQuery> query(const payments::Order& o) override {
        if (!trade)
            return Result<payments::TradeQuery>::failure("connection refused");
        payments::TradeQuery q;
        q.state = *trade;
        q.raw = "{}";
        if (*trade == payments::TradeState::Paid) {
            payments::Notification n;
            n.payment_id = o.id;
            n.provider_txn = "4200" + o.id.substr(4, 20);
            n.amount_fen = paid_amount > Fen(0) ? paid_amount : o.amount_fen;
            n.merchant = merchant();
            n.currency = currency;
            n.trade_state = "SUCCESS";
            q.paid = n;
        }
        return q;
    }
    Result<bool> close(const payments::Order&) override {
        ++closes;
        return close_ok;
    }
    Result<payments::RefundAccepted> refund(const payments::RefundRequest& r) override {
        ++refunds_sent;
        return answer(r);
    }
    Result<payments::RefundAccepted> query_refund(const payments::RefundRequest& r) override {
        ++refund_queries;
        return answer(r);
    }
    Result<payments::RefundAccepted> answer(const payments::RefundRequest& r) const {
        if (!refund_answer)
            return Result<payments::RefundAccepted>::failure("timed out");
        return payments::RefundAccepted{*refund_answer, "50300" + r.part_id.substr(4), "{}"};
    }
};

struct Fixture {
    MoneyDb m;
    std::shared_ptr<Scripted> wx = std::make_shared<Scripted>();
    std::shared_ptr<Scripted> ali = std::make_shared<Scripted>();
    Services s;
    std::int64_t account;

    explicit Fixture(const std::string& name) : m(name) {
        ali->channel = "alipay";
        s.clock = &m.clock;
        s.providers.add(wx);
        s.providers.add(ali);
        s.settings.providers.reconcile.expire_after_s = 900;
        account = m.account(1);
    }
    payments::Payments pay() { return payments::Payments(*m.core, s.providers, m.clock); }
    Refunds refunds() { return Refunds(*m.core, s.providers, m.clock); }

    /// An order through `channel`, paid (credited) unless told otherwise.
    payments::Order order(const std::string& channel, std::int64_t fen, bool paid = true) {
        auto c = pay().create_order({account, Fen(fen), std::nullopt, channel, "payer"});
        REQUIRE(c.status == payments::CreateStatus::Created);
        if (paid) {
            auto* p = dynamic_cast<Scripted*>(s.providers.find(channel));
            p->trade = payments::TradeState::Paid;
            REQUIRE(reconcile_order(s, *m.core, *c.order).verdict == "credited");
            p->trade = payments::TradeState::NotPaid;
        }
        m.clock.advance_ms(1000);
        return *pay().order(c.order->id);
    }

    RefundRecord refund(std::int64_t fen, const std::string& key) {
        auto st = refunds().start(account, Fen(fen), "moving away", "admin", key);
        REQUIRE(st.refund);
        return *refunds().send(st.refund->id);
    }

    payments::RefundNotification notification(const RefundPart& p, bool ok) {
        payments::RefundNotification n;
        n.part_id = p.id;
        n.payment_id = p.payment_id.value_or("");
        n.provider_refund_id = "50300" + p.id.substr(4);
        n.succeeded = ok;
        n.amount_fen = p.amount_fen;
        n.merchant = wx->merchant();
        n.state = ok ? "SUCCESS" : "ABNORMAL";
        return n;
    }
};

} // namespace

TEST_CASE("refund state: processing while any part is; then succeeded, failed or partial") {
    struct Row {
        std::vector<std::string> parts;
        std::string state;
    };
    const std::vector<Row> rows{
        {{}, "succeeded"},
        {{"processing"}, "processing"},
        {{"succeeded", "processing"}, "processing"},
        {{"failed", "processing"}, "processing"},
        {{"succeeded"}, "succeeded"},
        {{"succeeded", "succeeded"}, "succeeded"},
        {{"failed"}, "failed"},
        {{"failed", "failed"}, "failed"},
        {{"succeeded", "failed"}, "partial"},
    };
    for (const auto& r : rows) {
        CAPTURE(r.parts.size());
        CHECK(refund_state(r.parts) == r.state);
    }
}

TEST_CASE("refund plan: newest payment first, each at most what it can still take back, the rest at the counter") {
    const std::vector<RefundableOrder> orders{{"new", Fen(500)}, {"old", Fen(1000)}, {"empty", Fen(0)}};
    struct Row {
        std::int64_t amount;
        std::vector<std::pair<std::string, std::int64_t>> parts;
    };
    const std::vector<Row> rows{
        {300, {{"new", 300}}},
        {500, {{"new", 500}}},
        {1200, {{"new", 500}, {"old", 700}}},
        {1500, {{"new", 500}, {"old", 1000}}},
        {1800, {{"new", 500}, {"old", 1000}, {"", 300}}},
    };
    for (const auto& r : rows) {
        CAPTURE(r.amount);
        const auto plan = plan_refund(Fen(r.amount), orders);
        REQUIRE(plan.size() == r.parts.size());
        for (std::size_t i = 0; i < plan.size(); ++i) {
            CHECK(plan[i].payment_id == r.parts[i].first);
            CHECK(plan[i].amount_fen == Fen(r.parts[i].second));
        }
    }
    CHECK(plan_refund(Fen(100), {}).front().payment_id.empty()); // no online payment: all cash
}

TEST_CASE("refund notification amount: the part's own amount, or a trade's cumulative refunds that include it") {
    RefundPart part;
    part.amount_fen = Fen(300);
    payments::RefundRequest req;
    req.total_fen = Fen(1000);
    struct Row {
        std::int64_t stated;
        bool cumulative, with_request, fits;
    };
    const std::vector<Row> rows{
        {300, false, true, true}, {299, false, true, false}, {301, false, true, false},
        {300, true, true, true},  {800, true, true, true},   {1000, true, true, true},
        {299, true, true, false}, {1001, true, true, false}, {300, true, false, false},
    };
    for (const auto& r : rows) {
        CAPTURE(r.stated);
        CAPTURE(r.cumulative);
        payments::RefundNotification n;
        n.amount_fen = Fen(r.stated);
        n.cumulative = r.cumulative;
        CHECK(refund_amount_fits(n, part, r.with_request ? std::optional(req) : std::nullopt) == r.fits);
    }
}

TEST_CASE("balance refund: a second refund of one Alipay order settles by its cumulative refund_fee") {
    Fixture f("refund-cumulative");
    f.order("alipay", 1000);
    const auto first = f.refund(300, "c1");
    const auto second = f.refund(200, "c2");
    REQUIRE(second.parts.size() == 1);
    auto n = f.notification(second.parts[0], true);
    n.merchant = f.ali->merchant();
    n.cumulative = true;
    n.amount_fen = Fen(500); // 300 + 200: what Alipay says after the second refund
    CHECK(f.refunds().settle(*f.ali, n).status == payments::CallbackStatus::RefundSettled);
    CHECK(f.refunds().get(second.id)->state == "succeeded");
    n = f.notification(first.parts[0], true);
    n.merchant = f.ali->merchant();
    n.cumulative = true;
    n.amount_fen = Fen(1001); // more than the trade: refused
    CHECK(f.refunds().settle(*f.ali, n).status == payments::CallbackStatus::AmountMismatch);
    CHECK(f.refunds().get(first.id)->state == "processing");
}

TEST_CASE("balance refund: the wallet is debited at once, parts go out per channel and settle by notification") {
    Fixture f("refund-settle");
    const auto wx_order = f.order("wechat", 1000);
    f.order("alipay", 500);
    REQUIRE(f.m.balance(f.account) == 1500);
    const auto rf = f.refund(1200, "k1");
    CHECK(rf.state == "processing");
    REQUIRE(rf.parts.size() == 2);
    CHECK(rf.parts[0].channel == "alipay");
    CHECK(rf.parts[1].channel == "wechat");
    CHECK(f.m.balance(f.account) == 300);
    CHECK(f.wx->refunds_sent == 1);
    CHECK(f.pay().order(wx_order.id)->refunded_fen == Fen(700));

    // A notification settles its part once; a replay is acknowledged and changes nothing.
    auto r1 = f.refunds().settle(*f.wx, f.notification(rf.parts[1], true));
    CHECK(r1.status == payments::CallbackStatus::RefundSettled);
    auto again = f.refunds().settle(*f.wx, f.notification(rf.parts[1], false));
    CHECK(again.status == payments::CallbackStatus::RefundSettled);
    CHECK(f.refunds().get(rf.id)->parts[1].state == "succeeded");
    // A notification from the wrong channel, for the wrong order, or of another amount is refused.
    auto wrong_channel = f.refunds().settle(*f.wx, f.notification(rf.parts[0], true));
    CHECK(wrong_channel.status == payments::CallbackStatus::OrderMismatch);
    auto n = f.notification(rf.parts[0], true);
    n.amount_fen = Fen(499);
    CHECK(f.refunds().settle(*f.ali, n).status == payments::CallbackStatus::AmountMismatch);
    n = f.notification(rf.parts[0], true);
    n.part_id = "rfp_nope";
    CHECK(f.refunds().settle(*f.ali, n).status == payments::CallbackStatus::UnknownOrder);
    CHECK(f.refunds().get(rf.id)->state == "processing");
    CHECK(f.refunds().settle(*f.ali, f.notification(rf.parts[0], true)).status ==
          payments::CallbackStatus::RefundSettled);
    CHECK(f.refunds().get(rf.id)->state == "succeeded");
    CHECK(f.m.balance(f.account) == 300);
}

TEST_CASE("balance refund: the same idempotency key twice moves money once; more than refundable is refused") {
    Fixture f("refund-idem");
    f.order("wechat", 1000);
    const auto first = f.refund(400, "same");
    auto second = f.refunds().start(f.account, Fen(400), "moving away", "admin", "same");
    CHECK(second.outcome == ledger::Outcome::Duplicate);
    CHECK(second.refund->id == first.id);
    CHECK(f.m.balance(f.account) == 600);
    CHECK(f.m.count("SELECT count(*) FROM refunds") == 1);
    auto too_much = f.refunds().start(f.account, Fen(601), "x", "admin", "other");
    CHECK(too_much.outcome == ledger::Outcome::NotRefundable);
    CHECK_FALSE(too_much.refund);
    CHECK(f.m.balance(f.account) == 600);
}

TEST_CASE("balance refund: a part refused or failed by its provider puts its money back, once") {
    Fixture f("refund-fail");
    f.order("wechat", 1000);
    f.wx->refund_answer = payments::RefundState::Failed;
    const auto refused = f.refund(300, "r1");
    CHECK(refused.state == "failed");
    CHECK(f.m.balance(f.account) == 1000);
    CHECK(f.m.count("SELECT count(*) FROM ledger WHERE kind = 'refund_reversal'") == 1);

    f.wx->refund_answer = payments::RefundState::Processing;
    const auto later = f.refund(200, "r2");
    CHECK(f.m.balance(f.account) == 800);
    CHECK(f.refunds().settle(*f.wx, f.notification(later.parts[0], false)).status ==
          payments::CallbackStatus::RefundSettled);
    CHECK(f.refunds().settle(*f.wx, f.notification(later.parts[0], false)).status ==
          payments::CallbackStatus::RefundSettled);
    CHECK(f.refunds().get(later.id)->state == "failed");
    CHECK(f.m.balance(f.account) == 1000);
    CHECK(f.m.count("SELECT count(*) FROM ledger WHERE kind = 'refund_reversal'") == 2);
    // The order can be refunded again for what came back.
    CHECK(f.m.count("SELECT refunded_fen FROM payments") == 0);
}

TEST_CASE("balance refund: a part without an answer is sent again later, then asked about") {
    Fixture f("refund-poll");
    f.order("wechat", 1000);
    f.wx->refund_answer.reset(); // the provider does not answer
    const auto rf = f.refund(300, "p1");
    CHECK(rf.parts[0].state == "processing");
    CHECK(rf.parts[0].provider_refund_id.empty());
    f.m.clock.advance_ms(61'000);
    auto due = f.refunds().due(f.m.clock.now_ms() - 60'000, 10);
    REQUIRE(due.size() == 1);
    f.wx->refund_answer = payments::RefundState::Processing;
    f.refunds().poll(due[0]);
    CHECK(f.wx->refunds_sent == 2); // sent again: the same part id, so one refund at the provider
    CHECK_FALSE(f.refunds().get(rf.id)->parts[0].provider_refund_id.empty());
    CHECK(f.refunds().due(f.m.clock.now_ms() - 60'000, 10).empty()); // just asked
    f.m.clock.advance_ms(61'000);
    f.wx->refund_answer = payments::RefundState::Succeeded;
    f.refunds().poll(f.refunds().due(f.m.clock.now_ms() - 60'000, 10).at(0));
    CHECK(f.wx->refund_queries == 1); // taken by the provider: asked, not sent
    CHECK(f.refunds().get(rf.id)->state == "succeeded");
}

TEST_CASE("reconcile: a silent order is credited, closed or left pending as its provider says") {
    Fixture f("reconcile");
    // Paid without a notification: credited once, the query kept as its callback.
    auto paid = f.order("wechat", 700, false);
    f.wx->trade = payments::TradeState::Paid;
    CHECK(reconcile_order(f.s, *f.m.core, paid).verdict == "credited");
    CHECK(reconcile_order(f.s, *f.m.core, paid).verdict == "replayed");
    CHECK(f.m.balance(f.account) == 700);
    CHECK(f.pay().callbacks(paid.id).size() == 2);
    // Not paid and young: left pending. Not paid and old: closed at the provider and expired.
    f.wx->trade = payments::TradeState::NotPaid;
    auto open = f.order("wechat", 300, false);
    CHECK(reconcile_order(f.s, *f.m.core, open).verdict == "not_paid");
    CHECK(f.wx->closes == 0);
    f.m.clock.advance_ms(901'000);
    CHECK(reconcile_order(f.s, *f.m.core, open).verdict == "expired");
    CHECK(f.wx->closes == 1);
    CHECK(f.pay().order(open.id)->status == payments::Status::Expired);
    CHECK(f.pay().order(open.id)->closed_at);
    // Closed at the provider: expired here.
    auto closed = f.order("wechat", 300, false);
    f.wx->trade = payments::TradeState::Closed;
    CHECK(reconcile_order(f.s, *f.m.core, closed).verdict == "closed");
    CHECK(f.pay().order(closed.id)->status == payments::Status::Expired);
    // The provider unreachable: nothing changes, asked again later.
    auto silent = f.order("wechat", 300, false);
    f.wx->trade.reset();
    CHECK(reconcile_order(f.s, *f.m.core, silent).verdict == "error");
    CHECK(f.pay().order(silent.id)->status == payments::Status::Pending);
    CHECK(f.m.balance(f.account) == 700);
}

TEST_CASE("reconcile: a trade paid at the provider for another amount or currency is refused and shown; one of "
          "another amount is sent back whole") {
    Fixture f("reconcile-refused");
    for (const auto& [amount, currency] : std::vector<std::pair<std::int64_t, std::string>>{{701, "CNY"}, {0, "USD"}}) {
        auto o = f.order("wechat", 700, false);
        f.wx->trade = payments::TradeState::Paid;
        f.wx->paid_amount = Fen(amount);
        f.wx->currency = currency;
        const auto out = reconcile_order(f.s, *f.m.core, o);
        CHECK(out.verdict == (amount ? "amount_mismatch" : "currency_mismatch"));
        const auto after = f.pay().order(o.id);
        CHECK(after->status == payments::Status::Failed);
        CHECK(after->anomaly.find("paid at the provider but refused") != std::string::npos);
        f.wx->paid_amount = Fen(0);
        f.wx->currency = "CNY";
    }
    CHECK(f.m.balance(f.account) == 0);
    payments::PaymentFilter anomalies;
    anomalies.anomaly_only = true;
    CHECK(f.pay().list(anomalies).size() == 2);
    // The money paid for another amount is sent back whole, once, and never enters the wallet.
    const auto returned = f.refunds().list({});
    REQUIRE(returned.size() == 1);
    CHECK(returned[0].kind == "returned");
    CHECK(returned[0].amount_fen == Fen(701));
    CHECK(f.wx->refunds_sent == 1);
    CHECK(f.refunds().settle(*f.wx, f.notification(returned[0].parts[0], true)).status ==
          payments::CallbackStatus::RefundSettled);
    CHECK(f.refunds().get(returned[0].id)->state == "succeeded");
    CHECK(f.pay().order(*returned[0].parts[0].payment_id)->anomaly.find("sent back (") != std::string::npos);
    CHECK(f.m.balance(f.account) == 0);
    CHECK(f.m.count("SELECT count(*) FROM ledger WHERE kind IN ('refund', 'refund_reversal')") == 0);
}

TEST_CASE("payments: an order paid after it expired or failed is credited and flagged for an operator") {
    Fixture f("late-paid");
    auto o = f.order("wechat", 500, false);
    CHECK(f.pay().expire_pending(f.m.clock.now_ms() + 1) == 1);
    f.wx->trade = payments::TradeState::Paid;
    auto q = f.wx->query(*f.pay().order(o.id));
    REQUIRE(q);
    auto res = f.pay().settle_paid(*f.wx, *q->paid);
    CHECK(res.status == payments::CallbackStatus::Credited);
    CHECK(f.m.balance(f.account) == 500);
    CHECK(f.pay().order(o.id)->anomaly == "paid after it expired (credited)");
}
