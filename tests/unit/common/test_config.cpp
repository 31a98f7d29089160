#include "common/config.hpp"
#include "common/ocpp_endpoints.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace pilehub;

namespace {
ConfigSchema schema() {
    auto s = ConfigSchema::common("sessiond");
    s.add_int("sessiond.command_timeout_ms", 10000, 100, 600000, "How long a pile has to answer a command.");
    s.add_bool("sessiond.dry_run", false, "test key");
    return s;
}
std::string write_file(const std::string& text) {
    auto p = std::filesystem::temp_directory_path() / ("pilehub-cfg-" + std::to_string(::getpid()) + ".conf");
    std::ofstream(p) << text;
    return p.string();
}
} // namespace

TEST_CASE("config: defaults apply and ${key} references resolve") {
    auto c = Config::from_overrides(schema(), {"data_dir=/tmp/ph"});
    CHECK(c.get_string("db.path") == "/tmp/ph/pilehub.db");
    CHECK(c.get_string("mqtt.username") == "svc.sessiond");
    CHECK(c.get_string("mqtt.password_file") == "/tmp/ph/secrets/svc.sessiond.pass");
    CHECK(c.get_int("sessiond.command_timeout_ms") == 10000);
    CHECK_FALSE(c.get_bool("sessiond.dry_run"));
}

TEST_CASE("config: a shared file skips other programs' keys but refuses unknown ones") {
    auto f = write_file("# installation\ndata_dir = /srv/ph\nbillingd.debit_order = bonus_first\n"
                        "sessiond.command_timeout_ms = 2000  # faster\n");
    auto c = Config::load(schema(), f, {});
    CHECK(c.get_int("sessiond.command_timeout_ms") == 2000);
    CHECK(c.get_string("data_dir") == "/srv/ph");
    CHECK_THROWS_AS(Config::load(schema(), write_file("sessiond.typo = 1\n"), {}), ConfigError);
    CHECK_THROWS_AS(Config::load(schema(), write_file("colour = blue\n"), {}), ConfigError);
}

TEST_CASE("config: a shared file's broker.* and ocpp.* keys are skipped by programs that read none of them") {
    const auto f = write_file("ocpp.port = 19090\nbroker.pid_file = /run/m.pid\n");
    CHECK_NOTHROW(Config::load(schema(), f, {})); // sessiond reads neither group
    auto api = ConfigSchema::common("pilehub-api");
    ocpp_endpoints::add_keys(api);
    const auto c = Config::load(api, f, {});
    CHECK(c.get_int("ocpp.port") == 19090);
    // A program that reads a group refuses a typo in it.
    CHECK_THROWS_AS(Config::load(api, write_file("ocpp.prot = 19090\n"), {}), ConfigError);
}

TEST_CASE("config: the alert.* keys of a shared file are skipped by every program but alertd, which refuses a typo") {
    const auto f = write_file("alert.offline_after_s = 120\nalert.webhook_url = https://hooks.example/ph\n");
    CHECK_NOTHROW(Config::load(schema(), f, {})); // sessiond reads none of them
    auto alertd = ConfigSchema::common("alertd");
    alertd.add_int("alert.offline_after_s", 300, 1, 86'400, "test key");
    alertd.add_string("alert.webhook_url", "", "test key");
    CHECK(Config::load(alertd, f, {}).get_int("alert.offline_after_s") == 120);
    CHECK_THROWS_AS(Config::load(alertd, write_file("alert.ofline_after_s = 1\n"), {}), ConfigError);
    CHECK_NOTHROW(Config::load(schema(), write_file("alertd.tick_ms = 100\n"), {})); // another program's key
}

TEST_CASE("config: OCPP chargers are given <public url>/<id>; the defaults follow the gateway's ports") {
    auto s = ConfigSchema::common("pilehub-api");
    ocpp_endpoints::add_keys(s);
    const auto def = ocpp_endpoints::Endpoints::from(Config::from_overrides(s, {}));
    CHECK(def.port == 18090);
    CHECK(def.tls_port == 18453);
    CHECK(def.url("cp-1") == "ws://127.0.0.1:18090/ocpp/cp-1");
    CHECK(def.tls_url("cp-1") == "wss://localhost:18453/ocpp/cp-1");
    const auto moved =
        ocpp_endpoints::Endpoints::from(Config::from_overrides(s, {"ocpp.port=1234", "ocpp.tls_port=1235"}));
    CHECK(moved.url("cp-1") == "ws://127.0.0.1:1234/ocpp/cp-1");
    CHECK(moved.tls_url("cp-1") == "wss://localhost:1235/ocpp/cp-1");
    const auto pub = ocpp_endpoints::Endpoints::from(Config::from_overrides(
        s, {"ocpp.public_url=ws://cp.example.com/ocpp/", "ocpp.public_tls_url=wss://cp.example.com:443/ocpp"}));
    CHECK(pub.url("cp-1") == "ws://cp.example.com/ocpp/cp-1");
    CHECK(pub.tls_url("cp-1") == "wss://cp.example.com:443/ocpp/cp-1");
    // Without a TLS listener the default names no TLS URL; one given (a TLS proxy in front) is kept.
    const auto plain = ocpp_endpoints::Endpoints::from(Config::from_overrides(s, {"ocpp.tls_port=-1"}));
    CHECK_FALSE(plain.tls_url("cp-1"));
    CHECK(plain.url("cp-1") == "ws://127.0.0.1:18090/ocpp/cp-1");
    const auto proxied = ocpp_endpoints::Endpoints::from(
        Config::from_overrides(s, {"ocpp.tls_port=-1", "ocpp.public_tls_url=wss://cp.example.com/ocpp"}));
    CHECK(proxied.tls_url("cp-1") == "wss://cp.example.com/ocpp/cp-1");
    for (const char* bad : {"ocpp.public_url=http://x/ocpp", "ocpp.public_url=ws://", "ocpp.public_tls_url=ws://x/ocpp",
                            "ocpp.public_tls_url="}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(ocpp_endpoints::Endpoints::from(Config::from_overrides(s, {bad})), ConfigError);
    }
}

TEST_CASE("config: types and ranges are checked") {
    CHECK_THROWS_AS(Config::from_overrides(schema(), {"mqtt.port=0"}), ConfigError);
    CHECK_THROWS_AS(Config::from_overrides(schema(), {"mqtt.port=70000"}), ConfigError);
    CHECK_THROWS_AS(Config::from_overrides(schema(), {"mqtt.port=18x3"}), ConfigError);
    CHECK_THROWS_AS(Config::from_overrides(schema(), {"sessiond.dry_run=yes"}), ConfigError);
    CHECK_THROWS_AS(Config::from_overrides(schema(), {"no-equals-sign"}), ConfigError);
    CHECK_THROWS_AS(Config::load(schema(), write_file("just words\n"), {}), ConfigError);
    CHECK_THROWS_AS(Config::from_overrides(schema(), {"db.path=${nope}/x"}), ConfigError);
}

TEST_CASE("config: every key is documented with its default") {
    const auto s = schema();
    const auto text = s.describe();
    for (const auto& k : s.keys()) {
        CHECK(text.find(k.name) != std::string::npos);
        CHECK_FALSE(k.doc.empty());
    }
}
