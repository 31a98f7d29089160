// #18 offline pile replay, also #4 duplicate and out-of-order delivery (docs/reliability.md,
// "Sessions and money"): P1 and its twin P2 run the same time sessions (60 or 120 minutes) on the
// same sockets. P1 then drops off the network (sim `disconnect`: its Will, presenced, the sessions
// suspended) while the fleet's clock runs at x1200, so every session runs out on the pile during more
// than an hour offline and its record waits on the pile's flash. Those records (read from the
// simulator's state file) are delivered while P1 is still away, shuffled, each 1-5 times, verbatim
// from the gateway user; on its return P1 sends them once more itself. P2 stays online: its records
// arrive once, in order. Each P1 bill must equal its twin's (a time session's bill depends on its
// record alone), with one settlement per session and a clean audit. Full: 3 rounds of 10 socket
// pairs; quick: one round of 5.
#include "tests/chaos/chaos.hpp"
#include "tests/chaos/sessions.hpp"
#include "tests/integration/sessions_world.hpp"

#include <iostream>
#include <random>

using namespace pilehub;
using namespace pilehub::test::sessions;

namespace {

constexpr std::int64_t kFast = 1200; ///< the fleet's speed while P1 is away

/// The session_record payloads P1 holds unacknowledged (pilehub-sim's devices/P1.json).
std::vector<std::string> pending_records(const std::string& dir) {
    std::vector<std::string> out;
    auto doc = json::parse(slurp(dir + "/sim/devices/P1.json"), 16u * 1024 * 1024);
    if (!doc)
        return out;
    std::string err;
    auto root = json::Object::root(*doc, &err);
    auto recs = root.opt_arr("records", 100000);
    for (std::size_t i = 0; i < recs.size(); ++i) {
        auto o = recs.obj(i);
        if (o.req_str("name", 64) == "session_record")
            out.push_back(o.req_str("payload", 64 * 1024));
    }
    return err.empty() ? out : std::vector<std::string>{};
}

} // namespace

TEST_CASE("chaos #18: an hour of records of an offline pile replayed out of order with duplicates bill as the "
          "single ordered delivery of its twin") {
    const int rounds = chaos::scaled(1, 3);
    const int pairs = chaos::scaled(5, 10);
    const auto seed = static_cast<unsigned>(std::random_device{}());
    std::mt19937 rng(seed);
    std::cout << fmt::format("chaos_offline_replay: seed {}, {} rounds of {} socket pairs\n", seed, rounds, pairs);
    WorldOptions o{"chaos-offline", 10, 20, 1'000'000};
    o.full_stack = true;         // presenced suspends P1's sessions when its Will arrives
    o.device_time_scale = kFast; // hour-long records after seconds are not absurd at this speed
    World w(o);
    REQUIRE(w.has_billingd());
    const auto t0 = monotonic_ms();
    auto gw = pilehub::test::connect_client(w.broker().client_options("svc.pilehub-ocpp"));

    std::vector<std::pair<std::string, std::string>> twins; // (P1 session, P2 session)
    int deliveries = 0, records_replayed = 0;
    for (int round = 0; round < rounds; ++round) {
        std::vector<std::string> p1, p2;
        for (int n = 1; n <= pairs; ++n) {
            const int minutes = n % 2 ? 60 : 120;
            p1.push_back(
                w.start(w.accounts.at(static_cast<std::size_t>(n - 1)), fmt::format("P1-{}", n), "time", minutes));
            p2.push_back(
                w.start(w.accounts.at(static_cast<std::size_t>(10 + n - 1)), fmt::format("P2-{}", n), "time", minutes));
        }
        for (const auto& sid : p1)
            REQUIRE_MESSAGE(w.wait_state(sid, "charging"), w.logs());
        for (const auto& sid : p2)
            REQUIRE_MESSAGE(w.wait_state(sid, "charging"), w.logs());

        // P1 goes away for 10 s of wall time: up to 3 hours at x1200; every session runs out.
        w.control("disconnect P1 10");
        REQUIRE_MESSAGE(w.eventually([&] { return w.state(p1.back()) == "suspended"; }, 5s), w.logs());
        w.control(fmt::format("speed {}", kFast));
        std::vector<std::string> records;
        REQUIRE_MESSAGE(w.eventually(
                            [&] {
                                records = pending_records(w.dir());
                                return static_cast<int>(records.size()) >= pairs;
                            },
                            10s),
                        "P1 holds " << records.size() << " records\n"
                                    << w.logs());
        w.control("speed 10");
        // Its records, each 1-5 times, shuffled, while P1 is still offline.
        std::vector<std::string> burst;
        for (const auto& r : records)
            for (int k = 1 + static_cast<int>(rng() % 5); k > 0; --k)
                burst.push_back(r);
        std::shuffle(burst.begin(), burst.end(), rng);
        for (const auto& r : burst)
            REQUIRE(gw->publish({topics::req("P1", "session_record"), r, 1, false}));
        deliveries += static_cast<int>(burst.size());
        records_replayed += static_cast<int>(records.size());

        const auto done = [&] {
            for (const auto* group : {&p1, &p2})
                for (const auto& sid : *group)
                    if (w.state(sid) != "completed" && w.state(sid) != "failed")
                        return false;
            return true;
        };
        REQUIRE_MESSAGE(w.eventually(done, 20s), "round " << round << " did not settle\n" << w.logs(60));
        // P1 back: it sends its records once more itself, and forgets them when acknowledged.
        REQUIRE_MESSAGE(w.eventually([&] { return w.sim_pending_records() == 0; }, 20s), w.logs());
        // ... and is online again for the platform (presenced's verdict) before the next round starts on it.
        REQUIRE_MESSAGE(
            w.eventually([&] { return w.number("SELECT online FROM device_presence WHERE device_id = 'P1'") == 1; },
                         20s),
            w.logs());
        std::this_thread::sleep_for(500ms); // sessiond has the verdict too
        for (std::size_t i = 0; i < p1.size(); ++i)
            twins.emplace_back(p1[i], p2[i]);
    }
    gw->stop();

    int equal = 0;
    std::string bills;
    for (const auto& [a, b] : twins) {
        bills +=
            fmt::format("{}{}", bills.empty() ? "" : ", ", w.number("SELECT cost_fen FROM sessions WHERE id = ?1", a));
        const auto bill = [&](const std::string& sid) {
            return w.text("SELECT state || ' ' || duration_s || ' s ' || ifnull(cost_fen, '-') || ' fen' FROM "
                          "sessions WHERE id = ?1",
                          sid);
        };
        const bool same = w.number("SELECT cost_fen FROM sessions WHERE id = ?1", a) ==
                              w.number("SELECT cost_fen FROM sessions WHERE id = ?1", b) &&
                          w.number("SELECT cost_fen FROM sessions WHERE id = ?1", a) >= 0 && w.state(a) == "completed";
        equal += same;
        CHECK_MESSAGE(same, "replayed " << a << ": " << bill(a) << "; ordered twin " << b << ": " << bill(b));
    }
    const auto t = chaos::tally_sessions(w.db());
    for (const auto& p : t.problems)
        FAIL_CHECK(p);
    const auto audit = chaos::audit(w.dir() + "/pilehub.db");
    CHECK_MESSAGE(audit.ok(), audit.output);
    std::cout << fmt::format(
        "chaos_offline_replay: {} replayed sessions (bills {} fen), {} records delivered {} times; "
        "{} ms\n",
        twins.size(), bills, records_replayed, deliveries + records_replayed, monotonic_ms() - t0);
    const std::string row = "#18 offline pile replay";
    CHECK(chaos::report({row,
                         fmt::format("bills equal to the single ordered delivery: {}/{} ({} records, {} deliveries "
                                     "shuffled, 1-5 each, then resent by the pile)",
                                     equal, twins.size(), records_replayed, deliveries),
                         "all", equal == static_cast<int>(twins.size()) && !twins.empty()}));
    CHECK(chaos::report(
        {row,
         fmt::format("double settlements: {}; sessions ended exactly once: {}/{}", t.doubles, t.ended_once, t.total),
         "0; all", t.doubles == 0 && t.unsettled == 0 && t.ended_once == t.total && t.lost == 0}));
    CHECK(chaos::report({row, fmt::format("audit violations: {}", audit.violations), "0", audit.ok()}));
}
