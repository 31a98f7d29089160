#include "common/payloads.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using namespace pilehub::payloads;

namespace {

constexpr const char* kTele =
    R"({"v":1,"ts":1732183200123,"boot":17,"seq":4411,"data":{"temp_c":41.5,"total_power_w":200.7,"rssi_dbm":-71,)"
    R"("sockets":[{"n":3,"st":"charging","voltage_v":229.8,"current_a":0.86,"power_w":197.6,)"
    R"("session_energy_wh":152,"sid":"s-1"},{"n":7,"st":"full_wait","power_w":3.1}]}})";

template <typename T> Message<T> ok(std::string_view text) {
    auto r = decode<T>(text);
    REQUIRE_MESSAGE(r.ok(), r.error());
    return r.value();
}

template <typename T> std::string why(std::string_view text) {
    auto r = decode<T>(text);
    REQUIRE_FALSE(r.ok());
    return r.error();
}

std::string cmd(std::string_view data) {
    return R"({"v":1,"ts":1,"boot":3,"seq":9,"rid":"c-1","exp":1732183230500,"data":)" + std::string(data) + "}";
}

} // namespace

TEST_CASE("payloads: an e-bike telemetry decodes into typed sockets") {
    const auto m = ok<EbikeTele>(kTele);
    CHECK(m.env.v == 1);
    CHECK(m.env.ts == 1732183200123);
    CHECK(m.env.boot == 17);
    CHECK(m.env.seq == 4411);
    CHECK_FALSE(m.env.id);
    CHECK(m.data.temp_c == 41.5);
    CHECK(m.data.rssi_dbm == -71);
    REQUIRE(m.data.sockets.size() == 2);
    CHECK(m.data.sockets[0].n == 3);
    CHECK(m.data.sockets[0].st == EbikeSocketStatus::Charging);
    CHECK(m.data.sockets[0].power_w == 197.6);
    CHECK(m.data.sockets[0].session_energy_wh == 152);
    CHECK(m.data.sockets[0].sid == "s-1");
    CHECK(m.data.sockets[1].st == EbikeSocketStatus::FullWait);
    CHECK_FALSE(m.data.sockets[1].voltage_v);
}

TEST_CASE("payloads: encode writes the envelope first, then data, in the CONTRACT shape") {
    Message<EbikeStartPort> m;
    m.env = make_envelope(1732183200500, 3, 120);
    m.env.rid = "c-7f3a91";
    m.env.exp = 1732183230500;
    m.data = {3, "s-20241121-000383", ChargeLimit::time(120)};
    CHECK(encode(m) == R"({"v":1,"ts":1732183200500,"boot":3,"seq":120,"rid":"c-7f3a91","exp":1732183230500,)"
                       R"("data":{"n":3,"sid":"s-20241121-000383","limit":{"kind":"time","minutes":120}}})");
    CHECK(ok<EbikeStartPort>(encode(m)) == m);
}

TEST_CASE("payloads: events need an id, requests an id and a rid, commands a rid and an exp") {
    CHECK(why<EbikeCardSwipe>(R"({"v":1,"ts":1,"boot":1,"seq":1,"data":{"card_uid":"04A1","n":3}})") ==
          "id is required");
    CHECK(why<EbikeAuthorize>(R"({"v":1,"ts":1,"boot":1,"seq":1,"id":"e-1","data":{"card_uid":"04A1","n":3}})") ==
          "rid is required");
    CHECK(why<EbikeQueryPort>(R"({"v":1,"ts":1,"boot":1,"seq":1,"rid":"c-1","data":{"n":3}})") == "exp is required");
    CHECK(ok<EbikeQueryPort>(cmd(R"({"n":3})")).data.n == 3);
}

TEST_CASE("payloads: a higher payload major version is refused with a reason") {
    CHECK(why<EbikeTele>(R"({"v":2,"ts":1,"boot":1,"seq":1,"data":{"total_power_w":0,"sockets":[]}})") ==
          "v is 2; this build speaks payload version 1 only");
    CHECK(why<EbikeTele>(R"({"v":0,"ts":1,"boot":1,"seq":1,"data":{}})").find("v is 0") == 0);
    CHECK(decode_presence(R"({"v":3,"online":true,"boot":1})").error() ==
          "v is 3; this build speaks payload version 1 only");
}

TEST_CASE("payloads: unknown fields are ignored and null counts as absent") {
    const auto m = ok<EbikeQueryPort>(
        cmd(R"({"n":3,"future_field":{"x":[1,2,3]},"sid":null})").insert(1, R"("extra":"ignored",)"));
    CHECK(m.data.n == 3);
    CHECK(encode(m).find("extra") == std::string::npos);
}

TEST_CASE("payloads: make_reply echoes the request's rid and carries status, code, msg and data") {
    const auto q = ok<EbikeQueryPort>(cmd(R"({"n":3})"));
    EbikePortStatus port;
    port.n = 3;
    port.st = EbikeSocketStatus::Idle;
    port.since = 1732180000000;
    const auto r = make_reply(q, make_envelope(1732183201020, 17, 4423), ReplyStatus::Ok, port);
    static_assert(std::is_same_v<decltype(r), const Message<Reply<EbikePortStatus>>>);
    CHECK(r.env.rid == "c-1");
    CHECK_FALSE(r.env.exp);
    CHECK(encode(r) == R"({"v":1,"ts":1732183201020,"boot":17,"seq":4423,"rid":"c-1","status":"ok",)"
                       R"("data":{"n":3,"st":"idle","since":1732180000000,"faults":[]}})");
    CHECK(ok<Reply<EbikePortStatus>>(encode(r)) == r);

    const auto busy =
        reply_error(ok<EbikeStartPort>(cmd(R"({"n":3,"sid":"s-9","limit":{"kind":"full"}})")),
                    make_envelope(5, 17, 4424), ReplyStatus::Busy, ErrorCode::SocketBusy, "socket 3 is charging");
    CHECK(encode(busy) == R"({"v":1,"ts":5,"boot":17,"seq":4424,"rid":"c-1","status":"busy","code":"socket_busy",)"
                          R"("msg":"socket 3 is charging"})");
    const auto back = ok<Reply<Empty>>(encode(busy));
    CHECK(back.data.status == ReplyStatus::Busy);
    CHECK(back.data.code == ErrorCode::SocketBusy);
    CHECK_FALSE(back.data.data);
}

TEST_CASE("payloads: a reply with an unknown status or code is refused") {
    const std::string base = R"({"v":1,"ts":1,"boot":1,"seq":1,"rid":"c-1",)";
    CHECK(why<Reply<Empty>>(base + R"("status":"done"})").find("status must be one of accepted|ok|") == 0);
    CHECK(why<Reply<Empty>>(base + R"("status":"failed","code":"boom"})") == "code 'boom' is not a known error code");
    CHECK(why<Reply<Empty>>(base + R"("code":"internal"})") == "status is required");
}

TEST_CASE("payloads: a charge limit carries exactly the member of its kind") {
    const auto start = [](std::string_view limit) {
        return decode<EbikeStartPort>(cmd(R"({"n":1,"sid":"s-1","limit":)" + std::string(limit) + "}"));
    };
    CHECK(start(R"({"kind":"time","minutes":60})")->data.limit == ChargeLimit::time(60));
    CHECK(start(R"({"kind":"energy","wh":500})")->data.limit == ChargeLimit::energy(500));
    CHECK(start(R"({"kind":"full"})")->data.limit == ChargeLimit::full());
    CHECK(start(R"({"kind":"time"})").error() == "data.limit.minutes is required when kind is time");
    CHECK(start(R"({"kind":"energy","minutes":5})").error() == "data.limit.wh is required when kind is energy");
    CHECK(start(R"({"kind":"full","wh":5})").error() == "data.limit.wh is only allowed when kind is energy");
    CHECK(start(R"({"kind":"time","minutes":0})").error() == "data.limit.minutes is 0, outside 1..2880");
    CHECK(start(R"({"kind":"soon"})").error() == "data.limit.kind must be one of time|energy|full");
}

TEST_CASE("payloads: ev fault names follow the bit table of CONTRACT A.5") {
    CHECK(ev_fault_names(0).empty());
    CHECK(ev_fault_names(513) == std::vector<std::string>{"no_ground", "leakage"});
    CHECK(ev_fault_names(0x8000'1000u) == std::vector<std::string>{"door_open", "other"});
    CHECK(ev_fault_names(1u << 20).empty()); // bits 13..30 have no name yet
    CHECK(ev_fault_bits({"relay_welded", "estop", "cp_error", "over_temp"}) == (2u | 64u | 128u | 256u));
    CHECK_FALSE(ev_fault_bits({"no_ground", "gremlins"}));
    CHECK(ev_fault_mask(EvFault::LeakageSelftest) == 1024u);
    CHECK(ev_fault_mask(EvFault::Other) == 0x8000'0000u);
    CHECK(to_string(EvFault::ReaderFault) == "reader_fault");
    CHECK(parse_enum<EvFault>("door_open") == EvFault::DoorOpen);
    CHECK_FALSE(parse_enum<EvFault>(""));
}

TEST_CASE("payloads: ev fault names must match fault_bits, and are written from them") {
    const std::string base = R"({"v":1,"ts":1,"boot":1,"seq":1,"data":{"st":"faulted","since":5,)";
    const auto m = ok<EvConnState>(base + R"("fault_bits":513,"faults":["leakage","no_ground"]}})");
    CHECK(m.data.fault_bits == 513u);
    CHECK(encode(m).find(R"("fault_bits":513,"faults":["no_ground","leakage"])") != std::string::npos);
    CHECK(why<EvConnState>(base + R"("fault_bits":1,"faults":["leakage"]}})") ==
          "data.faults do not match fault_bits 1");
    CHECK(why<EvConnState>(base + R"("fault_bits":1,"faults":["no_ground","gremlins"]}})") ==
          "data.faults[1] 'gremlins' is not one of no_ground|relay_welded|over_current|over_voltage|under_voltage|"
          "meter_fault|estop|cp_error|over_temp|leakage|leakage_selftest|reader_fault|door_open|other");
    CHECK(why<EvConnState>(base + R"("fault_bits":4294967296}})").find("data.fault_bits is 4294967296") == 0);
}

TEST_CASE("payloads: cfg/desired fills missing keys with their defaults and refuses values out of range") {
    const std::string base = R"({"v":1,"ts":1,"boot":1,"seq":1,"data":{"version":7)";
    const auto m = ok<EbikeCfgDesired>(base + R"(,"full_stop_w":8}})");
    CHECK(m.data.version == 7);
    CHECK(m.data.values.full_stop_w == 8);
    EbikeConfig defaults;
    defaults.full_stop_w = 8;
    CHECK(m.data.values == defaults);
    CHECK(defaults.full_wait_s == 1800);
    CHECK(defaults.no_load_wait_s == 100);
    CHECK(defaults.socket_overload_w == 600);
    CHECK(defaults.device_overload_w == 6000);
    CHECK(defaults.temp_warn_c == 60);
    CHECK(defaults.temp_stop_c == 75);
    CHECK(defaults.tele_period_s == 60);
    CHECK(defaults.idle_tele_period_s == 300);
    CHECK(why<EbikeCfgDesired>(base + R"(,"full_stop_w":256}})") == "data.full_stop_w is 256, outside 0..255");
    CHECK(why<EbikeCfgDesired>(base + R"(,"temp_warn_c":80}})") == "data.temp_warn_c (80) is above temp_stop_c (75)");
    CHECK(why<EbikeCfgDesired>(base + R"(,"socket_overrides":[{"n":3,"socket_overload_w":3500},{"n":3}]}})") ==
          "data.socket_overrides[1].n repeats socket 3");
    CHECK(why<EbikeCfgDesired>(R"({"v":1,"ts":1,"boot":1,"seq":1,"data":{}})") == "data.version is required");
}

TEST_CASE("payloads: an EV charger's cfg/desired has its own keys and defaults, versioned like the e-bike one") {
    const std::string base = R"({"v":1,"ts":1,"boot":1,"seq":1,"data":{"version":3)";
    const auto m = ok<EvCfgDesired>(base + R"(,"ev_no_load_wait_s":120}})");
    CHECK(m.data.version == 3);
    EvConfig defaults;
    CHECK(defaults.ev_full_wait_s == 180);
    CHECK(defaults.ev_no_load_wait_s == 90);
    CHECK(defaults.temp_warn_c == 70);
    CHECK(defaults.temp_stop_c == 85);
    CHECK(defaults.tele_period_s == 30);
    CHECK(defaults.idle_tele_period_s == 300);
    defaults.ev_no_load_wait_s = 120;
    CHECK(m.data.values == defaults);
    // The encoder writes every key.
    CHECK(encode(m).find(R"("version":3,"ev_full_wait_s":180,"ev_no_load_wait_s":120,"temp_warn_c":70,)"
                         R"("temp_stop_c":85,"tele_period_s":30,"idle_tele_period_s":300)") != std::string::npos);
    CHECK(why<EvCfgDesired>(base + R"(,"ev_no_load_wait_s":3601}})") ==
          "data.ev_no_load_wait_s is 3601, outside 0..3600");
    CHECK(why<EvCfgDesired>(base + R"(,"temp_warn_c":90}})") == "data.temp_warn_c (90) is above temp_stop_c (85)");
    CHECK(why<EvCfgDesired>(R"({"v":1,"ts":1,"boot":1,"seq":1,"data":{}})") == "data.version is required");
    const auto r = ok<EvCfgReported>(
        R"({"v":1,"ts":1,"boot":1,"seq":1,"data":{"version":3,"status":"partial","values":{"temp_stop_c":80},)"
        R"("rejected":["ev_full_wait_s"]}})");
    CHECK(r.data.status == CfgStatus::Partial);
    CHECK(r.data.values.temp_stop_c == 80);
    CHECK(r.data.values.ev_full_wait_s == 180);
    CHECK(r.data.rejected == std::vector<std::string>{"ev_full_wait_s"});
}

TEST_CASE("payloads: presence has its own shape; a late Will is recognised") {
    const auto will = decode_presence(R"({"v":1,"online":false,"boot":17,"reason":"lwt"})");
    REQUIRE(will.ok());
    CHECK_FALSE(will->online);
    CHECK(will->reason == "lwt");
    CHECK(encode_presence(will.value()) == R"({"v":1,"online":false,"boot":17,"reason":"lwt"})");
    CHECK(is_late_will(will.value(), 18));
    CHECK_FALSE(is_late_will(will.value(), 17));
    CHECK(decode_presence(R"({"v":1,"boot":17})").error() == "online is required");
    CHECK(decode_presence(R"({"v":1,"online":"yes","boot":17})").error() == "online must be true or false");
    CHECK(decode_presence(R"({"v":1,"online":true,"boot":1,"reason":"Bad Reason"})").error().find("reason must be") ==
          0);
}

TEST_CASE("payloads: peek_envelope reads only the envelope; is_expired compares exp with now") {
    auto e = peek_envelope(cmd(R"({"anything":[1,{"x":2}]})"));
    REQUIRE(e.ok());
    CHECK(e->rid == "c-1");
    CHECK(e->exp == 1732183230500);
    CHECK(is_expired(e.value(), 1732183230501));
    CHECK_FALSE(is_expired(e.value(), 1732183230500));
    CHECK_FALSE(is_expired(Envelope{}, 1));
    CHECK(peek_envelope(R"({"v":1,"ts":1,"boot":1,"seq":1,"data":[]})").error() == "data must be an object");
}

TEST_CASE("payloads: the envelope codec keeps any data object verbatim") {
    const auto m = ok<RawData>(R"({"v":1,"ts":1,"boot":1,"seq":1,"id":"e-1","data":{"a":[1,2.5,"x"],"b":{"c":null}}})");
    CHECK(m.data.json == R"({"a":[1,2.5,"x"],"b":{"c":null}})");
    CHECK(encode(m) == R"({"v":1,"ts":1,"boot":1,"seq":1,"id":"e-1","data":{"a":[1,2.5,"x"],"b":{"c":null}}})");
}

TEST_CASE("payloads: info requires the count that matches the device kind") {
    const std::string base = R"({"v":1,"ts":1,"boot":1,"seq":1,"data":{"model":"M","firmware":"1",)";
    CHECK(ok<DeviceInfo>(base + R"("kind":"ebike_pile","socket_count":20}})").data.socket_count == 20);
    CHECK(why<DeviceInfo>(base + R"("kind":"ebike_pile","gun_count":2}})") ==
          "data.socket_count is required for an ebike_pile");
    CHECK(why<DeviceInfo>(base + R"("kind":"ev_charger"}})") == "data.gun_count is required for an ev_charger");
    CHECK(why<DeviceInfo>(base + R"("kind":"camera","space_count":65}})") == "data.space_count is 65, outside 1..64");
    CHECK(why<DeviceInfo>(base + R"("kind":"toaster"}})") == "data.kind must be one of ebike_pile|ev_charger|camera");
}

TEST_CASE("payloads: schema_for maps a device topic of each kind to its schema") {
    const auto of = [](DeviceKind k, std::string_view topic) {
        auto t = topics::parse_device_topic(topic);
        REQUIRE(t);
        return schema_for(k, *t);
    };
    CHECK(of(DeviceKind::EbikePile, "ph/v1/dev/e1/presence") == "presence");
    CHECK(of(DeviceKind::EbikePile, "ph/v1/dev/e1/conn/3/state") == "ebike_conn_state");
    CHECK(of(DeviceKind::EvCharger, "ph/v1/dev/e1/conn/1/state") == "ev_conn_state");
    CHECK(of(DeviceKind::Camera, "ph/v1/dev/e1/space/2/state") == "camera_space_state");
    CHECK(of(DeviceKind::Camera, "ph/v1/dev/e1/conn/2/state") == std::nullopt);
    CHECK(of(DeviceKind::EbikePile, "ph/v1/dev/e1/evt/card_swipe") == "ebike_evt_card_swipe");
    CHECK(of(DeviceKind::EvCharger, "ph/v1/dev/e1/evt/card_swipe") == std::nullopt);
    CHECK(of(DeviceKind::EvCharger, "ph/v1/dev/e1/req-reply/start_session") == "ev_req_reply_start_session");
    CHECK(of(DeviceKind::EvCharger, "ph/v1/dev/e1/req-reply/authorize") == "req_reply_authorize");
    CHECK(of(DeviceKind::EbikePile, "ph/v1/dev/e1/cmd-reply/query_port") == "ebike_cmd_reply_query_port");
    CHECK(of(DeviceKind::EbikePile, "ph/v1/dev/e1/cmd-reply/start_port") == "reply");
    CHECK(of(DeviceKind::Camera, "ph/v1/dev/e1/cmd/lock") == "camera_cmd_lock");
    CHECK(of(DeviceKind::EbikePile, "ph/v1/dev/e1/cfg/desired") == "ebike_cfg_desired");
    CHECK(of(DeviceKind::EvCharger, "ph/v1/dev/e1/cfg/desired") == "ev_cfg_desired");
    CHECK(of(DeviceKind::EvCharger, "ph/v1/dev/e1/cfg/reported") == "ev_cfg_reported");
    CHECK(of(DeviceKind::Camera, "ph/v1/dev/e1/cfg/desired") == std::nullopt);
    // evt/ota is one event of every kind (recorderd validates it instead of logging it as unknown)
    for (auto k : {DeviceKind::EbikePile, DeviceKind::EvCharger, DeviceKind::Camera})
        CHECK(of(k, "ph/v1/dev/e1/evt/ota") == "evt_ota");
    // every schema schema_for names has a codec
    for (auto k : {DeviceKind::EbikePile, DeviceKind::EvCharger, DeviceKind::Camera})
        for (auto leaf : {"presence", "info", "state", "conn/1/state", "space/1/state", "tele", "cfg/desired",
                          "cfg/reported", "evt/fault", "evt/ota", "req/authorize", "req-reply/session_record",
                          "cmd/set_time", "cmd-reply/set_time"}) {
            auto s = of(k, std::string("ph/v1/dev/e1/") + leaf);
            if (s)
                CHECK_MESSAGE(find_codec(*s), *s);
        }
}

TEST_CASE("payloads: every enum word parses back to its value") {
    for (auto s : {ReplyStatus::Accepted, ReplyStatus::Ok, ReplyStatus::Rejected, ReplyStatus::Failed,
                   ReplyStatus::Busy, ReplyStatus::Expired, ReplyStatus::Unsupported, ReplyStatus::Invalid})
        CHECK(parse_enum<ReplyStatus>(to_string(s)) == s);
    for (int i = 0; i <= static_cast<int>(EbikeStopReason::Other); ++i) {
        const auto r = static_cast<EbikeStopReason>(i);
        CHECK(parse_enum<EbikeStopReason>(to_string(r)) == r);
    }
    for (int i = 0; i <= static_cast<int>(EvGunStatus::Faulted); ++i) {
        const auto r = static_cast<EvGunStatus>(i);
        CHECK(parse_enum<EvGunStatus>(to_string(r)) == r);
    }
    for (int i = 0; i <= static_cast<int>(EvStopReason::QuotaReached); ++i) {
        const auto r = static_cast<EvStopReason>(i);
        CHECK(parse_enum<EvStopReason>(to_string(r)) == r);
    }
    CHECK(to_string(EvGunStatus::SuspendedEvse) == "suspended_evse");
    CHECK(to_string(EbikeSocketStatus::FullWait) == "full_wait");
    CHECK(to_string(LockStatus::Moving) == "moving");
    CHECK(to_string(PlateColor::YellowGreen) == "yellow_green");
    CHECK(to_string(DeviceKind::EvCharger) == "ev_charger");
    CHECK(parse_enum<RebootWhen>("when_idle") == RebootWhen::WhenIdle);
    CHECK_FALSE(parse_enum<LockAction>("Raise"));
}

TEST_CASE("payloads: an EV session record keeps its meters in order") {
    const std::string base = R"({"v":1,"ts":1,"boot":1,"seq":1,"id":"e-1","rid":"r-1","data":{"n":1,"sid":"s-1",)"
                             R"("reason":"remote","start_ts":10,"stop_ts":20,"meter_start_wh":100,)";
    CHECK(ok<EvSessionRecord>(base + R"("meter_stop_wh":150}})").data.meter_stop_wh == 150);
    CHECK(why<EvSessionRecord>(base + R"("meter_stop_wh":99}})") ==
          "data.meter_stop_wh (99) is below meter_start_wh (100)");
}

TEST_CASE("payloads: envelope builders set exactly the fields each flow requires") {
    const auto evt = make_event_envelope(1, 17, 5, "e-17-5");
    CHECK(evt.id == "e-17-5");
    CHECK_FALSE(evt.rid);
    const auto req = make_request_envelope(1, 17, 6, "e-17-6", "r-17-6");
    CHECK(req.id == "e-17-6");
    CHECK(req.rid == "r-17-6");
    const auto c = make_command_envelope(1, 3, 7, "c-9", 31);
    CHECK(c.rid == "c-9");
    CHECK(c.exp == 31);
    CHECK_FALSE(c.id);
    const Message<EbikeCardSwipe> swipe{evt, {"04A1B2", 3}};
    CHECK(ok<EbikeCardSwipe>(encode(swipe)) == swipe);
    const Message<EbikeAuthorize> auth{req, {"04A1B2", 3}};
    CHECK(ok<EbikeAuthorize>(encode(auth)) == auth);
    const Message<EvReset> reset{c, {ResetType::Hard}};
    CHECK(ok<EvReset>(encode(reset)) == reset);
}
