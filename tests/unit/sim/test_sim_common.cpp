#include "sim_harness.hpp"
#include "workers/pilehub-sim/control.hpp"
#include "workers/pilehub-sim/curves.hpp"
#include "workers/pilehub-sim/device_store.hpp"
#include "workers/pilehub-sim/fleet.hpp"

#include <unistd.h>

#include <filesystem>

using namespace pilehub;
using namespace pilehub::sim;
using namespace pilehub::sim::test;
using RS = payloads::ReplyStatus;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        path = (std::filesystem::temp_directory_path() /
                ("pilehub-sim-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++)))
                   .string();
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    static int& counter() {
        static int n = 0;
        return n;
    }
};

} // namespace

TEST_CASE("sim: boot increases on every connect and survives restarts") {
    TempDir dir;
    {
        FileStore store(dir.path);
        CHECK(store.last_boot("e-0001") == 0);
        CHECK(store.next_boot("e-0001") == 1);
        CHECK(store.next_boot("e-0001") == 2);
        CHECK(store.next_boot("e-0002") == 1);
    }
    // A new simulator process: the counter goes on.
    FileStore again(dir.path);
    CHECK(again.last_boot("e-0001") == 2);
    CHECK(again.next_boot("e-0001") == 3);

    // Through a device: each connect publishes presence with the new boot, and the Will agrees.
    ManualClock clock;
    Settings settings;
    auto dev = make_device(FleetDevice{"e-0001", Kind::EbikePile, 10, "pw", false}, clock, settings, again);
    for (std::int64_t expected = 4; expected <= 5; ++expected) {
        const auto boot = again.next_boot("e-0001");
        CHECK(boot == expected);
        auto will = payloads::decode_presence(dev->will(boot).payload);
        REQUIRE(will.ok());
        CHECK(will->boot == expected);
        dev->connected(boot);
        auto out = dev->take_outbox();
        auto p = payloads::decode_presence(out.at(0).payload);
        REQUIRE(p.ok());
        CHECK(p->online);
        CHECK(p->boot == expected);
        dev->disconnected();
    }
}

TEST_CASE("sim: unacknowledged records survive a restart of the simulator and are resent with the same id") {
    TempDir dir;
    const FleetDevice fd{"e-0001", Kind::EbikePile, 10, "pw", false};
    std::string id;
    {
        Harness h;
        h.store = std::make_shared<FileStore>(dir.path);
        h.make(fd);
        h.connect();
        h.command("start_port", payloads::EbikeStartPort{1, "S-keep", payloads::ChargeLimit::time(1)});
        h.run_for(70'000);
        REQUIRE(h.dev->pending_records() == 1);
        id = h.dev->pending_record_ids().at(0);
    }
    Harness h;
    h.store = std::make_shared<FileStore>(dir.path);
    h.make(fd);
    CHECK(h.dev->pending_records() == 1);
    const auto boot = h.connect();
    CHECK(boot == 2);
    auto rec = h.decoded<payloads::EbikeSessionRecord>(topics::req("e-0001", "session_record"));
    REQUIRE(rec.size() == 1);
    CHECK(*rec[0].env.id == id);
    CHECK(rec[0].env.boot == 2);
    CHECK(rec[0].data.sid == "S-keep");
}

TEST_CASE("sim: the snapshot file reads back what was written") {
    DeviceSnapshot s;
    s.records.push_back({"e-1-2-3", "session_record", R"({"v":1,"data":{"x":"\"quoted\""}})"});
    s.cfg_desired = R"({"v":1,"data":{"version":2}})";
    s.meters_wh = {12345, 0, 99};
    auto back = FileStore::decode(FileStore::encode(s));
    REQUIRE(back.has_value());
    CHECK(*back == s);
    CHECK_FALSE(FileStore::decode("{not json").has_value());
}

TEST_CASE("sim: OCPP chargers in a fleet file are skipped (the simulator speaks MQTT only)") {
    auto ok = parse_fleet(R"({"devices":[
        {"id":"e-0001","kind":"ebike_pile","sockets":10,"password":"p1"},
        {"id":"f-ocpp-001","kind":"ev_charger","guns":2,"protocol":"ocpp1.6",
         "ocpp_url":"ws://127.0.0.1:18090/ocpp/f-ocpp-001","ocpp_password":"k1"},
        {"id":"ev-01","kind":"ev_charger","guns":2,"protocol":"mqtt","password":"p2"}]})");
    REQUIRE_MESSAGE(ok.ok(), ok.error());
    REQUIRE(ok->size() == 2);
    CHECK((*ok)[0].id == "e-0001");
    CHECK((*ok)[1].id == "ev-01");

    struct Bad {
        const char* entries;
        const char* says;
    };
    const Bad bad[] = {
        {R"({"id":"a","kind":"ebike_pile","sockets":2,"protocol":"ocpp1.6","ocpp_password":"k"})", "ev_charger"},
        {R"({"id":"a","kind":"ev_charger","guns":2,"protocol":"ocpp2.0.1","password":"p"})", "ocpp2.0.1"},
        {R"({"id":"a","kind":"ev_charger","guns":2,"protocol":"ocpp1.6","ocpp_password":"k"},
            {"id":"a","kind":"camera","spaces":1,"password":"p"})",
         "twice"},
        {R"({"id":"a","kind":"ev_charger","guns":2,"protocol":"ocpp1.6","ocpp_password":"k"})", "OCPP"},
    };
    for (const auto& b : bad) {
        CAPTURE(b.entries);
        const auto r = parse_fleet(std::string(R"({"devices":[)") + b.entries + "]}");
        REQUIRE_FALSE(r.ok());
        CHECK_MESSAGE(r.error().find(b.says) != std::string::npos, r.error());
    }
}

TEST_CASE("sim: fleet files are parsed and bad entries refused with a clear message") {
    auto ok = parse_fleet(R"({"devices":[
        {"id":"e-0001","kind":"ebike_pile","sockets":10,"password":"p1"},
        {"id":"ev-01","kind":"ev_charger","guns":2,"password":"p2","dc":true},
        {"id":"cam-01","kind":"camera","spaces":4,"password":"p3"},
        {"id":"ev-02","kind":"ev_charger","guns":2,"password":"p4","dc":true,"power_w":120000}]})");
    REQUIRE_MESSAGE(ok.ok(), ok.error());
    REQUIRE(ok->size() == 4);
    CHECK((*ok)[1].power_w == 0); // the default: 60 kW for DC
    CHECK((*ok)[3].power_w == 120'000);
    CHECK((*ok)[0].kind == Kind::EbikePile);
    CHECK((*ok)[0].ports == 10);
    CHECK((*ok)[1].kind == Kind::EvCharger);
    CHECK((*ok)[1].ports == 2);
    CHECK((*ok)[1].dc);
    CHECK((*ok)[2].ports == 4);

    auto dup = parse_fleet(R"({"devices":[{"id":"a","kind":"camera","spaces":1,"password":"p"},
                                          {"id":"a","kind":"camera","spaces":1,"password":"p"}]})");
    REQUIRE_FALSE(dup.ok());
    CHECK(dup.error().find("devices[1]") != std::string::npos);
    CHECK(dup.error().find("twice") != std::string::npos);
    auto kind = parse_fleet(R"({"devices":[{"id":"a","kind":"toaster","sockets":1,"password":"p"}]})");
    REQUIRE_FALSE(kind.ok());
    CHECK(kind.error().find("toaster") != std::string::npos);
    auto id = parse_fleet(R"({"devices":[{"id":"a/b","kind":"camera","spaces":1,"password":"p"}]})");
    REQUIRE_FALSE(id.ok());
    CHECK(id.error().find("a/b") != std::string::npos);
    auto ports = parse_fleet(R"({"devices":[{"id":"a","kind":"ebike_pile","sockets":0,"password":"p"}]})");
    REQUIRE_FALSE(ports.ok());
    CHECK(ports.error().find("sockets") != std::string::npos);
    auto power = parse_fleet(R"({"devices":[{"id":"a","kind":"ev_charger","guns":1,"password":"p","power_w":500}]})");
    REQUIRE_FALSE(power.ok());
    CHECK(power.error().find("power_w") != std::string::npos);
    auto missing = parse_fleet(R"({"devices":[{"id":"a","kind":"ev_charger","password":"p"}]})");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().find("guns") != std::string::npos);
    auto nopw = parse_fleet(R"({"devices":[{"id":"a","kind":"camera","spaces":2,"password":""}]})");
    REQUIRE_FALSE(nopw.ok());
    CHECK(nopw.error().find("password") != std::string::npos);
    CHECK_FALSE(parse_fleet("[]").ok());
    CHECK_FALSE(parse_fleet(R"({"devices":[]})").ok());

    auto only = select_devices(*ok, "cam-01,e-0001");
    REQUIRE(only.ok());
    CHECK(only->size() == 2);
    auto unknown = select_devices(*ok, "nope");
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().find("nope") != std::string::npos);
}

TEST_CASE("sim: control lines are parsed, and bad ones say the expected form") {
    auto c = parse_control("overload e-0001 3 750");
    REQUIRE(c.ok());
    CHECK(c->op == ControlOp::Overload);
    CHECK(c->device == "e-0001");
    CHECK(c->n == 3);
    CHECK(c->watts == 750);
    auto f = parse_control("fault e-0001 0 over_current clear");
    REQUIRE(f.ok());
    CHECK(f->n == 0);
    CHECK(f->code == "over_current");
    CHECK(f->clear);
    auto d = parse_control("  disconnect all 15  # a comment");
    REQUIRE(d.ok());
    CHECK(d->device == "all");
    CHECK(d->seconds == 15);
    auto p = parse_control("plate cam-01 2 京A12345 out");
    REQUIRE(p.ok());
    CHECK(p->plate == "京A12345");
    CHECK(p->clear);
    auto t = parse_control("temp e-0001 auto");
    REQUIRE(t.ok());
    CHECK_FALSE(t->celsius.has_value());
    CHECK(parse_control("speed 60")->speed == 60);
    CHECK(parse_control("swipe e-0001 1 ABC123")->card_uid == "ABC123");
    auto drop = parse_control("drop e-0001 stop_port 2");
    REQUIRE(drop.ok());
    CHECK(drop->op == ControlOp::Drop);
    CHECK(drop->command == "stop_port");
    CHECK(drop->count == 2);
    CHECK_FALSE(parse_control("drop e-0001 stop_port").ok());
    CHECK_FALSE(parse_control("drop e-0001 Stop-Port 1").ok());
    CHECK_FALSE(parse_control("drop e-0001 stop_port -1").ok());

    auto bad = parse_control("overload e-0001 3");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().find("usage: overload <dev> <n> <watts>") != std::string::npos);
    CHECK_FALSE(parse_control("noload e-0001 0").ok());
    CHECK(parse_control("soc ev-01 2 79.5")->soc_pct == 79.5);
    CHECK(parse_control("soc ev-01 2 79.5")->op == ControlOp::Soc);
    CHECK_FALSE(parse_control("soc ev-01 2 101").ok());
    CHECK_FALSE(parse_control("soc ev-01 2").ok());
    CHECK_FALSE(parse_control("swipe e-0001 1 AB-12").ok());
    CHECK_FALSE(parse_control("fault e-0001 1 Bad-Code").ok());
    CHECK_FALSE(parse_control("speed 0").ok());
    CHECK_FALSE(parse_control("jump e-0001").ok());
    CHECK(parse_control("   ").error() == "empty line");
}

TEST_CASE("sim: an e-bike curve holds its current, tapers under 5 W when full, and the meter counts integer Wh") {
    EbikeCurve c(200, 4 * 3600'000, 2.0);
    CHECK(c.power_at(0) == 200);
    CHECK(c.power_at(2 * 3600'000) == 200);
    const double mid = c.power_at(3 * 3600'000);
    CHECK(mid < 200);
    CHECK(mid > 5);
    CHECK(c.power_at(4 * 3600'000 - 1) == doctest::Approx(2.0).epsilon(0.01));
    CHECK(c.power_at(5 * 3600'000) < 5);
    Rng rng(7);
    for (int i = 0; i < 100; ++i) {
        auto t = EbikeCurve::typical(rng);
        CHECK(t.cc_power_w() >= 150);
        CHECK(t.cc_power_w() < 250);
        CHECK(t.full_after_ms() >= 2 * 3600'000);
        CHECK(t.full_after_ms() <= 6 * 3600'000);
    }
    EnergyMeter m;
    m.add(200, 3600'000 / 2);
    CHECK(m.wh() == 100);
    m.add(0.4, 1000); // 0.11 mWh: rounds to nothing, never backwards
    CHECK(m.wh() == 100);
}

TEST_CASE("sim: an arriving car has a 40-100 kWh battery at 10-50 %, drawn from the device's seeded RNG") {
    Rng a(Rng::seed_of("ev-01")), b(Rng::seed_of("ev-01"));
    double smallest = 1e9, largest = 0;
    for (int i = 0; i < 500; ++i) {
        const auto car = EvBattery::arriving(a);
        CHECK(car.capacity_wh() >= 40'000);
        CHECK(car.capacity_wh() < 100'000);
        CHECK(car.soc_pct() >= 10);
        CHECK(car.soc_pct() < 50);
        CHECK(EvBattery::arriving(b).capacity_wh() == car.capacity_wh()); // the same seed, the same cars
        smallest = std::min(smallest, car.capacity_wh());
        largest = std::max(largest, car.capacity_wh());
    }
    CHECK(smallest < 50'000);
    CHECK(largest > 90'000);
}

TEST_CASE("sim: the state of charge rises by energy / battery size; DC tapers linearly above 80 %") {
    EvBattery big(100'000, 20), small(40'000, 20);
    big.charge_wh(10'000);
    small.charge_wh(10'000);
    CHECK(big.soc_pct() == doctest::Approx(30));   // 10 kWh of 100
    CHECK(small.soc_pct() == doctest::Approx(45)); // 10 kWh of 40
    // 120 kW DC: full power up to 80 %, then linearly down to a tenth at 100 %.
    EvBattery car(80'000, 79.9);
    CHECK(car.accepted_power_w(120'000, true) == 120'000);
    car.set_soc_pct(80);
    CHECK(car.accepted_power_w(120'000, true) == doctest::Approx(120'000));
    car.set_soc_pct(90);
    CHECK(car.accepted_power_w(120'000, true) == doctest::Approx(66'000));
    car.set_soc_pct(99);
    CHECK(car.accepted_power_w(120'000, true) == doctest::Approx(17'400));
    car.set_soc_pct(100);
    CHECK(car.accepted_power_w(120'000, true) == 0);
    car.set_soc_pct(150);
    CHECK(car.soc_pct() == 100);
}

TEST_CASE("sim: an EV battery takes full AC power to 95 %, DC tapers from 80 %, nothing when full") {
    EvBattery b(50'000, 50);
    CHECK(b.accepted_power_w(7000, false) == 7000);
    CHECK(b.accepted_power_w(60000, true) == 60000);
    b.charge_wh(17'500); // +35 %
    CHECK(b.soc_pct() == doctest::Approx(85));
    CHECK(b.accepted_power_w(7000, false) == 7000);
    CHECK(b.accepted_power_w(60000, true) < 60000);
    b.charge_wh(100'000);
    CHECK(b.full());
    CHECK(b.accepted_power_w(7000, false) == 0);
}
