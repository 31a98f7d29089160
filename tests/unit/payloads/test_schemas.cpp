#include "payload_test_support.hpp"

#include <doctest/doctest.h>
#include <rapidjson/internal/regex.h>

#include <set>

using namespace pilehub;
using namespace pilehub::payloads;
using pilehub::payloads::test::find_schema;
using pilehub::payloads::test::schemas;

namespace {

void collect_patterns(const rapidjson::Value &v, std::vector<std::string> &out) {
    if (v.IsObject()) {
        for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
            if (std::string_view(it->name.GetString()) == "pattern" && it->value.IsString())
                out.emplace_back(it->value.GetString());
            else if (std::string_view(it->name.GetString()) != "examples")
                collect_patterns(it->value, out);
        }
    } else if (v.IsArray()) {
        for (auto it = v.Begin(); it != v.End(); ++it)
            collect_patterns(*it, out);
    }
}

std::string with_member(const std::string &text, const char *key, rapidjson::Value value, bool remove = false) {
    rapidjson::Document d;
    d.Parse(text.c_str());
    if (remove)
        d.RemoveMember(key);
    else {
        auto it = d.FindMember(key);
        if (it != d.MemberEnd())
            it->value = value;
        else
            d.AddMember(rapidjson::Value(key, d.GetAllocator()), value, d.GetAllocator());
    }
    return test::to_text(d);
}

} // namespace

TEST_CASE("payloads: every schema is a draft-04 object schema with at least one example") {
    REQUIRE(schemas().size() >= 50);
    for (const auto &s : schemas()) {
        CAPTURE(s->name);
        auto v = s->doc.FindMember("$schema");
        REQUIRE(v != s->doc.MemberEnd());
        CHECK(std::string_view(v->value.GetString()) == "http://json-schema.org/draft-04/schema#");
        CHECK(s->doc.FindMember("type")->value == rapidjson::Value("object"));
        CHECK_FALSE(s->examples.empty());
        CHECK(s->name.find('.') == std::string::npos);
    }
}

TEST_CASE("payloads: every pattern in the schemas compiles (RapidJSON silently ignores a broken one)") {
    std::size_t n = 0;
    for (const auto &s : schemas()) {
        std::vector<std::string> patterns;
        collect_patterns(s->doc, patterns);
        for (const auto &p : patterns) {
            CAPTURE(s->name);
            CAPTURE(p);
            rapidjson::internal::GenericRegex<rapidjson::UTF8<>> re(p.c_str());
            CHECK(re.IsValid());
            ++n;
        }
    }
    CHECK(n > 50);
}

TEST_CASE("payloads: every schema example validates against its schema") {
    std::size_t n = 0;
    for (const auto &s : schemas())
        for (const auto &ex : s->examples) {
            CAPTURE(s->name);
            CAPTURE(ex);
            std::string why;
            CHECK_MESSAGE(s->validates(ex, &why), why);
            ++n;
        }
    CHECK(n >= 70);
}

TEST_CASE("payloads: every schema example round-trips through its codec") {
    for (const auto &s : schemas()) {
        const auto *codec = find_codec(s->name);
        REQUIRE_MESSAGE(codec, "no codec for schema " << s->name);
        for (const auto &ex : s->examples) {
            CAPTURE(s->name);
            CAPTURE(ex);
            // decode -> encode -> decode gives an equal value
            auto same = codec->round_trips(ex);
            REQUIRE_MESSAGE(same.ok(), same.error());
            CHECK(same.value());
            // encode(decode(x)) is stable
            auto once = codec->recode(ex);
            REQUIRE(once.ok());
            auto twice = codec->recode(once.value());
            REQUIRE(twice.ok());
            CHECK(once.value() == twice.value());
            // the encoder writes exactly the documented shape: the example itself, as a JSON value
            rapidjson::Document a, b;
            a.Parse(ex.c_str());
            b.Parse(once.value().c_str());
            CHECK_MESSAGE(a == b, "encoded as " << once.value());
            // and what it writes validates against the schema
            std::string why;
            CHECK_MESSAGE(s->validates(once.value(), &why), why);
        }
    }
}

TEST_CASE("payloads: there is exactly one codec per schema file and one schema file per codec") {
    std::set<std::string> schema_names, codec_names;
    for (const auto &s : schemas())
        schema_names.insert(s->name);
    for (const auto &c : payload_codecs()) {
        CHECK_MESSAGE(codec_names.insert(std::string(c.name)).second, "duplicate codec " << c.name);
        CHECK_MESSAGE(schema_names.count(std::string(c.name)) == 1, "no schema file for codec " << c.name);
    }
    CHECK(schema_names == codec_names);
}

TEST_CASE("payloads: schemas and codecs both refuse a higher version, a missing envelope field and a missing data") {
    for (const auto &s : schemas()) {
        const auto *codec = find_codec(s->name);
        REQUIRE(codec);
        const auto &ex = s->examples.front();
        CAPTURE(s->name);
        const auto v2 = with_member(ex, "v", rapidjson::Value(2));
        CHECK_FALSE(s->validates(v2));
        auto r = codec->recode(v2);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().find("v is 2") == 0);

        const auto no_boot = with_member(ex, "boot", rapidjson::Value(), true);
        CHECK_FALSE(s->validates(no_boot));
        CHECK_FALSE(codec->recode(no_boot).ok());

        if (s->name == "presence")
            continue;
        const auto no_ts = with_member(ex, "ts", rapidjson::Value(), true);
        CHECK_FALSE(s->validates(no_ts));
        CHECK(codec->recode(no_ts).error() == "ts is required");
        if (codec->flow == Flow::Reply)
            continue; // a reply's data is optional
        const auto no_data = with_member(ex, "data", rapidjson::Value(), true);
        CHECK_FALSE(s->validates(no_data));
        CHECK(codec->recode(no_data).error() == "data is required");
    }
}

TEST_CASE("payloads: the envelope requirements of each flow are in the schema and the codec") {
    for (const auto &c : payload_codecs()) {
        if (c.name == "presence")
            continue;
        const auto *s = find_schema(c.name);
        REQUIRE(s);
        CAPTURE(c.name);
        const auto &ex = s->examples.front();
        const bool need_id = c.flow == Flow::Event || c.flow == Flow::Request;
        const bool need_rid = c.flow == Flow::Request || c.flow == Flow::Command || c.flow == Flow::Reply;
        const bool need_exp = c.flow == Flow::Command;
        for (auto [key, needed] : {std::pair{"id", need_id}, {"rid", need_rid}, {"exp", need_exp}}) {
            CAPTURE(key);
            const auto without = with_member(ex, key, rapidjson::Value(), true);
            CHECK(s->validates(without) == !needed);
            auto r = c.recode(without);
            CHECK(r.ok() == !needed);
            if (needed)
                CHECK(r.error() == std::string(key) + " is required");
        }
    }
}

TEST_CASE("payloads: schema patterns refuse identifiers the codecs refuse") {
    const auto *s = find_schema("ebike_conn_state");
    REQUIRE(s);
    const auto *codec = find_codec("ebike_conn_state");
    rapidjson::Document d;
    d.Parse(s->examples.front().c_str());
    d.FindMember("data")->value.FindMember("sid")->value.SetString("s 1", d.GetAllocator());
    const auto bad = test::to_text(d);
    CHECK_FALSE(s->validates(bad));
    CHECK(codec->recode(bad).error().find("data.sid must be") == 0);
}
