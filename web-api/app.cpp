#include "web-api/app.hpp"

#include "common/log.hpp"
#include "web-api/access_store.hpp"
#include "web-api/auth.hpp"
#include "web-api/money_controls.hpp"
#include "web-api/openapi.hpp"
#include "web-api/rbac.hpp"
#include "web-api/routes_common.hpp"

#include <httplib.h>

#include <stdexcept>

namespace pilehub::api {
namespace {

bool secret_key(std::string_view k) {
    for (auto word : {"password", "secret", "token", "code"})
        if (k.find(word) != std::string_view::npos)
            return true;
    return false;
}

/// The request body for the audit log, with secrets blanked.
std::string redacted(const rapidjson::Document* doc) {
    if (!doc || !doc->IsObject())
        return "{}";
    rapidjson::Document copy;
    copy.CopyFrom(*doc, copy.GetAllocator());
    for (auto it = copy.MemberBegin(); it != copy.MemberEnd(); ++it)
        if (secret_key(std::string_view(it->name.GetString(), it->name.GetStringLength())))
            it->value.SetString("***");
    json::Writer w;
    w.raw_value(copy);
    auto s = w.str();
    if (s.size() > 8192)
        s = "{\"truncated\":true}";
    return s;
}

} // namespace

void prepare_database(Services& s) {
    auto d = s.core->get();
    db::migrate(*d, db::core_migrations());
    rbac::ensure_builtin_roles(*d, s.now());
    if (s.telemetry) {
        auto t = s.telemetry->get();
        db::migrate(*t, db::telemetry_migrations());
    }
}

std::unique_ptr<Router> build_router(Services& s) {
    auto authenticator = [&s](const std::string& token, Access needed) {
        auto d = s.core->get();
        return auth::authenticate(*d, *s.clock, token, needed);
    };
    auto audit = [&s](const Request& req, const Route& route, int status) {
        s.station_counts.invalidate(); // an operator changed something a rider's list may show
        auto d = s.core->get();
        AccessStore(*d).record(AuditRow{0, s.now(), req.who.id, req.who.name, route.operation_id,
                                        std::string(to_string(route.method)), req.path, req.target(), status,
                                        redacted(req.document()), req.ip});
    };
    auto r = std::make_unique<Router>(authenticator, audit);
    r->set_idempotency(IdempotencySink{[&s](const std::string& actor, const std::string& key) {
                                           auto d = s.core->get();
                                           return MoneyControls(*d).answer(actor, key);
                                       },
                                       [&s](const std::string& actor, const std::string& key, const StoredAnswer& a) {
                                           auto d = s.core->get();
                                           MoneyControls(*d).keep_answer(actor, key, a, s.now());
                                       }});
    add_system_routes(*r, s);
    add_auth_routes(*r, s);
    add_rider_routes(*r, s);
    add_admin_access_routes(*r, s);
    add_admin_catalog_routes(*r, s);
    add_admin_device_routes(*r, s);
    add_admin_lifecycle_routes(*r, s);
    add_admin_user_routes(*r, s);
    add_admin_session_routes(*r, s);
    add_admin_report_routes(*r, s);
    add_admin_money_routes(*r, s);
    add_parking_routes(*r, s);
    add_admin_parking_routes(*r, s);
    add_service_routes(*r, s);
    add_admin_alert_routes(*r, s);
    add_admin_ota_routes(*r, s);
    add_admin_tariff_scheme_routes(*r, s);
    add_admin_command_routes(*r, s);
    return r;
}

ApiServer::ApiServer(Services& s) : s_(s), router_(build_router(s)), server_(std::make_unique<httplib::Server>()) {
    ServerOptions o;
    o.max_body_bytes = static_cast<std::size_t>(s.settings.max_body_bytes);
    o.read_timeout_s = s.settings.read_timeout_s;
    o.write_timeout_s = s.settings.write_timeout_s;
    o.threads = static_cast<std::size_t>(s.settings.threads);
    o.trusted_proxies = s.settings.trusted_proxies;
    if (!s.settings.web_root.empty())
        o.site = std::make_shared<const StaticSite>(s.settings.web_root);
    router_->install(*server_, o);
}

ApiServer::~ApiServer() {
    stop();
}

void ApiServer::bind(const std::string& host, int port) {
    if (port == 0) {
        port_ = server_->bind_to_any_port(host);
        if (port_ <= 0)
            throw std::runtime_error("cannot bind an HTTP port on " + host);
    } else {
        if (!server_->bind_to_port(host, port))
            throw std::runtime_error("cannot bind HTTP " + host + ":" + std::to_string(port));
        port_ = port;
    }
}

void ApiServer::start() {
    thread_ = std::thread([this] {
        if (!server_->listen_after_bind())
            log::error("HTTP server stopped unexpectedly");
    });
}

void ApiServer::stop() {
    if (server_)
        server_->stop();
    if (thread_.joinable())
        thread_.join();
}

} // namespace pilehub::api
