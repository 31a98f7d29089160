// OCPP 1.6 payloads against the vendored JSON schemas (gateway/ocpp_schema): what is valid in each
// direction, which CALLERROR code each kind of violation gets and that its description names the
// field, the RFC 3339 date-times RapidJSON does not check, and that nothing ever throws.
#include "gateway/ocpp_schema.hpp"

#include "common/json.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace pilehub::ocpp;

namespace {

struct Example {
    const char* action;
    Direction direction;
    const char* payload;
};

std::string describe(const std::optional<Violation>& v) {
    return v ? std::string(to_string(v->code)) + ": " + v->description : "valid";
}

} // namespace

TEST_CASE("ocpp schema: every action of the 1.6 set loads, both its CALL and its CALLRESULT schema") {
    const auto& actions = known_actions();
    CHECK(actions.size() == 39); // 78 schemas: the 28 actions of OCPP 1.6 and the 11 of its security whitepaper
    for (const auto& a : actions) {
        CHECK_MESSAGE(known_action(a), a);
        // An empty object is either valid or lacks a required field: never "unknown action".
        for (const auto d : {Direction::Request, Direction::Response}) {
            const auto v = validate(a, d, std::string_view("{}"));
            CHECK_MESSAGE((!v || v->code == ErrorCode::OccurenceConstraintViolation), a, ": ", describe(v));
        }
    }
    for (const char* a : {"BootNotification", "Heartbeat", "StatusNotification", "MeterValues", "StartTransaction",
                          "StopTransaction", "Authorize", "DataTransfer", "SignedUpdateFirmware", "UpdateFirmware"})
        CHECK_MESSAGE(known_action(a), a);
}

TEST_CASE("ocpp schema: an action outside the 1.6 set is NotImplemented, in either direction") {
    for (const char* a : {"SetDisplayMessage", "heartbeat", "", "BootNotification.req", "TransactionEvent"}) {
        CHECK_FALSE(known_action(a));
        for (const auto d : {Direction::Request, Direction::Response}) {
            const auto v = validate(a, d, std::string_view("{}"));
            REQUIRE_MESSAGE(v.has_value(), a);
            CHECK(v->code == ErrorCode::NotImplemented);
            CHECK(v->description.find("not an OCPP 1.6 action") != std::string::npos);
        }
    }
}

TEST_CASE("ocpp schema: the payloads chargers and the gateway exchange every day are valid") {
    const Example valid[] = {
        {"BootNotification", Direction::Request,
         R"({"chargePointVendor":"PileCo","chargePointModel":"AC7","chargePointSerialNumber":"SN-0001",
             "firmwareVersion":"1.2.3","iccid":"8986001","imsi":"46000","meterType":"DDS","meterSerialNumber":"M1"})"},
        {"BootNotification", Direction::Response,
         R"({"status":"Accepted","currentTime":"2026-12-07T10:00:00Z","interval":300})"},
        {"Heartbeat", Direction::Request, "{}"},
        {"Heartbeat", Direction::Response, R"({"currentTime":"2026-12-07T10:00:00.123+08:00"})"},
        {"StatusNotification", Direction::Request,
         R"({"connectorId":1,"errorCode":"NoError","status":"Charging","timestamp":"2026-12-07T10:00:00Z"})"},
        {"StatusNotification", Direction::Request,
         R"({"connectorId":0,"errorCode":"OtherError","status":"Faulted","info":"RCD","vendorId":"PileCo",
             "vendorErrorCode":"E17"})"},
        {"StatusNotification", Direction::Response, "{}"},
        {"Authorize", Direction::Request, R"({"idTag":"CARD0001"})"},
        {"Authorize", Direction::Response,
         R"({"idTagInfo":{"status":"Accepted","expiryDate":"2027-01-01T00:00:00Z","parentIdTag":"GROUP1"}})"},
        {"StartTransaction", Direction::Request,
         R"({"connectorId":1,"idTag":"CARD0001","meterStart":123456,"timestamp":"2026-12-07T10:00:00Z"})"},
        {"StartTransaction", Direction::Response, R"({"idTagInfo":{"status":"Accepted"},"transactionId":42})"},
        {"StopTransaction", Direction::Request,
         R"({"transactionId":42,"meterStop":130000,"timestamp":"2026-12-07T11:00:00Z","reason":"EVDisconnected",
             "idTag":"CARD0001","transactionData":[
               {"timestamp":"2026-12-07T10:00:00Z","sampledValue":[{"value":"123456","unit":"Wh",
                 "measurand":"Energy.Active.Import.Register","context":"Transaction.Begin"}]},
               {"timestamp":"2026-12-07T11:00:00Z","sampledValue":[{"value":"130000","unit":"Wh",
                 "context":"Transaction.End"}]}]})"},
        {"StopTransaction", Direction::Response, R"({"idTagInfo":{"status":"Accepted"}})"},
        {"StopTransaction", Direction::Response, "{}"},
        {"MeterValues", Direction::Request,
         R"({"connectorId":1,"transactionId":42,"meterValue":[{"timestamp":"2026-12-07T10:05:00Z","sampledValue":[
             {"value":"124000","measurand":"Energy.Active.Import.Register","unit":"Wh","context":"Sample.Periodic"},
             {"value":"7.2","measurand":"Power.Active.Import","unit":"kW"},
             {"value":"31.9","measurand":"Current.Import","unit":"A","phase":"L1"},
             {"value":"230.1","measurand":"Voltage","unit":"V","phase":"L1-N","location":"Outlet"},
             {"value":"64","measurand":"SoC","unit":"Percent","location":"EV"},
             {"value":"41","measurand":"Temperature","unit":"Celsius","format":"Raw"}]}]})"},
        {"MeterValues", Direction::Response, "{}"},
        {"RemoteStartTransaction", Direction::Request, R"({"connectorId":1,"idTag":"APP00042"})"},
        {"RemoteStartTransaction", Direction::Request,
         R"({"idTag":"APP00042","chargingProfile":{"chargingProfileId":1,"stackLevel":0,
             "chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative",
             "chargingSchedule":{"chargingRateUnit":"A","minChargingRate":6.1,
               "chargingSchedulePeriod":[{"startPeriod":0,"limit":16.3},{"startPeriod":600,"limit":0.3}]}}})"},
        {"RemoteStartTransaction", Direction::Response, R"({"status":"Accepted"})"},
        {"RemoteStopTransaction", Direction::Request, R"({"transactionId":42})"},
        {"RemoteStopTransaction", Direction::Response, R"({"status":"Rejected"})"},
        {"Reset", Direction::Request, R"({"type":"Soft"})"},
        {"Reset", Direction::Response, R"({"status":"Accepted"})"},
        {"UnlockConnector", Direction::Request, R"({"connectorId":2})"},
        {"UnlockConnector", Direction::Response, R"({"status":"Unlocked"})"},
        {"ChangeAvailability", Direction::Request, R"({"connectorId":0,"type":"Inoperative"})"},
        {"ChangeAvailability", Direction::Response, R"({"status":"Scheduled"})"},
        {"ChangeConfiguration", Direction::Request, R"({"key":"HeartbeatInterval","value":"300"})"},
        {"ChangeConfiguration", Direction::Response, R"({"status":"RebootRequired"})"},
        {"TriggerMessage", Direction::Request, R"({"requestedMessage":"StatusNotification","connectorId":1})"},
        {"TriggerMessage", Direction::Request, R"({"requestedMessage":"MeterValues"})"},
        {"TriggerMessage", Direction::Response, R"({"status":"Accepted"})"},
        {"UpdateFirmware", Direction::Request,
         R"({"location":"https://ota.example.com/fw/ac7-1.3.0.bin","retrieveDate":"2026-12-08T02:00:00Z",
             "retries":3,"retryInterval":60})"},
        {"UpdateFirmware", Direction::Request,
         R"({"location":"ftp://user@10.0.0.5/fw.bin","retrieveDate":"2026-12-08T02:00:00-05:00"})"},
        {"UpdateFirmware", Direction::Response, "{}"},
        {"FirmwareStatusNotification", Direction::Request, R"({"status":"Installed"})"},
        {"FirmwareStatusNotification", Direction::Response, "{}"},
        {"DataTransfer", Direction::Request, R"({"vendorId":"com.pileco","messageId":"Tariff","data":"{\"a\":1}"})"},
        {"DataTransfer", Direction::Response, R"({"status":"UnknownVendorId"})"},
        {"GetConfiguration", Direction::Request, R"({"key":["HeartbeatInterval","MeterValueSampleInterval"]})"},
        {"GetConfiguration", Direction::Request, "{}"},
        {"GetConfiguration", Direction::Response,
         R"({"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"300"},
             {"key":"NumberOfConnectors","readonly":true}],"unknownKey":["Foo"]})"},
        // $ref to #/definitions (the security whitepaper's schemas use them).
        {"GetInstalledCertificateIds", Direction::Response,
         R"({"status":"Accepted","certificateHashData":[{"hashAlgorithm":"SHA256","issuerNameHash":"ab",
             "issuerKeyHash":"cd","serialNumber":"01"}]})"},
    };
    for (const auto& e : valid) {
        const auto v = validate(e.action, e.direction, std::string_view(e.payload));
        CHECK_MESSAGE(!v.has_value(), e.action, (e.direction == Direction::Request ? ".req " : ".conf "), e.payload,
                      " -> ", describe(v));
    }
}

TEST_CASE("ocpp schema: each kind of violation gets the CALLERROR code of the OCPP-J 1.6 table, and the "
          "description names the field") {
    struct Row {
        const char* action;
        Direction direction;
        const char* payload;
        ErrorCode code;
        const char* names; // the start of the description: the field's path
    };
    const auto req = Direction::Request, conf = Direction::Response;
    const auto type = ErrorCode::TypeConstraintViolation, occurrence = ErrorCode::OccurenceConstraintViolation,
               property = ErrorCode::PropertyConstraintViolation, formation = ErrorCode::FormationViolation;
    const Row rows[] = {
        // A field of the wrong JSON type.
        {"StatusNotification", req, R"({"connectorId":"1","errorCode":"NoError","status":"Available"})", type,
         "connectorId: must be integer, is string"},
        {"StartTransaction", req,
         R"({"connectorId":1,"idTag":"C1","meterStart":12.5,"timestamp":"2026-12-07T10:00:00Z"})", type,
         "meterStart: must be integer, is number"},
        {"UnlockConnector", req, R"({"connectorId":1.0})", type,
         R"(connectorId: must be integer, is number (write an integer without ".0"))"},
        {"MeterValues", req, R"({"connectorId":1,"meterValue":[{"timestamp":"2026-12-07T10:00:00Z",
             "sampledValue":[{"value":124000}]}]})",
         type, "meterValue[0].sampledValue[0].value: must be string, is integer"},
        {"Authorize", conf, R"({"idTagInfo":"Accepted"})", type, "idTagInfo: must be object, is string"},
        {"GetConfiguration", req, R"({"key":"HeartbeatInterval"})", type, "key: must be array, is string"},
        {"BootNotification", conf, R"({"status":"Accepted","currentTime":"2026-12-07T10:00:00Z","interval":null})",
         type, "interval: must be integer, is null"},
        // A required field missing, a field the schema does not have, too few items.
        {"BootNotification", req, R"({"chargePointVendor":"PileCo"})", occurrence, "chargePointModel: is required"},
        {"StopTransaction", req, R"({"transactionId":42,"meterStop":1,"timestamp":"2026-12-07T10:00:00Z",
             "transactionData":[{"timestamp":"2026-12-07T10:00:00Z","sampledValue":[{"unit":"Wh"}]}]})",
         occurrence, "transactionData[0].sampledValue[0].value: is required"},
        {"Authorize", conf, R"({"idTagInfo":{}})", occurrence, "idTagInfo.status: is required"},
        {"Authorize", req, R"({"idTag":"C1","pin":"1234"})", occurrence, "pin: is not a field of Authorize.req"},
        {"MeterValues", req, R"({"connectorId":1,"meterValue":[{"timestamp":"2026-12-07T10:00:00Z",
             "sampledValue":[{"value":"1","units":"Wh"}]}]})",
         occurrence, "meterValue[0].sampledValue[0].units: is not a field of MeterValues.req"},
        {"Heartbeat", req, R"({"now":1})", occurrence, "now: is not a field of Heartbeat.req"},
        {"GetInstalledCertificateIds", conf, R"({"status":"Accepted","certificateHashData":[]})", occurrence,
         "certificateHashData: 0 items, fewer than the minimum 1"},
        // A value outside its enum, too long, not a multiple of its step, not of its format.
        {"StatusNotification", req, R"({"connectorId":1,"errorCode":"NoError","status":"Busy"})", property,
         R"(status: "Busy" is not one of Available, Preparing)"},
        {"MeterValues", req, R"({"connectorId":1,"meterValue":[{"timestamp":"2026-12-07T10:00:00Z",
             "sampledValue":[{"value":"1","unit":"kwh"}]}]})",
         property, R"(meterValue[0].sampledValue[0].unit: "kwh" is not one of Wh, kWh)"},
        {"StopTransaction", req, R"({"transactionId":42,"meterStop":1,"timestamp":"2026-12-07T10:00:00Z",
             "reason":"Unplugged"})",
         property, R"(reason: "Unplugged" is not one of)"},
        {"Authorize", req, R"({"idTag":"012345678901234567890"})", property,
         "idTag: 21 characters, more than the maximum 20"},
        {"ChangeConfiguration", req,
         R"({"key":"HeartbeatIntervalHeartbeatIntervalHeartbeatIntervalXXXXXX","value":"1"})", property,
         "key: 57 characters, more than the maximum 50"},
        {"RemoteStartTransaction", req,
         R"({"idTag":"A","chargingProfile":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxProfile",
             "chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"A",
             "chargingSchedulePeriod":[{"startPeriod":0,"limit":16.05}]}}})",
         property, "chargingProfile.chargingSchedule.chargingSchedulePeriod[0].limit: 16.05 is not a multiple of 0.1"},
        {"StartTransaction", req, R"({"connectorId":1,"idTag":"C1","meterStart":0,"timestamp":"2026-02-29T10:00:00Z"})",
         property, R"(timestamp: "2026-02-29T10:00:00Z" is not an RFC 3339 date-time)"},
        {"MeterValues", req, R"({"connectorId":1,"meterValue":[{"timestamp":"2026-12-07 10:00:00Z",
             "sampledValue":[{"value":"1"}]}]})",
         property, "meterValue[0].timestamp: "},
        {"StopTransaction", req, R"({"transactionId":42,"meterStop":1,"timestamp":"2026-12-07T10:00:00Z",
             "transactionData":[{"timestamp":"2026-12-07T10:00:00","sampledValue":[{"value":"1"}]}]})",
         property, "transactionData[0].timestamp: "},
        {"Authorize", conf, R"({"idTagInfo":{"status":"Accepted","expiryDate":"tomorrow"}})", property,
         "idTagInfo.expiryDate: "},
        // Through a $ref to #/definitions.
        {"GetInstalledCertificateIds", conf, R"({"status":"Accepted","certificateHashData":[{"hashAlgorithm":"MD5",
             "issuerNameHash":"ab","issuerKeyHash":"cd","serialNumber":"01"}]})",
         property, R"(certificateHashData[0].hashAlgorithm: "MD5" is not one of SHA256, SHA384, SHA512)"},
        {"SignedUpdateFirmware", req, R"({"requestId":1,"firmware":{"location":"https://ota.example.com/fw.bin",
             "retrieveDateTime":"2026-02-30T00:00:00Z","signingCertificate":"c","signature":"s"}})",
         property, R"(firmware.retrieveDateTime: "2026-02-30T00:00:00Z" is not an RFC 3339 date-time)"},
        {"UpdateFirmware", req, R"({"location":"ota server/fw.bin","retrieveDate":"2026-12-08T02:00:00Z"})", property,
         R"(location: "ota server/fw.bin" is not a URI)"},
        {"UpdateFirmware", req, R"({"location":"fw.bin","retrieveDate":"2026-12-08T02:00:00Z"})", property,
         "location: "},
        // Not an object, or not JSON.
        {"Heartbeat", req, "[]", formation, "(payload): must be a JSON object"},
        {"Authorize", req, R"("CARD0001")", formation, "(payload): must be a JSON object"},
        {"Authorize", req, R"({"idTag":"C1")", formation, "(payload): not JSON"},
        {"Authorize", req, "", formation, "(payload): not JSON"},
    };
    for (const auto& r : rows) {
        const auto v = validate(r.action, r.direction, std::string_view(r.payload));
        const std::string payload = r.payload;
        REQUIRE_MESSAGE(v.has_value(), r.action, " ", payload);
        CHECK_MESSAGE(v->code == r.code, payload, " -> ", describe(v));
        CHECK_MESSAGE(v->description.rfind(r.names, 0) == 0, payload, " -> ", describe(v));
    }
}

TEST_CASE("ocpp schema: the parsed-value overload agrees with the text one and refuses what is not an object") {
    const auto doc = pilehub::json::parse(R"({"connectorId":1,"errorCode":"NoError","status":"Available"})");
    REQUIRE(doc.ok());
    CHECK_FALSE(validate("StatusNotification", Direction::Request, *doc).has_value());
    CHECK(validate("StatusNotification", Direction::Response, *doc).value().code ==
          ErrorCode::OccurenceConstraintViolation);
    for (const rapidjson::Value& v :
         {rapidjson::Value(), rapidjson::Value(7), rapidjson::Value(rapidjson::kArrayType), rapidjson::Value("x")})
        CHECK(validate("Heartbeat", Direction::Request, v).value().code == ErrorCode::FormationViolation);
}

TEST_CASE("ocpp schema: RFC 3339 date-times") {
    struct Row {
        const char* text;
        bool ok;
    };
    const Row rows[] = {
        {"2026-12-07T10:00:00Z", true},
        {"2026-12-07T10:00:00.123+08:00", true},
        {"2026-12-07T10:00:00.5-04:30", true},
        {"2026-12-07t10:00:00z", true},
        {"2028-02-29T10:00:00Z", true},   // 2028 is a leap year
        {"2000-02-29T10:00:00Z", true},   // divisible by 400
        {"2016-12-31T23:59:60Z", true},   // a leap second
        {"2026-02-29T10:00:00Z", false},  // 2026 is not
        {"1900-02-29T10:00:00Z", false},  // divisible by 100, not by 400
        {"2026-04-31T10:00:00Z", false},  // April has 30 days
        {"2026-12-07T25:00:00Z", false},  // hour
        {"2026-12-07T24:00:00Z", false},  // hour
        {"2026-12-07T10:60:00Z", false},  // minute
        {"2026-12-07T10:00:61Z", false},  // second
        {"2026-13-07T10:00:00Z", false},  // month
        {"2026-00-07T10:00:00Z", false},  // month
        {"2026-12-00T10:00:00Z", false},  // day
        {"2026-12-07 10:00:00Z", false},  // a space for the T
        {"2026-12-07T10:00:00", false},   // no offset
        {"2026-12-07T10:00Z", false},     // no seconds
        {"2026-12-07T10:00:00.Z", false}, // an empty fraction
        {"2026-12-07T10:00:00+0800", false},
        {"2026-12-07T10:00:00+24:00", false},
        {"2026-12-07", false},
        {"26-12-07T10:00:00Z", false},
        {"2026-12-07T10:00:00Z ", false},
        {"", false},
    };
    for (const auto& r : rows)
        CHECK_MESSAGE(is_date_time(r.text) == r.ok, r.text);
}

TEST_CASE("ocpp schema: a URI is a scheme, a colon and the rest, without spaces") {
    for (const char* good : {"https://ota.example.com/fw.bin", "ftp://10.0.0.5/fw.bin", "urn:isbn:0451450523",
                             "coap+tcp://[::1]:5683/x", "file:///tmp/fw.bin"})
        CHECK_MESSAGE(is_uri(good), good);
    for (const char* bad : {"fw.bin", ":no-scheme", "https:", "1http://x", "http://a b/", "http://x/\t", "h_t://x", ""})
        CHECK_MESSAGE(!is_uri(bad), bad);
}

TEST_CASE("ocpp schema: hostile payloads are answered, never thrown at") {
    // Nesting deeper than json::kMaxDepth, huge numbers, the wrong type at every level.
    std::string deep(200, '[');
    deep = R"({"idTag":)" + deep + std::string(200, ']') + "}";
    const std::vector<std::string> hostile{
        deep,
        R"({"connectorId":1e400,"errorCode":"NoError","status":"Available"})",
        R"({"connectorId":123456789012345678901234567890,"errorCode":"NoError","status":"Available"})",
        R"({"connectorId":-9223372036854775809,"errorCode":"NoError","status":"Available"})",
        R"({"connectorId":18446744073709551615,"errorCode":"NoError","status":"Available"})",
        R"({"connectorId":[],"errorCode":{},"status":null,"timestamp":7,"info":false})",
        R"({"connectorId":1,"meterValue":[[],"x",{"timestamp":[],"sampledValue":{}},{"sampledValue":[null,[],7]}]})",
        R"({"connectorId":1,"meterValue":{"0":{"timestamp":"2026-12-07T10:00:00Z"}}})",
        std::string("{\"idTag\":\"\xff\xfe\"}"),
        R"({"idTag":"\u0000"})",
        R"({"":1})",
    };
    for (const auto& text : hostile)
        for (const char* action : {"Authorize", "StatusNotification", "MeterValues", "StopTransaction"})
            for (const auto d : {Direction::Request, Direction::Response}) {
                std::optional<Violation> v;
                CHECK_NOTHROW(v = validate(action, d, std::string_view(text)));
            }
    CHECK(validate("Authorize", Direction::Request, std::string_view(deep)).value().code ==
          ErrorCode::FormationViolation);
    CHECK(
        validate("StatusNotification", Direction::Request,
                 std::string_view(R"({"connectorId":18446744073709551615,"errorCode":"NoError","status":"Available"})"))
            .has_value() == false); // a uint64 is an integer: the schema sets no maximum
    // A very long value is cut in the description (on a character boundary).
    std::string long_status = R"({"connectorId":1,"errorCode":"NoError","status":")";
    for (int i = 0; i < 2000; ++i)
        long_status += "\u5145"; // 充, three bytes in UTF-8
    const auto v = validate("StatusNotification", Direction::Request, std::string_view(long_status + "\"}"));
    REQUIRE(v.has_value());
    CHECK(v->code == ErrorCode::PropertyConstraintViolation);
    CHECK(v->description.find("...") != std::string::npos);
    CHECK(v->description.size() < 300);
    CHECK(pilehub::json::parse(pilehub::json::Writer().value(v->description).str()).ok()); // still UTF-8
}
