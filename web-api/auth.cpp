#include "web-api/auth.hpp"

#include "common/crypto.hpp"
#include "common/files.hpp"
#include "common/log.hpp"
#include "common/password.hpp"
#include "common/registry.hpp"
#include "web-api/rbac.hpp"

#include <fmt/format.h>

namespace pilehub::api::auth {
namespace {

constexpr const char* kIssue =
    "INSERT INTO auth_tokens(token_hash, kind, subject_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)";
constexpr const char* kLookup =
    "SELECT kind, subject_id, expires_at, last_used_at FROM auth_tokens WHERE token_hash = ? "
    "AND revoked_at IS NULL AND expires_at > ?";
constexpr const char* kTouch =
    "UPDATE auth_tokens SET last_used_at = ? WHERE token_hash = ? AND (last_used_at IS NULL OR last_used_at < ?)";
constexpr const char* kRevoke = "UPDATE auth_tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL";
constexpr const char* kRevokeAll =
    "UPDATE auth_tokens SET revoked_at = ? WHERE kind = ? AND subject_id = ? AND revoked_at IS NULL AND expires_at > ?";
constexpr const char* kPurgeTokens = "DELETE FROM auth_tokens WHERE expires_at < ?";

constexpr const char* kSmsLast = "SELECT max(created_at) FROM sms_codes WHERE phone = ?";
constexpr const char* kSmsCountPhone =
    "SELECT count(*), min(created_at) FROM sms_codes WHERE phone = ? AND created_at > ?";
constexpr const char* kSmsCountIp = "SELECT count(*), min(created_at) FROM sms_codes WHERE ip = ? AND created_at > ?";
constexpr const char* kSmsRetire = "UPDATE sms_codes SET consumed_at = ? WHERE phone = ? AND consumed_at IS NULL";
constexpr const char* kSmsInsert =
    "INSERT INTO sms_codes(phone, code_hash, created_at, expires_at, ip) VALUES (?, ?, ?, ?, ?)";
constexpr const char* kSmsLatest =
    "SELECT id, code_hash, expires_at, tries FROM sms_codes WHERE phone = ? AND consumed_at IS NULL "
    "ORDER BY id DESC LIMIT 1";
constexpr const char* kSmsTry = "UPDATE sms_codes SET tries = tries + 1 WHERE id = ?";
constexpr const char* kSmsConsume = "UPDATE sms_codes SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL";
constexpr const char* kSmsPurge = "DELETE FROM sms_codes WHERE created_at < ?";

constexpr const char* kFailuresUser = "SELECT count(*), min(at) FROM login_failures WHERE username = ? AND at > ?";
constexpr const char* kFailuresIp = "SELECT count(*), min(at) FROM login_failures WHERE ip = ? AND at > ?";
constexpr const char* kAddFailure = "INSERT INTO login_failures(username, ip, at) VALUES (?, ?, ?)";
constexpr const char* kClearFailures = "DELETE FROM login_failures WHERE username = ?";
constexpr const char* kPurgeFailures = "DELETE FROM login_failures WHERE at < ?";

constexpr const char* kRider = "SELECT phone FROM accounts WHERE id = ?";
constexpr const char* kAdmin = "SELECT username, role, enabled FROM admins WHERE id = ?";
constexpr const char* kAdminByName = "SELECT id FROM admins WHERE username = ?";

std::string code_hash(const std::string& phone, const std::string& code) {
    return crypto::sha256_hex(phone + ":" + code);
}

} // namespace

std::string new_token() {
    return crypto::random_token(24);
}

std::string random_digits(int n) {
    std::string out;
    while (static_cast<int>(out.size()) < n) {
        for (char ch : crypto::random_bytes(16)) {
            const auto c = static_cast<unsigned char>(ch);
            if (c < 250 && static_cast<int>(out.size()) < n) // 250 = 25 × 10: no bias
                out += static_cast<char>('0' + c % 10);
        }
    }
    return out;
}

bool valid_phone(std::string_view p) {
    std::size_t i = 0;
    if (p.size() > 20)
        return false; // accounts.phone holds at most 20 characters
    if (!p.empty() && p[0] == '+')
        i = 1;
    const auto digits = p.size() - i;
    if (digits < 5 || digits > 20)
        return false;
    for (; i < p.size(); ++i)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

// ---- tokens ----------------------------------------------------------------------------------------

std::string TokenStore::issue(const std::string& kind, std::int64_t subject, EpochMs ttl_ms) {
    const auto token = new_token();
    const auto now = clock_.now_ms();
    db::Statement(db_, kIssue).bind_all(crypto::sha256_hex(token), kind, subject, now, now + ttl_ms).run();
    // Old rows go now and then; a day's grace keeps "expired" distinguishable in logs.
    db::Statement(db_, kPurgeTokens).bind_all(now - 86'400'000).run();
    return token;
}

std::optional<TokenInfo> TokenStore::lookup(const std::string& token) {
    if (token.empty() || token.size() > 128)
        return std::nullopt;
    const auto now = clock_.now_ms();
    const auto h = crypto::sha256_hex(token);
    db::Statement st(db_, kLookup);
    st.bind_all(h, now);
    if (!st.step())
        return std::nullopt;
    TokenInfo t{st.text(0), st.int64(1), st.int64(2), h};
    const auto last_used = st.opt_int64(3);
    st.reset();
    // last_used_at at minute resolution keeps reads from writing on every request: even an UPDATE
    // that matches nothing takes the database's write lock, which every daemon's write waits for.
    if (!last_used || *last_used < now - 60'000)
        db::Statement(db_, kTouch).bind_all(now, h, now - 60'000).run();
    return t;
}

bool TokenStore::revoke(const std::string& token_hash) {
    return db::Statement(db_, kRevoke).bind_all(clock_.now_ms(), token_hash).run() > 0;
}

int TokenStore::revoke_all(const std::string& kind, std::int64_t subject) {
    const auto now = clock_.now_ms();
    return db::Statement(db_, kRevokeAll).bind_all(now, kind, subject, now).run();
}

// ---- SMS codes ----------------------------------------------------------------------------------------

SmsOutcome SmsCodes::request(const std::string& phone, const std::string& ip) {
    const auto now = clock_.now_ms();
    SmsOutcome out;
    db::Transaction tx(db_);
    {
        db::Statement last(db_, kSmsLast);
        last.bind_all(phone);
        if (last.step() && !last.is_null(0)) {
            const auto next = last.int64(0) + std::int64_t{s_.sms_min_interval_s} * 1000;
            if (now < next) {
                out.code = ErrorCode::RateLimited;
                out.retry_after_s = (next - now + 999) / 1000;
                out.message = fmt::format("a code was sent moments ago; try again in {} s", out.retry_after_s);
                return out;
            }
        }
    }
    const auto hour_ago = now - 3'600'000;
    {
        db::Statement c(db_, kSmsCountPhone);
        c.bind_all(phone, hour_ago);
        if (c.step() && c.int64(0) >= s_.sms_max_per_hour) {
            out.code = ErrorCode::RateLimited;
            out.retry_after_s = (c.int64(1) + 3'600'000 - now + 999) / 1000;
            out.message = fmt::format("at most {} codes per hour for one phone; try again in {} s", s_.sms_max_per_hour,
                                      out.retry_after_s);
            return out;
        }
    }
    if (!ip.empty()) {
        db::Statement c(db_, kSmsCountIp);
        c.bind_all(ip, hour_ago);
        if (c.step() && c.int64(0) >= s_.sms_max_per_ip_hour) {
            out.code = ErrorCode::RateLimited;
            out.retry_after_s = (c.int64(1) + 3'600'000 - now + 999) / 1000;
            out.message =
                fmt::format("too many codes requested from this address; try again in {} s", out.retry_after_s);
            return out;
        }
    }
    const auto code = random_digits(6);
    db::Statement(db_, kSmsRetire).bind_all(now, phone).run();
    db::Statement(db_, kSmsInsert)
        .bind_all(phone, code_hash(phone, code), now, now + std::int64_t{s_.sms_code_ttl_s} * 1000, ip)
        .run();
    db::Statement(db_, kSmsPurge).bind_all(now - std::int64_t{7} * 86'400'000).run();
    tx.commit();
    out.ok = true;
    out.sms_code = code;
    return out;
}

SmsOutcome SmsCodes::verify(const std::string& phone, const std::string& code) {
    const auto now = clock_.now_ms();
    SmsOutcome out;
    db::Transaction tx(db_);
    db::Statement st(db_, kSmsLatest);
    st.bind_all(phone);
    if (!st.step()) {
        out.code = ErrorCode::Unauthorized;
        out.message = "no code was requested for this phone (POST /api/v1/auth/sms-code)";
        return out;
    }
    const auto id = st.int64(0);
    const auto hash = st.text(1);
    const auto expires = st.int64(2);
    const auto tries = st.int64(3);
    st.reset();
    if (tries >= s_.sms_max_tries) {
        out.code = ErrorCode::RateLimited;
        out.message = "too many wrong codes; request a new one";
        return out;
    }
    if (now >= expires) {
        out.code = ErrorCode::Expired;
        out.message = "the code has expired; request a new one";
        return out;
    }
    if (code.size() != 6 || code_hash(phone, code) != hash) {
        db::Statement(db_, kSmsTry).bind_all(id).run();
        tx.commit();
        out.code = tries + 1 >= s_.sms_max_tries ? ErrorCode::RateLimited : ErrorCode::Unauthorized;
        out.message = tries + 1 >= s_.sms_max_tries ? "too many wrong codes; request a new one" : "wrong code";
        return out;
    }
    db::Statement(db_, kSmsConsume).bind_all(now, id).run();
    tx.commit();
    out.ok = true;
    return out;
}

// ---- login throttling ----------------------------------------------------------------------------------

std::int64_t LoginThrottle::blocked_for_s(const std::string& username, const std::string& ip) {
    const auto now = clock_.now_ms();
    const auto window = std::int64_t{s_.login_window_s} * 1000;
    std::int64_t wait_ms = 0;
    {
        db::Statement st(db_, kFailuresUser);
        st.bind_all(username, now - window);
        if (st.step() && st.int64(0) >= s_.login_max_failures)
            wait_ms = std::max(wait_ms, st.int64(1) + window - now);
    }
    if (!ip.empty()) {
        db::Statement st(db_, kFailuresIp);
        st.bind_all(ip, now - window);
        if (st.step() && st.int64(0) >= s_.login_max_failures_per_ip)
            wait_ms = std::max(wait_ms, st.int64(1) + window - now);
    }
    return wait_ms <= 0 ? 0 : (wait_ms + 999) / 1000;
}

void LoginThrottle::record_failure(const std::string& username, const std::string& ip) {
    const auto now = clock_.now_ms();
    db::Statement(db_, kAddFailure).bind_all(username, ip, now).run();
    db::Statement(db_, kPurgeFailures).bind_all(now - std::int64_t{86'400'000}).run();
}

void LoginThrottle::clear(const std::string& username) {
    db::Statement(db_, kClearFailures).bind_all(username).run();
}

// ---- principals -----------------------------------------------------------------------------------------

Principal authenticate(db::Database& d, const Clock& clock, const std::string& token, Access needed) {
    TokenStore tokens(d, clock);
    auto t = tokens.lookup(token);
    if (!t)
        fail(ErrorCode::Unauthorized, "the token is unknown, expired or revoked; log in again");
    Principal p;
    p.token_hash = t->token_hash;
    p.id = t->subject_id;
    if (t->kind == "rider") {
        if (needed != Access::Rider)
            fail(ErrorCode::Forbidden, "a rider token cannot be used on operator routes");
        db::Statement st(d, kRider);
        st.bind_all(t->subject_id);
        if (!st.step())
            fail(ErrorCode::Unauthorized, "the account no longer exists");
        p.kind = Access::Rider;
        p.name = st.text(0);
        return p;
    }
    if (needed != Access::Admin)
        fail(ErrorCode::Forbidden, "an operator token cannot be used on rider routes");
    db::Statement st(d, kAdmin);
    st.bind_all(t->subject_id);
    if (!st.step())
        fail(ErrorCode::Unauthorized, "the operator account no longer exists");
    if (st.int64(2) == 0)
        fail(ErrorCode::Forbidden, "this operator account is disabled");
    p.kind = Access::Admin;
    p.name = st.text(0);
    p.role = st.text(1);
    st.reset();
    p.permissions = rbac::role_permissions(d, p.role);
    const auto access = rbac::load_access(d, p.id);
    p.all_stations = access.all_stations;
    p.station_ids = access.station_ids;
    return p;
}

bool ensure_first_admin(db::Database& d, const std::string& operator_name,
                        const std::optional<std::string>& env_password, const std::string& password_file, EpochMs now) {
    registry::Store store(d);
    if (store.admin_exists("admin"))
        return false;
    std::string pw;
    const bool generated = !env_password || env_password->empty();
    pw = generated ? new_token() : *env_password;
    if (const auto why = password::password_problem(pw))
        throw ConfigError("PILEHUB_ADMIN_PASSWORD " + *why);
    const auto op = store.ensure_operator(operator_name, now);
    if (generated)
        files::write_private_file_atomically(password_file, pw + "\n");
    db::Transaction tx(d);
    const auto id = store.add_admin("admin", password::hash(pw), "admin", op, now);
    rbac::save_access(d, id, true, {}, "Administrator", now);
    tx.commit();
    log::info("first admin `admin` created; password {}",
              generated ? "in " + password_file : "from PILEHUB_ADMIN_PASSWORD");
    return true;
}

} // namespace pilehub::api::auth
