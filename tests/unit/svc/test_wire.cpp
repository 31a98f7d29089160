// The svc codecs read exactly what the producers wrote by hand before they moved to common/svc (the
// functions named below, in workers/ and web-api/, are gone: the texts are kept as the wire the
// codecs must stay compatible with), and write what those readers read.
#include "svc_test_support.hpp"

#include "common/ledger.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace pilehub;

TEST_CASE("svc wire: sessiond's transition, as it publishes it today, decodes and encodes to the same text") {
    // workers/sessiond/sessiond_worker.cpp session_state_payload
    const std::string text =
        R"({"v":1,"sid":"S1732183200123a1b2c3","state":"charging","prev":"starting","reason":"started",)"
        R"("actor":"pile","ts":1732183201000,"record":false,"device_id":"P1","n":3,"account_id":17,"method":"app"})";
    const auto t = svc::decode<svc::SessionTransition>(text);
    REQUIRE_MESSAGE(t.ok(), t.error());
    CHECK(t->state == svc::SessionState::Charging);
    CHECK(t->prev == svc::SessionState::Starting);
    CHECK(t->n == 3);
    CHECK_FALSE(t->settlement.has_value());
    CHECK(svc::encode(t.value()) == text);

    const std::string created =
        R"({"v":1,"sid":"C00f1e2d3c4b5a697","state":"starting","prev":null,"reason":"card","actor":"card",)"
        R"("ts":1732183200000,"record":false,"device_id":"P1","n":2,"account_id":18,"method":"card"})";
    const auto c = svc::decode<svc::SessionTransition>(created);
    REQUIRE_MESSAGE(c.ok(), c.error());
    CHECK_FALSE(c->prev.has_value());
    CHECK(c->method == svc::SessionMethod::Card);
    CHECK(svc::encode(c.value()) == created);
}

TEST_CASE("svc wire: billingd's completed transition carries the settlement amounts in fen") {
    svc::SessionTransition t;
    t.sid = "S1";
    t.state = svc::SessionState::Completed;
    t.prev = svc::SessionState::Stopping;
    t.reason = "user_stop";
    t.actor = "billingd";
    t.ts = 1732183300000;
    t.record = true;
    t.device_id = "P1";
    t.n = 3;
    t.account_id = 17;
    t.settlement = svc::SettlementAmounts{Fen(120), Fen(150), Fen(30)};
    const auto text = svc::encode(t);
    CHECK(text.find(R"("state":"completed","prev":"stopping")") != std::string::npos);
    CHECK(text.find(R"("cost_fen":120,"priced_fen":150,"shortfall_fen":30)") != std::string::npos);
    const auto back = svc::decode<svc::SessionTransition>(text);
    REQUIRE_MESSAGE(back.ok(), back.error());
    CHECK(back.value() == t);
    const auto* schema = svc::test::find_schema("session_transition");
    REQUIRE(schema);
    std::string why;
    CHECK_MESSAGE(schema->validates(text, &why), why);
}

TEST_CASE("svc wire: billingd's running cost, as it publishes it today, decodes and encodes to the same text") {
    // workers/billingd/billingd_rules.cpp encode(CostUpdate)
    const std::string text =
        R"({"v":1,"sid":"S1","ts":1732183500000,"cost_fen":85,"balance_fen":4200,"bonus_fen":500,)"
        R"("available_fen":4700,"balance_low":true,"cap_reached":false,"quota":"chosen_time","elapsed_s":300,)"
        R"("energy_wh":16})";
    const auto c = svc::decode<svc::RunningCost>(text);
    REQUIRE_MESSAGE(c.ok(), c.error());
    CHECK(c->cost_fen == Fen(85));
    CHECK(c->available_fen == Fen(4700));
    CHECK(c->balance_low);
    CHECK(c->quota == billing::Quota::ChosenTime);
    CHECK(svc::encode(c.value()) == text);
}

TEST_CASE("svc wire: presenced's verdict, as it publishes it today, decodes and encodes to the same text") {
    // workers/presenced/presenced_worker.cpp encode_verdict
    const std::string text = R"({"v":1,"online":true,"boot":18,"since":1732183300000,"reason":"connect"})";
    const auto v = svc::decode<svc::PresenceVerdict>(text);
    REQUIRE_MESSAGE(v.ok(), v.error());
    CHECK(v->online);
    CHECK(v->boot == 18);
    CHECK(svc::encode(v.value()) == text);
}

TEST_CASE("svc wire: the RPC requests the API and autostopd send today decode") {
    // web-api/routes_rider.cpp POST /sessions
    const std::string start = R"({"account_id":17,"socket":"P1-3","mode":"time","minutes":120,"method":"app"})";
    const auto s = svc::decode<svc::StartRequest>(start);
    REQUIRE_MESSAGE(s.ok(), s.error());
    CHECK(s->mode == billing::Mode::Time);
    CHECK(s->minutes == 120);
    CHECK_FALSE(s->max_fen.has_value());
    CHECK(svc::encode(s.value()) == start);

    // autostopd_worker.cpp stop_request_json; web-api/routes_rider.cpp POST /sessions/{id}/stop
    const auto a = svc::decode<svc::StopRequest>(R"({"session_id":"S1","reason":"no_load","actor":"autostopd"})");
    REQUIRE_MESSAGE(a.ok(), a.error());
    CHECK(a->reason == svc::StopCause::NoLoad);
    CHECK(svc::is_auto_stop(a->reason));
    const auto r = svc::decode<svc::StopRequest>(R"({"session_id":"S1","reason":"user_stop","actor":"rider"})");
    REQUIRE(r.ok());
    CHECK_FALSE(svc::is_auto_stop(r->reason));

    // web-api/routes_admin_sessions.cpp
    const auto f = svc::decode<svc::ForceEndRequest>(R"({"session_id":"S1","operator":"alice"})");
    REQUIRE_MESSAGE(f.ok(), f.error());
    CHECK(f->operator_name == "alice");

    // web-api/routes_admin_devices.cpp: `data` always present, the operator named
    const auto d = svc::decode<svc::DeviceCommandRequest>(
        R"({"device_id":"P1","name":"query_port","data":{"n":3},"operator":"alice"})");
    REQUIRE_MESSAGE(d.ok(), d.error());
    CHECK(svc::name_of(d->command) == svc::DeviceCommandName::QueryPort);
    CHECK(std::get<payloads::EbikeQueryPort>(d->command).n == 3);
    CHECK(d->operator_name == "alice");
}

TEST_CASE("svc wire: a stop request's absent reason is user_stop and its absent actor the rider") {
    const auto s = svc::decode<svc::StopRequest>(R"({"session_id":"S1"})");
    REQUIRE(s.ok());
    CHECK(s->reason == svc::StopCause::UserStop);
    CHECK(s->actor == "rider");
    CHECK(svc::encode(s.value()) == R"({"session_id":"S1","reason":"user_stop","actor":"rider"})");
}

TEST_CASE("svc wire: device commands without data take their defaults") {
    const auto reboot = svc::decode<svc::DeviceCommandRequest>(R"({"device_id":"P1","name":"reboot"})");
    REQUIRE_MESSAGE(reboot.ok(), reboot.error());
    CHECK(std::get<payloads::CmdReboot>(reboot->command).when == payloads::RebootWhen::Now);
    const auto time = svc::decode<svc::DeviceCommandRequest>(R"({"device_id":"P1","name":"set_time","data":{}})");
    REQUIRE_MESSAGE(time.ok(), time.error());
    CHECK_FALSE(std::get<svc::SetTimeArgs>(time->command).epoch_ms.has_value());
    const auto dev = svc::decode<svc::DeviceCommandRequest>(R"({"device_id":"P1","name":"query_device"})");
    REQUIRE(dev.ok());
    CHECK(svc::name_of(dev->command) == svc::DeviceCommandName::QueryDevice);
    CHECK(svc::encode(dev.value()) == R"({"device_id":"P1","name":"query_device","data":{}})");
}

TEST_CASE("svc wire: every device command name and stop cause reads back from its word") {
    for (auto n : svc::kAllDeviceCommandNames)
        CHECK(svc::parse_device_command_name(svc::to_string(n)) == n);
    CHECK_FALSE(svc::parse_device_command_name("ota").has_value());
    for (auto c : svc::kAllStopCauses)
        CHECK(svc::parse_stop_cause(svc::to_string(c)) == c);
    CHECK_FALSE(svc::parse_stop_cause("remote_stop").has_value());
    for (auto m : svc::kAllSessionMethods)
        CHECK(svc::parse_session_method(svc::to_string(m)) == m);
}

TEST_CASE("svc wire: a device command's reply is read by the command it answers") {
    const std::string port = R"({"n":3,"st":"idle","since":0,"faults":[]})";
    const auto p = svc::decode_device_command_reply(svc::DeviceCommandName::QueryPort, port);
    REQUIRE_MESSAGE(p.ok(), p.error());
    CHECK(std::get<svc::QueryPortReply>(p.value()).port.n == 3);
    CHECK(svc::encode(p.value()) == port);

    const auto dev = svc::decode_device_command_reply(svc::DeviceCommandName::QueryDevice, port);
    REQUIRE_FALSE(dev.ok());
    CHECK(dev.error() == "sockets is required");

    for (auto n : {svc::DeviceCommandName::Reboot, svc::DeviceCommandName::SetTime}) {
        const auto ack = svc::decode_device_command_reply(n, "{}");
        REQUIRE(ack.ok());
        CHECK(std::holds_alternative<svc::CommandAck>(ack.value()));
        CHECK(svc::encode(ack.value()) == "{}");
    }
}

TEST_CASE("svc wire: an RPC request's data decodes from the parsed value as from text") {
    auto doc = json::parse(R"({"v":1,"rid":"r1","data":{"session_id":"S1","operator":"bob"}})");
    REQUIRE(doc.ok());
    const auto& data = doc->FindMember("data")->value;
    const auto f = svc::decode<svc::ForceEndRequest>(data);
    REQUIRE_MESSAGE(f.ok(), f.error());
    CHECK(f->operator_name == "bob");
    CHECK(f.value() == svc::decode<svc::ForceEndRequest>(svc::encode(f.value())).value());
}

TEST_CASE("svc wire: a rider's prepaid amount is bounded like any ledger amount") {
    CHECK(svc::kMaxPrepaidFen == ledger::kMaxAmountFen);
}
