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

TEST_CASE("sim: a 120 kW DC gun charges at its rating below 80 %, tapers above, and SoC rises by energy / battery") {
    Harness h;
    h.make(FleetDevice{"ev-dc", Kind::EvCharger, 1, "pw", true, 120'000});
    h.connect();
    auto info = h.decoded<payloads::DeviceInfo>(topics::info("ev-dc"));
    REQUIRE(info.size() == 1);
    CHECK(info[0].data.model == "SIM-DC120K");
    CHECK(info[0].data.max_power_w == 120'000);
    h.command("start_session", ev_start(1, "EV-DC"));
    CHECK(h.control("soc ev-dc 1 40") == "");
    const auto reg0 = ev(h).gun_register_wh(1);
    h.run_for(5 * 60'000);
    CHECK(ev(h).gun_power_w(1) == doctest::Approx(120'000).epsilon(0.02));
    const auto wh = static_cast<double>(ev(h).gun_register_wh(1) - reg0);
    CHECK(wh == doctest::Approx(10'000).epsilon(0.03)); // 5 min at 120 kW
    CHECK(ev(h).gun_soc_pct(1) == doctest::Approx(40 + 100 * wh / ev(h).gun_battery_wh(1)).epsilon(0.01));
    auto tele = h.decoded<payloads::EvTele>(topics::tele("ev-dc"));
    REQUIRE(!tele.empty());
    REQUIRE(tele.back().data.guns[0].soc_pct);
    CHECK(*tele.back().data.guns[0].soc_pct > 40); // the last report, a little behind the car
    CHECK(*tele.back().data.guns[0].soc_pct <= static_cast<int>(ev(h).gun_soc_pct(1)));
    // Above 80 % the car takes less: at 90 % about 55 % of the rating.
    CHECK(h.control("soc ev-dc 1 90") == "");
    h.run_for(5'000);
    CHECK(ev(h).gun_power_w(1) > 0.5 * 120'000);
    CHECK(ev(h).gun_power_w(1) < 0.6 * 120'000);
    // Full: the car stops taking current, the gun shows suspended_ev until the platform stops it.
    CHECK(h.control("soc ev-dc 1 100") == "");
    h.run_for(10'000);
    CHECK(ev(h).gun_power_w(1) == 0);
    CHECK(ev(h).gun_status(1) == EvGunStatus::SuspendedEv);
    h.clear();
    h.run_for(120'000);
    CHECK(h.decoded<payloads::EvTele>(topics::tele("ev-dc")).back().data.guns[0].soc_pct == 100);
}

TEST_CASE("sim: a DC charger without power_w has 60 kW guns; an AC gun gives 7 kW and reports no soc_pct") {
    Harness dc;
    dc.make(FleetDevice{"ev-dc", Kind::EvCharger, 2, "pw", true});
    CHECK(ev(dc).rated_power_w() == 60'000);
    Harness ac(Kind::EvCharger, 1, "ev-ac");
    ac.connect();
    CHECK(ev(ac).rated_power_w() == 7'000);
    ac.command("start_session", ev_start(1, "EV-AC"));
    ac.run_for(120'000);
    auto tele = ac.decoded<payloads::EvTele>(topics::tele("ev-ac"));
    REQUIRE(!tele.empty());
    CHECK(tele.back().data.guns[0].power_w == doctest::Approx(7000).epsilon(0.02));
    CHECK_FALSE(tele.back().data.guns[0].soc_pct);
    CHECK(ac.control("soc ev-ac 1 50") == "");
    CHECK(ac.control("unplug ev-ac 1") == "");
    CHECK(ac.control("soc ev-ac 1 50") == "no car at gun 1");
}

TEST_CASE("sim: a sleeping car (noload) draws nothing: suspended_ev, no energy, and the charger leaves the stop to "
          "the platform") {
    Harness h(Kind::EvCharger, 1, "ev-03");
    h.connect();
    CHECK(h.control("noload ev-03 1") == ""); // the car that comes is asleep
    const auto reg0 = ev(h).gun_register_wh(1);
    h.command("start_session", ev_start(1, "EV-Z"));
    h.run_for(10 * 60'000);
    CHECK(ev(h).gun_sid(1) == "EV-Z");
    CHECK(ev(h).gun_power_w(1) == 0);
    CHECK(ev(h).gun_status(1) == EvGunStatus::SuspendedEv);
    CHECK(ev(h).gun_register_wh(1) == reg0);
    auto tele = h.decoded<payloads::EvTele>(topics::tele("ev-03"));
    REQUIRE(!tele.empty());
    CHECK(tele.back().data.guns[0].session_energy_wh == 0);
    CHECK(h.count(topics::evt("ev-03", "session_stopped")) == 0);
    h.command("stop_session", payloads::EvStopSessionCmd{"EV-Z"});
    // Another car is awake again.
    h.control("unplug ev-03 1");
    h.command("start_session", ev_start(1, "EV-Y"));
    h.run_for(60'000);
    CHECK(ev(h).gun_power_w(1) > 6000);
    CHECK(ev(h).gun_status(1) == EvGunStatus::Charging);
}

TEST_CASE("sim: the charger applies the EV cfg/desired, reports it, keeps it across restarts and uses its periods") {
    Harness h(Kind::EvCharger, 1, "ev-04");
    h.connect();
    CHECK(h.count(topics::cfg_reported("ev-04")) == 0); // nothing in force yet
    payloads::EvConfig c;
    c.ev_full_wait_s = 240;
    c.tele_period_s = 10;
    h.cfg<payloads::EvCfgDesired>(c, 3);
    auto rep = h.decoded<payloads::EvCfgReported>(topics::cfg_reported("ev-04"));
    REQUIRE(rep.size() == 1);
    CHECK(rep[0].data.version == 3);
    CHECK(rep[0].data.status == payloads::CfgStatus::Applied);
    CHECK(rep[0].data.values == c);
    CHECK(h.on(topics::cfg_reported("ev-04"))[0].retained);
    // Telemetry every 10 s while charging.
    h.command("start_session", ev_start(1, "EV-T"));
    h.run_for(3'000);
    h.clear();
    h.run_for(60'000);
    CHECK(h.count(topics::tele("ev-04")) == 6);
    // More than the power modules take: clamped, reported partial.
    c.temp_warn_c = 90;
    c.temp_stop_c = 120;
    h.cfg<payloads::EvCfgDesired>(c, 4);
    rep = h.decoded<payloads::EvCfgReported>(topics::cfg_reported("ev-04"));
    CHECK(rep.back().data.status == payloads::CfgStatus::Partial);
    CHECK(rep.back().data.rejected == std::vector<std::string>{"temp_stop_c"});
    CHECK(rep.back().data.values.temp_stop_c == 95);
    // A document the codec refuses: rejected, its version echoed, the old values stay.
    h.dev->handle({topics::cfg_desired("ev-04"),
                   R"({"v":1,"ts":1,"boot":0,"seq":5,"data":{"version":5,"ev_no_load_wait_s":99999}})", 1, true});
    h.drain();
    rep = h.decoded<payloads::EvCfgReported>(topics::cfg_reported("ev-04"));
    CHECK(rep.back().data.status == payloads::CfgStatus::Rejected);
    CHECK(rep.back().data.version == 5);
    CHECK(ev(h).config().ev_full_wait_s == 240);
    // A restarted simulator has version 4 in force before the broker sends it again.
    h.make(FleetDevice{"ev-04", Kind::EvCharger, 1, "pw", false});
    CHECK(ev(h).config_version() == 4);
    CHECK(ev(h).config().temp_stop_c == 95);
}

TEST_CASE("sim: a charger at temp_warn_c halves its output") {
    Harness h(Kind::EvCharger, 1, "ev-05");
    h.connect();
    h.command("start_session", ev_start(1, "EV-H"));
    h.run_for(10'000);
    CHECK(ev(h).gun_power_w(1) == doctest::Approx(7000).epsilon(0.02));
    h.control("temp ev-05 72");
    h.run_for(10'000);
    CHECK(ev(h).gun_power_w(1) == doctest::Approx(3500).epsilon(0.02));
    CHECK(ev(h).gun_sid(1) == "EV-H"); // the stop is the platform's (autostopd over_temp)
}
