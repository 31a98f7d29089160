#include "svc_test_support.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <set>
#include <string>

using namespace pilehub;
using svc::test::find_schema;
using svc::test::schemas;

namespace {

bool same_json(const std::string& a, const std::string& b) {
    rapidjson::Document x, y;
    x.Parse(a.c_str(), a.size());
    y.Parse(b.c_str(), b.size());
    return !x.HasParseError() && !y.HasParseError() && x == y;
}

/// Every check one example must pass: it decodes through its codec, validates against its schema,
/// round-trips (decode → encode → decode equal), encodes back to itself, and the encoding validates.
void check_example(const svc::Codec& codec, const svc::test::CompiledSchema& schema, const std::string& text) {
    std::string why;
    CHECK_MESSAGE(schema.validates(text, &why), why);
    const auto same = codec.round_trips(text);
    REQUIRE_MESSAGE(same.ok(), same.error());
    CHECK(same.value());
    const auto once = codec.recode(text);
    REQUIRE(once.ok());
    CHECK_MESSAGE(same_json(text, once.value()), "encoded as " << once.value());
    CHECK_MESSAGE(schema.validates(once.value(), &why), why);
    const auto twice = codec.recode(once.value());
    REQUIRE(twice.ok());
    CHECK(twice.value() == once.value());
}

} // namespace

TEST_CASE("svc contract: one codec per schema file in schema/svc and one schema file per codec") {
    std::set<std::string> schema_names, codec_names;
    for (const auto& s : schemas())
        schema_names.insert(s->name);
    for (const auto& c : svc::codecs()) {
        CHECK_MESSAGE(codec_names.insert(std::string(c.name)).second, "duplicate codec " << c.name);
        CHECK(svc::find_codec(c.name) == &c);
    }
    CHECK(schema_names == codec_names);
    CHECK(codec_names.size() == 18);
    CHECK(svc::find_codec("no_such_payload") == nullptr);
}

TEST_CASE("svc contract: every schema is a draft-04 object schema with examples, strict exactly for requests") {
    for (const auto& s : schemas()) {
        CAPTURE(s->name);
        const auto* codec = svc::find_codec(s->name);
        REQUIRE(codec);
        auto v = s->doc.FindMember("$schema");
        REQUIRE(v != s->doc.MemberEnd());
        CHECK(std::string_view(v->value.GetString()) == "http://json-schema.org/draft-04/schema#");
        CHECK(s->doc.FindMember("type")->value == rapidjson::Value("object"));
        CHECK_FALSE(s->examples.empty());
        const auto extra = s->doc.FindMember("additionalProperties");
        const bool closed = extra != s->doc.MemberEnd() && extra->value.IsFalse();
        CHECK(closed == codec->strict);
        CHECK(codec->strict == (s->name.find("_request") != std::string::npos));
    }
}

TEST_CASE("svc contract: every schema example validates, round-trips and is exactly what the encoder writes") {
    std::size_t n = 0;
    for (const auto& s : schemas()) {
        const auto* codec = svc::find_codec(s->name);
        REQUIRE(codec);
        for (const auto& ex : s->examples) {
            CAPTURE(s->name);
            CAPTURE(ex);
            check_example(*codec, *s, ex);
            ++n;
        }
    }
    CHECK(n >= 20);
}

TEST_CASE("svc contract: every ```json block of docs/topics.md decodes, validates and round-trips") {
    const auto blocks = svc::test::topics_doc_blocks();
    REQUIRE(blocks.size() >= 12);
    for (const auto& b : blocks) {
        CAPTURE(b.name);
        CAPTURE(b.line);
        const auto* codec = svc::find_codec(b.name);
        REQUIRE_MESSAGE(codec, "docs/topics.md:" << b.line << " names no codec: " << b.name);
        const auto* schema = find_schema(b.name);
        REQUIRE(schema);
        check_example(*codec, *schema, b.text);
    }
}

TEST_CASE("svc contract: every payload has an example in docs/topics.md") {
    std::set<std::string> documented;
    for (const auto& b : svc::test::topics_doc_blocks())
        documented.insert(b.name);
    for (const auto& c : svc::codecs())
        CHECK_MESSAGE(documented.count(std::string(c.name)) == 1, c.name << " has no ```json block");
}

TEST_CASE("svc contract: docs/topics.md names every payload's schema and tabulates every session state") {
    const auto doc = contract_test::read_source_file("docs/topics.md");
    for (const auto& c : svc::codecs())
        CHECK_MESSAGE(doc.find("`" + std::string(c.name) + "`") != std::string::npos, c.name << " is not named");
    for (auto s : svc::kAllSessionStates)
        CHECK(doc.find("| `" + std::string(svc::to_string(s)) + "` |") != std::string::npos);
}

TEST_CASE("svc contract: the device_command replies are the device's reply data, schema and examples alike") {
    const std::pair<const char*, const char*> pairs[] = {
        {"sessiond_device_command_reply_query_port", "ebike_cmd_reply_query_port"},
        {"sessiond_device_command_reply_query_device", "ebike_cmd_reply_query_device"}};
    const auto device = contract_test::compile_schemas(schema::payload_schemas());
    for (auto [ours, theirs] : pairs) {
        CAPTURE(ours);
        const auto* a = find_schema(ours);
        const auto* b = contract_test::find_schema(device, theirs);
        REQUIRE(a);
        REQUIRE(b);
        const auto& data = b->doc.FindMember("properties")->value.FindMember("data")->value;
        CHECK(a->doc.FindMember("properties")->value == data.FindMember("properties")->value);
        CHECK(a->doc.FindMember("required")->value == data.FindMember("required")->value);
        // Each device example's data is one of ours.
        const auto ex = b->doc.FindMember("examples")->value.GetArray();
        REQUIRE(ex.Size() == a->examples.size());
        for (rapidjson::SizeType i = 0; i < ex.Size(); ++i)
            CHECK(contract_test::to_text(ex[i].FindMember("data")->value) == a->examples[i]);
    }
}
