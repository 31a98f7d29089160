// #17 meter and clock anomalies (docs/reliability.md, "Sessions and money"): power sessions on the 20
// simulated sockets, each given one anomaly, with recorderd run under libfaketime a day ahead
// (LD_PRELOAD, FAKETIME_DONT_FAKE_MONOTONIC=1: clock_shift_env). Records published verbatim from the
// gateway user before the pile's own: 30 days and 10 MWh; a start a day in the past (pile clock -1
// day); a start a day ahead (+1 day); no clock at all (`ts` 0, start_ts and stop_ts 0); and
// telemetry whose register goes back, jumps far above rated power x elapsed time, carries `ts` 0 and
// ±1 day. Then every bill stays within rated power x platform time (energy), platform time (duration)
// and the tariff's cap, no amount is negative, each session is settled once and the audit is clean.
// Full: 3 rounds (60 sessions); quick: one (20).
#include "tests/chaos/chaos.hpp"
#include "tests/chaos/sessions.hpp"
#include "tests/integration/sessions_world.hpp"

#include <iostream>

using namespace pilehub;
using namespace pilehub::test::sessions;

namespace {

constexpr int kSockets = 20;
constexpr std::int64_t kDay = 86'400'000;
constexpr std::int64_t kCapFen = 1000;       ///< kTariff's cap.max_fen
constexpr std::int64_t kTopFenPerHour = 100; ///< kTariff's dearest price (time mode; power tiers are cheaper)
constexpr std::int64_t kToleranceS = 60;     ///< sessiond.record_tolerance_s (default)

enum Kind { Huge, PastStart, FutureStart, NoClock, BadTelemetry, kKinds };
constexpr const char* kKindNames[] = {"30 days and 10 MWh", "start -1 day", "start +1 day", "ts 0",
                                      "register back, jump, ts 0, +-1 day"};

std::string record(const std::string& sid, int n, EpochMs ts, EpochMs start, EpochMs stop, std::int64_t duration_s,
                   std::int64_t energy_wh) {
    payloads::Message<payloads::EbikeSessionRecord> m;
    m.env.ts = ts;
    m.env.boot = 1;
    m.env.seq = 1;
    m.env.id = "chaos-" + sid;
    m.env.rid = m.env.id;
    m.data.n = n;
    m.data.sid = sid;
    m.data.reason = payloads::EbikeStopReason::Unplugged;
    m.data.energy_wh = energy_wh;
    m.data.duration_s = duration_s;
    m.data.max_power_w = 20'000;
    m.data.start_ts = start;
    m.data.stop_ts = stop;
    return payloads::encode(m);
}

std::string tele(const std::string& sid, int n, EpochMs ts, std::int64_t seq, std::int64_t energy_wh, double power_w) {
    payloads::Message<payloads::EbikeTele> m;
    m.env.ts = ts;
    m.env.boot = 1'000'000; // after the simulator's boots: not taken for a replay
    m.env.seq = seq;
    payloads::EbikeSocketTele s;
    s.n = n;
    s.st = payloads::EbikeSocketStatus::Charging;
    s.power_w = power_w;
    s.session_energy_wh = energy_wh;
    s.sid = sid;
    m.data.total_power_w = power_w;
    m.data.sockets.push_back(s);
    return payloads::encode(m);
}

} // namespace

TEST_CASE("chaos #17: absurd meters and skewed clocks never bill beyond rated power x platform time or the cap") {
    const int rounds = chaos::scaled(1, 3);
    // x600 (sessiond.device_time_scale 600): a second of platform time is ten minutes of the piles',
    // so a bill within the bounds is more than the tariff's free minutes.
    constexpr std::int64_t scale = 600;
    WorldOptions o{"chaos-meter-clock", scale, kSockets, 1'000'000};
    o.tele_period_s = 60;
    World w(o);
    REQUIRE(w.has_billingd());
    const auto t0 = monotonic_ms();
    // recorderd a day ahead of everyone else (libfaketime; its monotonic clock stays real).
    w.recorderd->stop();
    w.recorderd->set_env(clock_shift_env(86'400));
    w.recorderd->start();
    auto gw = pilehub::test::connect_client(w.broker().client_options("svc.pilehub-ocpp"));

    std::int64_t seq = 0;
    std::vector<std::pair<std::string, int>> sessions; // (sid, kind)
    for (int round = 0; round < rounds; ++round) {
        std::vector<std::string> sids;
        for (int s = 0; s < kSockets; ++s)
            sids.push_back(w.start(w.accounts.at(static_cast<std::size_t>(s)),
                                   fmt::format("P{}-{}", 1 + s / 10, 1 + s % 10), "power"));
        for (const auto& sid : sids)
            REQUIRE_MESSAGE(w.wait_state(sid, "charging"), w.logs());
        std::this_thread::sleep_for(1s);
        for (int s = 0; s < kSockets; ++s) {
            const auto& sid = sids[static_cast<std::size_t>(s)];
            const auto dev = fmt::format("P{}", 1 + s / 10);
            const int n = 1 + s % 10;
            const auto kind = static_cast<Kind>((s + round) % kKinds);
            const auto now = SystemClock::instance().now_ms();
            const auto req = topics::req(dev, "session_record");
            switch (kind) {
            case Huge:
                REQUIRE(gw->publish({req, record(sid, n, now, now - 2000, now, 2'592'000, 9'999'999), 1, false}));
                break;
            case PastStart:
                REQUIRE(gw->publish({req, record(sid, n, now - kDay, now - kDay, now, 86'400, 2'000), 1, false}));
                break;
            case FutureStart:
                REQUIRE(gw->publish(
                    {req, record(sid, n, now + kDay, now + kDay, now + kDay + 3'600'000, 3'600, 300), 1, false}));
                break;
            case NoClock:
                REQUIRE(gw->publish({req, record(sid, n, 0, 0, 0, 7'200, 800), 1, false}));
                break;
            case BadTelemetry:
                for (const auto& [ts, wh, watts] : std::vector<std::tuple<EpochMs, std::int64_t, double>>{
                         {now, 500, 400},                // a register far ahead of the pile's own
                         {now + 100, 100, 400},          // going back
                         {now + 200, 5'000'000, 20'000}, // 5 MWh in 0.1 s
                         {0, 6'000'000, 19'000},         // no clock
                         {now + kDay, 7'000'000, 18'000},
                         {now - kDay, 8'000'000, 17'000}})
                    REQUIRE(gw->publish({topics::tele(dev), tele(sid, n, ts, ++seq, wh, watts), 0, false}));
                break;
            default:
                break;
            }
            sessions.emplace_back(sid, kind);
        }
        std::this_thread::sleep_for(500ms);
        // The piles' own ends (power sessions stop `unplugged`), whose records come after ours.
        for (int s = 0; s < kSockets; ++s)
            w.control(fmt::format("unplug P{} {}", 1 + s / 10, 1 + s % 10));
        const auto done = [&] {
            for (const auto& sid : sids)
                if (w.state(sid) != "completed" && w.state(sid) != "failed")
                    return false;
            return w.sim_pending_records() == 0;
        };
        REQUIRE_MESSAGE(w.eventually(done, 30s), "round " << round << " did not settle\n" << w.logs(60));
    }
    gw->stop();

    // Each bill against what the platform saw: from its creation to its record's commit.
    int bounded = 0, negative = 0, ours = 0;
    std::int64_t max_cost = 0;
    for (const auto& [sid, kind] : sessions) {
        CAPTURE(sid);
        CAPTURE(kKindNames[kind]);
        db::Statement q(w.db(), "SELECT s.duration_s, s.energy_wh, ifnull(s.cost_fen, -1), s.created_at, "
                                "(SELECT min(at) FROM session_events e WHERE e.session_id = s.id AND e.to_state IN "
                                "('settling', 'completed', 'failed')) FROM sessions s WHERE s.id = ?1");
        q.bind(1, sid);
        REQUIRE(q.step());
        const auto duration_s = q.int64(0), energy_wh = q.int64(1), cost = q.int64(2);
        const auto seen_s = (q.int64(4) - q.int64(3)) * scale / 1000 + kToleranceS;
        const auto max_wh = (payloads::kMaxEbikeSocketPowerW * seen_s + 3599) / 3600;
        const auto max_fen = std::min(kCapFen, (kTopFenPerHour * seen_s + 3599) / 3600);
        const bool ok = cost >= 0 && duration_s <= seen_s && energy_wh <= max_wh && cost <= max_fen;
        bounded += ok;
        negative += cost < 0;
        max_cost = std::max(max_cost, cost);
        ours += w.text("SELECT record_msg_id FROM sessions WHERE id = ?1", sid) == "chaos-" + sid;
        CHECK_MESSAGE(ok, fmt::format("{} s, {} Wh, {} fen; bounds {} s, {} Wh, {} fen", duration_s, energy_wh, cost,
                                      seen_s, max_wh, max_fen));
    }
    // No charge entry adds money, no balance below zero.
    negative += static_cast<int>(w.number("SELECT count(*) FROM ledger WHERE kind = 'charge' AND (real_fen > 0 OR "
                                          "bonus_fen > 0)"));
    negative += static_cast<int>(w.number("SELECT count(*) FROM wallets WHERE balance_fen < 0 OR bonus_fen < 0"));
    const auto clamped = w.number("SELECT count(*) FROM incidents WHERE kind = 'record_clamped'");
    const auto t = chaos::tally_sessions(w.db());
    for (const auto& p : t.problems)
        FAIL_CHECK(p);
    const auto audit = chaos::audit(w.dir() + "/pilehub.db");
    CHECK_MESSAGE(audit.ok(), audit.output);
    std::cout << fmt::format("chaos_meter_clock: {} sessions, {} ended by our absurd records, {} records clamped, "
                             "dearest bill {} fen; {} ms\n",
                             sessions.size(), ours, clamped, max_cost, monotonic_ms() - t0);
    const std::string row = "#17 meter and clock anomalies";
    CHECK(chaos::report({row,
                         fmt::format("bills within rated power x platform time and the cap: {}/{} ({} ended by an "
                                     "absurd record, {} records clamped; dearest {} fen)",
                                     bounded, sessions.size(), ours, clamped, max_cost),
                         "all", bounded == static_cast<int>(sessions.size())}));
    CHECK(chaos::report({row, fmt::format("negative amounts: {}", negative), "0", negative == 0}));
    CHECK(chaos::report(
        {row,
         fmt::format("sessions settled exactly once: {}/{}; double settlements {}", t.ended_once, t.total, t.doubles),
         "all; 0", t.ended_once == t.total && t.doubles == 0 && t.unsettled == 0}));
    CHECK(chaos::report({row, fmt::format("audit violations: {}", audit.violations), "0", audit.ok()}));
}
