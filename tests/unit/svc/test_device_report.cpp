// recorderd's device report (ph/v1/svc/device/{id}/report): what it carries, how it round-trips,
// what it refuses. The schema and docs/topics.md examples are checked with every payload in
// test_contract.cpp.
#include "svc_test_support.hpp"

#include "common/topics.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace pilehub;

namespace {

svc::DeviceReport sample() {
    svc::DeviceReport r;
    r.device_id = "P1";
    r.device_ts = 1'732'183'500'000;
    r.received_at = 1'732'183'500'042;
    r.temp_dc = 415;
    r.total_power_w = 378;
    r.sockets = {{3, "S1", 198, 16}, {5, "C2", 180, std::nullopt}};
    return r;
}

const std::string kHead = R"("v":1,"device_id":"P1","device_ts":1,"received_at":2,"total_power_w":10,)";

std::string with_sockets(const std::string& sockets) {
    return "{" + kHead + R"("sockets":)" + sockets + "}";
}

} // namespace

TEST_CASE("device report: every field round-trips through the codec and the encoding validates against the schema") {
    const auto r = sample();
    const auto text = svc::encode(r);
    const auto back = svc::decode<svc::DeviceReport>(text);
    REQUIRE_MESSAGE(back.ok(), back.error());
    CHECK(back.value() == r);
    std::string why;
    const auto* schema = svc::test::find_schema("device_report");
    REQUIRE(schema);
    CHECK_MESSAGE(schema->validates(text, &why), why);
    // An absent energy stays absent (the reader repeats its last one), it is never written as 0.
    CHECK(text.find(R"("n":5,"sid":"C2","power_w":180})") != std::string::npos);
    // Unknown members are ignored: a newer recorderd may add optional ones.
    CHECK(svc::decode<svc::DeviceReport>(with_sockets(R"([{"n":1,"sid":"S1","power_w":5,"volts":230}])") + "").ok());
}

TEST_CASE("device report: the reading's time is the device's ts, else the receive time (CONTRACT A.3)") {
    auto r = sample();
    CHECK(r.at() == r.device_ts);
    r.device_ts = 0;
    CHECK(r.at() == r.received_at);
}

TEST_CASE("device report: travels on ph/v1/svc/device/{id}/report, not retained, QoS 0") {
    const auto* c = svc::find_codec("device_report");
    REQUIRE(c);
    CHECK(c->topic == "ph/v1/svc/device/{id}/report");
    CHECK_FALSE(c->strict);
    CHECK(topics::device_report("P1") == "ph/v1/svc/device/P1/report");
}

TEST_CASE("device report: a reader takes a report only from its own device's topic") {
    const auto text = svc::encode(sample()); // P1's
    CHECK(svc::decode_report(topics::device_report("P1"), text).ok());
    const auto other = svc::decode_report(topics::device_report("P2"), text);
    REQUIRE_FALSE(other.ok());
    CHECK(other.error() == "device_id P1 is not the topic's P2");
    CHECK(svc::decode_report(topics::device_presence("P1"), text).error() ==
          "ph/v1/svc/device/P1/presence is not a device report topic");
    CHECK_FALSE(svc::decode_report(topics::device_report("P1"), "{").ok());
}

TEST_CASE("device report: the decoder refuses every other shape, naming the field and the rule") {
    struct Bad {
        std::string text;
        const char* reason; ///< a part of the failure reason
    };
    const std::vector<Bad> bad = {
        {"{}", "v is required"},
        {R"({"v":2,"device_id":"P1","device_ts":1,"received_at":2,"total_power_w":0,"sockets":[]})", "v is 2"},
        {R"({"v":1,"device_id":"svc.x","device_ts":1,"received_at":2,"total_power_w":0,"sockets":[]})",
         "device_id must be"},
        {R"({"v":1,"device_id":"P1","received_at":2,"total_power_w":0,"sockets":[]})", "device_ts is required"},
        {R"({"v":1,"device_id":"P1","device_ts":1,"total_power_w":0,"sockets":[]})", "received_at is required"},
        {R"({"v":1,"device_id":"P1","device_ts":1,"received_at":2,"sockets":[]})", "total_power_w is required"},
        {R"({"v":1,"device_id":"P1","device_ts":1,"received_at":2,"total_power_w":10})", "sockets is required"},
        {with_sockets("[]"), "sockets must hold at least one bound socket"},
        {with_sockets(R"([{"sid":"S1","power_w":5}])"), "n is required"},
        {with_sockets(R"([{"n":65,"sid":"S1","power_w":5}])"), "n"},
        {with_sockets(R"([{"n":1,"power_w":5}])"), "sid is required"},
        {with_sockets(R"([{"n":1,"sid":"a b","power_w":5}])"), "sid must be"},
        {with_sockets(R"([{"n":1,"sid":"S1"}])"), "power_w is required"},
        {with_sockets(R"([{"n":1,"sid":"S1","power_w":5.5}])"), "power_w"},
        {with_sockets(R"([{"n":1,"sid":"S1","power_w":-1}])"), "power_w"},
        {with_sockets(R"([{"n":1,"sid":"S1","power_w":5,"energy_wh":10000001}])"), "energy_wh"},
        {with_sockets(R"([{"n":1,"sid":"S1","power_w":5},{"n":1,"sid":"S2","power_w":5}])"), "repeats socket 1"},
        {"{" + kHead + R"("temp_dc":2001,"sockets":[{"n":1,"sid":"S1","power_w":5}]})", "temp_dc"},
    };
    const auto* schema = svc::test::find_schema("device_report");
    REQUIRE(schema);
    for (const auto& b : bad) {
        CAPTURE(b.text);
        const auto r = svc::decode<svc::DeviceReport>(b.text);
        REQUIRE_FALSE(r.ok());
        CHECK_MESSAGE(r.error().find(b.reason) != std::string::npos, r.error());
        if (std::string(b.reason) != "repeats socket 1") // uniqueness of n is not a draft-04 rule
            CHECK_FALSE(schema->validates(b.text, nullptr));
    }
}
