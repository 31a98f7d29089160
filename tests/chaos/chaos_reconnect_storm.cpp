// #19: a reconnect storm. N simulated piles are online; the broker is killed with kill -9 and started
// again, and every pile reconnects at once (each device's own back-off, no pacing). Measured: the time
// until presenced has every pile online again with its new boot, whether the retained state (the
// piles' own presence and presenced's verdicts, as a fresh subscriber reads them) says so too, the
// connects refused or failed on the way, and the broker's "messages are being dropped" lines.
#include "tests/bench/platform.hpp"
#include "tests/chaos/chaos.hpp"
#include "tests/chaos/fleet_world.hpp"
#include "tests/chaos/net_checks.hpp"

#include <doctest/doctest.h>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <iostream>
#include <map>
#include <sstream>
#include <thread>

using namespace pilehub;
using namespace pilehub::chaos;
using namespace std::chrono_literals;

namespace {

/// Per device, the highest boot presenced has said online with (verdict) or the device itself has
/// (own), among `seen`.
std::map<std::string, std::int64_t> online(const std::vector<PresenceSeen>& seen, bool verdict) {
    std::map<std::string, std::int64_t> boots;
    for (const auto& p : seen)
        if (p.verdict == verdict && p.online)
            boots[p.device] = std::max(boots[p.device], p.boot);
    return boots;
}

/// How many of `devices` are online in `now` with a boot above the one in `before`.
std::size_t back(const std::vector<std::string>& devices, const std::map<std::string, std::int64_t>& before,
                 const std::map<std::string, std::int64_t>& now) {
    std::size_t n = 0;
    for (const auto& d : devices) {
        const auto it = now.find(d);
        const auto b = before.find(d);
        n += it != now.end() && (b == before.end() || it->second > b->second);
    }
    return n;
}

/// The wall clock as the daemons' log lines begin (2026-12-07T21:43:30.020Z).
std::string iso_now() {
    const auto now = std::chrono::system_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(now)), ms);
}

/// Lines of `log` at or after `since` (ISO time prefix) that contain `needle`.
int lines_since(const std::string& log, const std::string& since, const std::string& needle) {
    std::istringstream in(log);
    int n = 0;
    for (std::string line; std::getline(in, line);)
        n += line.size() >= since.size() && line.compare(0, since.size(), since) >= 0 &&
             line.find(needle) != std::string::npos;
    return n;
}

} // namespace

TEST_CASE("#19 reconnect storm") {
    const int devices = scaled(300, 2000);
    const auto t_begin = monotonic_ms();
    FleetWorld w(FleetOptions{.name = "storm",
                              .piles = devices,
                              .sockets = 2,
                              .sims = scaled(1, 2),
                              .speed = 1,
                              .tele_period_s = 60,
                              .connect_rate = 2000,
                              .sessions = false});
    const auto& piles = w.piles();
    REQUIRE_MESSAGE(FleetWorld::eventually(
                        [&] {
                            return back(piles, {}, online(presence_seen(w.inbox.messages()), true)) == piles.size();
                        },
                        120s),
                    "not every pile came online\n"
                        << w.logs());
    const auto before = online(presence_seen(w.inbox.messages()), true);
    std::cout << fmt::format("storm: {} devices online in {} ms\n", devices, monotonic_ms() - t_begin);

    w.broker().kill9();
    std::this_thread::sleep_for(300ms);
    const auto mark = w.inbox.messages().size();
    w.broker().start_again();
    const auto up_iso = iso_now();
    const auto t0 = monotonic_ms();
    std::int64_t half_ms = -1, all_ms = -1;
    FleetWorld::eventually(
        [&] {
            const auto n = back(piles, before, online(presence_seen(w.inbox.messages(), mark), true));
            if (half_ms < 0 && n * 2 >= piles.size())
                half_ms = monotonic_ms() - t0;
            if (n == piles.size())
                all_ms = monotonic_ms() - t0;
            return all_ms >= 0;
        },
        120s);
    const auto n_back = back(piles, before, online(presence_seen(w.inbox.messages(), mark), true));
    CHECK_MESSAGE(all_ms >= 0, n_back << " of " << piles.size() << " back within 120 s\n" << w.logs());

    // The retained state as a newcomer (e.g. the API after a restart) reads it.
    test::Inbox retained;
    auto monitor = test::connect_client(w.broker().client_options("svc.monitor"),
                                        {topics::any_device_presence(), topics::any_device::presence()}, &retained);
    bool retained_ok = FleetWorld::eventually(
        [&] {
            const auto seen = presence_seen(retained.messages());
            return back(piles, before, online(seen, true)) == piles.size() &&
                   back(piles, before, online(seen, false)) == piles.size();
        },
        20s);
    const auto seen = presence_seen(retained.messages());
    const auto retained_verdicts = back(piles, before, online(seen, true));
    const auto retained_own = back(piles, before, online(seen, false));
    monitor->stop();
    CHECK(retained_ok);
    CHECK(w.presenced->running());

    const auto broker_log = w.broker().log();
    const int refused = lines_since(broker_log, up_iso.substr(0, 19), "not authorised");
    std::string sim_logs;
    for (int g = 0; g < w.options().sims; ++g)
        sim_logs += test::slurp(fmt::format("{}/sim{}.log", w.dir(), g));
    const int failed = lines_since(sim_logs, up_iso, "failed");
    const int drops = bench::broker_drop_lines(w.broker());
    const auto online_now = w.number("SELECT count(*) FROM device_presence WHERE online = 1");
    CHECK(online_now == devices);
    const auto audit = chaos::audit(w.core_db());
    CHECK_MESSAGE(audit.ok(), audit.output);
    std::cout << fmt::format("storm: {} ms in all\n", monotonic_ms() - t_begin);

    CHECK(
        report({"#19 reconnect storm",
                fmt::format("{} devices after a broker kill -9: half online again (presenced) in {} ms, all in {} ms; "
                            "retained: {} verdicts and {} own presences online; connects refused {}, failed {}; "
                            "broker drop lines {}",
                            devices, half_ms, all_ms, retained_verdicts, retained_own, refused, failed, drops),
                "all back ≤ 60 s, retained state right for all, 0 refused, 0 drop lines",
                all_ms >= 0 && all_ms <= 60000 && retained_ok && refused == 0 && drops == 0}));
}
