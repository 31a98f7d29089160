// Deeply nested JSON from a device must never crash a process (REVIEW-reliability risk #10).
#include "common/json.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace pilehub;

namespace {

std::string nested_arrays(std::size_t levels) {
    return std::string(levels, '[') + std::string(levels, ']');
}

} // namespace

TEST_CASE("json: 100 k nested arrays are refused by parse with a reason, without recursing") {
    const auto text = nested_arrays(100'000);
    REQUIRE(text.size() < 256 * 1024);
    auto doc = json::parse(text);
    REQUIRE_FALSE(doc.ok());
    CHECK(doc.error().find("nested deeper than 64") != std::string::npos);
    const auto wrapped = R"({"v":1,"ts":1,"boot":1,"seq":1,"data":{"x":)" + text + "}}";
    CHECK_FALSE(json::parse(wrapped).ok());
}

TEST_CASE("json: nesting up to the limit parses; brackets inside strings do not count") {
    CHECK(json::parse(nested_arrays(json::kMaxDepth)).ok());
    CHECK_FALSE(json::parse(nested_arrays(json::kMaxDepth + 1)).ok());
    const std::string tricky = R"({"s":")" + std::string(1000, '[') + R"(\"[[[","a":[{"b":[]}]})";
    CHECK(json::nesting_depth(tricky) == 4);
    CHECK(json::parse(tricky).ok());
    CHECK(json::nesting_depth("42") == 0);
    CHECK(json::nesting_depth(nested_arrays(1000), 10) == 11);
}

TEST_CASE("json: raw_value writes a value nested 100 k deep as null instead of recursing") {
    // Built by hand (json::parse never gives one): each level is an array holding the next.
    rapidjson::Document doc;
    auto& a = doc.GetAllocator();
    rapidjson::Value inner(rapidjson::kArrayType);
    for (int i = 0; i < 100'000; ++i) {
        rapidjson::Value outer(rapidjson::kArrayType);
        outer.PushBack(inner, a); // moves inner
        inner = std::move(outer);
    }
    CHECK(json::nesting_depth(inner) == json::kMaxDepth + 1);
    json::Writer w;
    w.begin_object().key("data").raw_value(inner).end_object();
    CHECK(w.str() == R"({"data":null})");

    auto shallow = json::parse(R"({"a":[1,{"b":"c"}]})");
    REQUIRE(shallow.ok());
    json::Writer w2;
    w2.raw_value(*shallow);
    CHECK(w2.str() == R"({"a":[1,{"b":"c"}]})");
}

TEST_CASE("json: a \\u escape of a lone low surrogate is refused; surrogate pairs and escaped backslashes are not") {
    struct Case {
        const char* text;
        bool ok;
    };
    const Case cases[] = {
        {R"({"a":"\udc20"})", false},      // lone low surrogate (RapidJSON 1.1 would write bytes that are not UTF-8)
        {R"({"x\uDC20y":1})", false},      // in a member name, upper-case hex (what fuzz_ocpp found)
        {R"(["ok","\udfff"])", false},     // the last low surrogate
        {R"({"a":"\ud83d\ude00"})", true}, // a pair: U+1F600
        {R"({"a":"\u00e9\u4e2d"})", true}, // not surrogates
        {R"({"a":"\\udc20"})", true},      // an escaped backslash, then the letters udc20
        {R"({"a":"\udbff\udc00\udc00"})", false}, // a pair, then a lone low one
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        CHECK(json::parse(c.text).ok() == c.ok);
        CHECK(json::lone_low_surrogate(c.text).has_value() == !c.ok);
    }
}

TEST_CASE("json: a number of more than 30 digits or beyond 10^±290, or a zero written beyond 10^-20..10^30, is "
          "refused (RapidJSON's full-precision reader read out of bounds on one: fuzz_ocpp); ordinary numbers and "
          "digits in strings are not") {
    // The shape fuzz_ocpp found: a long significand with a large negative exponent.
    const auto found =
        json::parse(R"({"t":2066669223.3720368547758071444444444444444444444444444401E-00000000000000000000368})");
    REQUIRE_FALSE(found.ok());
    CHECK(found.error().find("at offset 5: a number of more than 30 digits") != std::string::npos);
    CHECK_FALSE(json::parse("[1.0000000000000000000000000000001]").ok()); // 32 digits
    CHECK_FALSE(json::parse("[1e-291]").ok());
    CHECK_FALSE(json::parse("[-1E+300]").ok());
    CHECK_FALSE(json::parse(R"({"a":"x","b":[1,2,1e99999999999999999999]})").ok());
    // The magnitude counts, not the exponent as written: 29 digits E278 is 1.0e306, which we would write
    // back as E306 (fuzz_ocpp: a frame written again did not read); 1e-318 likewise.
    CHECK_FALSE(json::parse("[10020666060666001000000000000e278]").ok());
    CHECK_FALSE(json::parse("[0.0000000000000000000000000001e-290]").ok());
    CHECK(json::parse("[0.000000000000000000000000001e300]").ok()); // 1e273
    CHECK(json::parse("[-1.0020666060666001e290]").ok());
    // A zero beyond 10^-20..10^30: RapidJSON normalised a zero significand (UBSan: clz(0)).
    CHECK_FALSE(json::parse("[0.00000000000000000000000]").ok()); // 23 zeros
    CHECK_FALSE(json::parse("[0e40]").ok());
    CHECK_FALSE(json::parse("[-0.0e-25]").ok());
    CHECK_FALSE(json::parse("[0.0000000000e-13]").ok());

    for (const char* ok :
         {"[0]", "[-12.5]", "[1e290]", "[1E-290]", "[123456789012345678901234567890]", "[1048001000642059423024129]",
          "[-0.000001]", "[0.0]", "[0e5]", "[0e30]", "[0.00000000000000000000]",
          R"({"k":"1234567890123456789012345678901234e-999"})", R"({"k\"1":"99999999999999999999999999999999"})"}) {
        CAPTURE(ok);
        CHECK(json::parse(ok).ok());
    }
}
