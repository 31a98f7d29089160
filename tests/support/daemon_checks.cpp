// The parts of daemon.hpp that report through doctest assertions (pilehub_test_support only;
// daemon.cpp stays free of doctest so that the benchmarks can use it).
#include "tests/support/daemon.hpp"

#include <doctest/doctest.h>

#include <thread>

namespace pilehub::test {

void Daemon::start() {
    const auto failure = try_start();
    REQUIRE_MESSAGE(!failure, failure.value_or(""));
}

std::int64_t count(db::Database& d, const std::string& sql) {
    db::Statement st(d, sql);
    REQUIRE(st.step());
    return st.int64(0);
}

std::int64_t wait_count(db::Database& d, const std::string& sql, std::int64_t want, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    std::int64_t n = 0;
    while ((n = count(d, sql)) < want && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return n;
}

} // namespace pilehub::test
