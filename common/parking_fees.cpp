#include "common/parking_fees.hpp"

#include "common/log.hpp"

#include <fmt/format.h>

namespace pilehub::parking {
namespace {

constexpr std::string_view kPlateOwner = "SELECT account_id FROM plates WHERE plate = ?";
constexpr std::string_view kMarkStay = "UPDATE occupancies SET state = ?, owed_fen = ?, account_id = ?, ledger_id = ?, "
                                       "paid_at = ? WHERE id = ?";
constexpr std::string_view kUnpaidOfAccount =
    "SELECT o.id, o.owed_fen FROM occupancies o JOIN plates p ON p.plate = o.plate "
    "WHERE p.account_id = ? AND o.state = 'unpaid' AND o.owed_fen > 0 ORDER BY o.left_at, o.id";

ledger::Debit fee_debit(std::int64_t account_id, std::int64_t occupancy_id, Fen fee) {
    ledger::Debit d;
    d.account_id = account_id;
    d.amount_fen = fee;
    d.kind = ledger::Kind::Parking;
    d.meta.idempotency_key = fee_key(occupancy_id);
    d.meta.ref = fmt::format("parking:{}", occupancy_id);
    d.meta.operator_name = "parkingd";
    return d;
}

void mark(db::Database& db, std::int64_t occupancy_id, const Settled& s, EpochMs now) {
    db::Statement(db, kMarkStay)
        .bind_all(std::string(to_string(s.state)), s.owed_fen.value(), s.account_id, s.ledger_id,
                  s.state == OccupancyState::Paid ? std::optional<EpochMs>(now) : std::nullopt, occupancy_id)
        .run();
}

} // namespace

std::string fee_key(std::int64_t occupancy_id) {
    return fmt::format("park:{}", occupancy_id);
}

Settled settle_stay(db::Transaction& tx, db::Database& db, ledger::Ledger& ledger, std::int64_t occupancy_id,
                    const std::optional<std::string>& plate, Fen fee, EpochMs now) {
    Settled s;
    if (plate) {
        db::Statement owner(db, kPlateOwner);
        owner.bind(1, *plate);
        if (owner.step())
            s.account_id = owner.int64(0);
    }
    if (fee <= Fen(0)) {
        s.state = OccupancyState::Free;
    } else if (!s.account_id) {
        s.state = OccupancyState::Unpaid;
        s.owed_fen = fee;
    } else {
        const auto p = ledger.debit(tx, fee_debit(*s.account_id, occupancy_id, fee));
        if (p.ok()) {
            s.state = OccupancyState::Paid;
            s.ledger_id = p.entry->id;
        } else {
            s.state = OccupancyState::Unpaid;
            s.owed_fen = fee;
        }
    }
    mark(db, occupancy_id, s, now);
    return s;
}

std::vector<std::int64_t> collect_unpaid(db::Transaction& tx, db::Database& db, ledger::Ledger& ledger,
                                         std::int64_t account_id, EpochMs now) {
    std::vector<std::pair<std::int64_t, Fen>> owed;
    {
        db::Statement st(db, kUnpaidOfAccount);
        st.bind(1, account_id);
        while (st.step())
            owed.emplace_back(st.int64(0), Fen(st.int64(1)));
    }
    std::vector<std::int64_t> paid;
    for (const auto& [id, fen] : owed) {
        const auto p = ledger.debit(tx, fee_debit(account_id, id, fen));
        if (!p.ok())
            continue; // the wallet does not cover this one whole; a smaller one later may fit
        mark(db, id, Settled{OccupancyState::Paid, account_id, p.entry->id, Fen(0)}, now);
        log::info("parking stay {} collected: {} fen from account {}", id, fen.value(), account_id);
        paid.push_back(id);
    }
    return paid;
}

} // namespace pilehub::parking
