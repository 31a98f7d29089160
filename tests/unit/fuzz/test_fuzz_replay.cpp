// Every committed fuzz input replayed through its target's entry function (tests/fuzz/entries.hpp)
// in the normal build, without libFuzzer: tests/fuzz/regressions/<target>/ (inputs that once crashed
// or broke a property; each stays fixed) and the seeds of tests/fuzz/corpus/<target>/.
#include "tests/fuzz/entries.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

/// The files of tests/fuzz/<kind>/<target>/ in name order (none if the folder is absent).
std::vector<fs::path> inputs(const std::string& kind, const std::string& target) {
    std::vector<fs::path> out;
    const fs::path dir = fs::path(PILEHUB_SOURCE_DIR) / "tests/fuzz" / kind / target;
    if (!fs::is_directory(dir))
        return out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_regular_file() && e.path().filename().string()[0] != '.' && e.path().filename() != "README.md")
            out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

std::string read(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

/// Runs every input of `kind` through every target; answers how many ran.
std::size_t replay(const std::string& kind) {
    std::size_t n = 0;
    for (const auto& target : pilehub::fuzz::names()) {
        const auto entry = pilehub::fuzz::find(target);
        REQUIRE(static_cast<bool>(entry));
        for (const auto& p : inputs(kind, target)) {
            const auto bytes = read(p);
            const auto broken = entry(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
            CHECK_MESSAGE(broken.empty(), target << " " << p.filename().string() << ": " << broken);
            ++n;
        }
    }
    return n;
}

} // namespace

TEST_CASE("fuzz: every input that once crashed a target, and every seed, passes its target's properties") {
    // Regressions: inputs that once crashed a target or broke its property (tests/fuzz/regressions/).
    const auto regressions = replay("regressions");
    MESSAGE(regressions << " regression input(s) replayed");
    // Seeds: the documented examples (scripts/fuzz-seeds), at least one per target.
    for (const auto& target : pilehub::fuzz::names())
        CHECK_MESSAGE(!inputs("corpus", target).empty(), "no seeds for " << target);
    CHECK(replay("corpus") > 0);
}

TEST_CASE("fuzz: the payloads target picks codecs in the order of the sorted schema files") {
    // scripts/fuzz-seeds writes byte 0 of a payloads seed from this order.
    std::vector<std::string> expected;
    for (const char* folder : {"payloads", "svc"}) {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(fs::path(PILEHUB_SOURCE_DIR) / "schema" / folder))
            if (e.path().extension() == ".json")
                names.push_back(e.path().stem().string());
        std::sort(names.begin(), names.end());
        expected.insert(expected.end(), names.begin(), names.end());
    }
    for (const char* other : {"topics", "envelope", "rpc_request", "rpc_reply", "device_cache"})
        expected.emplace_back(other);
    CHECK(pilehub::fuzz::payload_selectors() == expected);
}
