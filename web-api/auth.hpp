#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "web-api/http.hpp"
#include "web-api/settings.hpp"

#include <cstdint>
#include <optional>
#include <string>

/// Riders' SMS login, operators' password login, bearer tokens, and the first admin.
namespace pilehub::api::auth {

/// A new bearer token: 192 random bits, URL-safe (stored as its crypto::sha256_hex).
std::string new_token();
/// `n` random decimal digits (SMS codes).
std::string random_digits(int n);
/// Whether `phone` looks like a phone number: optional `+`, then 5..20 digits, 20 characters at most.
bool valid_phone(std::string_view phone);

/// What a stored token grants.
struct TokenInfo {
    std::string kind; ///< rider or admin
    std::int64_t subject_id = 0;
    EpochMs expires_at = 0;
    std::string token_hash;
};

/// Bearer tokens, stored hashed. Tokens expire and can be revoked.
class TokenStore {
public:
    TokenStore(db::Database& d, const Clock& clock) : db_(d), clock_(clock) {}
    /// Issues a token for `kind`/`subject` valid for `ttl_ms`; returns the token (shown once).
    std::string issue(const std::string& kind, std::int64_t subject, EpochMs ttl_ms);
    /// The token's grant if it exists, is not revoked and has not expired.
    std::optional<TokenInfo> lookup(const std::string& token);
    /// Revokes one token by its hash. false if it was not live.
    bool revoke(const std::string& token_hash);
    /// Revokes every live token of a subject (password change, freeze of an admin).
    int revoke_all(const std::string& kind, std::int64_t subject);

private:
    db::Database& db_;
    const Clock& clock_;
};

/// Why an SMS code request or check was refused.
struct SmsOutcome {
    bool ok = false;
    ErrorCode code = ErrorCode::InvalidRequest;
    std::string message;
    std::string sms_code;           ///< the new code (request) — only for the provider and dev mode
    std::int64_t retry_after_s = 0; ///< rate_limited: when to try again
};

/// SMS login codes: hashed, expiring, a few tries each, requests rate-limited per phone and per
/// client address. Rules (Settings): sms_code_ttl_s, sms_max_tries, sms_min_interval_s,
/// sms_max_per_hour, sms_max_per_ip_hour.
class SmsCodes {
public:
    SmsCodes(db::Database& d, const Clock& clock, const Settings& s) : db_(d), clock_(clock), s_(s) {}
    /// Makes and stores a new code for `phone`, or refuses with rate_limited.
    SmsOutcome request(const std::string& phone, const std::string& ip);
    /// Checks a code: ok (and spends it); unauthorized (wrong or none); expired; rate_limited
    /// (tries used up: ask for a new code).
    SmsOutcome verify(const std::string& phone, const std::string& code);

private:
    db::Database& db_;
    const Clock& clock_;
    const Settings& s_;
};

/// Throttles operator logins: too many failures for a user name (or from one address) within
/// the window refuse further attempts, even with the right password, until the window passes.
class LoginThrottle {
public:
    LoginThrottle(db::Database& d, const Clock& clock, const Settings& s) : db_(d), clock_(clock), s_(s) {}
    /// 0 when an attempt is allowed, else the seconds until one is.
    std::int64_t blocked_for_s(const std::string& username, const std::string& ip);
    void record_failure(const std::string& username, const std::string& ip);
    /// Forgets a user name's failures after a successful login.
    void clear(const std::string& username);

private:
    db::Database& db_;
    const Clock& clock_;
    const Settings& s_;
};

/// Builds the Principal behind a token, or throws ApiError: 401 for a missing, expired or
/// revoked token; 403 for the wrong kind of token or a disabled operator.
Principal authenticate(db::Database& d, const Clock& clock, const std::string& token, Access needed);

/// Creates the first admin `admin` if it does not exist: password from PILEHUB_ADMIN_PASSWORD
/// (`env_password`) or a random one written (0600) to `password_file`. Returns true if created.
bool ensure_first_admin(db::Database& d, const std::string& operator_name,
                        const std::optional<std::string>& env_password, const std::string& password_file, EpochMs now);

} // namespace pilehub::api::auth
