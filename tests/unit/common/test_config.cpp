#include "common/config.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <unistd.h>
#include <fstream>

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
