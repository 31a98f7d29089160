#include "common/broker_auth.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <pthread.h>
#include <set>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace pilehub;

TEST_CASE("broker_auth: hashes exactly like mosquitto_passwd (PBKDF2-SHA512, 101 rounds)") {
    // Produced by `mosquitto_passwd -b pw alice secret` (Mosquitto 2.0.11); salt h3cIEEPv2RRFyduK.
    const std::string from_mosquitto = "$7$101$h3cIEEPv2RRFyduK$qXtf1EpPs1YaH+"
                                       "KyhLxnTUQXvpJIjow7GOxmNN7yekjUqm9wcf0uWwNVJJywPbuYKPhAvUgArxjtjiLbP9CMNQ==";
    CHECK(broker::verify_password("secret", from_mosquitto));
    CHECK_FALSE(broker::verify_password("Secret", from_mosquitto));
    CHECK_FALSE(broker::verify_password("secret", "$6$abc$def"));
    CHECK_FALSE(broker::verify_password("secret", "$7$x$y$z"));
    CHECK_FALSE(broker::verify_password("secret", ""));
}

TEST_CASE("broker_auth: our hashes verify and salts differ every time") {
    const auto h1 = broker::hash_password("pw");
    const auto h2 = broker::hash_password("pw");
    CHECK(h1 != h2);
    CHECK(h1.rfind("$7$101$", 0) == 0);
    CHECK(broker::verify_password("pw", h1));
    CHECK(broker::verify_password("pw", h2));
    CHECK_FALSE(broker::verify_password("pw2", h1));
}

TEST_CASE("broker_auth: secrets carry at least 128 random bits and are safe in files and URLs") {
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) {
        const auto s = broker::random_secret();
        CHECK(s.size() == 32); // 24 bytes = 192 bits
        CHECK(s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
              std::string::npos);
        seen.insert(s);
    }
    CHECK(seen.size() == 200);
}

TEST_CASE("broker_auth: the password file is replaced atomically, private, and refuses bad names") {
    const auto path = (std::filesystem::temp_directory_path() / ("pilehub-pw-" + std::to_string(::getpid()))).string();
    broker::write_password_file(path, {{"e-1", "$7$h1"}, {"svc.sessiond", "$7$h2"}});
    std::ifstream in(path);
    std::string a, b;
    std::getline(in, a);
    std::getline(in, b);
    CHECK(a == "e-1:$7$h1");
    CHECK(b == "svc.sessiond:$7$h2");
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK_THROWS(broker::write_password_file(path, {{"a:b", "$7$x"}}));
    CHECK_THROWS(broker::write_password_file(path, {{"a\nroot", "$7$x"}}));
    std::filesystem::remove(path);
}

TEST_CASE("broker_auth: reload refuses a missing or bogus pid file") {
    std::string why;
    CHECK_FALSE(broker::reload_broker("/nonexistent/pid", &why));
    CHECK(why.find("no broker pid file") != std::string::npos);
    const auto path = (std::filesystem::temp_directory_path() / ("pilehub-pid-" + std::to_string(::getpid()))).string();
    std::ofstream(path) << "12ab\n";
    CHECK_FALSE(broker::reload_broker(path, &why));
    std::filesystem::remove(path);
}

TEST_CASE("broker_auth: the trailing reload sends one SIGHUP, `after` the last of calls in quick succession") {
    // The broker: a child that takes SIGHUPs with sigtimedwait and writes one byte per signal to a pipe.
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    sigset_t old;
    REQUIRE(::pthread_sigmask(SIG_BLOCK, &hup, &old) == 0); // the child inherits the blocked SIGHUP
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(fds[0]);
        const timespec wait{10, 0};
        while (::sigtimedwait(&hup, nullptr, &wait) == SIGHUP)
            if (::write(fds[1], "H", 1) != 1)
                ::_exit(2);
        ::_exit(0);
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    ::close(fds[1]);
    const auto path = (std::filesystem::temp_directory_path() / ("pilehub-pid-" + std::to_string(::getpid()))).string();
    std::ofstream(path) << child << "\n";

    const auto signal_within = [&](int ms) {
        pollfd p{fds[0], POLLIN, 0};
        if (::poll(&p, 1, ms) != 1)
            return false;
        char c = 0;
        return ::read(fds[0], &c, 1) == 1 && c == 'H';
    };
    const auto first = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i)
        broker::reload_broker_later(path, std::chrono::milliseconds(300));
    const auto last = std::chrono::steady_clock::now();
    REQUIRE(signal_within(5000));
    CHECK(std::chrono::steady_clock::now() - last >= std::chrono::milliseconds(300));
    CHECK_FALSE(signal_within(700)); // the three calls gave one signal
    broker::reload_broker_later(path, std::chrono::milliseconds(50));
    CHECK(signal_within(5000)); // and a later call another
    CHECK(std::chrono::steady_clock::now() - first < std::chrono::seconds(5));

    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ::close(fds[0]);
    std::filesystem::remove(path);
}
