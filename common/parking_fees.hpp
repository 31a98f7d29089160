#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/ledger.hpp"
#include "common/money.hpp"
#include "common/parking.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

/// Parking fees in the wallet (CONTRACT E.1, BILLING §5): the one place a stay's fee is debited,
/// whether at departure (parkingd) or later, when the plate's owner recharges (the API, the
/// payment notifications). A fee is debited whole or not at all, as ledger kind `parking` with the
/// key `park:<occupancy id>`, so it is taken exactly once however often it is tried.
namespace pilehub::parking {

/// What became of one stay's fee.
struct Settled {
    OccupancyState state = OccupancyState::Unpaid; ///< paid, unpaid or free
    std::optional<std::int64_t> account_id;        ///< the account holding the plate, if any
    std::optional<std::int64_t> ledger_id;         ///< the park:<id> entry when paid
    Fen owed_fen;                                  ///< what is still to collect (unpaid)
    bool operator==(const Settled&) const = default;
};

/// The idempotency key of a stay's fee: `park:<occupancy id>`.
std::string fee_key(std::int64_t occupancy_id);

/// Settles a closed stay inside the caller's transaction on `db`: a zero fee makes it `free`; else
/// the fee is debited from the wallet of the account holding the (normalised) plate and the stay
/// becomes `paid`, or `unpaid` with owed_fen = fee when no account holds the plate or its wallet
/// cannot cover the fee. Writes the occupancy's state, owed_fen, account_id, ledger_id, paid_at.
Settled settle_stay(db::Transaction& tx, db::Database& db, ledger::Ledger& ledger, std::int64_t occupancy_id,
                    const std::optional<std::string>& plate, Fen fee, EpochMs now);

/// Pays, inside the caller's transaction (right after a credit), the unpaid stays of every plate
/// `account_id` holds, oldest first, each one whole while the wallet covers it. Returns the ids
/// of the stays it paid.
std::vector<std::int64_t> collect_unpaid(db::Transaction& tx, db::Database& db, ledger::Ledger& ledger,
                                         std::int64_t account_id, EpochMs now);

} // namespace pilehub::parking
