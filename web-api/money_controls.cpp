#include "web-api/money_controls.hpp"

#include "common/tariff.hpp"

#include <fmt/format.h>

namespace pilehub::api {
namespace {

constexpr std::string_view kSelectAnswer = "SELECT operation, request_hash, status, body, content_type "
                                           "FROM api_idempotency WHERE actor = ? AND key = ?";
constexpr std::string_view kInsertAnswer =
    "INSERT INTO api_idempotency (actor, key, operation, request_hash, status, body, content_type, at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (actor, key) DO NOTHING";
// Balance refunds take real money out (real_fen < 0); order refunds put the session's cost back.
constexpr std::string_view kRefundedBetween =
    "SELECT coalesce(sum(CASE WHEN l.kind = 'refund' THEN -l.real_fen ELSE l.real_fen + l.bonus_fen END), 0) "
    "FROM ledger l JOIN admins a ON a.username = l.operator "
    "WHERE a.id = ? AND l.kind IN ('refund', 'refund_order') AND l.at >= ? AND l.at < ?";

constexpr EpochMs kDayMs = 24LL * 3600 * 1000;

ApiError limit_exceeded(std::string message) {
    return ApiError(ErrorCode::LimitExceeded, std::move(message));
}

} // namespace

std::optional<StoredAnswer> MoneyControls::answer(const std::string& actor, const std::string& key) {
    db::Statement st(db_, kSelectAnswer);
    st.bind_all(actor, key);
    if (!st.step())
        return std::nullopt;
    StoredAnswer a;
    a.operation = st.text(0);
    a.request_hash = st.text(1);
    a.response.status = static_cast<int>(st.int64(2));
    a.response.body = st.text(3);
    a.response.content_type = st.text(4);
    return a;
}

void MoneyControls::keep_answer(const std::string& actor, const std::string& key, const StoredAnswer& a, EpochMs now) {
    db::Statement(db_, kInsertAnswer)
        .bind_all(actor, key, a.operation, a.request_hash, static_cast<std::int64_t>(a.response.status),
                  a.response.body, a.response.content_type, now)
        .run();
}

Fen MoneyControls::refunded_between(std::int64_t operator_id, EpochMs from, EpochMs to) {
    db::Statement st(db_, kRefundedBetween);
    st.bind_all(operator_id, from, to);
    return st.step() ? Fen(st.int64(0)) : Fen(0);
}

std::optional<ApiError> check_refund_day_limit(db::Database& db, const Settings& settings, const std::string& role,
                                               std::int64_t operator_id, Fen amount_fen, EpochMs now) {
    const auto limit = Fen(settings.limits_for(role).refund_day_max_fen);
    const EpochMs day_end = billing::next_local_midnight(now, settings.utc_offset_s);
    const Fen done = MoneyControls(db).refunded_between(operator_id, day_end - kDayMs, day_end);
    if (done + amount_fen <= limit)
        return std::nullopt;
    return limit_exceeded(fmt::format("refunds of {} fen today plus {} fen would exceed the {} role's daily limit of "
                                      "{} fen (pilehub-api.limits.{}.refund_day_max_fen)",
                                      done.value(), amount_fen.value(), role, limit.value(), role));
}

std::optional<ApiError> check_counter_recharge_limit(const Settings& settings, const std::string& role,
                                                     Fen amount_fen) {
    const auto limit = Fen(settings.limits_for(role).counter_recharge_max_fen);
    if (amount_fen <= limit)
        return std::nullopt;
    return limit_exceeded(fmt::format("a counter recharge of {} fen exceeds the {} role's limit of {} fen "
                                      "(pilehub-api.limits.{}.counter_recharge_max_fen)",
                                      amount_fen.value(), role, limit.value(), role));
}

std::optional<ApiError> check_package_bonus(const Settings& settings, Fen pay_fen, Fen bonus_fen) {
    // bonus ≤ pay × pct / 100, in integers: 100 × bonus ≤ pct × pay.
    if (bonus_fen.value() * 100 <= pay_fen.value() * settings.package_max_bonus_pct)
        return std::nullopt;
    return ApiError(ErrorCode::InvalidRequest,
                    fmt::format("a bonus of {} fen is more than {}% of the price {} fen "
                                "(pilehub-api.packages.max_bonus_pct)",
                                bonus_fen.value(), settings.package_max_bonus_pct, pay_fen.value()));
}

} // namespace pilehub::api
