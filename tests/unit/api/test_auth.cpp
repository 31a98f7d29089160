#include "api_test_util.hpp"
#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "web-api/auth.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using namespace pilehub::api;

TEST_CASE("tokens: a token works until it expires, then never again") {
    db::Database d(testutil::temp_db("tokens"));
    ManualClock clock;
    auth::TokenStore tokens(d, clock);
    const auto t = tokens.issue("rider", 7, 60'000);
    CHECK(t.size() >= 32);
    auto info = tokens.lookup(t);
    REQUIRE(info);
    CHECK(info->kind == "rider");
    CHECK(info->subject_id == 7);
    clock.advance_ms(59'999);
    CHECK(tokens.lookup(t));
    clock.advance_ms(1);
    CHECK_FALSE(tokens.lookup(t));
    CHECK_FALSE(tokens.lookup("not-a-token"));
    CHECK_FALSE(tokens.lookup(""));
}

TEST_CASE("tokens: a revoked token is refused; revoking all ends every session of a subject") {
    db::Database d(testutil::temp_db("revoke"));
    ManualClock clock;
    auth::TokenStore tokens(d, clock);
    const auto a = tokens.issue("admin", 1, 3'600'000), b = tokens.issue("admin", 1, 3'600'000),
               c = tokens.issue("admin", 2, 3'600'000);
    CHECK(tokens.revoke(crypto::sha256_hex(a)));
    CHECK_FALSE(tokens.lookup(a));
    CHECK(tokens.lookup(b));
    CHECK(tokens.revoke_all("admin", 1) == 1);
    CHECK_FALSE(tokens.lookup(b));
    CHECK(tokens.lookup(c));
}

TEST_CASE("tokens: only the hash is stored") {
    db::Database d(testutil::temp_db("hashed"));
    ManualClock clock;
    auth::TokenStore tokens(d, clock);
    const auto t = tokens.issue("rider", 3, 60'000);
    db::Statement st(d, "SELECT token_hash FROM auth_tokens");
    REQUIRE(st.step());
    CHECK(st.text(0) != t);
    CHECK(st.text(0) == crypto::sha256_hex(t));
}

TEST_CASE("tokens: a lookup records last use at most once a minute, and otherwise writes nothing") {
    db::Database d(testutil::temp_db("touch"));
    ManualClock clock;
    auth::TokenStore tokens(d, clock);
    const auto t = tokens.issue("rider", 5, 3'600'000);
    auto last_used = [&] {
        db::Statement st(d, "SELECT last_used_at FROM auth_tokens");
        REQUIRE(st.step());
        return st.opt_int64(0);
    };
    auto writes = [&] { return sqlite3_total_changes(d.handle()); };
    const auto t0 = clock.now_ms();
    REQUIRE(tokens.lookup(t));
    CHECK(last_used() == t0); // the first use is recorded
    const auto after_first = writes();
    clock.advance_ms(30'000);
    REQUIRE(tokens.lookup(t));
    CHECK(last_used() == t0);
    CHECK(writes() == after_first); // within the minute: a read only
    clock.advance_ms(30'001);
    REQUIRE(tokens.lookup(t));
    CHECK(last_used() == t0 + 60'001);
    CHECK(writes() == after_first + 1);
}

namespace {
Settings sms_settings() {
    Settings s;
    s.sms_code_ttl_s = 300;
    s.sms_max_tries = 5;
    s.sms_min_interval_s = 60;
    s.sms_max_per_hour = 5;
    s.sms_max_per_ip_hour = 30;
    return s;
}
} // namespace

TEST_CASE("sms: a code logs in once and is spent") {
    db::Database d(testutil::temp_db("sms-once"));
    ManualClock clock;
    const auto s = sms_settings();
    auth::SmsCodes codes(d, clock, s);
    auto r = codes.request("13800000001", "1.2.3.4");
    REQUIRE(r.ok);
    CHECK(r.sms_code.size() == 6);
    CHECK(codes.verify("13800000001", r.sms_code).ok);
    auto again = codes.verify("13800000001", r.sms_code);
    CHECK_FALSE(again.ok);
    CHECK(again.code == ErrorCode::Unauthorized);
}

TEST_CASE("sms: a code expires") {
    db::Database d(testutil::temp_db("sms-expiry"));
    ManualClock clock;
    const auto s = sms_settings();
    auth::SmsCodes codes(d, clock, s);
    auto r = codes.request("13800000002", "");
    clock.advance_ms(300'000);
    auto v = codes.verify("13800000002", r.sms_code);
    CHECK_FALSE(v.ok);
    CHECK(v.code == ErrorCode::Expired);
}

TEST_CASE("sms: at most 5 tries, then even the right code is refused") {
    db::Database d(testutil::temp_db("sms-tries"));
    ManualClock clock;
    const auto s = sms_settings();
    auth::SmsCodes codes(d, clock, s);
    auto r = codes.request("13800000003", "");
    const std::string wrong = r.sms_code == "000000" ? "111111" : "000000";
    for (int i = 0; i < 4; ++i)
        CHECK(codes.verify("13800000003", wrong).code == ErrorCode::Unauthorized);
    CHECK(codes.verify("13800000003", wrong).code == ErrorCode::RateLimited); // the 5th wrong try spends it
    auto v = codes.verify("13800000003", r.sms_code);
    CHECK_FALSE(v.ok);
    CHECK(v.code == ErrorCode::RateLimited);
}

TEST_CASE("sms: requests are limited per phone by interval and per hour, and per address") {
    db::Database d(testutil::temp_db("sms-rate"));
    ManualClock clock;
    auto s = sms_settings();
    s.sms_max_per_ip_hour = 7;
    auth::SmsCodes codes(d, clock, s);
    REQUIRE(codes.request("13800000004", "9.9.9.9").ok);
    auto soon = codes.request("13800000004", "9.9.9.9");
    CHECK_FALSE(soon.ok);
    CHECK(soon.code == ErrorCode::RateLimited);
    CHECK(soon.retry_after_s == 60);
    for (int i = 1; i < 5; ++i) {
        clock.advance_ms(61'000);
        CHECK(codes.request("13800000004", "9.9.9.9").ok);
    }
    clock.advance_ms(61'000);
    auto hourly = codes.request("13800000004", "9.9.9.9");
    CHECK_FALSE(hourly.ok);
    CHECK(hourly.code == ErrorCode::RateLimited);
    // Another phone from the same address: two more, then the address limit (7 per hour).
    CHECK(codes.request("13800000005", "9.9.9.9").ok);
    clock.advance_ms(61'000);
    CHECK(codes.request("13800000005", "9.9.9.9").ok);
    clock.advance_ms(61'000);
    CHECK_FALSE(codes.request("13800000005", "9.9.9.9").ok);
    // An hour after the first code the phone may ask again.
    clock.advance_ms(3'600'000);
    CHECK(codes.request("13800000004", "8.8.8.8").ok);
}

TEST_CASE("throttling: failed operator logins block the user name for the window, success clears it") {
    db::Database d(testutil::temp_db("throttle"));
    ManualClock clock;
    Settings s;
    s.login_max_failures = 5;
    s.login_window_s = 900;
    s.login_max_failures_per_ip = 100;
    auth::LoginThrottle t(d, clock, s);
    for (int i = 0; i < 4; ++i) {
        CHECK(t.blocked_for_s("ops", "1.1.1.1") == 0);
        t.record_failure("ops", "1.1.1.1");
    }
    CHECK(t.blocked_for_s("ops", "1.1.1.1") == 0);
    t.record_failure("ops", "1.1.1.1");
    CHECK(t.blocked_for_s("ops", "1.1.1.1") == 900);
    CHECK(t.blocked_for_s("ops", "2.2.2.2") == 900); // per user name, whatever the address
    CHECK(t.blocked_for_s("other", "1.1.1.1") == 0);
    clock.advance_ms(900'000);
    CHECK(t.blocked_for_s("ops", "1.1.1.1") == 0);
    t.record_failure("ops", "1.1.1.1");
    t.clear("ops");
    CHECK(t.blocked_for_s("ops", "1.1.1.1") == 0);
}

TEST_CASE("throttling: one address failing for many user names is blocked too") {
    db::Database d(testutil::temp_db("throttle-ip"));
    ManualClock clock;
    Settings s;
    s.login_max_failures = 5;
    s.login_window_s = 900;
    s.login_max_failures_per_ip = 10;
    auth::LoginThrottle t(d, clock, s);
    for (int i = 0; i < 10; ++i)
        t.record_failure("user" + std::to_string(i), "6.6.6.6");
    CHECK(t.blocked_for_s("fresh", "6.6.6.6") > 0);
    CHECK(t.blocked_for_s("fresh", "7.7.7.7") == 0);
}

TEST_CASE("phones: valid numbers are digits with an optional +, at most 20 characters") {
    CHECK(auth::valid_phone("13800000000"));
    CHECK(auth::valid_phone("+8613800000000"));
    CHECK_FALSE(auth::valid_phone("1380"));
    CHECK_FALSE(auth::valid_phone("138-0000-0000"));
    CHECK_FALSE(auth::valid_phone("' OR 1=1 --"));
    CHECK_FALSE(auth::valid_phone("+123456789012345678901"));
}
