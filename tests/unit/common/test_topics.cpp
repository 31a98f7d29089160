#include "common/topics.hpp"

#include <doctest/doctest.h>

using namespace pilehub;

TEST_CASE("topics: builders spell CONTRACT A.2") {
    CHECK(topics::presence("e-001") == "ph/v1/dev/e-001/presence");
    CHECK(topics::conn_state("e-001", 7) == "ph/v1/dev/e-001/conn/7/state");
    CHECK(topics::space_state("cam1", 2) == "ph/v1/dev/cam1/space/2/state");
    CHECK(topics::req_reply("e-001", "authorize") == "ph/v1/dev/e-001/req-reply/authorize");
    CHECK(topics::cmd("e-001", "start_port") == "ph/v1/dev/e-001/cmd/start_port");
    CHECK(topics::cfg_desired("e-001") == "ph/v1/dev/e-001/cfg/desired");
    CHECK(topics::any_device::conn_state() == "ph/v1/dev/+/conn/+/state");
    CHECK(topics::svc_status("sessiond") == "ph/v1/svc/sessiond/status");
}

TEST_CASE("topics: device ids are [A-Za-z0-9_-]{1,48}") {
    CHECK(topics::valid_device_id("e-000017"));
    CHECK(topics::valid_device_id("A_b-9"));
    CHECK(topics::valid_device_id(std::string(48, 'x')));
    CHECK_FALSE(topics::valid_device_id(std::string(49, 'x')));
    CHECK_FALSE(topics::valid_device_id(""));
    CHECK_FALSE(topics::valid_device_id("a/b"));
    CHECK_FALSE(topics::valid_device_id("a+b"));
    CHECK_FALSE(topics::valid_device_id("a#"));
    CHECK_FALSE(topics::valid_device_id("svc.sessiond"));
    CHECK_FALSE(topics::valid_device_id("e 1"));
}

TEST_CASE("topics: + matches exactly one level") {
    CHECK(topics::matches("ph/v1/dev/+/presence", "ph/v1/dev/e1/presence"));
    CHECK_FALSE(topics::matches("ph/v1/dev/+/presence", "ph/v1/dev/e1/x/presence"));
    CHECK_FALSE(topics::matches("ph/v1/dev/+/presence", "ph/v1/dev/presence"));
    CHECK(topics::matches("ph/v1/dev/+/conn/+/state", "ph/v1/dev/e1/conn/10/state"));
    CHECK(topics::matches("+", "a"));
    CHECK_FALSE(topics::matches("+", "a/b"));
    CHECK(topics::matches("a/+", "a/")); // an empty level is a level
    CHECK(topics::matches("+/+", "/x"));
}

TEST_CASE("topics: # matches the level and everything below, only as the last level") {
    CHECK(topics::matches("ph/v1/dev/e1/#", "ph/v1/dev/e1/tele"));
    CHECK(topics::matches("ph/v1/dev/e1/#", "ph/v1/dev/e1/conn/1/state"));
    CHECK(topics::matches("ph/v1/dev/e1/#", "ph/v1/dev/e1"));
    CHECK_FALSE(topics::matches("ph/v1/dev/e1/#", "ph/v1/dev/e2/tele"));
    CHECK(topics::matches("#", "anything/at/all"));
    CHECK_FALSE(topics::matches("a/#/b", "a/x/b"));
    CHECK_FALSE(topics::valid_filter("a/#/b"));
    CHECK_FALSE(topics::valid_filter("a/b#"));
    CHECK_FALSE(topics::valid_filter("a/b+/c"));
    CHECK_FALSE(topics::valid_filter(""));
}

TEST_CASE("topics: wildcards at the start do not match $SYS topics") {
    CHECK_FALSE(topics::matches("#", "$SYS/broker/uptime"));
    CHECK_FALSE(topics::matches("+/broker/uptime", "$SYS/broker/uptime"));
    CHECK(topics::matches("$SYS/#", "$SYS/broker/uptime"));
}

TEST_CASE("topics: exact filters match only themselves") {
    CHECK(topics::matches("a/b", "a/b"));
    CHECK_FALSE(topics::matches("a/b", "a/b/c"));
    CHECK_FALSE(topics::matches("a/b", "a"));
    CHECK_FALSE(topics::matches("a/b", "A/b"));
}

TEST_CASE("topics: device topics are parsed back, and anything else is refused") {
    auto t = topics::parse_device_topic("ph/v1/dev/e-1/conn/12/state");
    REQUIRE(t);
    CHECK(t->device_id == "e-1");
    CHECK(t->leaf == topics::Leaf::ConnState);
    CHECK(t->n == 12);
    auto r = topics::parse_device_topic("ph/v1/dev/e-1/req/session_record");
    REQUIRE(r);
    CHECK(r->leaf == topics::Leaf::Req);
    CHECK(r->name == "session_record");
    CHECK(topics::parse_device_topic("ph/v1/dev/e-1/cfg/reported")->leaf == topics::Leaf::CfgReported);
    CHECK_FALSE(topics::parse_device_topic("ph/v1/dev/e-1/conn/0/state"));
    CHECK_FALSE(topics::parse_device_topic("ph/v1/dev/e-1/conn/01/state"));
    CHECK_FALSE(topics::parse_device_topic("ph/v1/dev/e-1/conn/x/state"));
    CHECK_FALSE(topics::parse_device_topic("ph/v1/dev/e-1/bogus"));
    CHECK_FALSE(topics::parse_device_topic("ph/v1/dev/e-1/evt/a/b"));
    CHECK_FALSE(topics::parse_device_topic("ph/v1/dev/e.1/tele"));
    CHECK_FALSE(topics::parse_device_topic("ph/v2/dev/e-1/tele"));
    CHECK_FALSE(topics::parse_device_topic("ph/v1/dev/e-1/evt/Bad-Name"));
}

TEST_CASE("topics: recorderd's device report is ph/v1/svc/device/{id}/report and only that parses back to its device") {
    CHECK(topics::device_report("P1") == "ph/v1/svc/device/P1/report");
    CHECK(topics::any_device_report() == "ph/v1/svc/device/+/report");
    CHECK(topics::matches(topics::any_device_report(), topics::device_report("e-001")));
    CHECK_FALSE(topics::matches(topics::any_device_report(), topics::device_presence("e-001")));
    CHECK(topics::device_of_report(topics::device_report("P1")) == "P1");
    CHECK(topics::device_of_report(topics::any_device_report()) == std::nullopt); // `+` is no device id
    CHECK(topics::device_of_report(topics::device_presence("P1")) == std::nullopt);
    CHECK(topics::device_of_report(topics::tele("P1")) == std::nullopt);
    CHECK(topics::device_of_report("ph/v1/svc/device/P1/report/x") == std::nullopt);
    CHECK(topics::device_of_report("ph/v1/svc/device/svc.x/report") == std::nullopt);
    CHECK(topics::device_of_presence(topics::device_report("P1")) == std::nullopt);
}
