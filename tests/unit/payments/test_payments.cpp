#include "tests/unit/ledger/ledger_fixture.hpp"

#include "common/payments.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>

using namespace pilehub;
using pilehub::test::MoneyDb;

namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

struct Fixture {
    MoneyDb m;
    std::shared_ptr<payments::SandboxProvider> sandbox;
    payments::ProviderRegistry providers;
    payments::Payments pay;
    std::int64_t account;

    explicit Fixture(const std::string& name)
        : m(name), sandbox(std::make_shared<payments::SandboxProvider>(kSecret, m.clock)),
          providers(make_registry(sandbox)), pay(*m.core, providers, m.clock), account(m.account(1)) {}

    static payments::ProviderRegistry make_registry(std::shared_ptr<payments::SandboxProvider> s) {
        payments::ProviderRegistry r;
        r.add(std::move(s));
        return r;
    }

    payments::Order order(std::int64_t amount_fen) {
        auto c = pay.create_order({account, Fen(amount_fen), std::nullopt, "sandbox", ""});
        REQUIRE(c.status == payments::CreateStatus::Created);
        return *c.order;
    }

    /// The sandbox's genuine notification for `o`, which tests then tamper with.
    payments::Notification genuine(const payments::Order& o) {
        payments::Notification n;
        n.payment_id = o.id;
        n.provider_txn = "sbx_txn_" + o.id;
        n.amount_fen = o.amount_fen;
        n.account_id = o.account_id;
        n.paid_at = m.clock.now_ms();
        return n;
    }

    /// Balances and row counts: everything a callback could change.
    struct Snapshot {
        std::int64_t balance, bonus, ledger_rows, paid_orders;
        bool operator==(const Snapshot&) const = default;
    };
    Snapshot snapshot() {
        return {m.balance(account), m.bonus(account), m.ledger_rows(),
                m.count("SELECT count(*) FROM payments WHERE status = 'paid'")};
    }
};

} // namespace

TEST_CASE("payments: an order gets the provider's pay parameters and stays pending until paid") {
    Fixture f("pay-create");
    const auto c = f.pay.create_order({f.account, Fen(2000), std::nullopt, "sandbox", ""});
    REQUIRE(c.status == payments::CreateStatus::Created);
    REQUIRE(c.order);
    REQUIRE(c.params);
    CHECK(c.order->id.rfind("pay_", 0) == 0);
    CHECK(c.order->id.size() == 36);
    CHECK(c.params->json.find("/api/v1/pay/sandbox/" + c.order->id + "/confirm") != std::string::npos);
    const auto stored = f.pay.order(c.order->id);
    REQUIRE(stored);
    CHECK(stored->status == payments::Status::Pending);
    CHECK(stored->amount_fen == Fen(2000));
    CHECK(f.m.balance(f.account) == 0);
}

TEST_CASE("payments: orders are refused for frozen or unknown accounts, bad amounts and unknown providers") {
    Fixture f("pay-refuse");
    CHECK(f.pay.create_order({f.account, Fen(0), std::nullopt, "sandbox", ""}).status ==
          payments::CreateStatus::InvalidAmount);
    CHECK(f.pay.create_order({f.account, Fen(payments::Payments::kMaxRechargeFen + 1), std::nullopt, "sandbox", ""})
              .status == payments::CreateStatus::InvalidAmount);
    CHECK(f.pay.create_order({f.account, std::nullopt, std::nullopt, "sandbox", ""}).status ==
          payments::CreateStatus::InvalidAmount);
    CHECK(f.pay.create_order({f.account, Fen(100), std::nullopt, "wechat", ""}).status ==
          payments::CreateStatus::UnknownProvider);
    CHECK(f.pay.create_order({999, Fen(100), std::nullopt, "sandbox", ""}).status ==
          payments::CreateStatus::UnknownAccount);
    CHECK(f.pay.create_order({f.account, std::nullopt, 77, "sandbox", ""}).status ==
          payments::CreateStatus::UnknownPackage);
    REQUIRE(f.m.ledger->set_frozen(f.account, true) == ledger::Outcome::Applied);
    CHECK(f.pay.create_order({f.account, Fen(100), std::nullopt, "sandbox", ""}).status ==
          payments::CreateStatus::AccountFrozen);
    CHECK(f.m.count("SELECT count(*) FROM payments") == 0);
    CHECK(payments::error_code(payments::CreateStatus::AccountFrozen) == ErrorCode::AccountFrozen);
}

TEST_CASE("payments: a valid sandbox callback credits the wallet once, with the package bonus") {
    Fixture f("pay-valid");
    const auto pkg = f.m.ledger->add_package({0, std::nullopt, "50 get 1", Fen(5000), Fen(100), true});
    const auto c = f.pay.create_order({f.account, std::nullopt, pkg, "sandbox", ""});
    REQUIRE(c.status == payments::CreateStatus::Created);
    CHECK(c.order->amount_fen == Fen(5000));
    CHECK(c.order->bonus_fen == Fen(100));

    const auto r = f.pay.sandbox_confirm(c.order->id);
    REQUIRE(r.status == payments::CallbackStatus::Credited);
    CHECK(payments::acknowledge(r.status));
    REQUIRE(r.entry);
    CHECK(r.entry->kind == ledger::Kind::Recharge);
    CHECK(r.entry->real_fen == Fen(5000));
    CHECK(r.entry->bonus_fen == Fen(100));
    CHECK(r.entry->ref == c.order->id);
    CHECK(r.entry->idempotency_key.rfind("pay:sandbox:sbx_", 0) == 0);
    REQUIRE(r.order);
    CHECK(r.order->status == payments::Status::Paid);
    CHECK(r.order->provider_txn);
    CHECK(f.m.balance(f.account) == 5000);
    CHECK(f.m.bonus(f.account) == 100);
    CHECK(ledger::audit(*f.m.core).empty());
}

TEST_CASE("payments: a replayed callback changes nothing and is acknowledged as replayed") {
    Fixture f("pay-replay");
    const auto o = f.order(3000);
    const auto cb = f.sandbox->make_callback(f.genuine(o));
    REQUIRE(f.pay.handle_callback("sandbox", cb).status == payments::CallbackStatus::Credited);
    const auto after_first = f.snapshot();
    for (int i = 0; i < 3; ++i) {
        const auto r = f.pay.handle_callback("sandbox", cb);
        CHECK(r.status == payments::CallbackStatus::Replayed);
        CHECK(payments::acknowledge(r.status));
        CHECK(r.entry);
        CHECK(payments::error_code(r.status) == ErrorCode::Duplicate);
    }
    // The sandbox's confirm button twice is the same transaction too.
    const auto o2 = f.order(500);
    REQUIRE(f.pay.sandbox_confirm(o2.id).status == payments::CallbackStatus::Credited);
    const auto after_second = f.snapshot();
    CHECK(f.pay.sandbox_confirm(o2.id).status == payments::CallbackStatus::Replayed);
    CHECK(f.snapshot() == after_second);
    CHECK(after_first.balance == 3000);
    CHECK(after_second.balance == 3500);
    CHECK(after_second.ledger_rows == after_first.ledger_rows + 1);
}

TEST_CASE("payments: a forged or corrupted signature changes nothing") {
    Fixture f("pay-forged");
    const auto o = f.order(3000);
    const auto before = f.snapshot();

    // Signed with another installation's secret.
    payments::SandboxProvider other(std::string(64, 'f'), f.m.clock);
    auto r = f.pay.handle_callback("sandbox", other.make_callback(f.genuine(o)));
    CHECK(r.status == payments::CallbackStatus::BadSignature);
    CHECK_FALSE(payments::acknowledge(r.status));
    CHECK(payments::error_code(r.status) == ErrorCode::Unauthorized);

    // A genuine callback whose amount was raised after signing.
    auto cb = f.sandbox->make_callback(f.genuine(o));
    const auto pos = cb.body.find("\"amount_fen\":3000");
    REQUIRE(pos != std::string::npos);
    cb.body.replace(pos, 17, "\"amount_fen\":9000");
    CHECK(f.pay.handle_callback("sandbox", cb).status == payments::CallbackStatus::BadSignature);

    // No signature, an empty one, a truncated one.
    auto n = f.genuine(o);
    auto bare = f.sandbox->make_callback(n);
    const auto sign_at = bare.body.find(",\"sign\":");
    REQUIRE(sign_at != std::string::npos);
    auto unsigned_body = bare.body.substr(0, sign_at) + "}";
    CHECK(f.pay.handle_callback("sandbox", {unsigned_body, {}}).status == payments::CallbackStatus::Malformed);
    CHECK(f.pay.handle_callback("sandbox", {bare.body.substr(0, sign_at) + ",\"sign\":\"\"}", {}}).status ==
          payments::CallbackStatus::BadSignature);
    CHECK(f.pay.handle_callback("sandbox", {bare.body.substr(0, sign_at) + ",\"sign\":\"abc\"}", {}}).status ==
          payments::CallbackStatus::BadSignature);
    CHECK(f.pay.handle_callback("sandbox", {"not json", {}}).status == payments::CallbackStatus::Malformed);
    CHECK(f.pay.handle_callback("alipay", bare).status == payments::CallbackStatus::UnknownProvider);

    CHECK(f.snapshot() == before);
    CHECK(f.pay.order(o.id)->status == payments::Status::Pending);
}

TEST_CASE("payments: a correctly signed callback that does not match its order changes nothing") {
    Fixture f("pay-mismatch");
    const auto o = f.order(3000);
    const auto other_account = f.m.account(2);
    const auto before = f.snapshot();

    auto n = f.genuine(o);
    n.amount_fen = Fen(2999);
    auto r = f.pay.handle_callback("sandbox", f.sandbox->make_callback(n));
    CHECK(r.status == payments::CallbackStatus::AmountMismatch);
    CHECK(payments::error_code(r.status) == ErrorCode::Conflict);

    n = f.genuine(o);
    n.account_id = other_account;
    CHECK(f.pay.handle_callback("sandbox", f.sandbox->make_callback(n)).status ==
          payments::CallbackStatus::AccountMismatch);

    n = f.genuine(o);
    n.payment_id = "pay_00000000000000000000000000000000";
    r = f.pay.handle_callback("sandbox", f.sandbox->make_callback(n));
    CHECK(r.status == payments::CallbackStatus::UnknownOrder);
    CHECK(payments::error_code(r.status) == ErrorCode::NotFound);

    CHECK(f.snapshot() == before);
    CHECK(f.m.balance(other_account) == 0);

    // Once paid, another transaction for the same order, or the same transaction for another
    // order, is refused.
    REQUIRE(f.pay.handle_callback("sandbox", f.sandbox->make_callback(f.genuine(o))).status ==
            payments::CallbackStatus::Credited);
    const auto paid = f.snapshot();
    n = f.genuine(o);
    n.provider_txn = "sbx_second_payment";
    CHECK(f.pay.handle_callback("sandbox", f.sandbox->make_callback(n)).status ==
          payments::CallbackStatus::OrderMismatch);
    const auto o2 = f.order(3000);
    n = f.genuine(o2);
    n.provider_txn = f.genuine(o).provider_txn;
    CHECK(f.pay.handle_callback("sandbox", f.sandbox->make_callback(n)).status ==
          payments::CallbackStatus::OrderMismatch);
    CHECK(f.snapshot() == paid);
    CHECK(f.pay.order(o2.id)->status == payments::Status::Pending);
    CHECK(ledger::audit(*f.m.core).empty());
}

TEST_CASE("payments: an order of one provider cannot be paid by another provider's callback") {
    Fixture f("pay-provider");
    // A second provider that accepts anything: stands in for a real one in this test.
    struct Lenient final : payments::Provider {
        std::string_view name() const override { return "lenient"; }
        Result<payments::PayParams> create(const payments::Order&) override {
            return payments::PayParams{"lenient", "{}", ""};
        }
        payments::Merchant merchant() const override { return {"", "lenient"}; }
        payments::Verified verify(const payments::CallbackRequest& cb) const override {
            payments::Notification n;
            n.payment_id = cb.body;
            n.provider_txn = "lenient-1";
            n.amount_fen = Fen(3000);
            n.merchant.app_id = "lenient";
            return n;
        }
        Result<payments::TradeQuery> query(const payments::Order&) override {
            return Result<payments::TradeQuery>::failure("not used");
        }
        Result<bool> close(const payments::Order&) override { return true; }
        Result<payments::RefundAccepted> refund(const payments::RefundRequest&) override {
            return Result<payments::RefundAccepted>::failure("not used");
        }
        Result<payments::RefundAccepted> query_refund(const payments::RefundRequest&) override {
            return Result<payments::RefundAccepted>::failure("not used");
        }
    };
    f.providers.add(std::make_shared<Lenient>());
    const auto o = f.order(3000);
    const auto before = f.snapshot();
    CHECK(f.pay.handle_callback("lenient", {o.id, {}}).status == payments::CallbackStatus::OrderMismatch);
    CHECK(f.snapshot() == before);
    CHECK(f.providers.names() == std::vector<std::string>{"lenient", "sandbox"});
}

TEST_CASE("payments: an expired order paid late is still credited; a frozen account still receives paid money") {
    Fixture f("pay-expired");
    const auto o = f.order(1200);
    f.m.clock.advance_ms(3'600'000);
    CHECK(f.pay.expire_pending(f.m.clock.now_ms() - 900'000) == 1);
    CHECK(f.pay.order(o.id)->status == payments::Status::Expired);
    REQUIRE(f.m.ledger->set_frozen(f.account, true) == ledger::Outcome::Applied);
    CHECK(f.pay.sandbox_confirm(o.id).status == payments::CallbackStatus::Credited);
    CHECK(f.m.balance(f.account) == 1200);
}

TEST_CASE("payments: without a sandbox registered (production) the confirm button does nothing") {
    MoneyDb m("pay-production");
    payments::ProviderRegistry none;
    payments::Payments pay(*m.core, none, m.clock);
    CHECK(pay.sandbox_confirm("pay_x").status == payments::CallbackStatus::UnknownProvider);
}

TEST_CASE("payments: the sandbox's signed string is canonical") {
    payments::Notification n;
    n.payment_id = "pay_1";
    n.provider_txn = "t1";
    n.amount_fen = Fen(100);
    n.account_id = 7;
    n.paid_at = 5;
    CHECK(payments::SandboxProvider::canonical(n) ==
          "account_id=7&amount_fen=100&paid_at=5&payment_id=pay_1&provider=sandbox&txn_id=t1");
}

TEST_CASE("payments: the installation secret is created once, private, and then reused") {
    pilehub::test::TempDir dir("pay-secret");
    const auto path = dir.file("secrets/payments.sandbox.key");
    const auto s1 = payments::load_or_create_secret(path);
    CHECK(s1.size() == 64);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(payments::load_or_create_secret(path) == s1);
    std::ofstream(dir.file("short.key")) << "tooshort\n";
    CHECK_THROWS(payments::load_or_create_secret(dir.file("short.key")));
    CHECK_THROWS(payments::SandboxProvider("short"));
}
