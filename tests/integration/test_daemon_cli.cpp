// Every daemon's command line, as an administrator meets it: --check-config validates and exits
// 0, a bad configuration exits 2 naming what is wrong, --help lists every key with its default,
// and a configuration file with an unknown key is refused. The built programs are run for real.
#include "tests/support/process.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace pilehub::test;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kPrograms = {"workers/presenced/presenced", "workers/recorderd/recorderd",
                                            "workers/billingd/billingd",   "workers/sessiond/sessiond",
                                            "workers/autostopd/autostopd", "web-api/pilehub-api",
                                            "workers/alertd/alertd",       "workers/otad/otad"};

std::string binary(const std::string& rel) {
    return std::string(PILEHUB_BINARY_DIR) + "/" + rel;
}

std::string name_of(const std::string& rel) {
    return rel.substr(rel.rfind('/') + 1);
}

} // namespace

TEST_CASE("daemons: --check-config accepts a good configuration and refuses a bad one with exit code 2") {
    const auto dir = fs::temp_directory_path() / ("pilehub-cli-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    // Development mode: outside it the API refuses a configuration without a rider login and a
    // payment channel (test_api_providers proves that).
    const std::string data = "data_dir=" + dir.string();
    for (const auto& rel : kPrograms) {
        const auto bin = binary(rel);
        const auto name = name_of(rel);
        CAPTURE(name);
        REQUIRE(fs::exists(bin));

        auto r = run({bin, "--check-config", "--set", data, "--set", "dev_mode=true"});
        CHECK(r.exit_code == 0);
        CHECK(r.output.find("configuration OK") != std::string::npos);

        r = run({bin, "--check-config", "--set", data, "--set", "bogus.key=1"});
        CHECK(r.exit_code == 2);
        CHECK(r.output.find("unknown key `bogus.key`") != std::string::npos);

        r = run({bin, "--check-config", "--set", data, "--set", "mqtt.port=99999"});
        CHECK(r.exit_code == 2);
        CHECK(r.output.find("mqtt.port") != std::string::npos);

        r = run({bin, "--check-config", "--set", data, "--set", "mqtt.port=eleven"});
        CHECK(r.exit_code == 2);

        const auto conf = (dir / (name + ".conf")).string();
        std::ofstream(conf) << "# a typo an operator might make\n" << data << "\nmqtt.prot = 1883\n";
        r = run({bin, "--check-config", "--config", conf});
        CHECK(r.exit_code == 2);
        CHECK(r.output.find("mqtt.prot") != std::string::npos);

        r = run({bin, "--check-config", "--config", (dir / "missing.conf").string()});
        CHECK(r.exit_code == 2);

        r = run({bin, "--frobnicate"});
        CHECK(r.exit_code == 2);
        CHECK(r.output.find("unknown argument --frobnicate") != std::string::npos);

        r = run({bin, "--help"});
        CHECK(r.exit_code == 0);
        CHECK(r.output.find("data_dir (string, default `/var/lib/pilehub`)") != std::string::npos);
        CHECK(r.output.find("mqtt.port") != std::string::npos);
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
}
