#include "api_test_util.hpp"
#include "common/json.hpp"
#include "web-api/app.hpp"
#include "web-api/openapi.hpp"
#include "web-api/openapi_schemas_admin.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace pilehub;
using namespace pilehub::api;

TEST_CASE("openapi schemas: the builders write OpenAPI 3.0 schema text") {
    using namespace oas;
    struct Row {
        std::string built, expected;
    };
    const Row rows[] = {
        {obj({{"id", kInt}}), R"({"type":"object","properties":{"id":{"type":"integer"}},"required":["id"],)"
                              R"("additionalProperties":false})"},
        // `?name`: a member written only sometimes, so not required
        {obj({{"id", kInt}, {"?fw", kStr}}),
         R"({"type":"object","properties":{"id":{"type":"integer"},"fw":{"type":"string"}},"required":["id"],)"
         R"("additionalProperties":false})"},
        {obj({{"?fw", kStr}}),
         R"({"type":"object","properties":{"fw":{"type":"string"}},"additionalProperties":false})"},
        {obj_n({{"id", kInt}}), R"({"type":"object","nullable":true,"properties":{"id":{"type":"integer"}},)"
                                R"("required":["id"],"additionalProperties":false})"},
        {open_obj({{"id", kInt}}), R"({"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]})"},
        {nullable(R"({"type":"object"})"), R"({"nullable":true,"type":"object"})"},
        {arr(kInt), R"({"type":"array","items":{"type":"integer"}})"},
        {words_of({"a", "b\"c"}), R"({"type":"string","enum":["a","b\"c"]})"},
        {words_of({"a"}, true), R"({"type":"string","nullable":true,"enum":["a"]})"},
        {list_of("xs", kStr), R"({"type":"object","properties":{"xs":{"type":"array","items":{"type":"string"}}},)"
                              R"("required":["xs"],"additionalProperties":false})"},
        {obj(Members{{"a", kInt}} + Members{{"b", kBool}}),
         R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"boolean"}},"required":["a","b"],)"
         R"("additionalProperties":false})"},
    };
    for (const auto& r : rows) {
        CHECK(r.built == r.expected);
        CHECK_MESSAGE(json::parse(r.built), r.built);
    }
}

namespace {

/// Problems of one schema as OpenAPI 3.0 reads it: `$ref` (not available inline), `nullable` without
/// a type, an array without items, an object whose `required` names a member it does not describe,
/// an enum of no words.
void lint(const rapidjson::Value& s, const std::string& where, std::vector<std::string>& out) {
    if (!s.IsObject()) {
        out.push_back(where + ": not an object");
        return;
    }
    if (s.HasMember("$ref"))
        out.push_back(where + ": $ref");
    const auto type = s.HasMember("type") && s["type"].IsString() ? std::string(s["type"].GetString()) : "";
    if (s.HasMember("nullable") && type.empty())
        out.push_back(where + ": nullable without a type");
    if (type == "array") {
        if (!s.HasMember("items"))
            out.push_back(where + ": array without items");
        else
            lint(s["items"], where + "[]", out);
    }
    if (s.HasMember("enum") && (!s["enum"].IsArray() || s["enum"].Empty()))
        out.push_back(where + ": empty enum");
    if (type == "object" && s.HasMember("properties")) {
        const auto& props = s["properties"];
        for (auto m = props.MemberBegin(); m != props.MemberEnd(); ++m)
            lint(m->value, where + "." + m->name.GetString(), out);
        if (s.HasMember("required"))
            for (const auto& r : s["required"].GetArray())
                if (!props.HasMember(r))
                    out.push_back(where + ": requires " + r.GetString() + " it does not describe");
    }
}

} // namespace

TEST_CASE("openapi schemas: every JSON answer of the operator route files declares a closed object schema") {
    // The operations of routes_admin_{access,alerts,catalog,devices,money,reports,sessions,tariff_schemes,
    // users}.cpp that answer JSON (their CSV/XLSX exports and QR images have no schema).
    const std::set<std::string> ids{"admin.permissions",
                                    "admin.roles.list",
                                    "admin.roles.create",
                                    "admin.roles.update",
                                    "admin.admins.list",
                                    "admin.admins.create",
                                    "admin.admins.update",
                                    "admin.audit_log",
                                    "admin.alerts.list",
                                    "admin.alerts.get",
                                    "admin.alerts.ack",
                                    "admin.alerts.resolve",
                                    "admin.providers.list",
                                    "admin.providers.create",
                                    "admin.providers.update",
                                    "admin.properties.list",
                                    "admin.properties.create",
                                    "admin.properties.update",
                                    "admin.stations.list",
                                    "admin.stations.create",
                                    "admin.stations.get",
                                    "admin.stations.update",
                                    "admin.areas.create",
                                    "admin.areas.update",
                                    "admin.stations.prepaid.get",
                                    "admin.stations.prepaid.put",
                                    "admin.tariffs.save",
                                    "admin.tariffs.get",
                                    "admin.tariffs.quote",
                                    "admin.devices.list",
                                    "admin.devices.create",
                                    "admin.devices.get",
                                    "admin.devices.update",
                                    "admin.ports.update",
                                    "admin.devices.rotate",
                                    "admin.devices.delete",
                                    "admin.devices.command",
                                    "admin.devices.config.put",
                                    "admin.devices.config.get",
                                    "admin.payments.list",
                                    "admin.payments.get",
                                    "admin.payments.query",
                                    "admin.users.refund",
                                    "admin.refunds.list",
                                    "admin.refunds.get",
                                    "admin.dashboard",
                                    "admin.sessions.list",
                                    "admin.sessions.get",
                                    "admin.sessions.stop",
                                    "admin.sessions.refund",
                                    "admin.presence_log",
                                    "admin.faults",
                                    "admin.incidents",
                                    "admin.tariff_schemes.list",
                                    "admin.tariff_schemes.create",
                                    "admin.tariff_schemes.get",
                                    "admin.tariff_schemes.update",
                                    "admin.tariff_schemes.delete",
                                    "admin.tariff_schemes.assign",
                                    "admin.tariff_schemes.assignments",
                                    "admin.devices.tariff",
                                    "admin.users.list",
                                    "admin.users.create",
                                    "admin.users.get",
                                    "admin.users.update",
                                    "admin.users.freeze",
                                    "admin.users.unfreeze",
                                    "admin.users.recharge",
                                    "admin.users.ledger",
                                    "admin.ledger",
                                    "admin.cards.list",
                                    "admin.cards.issue",
                                    "admin.cards.bind",
                                    "admin.cards.unbind",
                                    "admin.cards.report_lost",
                                    "admin.cards.replace",
                                    "admin.packages.list",
                                    "admin.packages.create",
                                    "admin.packages.update"};
    REQUIRE(ids.size() == 79);
    Services s;
    s.core = std::make_unique<DbPool>(testutil::temp_db("openapi-schemas-admin"), db::Database::Options{});
    prepare_database(s);
    const auto router = build_router(s);
    auto doc = json::parse(openapi_document(router->routes(), "test"), 8 << 20);
    REQUIRE(doc);
    std::set<std::string> found;
    for (const auto& r : router->routes()) {
        if (!ids.count(r.operation_id))
            continue;
        found.insert(r.operation_id);
        CHECK_MESSAGE(r.produces == "application/json", r.operation_id);
        auto schema = json::parse(r.response_schema);
        REQUIRE_MESSAGE(schema, r.operation_id << " declares no schema");
        CHECK_MESSAGE(std::string((*schema)["type"].GetString()) == "object", r.operation_id);
        CHECK_MESSAGE(schema->HasMember("properties"), r.operation_id);
        CHECK_MESSAGE((*schema)["additionalProperties"].IsFalse(), r.operation_id);
        std::vector<std::string> problems;
        lint(*schema, r.operation_id, problems);
        for (const auto& p : problems)
            FAIL_CHECK(p);
    }
    CHECK(found == ids);
}

TEST_CASE("openapi schemas: creating or renaming a provider or property declares 409 conflict (the name is taken)") {
    Services s;
    s.core = std::make_unique<DbPool>(testutil::temp_db("openapi-conflict"), db::Database::Options{});
    prepare_database(s);
    const auto router = build_router(s);
    std::set<std::string> declared;
    for (const auto& r : router->routes())
        for (auto c : r.errors)
            if (c == ErrorCode::Conflict)
                declared.insert(r.operation_id);
    for (const char* id :
         {"admin.providers.create", "admin.providers.update", "admin.properties.create", "admin.properties.update"})
        CHECK_MESSAGE(declared.count(id), id);
}
