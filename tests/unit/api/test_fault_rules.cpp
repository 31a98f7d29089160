// Customer service rules (web-api/fault_rules.hpp): the fault report state machine walked over every
// (state, action) pair, and the checks on riders' texts and photo URLs.
#include "web-api/fault_rules.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <utility>

using namespace pilehub::api::service;

TEST_CASE("fault reports: every (state, action) pair leads where the table says, and final states refuse all") {
    using S = FaultState;
    using A = FaultAction;
    // nullopt: refused (the API answers 409 conflict).
    const std::map<std::pair<S, A>, std::optional<S>> table{
        {{S::Open, A::Assign}, S::Assigned},       {{S::Open, A::Resolve}, S::Resolved},
        {{S::Open, A::Reject}, S::Rejected},       {{S::Assigned, A::Assign}, S::Assigned},
        {{S::Assigned, A::Resolve}, S::Resolved},  {{S::Assigned, A::Reject}, S::Rejected},
        {{S::Resolved, A::Assign}, std::nullopt},  {{S::Resolved, A::Resolve}, std::nullopt},
        {{S::Resolved, A::Reject}, std::nullopt},  {{S::Rejected, A::Assign}, std::nullopt},
        {{S::Rejected, A::Resolve}, std::nullopt}, {{S::Rejected, A::Reject}, std::nullopt},
    };
    int walked = 0;
    for (auto st : all_fault_states())
        for (auto a : all_fault_actions()) {
            CAPTURE(to_string(st));
            CAPTURE(to_string(a));
            const auto it = table.find({st, a});
            REQUIRE(it != table.end()); // the table names every pair
            CHECK(next_state(st, a) == it->second);
            ++walked;
        }
    CHECK(walked == 12);
    CHECK(table.size() == 12);
}

TEST_CASE("fault reports: open and assigned reports are pending; state words read back") {
    for (auto st : all_fault_states()) {
        CHECK(parse_fault_state(to_string(st)) == st);
        CHECK(is_pending(st) == (st == FaultState::Open || st == FaultState::Assigned));
    }
    CHECK_FALSE(parse_fault_state("closed"));
    CHECK_FALSE(parse_fault_state("Open"));
}

TEST_CASE("fault reports: a text is 1 to 500 characters, counted as characters, not bytes, and never blank") {
    CHECK_FALSE(text_problem("插座不通电", kMaxTextChars));
    CHECK(text_problem("", kMaxTextChars));
    CHECK(text_problem("  \n\t ", kMaxTextChars));
    CHECK_FALSE(text_problem(std::string(500, 'a'), kMaxTextChars));
    CHECK(text_problem(std::string(501, 'a'), kMaxTextChars));
    std::string chinese;
    for (int i = 0; i < 500; ++i)
        chinese += "坏"; // 3 bytes each: 1500 bytes, 500 characters
    CHECK_FALSE(text_problem(chinese, kMaxTextChars));
    CHECK(text_problem(chinese + "坏", kMaxTextChars));
}

TEST_CASE("fault reports: a photo URL is http or https with a host, at most 500 bytes, without spaces") {
    CHECK_FALSE(photo_url_problem("https://img.example.com/a.jpg"));
    CHECK_FALSE(photo_url_problem("http://10.0.0.2/p.png"));
    for (const char* bad : {"javascript:alert(1)", "data:image/png;base64,AAAA", "file:///etc/passwd",
                            "ftp://x.example/a.jpg", "https://", "https:///path", "//host/a.jpg",
                            "https://a.example/x y.jpg", "https://a.example/\x01", "JAVASCRIPT:alert(1)"}) {
        CAPTURE(bad);
        CHECK(photo_url_problem(bad));
    }
    const std::string head = "https://a.example/";
    CHECK_FALSE(photo_url_problem(head + std::string(kMaxUrlBytes - head.size(), 'x')));
    CHECK(photo_url_problem(head + std::string(kMaxUrlBytes - head.size() + 1, 'x')));
}
