// Cameras with traffic: plate colours, lock retries and jams, cars that arrive, park, plug in at the
// space's EV gun and leave (CONTRACT A.5 camera, A.6 retries, E).
#include "common/parking.hpp"
#include "sim_harness.hpp"
#include "workers/pilehub-sim/camera.hpp"
#include "workers/pilehub-sim/control.hpp"
#include "workers/pilehub-sim/ev_charger.hpp"
#include "workers/pilehub-sim/fleet.hpp"

#include <functional>
#include <map>

using namespace pilehub;
using namespace pilehub::sim;
using namespace pilehub::sim::test;
using payloads::LockAction;
using payloads::LockStatus;
using payloads::PlateColor;
using payloads::PlateDirection;
using RS = payloads::ReplyStatus;

namespace {

Camera& cam(Harness& h) {
    return dynamic_cast<Camera&>(*h.dev);
}

/// Moves the clock a second at a time until `done`, at most `max_ms`; whether it happened.
bool run_until(Harness& h, const std::function<bool()>& done, std::int64_t max_ms) {
    for (std::int64_t t = 0; t < max_ms && !done(); t += 1000)
        h.run_for(1000);
    return done();
}

std::size_t utf8_chars(const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s)
        n += (c & 0xC0) != 0x80 ? 1 : 0;
    return n;
}

/// A plate of the traffic: province, letter, then 5 characters, or for new-energy colours D/F and 5 more.
void check_plate(const std::string& plate, PlateColor color) {
    CAPTURE(plate);
    if (parking::is_nev(color)) {
        CHECK(utf8_chars(plate) == 8);
        const char after_letter = plate.at(4); // a province is 3 bytes of UTF-8, then the city letter
        CHECK((after_letter == 'D' || after_letter == 'F'));
    } else {
        CHECK(utf8_chars(plate) == 7);
    }
}

std::vector<payloads::Message<payloads::CameraPlate>> plates(const Harness& h, int space, PlateDirection dir) {
    std::vector<payloads::Message<payloads::CameraPlate>> r;
    for (auto& p : h.decoded<payloads::CameraPlate>(topics::evt(h.dev->id(), "plate")))
        if (p.data.space == space && p.data.direction == dir)
            r.push_back(std::move(p));
    return r;
}

/// Index in everything published of the first message on `topic` containing `needle` (npos if none).
std::size_t first_index(const Harness& h, const std::string& topic, std::string_view needle) {
    for (std::size_t i = 0; i < h.out.size(); ++i)
        if (h.out[i].topic == topic && h.out[i].payload.find(needle) != std::string::npos)
            return i;
    return std::string::npos;
}

} // namespace

TEST_CASE("sim parking: a plate line may name the colour; without one 8 characters are green, others blue") {
    struct Row {
        const char* line;
        std::optional<PlateColor> parsed;
        PlateColor published;
    };
    const Row rows[] = {
        {"plate cam-c 1 京A12345 in", std::nullopt, PlateColor::Blue},
        {"plate cam-c 1 粤BD12345 in", std::nullopt, PlateColor::Green},
        {"plate cam-c 1 京A12345 in yellow", PlateColor::Yellow, PlateColor::Yellow},
        {"plate cam-c 1 京A12345 out white", PlateColor::White, PlateColor::White},
        {"plate cam-c 1 京A12345 in black", PlateColor::Black, PlateColor::Black},
        {"plate cam-c 1 京A12345 in blue", PlateColor::Blue, PlateColor::Blue},
        {"plate cam-c 1 粤BD12345 in green", PlateColor::Green, PlateColor::Green},
        {"plate cam-c 1 粤BD12345 in yellow_green", PlateColor::YellowGreen, PlateColor::YellowGreen},
        {"plate cam-c 1 粤BD12345 in blue", PlateColor::Blue, PlateColor::Blue},
    };
    for (const auto& r : rows) {
        CAPTURE(r.line);
        auto c = parse_control(r.line);
        REQUIRE_MESSAGE(c.ok(), c.error());
        CHECK(c->plate_color == r.parsed);
        Harness h(Kind::Camera, 2, "cam-c");
        h.connect();
        CHECK(h.control(r.line) == "");
        auto p = h.decoded<payloads::CameraPlate>(topics::evt("cam-c", "plate"));
        REQUIRE(p.size() == 1);
        CHECK(p[0].data.color == r.published);
    }
    for (const char* bad : {"plate cam-c 1 京A12345 in purple", "plate cam-c 1 京A12345 in unknown",
                            "plate cam-c 1 京A12345 in green extra", "plate cam-c 1 京A12345 sideways green"}) {
        CAPTURE(bad);
        auto c = parse_control(bad);
        REQUIRE_FALSE(c.ok());
        CHECK(c.error().find("usage: plate <cam> <space> <plate> in|out [blue|") != std::string::npos);
    }
    CHECK(control_usage().find("yellow_green") != std::string_view::npos);
}

TEST_CASE("sim parking: traffic lines name a camera or all, on or off") {
    auto on = parse_control("traffic cam-01 on");
    REQUIRE(on.ok());
    CHECK(on->op == ControlOp::Traffic);
    CHECK(on->device == "cam-01");
    CHECK_FALSE(on->clear);
    auto all = parse_control("traffic all off");
    REQUIRE(all.ok());
    CHECK(all->device == "all");
    CHECK(all->clear);
    CHECK_FALSE(parse_control("traffic cam-01").ok());
    CHECK_FALSE(parse_control("traffic cam-01 maybe").ok());
    Harness pile;
    CHECK(pile.control("traffic e-0001 on") == "traffic is for cameras");
}

TEST_CASE("sim parking: the same rid again while its lock moves is answered once, when the move ends, and the "
          "same answer is repeated later; another rid is busy") {
    Harness h(Kind::Camera, 2, "cam-r");
    h.connect();
    const auto reply_topic = topics::cmd_reply("cam-r", "lock");
    const auto rid = h.command("lock", payloads::CameraLockCmd{1, LockAction::Raise});
    h.run_for(500, 100);
    h.command("lock", payloads::CameraLockCmd{1, LockAction::Raise}, rid); // the platform's retry, fresh exp
    CHECK(h.count(reply_topic) == 0);
    const auto other = h.command("lock", payloads::CameraLockCmd{1, LockAction::Lower});
    auto busy = h.reply_to<payloads::LockState>("lock", other);
    CHECK(busy.data.status == RS::Busy);
    CHECK(busy.data.code == ErrorCode::SocketBusy);
    h.run_for(5'000, 100);
    auto replies = h.on(reply_topic);
    REQUIRE(replies.size() == 2); // busy for the other rid, one final answer for ours
    auto final_reply = h.reply_to<payloads::LockState>("lock", rid);
    CHECK(final_reply.data.status == RS::Ok);
    CHECK(final_reply.data.data->st == LockStatus::Raised);
    // Later the same rid gets that very answer again, and the lock does not move again.
    h.command("lock", payloads::CameraLockCmd{1, LockAction::Raise}, rid);
    replies = h.on(reply_topic);
    REQUIRE(replies.size() == 3);
    CHECK(replies[2].payload == replies[1].payload);
    CHECK(h.decoded<payloads::CameraLockEvent>(topics::evt("cam-r", "lock")).size() == 2); // moving, raised
    // The rid that was busy ran nothing: sent again now that the lock is still, it lowers the lock.
    h.command("lock", payloads::CameraLockCmd{1, LockAction::Lower}, other);
    h.run_for(5'000, 100);
    auto lowered = h.on(reply_topic).back();
    const auto last = payloads::decode<payloads::Reply<payloads::LockState>>(lowered.payload);
    REQUIRE(last.ok());
    CHECK(*last.value().env.rid == other);
    CHECK(last.value().data.status == RS::Ok);
    CHECK(last.value().data.data->st == LockStatus::Lowered);
}

TEST_CASE("sim parking: a retry that comes after a reconnect, while the lock still moves, is not busy") {
    Harness h(Kind::Camera, 1, "cam-rr");
    h.connect();
    const auto rid = h.command("lock", payloads::CameraLockCmd{1, LockAction::Raise});
    h.dev->disconnected();
    h.connect();
    h.command("lock", payloads::CameraLockCmd{1, LockAction::Raise}, rid);
    CHECK(h.count(topics::cmd_reply("cam-rr", "lock")) == 0);
    h.run_for(5'000, 100);
    REQUIRE(h.count(topics::cmd_reply("cam-rr", "lock")) == 1);
    CHECK(h.reply_to<payloads::LockState>("lock", rid).data.status == RS::Ok);
}

TEST_CASE("sim parking: --lock-jam-pct 100 jams every move, 0 never") {
    for (int pct : {0, 100}) {
        CAPTURE(pct);
        Harness h;
        h.settings.lock_jam_pct = pct;
        h.make(FleetDevice{"cam-j", Kind::Camera, 1, "pw", false});
        h.connect();
        int faults = 0;
        for (int i = 0; i < 20; ++i) {
            const auto rid =
                h.command("lock", payloads::CameraLockCmd{1, i % 2 ? LockAction::Lower : LockAction::Raise});
            h.run_for(5'000, 500);
            auto r = h.reply_to<payloads::LockState>("lock", rid);
            if (r.data.status == RS::Failed) {
                CHECK(r.data.code == ErrorCode::SocketFaulted);
                CHECK(r.data.data->st == LockStatus::Fault);
                ++faults;
            } else {
                CHECK(r.data.status == RS::Ok);
            }
        }
        CHECK(faults == (pct == 100 ? 20 : 0));
    }
}

TEST_CASE("sim parking: with traffic on a jammed lock is repaired to unknown after 10 simulated minutes; without, "
          "it stays in fault") {
    for (bool traffic : {true, false}) {
        CAPTURE(traffic);
        Harness h;
        h.settings.lock_jam_pct = 100;
        h.settings.parking_traffic = traffic;
        h.make(FleetDevice{"cam-f", Kind::Camera, 1, "pw", false});
        CHECK(cam(h).traffic() == traffic);
        h.connect();
        h.command("lock", payloads::CameraLockCmd{1, LockAction::Raise});
        h.run_for(5'000);
        REQUIRE(cam(h).lock_status(1) == LockStatus::Fault);
        h.run_for(Camera::kRepairMs - 10'000);
        CHECK(cam(h).lock_status(1) == LockStatus::Fault);
        h.run_for(10'000);
        CHECK(cam(h).lock_status(1) == (traffic ? LockStatus::Unknown : LockStatus::Fault));
    }
}

TEST_CASE("sim parking: with traffic a free space gets a car that parks, stays and leaves: plate in and out, "
          "occupancy, retained state") {
    Harness h(Kind::Camera, 2, "cam-t");
    h.connect();
    CHECK_FALSE(cam(h).traffic());
    h.run_for(6 * 3600'000, 60'000);
    CHECK(h.count(topics::evt("cam-t", "plate")) == 0); // no traffic, no cars
    CHECK(h.control("traffic cam-t on") == "");
    REQUIRE(run_until(
        h, [&] { return cam(h).has_car(1); }, 6 * 3600'000));
    auto in = plates(h, 1, PlateDirection::In);
    REQUIRE(in.size() == 1);
    const auto plate = in[0].data.plate;
    check_plate(plate, in[0].data.color);
    REQUIRE(in[0].data.image_url);
    CHECK(in[0].data.image_url->find("cam-t") != std::string::npos);
    auto space = h.decoded<payloads::CameraSpace>(topics::evt("cam-t", "space"));
    REQUIRE(!space.empty());
    CHECK(space.back().data.occupied);
    CHECK(space.back().data.plate == plate);
    auto st = h.on(topics::space_state("cam-t", 1));
    REQUIRE(!st.empty());
    CHECK(st.back().retained);
    CHECK(payloads::decode<payloads::CameraSpaceState>(st.back().payload)->data.plate == plate);
    // The lock is down: the car parks and stays.
    REQUIRE(run_until(
        h, [&] { return cam(h).car_parked(1); }, Camera::kParkMs + 1000));
    REQUIRE(run_until(
        h, [&] { return !cam(h).has_car(1); }, 24 * 3600'000));
    auto out = plates(h, 1, PlateDirection::Out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].data.plate == plate);
    CHECK(out[0].data.color == in[0].data.color);
    CHECK_FALSE(cam(h).occupied(1));
    space = h.decoded<payloads::CameraSpace>(topics::evt("cam-t", "space"));
    CHECK_FALSE(space.back().data.occupied);
    // The space gets its next car; traffic off stops new arrivals, a car already there finishes its visit.
    REQUIRE(run_until(
        h, [&] { return cam(h).has_car(1); }, 24 * 3600'000));
    CHECK(h.control("traffic cam-t off") == "");
    REQUIRE(run_until(
        h, [&] { return !cam(h).has_car(1) && !cam(h).has_car(2); }, 48 * 3600'000));
    const auto seen = h.count(topics::evt("cam-t", "plate"));
    h.run_for(24 * 3600'000, 60'000);
    CHECK(h.count(topics::evt("cam-t", "plate")) == seen);
}

TEST_CASE("sim parking: traffic plates follow the colour mix and the plate formats") {
    Harness h;
    h.settings.parking_traffic = true;
    h.settings.car_gap_s = 60;
    h.settings.car_stay_s = 60;
    h.make(FleetDevice{"cam-mix", Kind::Camera, 16, "pw", false});
    h.connect();
    h.run_for(24 * 3600'000, 5'000);
    std::map<PlateColor, int> by_color;
    int total = 0;
    for (const auto& p : h.decoded<payloads::CameraPlate>(topics::evt("cam-mix", "plate"))) {
        if (p.data.direction != PlateDirection::In)
            continue;
        check_plate(p.data.plate, p.data.color);
        ++by_color[p.data.color];
        ++total;
    }
    REQUIRE(total > 2000);
    auto share = [&](PlateColor c) { return 100.0 * by_color[c] / total; };
    CHECK(share(PlateColor::Green) == doctest::Approx(50).epsilon(0.1));
    CHECK(share(PlateColor::YellowGreen) == doctest::Approx(10).epsilon(0.25));
    CHECK(share(PlateColor::Blue) == doctest::Approx(25).epsilon(0.15));
    for (auto c : {PlateColor::Yellow, PlateColor::White, PlateColor::Black})
        CHECK(share(c) == doctest::Approx(5).epsilon(0.4));
    CHECK(by_color[PlateColor::Unknown] == 0);
}

TEST_CASE("sim parking: a car in front of a raised lock gives up after 60 s unless the lock is lowered in time") {
    Harness h(Kind::Camera, 1, "cam-g");
    h.connect();
    h.command("lock", payloads::CameraLockCmd{1, LockAction::Raise});
    h.run_for(5'000);
    REQUIRE(cam(h).lock_status(1) == LockStatus::Raised);
    h.control("traffic cam-g on");
    REQUIRE(run_until(
        h, [&] { return cam(h).has_car(1); }, 24 * 3600'000));
    CHECK(cam(h).occupied(1));
    h.run_for(Camera::kGiveUpMs - 1000);
    CHECK(cam(h).has_car(1));
    CHECK_FALSE(cam(h).lock_alarm(1)); // it waits; it does not push the lock
    h.run_for(1000);
    CHECK_FALSE(cam(h).has_car(1));
    CHECK_FALSE(cam(h).occupied(1));
    CHECK(plates(h, 1, PlateDirection::Out).size() == 1);
    CHECK(cam(h).lock_status(1) == LockStatus::Raised);
    // The next car: the platform lowers the lock within the minute, the car parks and stays.
    REQUIRE(run_until(
        h, [&] { return cam(h).has_car(1); }, 24 * 3600'000));
    h.run_for(20'000);
    h.command("lock", payloads::CameraLockCmd{1, LockAction::Lower});
    h.run_for(5'000);
    CHECK(cam(h).lock_status(1) == LockStatus::Lowered);
    REQUIRE(run_until(
        h, [&] { return cam(h).car_parked(1); }, Camera::kParkMs + 1000));
    CHECK(plates(h, 1, PlateDirection::Out).size() == 1);
}

TEST_CASE("sim parking: a new-energy car parked on a space mapped to a gun plugs in there and unplugs before it "
          "leaves; other cars do not") {
    Harness h;
    h.settings.parking_traffic = true;
    h.settings.car_gap_s = 60;
    h.settings.car_stay_s = 600;
    FleetDevice c{"cam-p", Kind::Camera, 2, "pw", false};
    c.guns[1] = sockets::SocketRef{"ev-p", 1};
    h.make(c);
    h.connect();
    auto& charger = dynamic_cast<EvCharger&>(h.add_peer(FleetDevice{"ev-p", Kind::EvCharger, 2, "pw", false}));
    int plugged = 0, parked_not_plugged = 0;
    std::string last_plugged;
    bool was_parked = false;
    for (int i = 0; i < 12 * 3600 && (plugged < 3 || parked_not_plugged < 3); ++i) {
        h.run_for(1000);
        const bool parked = cam(h).car_parked(1);
        if (parked && !was_parked) {
            auto in = plates(h, 1, PlateDirection::In);
            REQUIRE(!in.empty());
            const bool nev = parking::is_nev(in.back().data.color);
            CHECK(cam(h).car_plugged(1) == nev);
            CHECK(charger.gun_status(1) == (nev ? payloads::EvGunStatus::Preparing : payloads::EvGunStatus::Available));
            if (nev) {
                ++plugged;
                last_plugged = in.back().data.plate;
            } else {
                ++parked_not_plugged;
            }
        }
        was_parked = parked;
        CHECK(charger.gun_status(2) == payloads::EvGunStatus::Available); // space 2 has no gun
    }
    CHECK(plugged >= 3);
    CHECK(parked_not_plugged >= 3);
    CHECK(h.count(topics::evt("ev-p", "plug_in")) >= 3);
    // Unplugged before it left: plug_out comes before the plate out of the car that was plugged in.
    REQUIRE(run_until(
        h, [&] { return plates(h, 1, PlateDirection::Out).back().data.plate == last_plugged; }, 24 * 3600'000));
    const auto out_at = first_index(h, topics::evt("cam-p", "plate"), "\"out\"");
    REQUIRE(out_at != std::string::npos);
    std::size_t unplugged_at = std::string::npos, left_at = std::string::npos;
    for (std::size_t i = 0; i < h.out.size(); ++i) {
        if (h.out[i].topic == topics::evt("ev-p", "plug_out"))
            unplugged_at = i;
        if (h.out[i].topic == topics::evt("cam-p", "plate") &&
            h.out[i].payload.find(last_plugged) != std::string::npos &&
            h.out[i].payload.find("\"out\"") != std::string::npos)
            left_at = i;
    }
    REQUIRE(unplugged_at != std::string::npos);
    REQUIRE(left_at != std::string::npos);
    CHECK(unplugged_at < left_at);
    CHECK(charger.gun_status(1) == payloads::EvGunStatus::Available);
}

TEST_CASE("sim parking: a plate line on a space overrides its traffic car, which unplugs") {
    Harness h;
    h.settings.parking_traffic = true;
    FleetDevice c{"cam-o", Kind::Camera, 1, "pw", false};
    c.guns[1] = sockets::SocketRef{"ev-o", 2};
    h.make(c);
    h.connect();
    auto& charger = dynamic_cast<EvCharger&>(h.add_peer(FleetDevice{"ev-o", Kind::EvCharger, 2, "pw", false}));
    // Cars come and go until one is plugged in.
    REQUIRE(run_until(
        h, [&] { return cam(h).car_plugged(1); }, 7 * 24 * 3600'000LL));
    CHECK(charger.gun_status(2) == payloads::EvGunStatus::Preparing);
    CHECK(h.control("plate cam-o 1 京A00001 in blue") == "");
    CHECK_FALSE(cam(h).has_car(1));
    CHECK(charger.gun_status(2) == payloads::EvGunStatus::Available);
    CHECK(cam(h).plate(1) == "京A00001");
    // The manual car stays until a plate line takes it away; then the traffic goes on.
    h.run_for(24 * 3600'000, 60'000);
    CHECK(cam(h).plate(1) == "京A00001");
    h.control("plate cam-o 1 京A00001 out");
    REQUIRE(run_until(
        h, [&] { return cam(h).has_car(1); }, 24 * 3600'000));
}

TEST_CASE("sim parking: a camera's guns in the fleet file name guns of EV chargers of the same file") {
    const std::string ev = R"({"id":"ev-1","kind":"ev_charger","guns":2,"password":"p"},)"
                           R"({"id":"e-1","kind":"ebike_pile","sockets":10,"password":"p"},)"
                           R"({"id":"oc-1","kind":"ev_charger","guns":2,"protocol":"ocpp1.6","ocpp_password":"k"},)";
    auto fleet = [&](const std::string& guns, int spaces = 4) {
        return parse_fleet(R"({"devices":[)" + ev + R"({"id":"cam-1","kind":"camera","spaces":)" +
                           std::to_string(spaces) + R"(,"password":"p","guns":)" + guns + "}]}");
    };
    auto ok = fleet(R"({"1":"ev-1-1","3":"ev-1-2"})");
    REQUIRE_MESSAGE(ok.ok(), ok.error());
    const auto& c = ok->back();
    CHECK(c.guns.size() == 2);
    CHECK(c.guns.at(1) == sockets::SocketRef{"ev-1", 1});
    CHECK(c.guns.at(3) == sockets::SocketRef{"ev-1", 2});
    CHECK(fleet("{}").ok());
    // A charger listed after the camera is found too.
    auto later = parse_fleet(R"({"devices":[{"id":"cam-1","kind":"camera","spaces":1,"password":"p",
        "guns":{"1":"ev-9-1"}},{"id":"ev-9","kind":"ev_charger","guns":1,"password":"p"}]})");
    CHECK_MESSAGE(later.ok(), later.error());

    struct Bad {
        const char* guns;
        const char* says;
    };
    const Bad bad[] = {
        {R"({"0":"ev-1-1"})", "space \"0\" is not a space of this camera (1..4)"},
        {R"({"5":"ev-1-1"})", "space \"5\""},
        {R"({"x":"ev-1-1"})", "space \"x\""},
        {R"({"1":"ev-7-1"})", "no such device"},
        {R"({"1":"e-1-1"})", "e-1 is a ebike_pile, not an ev_charger"},
        {R"({"1":"cam-1-1"})", "cam-1 is a camera, not an ev_charger"},
        {R"({"1":"oc-1-1"})", "OCPP charger"},
        {R"({"1":"ev-1-3"})", "ev-1 has guns 1..2"},
        {R"({"1":"ev-1-0"})", "is not \"<charger id>-<n>\""},
        {R"({"1":"ev1"})", "is not \"<charger id>-<n>\""},
        {R"({"1":7})", "is not a string"},
        {R"(["ev-1-1"])", "guns is not an object"},
        {R"({"1":"ev-1-1","2":"ev-1-1"})", "already serves space cam-1-1"},
    };
    for (const auto& b : bad) {
        CAPTURE(b.guns);
        auto r = fleet(b.guns);
        REQUIRE_FALSE(r.ok());
        CHECK_MESSAGE(r.error().find(b.says) != std::string::npos, r.error());
        CHECK_MESSAGE(r.error().find("cam-1") != std::string::npos, r.error());
    }
}
