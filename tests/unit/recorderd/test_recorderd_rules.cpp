#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/payloads.hpp"
#include "workers/recorderd/recorderd_rules.hpp"
#include "workers/recorderd/recorderd_store.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

using namespace pilehub;
using namespace pilehub::recorderd;

namespace {

/// A temporary SQLite file, removed with its WAL files at the end of the test.
struct TempDb {
    std::string path;
    explicit TempDb(const char* name)
        : path((std::filesystem::temp_directory_path() /
                (std::string("pilehub-recorderd-") + name + "-" + std::to_string(::getpid()) + ".db"))
                   .string()) {
        clean();
    }
    ~TempDb() { clean(); }
    void clean() const {
        for (const char* suffix : {"", "-wal", "-shm"})
            std::filesystem::remove(path + suffix);
    }
};

payloads::Message<payloads::EbikeTele> ebike_tele(std::int64_t boot, std::int64_t seq, EpochMs ts,
                                                  const std::string& sockets, double total = 0) {
    auto m = payloads::decode<payloads::EbikeTele>(fmt::format(
        R"({{"v":1,"ts":{},"boot":{},"seq":{},"data":{{"temp_c":41.26,"total_power_w":{},"rssi_dbm":-70,"sockets":[{}]}}}})",
        ts, boot, seq, total, sockets));
    REQUIRE_MESSAGE(m.ok(), m.error());
    return m.value();
}

payloads::Message<payloads::EbikeFault> ebike_fault(std::int64_t seq, const char* code, bool active, int n = 3) {
    auto m = payloads::decode<payloads::EbikeFault>(fmt::format(
        R"({{"v":1,"ts":1732183200000,"boot":2,"seq":{},"id":"e-2-{}","data":{{"code":"{}","bit":2,"active":{},"n":{}}}}})",
        seq, seq, code, active ? "true" : "false", n));
    REQUIRE_MESSAGE(m.ok(), m.error());
    return m.value();
}

payloads::Message<payloads::EvFaultEvent> ev_fault(std::int64_t seq, std::uint32_t bits, int n = 1) {
    auto m = payloads::decode<payloads::EvFaultEvent>(fmt::format(
        R"({{"v":1,"ts":1732183200000,"boot":2,"seq":{},"id":"e-{}","data":{{"n":{},"fault_bits":{},"faults":[{}]}}}})",
        seq, seq, n, bits, [&] {
            std::string s;
            for (const auto& name : payloads::ev_fault_names(bits))
                s += (s.empty() ? "\"" : ",\"") + name + "\"";
            return s;
        }()));
    REQUIRE_MESSAGE(m.ok(), m.error());
    return m.value();
}

std::vector<std::string> open_codes(db::Database& d, const std::string& dev, int n) {
    std::vector<std::string> out;
    db::Statement st(d, kSqlOpenFaultCodes);
    st.bind_all(dev, n);
    while (st.step())
        out.push_back(st.text(0));
    return out;
}

} // namespace

TEST_CASE("recorder: a socket with a session gives one point of its power curve per report") {
    ManualClock clock;
    TeleRecorder rec(clock);
    auto rows = rec.on_ebike(
        "pile-1",
        ebike_tele(
            1, 10, 1'732'183'200'500,
            R"({"n":1,"st":"charging","sid":"S1","voltage_v":220.04,"current_a":0.8166,"power_w":179.6,"session_energy_wh":12},)"
            R"({"n":2,"st":"idle","power_w":0})",
            179.6));
    CHECK(rows.order == Order::Fresh);
    REQUIRE(rows.sessions.size() == 1);
    const auto& s = rows.sessions[0];
    CHECK(s.session_id == "S1");
    CHECK(s.t == 1'732'183'200'500);
    CHECK(s.power_w == 180);
    CHECK(s.energy_wh == 12);
    CHECK(s.voltage_dv == 2200);
    CHECK(s.current_ma == 817);
    CHECK_FALSE(s.soc_pct);
    REQUIRE(rows.device);
    CHECK(rows.device->device_id == "pile-1");
    CHECK(rows.device->temp_dc == 413);
    CHECK(rows.device->total_power_w == 180);
    CHECK(rows.device->rssi_dbm == -70);
}

TEST_CASE("recorder: a device without a clock (ts 0) is stamped with the receive time") {
    ManualClock clock(1'700'000'000'000);
    TeleRecorder rec(clock);
    auto rows = rec.on_ebike("pile-1", ebike_tele(1, 1, 0, R"({"n":1,"st":"charging","sid":"S1","power_w":100})"));
    REQUIRE(rows.sessions.size() == 1);
    CHECK(rows.sessions[0].t == 1'700'000'000'000);
    CHECK(rows.device->t == 1'700'000'000'000);
}

TEST_CASE("recorder: a report without session energy repeats the last known energy") {
    ManualClock clock;
    TeleRecorder rec(clock);
    rec.on_ebike("pile-1",
                 ebike_tele(1, 1, 1000, R"({"n":1,"st":"charging","sid":"S1","power_w":100,"session_energy_wh":40})"));
    auto rows = rec.on_ebike("pile-1", ebike_tele(1, 2, 2000, R"({"n":1,"st":"charging","sid":"S1","power_w":100})"));
    REQUIRE(rows.sessions.size() == 1);
    CHECK(rows.sessions[0].energy_wh == 40);
    auto first = rec.on_ebike("pile-1", ebike_tele(1, 3, 3000, R"({"n":2,"st":"charging","sid":"S2","power_w":100})"));
    CHECK(first.sessions[0].energy_wh == 0);
}

TEST_CASE("recorder: replayed and out-of-order telemetry is dropped with a reason") {
    ManualClock clock;
    TeleRecorder rec(clock);
    const auto s = R"({"n":1,"st":"charging","sid":"S1","power_w":100})";
    CHECK(rec.on_ebike("pile-1", ebike_tele(2, 5, 1000, s)).order == Order::Fresh);
    auto replay = rec.on_ebike("pile-1", ebike_tele(2, 5, 1000, s));
    CHECK(replay.order == Order::Replay);
    CHECK(replay.sessions.empty());
    CHECK(replay.why.find("replay") != std::string::npos);
    auto old_seq = rec.on_ebike("pile-1", ebike_tele(2, 4, 900, s));
    CHECK(old_seq.order == Order::OutOfOrder);
    CHECK_FALSE(old_seq.device);
    CHECK(rec.on_ebike("pile-1", ebike_tele(1, 99, 800, s)).order == Order::OutOfOrder); // older boot
    CHECK(rec.on_ebike("pile-1", ebike_tele(3, 1, 2000, s)).order == Order::Fresh);      // new boot restarts seq
    CHECK(rec.on_ebike("pile-2", ebike_tele(1, 1, 2000, s)).order == Order::Fresh);      // per device
}

TEST_CASE("recorder: EV guns give curve points with state of charge") {
    ManualClock clock;
    TeleRecorder rec(clock);
    auto m = payloads::decode<payloads::EvTele>(
        R"({"v":1,"ts":5000,"boot":1,"seq":1,"data":{"guns":[{"n":1,"st":"charging","sid":"EV1","energy_register_wh":100000,"session_energy_wh":2500,"power_w":7012.4,"soc_pct":55},{"n":2,"st":"available","energy_register_wh":5,"power_w":0}],"total_power_w":7012.4}})");
    REQUIRE_MESSAGE(m.ok(), m.error());
    auto rows = rec.on_ev("ev-1", *m);
    REQUIRE(rows.sessions.size() == 1);
    CHECK(rows.sessions[0].session_id == "EV1");
    CHECK(rows.sessions[0].power_w == 7012);
    CHECK(rows.sessions[0].energy_wh == 2500);
    CHECK(rows.sessions[0].soc_pct == 55);
    CHECK(rows.device->total_power_w == 7012);
    CHECK_FALSE(rows.device->temp_dc);
}

TEST_CASE("recorder: a device report carries the sockets that still name a session, in whole numbers") {
    struct Row {
        const char* what;
        std::string sockets;
        double total;
        std::vector<svc::ReportSocket> want; ///< empty: no report
        std::int64_t want_total_w;
    };
    const std::vector<Row> table = {
        {"one bound socket, rounded, energy as reported",
         R"({"n":3,"st":"charging","power_w":198.6,"session_energy_wh":16,"sid":"S1"})",
         198.6,
         {{3, "S1", 199, 16}},
         199},
        {"a socket without sid is left out, its power still counts in the device's draw",
         R"({"n":1,"st":"charging","power_w":120,"session_energy_wh":3,"sid":"S1"},{"n":2,"st":"charging","power_w":300})",
         0,
         {{1, "S1", 120, 3}},
         420},
        {"energy left out stays absent (the reader repeats its last)",
         R"({"n":4,"st":"charging","power_w":5,"sid":"S4"})",
         900,
         {{4, "S4", 5, std::nullopt}},
         900},
        {"no socket names a session: no report", R"({"n":1,"st":"idle","power_w":0})", 10, {}, 0},
        {"no sockets at all: no report", "", 0, {}, 0},
    };
    for (const auto& row : table) {
        CAPTURE(row.what);
        const auto m = ebike_tele(1, 1, 5'000, row.sockets, row.total);
        const auto r = device_report("pile-1", m, 7'000);
        if (row.want.empty()) {
            CHECK_FALSE(r);
            continue;
        }
        REQUIRE(r);
        CHECK(r->device_id == "pile-1");
        CHECK(r->device_ts == 5'000);
        CHECK(r->received_at == 7'000);
        CHECK(r->temp_dc == 413); // 41.26 °C
        CHECK(r->sockets == row.want);
        CHECK(r->total_power_w == row.want_total_w);
    }
}

TEST_CASE("recorder: an EV charger's report has one socket per gun with a session") {
    auto m = payloads::decode<payloads::EvTele>(
        R"({"v":1,"ts":0,"boot":1,"seq":1,"data":{"guns":[{"n":1,"st":"charging","sid":"EV1","energy_register_wh":100000,"session_energy_wh":2500,"power_w":7012.4,"soc_pct":55},{"n":2,"st":"available","energy_register_wh":5,"power_w":0}]}})");
    REQUIRE_MESSAGE(m.ok(), m.error());
    const auto r = device_report("ev-1", *m, 9'000);
    REQUIRE(r);
    svc::ReportSocket gun(1, "EV1", 7012, 2500);
    gun.register_wh = 100'000; // the meter, the SoC and the OCPP status go along for sessiond and autostopd
    gun.soc_pct = 55;
    gun.ev_status = payloads::EvGunStatus::Charging;
    CHECK(r->sockets == std::vector<svc::ReportSocket>{gun});
    CHECK(r->total_power_w == 7012); // no total reported: the sum of the guns
    CHECK_FALSE(r->temp_dc);
    CHECK(r->at() == 9'000); // no clock: the receive time
}

TEST_CASE("recorder: fault events, table of (open or not, raise or clear)") {
    FaultTracker f;
    struct Row {
        bool open;
        bool active;
        std::size_t changes;
        FaultChange::Kind kind;
        std::size_t notes;
    };
    const std::vector<Row> table{
        {false, true, 1, FaultChange::Kind::Open, 0},  // raise: opens
        {true, true, 0, FaultChange::Kind::Open, 1},   // raise again: already open, noted
        {true, false, 1, FaultChange::Kind::Close, 0}, // clear: closes
        {false, false, 0, FaultChange::Kind::Close, 1} // clear of nothing: noted
    };
    std::int64_t seq = 1;
    for (const auto& r : table) {
        CAPTURE(r.open);
        CAPTURE(r.active);
        const std::vector<std::string> open =
            r.open ? std::vector<std::string>{"over_current"} : std::vector<std::string>{};
        auto v = f.on_ebike("pile-1", ebike_fault(seq++, "over_current", r.active), open);
        CHECK(v.order == Order::Fresh);
        REQUIRE(v.changes.size() == r.changes);
        if (r.changes)
            CHECK((v.changes[0].kind == r.kind && v.changes[0].code == "over_current" && v.changes[0].n == 3));
        CHECK(v.notes.size() == r.notes);
    }
}

TEST_CASE("recorder: a raise delivered after its clear does not reopen the fault") {
    FaultTracker f;
    CHECK(f.on_ebike("pile-1", ebike_fault(6, "leakage", false), {"leakage"}).changes.size() == 1);
    auto late = f.on_ebike("pile-1", ebike_fault(5, "leakage", true), {});
    CHECK(late.order == Order::OutOfOrder);
    CHECK(late.changes.empty());
    REQUIRE(late.notes.size() == 1);
    // Another fault on the same socket is tracked on its own.
    CHECK(f.on_ebike("pile-1", ebike_fault(4, "over_voltage", true), {}).changes.size() == 1);
}

TEST_CASE("recorder: an EV fault set opens new bits and closes the ones gone") {
    FaultTracker f;
    const auto bits =
        payloads::ev_fault_mask(payloads::EvFault::Leakage) | payloads::ev_fault_mask(payloads::EvFault::Estop);
    auto v = f.on_ev("ev-1", ev_fault(1, bits), {"estop", "door_open"});
    std::vector<std::string> opened, closed;
    for (const auto& c : v.changes)
        (c.kind == FaultChange::Kind::Open ? opened : closed).push_back(c.code);
    CHECK(opened == std::vector<std::string>{"leakage"});
    CHECK(closed == std::vector<std::string>{"door_open"});
    CHECK(ev_fault_code(8) == "over_temp");
    CHECK(ev_fault_code(20) == "bit_20");
}

TEST_CASE("recorder: a cleared fault closes its open record") {
    TempDb tmp("faults");
    db::Database d(tmp.path);
    db::migrate(d, db::core_migrations());
    FaultStore store(d);
    FaultTracker rules;
    auto apply = [&](const payloads::Message<payloads::EbikeFault>& m, EpochMs at) {
        return store.record("pile-1", *m.env.id, m.data.n, at, [&](const std::vector<std::string>& open) {
            return rules.on_ebike("pile-1", m, open).changes;
        });
    };
    const auto raise = ebike_fault(10, "over_current", true);
    auto r1 = apply(raise, 1000);
    REQUIRE(r1);
    CHECK(r1->size() == 1);
    CHECK(open_codes(d, "pile-1", 3) == std::vector<std::string>{"over_current"});
    // The same event again (QoS 1 redelivery, resend after reconnect): nothing changes.
    CHECK_FALSE(apply(raise, 1500));
    auto r2 = apply(ebike_fault(11, "over_current", false), 2000);
    REQUIRE(r2);
    CHECK(r2->size() == 1);
    CHECK(open_codes(d, "pile-1", 3).empty());
    db::Statement st(d, "SELECT count(*), min(opened_at), max(cleared_at), min(msg_id) FROM fault_records");
    REQUIRE(st.step());
    CHECK(st.int64(0) == 1);
    CHECK(st.int64(1) == 1000);
    CHECK(st.int64(2) == 2000);
    CHECK(st.text(3) == "e-2-10");
    // A new raise opens a new record.
    CHECK(apply(ebike_fault(12, "over_current", true), 3000)->size() == 1);
    db::Statement n(d, "SELECT count(*) FROM fault_records WHERE cleared_at IS NULL");
    REQUIRE(n.step());
    CHECK(n.int64(0) == 1);
}

TEST_CASE("recorder: a batch is written in one transaction and read back as a curve; duplicates are ignored") {
    TempDb tmp("batch");
    db::Database d(tmp.path);
    db::migrate(d, db::telemetry_migrations());
    TelemetryStore store(d);
    Batch b;
    for (int i = 0; i < 2500; ++i)
        b.sessions.push_back({"S1", 1000 + i * 1000, 100 + i % 50, i / 10, 2200, std::nullopt, std::nullopt});
    b.devices.push_back({"pile-1", 1000, 400, 100, -70});
    CHECK(store.write(b) == 2501);
    CHECK(store.write(b) == 0); // the same rows again: ignored
    db::Statement st(d, "SELECT t, power_w, energy_wh FROM session_samples WHERE session_id = 'S1' ORDER BY t LIMIT 3");
    std::vector<std::int64_t> power;
    while (st.step())
        power.push_back(st.int64(1));
    CHECK(power == std::vector<std::int64_t>{100, 101, 102});
    CHECK(store.insert_event("pile-1", "e-1", "card_swipe", 5, R"({"v":1})"));
    CHECK_FALSE(store.insert_event("pile-1", "e-1", "card_swipe", 5, R"({"v":1})"));
    CHECK(store.insert_event("pile-2", "e-1", "card_swipe", 5, R"({"v":1})"));
}
