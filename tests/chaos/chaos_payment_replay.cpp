// #7 payment callback replay (docs/reliability.md, "Sessions and money"): the real pilehub-api in
// production mode against the payment provider stub (tests/stubs/providers.mjs: WeChat Pay v3 and
// Alipay, signing with fresh keys). Many recharge orders, paid from 8 threads at once; each order's
// genuine signed notification is delivered 1-16 times concurrently, some orders first receive forged
// or mismatched notifications (bad signature, another merchant or app, another amount, currency or
// state, an unknown order), and some receive only those. Then: every genuinely paid order credited
// its wallet exactly once, no forged one credited anything, each wallet holds exactly its paid orders,
// and `pilehubctl audit` is clean.
#include "tests/chaos/chaos.hpp"
#include "tests/integration/provider_stub.hpp"

#include <future>
#include <iostream>
#include <random>

using namespace pilehub;
using namespace pilehub::test;
using namespace pilehub::test::api;

namespace {

enum class Plan { Genuine, ForgedThenGenuine, ForgedOnly };

struct Order {
    std::size_t rider = 0;
    std::string channel;
    std::int64_t fen = 0;
    Plan plan = Plan::Genuine;
    int deliveries = 1; ///< of the genuine notification, concurrently
    std::string tamper; ///< the forgery, for the forged plans
    std::string id;     ///< our payment id, once ordered
    std::vector<int> statuses;
};

constexpr const char* kTampers[] = {"signature", "mchid", "appid", "amount", "currency", "state", "unknown_order"};

std::int64_t count(db::Database& d, const char* sql, const std::string& arg) {
    db::Statement q(d, sql);
    q.bind(1, arg);
    return q.step() && !q.is_null(0) ? q.int64(0) : 0;
}

} // namespace

TEST_CASE("chaos #7: signed payment notifications replayed 1-16 times at once, and forged ones, credit each "
          "order exactly once") {
    const int riders_n = chaos::scaled(3, 16);
    const int orders_n = chaos::scaled(24, 400);
    const auto seed = static_cast<unsigned>(std::random_device{}());
    std::mt19937 rng(seed);
    std::cout << fmt::format("chaos_payment_replay: seed {}, {} riders, {} orders\n", seed, riders_n, orders_n);
    const auto t_start = monotonic_ms();
    Prod p("chaos-pay");
    const auto t_stack = monotonic_ms();

    std::vector<std::string> riders;
    for (int i = 0; i < riders_n; ++i) {
        const auto phone = fmt::format("1390000{:04}", i);
        riders.push_back(p.wechat_rider(fmt::format("o-chaos-{}", i), phone));
        p.alipay_rider(fmt::format("20880000{:08}", i), phone); // the same account pays with Alipay too
    }

    const auto t0 = monotonic_ms();
    std::cout << fmt::format("chaos_payment_replay: stack up in {} ms, riders logged in in {} ms\n", t_stack - t_start,
                             t0 - t_stack);
    std::vector<Order> orders(static_cast<std::size_t>(orders_n));
    for (auto& o : orders) {
        o.rider = rng() % riders.size();
        o.channel = rng() % 2 ? "wechat" : "alipay";
        o.fen = 1 + static_cast<std::int64_t>(rng() % 50'000);
        const auto roll = rng() % 10;
        o.plan = roll < 7 ? Plan::Genuine : roll < 9 ? Plan::ForgedThenGenuine : Plan::ForgedOnly;
        o.deliveries = 1 + static_cast<int>(rng() % 16);
        o.tamper = kTampers[rng() % std::size(kTampers)];
    }

    // 8 payers at once, each through its share of the orders.
    constexpr int kPayers = 8;
    std::vector<std::future<void>> payers;
    for (int k = 0; k < kPayers; ++k)
        payers.push_back(std::async(std::launch::async, [&, k] {
            for (std::size_t i = static_cast<std::size_t>(k); i < orders.size(); i += kPayers) {
                auto& o = orders[i];
                o.id = p.order(riders[o.rider], o.channel, o.fen);
                if (o.plan != Plan::Genuine)
                    p.pay(o.channel, o.id, o.tamper, 1 + static_cast<int>(o.fen % 4));
                if (o.plan != Plan::ForgedOnly)
                    o.statuses = p.pay(o.channel, o.id, "none", o.deliveries);
            }
        }));
    for (auto& f : payers)
        f.get();

    auto d = p.st.db();
    std::vector<std::int64_t> expected(riders.size(), 0);
    int paid_orders = 0, once = 0, doubles = 0, forged_credited = 0, notifications = 0;
    for (const auto& o : orders) {
        CAPTURE(o.id);
        const auto entries = count(d, "SELECT count(*) FROM ledger WHERE kind = 'recharge' AND ref = ?1", o.id);
        const auto credited = count(d, "SELECT sum(real_fen) FROM ledger WHERE kind = 'recharge' AND ref = ?1", o.id);
        const auto verdicts =
            count(d, "SELECT count(*) FROM payment_callbacks WHERE payment_id = ?1 AND verdict = 'credited'", o.id);
        notifications += static_cast<int>(o.statuses.size());
        doubles += entries > 1 || verdicts > 1;
        if (o.plan == Plan::ForgedOnly) {
            forged_credited += entries != 0;
            CHECK_MESSAGE(entries == 0, "a forged notification (" << o.tamper << ") credited " << o.id);
            continue;
        }
        ++paid_orders;
        expected[o.rider] += o.fen;
        CHECK(static_cast<int>(o.statuses.size()) == o.deliveries);
        const bool ok = entries == 1 && credited == o.fen && verdicts == 1;
        once += ok;
        CHECK_MESSAGE(ok, o.channel << " order of " << o.fen << " fen delivered " << o.deliveries << " times: "
                                    << entries << " entries, " << credited << " fen, " << verdicts << " credited");
    }
    int wallets_right = 0;
    for (std::size_t r = 0; r < riders.size(); ++r) {
        const auto balance = p.balance(riders[r]);
        wallets_right += balance == expected[r];
        CHECK_MESSAGE(balance == expected[r], "rider " << r);
    }
    const auto audit = chaos::audit(p.st.dir() + "/pilehub.db");
    CHECK_MESSAGE(audit.ok(), audit.output);
    std::cout << fmt::format("chaos_payment_replay: {} orders ({} paid, {} forged only), {} genuine notifications "
                             "delivered, {} ms\n",
                             orders.size(), paid_orders, orders.size() - static_cast<std::size_t>(paid_orders),
                             notifications, monotonic_ms() - t0);
    const std::string row = "#7 payment callback replay";
    CHECK(chaos::report({row,
                         fmt::format("orders credited exactly once: {}/{} ({} notifications, 1-16 per order, "
                                     "concurrent); wallets exact: {}/{}",
                                     once, paid_orders, notifications, wallets_right, riders.size()),
                         "all", once == paid_orders && wallets_right == static_cast<int>(riders.size())}));
    CHECK(chaos::report({row, fmt::format("double credits: {}; forged orders credited: {}", doubles, forged_credited),
                         "0", doubles == 0 && forged_credited == 0}));
    CHECK(chaos::report({row, fmt::format("audit violations: {}", audit.violations), "0", audit.ok()}));
}
