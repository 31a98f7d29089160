#include "sim_harness.hpp"
#include "workers/pilehub-sim/camera.hpp"
#include "workers/pilehub-sim/ev_charger.hpp"

using namespace pilehub;
using namespace pilehub::sim;
using namespace pilehub::sim::test;
using payloads::EvGunStatus;
using payloads::LockStatus;
using RS = payloads::ReplyStatus;

namespace {

EvCharger& ev(Harness& h) {
    return dynamic_cast<EvCharger&>(*h.dev);
}
Camera& cam(Harness& h) {
    return dynamic_cast<Camera&>(*h.dev);
}

payloads::EvStartSessionCmd ev_start(int n, const char* sid,
                                     std::optional<payloads::ChargeLimit> limit = std::nullopt) {
    payloads::EvStartSessionCmd c;
    c.n = n;
    c.sid = sid;
    c.id_tag = "TAG1";
    c.limit = limit;
    return c;
}

} // namespace

TEST_CASE("sim: an EV charger starts a remote session, its register and SOC rise, and stop_session records it") {
    Harness h(Kind::EvCharger, 2, "ev-01");
    h.connect();
    auto conn = h.decoded<payloads::EvConnState>(topics::conn_state("ev-01", 1));
    REQUIRE(conn.size() == 1);
    CHECK(conn[0].data.st == EvGunStatus::Available);
    const auto reg0 = ev(h).gun_register_wh(1);
    auto r = h.reply_to("start_session", h.command("start_session", ev_start(1, "EV-S1")));
    CHECK(r.data.status == RS::Ok);
    CHECK(h.count(topics::evt("ev-01", "plug_in")) == 1);
    auto started = h.decoded<payloads::EvSessionStarted>(topics::evt("ev-01", "session_started"));
    REQUIRE(started.size() == 1);
    CHECK(started[0].data.meter_start_wh == reg0);
    CHECK(ev(h).gun_status(1) == EvGunStatus::Charging);
    const auto soc0 = ev(h).gun_soc_pct(1);
    h.run_for(30 * 60'000);
    CHECK(ev(h).gun_power_w(1) == doctest::Approx(7000).epsilon(0.02));
    CHECK(ev(h).gun_soc_pct(1) > soc0);
    // 30 min at 7 kW = 3.5 kWh
    CHECK(ev(h).gun_register_wh(1) - reg0 == doctest::Approx(3500).epsilon(0.03));
    auto tele = h.decoded<payloads::EvTele>(topics::tele("ev-01"));
    REQUIRE(!tele.empty());
    CHECK(tele.back().data.guns.size() == 2);
    CHECK(tele.back().data.guns[0].sid == "EV-S1");
    h.command("stop_session", payloads::EvStopSessionCmd{"EV-S1"});
    auto stopped = h.decoded<payloads::EvSessionStopped>(topics::evt("ev-01", "session_stopped"));
    REQUIRE(stopped.size() == 1);
    CHECK(stopped[0].data.reason == payloads::EvStopReason::Remote);
    CHECK(stopped[0].data.meter_stop_wh == ev(h).gun_register_wh(1));
    auto rec = h.decoded<payloads::EvSessionRecord>(topics::req("ev-01", "session_record"));
    REQUIRE(rec.size() == 1);
    CHECK(rec[0].data.meter_start_wh == reg0);
    CHECK(ev(h).gun_status(1) == EvGunStatus::Finishing);
    h.control("unplug ev-01 1");
    CHECK(ev(h).gun_status(1) == EvGunStatus::Available);
    CHECK(h.dev->pending_records() == 1);
}

TEST_CASE("sim: a full car is suspended_ev; an energy limit ends quota_reached; the register never goes back") {
    Harness h(Kind::EvCharger, 1, "ev-02");
    h.connect();
    h.command("start_session", ev_start(1, "EV-Q", payloads::ChargeLimit::energy(1000)));
    h.run_for(15 * 60'000);
    auto stopped = h.decoded<payloads::EvSessionStopped>(topics::evt("ev-02", "session_stopped"));
    REQUIRE(stopped.size() == 1);
    CHECK(stopped[0].data.reason == payloads::EvStopReason::QuotaReached);
    CHECK(stopped[0].data.meter_stop_wh - stopped[0].data.meter_start_wh >= 1000);
    const auto reg = ev(h).gun_register_wh(1);
    h.command("start_session", ev_start(1, "EV-F"));
    h.run_for(60'000);
    h.control("full ev-02 1");
    h.run_for(10'000);
    CHECK(ev(h).gun_status(1) == EvGunStatus::SuspendedEv);
    // A restarted simulator reads the register back from its store.
    h.make(FleetDevice{"ev-02", Kind::EvCharger, 1, "pw", false});
    CHECK(ev(h).gun_register_wh(1) >= reg);
}

TEST_CASE("sim: EV faults use the A.5 bit table and fault the gun; set_availability makes it unavailable") {
    Harness h(Kind::EvCharger, 2, "ev-03");
    h.connect();
    h.command("start_session", ev_start(2, "EV-X"));
    h.control("fault ev-03 2 estop");
    auto f = h.decoded<payloads::EvFaultEvent>(topics::evt("ev-03", "fault"));
    REQUIRE(f.size() == 1);
    CHECK(f[0].data.n == 2);
    CHECK(f[0].data.fault_bits == payloads::ev_fault_mask(payloads::EvFault::Estop));
    CHECK(ev(h).gun_status(2) == EvGunStatus::Faulted);
    auto stopped = h.decoded<payloads::EvSessionStopped>(topics::evt("ev-03", "session_stopped"));
    REQUIRE(stopped.size() == 1);
    CHECK(stopped[0].data.reason == payloads::EvStopReason::EmergencyStop);
    auto rej = h.reply_to("start_session", h.command("start_session", ev_start(2, "EV-Y")));
    CHECK(rej.data.status == RS::Rejected);
    CHECK(rej.data.code == ErrorCode::SocketFaulted);
    h.control("fault ev-03 2 estop clear");
    CHECK(ev(h).gun_status(2) != EvGunStatus::Faulted);
    h.command("set_availability", payloads::EvSetAvailability{1, false});
    CHECK(ev(h).gun_status(1) == EvGunStatus::Unavailable);
    CHECK(h.reply_to("start_session", h.command("start_session", ev_start(1, "EV-Z"))).data.status == RS::Rejected);
    CHECK(h.reply_to("reset", h.command("reset", payloads::EvReset{payloads::ResetType::Soft})).data.status == RS::Ok);
    CHECK(h.dev->take_action() == TransportAction::Reboot);
}

TEST_CASE("sim: an EV card swipe authorizes, asks start_session, and charges with the platform's sid") {
    Harness h(Kind::EvCharger, 1, "ev-04");
    h.connect();
    h.control("swipe ev-04 1 TAG77");
    auto auth = h.decoded<payloads::EvAuthorize>(topics::req("ev-04", "authorize"));
    REQUIRE(auth.size() == 1);
    CHECK(auth[0].data.id_tag == "TAG77");
    payloads::AuthorizeReply a;
    a.decision = payloads::Decision::Accept;
    h.request_reply("authorize", *auth[0].env.rid, RS::Ok, std::optional(a));
    auto req = h.decoded<payloads::EvStartSessionReq>(topics::req("ev-04", "start_session"));
    REQUIRE(req.size() == 1);
    payloads::EvStartSessionReply s;
    s.decision = payloads::Decision::Accept;
    s.sid = "EV-LOCAL";
    h.request_reply("start_session", *req[0].env.rid, RS::Ok, std::optional(s));
    CHECK(ev(h).gun_sid(1) == "EV-LOCAL");
    h.run_for(60'000);
    h.control("swipe ev-04 1 TAG77");
    auto stopped = h.decoded<payloads::EvSessionStopped>(topics::evt("ev-04", "session_stopped"));
    REQUIRE(stopped.size() == 1);
    CHECK(stopped[0].data.reason == payloads::EvStopReason::Local);
}

TEST_CASE("sim: a camera lock replies only once it reached its position, after 2-4 s") {
    Harness h(Kind::Camera, 4, "cam-01");
    h.connect();
    auto spaces = h.decoded<payloads::CameraSpaceState>(topics::space_state("cam-01", 1));
    REQUIRE(spaces.size() == 1);
    CHECK(spaces[0].data.lock->st == LockStatus::Lowered);
    const auto rid = h.command("lock", payloads::CameraLockCmd{1, payloads::LockAction::Raise});
    CHECK(h.count(topics::cmd_reply("cam-01", "lock")) == 0);
    CHECK(cam(h).lock_status(1) == LockStatus::Moving);
    // a duplicate while moving is neither executed again nor answered twice
    h.command("lock", payloads::CameraLockCmd{1, payloads::LockAction::Raise}, rid);
    h.run_for(1'900, 100);
    CHECK(h.count(topics::cmd_reply("cam-01", "lock")) == 0);
    h.run_for(2'200, 100);
    auto r = h.reply_to<payloads::LockState>("lock", rid);
    CHECK(r.data.status == RS::Ok);
    CHECK(r.data.data->st == LockStatus::Raised);
    CHECK(h.count(topics::cmd_reply("cam-01", "lock")) == 1);
    auto ev = h.decoded<payloads::CameraLockEvent>(topics::evt("cam-01", "lock"));
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].data.st == LockStatus::Moving);
    CHECK(ev[1].data.st == LockStatus::Raised);
}

TEST_CASE("sim: a camera reports plates and occupancy; a raise onto a car fails and alarms") {
    Harness h(Kind::Camera, 2, "cam-02");
    h.connect();
    CHECK(h.control("plate cam-02 2 粤B12345D in") == "");
    auto plate = h.decoded<payloads::CameraPlate>(topics::evt("cam-02", "plate"));
    REQUIRE(plate.size() == 1);
    CHECK(plate[0].data.plate == "粤B12345D");
    CHECK(plate[0].data.color == payloads::PlateColor::Green);
    CHECK(plate[0].data.direction == payloads::PlateDirection::In);
    auto space = h.decoded<payloads::CameraSpace>(topics::evt("cam-02", "space"));
    REQUIRE(space.size() == 1);
    CHECK(space[0].data.occupied);
    auto st = h.decoded<payloads::CameraSpaceState>(topics::space_state("cam-02", 2));
    CHECK(st.back().data.occupied);
    CHECK(st.back().data.plate == "粤B12345D");
    const auto rid = h.command("lock", payloads::CameraLockCmd{2, payloads::LockAction::Raise});
    h.run_for(5'000, 100);
    auto r = h.reply_to<payloads::LockState>("lock", rid);
    CHECK(r.data.status == RS::Failed);
    CHECK(r.data.code == ErrorCode::Conflict);
    CHECK(r.data.data->alarm);
    CHECK(cam(h).lock_status(2) == LockStatus::Lowered);
    h.control("plate cam-02 2 粤B12345D out");
    CHECK_FALSE(cam(h).occupied(2));
    CHECK_FALSE(cam(h).lock_alarm(2));
    // a jammed lock ends in fault
    h.control("lockjam cam-02 1 on");
    const auto rid2 = h.command("lock", payloads::CameraLockCmd{1, payloads::LockAction::Raise});
    h.run_for(5'000, 100);
    auto j = h.reply_to<payloads::LockState>("lock", rid2);
    CHECK(j.data.status == RS::Failed);
    CHECK(j.data.data->st == LockStatus::Fault);
    auto snap =
        h.reply_to<payloads::CameraSnapshotResult>("snapshot", h.command("snapshot", payloads::CameraSnapshotCmd{1}));
    CHECK(snap.data.status == RS::Ok);
    CHECK(snap.data.data->image_url.find("cam-02") != std::string::npos);
}
