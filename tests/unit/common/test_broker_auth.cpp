#include "common/broker_auth.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

using namespace pilehub;

TEST_CASE("broker_auth: hashes exactly like mosquitto_passwd (PBKDF2-SHA512, 101 rounds)") {
    // Produced by `mosquitto_passwd -b pw alice secret` (Mosquitto 2.0.11); salt h3cIEEPv2RRFyduK.
    const std::string from_mosquitto = "$7$101$h3cIEEPv2RRFyduK$qXtf1EpPs1YaH+KyhLxnTUQXvpJIjow7GOxmNN7yekjUqm9wcf0uWwNVJJywPbuYKPhAvUgArxjtjiLbP9CMNQ==";
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
        CHECK(s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos);
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
