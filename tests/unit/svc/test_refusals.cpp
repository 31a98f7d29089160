#include "svc_test_support.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

using namespace pilehub;

namespace {

struct Bad {
    const char* schema;
    std::string text;
    const char* reason; ///< the failure reason starts with this
    /// false for rules JSON Schema draft-04 does not state (control characters, byte lengths).
    bool schema_refuses_too = true;
};

const std::string kTransition =
    R"("v":1,"sid":"S1","prev":"charging","reason":"user_stop","actor":"rider","ts":1732183260123,"record":false,)"
    R"("device_id":"P1","n":3,"account_id":17,"method":"app")";
const std::string kCost =
    R"("v":1,"sid":"S1","ts":1732183500000,"balance_fen":4200,"bonus_fen":0,"available_fen":4200,)"
    R"("balance_low":false,"cap_reached":false,"elapsed_s":300,"energy_wh":16)";
const std::string kSession =
    R"("id":"S1","socket":"P1-3","mode":"power","method":"app","account_id":17,"created_at":1732183200123,)"
    R"("energy_wh":0,"duration_s":0,"max_power_w":0)";

std::string obj(const std::string& members) {
    return "{" + members + "}";
}

// Each decoder refuses another shape, and the reason names the field and the rule.
std::vector<Bad> bad_inputs() {
    return {
        // any payload
        {"session_transition", "", "malformed JSON"},
        {"session_transition", "[]", "payload must be an object"},
        {"sessiond_start_request", "null", "payload must be an object"},
        // session_transition
        {"session_transition", obj(kTransition), "state is required"},
        {"session_transition", obj(kTransition + R"(,"to":"stopping")"), "state is required"}, // no guessing
        {"session_transition", obj(kTransition + R"(,"state":3)"), "state must be a string"},
        {"session_transition", obj(kTransition + R"(,"state":"stopped")"),
         "state must be one of starting|charging|stopping|suspended|settling|completed|failed"},
        {"session_transition", obj(kTransition + R"(,"state":"Charging")"), "state must be one of"},
        {"session_transition",
         R"({"v":2,"sid":"S1","state":"stopping","reason":"r","actor":"a","ts":1,"record":false,"device_id":"P1","n":3,"account_id":17,"method":"app"})",
         "v is 2; this build speaks svc version 1 only"},
        {"session_transition",
         R"({"sid":"S1","state":"stopping","reason":"r","actor":"a","ts":1,"record":false,"device_id":"P1","n":3,"account_id":17,"method":"app"})",
         "v is required"},
        {"session_transition",
         R"({"v":1,"sid":"S1","state":"stopping","reason":"r","actor":"a","ts":1,"record":"no","device_id":"P1","n":3,"account_id":17,"method":"app"})",
         "record must be true or false"},
        {"session_transition",
         R"({"v":1,"sid":"S1","state":"stopping","reason":"r","actor":"a","ts":1,"record":false,"device_id":"P1","n":65,"account_id":17,"method":"app"})",
         "n is 65, outside 1..64"},
        {"session_transition",
         R"({"v":1,"sid":"S1","state":"stopping","reason":"r","actor":"a","ts":1,"record":false,"device_id":"P/1","n":3,"account_id":17,"method":"app"})",
         "device_id must be 1..48 characters of [A-Za-z0-9_-]"},
        {"session_transition",
         R"({"v":1,"sid":"S1","state":"stopping","reason":"r","actor":"a","ts":1,"record":false,"device_id":"P1","n":3,"account_id":0,"method":"app"})",
         "account_id is 0, outside 1.."},
        {"session_transition",
         R"({"v":1,"sid":"S1","state":"stopping","reason":"r","actor":"a","ts":1,"record":false,"device_id":"P1","n":3,"account_id":17,"method":"operator"})",
         "account_id is 17, but an operator's session has no account"},
        {"session_transition",
         R"({"v":1,"sid":"S1","state":"stopping","reason":"r","actor":"a","ts":1,"record":false,"device_id":"P1","n":3,"account_id":17,"method":"coin"})",
         "method must be one of app|card"},
        {"session_transition",
         R"({"v":1,"sid":"S1","state":"stopping","prev":"later","reason":"r","actor":"a","ts":1,"record":false,"device_id":"P1","n":3,"account_id":17,"method":"app"})",
         "prev must be one of starting|"},
        {"session_transition",
         R"({"v":1,"sid":"S1","state":"stopping","reason":"","actor":"a","ts":1,"record":false,"device_id":"P1","n":3,"account_id":17,"method":"app"})",
         "reason must be non-empty text"},
        {"session_transition",
         R"({"v":1,"sid":"S1","state":"completed","prev":"stopping","reason":"r","actor":"billingd","ts":1,"record":true,"device_id":"P1","n":3,"account_id":17,"method":"app"})",
         "cost_fen is required when state is completed"},
        {"session_transition",
         R"({"v":1,"sid":"S1","state":"stopping","reason":"r","actor":"a","ts":1,"record":false,"device_id":"P1","n":3,"account_id":17,"method":"app","cost_fen":5})",
         "cost_fen is only allowed when state is completed"},
        {"session_transition",
         R"({"v":1,"sid":"S1","state":"completed","reason":"r","actor":"b","ts":1,"record":true,"device_id":"P1","n":3,"account_id":17,"method":"app","cost_fen":-1,"priced_fen":0,"shortfall_fen":0})",
         "cost_fen is -1, outside 0..100000000000"},
        // running_cost
        {"running_cost", obj(kCost), "cost_fen is required"},
        {"running_cost", obj(kCost + R"(,"data":{"cost_fen":85})"), "cost_fen is required"}, // no guessing
        {"running_cost", obj(kCost + R"(,"cost_fen":"85")"), "cost_fen must be a number"},
        {"running_cost", obj(kCost + R"(,"cost_fen":8.5)"), "cost_fen must be an integer"},
        {"running_cost", obj(kCost + R"(,"cost_fen":-3)"), "cost_fen is -3, outside 0..100000000000"},
        {"running_cost", obj(kCost + R"(,"cost_fen":85,"quota":"max_kwh")"),
         "quota must be one of chosen_time|max_minutes|max_fen"},
        {"running_cost", obj(kCost + R"(,"cost_fen":85,"error":"")"), "error must not be empty"},
        // presence_verdict
        {"presence_verdict", R"({"v":1,"boot":17,"since":1,"reason":"lwt"})", "online is required"},
        {"presence_verdict", R"({"v":1,"online":"false","boot":17,"since":1,"reason":"lwt"})",
         "online must be true or false"},
        {"presence_verdict", R"({"v":1,"online":false,"boot":-1,"since":1,"reason":"lwt"})", "boot is -1"},
        {"presence_verdict", R"({"v":1,"online":false,"boot":17,"since":1,"reason":"Last Will"})",
         "reason must be a snake_case word"},
        {"presence_verdict", R"({"v":1,"online":false,"boot":17,"reason":"lwt"})", "since is required"},
        // sessiond_start_request
        {"sessiond_start_request", R"({"socket":"P1-3","mode":"power"})", "account_id is required"},
        {"sessiond_start_request", R"({"account_id":"17","socket":"P1-3","mode":"power"})",
         "account_id must be a number"},
        {"sessiond_start_request", R"({"account_id":17,"socket":"P1-3","mode":"turbo"})",
         "mode must be one of time|power|energy"},
        {"sessiond_start_request", R"({"account_id":17,"socket":"P1-3","mode":"time","minutes":0})",
         "minutes is 0, outside 1..2880"},
        {"sessiond_start_request", R"({"account_id":17,"socket":"P1-3","mode":"time","minutes":2881})",
         "minutes is 2881, outside 1..2880"},
        {"sessiond_start_request", R"({"account_id":17,"socket":"P1-3","mode":"power","max_fen":0})",
         "max_fen is 0, outside 1..100000000"},
        {"sessiond_start_request", R"({"account_id":17,"socket":")" + std::string(65, 'P') + R"(","mode":"power"})",
         "socket is longer than 64 bytes"},
        {"sessiond_start_request", R"({"account_id":17,"socket":"P1 3","mode":"power"})", "socket must be 1..64"},
        {"sessiond_start_request", R"({"account_id":17,"socket":"P1-3","mode":"power","method":"card"})",
         "method must be app or operator: card sessions start at the pile"},
        {"sessiond_start_request", R"({"account_id":17,"socket":"P1-3","mode":"power","minutez":5})",
         "minutez is not a field of a sessiond start request"},
        // sessiond_stop_request
        {"sessiond_stop_request", R"({"reason":"user_stop"})", "session_id is required"},
        {"sessiond_stop_request", R"({"session_id":17})", "session_id must be a string"},
        {"sessiond_stop_request", R"({"session_id":"S1","reason":"bored"})", "reason must be one of user_stop|full|"},
        {"sessiond_stop_request", R"({"session_id":"S1","actor":")" + std::string(65, 'a') + R"("})",
         "actor is longer than 64 bytes"},
        {"sessiond_stop_request", R"({"session_id":"S1","sid":"S1"})", "sid is not a field of a sessiond stop request"},
        // sessiond_force_end_request
        {"sessiond_force_end_request", R"({"session_id":"S1"})", "operator is required"},
        {"sessiond_force_end_request", R"({"session_id":"S1","operator":["alice"]})", "operator must be a string"},
        {"sessiond_force_end_request", R"({"session_id":"S1","operator":"alice","reason":"x"})",
         "reason is not a field of a sessiond force_end request"},
        // sessiond_device_command_request
        {"sessiond_device_command_request", R"({"name":"reboot"})", "device_id is required"},
        {"sessiond_device_command_request", R"({"device_id":"P1","name":"selfdestruct"})",
         "name must be one of query_port|query_device|reboot|set_time"},
        {"sessiond_device_command_request", R"({"device_id":"P1","name":"query_port"})",
         "data is required for query_port"},
        {"sessiond_device_command_request", R"({"device_id":"P1","name":"query_port","data":{}})",
         "data.n is required"},
        {"sessiond_device_command_request", R"({"device_id":"EV1","name":"unlock"})", "data is required for unlock"},
        {"sessiond_device_command_request", R"({"device_id":"EV1","name":"reset","data":{"type":"warm"}})",
         "data.type must be one of soft|hard"},
        {"sessiond_device_command_request", R"({"device_id":"EV1","name":"set_availability","data":{"n":1}})",
         "data.operative is required"},
        {"sessiond_device_command_request",
         R"({"device_id":"EV1","name":"set_tariff","data":{"elec_e4":7000,"service_e4":6000,"fee":1}})",
         "data.fee is not a field of the set_tariff command"},
        {"sessiond_device_command_request", R"({"device_id":"P1","name":"query_port","data":{"n":65}})",
         "data.n is 65, outside 1..64"},
        {"sessiond_device_command_request", R"({"device_id":"P1","name":"query_port","data":{"n":"3"}})",
         "data.n must be a number"},
        {"sessiond_device_command_request", R"({"device_id":"P1","name":"reboot","data":{"when":"later"}})",
         "data.when must be one of now|when_idle"},
        {"sessiond_device_command_request", R"({"device_id":"P1","name":"reboot","data":{"n":3}})",
         "data.n is not a field of the reboot command"},
        {"sessiond_device_command_request", R"({"device_id":"P1","name":"set_time","data":{"epoch_ms":-1}})",
         "data.epoch_ms is -1"},
        {"sessiond_device_command_request", R"({"device_id":"P1","name":"reboot","data":[]})",
         "data must be an object"},
        {"sessiond_device_command_request", R"({"device_id":"P1","name":"reboot","args":{}})",
         "args is not a field of a sessiond device_command request"},
        // replies
        {"sessiond_start_reply", R"({})", "session is required"},
        {"sessiond_start_reply", R"({"session":[]})", "session must be an object"},
        {"sessiond_start_reply", obj(R"("session":{)" + kSession + "}"), "session.state is required"},
        {"sessiond_start_reply", obj(R"("session":{)" + kSession + R"(,"state":"running"})"),
         "session.state must be one of starting|"},
        {"sessiond_session_change_reply", obj(R"("session":{)" + kSession + R"(,"state":"stopping"})"),
         "changed is required"},
        {"sessiond_session_change_reply",
         obj(R"("session":{)" + kSession + R"(,"state":"stopping","minutes":3000},"changed":true)"),
         "session.minutes is 3000, outside 1..2880"},
        {"sessiond_session_change_reply",
         obj(R"("session":{)" + kSession + R"(,"state":"completed","cost_fen":-1},"changed":true)"),
         "session.cost_fen is -1"},
        {"sessiond_session_change_reply", obj(R"("session":{)" + kSession + R"(,"state":"stopping"},"changed":"yes")"),
         "changed must be true or false"},
        {"sessiond_device_command_reply_query_port", R"({"n":3,"since":0})", "st is required"},
        {"sessiond_device_command_reply_query_port", R"({"n":3,"st":"busy","since":0})", "st must be one of idle|"},
        {"sessiond_device_command_reply_query_device", R"({"fault_bits":0})", "sockets is required"},
        {"sessiond_device_command_reply_query_device", R"({"sockets":{}})", "sockets must be an array"},
        {"sessiond_device_command_reply_query_device", R"({"sockets":[{"n":0,"st":"idle","since":0}]})",
         "sockets[0].n is 0, outside 1..64"},
        {"sessiond_device_command_reply_ack", "[]", "payload must be an object"},
        // parkingd_lock_request
        {"parkingd_lock_request", R"({"action":"lower","operator":"alice"})", "space is required"},
        {"parkingd_lock_request", R"({"space":"cam-1","action":"open","operator":"alice"})",
         "action must be one of raise|lower"},
        {"parkingd_lock_request", R"({"space":"cam-1","action":"lower","operator":7})", "operator must be a string"},
        {"parkingd_lock_request", R"({"space":"cam-1","action":"lower","operator":"alice","rid":"x"})",
         "rid is not a field of a parkingd lock request"},
        // parkingd_lock_reply
        {"parkingd_lock_reply", R"({"space":"cam-1"})", "lock is required"},
        {"parkingd_lock_reply", R"({"space":"cam-1","lock":{"st":"up"}})", "lock.st must be one of raised|lowered"},
        {"parkingd_lock_reply", R"({"space":"cam-1","lock":{"st":"raised","alarm":"no"}})",
         "lock.alarm must be true or false"},
        // parkingd_snapshot_request
        {"parkingd_snapshot_request", R"({"operator":"alice"})", "space is required"},
        {"parkingd_snapshot_request", R"({"space":"cam 1","operator":"alice"})", "space must be"},
        {"parkingd_snapshot_request", R"({"space":["cam-1"],"operator":"alice"})", "space must be a string"},
        {"parkingd_snapshot_request", R"({"space":"cam-1","operator":"alice","space_n":1})",
         "space_n is not a field of a parkingd snapshot request"},
        {"parkingd_snapshot_request", R"({"space":")" + std::string(52, 'a') + R"(","operator":"alice"})",
         "space is longer than 51 bytes"},
        // parkingd_snapshot_reply
        {"parkingd_snapshot_reply", R"({})", "capture is required"},
        {"parkingd_snapshot_reply", R"({"capture":{"id":0,"image_url":"http://x/1.jpg"}})",
         "capture.id is 0, outside 1.."},
        {"parkingd_snapshot_reply", R"({"capture":{"id":"1","image_url":"http://x/1.jpg"}})",
         "capture.id must be a number"},
        // alert
        {"alert", R"({"v":1,"kind":"lock_fault","device_id":"c1","subject":"c1-1","state":"open"})", "at is required"},
        {"alert", R"({"v":1,"kind":"lock_fault","device_id":"c1","subject":"c1-1","state":"gone","at":1})",
         "state must be one of open|resolved"},
        {"alert", R"({"v":1,"kind":"lock_fault","device_id":"c1","subject":"c1-1","state":"open","at":-1})",
         "at is -1, outside 0.."},
        // broadcasts: device_report (more in test_device_report.cpp)
        {"device_report", R"({"v":1,"device_id":"P1","device_ts":1,"received_at":2,"total_power_w":0})",
         "sockets is required"},
        {"device_report", R"({"v":1,"device_id":"P1","device_ts":1,"received_at":2,"total_power_w":0,"sockets":{}})",
         "sockets must be an array"},
        {"device_report",
         R"({"v":1,"device_id":"P1","device_ts":1,"received_at":2,"total_power_w":0,"sockets":[{"n":0,"sid":"S1","power_w":1}]})",
         "sockets[0].n is 0, outside 1..64"},
    };
}

} // namespace

TEST_CASE("svc readers: another shape is refused with a reason that names the field and the rule") {
    for (const auto& b : bad_inputs()) {
        CAPTURE(b.schema);
        CAPTURE(b.text);
        const auto* codec = svc::find_codec(b.schema);
        REQUIRE(codec);
        const auto r = codec->recode(b.text);
        REQUIRE_FALSE(r.ok());
        CHECK_MESSAGE(r.error().rfind(b.reason, 0) == 0, "reason: " << r.error());
        if (b.schema_refuses_too && !b.text.empty()) {
            const auto* s = svc::test::find_schema(b.schema);
            REQUIRE(s);
            CHECK_FALSE(s->validates(b.text));
        }
    }
}

TEST_CASE("svc readers: every decoder is tested with a missing field, a wrong type and an out-of-range number") {
    std::map<std::string, std::set<std::string>> kinds;
    for (const auto& b : bad_inputs()) {
        const std::string reason = b.text.empty() ? "" : svc::find_codec(b.schema)->recode(b.text).error();
        for (const char* k : {"is required", "must be a", "must be an", "must be true or false", ", outside ",
                              "must be one of", "is not a field of"})
            if (reason.find(k) != std::string::npos)
                kinds[b.schema].insert(k);
    }
    for (const auto& c : svc::codecs()) {
        CAPTURE(c.name);
        if (c.name == "sessiond_device_command_reply_ack")
            continue; // `{}`: nothing to be missing or wrong
        const auto& k = kinds[std::string(c.name)];
        CHECK(k.count("is required") == 1);
        CHECK((k.count("must be a") + k.count("must be an") + k.count("must be true or false") +
               k.count("must be one of")) >= 1);
        if (c.name != "sessiond_force_end_request" && c.name != "parkingd_snapshot_request") // no number in them
            CHECK((k.count(", outside ") + k.count("must be one of")) >= 1);
        if (c.strict)
            CHECK(k.count("is not a field of") == 1);
    }
}

TEST_CASE("svc readers: broadcasts and replies ignore a member they do not know; requests refuse it") {
    for (const auto& s : svc::test::schemas()) {
        CAPTURE(s->name);
        const auto* codec = svc::find_codec(s->name);
        REQUIRE(codec);
        const auto& example = s->examples.front();
        const auto text = example == "{}" ? std::string(R"({"x_new":[[[1]]]})")
                                          : std::string(R"({"x_new":[[[1]]],)") + example.substr(1);
        const auto r = codec->recode(text);
        CHECK(r.ok() == !codec->strict);
        CHECK(s->validates(text) == !codec->strict);
        if (r.ok())
            CHECK(r.value() == codec->recode(example).value());
    }
}

TEST_CASE("svc readers: deeply nested JSON in any member is refused with a reason, never a crash") {
    const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
    for (const auto& c : svc::codecs()) {
        CAPTURE(c.name);
        for (const char* key : {"x", "state", "data", "session", "sid"}) {
            const auto text = std::string("{\"") + key + "\":" + deep + "}";
            const auto r = c.recode(text);
            // json::parse refuses nesting past its depth limit before any reader looks at a member,
            // so even the ack (`{}`, every member ignored) refuses it.
            REQUIRE_FALSE(r.ok());
            CHECK(r.error().find("nested deeper than") != std::string::npos);
        }
    }
}
