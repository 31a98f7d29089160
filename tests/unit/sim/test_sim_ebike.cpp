#include "common/crypto.hpp"
#include "sim_harness.hpp"
#include "workers/pilehub-sim/ebike_pile.hpp"

using namespace pilehub;
using namespace pilehub::sim;
using namespace pilehub::sim::test;
using payloads::EbikeSocketStatus;
using payloads::EbikeStopReason;
using RS = payloads::ReplyStatus;

namespace {

EbikePile& pile(Harness& h) {
    return dynamic_cast<EbikePile&>(*h.dev);
}

std::string start(Harness& h, int n, std::string sid, payloads::ChargeLimit limit = payloads::ChargeLimit::full()) {
    return h.command("start_port", payloads::EbikeStartPort{n, std::move(sid), limit});
}

payloads::EbikeStopPort stop_cmd(int n, const char* sid = nullptr) {
    payloads::EbikeStopPort s;
    s.n = n;
    if (sid)
        s.sid = sid;
    return s;
}

std::vector<payloads::Message<payloads::EbikeSessionStopped>> stops(const Harness& h) {
    return h.decoded<payloads::EbikeSessionStopped>(topics::evt(h.dev->id(), "session_stopped"));
}

std::vector<payloads::Message<payloads::EbikeSessionRecord>> records(const Harness& h) {
    return h.decoded<payloads::EbikeSessionRecord>(topics::req(h.dev->id(), "session_record"));
}

} // namespace

TEST_CASE("sim: on connect a pile publishes presence with its boot, info, state and every socket, retained") {
    Harness h;
    const auto boot = h.connect();
    REQUIRE(h.out.size() == 3 + 10);
    CHECK(h.out[0].topic == topics::presence("e-0001"));
    CHECK(h.out[0].retained);
    auto p = payloads::decode_presence(h.out[0].payload);
    REQUIRE(p.ok());
    CHECK(p->online);
    CHECK(p->boot == boot);
    CHECK(p->fw.has_value());
    CHECK(h.out[1].topic == topics::info("e-0001"));
    auto info = h.decoded<payloads::DeviceInfo>(topics::info("e-0001"));
    CHECK(info[0].data.socket_count == 10);
    CHECK(h.out[2].topic == topics::state("e-0001"));
    for (int n = 1; n <= 10; ++n) {
        auto c = h.decoded<payloads::EbikeConnState>(topics::conn_state("e-0001", n));
        REQUIRE(c.size() == 1);
        CHECK(c[0].data.st == EbikeSocketStatus::Idle);
        CHECK(c[0].env.boot == boot);
    }
    for (const auto& m : h.out)
        CHECK(m.retained);
    // seq counts uplinks within the boot
    auto st = h.decoded<payloads::DeviceState>(topics::state("e-0001"));
    CHECK(st[0].env.seq == 2);
    // The Will carries the same boot and says lwt.
    auto w = payloads::decode_presence(h.dev->will(boot).payload);
    REQUIRE(w.ok());
    CHECK_FALSE(w->online);
    CHECK(w->boot == boot);
    CHECK(w->reason == "lwt");
    CHECK(h.dev->will(boot).retained);
    CHECK(h.dev->will(boot).qos == 1);
}

TEST_CASE("sim: start_port is answered ok with its rid, starts the socket and telemetry flows") {
    Harness h;
    h.connect();
    const auto rid = start(h, 3, "S-1");
    auto r = h.reply_to("start_port", rid);
    CHECK(r.data.status == RS::Ok);
    CHECK(*r.env.rid == rid);
    auto started = h.decoded<payloads::EbikeSessionStarted>(topics::evt("e-0001", "session_started"));
    REQUIRE(started.size() == 1);
    CHECK(started[0].data.n == 3);
    CHECK(started[0].data.sid == "S-1");
    CHECK(started[0].env.id.has_value());
    CHECK(pile(h).socket_status(3) == EbikeSocketStatus::Starting);
    h.run_for(3'000);
    CHECK(pile(h).socket_status(3) == EbikeSocketStatus::Charging);
    CHECK(pile(h).socket_power_w(3) >= 145);
    CHECK(pile(h).socket_power_w(3) <= 260);
    h.clear();
    h.run_for(10 * 60'000);
    auto tele = h.decoded<payloads::EbikeTele>(topics::tele("e-0001"));
    // Active: every tele_period_s (60 s): 10 minutes give about 10 messages.
    CHECK(tele.size() >= 9);
    CHECK(tele.size() <= 11);
    std::int64_t last = -1;
    for (const auto& t : tele) {
        REQUIRE(t.data.sockets.size() == 1);
        const auto& s = t.data.sockets[0];
        CHECK(s.n == 3);
        CHECK(s.sid == "S-1");
        REQUIRE(s.session_energy_wh.has_value());
        CHECK(*s.session_energy_wh >= last); // integer and monotonic
        last = *s.session_energy_wh;
        CHECK(*s.voltage_v > 210);
        CHECK(*s.current_a == doctest::Approx(s.power_w / *s.voltage_v).epsilon(0.02));
    }
    // ~200 W for 10 minutes ≈ 33 Wh
    CHECK(last >= 20);
    CHECK(last <= 45);
    for (const auto& m : h.on(topics::tele("e-0001"))) {
        CHECK(m.qos == 0);
        CHECK_FALSE(m.retained);
    }
}

TEST_CASE("sim: a socket under full_stop_w for full_wait_s stops with reason full and keeps its record until "
          "acknowledged") {
    Harness h;
    h.connect();
    start(h, 1, "S-full");
    h.run_for(20 * 60'000);
    const auto energy = pile(h).socket_energy_wh(1);
    CHECK(energy > 0);
    CHECK(h.control("full e-0001 1") == "");
    h.run_for(10'000);
    CHECK(pile(h).socket_status(1) == EbikeSocketStatus::FullWait);
    h.run_for(1790'000 - 10'000);
    CHECK(pile(h).socket_status(1) == EbikeSocketStatus::FullWait); // not before full_wait_s
    CHECK(stops(h).empty());
    h.run_for(15'000);
    auto st = stops(h);
    REQUIRE(st.size() == 1);
    CHECK(st[0].data.reason == EbikeStopReason::Full);
    CHECK(st[0].data.sid == "S-full");
    CHECK(st[0].data.energy_wh >= energy);
    CHECK(st[0].data.duration_s >= 20 * 60 + 1800);
    CHECK(st[0].data.duration_s <= 20 * 60 + 1800 + 20);
    CHECK(st[0].data.max_power_w >= 145);
    auto rec = records(h);
    REQUIRE(rec.size() == 1);
    CHECK(rec[0].data.reason == EbikeStopReason::Full);
    CHECK(rec[0].data.energy_wh == st[0].data.energy_wh);
    CHECK(rec[0].data.stop_ts >= rec[0].data.start_ts);
    const auto id = *rec[0].env.id;
    CHECK(rec[0].env.rid == id);
    CHECK(pile(h).socket_status(1) == EbikeSocketStatus::Idle);
    CHECK(h.dev->pending_records() == 1);

    // Resent periodically while unanswered, and after a reconnect, always with the same id.
    h.clear();
    h.run_for(60'000);
    auto again = records(h);
    REQUIRE(again.size() >= 1);
    CHECK(*again[0].env.id == id);
    h.dev->disconnected();
    const auto boot2 = h.connect();
    auto after = records(h);
    REQUIRE(after.size() >= 2);
    CHECK(*after.back().env.id == id);
    CHECK(after.back().env.boot == boot2);
    CHECK(after.back().data == rec[0].data);

    // A reply other than ok does not acknowledge it.
    h.request_reply<payloads::Empty>("session_record", id, RS::Failed);
    CHECK(h.dev->pending_records() == 1);
    h.request_reply<payloads::Empty>("session_record", id, RS::Ok);
    CHECK(h.dev->pending_records() == 0);
    h.clear();
    h.run_for(120'000);
    CHECK(records(h).empty());
    h.dev->disconnected();
    h.connect();
    CHECK(records(h).empty());
}

TEST_CASE("sim: a session with no load stops no_load after no_load_wait_s, not before") {
    Harness h;
    h.connect();
    CHECK(h.control("noload e-0001 2") == "");
    start(h, 2, "S-nl");
    h.run_for(2'000 + 99'000);
    CHECK(stops(h).empty());
    h.run_for(2'000);
    auto st = stops(h);
    REQUIRE(st.size() == 1);
    CHECK(st[0].data.reason == EbikeStopReason::NoLoad);
    CHECK(st[0].data.energy_wh == 0);
}

TEST_CASE("sim: a time session ends quota_reached after its minutes, and full or unplugged do not end it") {
    Harness h;
    h.connect();
    start(h, 4, "S-t", payloads::ChargeLimit::time(30));
    h.run_for(5 * 60'000);
    h.control("full e-0001 4");
    h.run_for(24 * 60'000);
    CHECK(stops(h).empty());
    h.run_for(61'000);
    auto st = stops(h);
    REQUIRE(st.size() == 1);
    CHECK(st[0].data.reason == EbikeStopReason::QuotaReached);
    CHECK(st[0].data.duration_s == 30 * 60);
}

TEST_CASE("sim: an energy session ends quota_reached when its Wh are delivered") {
    Harness h;
    h.connect();
    start(h, 5, "S-e", payloads::ChargeLimit::energy(20));
    h.run_for(20 * 60'000);
    auto st = stops(h);
    REQUIRE(st.size() == 1);
    CHECK(st[0].data.reason == EbikeStopReason::QuotaReached);
    CHECK(st[0].data.energy_wh >= 20);
    CHECK(st[0].data.energy_wh <= 21);
}

TEST_CASE("sim: a socket above socket_overload_w stops socket_overload") {
    Harness h;
    h.connect();
    h.control("overload e-0001 6 900");
    start(h, 6, "S-ol");
    h.run_for(5'000);
    auto st = stops(h);
    REQUIRE(st.size() == 1);
    CHECK(st[0].data.reason == EbikeStopReason::SocketOverload);
    CHECK(st[0].data.max_power_w > 600);
}

TEST_CASE("sim: device overload stops the highest socket first") {
    Harness h;
    h.connect();
    payloads::EbikeConfig c;
    c.device_overload_w = 1000;
    h.cfg(c, 2);
    h.control("overload e-0001 1 300");
    h.control("overload e-0001 2 450");
    h.control("overload e-0001 3 250");
    h.control("overload e-0001 4 200");
    for (int n = 1; n <= 4; ++n)
        start(h, n, "S-d" + std::to_string(n));
    h.run_for(5'000);
    auto st = stops(h);
    REQUIRE(st.size() == 1);
    CHECK(st[0].data.n == 2);
    CHECK(st[0].data.reason == EbikeStopReason::DeviceOverload);
    h.run_for(60'000);
    CHECK(stops(h).size() == 1);
    CHECK(pile(h).active_sessions() == 3);
    CHECK(pile(h).total_power_w() < 1000);
}

TEST_CASE("sim: over temperature stops every socket and refuses starts until it cools") {
    Harness h;
    h.connect();
    start(h, 1, "A");
    start(h, 2, "B");
    h.run_for(5'000);
    h.control("temp e-0001 65");
    auto warn = h.decoded<payloads::EbikeFault>(topics::evt("e-0001", "fault"));
    REQUIRE(warn.size() == 1);
    CHECK(warn[0].data.code == "temp_warning");
    CHECK(warn[0].data.active);
    CHECK(stops(h).empty());
    h.control("temp e-0001 80");
    auto st = stops(h);
    REQUIRE(st.size() == 2);
    for (const auto& s : st)
        CHECK(s.data.reason == EbikeStopReason::OverTemp);
    CHECK(pile(h).socket_status(1) == EbikeSocketStatus::Fault);
    const auto rid = start(h, 3, "C");
    auto r = h.reply_to("start_port", rid);
    CHECK(r.data.status == RS::Rejected);
    CHECK(r.data.code == ErrorCode::SocketFaulted);
    h.control("temp e-0001 auto");
    CHECK(pile(h).socket_status(1) == EbikeSocketStatus::Idle);
    CHECK(h.reply_to("start_port", start(h, 3, "D")).data.status == RS::Ok);
}

TEST_CASE("sim: start_port on a busy socket is busy, on a faulted socket rejected, on socket 11 invalid") {
    Harness h;
    h.connect();
    start(h, 1, "A");
    auto busy = h.reply_to("start_port", start(h, 1, "B"));
    CHECK(busy.data.status == RS::Busy);
    CHECK(busy.data.code == ErrorCode::SocketBusy);
    // the same sid again is not a conflict
    CHECK(h.reply_to("start_port", start(h, 1, "A")).data.status == RS::Ok);
    h.control("fault e-0001 2 relay_welded");
    auto f = h.decoded<payloads::EbikeFault>(topics::evt("e-0001", "fault"));
    REQUIRE(f.size() == 1);
    CHECK(f[0].data.bit == 1);
    CHECK(f[0].data.n == 2);
    auto conn = h.decoded<payloads::EbikeConnState>(topics::conn_state("e-0001", 2));
    CHECK(conn.back().data.st == EbikeSocketStatus::Fault);
    CHECK(conn.back().data.faults == std::vector<std::string>{"relay_welded"});
    auto rej = h.reply_to("start_port", start(h, 2, "C"));
    CHECK(rej.data.status == RS::Rejected);
    CHECK(rej.data.code == ErrorCode::SocketFaulted);
    auto inv = h.reply_to("start_port", start(h, 11, "D"));
    CHECK(inv.data.status == RS::Invalid);
    CHECK(inv.data.code == ErrorCode::UnknownSocket);
}

TEST_CASE("sim: a command past its exp is refused with expired and not executed") {
    Harness h;
    h.connect();
    const auto rid = h.command("start_port", payloads::EbikeStartPort{1, "S-x", payloads::ChargeLimit::full()}, "",
                               h.clock.now_ms() - 1);
    auto r = h.reply_to("start_port", rid);
    CHECK(r.data.status == RS::Expired);
    CHECK(r.data.code == ErrorCode::Expired);
    CHECK(pile(h).socket_status(1) == EbikeSocketStatus::Idle);
    CHECK(h.count(topics::evt("e-0001", "session_started")) == 0);
}

TEST_CASE("sim: a command refused as expired runs when the same rid comes again with a fresh exp") {
    Harness h;
    h.connect();
    start(h, 1, "S-late");
    h.run_for(60'000);
    // The platform's stop reaches the pile after its exp (queued while the pile was away)...
    const auto rid = h.command("stop_port", stop_cmd(1, "S-late"), "S-late.stop", h.clock.now_ms() - 1);
    CHECK(h.reply_to("stop_port", rid).data.status == RS::Expired);
    CHECK(pile(h).socket_status(1) == EbikeSocketStatus::Charging);
    // ...and is re-sent with the same rid and a fresh exp (CONTRACT A.6, retries): it runs, once.
    h.command("stop_port", stop_cmd(1, "S-late"), rid);
    CHECK(h.reply_to("stop_port", rid).data.status == RS::Ok);
    CHECK(pile(h).socket_status(1) == EbikeSocketStatus::Idle);
    h.command("stop_port", stop_cmd(1, "S-late"), rid);
    CHECK(h.reply_to("stop_port", rid).data.status == RS::Ok);
    CHECK(stops(h).size() == 1);
}

TEST_CASE("sim: control drop loses the next N commands of a kind: not executed, not answered, not remembered") {
    Harness h;
    h.connect();
    start(h, 1, "S-drop");
    h.run_for(10'000);
    CHECK(h.control("drop e-0001 stop_port 2") == "");
    h.command("query_device", payloads::EbikeQueryDevice{}); // another kind still gets through
    CHECK(h.count(topics::cmd_reply("e-0001", "query_device")) == 1);
    h.command("stop_port", stop_cmd(1, "S-drop"), "S-drop.stop");
    h.command("stop_port", stop_cmd(1, "S-drop"), "S-drop.stop");
    CHECK(h.count(topics::cmd_reply("e-0001", "stop_port")) == 0);
    CHECK(pile(h).socket_status(1) == EbikeSocketStatus::Charging);
    // The third one arrives: executed, and its rid was never seen before.
    h.command("stop_port", stop_cmd(1, "S-drop"), "S-drop.stop");
    CHECK(h.reply_to("stop_port", "S-drop.stop").data.status == RS::Ok);
    CHECK(pile(h).socket_status(1) == EbikeSocketStatus::Idle);
    // drop with 0 cancels what is left.
    CHECK(h.control("drop e-0001 start_port 5") == "");
    CHECK(h.control("drop e-0001 start_port 0") == "");
    CHECK(h.reply_to("start_port", start(h, 2, "S-next")).data.status == RS::Ok);
}

TEST_CASE("sim: a duplicate rid is answered again but not executed twice") {
    Harness h;
    h.connect();
    const auto rid = start(h, 1, "S-dup");
    const auto first = h.on(topics::cmd_reply("e-0001", "start_port"));
    REQUIRE(first.size() == 1);
    h.command("stop_port", stop_cmd(1, "S-dup"));
    CHECK(pile(h).socket_status(1) == EbikeSocketStatus::Idle);
    // The platform's retry of the start (same rid) must not start the socket again.
    start(h, 1, "S-dup");
    h.command("start_port", payloads::EbikeStartPort{1, "S-dup", payloads::ChargeLimit::full()}, rid);
    auto replies = h.on(topics::cmd_reply("e-0001", "start_port"));
    REQUIRE(replies.size() == 3);
    CHECK(replies.back().payload == first[0].payload); // the very same reply
    CHECK(h.count(topics::evt("e-0001", "session_started")) == 2);
    CHECK(h.count(topics::evt("e-0001", "session_stopped")) == 1);
}

TEST_CASE("sim: stop_port stops remote_stop; an idle socket or its last session is ok; another sid conflicts") {
    Harness h;
    h.connect();
    start(h, 1, "S-1");
    h.run_for(60'000);
    auto wrong = h.reply_to("stop_port", h.command("stop_port", stop_cmd(1, "S-9")));
    CHECK(wrong.data.status == RS::Rejected);
    CHECK(wrong.data.code == ErrorCode::Conflict);
    CHECK(h.reply_to("stop_port", h.command("stop_port", stop_cmd(1, "S-1"))).data.status == RS::Ok);
    auto st = stops(h);
    REQUIRE(st.size() == 1);
    CHECK(st[0].data.reason == EbikeStopReason::RemoteStop);
    CHECK(h.reply_to("stop_port", h.command("stop_port", stop_cmd(1, "S-1"))).data.status == RS::Ok);
    CHECK(stops(h).size() == 1);
}

TEST_CASE("sim: query_port and query_device answer with the live socket") {
    Harness h;
    h.connect();
    start(h, 7, "S-q");
    h.run_for(10'000);
    auto q = h.reply_to<payloads::EbikePortStatus>("query_port", h.command("query_port", payloads::EbikeQueryPort{7}));
    CHECK(q.data.status == RS::Ok);
    REQUIRE(q.data.data.has_value());
    CHECK(q.data.data->st == EbikeSocketStatus::Charging);
    CHECK(q.data.data->sid == "S-q");
    CHECK(*q.data.data->power_w > 100);
    auto d = h.reply_to<payloads::EbikeDeviceReport>("query_device",
                                                     h.command("query_device", payloads::EbikeQueryDevice{}));
    REQUIRE(d.data.data.has_value());
    CHECK(d.data.data->sockets.size() == 10);
}

TEST_CASE("sim: unknown commands are unsupported, malformed ones invalid, ota unsupported") {
    Harness h;
    h.connect();
    payloads::Message<payloads::CmdSetTime> m;
    m.env = payloads::make_envelope(h.clock.now_ms(), 0, 0);
    m.env.rid = "weird-1";
    m.env.exp = h.clock.now_ms() + 1000;
    h.dev->handle({topics::cmd("e-0001", "fly"), payloads::encode(m), 1, false});
    h.drain();
    CHECK(h.reply_to("fly", "weird-1").data.status == RS::Unsupported);
    h.dev->handle({topics::cmd("e-0001", "start_port"),
                   R"({"v":1,"ts":1,"boot":0,"seq":0,"rid":"bad-1","exp":99999999999999,"data":{"n":"x"}})", 1, false});
    h.drain();
    auto bad = h.reply_to("start_port", "bad-1");
    CHECK(bad.data.status == RS::Invalid);
    CHECK(bad.data.code == ErrorCode::InvalidRequest);
    CHECK(bad.data.msg->find("data.n") != std::string::npos);
    auto ota =
        h.reply_to("ota", h.command("ota", payloads::CmdOta{"https://x.invalid/fw.bin", "2.0", std::string(64, 'a')}));
    CHECK(ota.data.status == RS::Ok); // the download starts (see the ota cases)
}

TEST_CASE("sim: cmd/ota downloads, checks the sha256, installs, reboots and comes back with the new version") {
    Harness h;
    h.connect();
    const std::string image = "firmware image 2.0";
    const auto sha = crypto::sha256_hex(image);
    const auto rid = h.command("ota", payloads::CmdOta{"http://127.0.0.1:1/api/v1/firmware/1?token=t", "2.0", sha});
    CHECK(h.reply_to("ota", rid).data.status == RS::Ok);
    CHECK(h.dev->take_download() == std::optional<std::string>("http://127.0.0.1:1/api/v1/firmware/1?token=t"));
    CHECK_FALSE(h.dev->take_download().has_value()); // asked once
    h.dev->ota_downloaded(sha, "");
    h.drain();
    std::vector<payloads::OtaStatus> steps;
    for (const auto& e : h.decoded<payloads::EvtOta>(topics::evt("e-0001", "ota")))
        steps.push_back(e.data.st);
    using O = payloads::OtaStatus;
    CHECK(steps == std::vector<O>{O::Downloading, O::Downloaded, O::Installing});
    CHECK(h.dev->take_action() == TransportAction::Reboot);
    CHECK(h.dev->firmware() == "2.0");
    h.dev->disconnected();
    h.connect();
    auto presence = h.on(topics::presence("e-0001"));
    REQUIRE_FALSE(presence.empty());
    CHECK(payloads::decode_presence(presence.back().payload)->fw == std::optional<std::string>("2.0"));
    auto events = h.decoded<payloads::EvtOta>(topics::evt("e-0001", "ota"));
    CHECK(events.back().data.st == O::Installed);
    CHECK(events.back().data.version == "2.0");
}

TEST_CASE("sim: an image whose sha256 does not match, or a device told to fail, reports evt/ota failed") {
    using O = payloads::OtaStatus;
    Harness h;
    h.connect();
    const auto sha = crypto::sha256_hex("the real image");
    h.command("ota", payloads::CmdOta{"http://127.0.0.1:1/f", "2.0", sha});
    h.dev->ota_downloaded(crypto::sha256_hex("a corrupted image"), "");
    h.drain();
    auto events = h.decoded<payloads::EvtOta>(topics::evt("e-0001", "ota"));
    CHECK(events.back().data.st == O::Failed);
    CHECK(events.back().data.error == std::optional<std::string>("sha256 mismatch"));
    CHECK(h.dev->take_action() == TransportAction::None);
    CHECK(h.dev->firmware() == "sim-1.0.0");

    REQUIRE(h.dev->control(*parse_control("otafail e-0001 checksum")).empty());
    h.command("ota", payloads::CmdOta{"http://127.0.0.1:1/f", "2.0", sha});
    h.dev->ota_downloaded(sha, ""); // the right bytes, but the device is told to fail the check
    h.drain();
    CHECK(h.decoded<payloads::EvtOta>(topics::evt("e-0001", "ota")).back().data.st == O::Failed);

    REQUIRE(h.dev->control(*parse_control("otafail e-0001 refuse")).empty());
    const auto rid = h.command("ota", payloads::CmdOta{"http://127.0.0.1:1/f", "2.0", sha});
    CHECK(h.reply_to("ota", rid).data.status == RS::Rejected);
}

TEST_CASE("sim: cfg/desired is applied, clamped to the hardware (partial) or rejected, and reported retained") {
    Harness h;
    h.connect();
    payloads::EbikeConfig c;
    c.full_wait_s = 60;
    c.tele_period_s = 30;
    h.cfg(c, 3);
    auto rep = h.decoded<payloads::EbikeCfgReported>(topics::cfg_reported("e-0001"));
    REQUIRE(rep.size() == 1);
    CHECK(rep[0].data.version == 3);
    CHECK(rep[0].data.status == payloads::CfgStatus::Applied);
    CHECK(rep[0].data.values.full_wait_s == 60);
    CHECK(h.on(topics::cfg_reported("e-0001"))[0].retained);
    // The new thresholds are enforced: full after 60 s.
    start(h, 1, "S-c");
    h.run_for(5'000);
    h.control("full e-0001 1");
    h.run_for(70'000);
    REQUIRE(stops(h).size() == 1);
    CHECK(stops(h)[0].data.reason == EbikeStopReason::Full);

    c.socket_overload_w = 1000;
    c.socket_overrides = {payloads::SocketOverride{5, 5000, std::nullopt}};
    h.cfg(c, 4);
    rep = h.decoded<payloads::EbikeCfgReported>(topics::cfg_reported("e-0001"));
    CHECK(rep.back().data.status == payloads::CfgStatus::Partial);
    CHECK(rep.back().data.values.socket_overload_w == 600);
    REQUIRE(rep.back().data.values.socket_overrides.size() == 1);
    CHECK(rep.back().data.values.socket_overrides[0].socket_overload_w == 3500);
    CHECK(rep.back().data.rejected == std::vector<std::string>{"socket_overload_w", "socket_overrides"});

    h.dev->handle({topics::cfg_desired("e-0001"),
                   R"({"v":1,"ts":1,"boot":0,"seq":0,"data":{"version":5,"full_stop_w":900}})", 1, true});
    h.drain();
    rep = h.decoded<payloads::EbikeCfgReported>(topics::cfg_reported("e-0001"));
    CHECK(rep.back().data.version == 5);
    CHECK(rep.back().data.status == payloads::CfgStatus::Rejected);
    CHECK(rep.back().data.values.socket_overload_w == 600); // what stays in force
    CHECK(pile(h).config().full_wait_s == 60);
}

TEST_CASE("sim: the configuration in force survives a restart of the simulator") {
    Harness h;
    h.connect();
    payloads::EbikeConfig c;
    c.full_wait_s = 120;
    h.cfg(c, 7);
    h.make(FleetDevice{"e-0001", Kind::EbikePile, 10, "secret", false});
    CHECK(pile(h).config().full_wait_s == 120);
    CHECK(pile(h).config_version() == 7);
}

TEST_CASE("sim: a card swipe asks authorize; accept starts the socket with the platform's sid and limit") {
    Harness h;
    h.connect();
    CHECK(h.control("swipe e-0001 8 CARD01") == "");
    auto sw = h.decoded<payloads::EbikeCardSwipe>(topics::evt("e-0001", "card_swipe"));
    REQUIRE(sw.size() == 1);
    CHECK(sw[0].data.card_uid == "CARD01");
    auto req = h.decoded<payloads::EbikeAuthorize>(topics::req("e-0001", "authorize"));
    REQUIRE(req.size() == 1);
    CHECK(req[0].data.n == 8);
    payloads::AuthorizeReply a;
    a.decision = payloads::Decision::Accept;
    a.sid = "S-card";
    a.limit = payloads::ChargeLimit::time(60);
    a.balance_fen = 1000;
    h.request_reply("authorize", *req[0].env.rid, RS::Ok, std::optional(a));
    auto started = h.decoded<payloads::EbikeSessionStarted>(topics::evt("e-0001", "session_started"));
    REQUIRE(started.size() == 1);
    CHECK(started[0].data.sid == "S-card");
    CHECK(pile(h).socket_sid(8) == "S-card");
    // the same card again ends the session
    h.run_for(60'000);
    h.control("swipe e-0001 8 CARD01");
    REQUIRE(stops(h).size() == 1);
    CHECK(stops(h)[0].data.reason == EbikeStopReason::UserStop);
    // a rejected card starts nothing
    h.control("swipe e-0001 9 CARD02");
    auto req2 = h.decoded<payloads::EbikeAuthorize>(topics::req("e-0001", "authorize"));
    payloads::AuthorizeReply no;
    no.decision = payloads::Decision::Reject;
    no.reason = ErrorCode::BalanceTooLow;
    h.request_reply("authorize", *req2.back().env.rid, RS::Ok, std::optional(no));
    CHECK(pile(h).socket_status(9) == EbikeSocketStatus::Idle);
}

TEST_CASE("sim: unplugging stops an energy or full session unplugged") {
    Harness h;
    h.connect();
    start(h, 1, "S-u");
    h.run_for(30'000);
    CHECK(h.control("unplug e-0001 1") == "");
    REQUIRE(stops(h).size() == 1);
    CHECK(stops(h)[0].data.reason == EbikeStopReason::Unplugged);
    CHECK(h.control("unplug e-0001 1") != "");
}

TEST_CASE("sim: with --speed the pile's durations run faster, timestamps stay wall-clock") {
    Harness h;
    h.settings.speed = 60;
    h.connect();
    start(h, 1, "S-fast", payloads::ChargeLimit::time(60));
    h.run_for(59'000, 200);
    CHECK(stops(h).empty());
    h.run_for(2'000, 200);
    auto st = stops(h);
    REQUIRE(st.size() == 1);
    CHECK(st[0].data.duration_s == 3600);
    auto rec = records(h);
    REQUIRE(rec.size() == 1);
    CHECK(rec[0].data.stop_ts - rec[0].data.start_ts <= 61'000);
    // 1 h at ~200 W
    CHECK(st[0].data.energy_wh >= 140);
    CHECK(st[0].data.energy_wh <= 260);
}

TEST_CASE("sim: idle piles send telemetry every idle_tele_period_s") {
    Harness h;
    h.connect();
    h.run_for(30 * 60'000, 5000);
    const auto n = h.count(topics::tele("e-0001"));
    CHECK(n >= 5);
    CHECK(n <= 7);
}

TEST_CASE("sim: reboot now stops sessions and asks the transport to reconnect; when_idle waits") {
    Harness h;
    h.connect();
    start(h, 1, "S-r");
    h.command("reboot", payloads::CmdReboot{payloads::RebootWhen::WhenIdle});
    CHECK(h.dev->take_action() == TransportAction::None);
    h.command("stop_port", stop_cmd(1));
    CHECK(h.dev->take_action() == TransportAction::Reboot);
    start(h, 2, "S-r2");
    h.command("reboot", payloads::CmdReboot{payloads::RebootWhen::Now});
    CHECK(h.dev->take_action() == TransportAction::Reboot);
    CHECK(pile(h).active_sessions() == 0);
}

TEST_CASE("sim: charging goes on while offline; events are not queued but the record is sent on reconnect") {
    Harness h;
    h.connect();
    start(h, 1, "S-off", payloads::ChargeLimit::time(5));
    h.dev->disconnected();
    h.clear();
    h.run_for(6 * 60'000);
    CHECK(h.out.empty());
    CHECK(h.dev->pending_records() == 1);
    h.connect();
    auto rec = records(h);
    REQUIRE(rec.size() == 1);
    CHECK(rec[0].data.sid == "S-off");
    CHECK(rec[0].data.reason == EbikeStopReason::QuotaReached);
}
