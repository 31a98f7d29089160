// OCPP-J 1.6 framing (gateway/ocpp_frame): what is a CALL, a CALLRESULT, a CALLERROR, and how every
// malformed message is answered.
#include "gateway/ocpp_frame.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace pilehub::ocpp;

TEST_CASE("ocpp frame: the three message types are read with their payloads kept as JSON text") {
    auto call = read_frame(R"([2,"19223201","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}])");
    REQUIRE(std::holds_alternative<Frame>(call));
    CHECK(std::get<Call>(std::get<Frame>(call)) ==
          Call{"19223201", "BootNotification", R"({"chargePointVendor":"V","chargePointModel":"M"})"});

    auto result =
        read_frame(R"([3, "19223201", {"status":"Accepted","currentTime":"2026-12-06T10:00:00Z","interval":300}])");
    REQUIRE(std::holds_alternative<Frame>(result));
    CHECK(std::get<CallResult>(std::get<Frame>(result)).payload_json ==
          R"({"status":"Accepted","currentTime":"2026-12-06T10:00:00Z","interval":300})");

    auto error = read_frame(R"([4,"162376037","NotSupported","SetDisplayMessageRequest not implemented",{}])");
    REQUIRE(std::holds_alternative<Frame>(error));
    CHECK(std::get<CallError>(std::get<Frame>(error)) ==
          CallError{"162376037", ErrorCode::NotSupported, "SetDisplayMessageRequest not implemented", "{}"});
    // An error code outside the specification's table is a GenericError.
    auto odd = read_frame(R"([4,"1","Oops","",{}])");
    REQUIRE(std::holds_alternative<Frame>(odd));
    CHECK(std::get<CallError>(std::get<Frame>(odd)).code == ErrorCode::GenericError);
}

TEST_CASE("ocpp frame: every malformed message is a FormationViolation, answered only when it is a CALL whose "
          "unique id could be read") {
    struct Row {
        const char* text;
        bool answered;
        const char* why;
    };
    const Row rows[] = {
        {"not json", false, "not JSON"},
        {R"({"a":1})", false, "non-empty JSON array"},
        {"[]", false, "non-empty JSON array"},
        {R"(["2","1","Heartbeat",{}])", false, "integer 2, 3 or 4"},
        {R"([5,"1","Heartbeat",{}])", false, "message type 5"},
        {R"([2,1,"Heartbeat",{}])", false, "unique id"},
        {R"([2,"","Heartbeat",{}])", false, "unique id"},
        {R"([2,"0123456789012345678901234567890123456","Heartbeat",{}])", false, "unique id"}, // 37 characters
        {R"([2,"1","Heartbeat"])", true, "4 elements"},
        {R"([2,"1","Heartbeat",{},{}])", true, "4 elements"},
        {R"([2,"1",7,{}])", true, "action"},
        {R"([2,"1","",{}])", true, "action"},
        {R"([2,"1","Heartbeat",[]])", true, "payload of a CALL"},
        {R"([2,"1","Heartbeat",null])", true, "payload of a CALL"},
        {R"([3,"1"])", false, "3 elements"},
        {R"([3,"1","ok"])", false, "payload of a CALLRESULT"},
        {R"([4,"1","GenericError","x"])", false, "5 elements"},
        {R"([4,"1",3,"x",{}])", false, "errorCode"},
    };
    for (const auto& r : rows) {
        const auto got = read_frame(r.text);
        REQUIRE_MESSAGE(std::holds_alternative<FrameProblem>(got), r.text);
        const auto& p = std::get<FrameProblem>(got);
        CHECK_MESSAGE(p.code == ErrorCode::FormationViolation, r.text);
        CHECK_MESSAGE(p.description.find(r.why) != std::string::npos, r.text << ": " << p.description);
        const auto answer = p.answer();
        CHECK_MESSAGE(answer.has_value() == r.answered, r.text);
        if (answer) {
            CHECK(answer->unique_id == "1");
            CHECK(write(*answer).rfind(R"([4,"1","FormationViolation",)", 0) == 0);
        }
    }
    // The longest unique id the specification allows is fine.
    CHECK(std::holds_alternative<Frame>(read_frame(R"([2,"012345678901234567890123456789012345","Heartbeat",{}])")));
}

TEST_CASE("ocpp frame: what is written reads back the same, strings escaped") {
    const std::vector<Frame> frames{
        Call{"a-1", "Authorize", R"({"idTag":"CARD0001"})"},
        Call{"q\"uote", "Heartbeat", "{}"},
        CallResult{"a-1", R"({"idTagInfo":{"status":"Accepted"}})"},
        CallError{"a-2", ErrorCode::OccurenceConstraintViolation, "idTag is required", R"({"field":"idTag"})"},
    };
    for (const auto& f : frames) {
        const auto text = write(f);
        const auto back = read_frame(text);
        REQUIRE_MESSAGE(std::holds_alternative<Frame>(back), text);
        CHECK_MESSAGE(std::get<Frame>(back) == f, text);
    }
    CHECK(write(CallResult{"7", ""}) == R"([3,"7",{}])");
    CHECK(write(Call{"8", "Heartbeat", "{}"}) == R"([2,"8","Heartbeat",{}])");
}

TEST_CASE("ocpp frame: every error code has the specification's spelling and reads back") {
    const std::vector<std::pair<ErrorCode, std::string>> table{
        {ErrorCode::NotImplemented, "NotImplemented"},
        {ErrorCode::NotSupported, "NotSupported"},
        {ErrorCode::InternalError, "InternalError"},
        {ErrorCode::ProtocolError, "ProtocolError"},
        {ErrorCode::SecurityError, "SecurityError"},
        {ErrorCode::FormationViolation, "FormationViolation"},
        {ErrorCode::PropertyConstraintViolation, "PropertyConstraintViolation"},
        {ErrorCode::OccurenceConstraintViolation, "OccurenceConstraintViolation"},
        {ErrorCode::TypeConstraintViolation, "TypeConstraintViolation"},
        {ErrorCode::GenericError, "GenericError"},
    };
    for (const auto& [code, word] : table) {
        CHECK(to_string(code) == word);
        CHECK(parse_error_code(word) == code);
    }
    CHECK_FALSE(parse_error_code("FormatViolation").has_value()); // OCPP 2.0.1's word, not 1.6's
}
