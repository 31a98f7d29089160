#pragma once
#include "common/db.hpp"
#include "common/money.hpp"
#include "web-api/http.hpp"
#include "web-api/settings.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// Staff money controls (CONTRACT F.3, REVIEW-reliability #8; docs/api.md "Money routes",
/// docs/config.md "Staff money limits"):
///
/// - Every money-moving operator route is marked with Route::moves_money(): the Router requires an
///   `Idempotency-Key` header (400 without it), replays the first successful answer for the same
///   (operator, key, request) and refuses the same key with another request (409 `conflict`). The
///   answers are kept here (table `api_idempotency`, migration 012).
/// - Per-role limits (pilehub-api.limits.*): one counter recharge above the role's
///   counter_recharge_max_fen, or a refund that takes the operator's refunds of the day (balance
///   and order refunds, in pilehub-api.timezone) above refund_day_max_fen, is refused with 403
///   `limit_exceeded`.
///
/// The SQL of these rules lives only in this store.
namespace pilehub::api {

/// The store of money routes' answers and the day's refunds.
class MoneyControls {
public:
    explicit MoneyControls(db::Database& db) : db_(db) {}
    /// The answer kept for (actor, key), if any.
    std::optional<StoredAnswer> answer(const std::string& actor, const std::string& key);
    /// Keeps the answer for (actor, key); the first one kept wins (ON CONFLICT DO NOTHING).
    void keep_answer(const std::string& actor, const std::string& key, const StoredAnswer& a, EpochMs now);
    /// What the operator (admins.id) refunded in [from, to): balance refunds' real money and
    /// order refunds' credits, from the ledger (its `operator` column holds the user name).
    Fen refunded_between(std::int64_t operator_id, EpochMs from, EpochMs to);

private:
    db::Database& db_;
};

/// The refusal of a refund of `amount_fen` by the operator `operator_id` (admins.id) of `role` at
/// `now`, or nothing when it is within the role's refund_day_max_fen together with what the operator
/// already refunded that local day (pilehub-api.timezone). Both refund routes (balance and order)
/// call it before refunding. The error is `limit_exceeded` (403).
std::optional<ApiError> check_refund_day_limit(db::Database& db, const Settings& settings, const std::string& role,
                                               std::int64_t operator_id, Fen amount_fen, EpochMs now);

/// The refusal of one counter recharge of `amount_fen` real money by an operator of `role`, or
/// nothing when it is within the role's counter_recharge_max_fen. Pure.
std::optional<ApiError> check_counter_recharge_limit(const Settings& settings, const std::string& role, Fen amount_fen);

/// The refusal of a recharge package whose bonus exceeds pilehub-api.packages.max_bonus_pct percent
/// of its price (400 `invalid_request`), or nothing. Pure.
std::optional<ApiError> check_package_bonus(const Settings& settings, Fen pay_fen, Fen bonus_fen);

} // namespace pilehub::api
