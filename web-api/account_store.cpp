#include "web-api/account_store.hpp"

#include "common/arrears.hpp"
#include "common/parking_fees.hpp"

namespace pilehub::api {
namespace {

constexpr const char* kAccountCols =
    "SELECT a.id, a.phone, a.name, a.frozen, a.home_station_id, a.created_at, coalesce(w.balance_fen, 0), "
    "coalesce(w.bonus_fen, 0), a.arrears_fen FROM accounts a LEFT JOIN wallets w ON w.account_id = a.id ";
constexpr const char* kSetName = "UPDATE accounts SET name = ? WHERE id = ?";
constexpr const char* kSetHome = "UPDATE accounts SET home_station_id = ? WHERE id = ?";
constexpr const char* kUpdatePackage =
    "UPDATE recharge_packages SET name = ?, pay_fen = ?, bonus_fen = ?, enabled = ? WHERE id = ?";

constexpr const char* kLedgerCols = "SELECT l.id, l.account_id, l.kind, l.real_fen, l.bonus_fen, l.real_after, "
                                    "l.bonus_after, l.ref, l.operator, l.note, l.idempotency_key, l.at, a.phone "
                                    "FROM ledger l JOIN accounts a ON a.id = l.account_id ";

constexpr const char* kCardCols =
    "SELECT card_no, account_id, name, status, fee_fen, issued_at, bound_at, station_id FROM cards ";
constexpr const char* kAddCard = "INSERT INTO cards(card_no, account_id, name, status, fee_fen, issued_at, bound_at, "
                                 "station_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kBindCard =
    "UPDATE cards SET account_id = ?, name = ?, status = 'active', bound_at = ? WHERE card_no = ? AND "
    "(account_id IS NULL OR account_id = ?) AND status IN ('active', 'unbound')";
constexpr const char* kUnbindCard =
    "UPDATE cards SET status = 'unbound', account_id = NULL, bound_at = NULL WHERE card_no = ? AND status = 'active'";
constexpr const char* kCardStatus = "UPDATE cards SET status = ? WHERE card_no = ? AND status = ?";

AccountRow read_account(db::Statement& st) {
    AccountRow a;
    a.id = st.int64(0);
    a.phone = st.text(1);
    a.name = st.text(2);
    a.frozen = st.int64(3) != 0;
    a.home_station_id = st.opt_int64(4);
    a.created_at = st.int64(5);
    a.balance_fen = st.int64(6);
    a.bonus_fen = st.int64(7);
    a.arrears_fen = st.int64(8);
    return a;
}

LedgerRow read_ledger(db::Statement& st) {
    LedgerRow l;
    l.id = st.int64(0);
    l.account_id = st.int64(1);
    l.kind = st.text(2);
    l.real_fen = st.int64(3);
    l.bonus_fen = st.int64(4);
    l.real_after = st.int64(5);
    l.bonus_after = st.int64(6);
    l.ref = st.text(7);
    l.op = st.text(8);
    l.note = st.text(9);
    l.idempotency_key = st.text(10);
    l.at = st.int64(11);
    l.phone = st.text(12);
    return l;
}

CardRow read_card(db::Statement& st) {
    return CardRow{st.text(0),  st.opt_int64(1), st.text(2),      st.text(3),
                   st.int64(4), st.int64(5),     st.opt_int64(6), st.opt_int64(7)};
}

} // namespace

std::optional<AccountRow> AccountStore::account(std::int64_t id) {
    db::Statement st(db_, std::string(kAccountCols) + "WHERE a.id = ?");
    st.bind_all(id);
    if (!st.step())
        return std::nullopt;
    return read_account(st);
}

std::optional<AccountRow> AccountStore::by_phone(const std::string& phone) {
    db::Statement st(db_, std::string(kAccountCols) + "WHERE a.phone = ?");
    st.bind_all(phone);
    if (!st.step())
        return std::nullopt;
    return read_account(st);
}

std::vector<AccountRow> AccountStore::accounts(const AccountFilter& f) {
    std::vector<AccountRow> out;
    // Scope filtering happens in SQL-free C++ below; the page is applied after it, so read a bounded window.
    db::Statement st(db_, std::string(kAccountCols) +
                              "WHERE (?1 = '' OR instr(a.phone, ?1) > 0 OR instr(a.name, ?1) > 0 OR EXISTS (SELECT 1 "
                              "FROM cards c WHERE c.account_id = a.id AND c.card_no = ?1)) AND (?2 IS NULL OR "
                              "a.frozen = ?2) AND (?3 IS NULL OR a.home_station_id = ?3) ORDER BY a.id DESC");
    st.bind(1, f.q);
    st.bind(2, f.frozen ? std::optional<std::int64_t>(*f.frozen ? 1 : 0) : std::nullopt);
    st.bind(3, f.station_id);
    std::int64_t skipped = 0;
    while (st.step()) {
        auto a = read_account(st);
        if (f.scope && !(a.home_station_id && f.scope->count(*a.home_station_id)))
            continue;
        if (skipped < f.offset) {
            ++skipped;
            continue;
        }
        out.push_back(std::move(a));
        if (static_cast<std::int64_t>(out.size()) >= f.limit)
            break;
    }
    return out;
}

bool AccountStore::set_name(std::int64_t id, const std::string& name) {
    return db::Statement(db_, kSetName).bind_all(name, id).run() > 0;
}

void AccountStore::set_home_station(std::int64_t id, std::int64_t station_id) {
    db::Statement(db_, kSetHome).bind_all(station_id, id).run();
}

std::vector<LedgerRow> AccountStore::ledger(std::int64_t account_id, std::int64_t limit,
                                            std::optional<std::int64_t> before_id) {
    std::vector<LedgerRow> out;
    db::Statement st(db_, std::string(kLedgerCols) +
                              "WHERE l.account_id = ?1 AND (?2 IS NULL OR l.id < ?2) ORDER BY l.id DESC LIMIT ?3");
    st.bind(1, account_id);
    st.bind(2, before_id);
    st.bind(3, limit);
    while (st.step())
        out.push_back(read_ledger(st));
    return out;
}

std::vector<LedgerRow> AccountStore::ledger_between(EpochMs from, EpochMs to, std::optional<std::int64_t> account_id,
                                                    const std::string& kind, std::int64_t limit, std::int64_t offset) {
    std::vector<LedgerRow> out;
    db::Statement st(db_, std::string(kLedgerCols) +
                              "WHERE l.at >= ?1 AND l.at < ?2 AND (?3 IS NULL OR l.account_id = ?3) AND (?4 = '' OR "
                              "l.kind = ?4) ORDER BY l.id DESC LIMIT ?5 OFFSET ?6");
    st.bind(1, from);
    st.bind(2, to);
    st.bind(3, account_id);
    st.bind(4, kind);
    st.bind(5, limit);
    st.bind(6, offset);
    while (st.step())
        out.push_back(read_ledger(st));
    return out;
}

std::optional<CardRow> AccountStore::card(const std::string& card_no) {
    db::Statement st(db_, std::string(kCardCols) + "WHERE card_no = ?");
    st.bind_all(card_no);
    if (!st.step())
        return std::nullopt;
    return read_card(st);
}

std::optional<CardRow> AccountStore::active_card(std::int64_t account_id) {
    db::Statement st(db_, std::string(kCardCols) + "WHERE account_id = ? AND status = 'active'");
    st.bind_all(account_id);
    if (!st.step())
        return std::nullopt;
    return read_card(st);
}

std::vector<CardRow> AccountStore::cards(std::optional<std::int64_t> account_id, const std::string& status,
                                         std::int64_t limit, std::int64_t offset) {
    std::vector<CardRow> out;
    db::Statement st(db_,
                     std::string(kCardCols) +
                         "WHERE (?1 IS NULL OR account_id = ?1) AND (?2 = '' OR status = ?2) ORDER BY issued_at DESC, "
                         "card_no LIMIT ?3 OFFSET ?4");
    st.bind(1, account_id);
    st.bind(2, status);
    st.bind(3, limit);
    st.bind(4, offset);
    while (st.step())
        out.push_back(read_card(st));
    return out;
}

void AccountStore::add_card(const CardRow& c) {
    db::Statement(db_, kAddCard)
        .bind_all(c.card_no, c.account_id, c.name, c.status, c.fee_fen, c.issued_at, c.bound_at, c.station_id)
        .run();
}

bool AccountStore::bind_card(const std::string& card_no, std::int64_t account_id, const std::string& name,
                             EpochMs now) {
    return db::Statement(db_, kBindCard).bind_all(account_id, name, now, card_no, account_id).run() > 0;
}

bool AccountStore::set_card_status(const std::string& card_no, const std::string& from_status,
                                   const std::string& to_status) {
    return db::Statement(db_, kCardStatus).bind_all(to_status, card_no, from_status).run() > 0;
}

bool AccountStore::unbind_card(const std::string& card_no) {
    return db::Statement(db_, kUnbindCard).bind_all(card_no).run() > 0;
}

ledger::Posting AccountStore::charge(db::Transaction& tx, const std::string& card_no, const CardFee& fee,
                                     const Clock& clock) {
    if (fee.fee_fen <= 0)
        return ledger::Posting{ledger::Outcome::Applied, std::nullopt};
    ledger::Debit debit;
    debit.account_id = fee.account_id;
    debit.amount_fen = Fen(fee.fee_fen);
    debit.kind = ledger::Kind::CardFee;
    debit.meta = ledger::Meta{fee.idempotency_key, card_no, fee.actor, "card fee"};
    return ledger::Ledger(db_, clock).debit(tx, debit);
}

ledger::Posting AccountStore::recharge(const ledger::Credit& c, const Clock& clock) {
    db::Transaction tx(db_);
    ledger::Ledger led(db_, clock);
    auto p = led.credit(tx, c);
    if (p.outcome != ledger::Outcome::Applied)
        return p;
    arrears::collect(tx, db_, led, c.account_id, p.entry->id); // any money in pays arrears first
    if (c.real_fen > Fen(0)) // real money came in: the stays its plates left unpaid are paid from it
        parking::collect_unpaid(tx, db_, led, c.account_id, clock.now_ms());
    tx.commit();
    return p;
}

ledger::Posting AccountStore::refund_order(const ledger::OrderRefund& r, const Clock& clock,
                                           const std::function<void()>& check) {
    db::Transaction tx(db_);
    ledger::Ledger led(db_, clock);
    if (auto e = led.entry_by_key(r.meta.idempotency_key))
        return {ledger::Outcome::Duplicate, std::move(e)};
    if (check)
        check();
    auto p = led.refund_order(tx, r);
    if (p.outcome != ledger::Outcome::Applied)
        return p;
    arrears::collect(tx, db_, led, p.entry->account_id, p.entry->id);
    tx.commit();
    return p;
}

CardChange AccountStore::issue_card(const CardRow& c, const std::optional<CardFee>& fee, const Clock& clock) {
    CardChange out;
    db::Transaction tx(db_);
    add_card(c);
    if (fee)
        out.fee = charge(tx, c.card_no, *fee, clock);
    if (out.done())
        tx.commit();
    return out;
}

CardChange AccountStore::bind_card_charging(const std::string& card_no, std::int64_t account_id,
                                            const std::string& name, EpochMs now, const std::optional<CardFee>& fee,
                                            const Clock& clock) {
    CardChange out;
    db::Transaction tx(db_);
    out.card_changed = bind_card(card_no, account_id, name, now);
    if (out.card_changed && fee)
        out.fee = charge(tx, card_no, *fee, clock);
    if (out.done())
        tx.commit();
    return out;
}

CardChange AccountStore::replace_card(const std::string& old_card_no, const std::string& from_status,
                                      const CardRow& new_card, const CardFee& fee, const Clock& clock) {
    CardChange out;
    db::Transaction tx(db_);
    out.card_changed = set_card_status(old_card_no, from_status, "replaced");
    if (!out.card_changed)
        return out;
    add_card(new_card);
    out.fee = charge(tx, new_card.card_no, fee, clock);
    if (out.done())
        tx.commit();
    return out;
}

bool AccountStore::update_package(const ledger::Package& p) {
    return db::Statement(db_, kUpdatePackage)
               .bind_all(p.name, p.pay_fen.value(), p.bonus_fen.value(), p.enabled ? 1 : 0, p.id)
               .run() > 0;
}

} // namespace pilehub::api
