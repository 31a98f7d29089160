#include "common/log.hpp"
#include "common/log_file.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace pilehub;
namespace fs = std::filesystem;

namespace {

/// The `n=<number>` of every line of a file.
std::vector<int> numbers(const std::string& path) {
    std::vector<int> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        const auto at = line.find(" n=");
        REQUIRE_MESSAGE(at != std::string::npos, "a split or foreign line: " << line);
        out.push_back(std::stoi(line.substr(at + 3)));
    }
    return out;
}

} // namespace

TEST_CASE("log file: rotated (moved away, opened again) many times while 4 threads write, no line is lost, "
          "doubled or split") {
    const auto dir = fs::temp_directory_path() / ("pilehub-logrotate-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const auto live = (dir / "d.log").string();
    const int saved_stderr = ::dup(STDERR_FILENO);
    REQUIRE(log::open_file(live));

    constexpr int kThreads = 4, kLines = 5000, kRotations = 50;
    std::atomic<int> next{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t)
        writers.emplace_back([&] {
            for (int i = 0; i < kLines; ++i)
                log::info("line n={}", next.fetch_add(1));
        });
    // What logrotate does with `create` and a postrotate SIGHUP: rename, then the daemon opens the path again.
    for (int r = 1; r <= kRotations; ++r) {
        while (next.load() < r * kThreads * kLines / (kRotations + 1)) // spread over the writing
            std::this_thread::yield();
        fs::rename(live, dir / ("d.log." + std::to_string(r)));
        std::string why;
        REQUIRE_MESSAGE(log::open_file(live, &why), why);
    }
    for (auto& w : writers)
        w.join();
    ::dup2(saved_stderr, STDERR_FILENO);
    ::close(saved_stderr);

    std::multiset<int> seen;
    int files = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        ++files;
        for (int n : numbers(e.path().string()))
            seen.insert(n);
    }
    CHECK(files == kRotations + 1);
    CHECK(seen.size() == static_cast<std::size_t>(kThreads * kLines));
    std::set<int> distinct(seen.begin(), seen.end());
    CHECK(distinct.size() == seen.size());
    CHECK(*distinct.begin() == 0);
    CHECK(*distinct.rbegin() == kThreads * kLines - 1);
    fs::remove_all(dir);
}

TEST_CASE("log file: a path that cannot be opened is refused with a reason and stderr stays") {
    std::string why;
    CHECK_FALSE(log::open_file("/nonexistent/pilehub/d.log", &why));
    CHECK(why.find("cannot open /nonexistent/pilehub/d.log") != std::string::npos);
}
