#include "payload_test_support.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace pilehub;
using namespace pilehub::payloads;

TEST_CASE("payloads: every ```json block in docs/contract.md is parsed by its codec") {
    const auto blocks = test::contract_doc_blocks();
    REQUIRE(blocks.size() >= 50);
    for (const auto &b : blocks) {
        CAPTURE(b.name);
        CAPTURE(b.line);
        const auto *codec = find_codec(b.name);
        REQUIRE_MESSAGE(codec, "docs/contract.md:" << b.line << " names no codec: " << b.name);
        auto same = codec->round_trips(b.text);
        REQUIRE_MESSAGE(same.ok(), "docs/contract.md:" << b.line << ": " << same.error());
        CHECK(same.value());
    }
}

TEST_CASE("payloads: every doc example validates against its schema") {
    for (const auto &b : test::contract_doc_blocks()) {
        CAPTURE(b.name);
        CAPTURE(b.line);
        const auto *s = test::find_schema(b.name);
        REQUIRE(s);
        std::string why;
        CHECK_MESSAGE(s->validates(b.text, &why), why);
    }
}

TEST_CASE("payloads: every payload has an example in docs/contract.md") {
    std::set<std::string> documented;
    for (const auto &b : test::contract_doc_blocks())
        documented.insert(b.name);
    for (const auto &c : payload_codecs())
        CHECK_MESSAGE(documented.count(std::string(c.name)) == 1, c.name << " has no ```json block");
}

TEST_CASE("payloads: docs/contract.md lists every error code with its HTTP status") {
    const auto doc = test::read_source_file("docs/contract.md");
    for (auto c : all_error_codes()) {
        const auto row = "| `" + std::string(to_string(c)) + "` | " + std::to_string(http_status(c)) + " |";
        CHECK_MESSAGE(doc.find(row) != std::string::npos, "missing row " << row);
    }
}
