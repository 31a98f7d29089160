#include "api_test_util.hpp"
#include "common/json.hpp"
#include "web-api/app.hpp"
#include "web-api/auth.hpp"
#include "web-api/openapi.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <regex>
#include <set>

using namespace pilehub;
using namespace pilehub::api;

namespace {

/// The whole API on a loopback port over a temporary database (no broker: rpc routes time out).
struct App {
    Services s;
    std::unique_ptr<ApiServer> server;
    explicit App(const std::string& name) {
        s.settings.dev_mode = true;
        s.settings.max_body_bytes = 4096;
        s.core = std::make_unique<DbPool>(testutil::temp_db(name), db::Database::Options{});
        prepare_database(s);
        server = std::make_unique<ApiServer>(s);
        server->bind("127.0.0.1", 0);
        server->start();
    }
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", server->port());
        c.set_read_timeout(5, 0);
        return c;
    }
};

std::string error_code_of(const std::string& body) {
    auto doc = json::parse(body);
    if (!doc || !doc->IsObject())
        return "<not json>";
    auto e = doc->FindMember("error");
    if (e == doc->MemberEnd() || !e->value.IsObject())
        return "<no error>";
    auto c = e->value.FindMember("code");
    auto m = e->value.FindMember("message");
    if (c == e->value.MemberEnd() || !c->value.IsString() || m == e->value.MemberEnd() || !m->value.IsString())
        return "<bad shape>";
    return c->value.GetString();
}

/// A path template with its parameters filled with plausible values.
std::string sample_path(const Route& r) {
    std::string p = r.path;
    for (const auto& f : r.path_params) {
        const auto v = f.type == FieldType::Integer ? std::string("1") : std::string("x-1");
        p.replace(p.find("{" + f.name + "}"), f.name.size() + 2, v);
    }
    return p;
}

} // namespace

TEST_CASE("openapi: the document lists every registered route and nothing else") {
    App app("openapi");
    auto c = app.client();
    auto res = c.Get("/api/v1/openapi.json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    auto doc = json::parse(res->body, 4 << 20);
    REQUIRE(doc);
    const auto& paths = (*doc)["paths"];
    std::set<std::pair<std::string, std::string>> documented;
    for (auto p = paths.MemberBegin(); p != paths.MemberEnd(); ++p)
        for (auto m = p->value.MemberBegin(); m != p->value.MemberEnd(); ++m)
            documented.emplace(m->name.GetString(), p->name.GetString());

    const auto& routes = app.server->router().routes();
    const auto& registered = app.server->router().registered();
    REQUIRE(routes.size() == registered.size());
    CHECK(documented.size() == routes.size());
    std::set<std::string> op_ids;
    for (std::size_t i = 0; i < routes.size(); ++i) {
        const auto& r = routes[i];
        std::string m(to_string(r.method));
        for (auto& ch : m)
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        CHECK_MESSAGE(documented.count({m, r.path}), r.path);
        CHECK_MESSAGE(op_ids.insert(r.operation_id).second, "duplicate operationId " << r.operation_id);
        // What the server registered matches the documented template.
        CHECK(registered[i].first == to_string(r.method));
        CHECK_MESSAGE(std::regex_match(sample_path(r), std::regex(registered[i].second)), r.path);
    }
    // CONTRACT B and C routes are all there.
    for (const auto& [m, p] :
         std::vector<std::pair<std::string, std::string>>{{"post", "/api/v1/auth/sms-code"},
                                                          {"post", "/api/v1/auth/login"},
                                                          {"get", "/api/v1/me"},
                                                          {"get", "/api/v1/stations/nearby"},
                                                          {"get", "/api/v1/sockets/{code}"},
                                                          {"post", "/api/v1/sessions"},
                                                          {"get", "/api/v1/sessions/{id}"},
                                                          {"get", "/api/v1/sessions"},
                                                          {"post", "/api/v1/sessions/{id}/stop"},
                                                          {"get", "/api/v1/wallet/ledger"},
                                                          {"post", "/api/v1/wallet/recharge"},
                                                          {"post", "/api/v1/pay/sandbox/{payment_id}/confirm"},
                                                          {"post", "/api/v1/cards/bind"},
                                                          {"post", "/api/v1/cards/unbind"},
                                                          {"post", "/api/v1/cards/report-lost"},
                                                          {"post", "/api/v1/admin/login"},
                                                          {"post", "/api/v1/admin/stations"},
                                                          {"post", "/api/v1/admin/devices"},
                                                          {"put", "/api/v1/admin/stations/{id}/tariff"},
                                                          {"post", "/api/v1/admin/tariff-quote"},
                                                          {"put", "/api/v1/admin/devices/{id}/config"},
                                                          {"get", "/api/v1/admin/devices/{id}/config"},
                                                          {"post", "/api/v1/admin/users"},
                                                          {"post", "/api/v1/admin/users/{id}/recharge"},
                                                          {"post", "/api/v1/admin/users/{id}/freeze"},
                                                          {"post", "/api/v1/admin/users/{id}/unfreeze"},
                                                          {"post", "/api/v1/admin/users/{id}/refund"},
                                                          {"get", "/api/v1/admin/devices/{id}"},
                                                          {"get", "/api/v1/admin/sessions/{id}"},
                                                          {"post", "/api/v1/admin/sessions/{id}/stop"},
                                                          {"get", "/api/v1/admin/presence-log"}})
        CHECK_MESSAGE(documented.count({m, p}), m << " " << p);
}

TEST_CASE("openapi: routes declare the success statuses their handlers answer (found by the contract check)") {
    App app("openapi-statuses");
    auto c = app.client();
    auto res = c.Get("/api/v1/openapi.json");
    REQUIRE(res);
    auto doc = json::parse(res->body, 4 << 20);
    REQUIRE(doc);
    const auto& paths = (*doc)["paths"];
    const auto declares = [&](const char* path, const char* method, const char* status) {
        const auto p = paths.FindMember(path);
        if (p == paths.MemberEnd() || !p->value.HasMember(method))
            return false;
        return p->value[method]["responses"].HasMember(status);
    };
    // The commissioning routes answer 202 (sessiond took the command), not 200.
    for (const char* path : {"/api/v1/admin/devices/{id}/ports/{n}/start", "/api/v1/admin/devices/{id}/ports/{n}/stop",
                             "/api/v1/admin/devices/{id}/ports/start-all"}) {
        CHECK_MESSAGE(declares(path, "post", "202"), path);
        CHECK_MESSAGE(!declares(path, "post", "200"), path);
    }
    // A new plate is 201, one the rider holds already 200.
    CHECK(declares("/api/v1/me/plates", "post", "201"));
    CHECK(declares("/api/v1/me/plates", "post", "200"));
    // An operator login refused: 401 (wrong password), 403 (disabled account).
    CHECK(declares("/api/v1/admin/login", "post", "401"));
    CHECK(declares("/api/v1/admin/login", "post", "403"));
}

TEST_CASE("openapi: every JSON route declares its response schema (Route::returns), and it is JSON") {
    App app("openapi-schemas");
    // One request first: the server is listening before the test ends (stopping it sooner would hang).
    auto c = app.client();
    REQUIRE(c.Get("/api/v1/health"));
    std::vector<std::string> missing;
    for (const auto& r : app.server->router().routes()) {
        if (r.produces != "application/json")
            continue; // CSV, XLSX, images, firmware, a provider's text answer: no JSON Schema
        if (r.response_schema.empty()) {
            missing.push_back(r.operation_id);
            continue;
        }
        auto doc = json::parse(r.response_schema, 1 << 20);
        CHECK_MESSAGE(static_cast<bool>(doc), r.operation_id << ": its response schema is not JSON");
    }
    std::string names;
    for (const auto& m : missing)
        names += " " + m;
    CHECK_MESSAGE(missing.empty(), "routes without a response schema (Route::returns):" << names);
}

TEST_CASE("errors: every refusal has the one error shape with a stable code") {
    App app("errors");
    auto c = app.client();
    auto unknown = c.Get("/api/v1/no/such/route");
    REQUIRE(unknown);
    CHECK(unknown->status == 404);
    CHECK(error_code_of(unknown->body) == "not_found");

    auto bad_json = c.Post("/api/v1/auth/sms-code", "{not json", "application/json");
    REQUIRE(bad_json);
    CHECK(bad_json->status == 400);
    CHECK(error_code_of(bad_json->body) == "invalid_request");

    auto unknown_field = c.Post("/api/v1/auth/sms-code", R"({"phone":"13800000000","extra":1})", "application/json");
    CHECK(unknown_field->status == 400);
    CHECK(error_code_of(unknown_field->body) == "invalid_request");

    auto wrong_type = c.Post("/api/v1/auth/sms-code", R"({"phone":13800000000})", "application/json");
    CHECK(wrong_type->status == 400);
    CHECK(error_code_of(wrong_type->body) == "invalid_request");

    auto missing = c.Post("/api/v1/auth/sms-code", "{}", "application/json");
    CHECK(missing->status == 400);

    auto not_object = c.Post("/api/v1/auth/sms-code", "[1,2]", "application/json");
    CHECK(not_object->status == 400);
    CHECK(error_code_of(not_object->body) == "invalid_request");

    auto no_token = c.Get("/api/v1/me");
    CHECK(no_token->status == 401);
    CHECK(error_code_of(no_token->body) == "unauthorized");

    httplib::Headers bad{{"Authorization", "Bearer nope"}};
    auto bad_token = c.Get("/api/v1/me", bad);
    CHECK(bad_token->status == 401);
    CHECK(error_code_of(bad_token->body) == "unauthorized");

    auto too_large = c.Post("/api/v1/auth/sms-code", std::string(10000, ' '), "application/json");
    REQUIRE(too_large);
    CHECK(too_large->status == 413);
    CHECK(error_code_of(too_large->body) == "invalid_request");

    auto bad_query = c.Get("/api/v1/stations/nearby?lat=abc&lon=1", bad);
    CHECK(bad_query->status == 401); // authentication comes first
}

TEST_CASE("errors: a rider token on an operator route is forbidden, and the reverse") {
    App app("kinds");
    std::string rider, admin;
    {
        auto d = app.s.core->get();
        auth::TokenStore t(*d, *app.s.clock);
        db::Statement(*d, "INSERT INTO accounts(phone, created_at) VALUES ('13800000009', 0)").run();
        rider = t.issue("rider", d->last_insert_rowid(), 60'000);
        db::Statement(*d,
                      "INSERT INTO admins(username, password_hash, role, created_at) VALUES ('boss', 'x', 'admin', 0)")
            .run();
        admin = t.issue("admin", d->last_insert_rowid(), 60'000);
    }
    auto c = app.client();
    auto r1 = c.Get("/api/v1/admin/me", httplib::Headers{{"Authorization", "Bearer " + rider}});
    CHECK(r1->status == 403);
    CHECK(error_code_of(r1->body) == "forbidden");
    auto r2 = c.Get("/api/v1/me", httplib::Headers{{"Authorization", "Bearer " + admin}});
    CHECK(r2->status == 403);
    auto r3 = c.Get("/api/v1/admin/me", httplib::Headers{{"Authorization", "Bearer " + admin}});
    CHECK(r3->status == 200);
    auto r4 = c.Get("/api/v1/me", httplib::Headers{{"Authorization", "Bearer " + rider}});
    CHECK(r4->status == 200);
    // Query validation with a valid token.
    auto r5 = c.Get("/api/v1/stations/nearby?lat=abc&lon=1", httplib::Headers{{"Authorization", "Bearer " + rider}});
    CHECK(r5->status == 400);
    CHECK(error_code_of(r5->body) == "invalid_request");
    auto r6 = c.Get("/api/v1/stations/nearby?lat=91&lon=1", httplib::Headers{{"Authorization", "Bearer " + rider}});
    CHECK(r6->status == 400);
    // The rpc routes answer timeout (504) when no session worker is connected.
    auto r7 = c.Post("/api/v1/sessions", R"({"socket":"nope-1","mode":"power"})", "application/json");
    CHECK(r7->status == 401);
}

TEST_CASE("routing: no exception escapes a handler; it becomes 500 internal") {
    Router router([](const std::string&, Access) -> Principal { fail(ErrorCode::Unauthorized, "no"); },
                  [](const Request&, const Route&, int) {});
    router.add(Route::make(Method::Get, "/boom", "boom", "test", "throws").handle([](Request&) -> Response {
        throw std::runtime_error("secret internals: SELECT * FROM x");
    }));
    router.add(
        Route::make(Method::Get, "/items/{id}", "item", "test", "an item").param(id_param()).handle([](Request& req) {
            return Response::json("{\"id\":" + std::to_string(req.param_int("id")) + "}");
        }));
    httplib::Server server;
    router.install(server, ServerOptions{});
    const int port = server.bind_to_any_port("127.0.0.1");
    std::thread t([&] { server.listen_after_bind(); });
    httplib::Client c("127.0.0.1", port);
    auto boom = c.Get("/boom");
    REQUIRE(boom);
    CHECK(boom->status == 500);
    CHECK(error_code_of(boom->body) == "internal");
    CHECK(boom->body.find("SELECT") == std::string::npos);
    auto ok = c.Get("/items/42");
    CHECK(ok->status == 200);
    CHECK(ok->body == "{\"id\":42}");
    auto inj = c.Get("/items/1%20OR%201=1");
    CHECK(inj->status == 404);
    server.stop();
    t.join();
}

TEST_CASE("routing: route templates become anchored patterns with typed parameters") {
    auto r = Route::make(Method::Get, "/api/v1/admin/devices/{id}/ports/{n}", "x", "t", "s")
                 .param(key_param("id", "device"))
                 .param(id_param("n", "port"));
    const std::regex re(route_regex(r));
    CHECK(std::regex_match("/api/v1/admin/devices/demo-e00001/ports/3", re));
    CHECK_FALSE(std::regex_match("/api/v1/admin/devices/demo-e00001/ports/x", re));
    CHECK_FALSE(std::regex_match("/api/v1/admin/devices/a'b/ports/3", re));
    CHECK_FALSE(std::regex_match("/api/v1/admin/devices/a/b/ports/3", re));
    CHECK(check_value(integer("limit", false, 1, 500, ""), "0").has_value());
    CHECK_FALSE(check_value(integer("limit", false, 1, 500, ""), "500").has_value());
    CHECK(check_value(integer("limit", false, 1, 500, ""), "5x").has_value());
    CHECK(check_value(str_enum("state", false, {"active", "all"}, ""), "x").has_value());
    CHECK(check_value(number("lat", true, -90, 90, ""), "nan").has_value());
    CHECK(check_value(str("q", false, 3, ""), "abcd").has_value());
}
