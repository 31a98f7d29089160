// ChargePoint: one OCPP 1.6-J charger mapped onto the device contract (CONTRACT D.2), driven
// directly (OCPP text and MQTT messages in, what it publishes and sends out) on a real migrated
// SQLite database and a ManualClock. No network, no sleeping.
#include "common/db.hpp"
#include "common/json.hpp"
#include "common/payloads.hpp"
#include "common/topics.hpp"
#include "gateway/charge_point.hpp"
#include "gateway/ocpp_frame.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/registry_seed.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <memory>

using namespace pilehub;
using namespace pilehub::ocpp;
using OcppError = pilehub::ocpp::ErrorCode;

namespace {

constexpr const char* kId = "OC1";
constexpr EpochMs kT0 = 1'796'000'000'000; // 2026-11-30

/// A migrated core database holding one OCPP charger `OC1` with two guns, and its ChargePoint.
struct World {
    std::string dir = test::make_temp_dir("charge-point");
    db::Database db{dir + "/core.db"};
    ManualClock clock{kT0};
    GatewayStore store{db};
    std::unique_ptr<ChargePoint> cp;
    std::int64_t next_uid = 0;

    World() {
        db::migrate(db, db::core_migrations());
        registry::Store reg(db);
        registry::Station st;
        st.operator_id = reg.ensure_operator("op", 1);
        st.name = "S";
        registry::Device d;
        d.id = kId;
        d.kind = registry::DeviceKind::EvCharger;
        d.station_id = reg.add_station(st, 1);
        d.ports = 2;
        reg.add_device(d, "$7$unused", 1);
        db.exec("UPDATE devices SET protocol = 'ocpp1.6' WHERE id = 'OC1'");
        db.exec("INSERT INTO ocpp_credentials (device_id, key_hash, issued_at) VALUES ('OC1', '$7$x', 1)");
        reconnect();
    }
    ~World() { std::filesystem::remove_all(dir); }

    /// A new connection (what a gateway restart or a reconnect does): a new ChargePoint, connected.
    Effects reconnect() {
        cp = std::make_unique<ChargePoint>(kId, 2, store.next_boot(kId, clock.now_ms()), store, clock);
        return cp->connected();
    }
    /// The charger sends a CALL; returns everything that came of it.
    Effects charger_calls(std::string_view action, std::string_view payload) {
        return cp->on_text(fmt::format(R"([2,"u{}","{}",{}])", ++next_uid, action, payload));
    }
    Effects boot() {
        return charger_calls("BootNotification", R"({"chargePointVendor":"Acme","chargePointModel":"DC60",
            "firmwareVersion":"1.2.3","chargePointSerialNumber":"SN1"})");
    }
    /// The platform answers request `rid` (`req-reply/<name>`) with `data`.
    Effects platform_replies(std::string_view name, std::string_view rid, std::string_view data,
                             std::string_view status = "ok") {
        return cp->on_mqtt({topics::req_reply(kId, name),
                            fmt::format(R"({{"v":1,"ts":{},"boot":0,"seq":1,"rid":"{}","status":"{}","data":{}}})",
                                        clock.now_ms(), rid, status, data),
                            1, false});
    }
    /// The platform commands `name` with `data`, rid `rid`.
    Effects command(std::string_view name, std::string_view rid, std::string_view data, EpochMs exp_in = 60'000) {
        return cp->on_mqtt({topics::cmd(kId, name),
                            fmt::format(R"({{"v":1,"ts":{},"boot":0,"seq":1,"rid":"{}","exp":{},"data":{}}})",
                                        clock.now_ms(), rid, clock.now_ms() + exp_in, data),
                            1, false});
    }
};

/// The messages published on `leaf` (`info`, `evt/plug_in`, `req/start_session`, ...).
std::vector<std::string> published(const Effects& e, std::string_view leaf) {
    std::vector<std::string> out;
    const auto topic = std::string(topics::kDevRoot) + kId + "/" + std::string(leaf);
    for (const auto& m : e.publish)
        if (m.topic == topic)
            out.push_back(m.payload);
    return out;
}

std::string one(const Effects& e, std::string_view leaf) {
    const auto all = published(e, leaf);
    REQUIRE_MESSAGE(all.size() == 1, leaf);
    return all.front();
}

/// A string member of a JSON object at a dotted path (`data.sid`).
std::string field(const std::string& json_text, std::string_view path) {
    auto doc = json::parse(json_text);
    REQUIRE(doc);
    const rapidjson::Value* v = &*doc;
    while (!path.empty()) {
        const auto dot = path.find('.');
        const std::string key(path.substr(0, dot));
        REQUIRE_MESSAGE(v->IsObject(), key);
        const auto it = v->FindMember(key.c_str());
        REQUIRE_MESSAGE(it != v->MemberEnd(), key);
        v = &it->value;
        path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    }
    if (v->IsString())
        return v->GetString();
    json::Writer w;
    w.raw_value(*v);
    return w.str();
}

/// The only frame sent to the charger, read.
Frame sent(const Effects& e) {
    REQUIRE(e.send.size() == 1);
    auto f = read_frame(e.send.front());
    REQUIRE(std::holds_alternative<Frame>(f));
    return std::get<Frame>(f);
}
CallResult result(const Effects& e) {
    auto f = sent(e);
    REQUIRE(std::holds_alternative<CallResult>(f));
    return std::get<CallResult>(f);
}
CallError error(const Effects& e) {
    auto f = sent(e);
    REQUIRE(std::holds_alternative<CallError>(f));
    return std::get<CallError>(f);
}
Call call_out(const Effects& e) {
    auto f = sent(e);
    REQUIRE(std::holds_alternative<Call>(f));
    return std::get<Call>(f);
}

/// Starts a transaction on gun `n` accepted as session `sid`; returns its transactionId.
std::int64_t start_tx(World& w, int n, const std::string& sid, std::int64_t meter_start = 1'000) {
    const auto e =
        w.charger_calls("StartTransaction", fmt::format(R"({{"connectorId":{},"idTag":"CARD1","meterStart":{},
                                       "timestamp":"2026-11-30T10:00:00Z"}})",
                                                        n, meter_start));
    const auto rid = field(one(e, "req/start_session"), "rid");
    const auto answered =
        w.platform_replies("start_session", rid, fmt::format(R"({{"decision":"accept","sid":"{}"}})", sid));
    return std::stoll(field(result(answered).payload_json, "transactionId"));
}

} // namespace

TEST_CASE("a connection announces the charger online; BootNotification gives its info and the heartbeat") {
    World w;
    const auto on = w.reconnect();
    CHECK(field(one(on, "presence"), "online") == "true");
    const auto e = w.boot();
    const auto info = one(e, "info");
    CHECK(field(info, "data.kind") == "ev_charger");
    CHECK(field(info, "data.model") == "DC60");
    CHECK(field(info, "data.firmware") == "1.2.3");
    CHECK(field(info, "data.gun_count") == "2");
    const auto conf = result(e);
    CHECK(field(conf.payload_json, "status") == "Accepted");
    CHECK(field(conf.payload_json, "interval") == "300");
    CHECK(field(result(w.charger_calls("Heartbeat", "{}")).payload_json, "currentTime").size() >= 20);
}

TEST_CASE("invalid CALLs get the CALLERROR the specification names, and the charger is still served") {
    World w;
    SUBCASE("a missing required field") {
        CHECK(error(w.charger_calls("BootNotification", R"({"chargePointVendor":"Acme"})")).code ==
              OcppError::OccurenceConstraintViolation);
    }
    SUBCASE("a field of the wrong type") {
        CHECK(error(w.charger_calls("Authorize", R"({"idTag":42})")).code == OcppError::TypeConstraintViolation);
    }
    SUBCASE("a value outside its enumeration") {
        CHECK(error(w.charger_calls("StatusNotification",
                                    R"({"connectorId":1,"errorCode":"NoError","status":"Sleeping"})"))
                  .code == OcppError::PropertyConstraintViolation);
    }
    SUBCASE("a time that is not RFC 3339") {
        CHECK(error(w.charger_calls("StartTransaction",
                                    R"({"connectorId":1,"idTag":"A","meterStart":0,"timestamp":"yesterday"})"))
                  .code == OcppError::PropertyConstraintViolation);
    }
    SUBCASE("a meter beyond what any meter holds (10^13 Wh)") {
        CHECK(error(w.charger_calls("StartTransaction", R"({"connectorId":1,"idTag":"A","meterStart":10000000000001,
            "timestamp":"2026-11-30T10:00:00Z"})"))
                  .code == OcppError::PropertyConstraintViolation);
        CHECK(
            error(w.charger_calls("MeterValues", R"({"connectorId":1,"meterValue":[{"timestamp":"2026-11-30T10:00:00Z",
            "sampledValue":[{"value":"10000000000.001","unit":"kWh"}]}]})"))
                .code == OcppError::PropertyConstraintViolation);
        const auto tx = start_tx(w, 1, "S1");
        CHECK(error(w.charger_calls("StopTransaction", fmt::format(R"({{"transactionId":{},"meterStop":-1,
            "timestamp":"2026-11-30T11:00:00Z"}})",
                                                                   tx)))
                  .code == OcppError::PropertyConstraintViolation);
    }
    SUBCASE("a connector the charger does not have") {
        CHECK(error(w.charger_calls("StatusNotification",
                                    R"({"connectorId":3,"errorCode":"NoError","status":"Available"})"))
                  .code == OcppError::PropertyConstraintViolation);
    }
    SUBCASE("a connectorId beyond a 32-bit int (fuzz_ocpp: it wrapped to a negative gun and crashed the gateway)") {
        for (const char* id : {"66666666662", "4294967297", "-1"}) {
            CAPTURE(id);
            CHECK(error(w.charger_calls(
                            "StatusNotification",
                            fmt::format(R"({{"connectorId":{},"errorCode":"NoError","status":"Available"}})", id)))
                      .code == OcppError::PropertyConstraintViolation);
            CHECK(error(w.charger_calls("MeterValues",
                                        fmt::format(R"({{"connectorId":{},"meterValue":[{{"timestamp":)"
                                                    R"("2026-11-30T10:00:00Z","sampledValue":[{{"value":"1"}}]}}]}})",
                                                    id)))
                      .code == OcppError::PropertyConstraintViolation);
            CHECK(error(w.charger_calls("StartTransaction",
                                        fmt::format(R"({{"connectorId":{},"idTag":"A","meterStart":0,)"
                                                    R"("timestamp":"2026-11-30T10:00:00Z"}})",
                                                    id)))
                      .code == OcppError::PropertyConstraintViolation);
        }
    }
    SUBCASE("an action that is not OCPP 1.6") {
        CHECK(error(w.charger_calls("Teleport", "{}")).code == OcppError::NotImplemented);
    }
    SUBCASE("an action only a central system sends") {
        CHECK(error(w.charger_calls("RemoteStartTransaction", R"({"idTag":"A"})")).code == OcppError::NotSupported);
    }
    SUBCASE("a message that is not a frame, with a readable id") {
        CHECK(error(w.cp->on_text(R"([2,"x1","Heartbeat"])")).code == OcppError::FormationViolation);
    }
    SUBCASE("garbage is only logged") {
        CHECK(w.cp->on_text("not json").send.empty());
    }
    CHECK(field(result(w.charger_calls("Heartbeat", "{}")).payload_json, "currentTime").size() >= 20);
}

TEST_CASE("StatusNotification: gun states, plug events and faults; connector 0 is the charger") {
    World w;
    w.boot();
    auto e = w.charger_calls("StatusNotification", R"({"connectorId":1,"errorCode":"NoError","status":"Preparing"})");
    CHECK(field(one(e, "conn/1/state"), "data.st") == "preparing");
    CHECK(field(one(e, "evt/plug_in"), "data.n") == "1");
    CHECK(result(e).payload_json == "{}");
    e = w.charger_calls("StatusNotification", R"({"connectorId":1,"errorCode":"NoError","status":"Available"})");
    CHECK(published(e, "evt/plug_out").size() == 1);
    e = w.charger_calls("StatusNotification",
                        R"({"connectorId":2,"errorCode":"GroundFailure","status":"Faulted","vendorErrorCode":"E17"})");
    const auto fault = one(e, "evt/fault");
    CHECK(field(fault, "data.faults") == R"(["no_ground"])");
    CHECK(field(fault, "data.vendor_code") == "E17");
    CHECK(field(one(e, "conn/2/state"), "data.st") == "faulted");
    e = w.charger_calls("StatusNotification", R"({"connectorId":0,"errorCode":"HighTemperature","status":"Faulted"})");
    CHECK(field(one(e, "state"), "data.faults") == R"(["over_temp"])");
}

TEST_CASE("Authorize asks the platform and answers the charger its decision in OCPP words") {
    World w;
    w.boot();
    auto e = w.charger_calls("Authorize", R"({"idTag":"CARD1"})");
    CHECK(e.send.empty()); // waits for sessiond
    const auto req = one(e, "req/authorize");
    CHECK(field(req, "data.id_tag") == "CARD1");
    const auto rid = field(req, "rid");
    SUBCASE("accepted") {
        CHECK(field(result(w.platform_replies("authorize", rid, R"({"decision":"accept"})")).payload_json,
                    "idTagInfo.status") == "Accepted");
    }
    SUBCASE("a lost card is Blocked") {
        CHECK(field(result(w.platform_replies("authorize", rid, R"({"decision":"reject","reason":"card_lost"})"))
                        .payload_json,
                    "idTagInfo.status") == "Blocked");
    }
    SUBCASE("an unknown card is Invalid") {
        CHECK(field(result(w.platform_replies("authorize", rid, R"({"decision":"reject","reason":"unknown_card"})"))
                        .payload_json,
                    "idTagInfo.status") == "Invalid");
    }
    SUBCASE("no answer in time is an InternalError, and a late answer changes nothing") {
        w.clock.advance_ms(20'001);
        CHECK(error(w.cp->tick()).code == OcppError::InternalError);
        CHECK(w.platform_replies("authorize", rid, R"({"decision":"accept"})").send.empty());
    }
}

TEST_CASE("a charger that authorises remote starts is answered Accepted for our own RemoteStart's tag") {
    World w;
    w.boot();
    call_out(w.command("start_session", "S1.start", R"({"n":2,"sid":"S1","id_tag":"APP7"})"));
    const auto e = w.charger_calls("Authorize", R"({"idTag":"APP7"})");
    CHECK(published(e, "req/authorize").empty());
    CHECK(field(result(e).payload_json, "idTagInfo.status") == "Accepted");
}

TEST_CASE("StartTransaction maps a transactionId to the session, once, however often the charger sends it") {
    World w;
    w.boot();
    const auto tx = start_tx(w, 1, "S1");
    CHECK(tx > 0);
    // The conf was lost; the charger sends the same StartTransaction again: same id, no new request.
    const auto again =
        w.charger_calls("StartTransaction",
                        R"({"connectorId":1,"idTag":"CARD1","meterStart":1000,"timestamp":"2026-11-30T10:00:00Z"})");
    CHECK(published(again, "req/start_session").empty());
    CHECK(field(result(again).payload_json, "transactionId") == std::to_string(tx));
    // A refused start still gets a transactionId, with the refusal.
    const auto e = w.charger_calls(
        "StartTransaction", R"({"connectorId":2,"idTag":"LOST","meterStart":5,"timestamp":"2026-11-30T10:01:00Z"})");
    const auto rid = field(one(e, "req/start_session"), "rid");
    const auto refused = w.platform_replies("start_session", rid, R"({"decision":"reject","reason":"card_lost"})");
    CHECK(field(result(refused).payload_json, "idTagInfo.status") == "Blocked");
    CHECK(published(refused, "evt/session_started").empty());
}

TEST_CASE("an accepted start publishes session_started with the meter start, and the gun's sid") {
    World w;
    w.boot();
    w.charger_calls("StatusNotification", R"({"connectorId":1,"errorCode":"NoError","status":"Charging"})");
    const auto e = w.charger_calls(
        "StartTransaction", R"({"connectorId":1,"idTag":"APP7","meterStart":2000,"timestamp":"2026-11-30T10:00:00Z"})");
    const auto rid = field(one(e, "req/start_session"), "rid");
    const auto answered = w.platform_replies("start_session", rid, R"({"decision":"accept","sid":"S7"})");
    const auto started = one(answered, "evt/session_started");
    CHECK(field(started, "data.sid") == "S7");
    CHECK(field(started, "data.meter_start_wh") == "2000");
    CHECK(field(one(answered, "conn/1/state"), "data.sid") == "S7");
}

TEST_CASE("MeterValues become telemetry: kWh exactly in Wh, phases summed, the session's energy") {
    World w;
    w.boot();
    w.charger_calls("StatusNotification", R"({"connectorId":1,"errorCode":"NoError","status":"Charging"})");
    const auto tx = start_tx(w, 1, "S1", 10'000);
    const auto e = w.charger_calls("MeterValues", fmt::format(R"({{"connectorId":1,"transactionId":{},"meterValue":[
        {{"timestamp":"2026-11-30T10:05:00Z","sampledValue":[
          {{"value":"12.345","measurand":"Energy.Active.Import.Register","unit":"kWh","context":"Sample.Periodic"}},
          {{"value":"2300","measurand":"Power.Active.Import","unit":"W","phase":"L1"}},
          {{"value":"2.3","measurand":"Power.Active.Import","unit":"kW","phase":"L2"}},
          {{"value":"2300","measurand":"Power.Active.Import","phase":"L3"}},
          {{"value":"230","measurand":"Voltage","phase":"L1-N"}},
          {{"value":"234","measurand":"Voltage","phase":"L2-N"}},
          {{"value":"55","measurand":"SoC","unit":"Percent","location":"EV"}}]}}]}})",
                                                              tx));
    const auto tele = one(e, "tele");
    for (const auto& m : e.publish)
        if (m.topic == topics::tele(kId))
            CHECK(m.qos == 0); // CONTRACT A.2
    CHECK(field(tele, "data.guns").find(R"("energy_register_wh":12345)") != std::string::npos);
    CHECK(field(tele, "data.guns").find(R"("session_energy_wh":2345)") != std::string::npos);
    CHECK(field(tele, "data.guns").find(R"("power_w":6900)") != std::string::npos);
    CHECK(field(tele, "data.guns").find(R"("voltage_v":232)") != std::string::npos);
    CHECK(field(tele, "data.guns").find(R"("soc_pct":55)") != std::string::npos);
    CHECK(field(tele, "data.guns").find(R"("sid":"S1")") != std::string::npos);
    CHECK(field(tele, "ts") == "1796033100000"); // the sample's own time, 2026-11-30T10:05:00Z
    CHECK(result(e).payload_json == "{}");
    // A value that is not a number refuses the whole message.
    CHECK(error(w.charger_calls("MeterValues", R"({"connectorId":1,"meterValue":[{"timestamp":"2026-11-30T10:06:00Z",
        "sampledValue":[{"value":"lots"}]}]})"))
              .code == OcppError::PropertyConstraintViolation);
}

TEST_CASE("StopTransaction settles the session once: stopped event, a record resent until acknowledged") {
    World w;
    w.boot();
    const auto tx = start_tx(w, 1, "S1", 1'000);
    const auto stop = fmt::format(R"({{"transactionId":{},"meterStop":8500,"timestamp":"2026-11-30T11:00:00Z",
        "reason":"EVDisconnected","idTag":"CARD1","transactionData":[{{"timestamp":"2026-11-30T10:30:00Z",
        "sampledValue":[{{"value":"4200"}}]}}]}})",
                                  tx);
    auto e = w.charger_calls("StopTransaction", stop);
    const auto stopped = one(e, "evt/session_stopped");
    CHECK(field(stopped, "data.reason") == "ev_disconnected");
    CHECK(field(stopped, "data.meter_stop_wh") == "8500");
    const auto record = one(e, "req/session_record");
    CHECK(field(record, "data.meter_start_wh") == "1000");
    CHECK(field(record, "data.meter_stop_wh") == "8500");
    CHECK(field(record, "data.sid") == "S1");
    CHECK(published(e, "tele").size() == 1); // the transaction's data
    CHECK(field(result(e).payload_json, "idTagInfo.status") == "Accepted");
    const auto rid = field(record, "rid");

    // The charger sends the same stop again (its conf was lost): no second stop, the same record.
    e = w.charger_calls("StopTransaction", stop);
    CHECK(published(e, "evt/session_stopped").empty());
    CHECK(field(one(e, "req/session_record"), "rid") == rid);

    // Not acknowledged: sent again after the resend period, and after a gateway restart.
    w.clock.advance_ms(30'000);
    CHECK(field(one(w.cp->tick(), "req/session_record"), "rid") == rid);
    CHECK(field(one(w.reconnect(), "req/session_record"), "rid") == rid);

    // Acknowledged: never again.
    w.platform_replies("session_record", rid, "{}");
    w.clock.advance_ms(60'000);
    CHECK(published(w.cp->tick(), "req/session_record").empty());
    CHECK(published(w.reconnect(), "req/session_record").empty());
}

TEST_CASE("a StopTransaction queued offline and sent hours later, after a gateway restart, finds its session") {
    World w;
    w.boot();
    const auto tx = start_tx(w, 2, "S9", 500);
    w.reconnect(); // the gateway restarted; the transaction map is in the database
    w.clock.advance_ms(5 * 3'600'000);
    const auto e = w.charger_calls("StopTransaction", fmt::format(R"({{"transactionId":{},"meterStop":30500,
        "timestamp":"2026-11-30T12:00:00Z","reason":"Local"}})",
                                                                  tx));
    const auto record = one(e, "req/session_record");
    CHECK(field(record, "data.sid") == "S9");
    CHECK(field(record, "data.n") == "2");
    CHECK(field(record, "data.reason") == "local");
}

TEST_CASE("a StopTransaction of a transaction that is not this charger's is acknowledged and changes nothing") {
    World w;
    w.boot();
    const auto e =
        w.charger_calls("StopTransaction", R"({"transactionId":999,"meterStop":1,"timestamp":"2026-11-30T12:00:00Z"})");
    CHECK(e.publish.empty());
    CHECK(result(e).payload_json == "{}");
}

TEST_CASE("platform commands become OCPP CALLs and the charger's answers their replies") {
    World w;
    w.boot();
    SUBCASE("start_session → RemoteStartTransaction; Accepted is only interim") {
        auto e = w.command("start_session", "S1.start", R"({"n":1,"sid":"S1","id_tag":"APP7"})");
        const auto c = call_out(e);
        CHECK(c.action == "RemoteStartTransaction");
        CHECK(field(c.payload_json, "idTag") == "APP7");
        CHECK(field(c.payload_json, "connectorId") == "1");
        e = w.cp->on_text(fmt::format(R"([3,"{}",{{"status":"Accepted"}}])", c.unique_id));
        CHECK(field(one(e, "cmd-reply/start_session"), "status") == "accepted");
        CHECK(w.cp->calls_in_flight() == 0);
    }
    SUBCASE("stop_session → RemoteStopTransaction of the session's transaction") {
        const auto tx = start_tx(w, 1, "S1");
        auto e = w.command("stop_session", "S1.stop", R"({"sid":"S1"})");
        const auto c = call_out(e);
        CHECK(c.action == "RemoteStopTransaction");
        CHECK(field(c.payload_json, "transactionId") == std::to_string(tx));
        e = w.cp->on_text(fmt::format(R"([3,"{}",{{"status":"Accepted"}}])", c.unique_id));
        const auto reply = one(e, "cmd-reply/stop_session");
        CHECK(field(reply, "status") == "ok");
        // The same command again (a retry with the same rid): the same answer, no second CALL.
        e = w.command("stop_session", "S1.stop", R"({"sid":"S1"})");
        CHECK(e.send.empty());
        CHECK(field(one(e, "cmd-reply/stop_session"), "status") == "ok");
    }
    SUBCASE("stop_session of a session the charger never started is rejected") {
        const auto e = w.command("stop_session", "S5.stop", R"({"sid":"S5"})");
        CHECK(e.send.empty());
        CHECK(field(one(e, "cmd-reply/stop_session"), "status") == "rejected");
    }
    SUBCASE("reset, unlock, set_availability") {
        auto c = call_out(w.command("reset", "r1", R"({"type":"soft"})"));
        CHECK(c.action == "Reset");
        CHECK(field(c.payload_json, "type") == "Soft");
        c = call_out(w.command("unlock", "r2", R"({"n":2})"));
        CHECK(c.action == "UnlockConnector");
        const auto e = w.cp->on_text(fmt::format(R"([3,"{}",{{"status":"UnlockFailed"}}])", c.unique_id));
        CHECK(field(one(e, "cmd-reply/unlock"), "status") == "failed");
        c = call_out(w.command("set_availability", "r3", R"({"n":0,"operative":false})"));
        CHECK(c.action == "ChangeAvailability");
        CHECK(field(c.payload_json, "type") == "Inoperative");
    }
    SUBCASE("a command past its exp is refused and not carried out") {
        const auto e = w.command("reset", "r9", R"({"type":"hard"})", -1);
        CHECK(e.send.empty());
        CHECK(field(one(e, "cmd-reply/reset"), "status") == "expired");
    }
    SUBCASE("a charger that does not answer: the command fails as a time-out") {
        call_out(w.command("reset", "r4", R"({"type":"hard"})"));
        w.clock.advance_ms(30'001);
        const auto e = w.cp->tick();
        CHECK(field(one(e, "cmd-reply/reset"), "code") == "timeout");
    }
    SUBCASE("a CALLERROR NotSupported is unsupported") {
        const auto c = call_out(w.command("unlock", "r5", R"({"n":1})"));
        const auto e = w.cp->on_text(fmt::format(R"([4,"{}","NotSupported","no lock",{{}}])", c.unique_id));
        CHECK(field(one(e, "cmd-reply/unlock"), "status") == "unsupported");
    }
    SUBCASE("set_time asks for a Heartbeat (its conf sets the charger's clock); query_port for a StatusNotification") {
        auto c = call_out(w.command("set_time", "r7", R"({"epoch_ms":1796000000000})"));
        CHECK(c.action == "TriggerMessage");
        CHECK(field(c.payload_json, "requestedMessage") == "Heartbeat");
        CHECK(field(one(w.cp->on_text(fmt::format(R"([3,"{}",{{"status":"Accepted"}}])", c.unique_id)),
                        "cmd-reply/set_time"),
                    "status") == "ok");
        c = call_out(w.command("query_port", "r8", R"({"n":2})"));
        CHECK(field(c.payload_json, "requestedMessage") == "StatusNotification");
        CHECK(field(c.payload_json, "connectorId") == "2");
        CHECK(field(one(w.cp->on_text(fmt::format(R"([3,"{}",{{"status":"NotImplemented"}}])", c.unique_id)),
                        "cmd-reply/query_port"),
                    "status") == "unsupported");
    }
    SUBCASE("ota is UpdateFirmware; the charger's FirmwareStatusNotifications are acknowledged and become evt/ota") {
        const auto c = call_out(w.command(
            "ota", "r9",
            R"({"url":"https://fw.example/dc60-2.0.bin","version":"2.0","sha256":"0000000000000000000000000000000000000000000000000000000000000000"})"));
        CHECK(c.action == "UpdateFirmware");
        CHECK(field(c.payload_json, "location") == "https://fw.example/dc60-2.0.bin");
        CHECK(field(c.payload_json, "retrieveDate").size() >= 20);
        CHECK(field(one(w.cp->on_text(fmt::format(R"([3,"{}",{{}}])", c.unique_id)), "cmd-reply/ota"), "status") ==
              "ok");
        for (const auto& [st, ota] :
             std::vector<std::pair<const char*, const char*>>{{"Downloading", "downloading"},
                                                              {"Downloaded", "downloaded"},
                                                              {"Installing", "installing"},
                                                              {"Installed", "installed"},
                                                              {"InstallationFailed", "failed"}}) {
            const auto e = w.charger_calls("FirmwareStatusNotification", fmt::format(R"({{"status":"{}"}})", st));
            CHECK(result(e).payload_json == "{}");
            const auto evt = one(e, "evt/ota");
            CHECK(field(evt, "data.st") == ota);
            CHECK(field(evt, "data.version") == "2.0");
        }
        CHECK(published(w.charger_calls("FirmwareStatusNotification", R"({"status":"Idle"})"), "evt/ota").empty());
        CHECK(error(w.charger_calls("FirmwareStatusNotification", R"({"status":"Exploded"})")).code ==
              OcppError::PropertyConstraintViolation);
    }
    SUBCASE("a command with no OCPP 1.6 equivalent is unsupported") {
        const auto e = w.command("set_tariff", "r6", R"({"elec_e4":1,"service_e4":1})");
        CHECK(e.send.empty());
        CHECK(field(one(e, "cmd-reply/set_tariff"), "status") == "unsupported");
    }
}

TEST_CASE("the desired configuration goes out as ChangeConfiguration after boot and is reported") {
    World w;
    auto e = w.cp->on_mqtt({topics::cfg_desired(kId),
                            R"({"v":1,"ts":1,"boot":0,"seq":1,"data":{"version":3,"tele_period_s":15,
                                "idle_tele_period_s":600}})",
                            1, true});
    CHECK(e.send.empty()); // not before BootNotification
    e = w.boot();
    REQUIRE(e.send.size() == 3); // the boot conf, then two CALLs
    std::vector<Call> calls;
    for (std::size_t i = 1; i < 3; ++i)
        calls.push_back(std::get<Call>(std::get<Frame>(read_frame(e.send[i]))));
    CHECK(field(calls[0].payload_json, "key") == "MeterValueSampleInterval");
    CHECK(field(calls[0].payload_json, "value") == "15");
    CHECK(field(calls[1].payload_json, "key") == "HeartbeatInterval");
    CHECK(
        published(w.cp->on_text(fmt::format(R"([3,"{}",{{"status":"Accepted"}}])", calls[0].unique_id)), "cfg/reported")
            .empty());
    e = w.cp->on_text(fmt::format(R"([3,"{}",{{"status":"Rejected"}}])", calls[1].unique_id));
    const auto report = one(e, "cfg/reported");
    CHECK(field(report, "data.version") == "3");
    CHECK(field(report, "data.status") == "partial");
    CHECK(field(report, "data.rejected") == R"(["idle_tele_period_s"])");
}
