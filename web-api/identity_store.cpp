#include "web-api/identity_store.hpp"

namespace pilehub::api {
namespace {

constexpr std::string_view kLogin =
    "UPDATE account_identities SET last_login_at = ? WHERE provider = ? AND subject = ? "
    "RETURNING account_id";
constexpr std::string_view kLink =
    "INSERT INTO account_identities (provider, subject, account_id, union_id, created_at, last_login_at) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (provider, subject) DO NOTHING";
constexpr std::string_view kAccountOf = "SELECT account_id FROM account_identities WHERE provider = ? AND subject = ?";
constexpr std::string_view kSubjectOf = "SELECT subject FROM account_identities WHERE account_id = ? AND provider = ? "
                                        "ORDER BY last_login_at DESC LIMIT 1";

} // namespace

std::optional<std::int64_t> IdentityStore::login(const std::string& provider, const std::string& subject, EpochMs now) {
    db::Statement st(db_, kLogin);
    st.bind_all(now, provider, subject);
    if (!st.step())
        return std::nullopt;
    return st.int64(0);
}

std::int64_t IdentityStore::link(const std::string& provider, const std::string& subject, const std::string& union_id,
                                 std::int64_t account_id, EpochMs now) {
    db::Transaction tx(db_);
    db::Statement(db_, kLink).bind_all(provider, subject, account_id, union_id, now, now).run();
    db::Statement st(db_, kAccountOf);
    st.bind_all(provider, subject);
    const std::int64_t linked = st.step() ? st.int64(0) : account_id;
    tx.commit();
    return linked;
}

std::optional<std::string> IdentityStore::subject_of(std::int64_t account_id, const std::string& provider) {
    db::Statement st(db_, kSubjectOf);
    st.bind_all(account_id, provider);
    if (!st.step())
        return std::nullopt;
    return st.text(0);
}

} // namespace pilehub::api
