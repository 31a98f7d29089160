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
