// recorderd end to end: a real Mosquitto, recorderd as a child process, devices publishing as their
// own users, the core and telemetry databases on disk.
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/payloads.hpp"
#include "common/registry.hpp"
#include "common/topics.hpp"
#include "tests/support/broker.hpp"
#include "tests/support/daemon.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <tuple>
#include <vector>

using namespace pilehub;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using test::count;
using test::Daemon;
using test::make_temp_dir;
using test::wait_count;

namespace {

constexpr EpochMs kBase = 1'732'183'200'000;

/// Publishes as one device, numbering its uplinks.
class Publisher {
public:
    Publisher(const test::Broker& broker, std::string id, std::int64_t boot = 1)
        : id_(std::move(id)), boot_(boot), client_(test::connect_client(broker.client_options(id_))) {}
    template <typename T> void status(const std::string& topic, const T& data, EpochMs ts, int qos = 0) {
        send(topic, payloads::encode(payloads::Message<T>{payloads::make_envelope(ts, boot_, ++seq_), data}), qos);
    }
    template <typename T> std::string event(const std::string& type, const T& data, EpochMs ts, std::string id = {}) {
        auto env = payloads::make_envelope(ts, boot_, ++seq_);
        env.id = id.empty() ? fmt::format("e-{}-{}", boot_, seq_) : id;
        send(topics::evt(id_, type), payloads::encode(payloads::Message<T>{env, data}), 1);
        return *env.id;
    }
    void send(const std::string& topic, const std::string& payload, int qos) {
        REQUIRE(client_->publish({topic, payload, qos, false}));
    }
    std::int64_t& seq() { return seq_; }
    const std::string& id() const { return id_; }

private:
    std::string id_;
    std::int64_t boot_;
    std::int64_t seq_ = 0;
    std::unique_ptr<mqtt::Client> client_;
};

/// The power of socket 1 at report i: a charge curve (ramp up, plateau, taper, full).
std::int64_t curve_w(int i) {
    return i < 30 ? 6 * i : i < 80 ? 180 : std::max<std::int64_t>(3, 180 - 4 * (i - 80));
}

payloads::EbikeTele pile_report(int i, std::int64_t& energy_wh) {
    energy_wh += curve_w(i) / 60;
    payloads::EbikeTele t;
    t.temp_c = 35.5;
    t.rssi_dbm = -65;
    payloads::EbikeSocketTele s1;
    s1.n = 1;
    s1.st = payloads::EbikeSocketStatus::Charging;
    s1.sid = "R-S1";
    s1.power_w = static_cast<double>(curve_w(i));
    s1.voltage_v = 220.0;
    s1.session_energy_wh = energy_wh;
    payloads::EbikeSocketTele s2;
    s2.n = 2;
    s2.st = payloads::EbikeSocketStatus::Charging;
    s2.sid = "R-S2";
    s2.power_w = 100;
    s2.session_energy_wh = i;
    t.sockets = {s1, s2};
    t.total_power_w = s1.power_w + s2.power_w;
    return t;
}

/// A full pile: every one of 20 sockets charging, for the throughput run.
payloads::EbikeTele busy_report(int i) {
    payloads::EbikeTele t;
    t.temp_c = 40;
    for (int n = 1; n <= 20; ++n) {
        payloads::EbikeSocketTele s;
        s.n = n;
        s.st = payloads::EbikeSocketStatus::Charging;
        s.sid = fmt::format("B-{}", n);
        s.power_w = 100 + n;
        s.voltage_v = 221.5;
        s.current_a = 0.45;
        s.session_energy_wh = i / 10;
        t.sockets.push_back(s);
    }
    t.total_power_w = 2210;
    return t;
}

} // namespace

TEST_CASE("recorder: power curves in batches, faults opened and cleared, events once, and the rate it keeps up") {
    const auto t_start = std::chrono::steady_clock::now();
    test::Broker broker({{"pile-r1", ""}, {"ev-r1", ""}, {"ghost-r9", ""}, {"pile-r2", ""}});
    const auto dir = make_temp_dir("pilehub-recorder");
    {
        db::Database core(dir + "/pilehub.db");
        db::migrate(core, db::core_migrations());
        registry::Store reg(core);
        registry::Station st;
        st.operator_id = reg.ensure_operator("op", 1);
        st.name = "Recorder Garden";
        const auto station = reg.add_station(st, 1);
        for (const auto& [id, kind, ports] : {std::tuple{"pile-r1", registry::DeviceKind::EbikePile, 20},
                                              std::tuple{"pile-r2", registry::DeviceKind::EbikePile, 20},
                                              std::tuple{"ev-r1", registry::DeviceKind::EvCharger, 2}}) {
            registry::Device d;
            d.id = id;
            d.kind = kind;
            d.station_id = station;
            d.ports = ports;
            reg.add_device(d, "hash", 1);
        }
        // The sessions the reports speak for, each on its own socket: recorderd keeps a reading
        // only when it comes from its session's socket (one account each: one live app session).
        std::vector<std::tuple<std::string, std::string, int>> sessions{
            {"R-S1", "pile-r1", 1}, {"R-S2", "pile-r1", 2}, {"R-EV1", "ev-r1", 1}};
        for (int n = 1; n <= 20; ++n)
            sessions.emplace_back(fmt::format("B-{}", n), "pile-r2", n);
        int account = 0;
        for (const auto& [sid, dev, n] : sessions) {
            ++account;
            core.exec(fmt::format("INSERT INTO accounts (id, phone, created_at) VALUES ({0}, '139{0:08}', 0);"
                                  "INSERT INTO sessions (id, account_id, method, device_id, n, station_id, mode, "
                                  "state, created_at, started_at, updated_at) VALUES ('{1}', {0}, 'app', '{2}', {3}, "
                                  "{4}, 'power', 'charging', 0, 0, 0)",
                                  account, sid, dev, n, station));
        }
    }
    test::Inbox status;
    auto monitor =
        test::connect_client(broker.client_options("svc.monitor"), {topics::svc_status("recorderd")}, &status);
    Daemon recorderd("recorderd", broker, dir, {"recorderd.status_ms=200"});
    recorderd.start();

    // --- a power curve: 120 reports of a pile with two sessions, plus every kind of bad input ---
    Publisher pile(broker, "pile-r1");
    std::int64_t energy = 0;
    std::vector<std::int64_t> want_curve;
    for (int i = 0; i < 120; ++i) {
        pile.status(topics::tele("pile-r1"), pile_report(i, energy), kBase + i * 1000);
        want_curve.push_back(curve_w(i));
    }
    // A replay (same boot and seq, same text) and an out-of-order report (an older seq, a new time).
    std::int64_t e2 = 0;
    const auto replay = payloads::encode(
        payloads::Message<payloads::EbikeTele>{payloads::make_envelope(kBase + 119'000, 1, 120), pile_report(119, e2)});
    pile.send(topics::tele("pile-r1"), replay, 0);
    pile.send(topics::tele("pile-r1"),
              payloads::encode(payloads::Message<payloads::EbikeTele>{payloads::make_envelope(kBase + 500'000, 1, 50),
                                                                      pile_report(50, e2)}),
              0);
    pile.send(topics::tele("pile-r1"), R"({"v":1,"ts":5,"boot":1,"seq":500,"data":{"sockets":[{"n":0}]}})", 0);
    pile.send(topics::tele("pile-r1"), "not json at all", 0);
    Publisher ghost(broker, "ghost-r9");
    ghost.status(topics::tele("ghost-r9"), pile_report(1, e2), kBase);

    // An EV charger with state of charge.
    Publisher ev(broker, "ev-r1");
    for (int i = 0; i < 5; ++i) {
        payloads::EvTele t;
        payloads::EvGunTele g;
        g.n = 1;
        g.st = payloads::EvGunStatus::Charging;
        g.sid = "R-EV1";
        g.energy_register_wh = 100'000 + i * 100;
        g.session_energy_wh = i * 100;
        g.power_w = 7000;
        g.soc_pct = 40 + i;
        t.guns.push_back(g);
        t.total_power_w = 7000;
        ev.status(topics::tele("ev-r1"), t, kBase + i * 60'000);
    }

    // --- events: a fault raised (twice: a QoS 1 redelivery) and cleared; a card swipe twice ---
    payloads::EbikeFault f{"over_current", 2, true, 3};
    const auto f1 = pile.event("fault", f, kBase + 130'000, "f-1");
    pile.seq()--; // the very same message again
    pile.event("fault", f, kBase + 130'000, "f-1");
    payloads::EbikeCardSwipe swipe{"A1B2C3", 4};
    pile.event("card_swipe", swipe, kBase + 131'000, "c-1");
    pile.seq()--;
    pile.event("card_swipe", swipe, kBase + 131'000, "c-1");
    pile.send(topics::evt("pile-r1", "card_swipe"),
              R"({"v":1,"ts":5,"boot":1,"seq":900,"data":{"card_uid":"x","n":1}})", 1); // no id
    f.active = false;
    pile.event("fault", f, kBase + 140'000, "f-2");
    payloads::EvFaultEvent evf;
    evf.n = 1;
    evf.fault_bits =
        payloads::ev_fault_mask(payloads::EvFault::Leakage) | payloads::ev_fault_mask(payloads::EvFault::Estop);
    ev.event("fault", evf, kBase + 400'000, "ef-1");
    evf.fault_bits = payloads::ev_fault_mask(payloads::EvFault::Estop);
    ev.event("fault", evf, kBase + 410'000, "ef-2");

    db::Database tele(dir + "/telemetry.db");
    db::Database core(dir + "/pilehub.db");
    CHECK(wait_count(tele, "SELECT count(*) FROM session_samples WHERE session_id = 'R-S1'", 120, 5s) == 120);
    CHECK(wait_count(tele, "SELECT count(*) FROM session_samples WHERE session_id = 'R-EV1'", 5, 5s) == 5);
    CHECK(wait_count(core, "SELECT count(*) FROM fault_records WHERE device_id = 'ev-r1' AND cleared_at IS NOT NULL", 1,
                     5s) == 1);
    std::this_thread::sleep_for(700ms); // one more batch period: anything extra would show now
    CHECK(count(tele, "SELECT count(*) FROM session_samples WHERE session_id = 'R-S1'") == 120);
    CHECK(count(tele, "SELECT count(*) FROM session_samples WHERE session_id = 'R-S2'") == 120);
    CHECK(count(tele, "SELECT count(*) FROM device_samples WHERE device_id = 'pile-r1'") == 120);
    CHECK(count(tele, "SELECT count(*) FROM device_samples WHERE device_id = 'ghost-r9'") == 0);
    {
        // The curve reads back in time order, exactly as reported.
        db::Statement st(
            tele, "SELECT t, power_w, energy_wh, voltage_dv FROM session_samples WHERE session_id = 'R-S1' ORDER BY t");
        std::vector<std::int64_t> got;
        std::int64_t last_t = 0, last_e = -1;
        while (st.step()) {
            got.push_back(st.int64(1));
            CHECK(st.int64(0) > last_t);
            CHECK(st.int64(2) >= last_e);
            CHECK(st.int64(3) == 2200);
            last_t = st.int64(0);
            last_e = st.int64(2);
        }
        CHECK(got == want_curve);
        CHECK(last_t == kBase + 119'000);
        CHECK(last_e == energy);
    }
    {
        db::Statement st(tele,
                         "SELECT soc_pct FROM session_samples WHERE session_id = 'R-EV1' ORDER BY t DESC LIMIT 1");
        REQUIRE(st.step());
        CHECK(st.int64(0) == 44);
    }
    CHECK(count(tele, "SELECT count(*) FROM device_events WHERE device_id = 'pile-r1'") == 3);
    CHECK(count(tele, "SELECT count(*) FROM device_events WHERE device_id = 'ev-r1'") == 2);
    {
        db::Statement st(
            core, "SELECT n, code, bit, opened_at, cleared_at, msg_id FROM fault_records WHERE device_id = 'pile-r1'");
        REQUIRE(st.step());
        CHECK(st.int64(0) == 3);
        CHECK(st.text(1) == "over_current");
        CHECK(st.int64(2) == 2);
        CHECK(st.int64(3) == kBase + 130'000);
        CHECK(st.int64(4) == kBase + 140'000);
        CHECK(st.text(5) == f1);
        CHECK_FALSE(st.step()); // one record: the redelivery opened nothing
    }
    CHECK(
        count(
            core,
            "SELECT count(*) FROM fault_records WHERE device_id = 'ev-r1' AND code = 'estop' AND cleared_at IS NULL") ==
        1);
    CHECK(count(core,
                "SELECT count(*) FROM fault_records WHERE device_id = 'ev-r1' AND code = 'leakage' AND cleared_at = " +
                    std::to_string(kBase + 410'000)) == 1);
    {
        const auto log = recorderd.log();
        CHECK(log.find("dev=pile-r1 telemetry boot 1 seq 120 seen before: replay dropped") != std::string::npos);
        CHECK(log.find("seq 50 is older than boot 1 seq 120: out of order, dropped") != std::string::npos);
        CHECK(log.find("dev=pile-r1 malformed telemetry ignored") != std::string::npos);
        CHECK(log.find("dev=ghost-r9 unknown device") != std::string::npos);
        CHECK(log.find("duplicate event card_swipe id=c-1 ignored") != std::string::npos);
        CHECK(log.find("fault event id=f-1 already processed") != std::string::npos);
        CHECK(log.find("dev=pile-r1 malformed event card_swipe ignored: id is required") != std::string::npos);
        CHECK(log.find("fault over_current on 3 cleared") != std::string::npos);
    }

    // --- throughput: a burst of full-pile reports (20 sessions each) ---
    const int messages = [] {
        const char* v = std::getenv("PILEHUB_RECORDER_BURST");
        return v ? std::atoi(v) : 10'000;
    }();
    const std::int64_t rows_per_message = 21; // 20 curve points + 1 device reading
    Publisher burst(broker, "pile-r2");
    const auto b0 = std::chrono::steady_clock::now();
    for (int i = 0; i < messages; ++i)
        burst.status(topics::tele("pile-r2"), busy_report(i), kBase + i * 10);
    const auto published_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - b0).count();
    const auto want_rows = static_cast<std::int64_t>(messages) * 20;
    const auto got_rows =
        wait_count(tele, "SELECT count(*) FROM session_samples WHERE session_id LIKE 'B-%'", want_rows, 40s);
    const auto done_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - b0).count();
    CHECK(got_rows == want_rows);
    CHECK(count(tele, "SELECT count(*) FROM device_samples WHERE device_id = 'pile-r2'") == messages);

    // The status topic reports queue and lag while it works.
    std::int64_t max_queue = 0, max_lag = 0, batches = 0;
    for (const auto& m : status.messages()) {
        auto doc = json::parse(m.payload);
        if (!doc || !doc->IsObject())
            continue;
        std::string err;
        auto o = json::Object::root(*doc, &err);
        max_queue = std::max(max_queue, o.opt_int("queue").value_or(0));
        max_lag = std::max(max_lag, o.opt_int("lag_ms").value_or(0));
        batches = std::max(batches, o.opt_int("batches").value_or(0));
    }
    CHECK(status.has_payload("\"lag_ms\""));
    CHECK(status.has_payload("\"queue\""));

    // The same rows written bare, in batches of 1000, in this process: what SQLite alone does here.
    double bare_rows_per_s = 0;
    {
        const auto bare_path = dir + "/bare.db";
        db::Database bare(bare_path);
        db::migrate(bare, db::telemetry_migrations());
        db::Statement ins(bare,
                          "INSERT INTO session_samples (session_id, t, power_w, energy_wh, voltage_dv, current_ma) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        const auto t0 = std::chrono::steady_clock::now();
        std::int64_t written = 0;
        while (written < want_rows) {
            db::Transaction tx(bare);
            for (int k = 0; k < 1000 && written < want_rows; ++k, ++written) {
                ins.reset();
                ins.bind_all(fmt::format("B-{}", written % 20 + 1), kBase + written / 20 * 10, std::int64_t{101},
                             std::int64_t{5}, std::int64_t{2215}, std::int64_t{450})
                    .run();
            }
            tx.commit();
        }
        bare_rows_per_s =
            static_cast<double>(written) / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    MESSAGE(fmt::format("recorderd burst: {} telemetry messages x {} rows published in {:.2f} s; all {} rows committed "
                        "{:.2f} s after the first publish: {:.0f} msg/s, {:.0f} rows/s end to end (broker + decode + "
                        "batched SQLite). Status seen: max queue {} msgs, max lag {} ms, {} batches. Bare SQLite in "
                        "this run, batches of 1000: {:.0f} rows/s.",
                        messages, rows_per_message, published_s, got_rows + messages, done_s, messages / done_s,
                        static_cast<double>(got_rows + messages) / done_s, max_queue, max_lag, batches,
                        bare_rows_per_s));

    CHECK(recorderd.stop() == 0);
    const auto log = recorderd.log();
    CHECK(log.find("lag") != std::string::npos);
    CHECK(log.find("ERROR") == std::string::npos);
    const auto total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    MESSAGE(fmt::format("test_recorder took {:.1f} s", total_s));
    if (!std::getenv("PILEHUB_KEEP_TEST_DIRS"))
        fs::remove_all(dir);
}
