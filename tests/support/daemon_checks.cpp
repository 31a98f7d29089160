// The parts of daemon.hpp that report through doctest assertions (pilehub_test_support only;
// daemon.cpp stays free of doctest so that the benchmarks can use it).
#include "tests/support/daemon.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <thread>

namespace pilehub::test {

void Daemon::start() {
    const auto failure = try_start();
    REQUIRE_MESSAGE(!failure, failure.value_or(""));
}

void sim_control(const std::string& fifo, const std::string& line) {
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    REQUIRE_MESSAGE(fd >= 0, "cannot open " << fifo);
    const auto text = line + "\n";
    const auto n = ::write(fd, text.data(), text.size());
    ::close(fd);
    REQUIRE(n == static_cast<ssize_t>(text.size()));
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
