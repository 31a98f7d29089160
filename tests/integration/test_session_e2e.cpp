// Charging sessions end to end with the whole stack: a real Mosquitto, the real pilehub-sim (time
// accelerated with --speed), the real sessiond, autostopd, billingd, recorderd and presenced as
// child processes on real SQLite files (sessions_world.hpp, `full_stack`). Each scenario ends with
// the session row (completed, stop_reason, cost_fen), exactly one `settle:<sid>` ledger entry whose
// debit is cost_fen, a cost equal to what the pricing engine (common/pricing.hpp) makes of the row
// and of the samples recorderd wrote, and a clean ledger audit.
//
// Time: at --speed 600 a pile's rules (full_wait_s, no_load_wait_s, time limits) run 600 times
// faster than the platform's wall-clock rules in autostopd, so the time-based stops are the pile's
// own; every scenario asserts who decided (the `stopping` transition's actor and stop_requested).
#include "tests/integration/sessions_world.hpp"

#include "common/pricing.hpp"
#include "common/tariff.hpp"

#include <algorithm>
#include <iostream>

using namespace pilehub;
using namespace pilehub::test::sessions;

namespace {

constexpr double kSpeed = 600;
// Telemetry every 60 simulated seconds = every 100 ms of wall time at x600.
constexpr std::int64_t kTelePeriodS = 60;

/// The station's tariff, written into the core database as version 1 (in force from epoch 0), the
/// way the API saves it; sessiond records its id in sessions.tariff_id and billingd prices with it.
/// The power tiers are BILLING.md §1's. `ignore_first_s` is 1: telemetry timestamps stay wall-clock
/// under --speed (workers/pilehub-sim/README.md), and the window is measured against them, so a
/// 60 s window would hide every sample of a session that lasts a few wall seconds.
constexpr const char* kE2eTariff = R"({
  "name": "E2E e-bike", "timezone": "Asia/Shanghai", "modes": ["time", "power"],
  "time":  {"fen_per_hour": 100, "options_minutes": [60, 120]},
  "power": {"tiers": [{"up_to_w": 150, "fen_per_hour": 25}, {"up_to_w": 300, "fen_per_hour": 30},
                      {"up_to_w": 500, "fen_per_hour": 45}, {"up_to_w": 1000, "fen_per_hour": 57},
                      {"up_to_w": 2000, "fen_per_hour": 100}],
            "ignore_first_s": 1},
  "free_minutes": 5, "cap": {"max_minutes": 720, "max_fen": 1000},
  "min_start_balance_fen": 200, "stop_below_balance_fen": 0})";

WorldOptions e2e_options(const char* name) {
    WorldOptions o;
    o.name = name;
    o.speed = kSpeed;
    o.tele_period_s = kTelePeriodS;
    o.tariff = kE2eTariff;
    o.full_stack = true;
    return o;
}

/// Milliseconds since `t0` (monotonic).
std::int64_t since(std::int64_t t0) {
    return monotonic_ms() - t0;
}

/// What the pricing engine makes of a settled session: its row (mode, minutes, start, the pile's
/// duration_s, energy, max power, stop reason), the tariff version it started with, and the power
/// curve recorderd wrote to the telemetry database, assembled as docs/wallets.md "Settlement" says.
struct Expected {
    billing::Bill bill;
    std::size_t samples = 0;       ///< recorded samples
    std::int64_t sample_max_w = 0; ///< highest recorded power
    std::int64_t tier_max_w = 0;   ///< highest recorded power after the tariff's ignore_first_s (what picks the tier)
    std::int64_t duration_s = 0;   ///< the pile's count (simulated seconds)
    billing::Tariff tariff;
};

Expected expected_bill(World& w, const std::string& sid) {
    db::Statement q(w.db(), "SELECT s.mode, s.minutes, s.started_at, s.duration_s, s.ended_at, s.energy_wh, "
                            "s.max_power_w, s.stop_reason, t.document, t.station_id, t.version, s.created_at, "
                            "s.stop_requested_at FROM sessions s JOIN tariffs t ON t.id = s.tariff_id WHERE s.id = ?1");
    q.bind(1, sid);
    REQUIRE_MESSAGE(q.step(), "session " << sid << " has no tariff_id");
    CHECK(q.int64(9) == w.station_id());
    CHECK(q.int64(10) == 1);
    auto tariff = billing::parse_tariff(q.text(8));
    REQUIRE_MESSAGE(tariff.ok(), tariff.error());
    auto mode = billing::parse_mode(q.text(0));
    REQUIRE(mode.has_value());
    Expected e;
    e.tariff = *tariff;
    e.duration_s = q.int64(3);
    const auto start_ms = q.int64(2);
    auto stop_ms = e.duration_s > 0 ? start_ms + e.duration_s * 1000 : std::max(q.int64(4), start_ms);
    // A session the platform asked to stop is billed no longer than it had run by then, on the
    // platform's clock (request − creation); reports after that are not billed. (At --speed the pile's
    // duration_s is simulated time, so such a bill is the few wall seconds the session really ran. The
    // energy at the request only prices energy mode, which no scenario uses.)
    const bool cut = !q.is_null(12) && std::max<std::int64_t>(0, q.int64(12) - q.int64(11)) < stop_ms - start_ms;
    if (cut)
        stop_ms = start_ms + std::max<std::int64_t>(0, q.int64(12) - q.int64(11));
    const auto energy_wh = q.int64(5);
    const auto record_max_w = q.int64(6);
    const auto stop_reason = q.text(7);

    std::vector<billing::Sample> samples;
    {
        db::Database tele(w.dir() + "/telemetry.db");
        db::Statement s(tele, "SELECT t, energy_wh, power_w FROM session_samples WHERE session_id = ?1 ORDER BY t");
        s.bind(1, sid);
        while (s.step()) {
            if (cut && s.int64(0) > stop_ms)
                continue;
            billing::Sample x{std::min(s.int64(0), stop_ms), s.int64(1), s.int64(2)};
            e.sample_max_w = std::max(e.sample_max_w, x.power_w);
            samples.push_back(x);
        }
    }
    e.samples = samples.size();
    const std::int64_t ignore_ms = tariff->power ? tariff->power->ignore_first_s * 1000 : 0;
    for (const auto& x : samples)
        if (x.t >= start_ms + ignore_ms)
            e.tier_max_w = std::max(e.tier_max_w, x.power_w);
    const bool reported = std::any_of(samples.begin(), samples.end(),
                                      [&](const billing::Sample& x) { return x.t >= start_ms + ignore_ms; });
    // The record's final reading closes the curve.
    samples.push_back({stop_ms, energy_wh, reported ? 0 : record_max_w});

    billing::PricingInput in;
    in.mode = *mode;
    in.start_ms = start_ms;
    in.stop_ms = stop_ms;
    if (!q.is_null(1))
        in.minutes = q.int64(1);
    in.samples = samples;
    in.stop_reason = stop_reason;
    auto bill = billing::price(*tariff, in);
    REQUIRE_MESSAGE(bill.ok(), bill.error());
    e.bill = *bill;
    return e;
}

/// The `stopping` transition of a session: "actor|reason" (who decided, and why).
std::string stopping_by(World& w, const std::string& sid) {
    return w.text("SELECT actor || '|' || reason FROM session_events WHERE session_id = ?1 AND to_state = 'stopping' "
                  "ORDER BY id LIMIT 1",
                  sid);
}

/// The checks every scenario ends with: completed with `reason`, stopped by `actor`, cost_fen as
/// the pricing engine says of the stored row and curve, one settle:<sid> entry debiting exactly
/// cost_fen. Returns the bill. Also when the stop is triggered by the power in the last reports
/// (overloads): billingd waits for the session's telemetry (billingd.settle_delay_ms, or a stored
/// report at the stop) before pricing, so its bill is the one the stored curve explains.
/// `actors`: who may have stopped it. Where the pile's own protection and autostopd's rule watch the
/// same reading (over-temperature), either may be first; the session still ends once, for that reason.
Expected check_settled(World& w, const std::string& sid, const std::string& reason,
                       const std::vector<std::string>& actors) {
    REQUIRE_MESSAGE(w.wait_state(sid, "completed", 20s), sid << " is " << w.state(sid) << "\n" << w.logs());
    CHECK(w.text("SELECT stop_reason FROM sessions WHERE id = ?1", sid) == reason);
    const auto by = stopping_by(w, sid);
    const auto actor = by.substr(0, by.find('|'));
    CHECK_MESSAGE(std::find(actors.begin(), actors.end(), actor) != actors.end(), sid << " stopped by " << by);
    if (actor == "pile") // nobody asked the pile to stop: it decided on its own
        CHECK(w.text("SELECT ifnull(stop_requested, '') FROM sessions WHERE id = ?1", sid).empty());
    CHECK(w.number("SELECT count(*) FROM session_events WHERE session_id = ?1 AND actor = 'autostopd'", sid) ==
          (actor == "autostopd" ? 1 : 0));

    const auto cost = w.number("SELECT cost_fen FROM sessions WHERE id = ?1", sid);
    CHECK(w.number("SELECT count(*) FROM ledger WHERE idempotency_key = 'settle:' || ?1", sid) == 1);
    CHECK(w.text("SELECT kind FROM ledger WHERE idempotency_key = 'settle:' || ?1", sid) == "charge");
    CHECK(w.number("SELECT -(real_fen + bonus_fen) FROM ledger WHERE idempotency_key = 'settle:' || ?1", sid) == cost);
    CHECK(w.number("SELECT shortfall_fen FROM settlements WHERE session_id = ?1", sid) == 0);
    CHECK(w.number("SELECT priced_fen FROM settlements WHERE session_id = ?1", sid) == cost);

    auto e = expected_bill(w, sid);
    CHECK_MESSAGE(cost == e.bill.cost_fen.value(),
                  sid << " settled at " << cost << " fen; the stored curve prices it at " << e.bill.cost_fen.value()
                      << " fen: " << billing::to_json(e.bill)
                      << "\nbillingd's bill: " << w.text("SELECT bill FROM settlements WHERE session_id = ?1", sid));
    return e;
}

Expected check_settled(World& w, const std::string& sid, const std::string& reason, const std::string& actor) {
    return check_settled(w, sid, reason, std::vector<std::string>{actor});
}

/// No violations of the ledger invariants (BILLING.md §4), with every settled session counted.
void check_audit(World& w) {
    const auto violations = ledger::audit(w.db());
    for (const auto& v : violations)
        MESSAGE("audit: " << v.what);
    CHECK(violations.empty());
}

/// Publishes a cfg/desired for `dev` (the defaults changed by `edit`) as the API does, and waits
/// until the pile reports it applied and autostopd has read it.
void publish_cfg(World& w, const std::string& dev, std::int64_t version,
                 const std::function<void(payloads::EbikeConfig&)>& edit) {
    payloads::EbikeCfgDesired cfg;
    cfg.version = version;
    edit(cfg.values);
    w.publish({topics::cfg_desired(dev),
               payloads::encode(payloads::Message<payloads::EbikeCfgDesired>{
                   payloads::make_envelope(SystemClock::instance().now_ms(), 0, 0), cfg}),
               1, true});
    REQUIRE_MESSAGE(
        w.inbox.wait_for(topics::cfg_reported(dev), fmt::format(R"("version":{},"status":"applied")", version), 5s),
        w.logs());
    const auto seen = fmt::format("limits from cfg/reported version {}", version);
    REQUIRE_MESSAGE(w.eventually([&] { return w.autostopd->log().find(seen) != std::string::npos; }, 5s), w.logs());
}

/// Waits for a session's `stopping` transition on the bus; the ms it took from `t0`.
std::int64_t wait_stopping(World& w, const std::string& sid, std::int64_t t0, std::chrono::milliseconds timeout) {
    const auto m = w.inbox.wait_for(topics::session_state(sid), R"("state":"stopping")", timeout);
    REQUIRE_MESSAGE(m.has_value(), sid << " never stopping\n" << w.logs());
    return since(t0);
}

std::int64_t wait_completed(World& w, const std::string& sid, std::int64_t t0) {
    const auto m = w.inbox.wait_for(topics::session_state(sid), R"("state":"completed")", 20s);
    REQUIRE_MESSAGE(m.has_value(), sid << " never completed\n" << w.logs());
    return since(t0);
}

} // namespace

TEST_CASE("e2e: a power session charges until full, is stopped `full` by the pile and priced by its power tier") {
    const auto t_case = monotonic_ms();
    World w(e2e_options("e2e-full"));
    const auto sid = w.start(w.accounts.at(0), "P1-1", "power");
    REQUIRE_MESSAGE(w.wait_state(sid, "charging", 5s), w.logs());
    // 4 s of wall time = 40 simulated minutes at constant power (the charger's CC phase).
    std::this_thread::sleep_for(4s);
    CHECK(w.state(sid) == "charging");
    w.control("full P1 1");
    const auto t0 = monotonic_ms();
    const auto to_stop = wait_stopping(w, sid, t0, 15s);
    const auto to_done = wait_completed(w, sid, t0);

    const auto e = check_settled(w, sid, "full", "pile");
    REQUIRE(e.bill.tier.has_value());
    // The tier is the one of the highest recorded power, and the charged time is the pile's count.
    CHECK(e.samples >= 10);
    // A power sample in the first ignore_first_s (the inrush) does not pick the tier.
    CHECK(e.bill.max_power_w == e.tier_max_w);
    CHECK(e.tier_max_w >= 150);
    CHECK(e.bill.tier->up_to_w >= e.tier_max_w);
    CHECK(e.bill.charged_s == e.duration_s);
    CHECK(e.duration_s > 40 * 60 + 1800 - 60); // charged 40 min, then full_wait_s 1800 below 5 W
    CHECK(e.bill.cost_fen.value() == e.duration_s * e.bill.tier->fen_per_hour / 3600);
    CHECK(e.bill.cost_fen.value() > 0);
    check_audit(w);
    std::cout << fmt::format(
        "[e2e full] {}: {} samples, max {} W -> tier {} W at {} fen/h; {} s charged -> cost_fen {}. "
        "'full' control -> stopping {} ms (pile's full_wait_s 1800 s / x{} = {} ms), -> completed {} ms; "
        "stopped by {}\n",
        sid, e.samples, e.sample_max_w, e.bill.tier->up_to_w, e.bill.tier->fen_per_hour, e.bill.charged_s,
        e.bill.cost_fen.value(), to_stop, kSpeed, static_cast<int>(1800'000 / kSpeed), to_done, stopping_by(w, sid));
    std::cout << fmt::format("[e2e full] test case took {} ms\n", since(t_case));
}

TEST_CASE("e2e: a socket that draws nothing ends `no_load` and costs 0, with a 0 fen settlement entry") {
    const auto t_case = monotonic_ms();
    World w(e2e_options("e2e-noload"));
    // no_load_wait_s 600 (10 simulated minutes, 1 s of wall time): longer than the tariff's 5 free
    // minutes, so the 0 comes from the no_load rule and not from free_minutes.
    publish_cfg(w, "P1", 8, [](payloads::EbikeConfig& c) { c.no_load_wait_s = 600; });
    w.control("noload P1 2"); // this socket's charger draws nothing, also for its next session
    const auto t0 = monotonic_ms();
    const auto sid = w.start(w.accounts.at(0), "P1-2", "power");
    const auto to_stop = wait_stopping(w, sid, t0, 15s);
    const auto to_done = wait_completed(w, sid, t0);

    const auto e = check_settled(w, sid, "no_load", "pile");
    CHECK(w.number("SELECT cost_fen FROM sessions WHERE id = ?1", sid) == 0);
    CHECK(w.number("SELECT real_fen FROM ledger WHERE idempotency_key = 'settle:' || ?1", sid) == 0);
    CHECK(w.number("SELECT bonus_fen FROM ledger WHERE idempotency_key = 'settle:' || ?1", sid) == 0);
    CHECK(e.bill.waived);
    CHECK(e.duration_s > e.tariff.free_minutes * 60);
    CHECK(std::any_of(e.bill.lines.begin(), e.bill.lines.end(), [](const billing::BillLine& l) {
        return l.kind == billing::LineKind::Waiver && l.text == "no load: free";
    }));
    CHECK(e.bill.charges_exact > ExactFen()); // what the same session would cost without the rule
    CHECK(e.sample_max_w < 5);
    CHECK(w.number("SELECT balance_fen FROM wallets WHERE account_id = ?1", std::to_string(w.accounts.at(0))) == 1000);
    check_audit(w);
    std::cout << fmt::format("[e2e no_load] {}: max {} W over {} samples, {} s on the pile -> cost_fen 0 (waived). "
                             "start -> stopping {} ms (starting 2 s + no_load_wait_s 600 s at x{}), -> completed {} "
                             "ms; stopped by {}\n",
                             sid, e.sample_max_w, e.samples, e.duration_s, to_stop, kSpeed, to_done,
                             stopping_by(w, sid));
    std::cout << fmt::format("[e2e no_load] test case took {} ms\n", since(t_case));
}

TEST_CASE("e2e: a time session runs its chosen minutes, ends `quota_reached` and costs minutes x fen_per_hour / 60") {
    const auto t_case = monotonic_ms();
    World w(e2e_options("e2e-quota"));
    const auto t0 = monotonic_ms();
    const auto sid = w.start(w.accounts.at(0), "P1-3", "time", 60);
    REQUIRE_MESSAGE(w.wait_state(sid, "charging", 5s), w.logs());
    // A full battery does not end a time session (BILLING.md §2): the pile keeps the time running.
    w.control("full P1 3");
    const auto to_stop = wait_stopping(w, sid, t0, 20s);
    const auto to_done = wait_completed(w, sid, t0);

    const auto e = check_settled(w, sid, "quota_reached", "pile");
    CHECK(w.number("SELECT minutes FROM sessions WHERE id = ?1", sid) == 60);
    CHECK(e.duration_s == 3600);
    CHECK(e.bill.charged_s == 3600);
    REQUIRE(e.tariff.time.has_value());
    // minutes × fen_per_hour / 60, with minutes the exact fraction charged_s / 60.
    CHECK(e.bill.cost_fen.value() == e.bill.charged_s * e.tariff.time->fen_per_hour / 3600);
    CHECK(e.bill.cost_fen.value() == 100);
    CHECK(w.number("SELECT balance_fen FROM wallets WHERE account_id = ?1", std::to_string(w.accounts.at(0))) ==
          1000 - e.bill.cost_fen.value());
    check_audit(w);
    std::cout << fmt::format("[e2e quota] {}: 60 min chosen, {} s on the pile x {} fen/h -> cost_fen {}. "
                             "start -> stopping {} ms (3600 s at x{} = {} ms + start), -> completed {} ms; "
                             "stopped by {}\n",
                             sid, e.duration_s, e.tariff.time->fen_per_hour, e.bill.cost_fen.value(), to_stop, kSpeed,
                             static_cast<int>(3600'000 / kSpeed), to_done, stopping_by(w, sid));
    std::cout << fmt::format("[e2e quota] test case took {} ms\n", since(t_case));
}

TEST_CASE("e2e: over-temperature stops every socket of the pile, each session ends `over_temp`") {
    const auto t_case = monotonic_ms();
    World w(e2e_options("e2e-overtemp"));
    std::vector<std::string> sids;
    for (int i = 0; i < 3; ++i)
        sids.push_back(w.start(w.accounts.at(i), fmt::format("P2-{}", i + 1), i == 2 ? "time" : "power",
                               i == 2 ? std::optional<int>(120) : std::nullopt));
    // A session on the other pile is not touched.
    const auto other = w.start(w.accounts.at(3), "P1-1", "power");
    for (const auto& sid : sids)
        REQUIRE_MESSAGE(w.wait_state(sid, "charging", 5s), w.logs());
    REQUIRE(w.wait_state(other, "charging", 5s));
    std::this_thread::sleep_for(1s); // 10 simulated minutes: past free_minutes

    w.control("temp P2 80"); // temp_stop_c is 75
    const auto t0 = monotonic_ms();
    std::vector<std::int64_t> to_stop;
    for (const auto& sid : sids)
        to_stop.push_back(wait_stopping(w, sid, t0, 10s));
    const auto to_done = wait_completed(w, sids.back(), t0);
    std::string costs;
    for (const auto& sid : sids) {
        const auto e = check_settled(w, sid, "over_temp", std::vector<std::string>{"pile", "autostopd"});
        costs += fmt::format(" {}={} fen ({} s)", sid, e.bill.cost_fen.value(), e.duration_s);
    }
    CHECK(w.state(other) == "charging");
    CHECK(w.text("SELECT ifnull(stop_reason, '') FROM sessions WHERE id = ?1", other).empty());
    check_audit(w);
    std::cout << fmt::format("[e2e over_temp] 3 sessions on P2 ended over_temp:{}; 'temp P2 80' -> stopping {} ms, "
                             "-> the last completed {} ms; P1's session still charging\n",
                             costs, fmt::join(to_stop, "/"), to_done);
    std::cout << fmt::format("[e2e over_temp] test case took {} ms\n", since(t_case));
}

TEST_CASE("e2e: device overload stops only the highest socket (`device_overload`); the others keep charging") {
    const auto t_case = monotonic_ms();
    World w(e2e_options("e2e-devoverload"));
    // The operator lowers P1's device limit to 800 W: three ~150-250 W chargers fit, one more at 550 W does not.
    publish_cfg(w, "P1", 7, [](payloads::EbikeConfig& c) { c.device_overload_w = 800; });

    std::vector<std::string> sids;
    for (int i = 0; i < 3; ++i)
        sids.push_back(w.start(w.accounts.at(i), fmt::format("P1-{}", i + 1)));
    for (const auto& sid : sids)
        REQUIRE_MESSAGE(w.wait_state(sid, "charging", 5s), w.logs());
    std::this_thread::sleep_for(1s);

    w.control("overload P1 3 550"); // under socket_overload_w 600; the pile's total goes over 800 W
    const auto t0 = monotonic_ms();
    const auto to_stop = wait_stopping(w, sids[2], t0, 10s);
    const auto to_done = wait_completed(w, sids[2], t0);
    const auto e = check_settled(w, sids[2], "device_overload", "pile");
    CHECK(e.sample_max_w <= 560); // the recorded curve never shows the pile over its limit...
    CHECK(e.bill.tier.has_value());

    // ...and the others charge on.
    std::this_thread::sleep_for(1500ms);
    for (int i = 0; i < 2; ++i) {
        CHECK(w.state(sids[i]) == "charging");
        CHECK(
            w.text("SELECT ifnull(stop_requested, '') || ifnull(stop_reason, '') FROM sessions WHERE id = ?1", sids[i])
                .empty());
        CHECK(w.number("SELECT count(*) FROM ledger WHERE idempotency_key = 'settle:' || ?1", sids[i]) == 0);
    }
    const auto last_power = w.number("SELECT last_power_w FROM sessions WHERE id = ?1", sids[0]);
    CHECK(last_power >= 100);
    check_audit(w);
    std::cout << fmt::format("[e2e device_overload] {} (550 W) ended device_overload, cost_fen {} ({} s, tier {} W); "
                             "{} and {} still charging ({} W); 'overload' -> stopping {} ms, -> completed {} ms; "
                             "stopped by {}\n",
                             sids[2], e.bill.cost_fen.value(), e.duration_s, e.bill.tier->up_to_w, sids[0], sids[1],
                             last_power, to_stop, to_done, stopping_by(w, sids[2]));
    std::cout << fmt::format("[e2e device_overload] test case took {} ms\n", since(t_case));
}

TEST_CASE("e2e: the platform's own rule: autostopd stops a socket over its registered rating (`socket_overload`)") {
    const auto t_case = monotonic_ms();
    World w(e2e_options("e2e-platform"));
    // Socket 4 of P1 is registered for 300 W, below the pile's own 600 W: only the platform sees the
    // overload. autostopd reads the ratings with the limits, again on every cfg/reported.
    w.db().exec("INSERT INTO sockets (device_id, n, socket_overload_w) VALUES ('P1', 4, 300) ON CONFLICT (device_id, "
                "n) DO UPDATE SET socket_overload_w = 300");
    publish_cfg(w, "P1", 9, [](payloads::EbikeConfig&) {});
    const auto sid = w.start(w.accounts.at(0), "P1-4", "power");
    REQUIRE_MESSAGE(w.wait_state(sid, "charging", 5s), w.logs());
    std::this_thread::sleep_for(1s); // 10 simulated minutes: past free_minutes

    w.control("overload P1 4 450");
    const auto t0 = monotonic_ms();
    const auto stop_cmd = w.inbox.wait_for(topics::cmd("P1", "stop_port"), sid, 5s);
    const auto to_cmd = since(t0);
    REQUIRE_MESSAGE(stop_cmd.has_value(), w.logs());
    const auto to_stop = wait_stopping(w, sid, t0, 5s);
    const auto to_done = wait_completed(w, sid, t0);
    CHECK(w.text("SELECT stop_requested FROM sessions WHERE id = ?1", sid) == "socket_overload");
    const auto e = check_settled(w, sid, "socket_overload", "autostopd");
    check_audit(w);
    // autostopd's own measure: decision time after the report arrived.
    const auto log = w.autostopd->log();
    const auto at = log.find("decided ");
    const auto decided = at == std::string::npos ? std::string("?") : log.substr(at, log.find(']', at) - at);
    std::cout << fmt::format("[e2e platform] {}: 450 W > registered 300 W -> stop_reason {}, cost_fen {} ({} s); "
                             "'overload' -> cmd/stop_port at the pile {} ms (incl. up to one 100 ms tele period), "
                             "-> stopping {} ms, -> completed {} ms; autostopd {}; stopped by {}\n",
                             sid, w.text("SELECT stop_reason FROM sessions WHERE id = ?1", sid),
                             e.bill.cost_fen.value(), e.duration_s, to_cmd, to_stop, to_done, decided,
                             stopping_by(w, sid));
    std::cout << fmt::format("[e2e platform] test case took {} ms\n", since(t_case));
}

TEST_CASE("e2e: another pile's telemetry claiming a session changes neither its curve nor its bill, and is logged") {
    World w(e2e_options("e2e-foreign"));
    // P3 is registered but not simulated: the test publishes as P3, with P3's own credentials.
    w.broker().add_user("P3");
    w.broker().reload();
    auto forger = test::connect_client(w.broker().client_options("P3"));
    const auto sid = w.start(w.accounts.at(0), "P1-2", "power");
    REQUIRE_MESSAGE(w.wait_state(sid, "charging", 5s), w.logs());
    std::this_thread::sleep_for(1s); // 10 simulated minutes of P1's own reports

    // P3 claims the session (same socket number, and another one) at 1900 W and 5000 Wh.
    for (int i = 1; i <= 20; ++i) {
        payloads::EbikeTele t;
        payloads::EbikeSocketTele s;
        s.n = i % 2 == 0 ? 2 : 7;
        s.st = payloads::EbikeSocketStatus::Charging;
        s.sid = sid;
        s.power_w = 1900;
        s.session_energy_wh = 5000;
        t.sockets.push_back(s);
        t.total_power_w = 1900;
        const auto env = payloads::make_envelope(SystemClock::instance().now_ms(), 1, i);
        REQUIRE(forger->publish(
            {topics::tele("P3"), payloads::encode(payloads::Message<payloads::EbikeTele>{env, t}), 0, false}));
        std::this_thread::sleep_for(50ms);
    }
    std::this_thread::sleep_for(500ms); // one more recorderd batch
    CHECK(w.state(sid) == "charging");  // autostopd saw no overload of this session

    w.control("full P1 2");
    const auto e = check_settled(w, sid, "full", "pile"); // the bill is the stored curve's
    CHECK(e.samples >= 5);
    CHECK(e.sample_max_w < 1900);
    {
        db::Database tele(w.dir() + "/telemetry.db");
        db::Statement q(tele, "SELECT count(*) FROM session_samples WHERE session_id = ?1 AND "
                              "(power_w >= 1900 OR energy_wh >= 5000)");
        q.bind(1, sid);
        REQUIRE(q.step());
        CHECK(q.int64(0) == 0);
    }
    CHECK(e.bill.max_power_w < 1900);
    check_audit(w);
    // recorderd, the one validator of raw telemetry, dropped the claims and said so (rate-limited);
    // its device reports left them out, so billingd and autostopd never saw them.
    const auto log = w.recorderd->log();
    CHECK_MESSAGE(log.find("dev=P3 sid=" + sid) != std::string::npos, log.substr(0, 4000));
    CHECK(log.find("claims a session") != std::string::npos);
    for (auto* d : {&w.billingd, &w.autostopd})
        CHECK((*d)->log().find("dev=P3") == std::string::npos);
}
