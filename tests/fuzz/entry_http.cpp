// fuzz_http: every route of the API, driven in process through the real router (Router::
// dispatch_in_process: authentication, validation, the handler, the error shape) over a migrated
// database with one station and one e-bike pile, no sockets and no workers (rpc routes answer 504).
//
// Input: bytes 0-1 pick the route (routes()[n % count]); byte 2 the caller (bits 0-1: none, a rider,
// an operator with role admin, a bad token; bit 2: an Idempotency-Key header); then the text, split
// on its first two '\n': the path parameters separated by '/', the query (`a=1&b=2`), the body.
// Property: never a 5xx, but 504 timeout / 503 device_offline from the absent workers and 501
// unsupported; every refusal has the one error shape.
#include "common/json.hpp"
#include "common/log.hpp"
#include "common/payments.hpp"
#include "tests/fuzz/entries.hpp"
#include "tests/support/registry_seed.hpp"
#include "web-api/app.hpp"
#include "web-api/auth.hpp"

#include <fmt/format.h>
#include <httplib.h>

namespace pilehub::fuzz {
namespace {

struct Api {
    api::Services s;
    std::unique_ptr<api::Router> router;
    std::string rider, admin;
    std::uint64_t keys = 0;

    Api() {
        s.settings.dev_mode = true;
        // The files a production configuration names under its data directory (settings.cpp).
        const auto dir = scratch_dir("http");
        s.settings.data_dir = dir;
        s.settings.password_file = dir + "/broker/passwd";
        s.settings.pid_file = dir + "/run/mosquitto.pid";
        s.settings.initial_password_file = dir + "/initial-admin-password";
        s.settings.payment_secret_file = dir + "/payment-secret";
        s.core = std::make_unique<api::DbPool>(scratch_db("http-core"), db::Database::Options{});
        s.telemetry = std::make_unique<api::DbPool>(scratch_db("http-telemetry"), db::Database::Options{});
        api::prepare_database(s);
        s.sms = std::make_unique<api::DevSmsProvider>();
        s.providers.add(std::make_shared<payments::SandboxProvider>(std::string(64, 'a'), *s.clock));
        s.payment_provider = "sandbox";
        router = api::build_router(s);
        auto d = s.core->get();
        test::register_piles(*d, {"fz-e1"}, 2);
        api::auth::TokenStore t(*d, *s.clock);
        db::Statement(*d, "INSERT INTO accounts(phone, created_at) VALUES ('13800000009', 0)").run();
        rider = t.issue("rider", d->last_insert_rowid(), 10LL * 365 * 86'400'000);
        db::Statement(*d,
                      "INSERT INTO admins(username, password_hash, role, created_at) VALUES ('fz', 'x', 'admin', 0)")
            .run();
        admin = t.issue("admin", d->last_insert_rowid(), 10LL * 365 * 86'400'000);
    }
};

/// The one API of the run (both the target and its seeds read the route table from it).
Api& the_api() {
    static const bool quiet = (log::set_level(log::Level::Error), true);
    (void)quiet;
    static Api api;
    return api;
}

/// The route's template with its parameters replaced, in order, by `values` ('/'-separated).
std::string fill_path(const api::Route& r, std::string_view values) {
    std::string p = r.path;
    for (const auto& f : r.path_params) {
        const auto slash = values.find('/');
        std::string v(values.substr(0, slash));
        values = slash == std::string_view::npos ? std::string_view{} : values.substr(slash + 1);
        const auto at = p.find("{" + f.name + "}");
        if (at != std::string::npos)
            p.replace(at, f.name.size() + 2, v);
    }
    return p;
}

/// The code of a refusal in the one error shape `{"error":{"code":"...","message":"..."}}`; nullopt
/// for a body of another shape.
std::optional<std::string> refusal_code(const std::string& body) {
    auto doc = json::parse(body);
    if (!doc || !doc->IsObject())
        return std::nullopt;
    auto e = doc->FindMember("error");
    if (e == doc->MemberEnd() || !e->value.IsObject())
        return std::nullopt;
    auto c = e->value.FindMember("code");
    auto m = e->value.FindMember("message");
    if (c == e->value.MemberEnd() || !c->value.IsString() || m == e->value.MemberEnd() || !m->value.IsString())
        return std::nullopt;
    return std::string(c->value.GetString());
}

std::string sample_value(const api::FieldSpec& f) {
    switch (f.type) {
    case api::FieldType::Integer:
        return std::to_string(f.min.value_or(1) > 1 ? *f.min : std::min<std::int64_t>(1, f.max.value_or(1)));
    case api::FieldType::Number:
        return fmt::format("{}", (f.num_min.value_or(0) + f.num_max.value_or(0)) / 2);
    case api::FieldType::Boolean:
        return "true";
    case api::FieldType::Object:
        return "{}";
    case api::FieldType::Array:
        return "[]";
    case api::FieldType::String:
        break;
    }
    if (!f.one_of.empty())
        return f.one_of.front();
    if (f.name.find("phone") != std::string::npos)
        return "13800000009";
    if (f.name == "socket" || f.name == "code")
        return "fz-e1-1";
    if (f.name.find("device") != std::string::npos || f.name == "id")
        return "fz-e1";
    return std::string(static_cast<std::size_t>(std::max<std::int64_t>(1, f.min.value_or(1))), 'x');
}

} // namespace

std::vector<std::pair<std::string, std::string>> http_seeds() {
    auto& api = the_api();
    std::vector<std::pair<std::string, std::string>> out;
    const auto& routes = api.router->routes();
    for (std::size_t i = 0; i < routes.size(); ++i) {
        const auto& r = routes[i];
        std::string in;
        in += static_cast<char>(i >> 8);
        in += static_cast<char>(i & 0xff);
        const int caller = r.access == api::Access::Rider ? 1 : r.access == api::Access::Admin ? 2 : 0;
        in += static_cast<char>(caller | (r.money ? 4 : 0));
        std::string params, query;
        for (const auto& p : r.path_params)
            params +=
                (params.empty() ? "" : "/") + (p.type == api::FieldType::Integer ? std::string("1") : sample_value(p));
        for (const auto& q : r.query)
            query += (query.empty() ? "" : "&") + q.name + "=" + sample_value(q);
        json::Writer w;
        w.begin_object();
        for (const auto& f : r.body) {
            w.key(f.name);
            const auto v = sample_value(f);
            if (f.type == api::FieldType::String)
                w.value(v);
            else
                w.raw_value(json::parse(v).value());
        }
        w.end_object();
        in += params + "\n" + query + "\n" + (r.body.empty() && !r.body_open ? std::string() : w.str());
        out.emplace_back(r.operation_id, std::move(in));
    }
    return out;
}

std::string http(const std::uint8_t* data, std::size_t size) {
    auto& api = the_api();
    if (size < 3)
        return {};
    const auto& routes = api.router->routes();
    const std::size_t index = ((std::size_t(data[0]) << 8) | data[1]) % routes.size();
    const auto& route = routes[index];
    std::string_view text(reinterpret_cast<const char*>(data) + 3, size - 3);
    auto line = [&text] {
        const auto nl = text.find('\n');
        auto l = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        return l;
    };
    const auto params = line();
    const auto query = line();

    httplib::Request raw;
    raw.method = std::string(api::to_string(route.method));
    raw.path = fill_path(route, params);
    if (!query.empty())
        httplib::detail::parse_query_text(std::string(query), raw.params);
    raw.body = std::string(text);
    raw.remote_addr = "192.0.2.1";
    switch (data[2] & 3) {
    case 1:
        raw.headers.emplace("Authorization", "Bearer " + api.rider);
        break;
    case 2:
        raw.headers.emplace("Authorization", "Bearer " + api.admin);
        break;
    case 3:
        raw.headers.emplace("Authorization", "Bearer not-a-token");
        break;
    default:
        break;
    }
    if (data[2] & 4)
        raw.headers.emplace(api::kIdempotencyHeader, fmt::format("fz-{}", ++api.keys));
    const auto res = api.router->dispatch_in_process(index, raw, raw.remote_addr);
    if (!res)
        return {}; // the server's 404: no handler runs
    const auto where = fmt::format("{} {} ({})", raw.method, raw.path, route.operation_id);
    if (res->status < 400)
        return {};
    const auto code = refusal_code(res->body);
    if (!code)
        return fmt::format("{} answered {} with a refusal of another shape: {}", where, res->status, res->body);
    // The absent workers (timeout, device_offline) and what this installation does not offer
    // (unsupported: a login provider not configured, a command a kind has not) are declared refusals.
    if (res->status >= 500 &&
        !((res->status == 504 && *code == "timeout") || (res->status == 503 && *code == "device_offline") ||
          (res->status == 501 && *code == "unsupported")))
        return fmt::format("{} answered {} {}", where, res->status, res->body);
    return {};
}

} // namespace pilehub::fuzz
