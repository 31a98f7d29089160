#pragma once
#include "common/db.hpp"
#include "common/money.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

/// The operators' dashboard figures, each computed from the ledger and the sessions.
namespace pilehub::api {

/// Figures of one period.
struct Figures {
    std::int64_t recharge_fen = 0;    ///< real money recharged (Σ ledger recharge real_fen)
    std::int64_t bonus_given_fen = 0; ///< bonus credited (Σ recharge/bonus bonus_fen)
    std::int64_t charge_fen = 0;      ///< charging revenue: Σ −(real + bonus) of charge entries
    std::int64_t charge_real_fen = 0; ///< of which real money
    std::int64_t refund_fen = 0;      ///< Σ −real_fen of refunds
    std::int64_t card_fee_fen = 0;    ///< Σ −real_fen of card fees
    std::int64_t parking_fen = 0;     ///< parking revenue: Σ −(real + bonus) of parking entries (the stay's station)
    std::int64_t energy_wh = 0;       ///< Σ energy of sessions that ended in the period
    std::int64_t sessions = 0;        ///< sessions that ended in the period (completed)
    std::int64_t charging_s = 0;      ///< Σ their duration
    std::int64_t new_accounts = 0;    ///< accounts opened in the period
};

/// The session figures of one vehicle kind (e-bike sockets or EV guns, by the session's device).
struct KindFigures {
    std::int64_t charge_fen = 0; ///< charging revenue of its sessions (Σ −(real + bonus) of charge entries)
    std::int64_t energy_wh = 0;  ///< Σ energy of its sessions that ended in the period
    std::int64_t sessions = 0;   ///< its sessions that ended in the period (completed)
    std::int64_t charging_s = 0; ///< Σ their duration
};

/// Figures of the e-bike and the car side apart (seed 001 shows them apart).
struct FiguresByKind {
    KindFigures ebike;
    KindFigures ev;
};

struct TopRider {
    std::int64_t account_id = 0;
    std::string phone, name;
    std::int64_t spent_fen = 0, sessions = 0, energy_wh = 0;
};

/// Computes figures for [from, to), for every station (scope nullopt) or the stations in scope:
/// charges and sessions by the session's station, recharges, refunds, fees and new accounts by
/// the account's home station.
class ReportStore {
public:
    explicit ReportStore(db::Database& d) : db_(d) {}
    Figures figures(EpochMs from, EpochMs to, const std::optional<std::set<std::int64_t>>& scope,
                    std::optional<std::int64_t> station_id);
    /// The session figures of [from, to) for e-bikes and cars apart (same scope rules as figures).
    FiguresByKind figures_by_kind(EpochMs from, EpochMs to, const std::optional<std::set<std::int64_t>>& scope,
                                  std::optional<std::int64_t> station_id);
    std::vector<TopRider> top_riders(EpochMs from, EpochMs to, const std::optional<std::set<std::int64_t>>& scope,
                                     std::optional<std::int64_t> station_id, int limit);

private:
    db::Database& db_;
};

/// The scope as the JSON array SQL reads with json_each (nullopt: every station).
std::optional<std::string> scope_json(const std::optional<std::set<std::int64_t>>& scope,
                                      std::optional<std::int64_t> station_id);

} // namespace pilehub::api
