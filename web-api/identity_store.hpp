#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace pilehub::api {

/// Riders' identities at WeChat and Alipay (table account_identities): which account an openid or
/// Alipay user id logs into, and the payer id an online order at that provider needs.
class IdentityStore {
public:
    explicit IdentityStore(db::Database& d) : db_(d) {}
    /// The account linked to `subject` at `provider`, noting the login time.
    std::optional<std::int64_t> login(const std::string& provider, const std::string& subject, EpochMs now);
    /// Links `subject` to `account_id` (a no-op when it is already linked, to any account); returns the
    /// account it is linked to now.
    std::int64_t link(const std::string& provider, const std::string& subject, const std::string& union_id,
                      std::int64_t account_id, EpochMs now);
    /// The account's id at `provider` (the most recently used one), or nothing.
    std::optional<std::string> subject_of(std::int64_t account_id, const std::string& provider);

private:
    db::Database& db_;
};

} // namespace pilehub::api
