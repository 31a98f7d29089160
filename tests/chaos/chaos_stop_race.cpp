// #6 stop race (docs/reliability.md, "Sessions and money"): batches of 20 power sessions (every
// socket of P1 and P2), each hit at once, from its own thread and in a random order, by the rider's
// stop (rpc stop), autostopd's stop (the socket is made to draw 520 W, over its registered 450 W:
// `socket_overload`), the pile's own stop (the plug pulled: `unplugged`), a force-end by an
// operator, the pile's presence lost (sim `disconnect`: Will, presenced, reconnect, records resent)
// and its record delivered twice more (verbatim, from the gateway user). Full: 300 sessions; quick: 40.
// Then: every session ended exactly once, one settlement per completed session, audit clean.
#include "tests/chaos/chaos.hpp"
#include "tests/chaos/sessions.hpp"
#include "tests/integration/sessions_world.hpp"

#include <future>
#include <iostream>
#include <map>
#include <random>

using namespace pilehub;
using namespace pilehub::test::sessions;

namespace {

constexpr int kSockets = 20;

std::string socket_of(int s) {
    return fmt::format("P{}-{}", 1 + s / 10, 1 + s % 10);
}

} // namespace

TEST_CASE("chaos #6: every kind of stop at once on each session ends it exactly once and settles it once") {
    const int batches = chaos::scaled(2, 15);
    const auto seed = static_cast<unsigned>(std::random_device{}());
    std::mt19937 rng(seed);
    std::cout << fmt::format("chaos_stop_race: seed {}, {} sessions\n", seed, batches * kSockets);
    WorldOptions o{"chaos-stop-race", 10, kSockets, 1'000'000};
    o.full_stack = true; // presenced and autostopd
    o.tele_period_s = 2; // autostopd sees a socket's power every 0.2 s
    World w(o);
    REQUIRE(w.has_billingd());
    // Every socket registered for 450 W: a 520 W draw is autostopd's `socket_overload` (from the next
    // report), while the pile's own overload limit (600 W) lets it run. autostopd reads the ratings anew.
    w.db().exec("UPDATE sockets SET socket_overload_w = 450");
    w.autostopd->stop();
    w.autostopd->start();
    const auto t0 = monotonic_ms();
    auto gw = pilehub::test::connect_client(w.broker().client_options("svc.pilehub-ocpp"));

    std::vector<std::string> all;
    int republished = 0;
    for (int b = 0; b < batches; ++b) {
        std::vector<std::string> sids;
        for (int s = 0; s < kSockets; ++s)
            sids.push_back(w.start(w.accounts.at(static_cast<std::size_t>(s)), socket_of(s), "power"));
        // Charging, or already stopped by the pile: an overload that landed on an idle socket in the last
        // batch (after its session had ended) stays for the socket's next session.
        for (const auto& sid : sids)
            REQUIRE_MESSAGE(w.eventually([&] { return w.state(sid) != "starting"; }, 10s), sid << " never started\n"
                                                                                               << w.logs());

        // Everything at once: one thread per session, each firing its stops in a random order.
        std::vector<unsigned> seeds;
        for (int s = 0; s < kSockets; ++s)
            seeds.push_back(static_cast<unsigned>(rng()));
        std::vector<std::future<void>> hits;
        for (int s = 0; s < kSockets; ++s)
            hits.push_back(std::async(std::launch::async, [&, s] {
                std::mt19937 r(seeds[static_cast<std::size_t>(s)]);
                const auto& sid = sids[static_cast<std::size_t>(s)];
                const auto dev = fmt::format("P{}", 1 + s / 10);
                const int n = 1 + s % 10;
                std::vector<std::function<void()>> stops{
                    [&] {
                        w.call("stop",
                               fmt::format(R"({{"session_id":"{}","reason":"user_stop","actor":"rider"}})", sid), 5s);
                    },
                    [&] { w.call("force_end", fmt::format(R"({{"session_id":"{}","operator":"chaos"}})", sid), 5s); },
                    [&] { w.control(fmt::format("overload {} {} 520", dev, n)); },
                    [&] { w.control(fmt::format("unplug {} {}", dev, n)); },
                };
                std::shuffle(stops.begin(), stops.end(), r);
                for (auto& stop : stops) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(r() % 60));
                    stop();
                }
            }));
        // Presence lost in the middle of it: both piles drop (the broker publishes their Wills) and
        // come back after 1 s with their unacknowledged records.
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 120));
        w.control("disconnect P1 1");
        w.control("disconnect P2 1");
        for (auto& h : hits)
            h.get();
        // Each pile record twice more, verbatim, as a QoS 1 redelivery would bring it.
        for (const auto& sid : sids) {
            const auto dev = w.text("SELECT device_id FROM sessions WHERE id = ?1", sid);
            if (const auto rec = w.inbox.wait_for(topics::req(dev, "session_record"), sid, 15s)) {
                for (int k = 0; k < 2; ++k)
                    REQUIRE(gw->publish({rec->topic, rec->payload, 1, false}));
                republished += 2;
            }
        }
        const auto ended = [&] {
            for (const auto& sid : sids) {
                const auto st = w.state(sid);
                if (st != "completed" && st != "failed")
                    return false;
            }
            return w.sim_pending_records() == 0;
        };
        REQUIRE_MESSAGE(w.eventually(ended, 30s), "batch " << b << " did not end\n" << w.logs(60));
        all.insert(all.end(), sids.begin(), sids.end());
    }
    std::this_thread::sleep_for(500ms); // the last redeliveries land
    gw->stop();

    const auto t = chaos::tally_sessions(w.db());
    for (const auto& p : t.problems)
        FAIL_CHECK(p);
    std::map<std::string, int> winners;
    db::Statement q(w.db(), "SELECT ifnull(stop_reason, state) FROM sessions");
    while (q.step())
        winners[q.text(0)]++;
    std::string won;
    for (const auto& [reason, k] : winners)
        won += fmt::format("{}{} {}", won.empty() ? "" : ", ", reason, k);
    // Sessions whose stop autostopd applied first, and sessions presenced suspended (Will) before they ended.
    const auto by_autostopd =
        w.number("SELECT count(DISTINCT session_id) FROM session_events WHERE actor = 'autostopd'");
    const auto suspended =
        w.number("SELECT count(DISTINCT session_id) FROM session_events WHERE to_state = 'suspended'");
    const auto audit = chaos::audit(w.dir() + "/pilehub.db");
    CHECK_MESSAGE(audit.ok(), audit.output);
    std::cout << fmt::format("chaos_stop_race: {} sessions ({} completed, {} failed); ended by: {}; {} records "
                             "delivered again; {} ms\n",
                             t.total, t.completed, t.failed, won, republished, monotonic_ms() - t0);
    const std::string row = "#6 stop race";
    const auto total = static_cast<std::int64_t>(all.size());
    CHECK(chaos::report(
        {row,
         fmt::format("sessions ended exactly once: {}/{} (ended by: {}; stopped first by autostopd {}, suspended "
                     "by presence loss {})",
                     t.ended_once, t.total, won, by_autostopd, suspended),
         fmt::format("{}/{}", total, total), t.ended_once == total && t.total == total}));
    CHECK(chaos::report({row, fmt::format("double settlements: {} (unsettled completed: {})", t.doubles, t.unsettled),
                         "0", t.doubles == 0 && t.unsettled == 0 && t.lost == 0}));
    CHECK(chaos::report({row, fmt::format("audit violations: {}", audit.violations), "0", audit.ok()}));
}
