// Public routes (OpenAPI document, health) and logins: riders by SMS code, operators by password.
#include "common/ledger.hpp"
#include "common/log.hpp"
#include "common/password.hpp"
#include "web-api/access_store.hpp"
#include "web-api/auth.hpp"
#include "web-api/health.hpp"
#include "web-api/identity_store.hpp"
#include "web-api/monitor_store.hpp"
#include "web-api/openapi.hpp"
#include "web-api/openapi_schemas.hpp"
#include "web-api/rbac.hpp"
#include "web-api/routes_common.hpp"

#include <fmt/format.h>

namespace pilehub::api {
namespace {

/// login_reply's answer.
std::string rider_login_schema() {
    return schemas::object(
        R"("token":{"type":"string"},"token_type":{"type":"string","enum":["Bearer"]},)"
        R"("expires_at":{"type":"string","format":"date-time"},)"
        R"("user":{"type":"object","additionalProperties":false,"required":["id","phone","name","frozen","registered"],)"
        R"("properties":{"id":{"type":"integer","format":"int64"},"phone":{"type":"string"},"name":{"type":"string"},)"
        R"("frozen":{"type":"boolean"},"registered":{"type":"boolean"}}})",
        R"("token","token_type","expires_at","user")");
}

Response rate_limited(const std::string& message, std::int64_t retry_after_s) {
    auto r = Response::json(error_body(ErrorCode::RateLimited, message), http_status(ErrorCode::RateLimited));
    if (retry_after_s > 0)
        r.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
    return r;
}

/// Checks a password against a hash that never matches, so that an unknown user name costs the
/// same time as a wrong password.
void burn_time(const std::string& password) {
    static const std::string kDummy = password::hash("pilehub-dummy-password");
    (void)password::verify(password, kDummy);
}

struct OpenedRider {
    std::int64_t account_id = 0;
    bool created = false;
};

/// Opens the phone's account and wallet, or finds the existing one.
OpenedRider open_rider(Services& s, db::Database& d, const std::string& phone) {
    ledger::Ledger wallets(d, *s.clock);
    const auto opened =
        wallets.open_account(ledger::NewAccount{phone, "", std::nullopt, ledger::DebitOrder::RealFirst});
    if (opened.outcome != ledger::Outcome::Applied && opened.outcome != ledger::Outcome::Duplicate)
        fail(ErrorCode::InvalidRequest, "this phone number cannot hold an account");
    return {opened.account_id, opened.outcome == ledger::Outcome::Applied};
}

/// A rider's login answer: a new token and the account.
std::string login_reply(Services& s, db::Database& d, std::int64_t account_id, bool created) {
    AccountStore accounts(d);
    auto acc = accounts.account(account_id);
    if (!acc)
        fail(ErrorCode::Internal, "the account could not be read");
    auth::TokenStore tokens(d, *s.clock);
    const auto token = tokens.issue("rider", acc->id, s.settings.rider_token_ttl_ms);
    json::Writer w;
    w.begin_object().field("token", token).field("token_type", "Bearer");
    w.field("expires_at", when(s, s.now() + s.settings.rider_token_ttl_ms));
    w.key("user").begin_object().field("id", acc->id).field("phone", acc->phone).field("name", acc->name);
    w.field("frozen", acc->frozen).field("registered", created).end_object();
    w.end_object();
    return w.str();
}

/// `POST /api/v1/auth/<provider>` (CONTRACT F.1): the provider's code names the rider there; a known
/// rider logs in; an unknown one is linked to (or opens) its phone's account when the phone button's
/// code is given, else the answer is `{needs_phone: true}`.
void add_mini_program_login(Router& r, Services& s, const std::string& provider, const std::string& code_field,
                            const std::string& phone_field, const std::string& summary) {
    r.add(Route::make(Method::Post, "/api/v1/auth/" + provider, "auth." + provider, "auth", summary)
              .field(str(code_field, true, 256, "The mini-program's login code (single use)."))
              .field(str(phone_field, false, 4096, "The phone button's answer, for a rider not yet linked."))
              .refuses({ErrorCode::Unsupported})
              .returns(R"({"oneOf":[)" + rider_login_schema() + "," +
                       schemas::object(R"("needs_phone":{"type":"boolean","enum":[true]})", R"("needs_phone")") + "]}")
              .handle([&s, provider, code_field, phone_field](Request& req) {
                  auto b = req.body();
                  const auto code = b.req_str(code_field, 256);
                  const auto phone_code = b.opt_str(phone_field, 4096);
                  req.check_body();
                  auto it = s.logins.find(provider);
                  if (it == s.logins.end())
                      fail(ErrorCode::Unsupported, provider + " login is not configured on this installation");
                  const auto who = it->second->exchange(code);
                  if (!who) {
                      log::warn("{} login refused: {}", provider, who.error());
                      fail(ErrorCode::Unauthorized, provider + " did not accept the login code: " + who.error());
                  }
                  auto d = s.core->get();
                  IdentityStore ids(*d);
                  if (auto account = ids.login(provider, who->id, s.now()))
                      return Response::json(login_reply(s, *d, *account, false));
                  if (!phone_code || phone_code->empty())
                      return Response::json(R"({"needs_phone":true})");
                  const auto phone = it->second->phone(*phone_code);
                  if (!phone) {
                      log::warn("{} phone number refused: {}", provider, phone.error());
                      fail(ErrorCode::Unauthorized, provider + " did not give the phone number: " + phone.error());
                  }
                  if (!auth::valid_phone(*phone))
                      fail(ErrorCode::InvalidRequest, "the provider's phone number is not one we can hold");
                  const auto opened = open_rider(s, *d, *phone);
                  const auto account = ids.link(provider, who->id, who->union_id, opened.account_id, s.now());
                  log::info("{} identity linked to account {}{}", provider, account, opened.created ? " (new)" : "");
                  return Response::json(login_reply(s, *d, account, opened.created));
              }));
}

} // namespace

void add_system_routes(Router& r, Services& s) {
    r.add(
        Route::make(Method::Get, "/api/v1/openapi.json", "openapi", "system", "The OpenAPI 3 document of every route")
            .returns(
                R"({"type":"object","required":["openapi","info","paths","components"],"properties":{"openapi":{"type":"string"},"info":{"type":"object"},"paths":{"type":"object"},"components":{"type":"object"}}})")
            .handle([&r, &s](Request&) { return Response::json(openapi_document(r.routes(), s.version)); }));
    r.add(Route::make(Method::Get, "/api/v1/health", "health", "system",
                      "Health: the core database takes a write, the data directory has its free space, the broker "
                      "is connected")
              .answers("Every check passed (status ok, ok true); each check with its figure.")
              .also_answers(503, "A check failed (status failing, ok false); the failed checks carry `error`.")
              .returns(health::kBodySchema)
              .handle([&s](Request&) {
                  const auto probe = health::measure(s);
                  const auto verdict = health::decide(probe);
                  return Response::json(health::body(s, probe, verdict), verdict.ok ? 200 : 503);
              }));
}

void add_auth_routes(Router& r, Services& s) {
    r.add(Route::make(Method::Post, "/api/v1/auth/sms-code", "auth.sms_code", "auth",
                      "Send a login code by SMS (development mode: the reply carries dev_code)")
              .field(str("phone", true, 21, "Mobile number: optional +, 5..20 digits."))
              .refuses({ErrorCode::RateLimited, ErrorCode::Unsupported})
              .returns(schemas::object(
                  R"("sent":{"type":"boolean"},"expires_in_s":{"type":"integer"},"dev_code":{"type":"string"})",
                  R"("sent","expires_in_s")"))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  const auto phone = b.req_str("phone", 21);
                  req.check_body();
                  if (!auth::valid_phone(phone))
                      fail(ErrorCode::InvalidRequest, "phone must be an optional + and 5..20 digits");
                  if (!s.sms)
                      fail(ErrorCode::Unsupported, "SMS login is not configured on this installation");
                  auto d = s.core->get();
                  auth::SmsCodes codes(*d, *s.clock, s.settings);
                  auto out = codes.request(phone, req.ip);
                  if (!out.ok)
                      return rate_limited(out.message, out.retry_after_s);
                  std::string why;
                  if (!s.sms->send(phone, out.sms_code, &why)) {
                      log::error("sms to {} failed: {}", phone, why);
                      fail(ErrorCode::Internal, "the SMS could not be sent");
                  }
                  json::Writer w;
                  w.begin_object().field("sent", true).field("expires_in_s", s.settings.sms_code_ttl_s);
                  if (s.sms->reveals_code())
                      w.field("dev_code", out.sms_code);
                  w.end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/auth/login", "auth.login", "auth",
                      "Log in with phone and SMS code; the first login registers the account and its wallet")
              .field(str("phone", true, 21, "Mobile number."))
              .field(str("code", true, 6, "The 6-digit code."))
              .refuses({ErrorCode::Expired, ErrorCode::RateLimited})
              .returns(rider_login_schema())
              .handle([&s](Request& req) {
                  auto b = req.body();
                  const auto phone = b.req_str("phone", 21);
                  const auto code = b.req_str("code", 6);
                  req.check_body();
                  if (!auth::valid_phone(phone))
                      fail(ErrorCode::InvalidRequest, "phone must be an optional + and 5..20 digits");
                  auto d = s.core->get();
                  auth::SmsCodes codes(*d, *s.clock, s.settings);
                  auto out = codes.verify(phone, code);
                  if (!out.ok) {
                      if (out.code == ErrorCode::RateLimited)
                          return rate_limited(out.message, 0);
                      fail(out.code, out.message);
                  }
                  const auto opened = open_rider(s, *d, phone);
                  return Response::json(login_reply(s, *d, opened.account_id, opened.created));
              }));

    add_mini_program_login(r, s, "wechat", "code", "phone_code",
                           "Log in from the WeChat mini-program: wx.login's code (jscode2session); an unknown openid "
                           "needs phone_code from the phone button (getuserphonenumber) to link or open its account");
    add_mini_program_login(
        r, s, "alipay", "auth_code", "phone_code",
        "Log in from the Alipay mini-program: my.getAuthCode's authCode (alipay.system.oauth.token); "
        "an unknown user needs phone_code (my.getPhoneNumber's response) to link or open its account");

    r.add(Route::make(Method::Post, "/api/v1/auth/logout", "auth.logout", "auth", "Revoke the rider's token")
              .rider()
              .returns(schemas::object(R"("revoked":{"type":"boolean"})", R"("revoked")"))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  auth::TokenStore(*d, *s.clock).revoke(req.who.token_hash);
                  return Response::json(R"({"revoked":true})");
              }));

    r.add(
        Route::make(Method::Post, "/api/v1/admin/login", "admin.login", "admin-auth",
                    "Operator login with user name and password (Argon2id); repeated failures are throttled")
            .field(str("username", true, 64, "Staff user name."))
            .field(str("password", true, 256, "Password."))
            .refuses({ErrorCode::RateLimited, ErrorCode::Unauthorized, ErrorCode::Forbidden})
            .returns(schemas::object(
                R"("token":{"type":"string"},"token_type":{"type":"string","enum":["Bearer"]},)"
                R"("expires_at":{"type":"string","format":"date-time"},)"
                R"("admin":{"type":"object","additionalProperties":false,"required":["id","username","role","permissions"],)"
                R"("properties":{"id":{"type":"integer","format":"int64"},"username":{"type":"string"},)"
                R"("role":{"type":"string"},"permissions":{"type":"array","items":{"type":"string"}}}})",
                R"("token","token_type","expires_at","admin")"))
            .handle([&s](Request& req) {
                auto b = req.body();
                const auto username = b.req_str("username", 64);
                const auto pw = b.req_str("password", 256);
                req.check_body();
                auto d = s.core->get();
                auth::LoginThrottle throttle(*d, *s.clock, s.settings);
                if (auto wait = throttle.blocked_for_s(username, req.ip); wait > 0) {
                    log::warn("admin login for {} from {} throttled ({} s)", username, req.ip, wait);
                    return rate_limited(fmt::format("too many failed logins; try again in {} s", wait), wait);
                }
                AccessStore access(*d);
                const auto login = access.login(username);
                const bool ok = login ? password::verify(pw, login->password_hash) : (burn_time(pw), false);
                if (!ok) {
                    throttle.record_failure(username, req.ip);
                    log::warn("admin login for {} from {} failed", username, req.ip);
                    fail(ErrorCode::Unauthorized, "wrong user name or password");
                }
                const auto id = login->id;
                const auto& role = login->role;
                if (!login->enabled)
                    fail(ErrorCode::Forbidden, "this operator account is disabled");
                throttle.clear(username);
                auth::TokenStore tokens(*d, *s.clock);
                const auto token = tokens.issue("admin", id, s.settings.admin_token_ttl_ms);
                access.record_login(s.now(), id, username, req.path, req.ip);
                json::Writer w;
                w.begin_object().field("token", token).field("token_type", "Bearer");
                w.field("expires_at", when(s, s.now() + s.settings.admin_token_ttl_ms));
                w.key("admin").begin_object().field("id", id).field("username", username).field("role", role);
                w.key("permissions").begin_array();
                for (const auto& p : rbac::role_permissions(*d, role))
                    w.value(p);
                w.end_array().end_object().end_object();
                return Response::json(w.str());
            }));

    r.add(Route::make(Method::Post, "/api/v1/admin/logout", "admin.logout", "admin-auth", "Revoke the operator's token")
              .admin("")
              .returns(schemas::object(R"("revoked":{"type":"boolean"})", R"("revoked")"))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  auth::TokenStore(*d, *s.clock).revoke(req.who.token_hash);
                  return Response::json(R"({"revoked":true})");
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/me", "admin.me", "admin-auth",
                      "The operator, its role, permissions and scope")
              .admin("")
              .returns(schemas::object(
                  R"("id":{"type":"integer","format":"int64"},"username":{"type":"string"},"role":{"type":"string"},)"
                  R"("permissions":{"type":"array","items":{"type":"string"}},)"
                  R"("all_stations":{"type":"boolean"},)"
                  R"("station_ids":{"type":"array","items":{"type":"integer","format":"int64"}})",
                  R"("id","username","role","permissions","all_stations","station_ids")"))
              .handle([&s](Request& req) {
                  json::Writer w;
                  w.begin_object().field("id", req.who.id).field("username", req.who.name).field("role", req.who.role);
                  w.key("permissions").begin_array();
                  for (const auto& p : req.who.permissions)
                      w.value(p);
                  w.end_array();
                  w.field("all_stations", req.who.all_stations);
                  w.key("station_ids").begin_array();
                  for (auto id : req.who.station_ids)
                      w.value(id);
                  w.end_array().end_object();
                  (void)s;
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/me/password", "admin.me.password", "admin-auth",
                      "Change one's own password (every token of the operator is revoked)")
              .admin("")
              .field(str("old_password", true, 256, "Current password."))
              .field(str("new_password", true, 256, "New password, at least 8 characters."))
              .returns(schemas::object(R"("changed":{"type":"boolean"},"relogin":{"type":"boolean"})",
                                       R"("changed","relogin")"))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  const auto old_pw = b.req_str("old_password", 256);
                  const auto new_pw = b.req_str("new_password", 256);
                  req.check_body();
                  if (const auto why = password::password_problem(new_pw))
                      fail(ErrorCode::InvalidRequest, "new_password " + *why);
                  auto d = s.core->get();
                  AccessStore access(*d);
                  const auto hash = access.password_hash(req.who.id);
                  if (!hash || !password::verify(old_pw, *hash))
                      fail(ErrorCode::Unauthorized, "old_password is wrong");
                  access.set_password_hash(req.who.id, password::hash(new_pw));
                  auth::TokenStore tokens(*d, *s.clock);
                  tokens.revoke_all("admin", req.who.id);
                  return Response::json(R"({"changed":true,"relogin":true})");
              }));
}

} // namespace pilehub::api
