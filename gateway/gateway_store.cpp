#include "gateway/gateway_store.hpp"

#include <fmt/format.h>

namespace pilehub::ocpp {

namespace {

constexpr const char* kSqlCharger = R"(
SELECT d.id, (SELECT count(*) FROM guns g WHERE g.device_id = d.id), c.key_hash
FROM devices d JOIN ocpp_credentials c ON c.device_id = d.id
WHERE d.id = ?1 AND d.kind = 'ev_charger' AND d.protocol = 'ocpp1.6' AND d.enabled = 1 AND d.lifecycle <> 'retired')";

constexpr const char* kSqlNextBoot = R"(
INSERT INTO ocpp_chargers (device_id, boot, connected_at) VALUES (?1, 1, ?2)
ON CONFLICT (device_id) DO UPDATE SET boot = ocpp_chargers.boot + 1, connected_at = excluded.connected_at
RETURNING boot)";

constexpr const char* kSqlSaveBoot = R"(
UPDATE ocpp_chargers SET vendor = ?2, model = ?3, serial = ?4, firmware = ?5, booted_at = ?6 WHERE device_id = ?1)";

constexpr const char* kSqlInsertTx = R"(
INSERT INTO ocpp_transactions (device_id, connector, start_key, id_tag, meter_start_wh, start_ts, created_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (device_id, start_key) DO NOTHING)";

#define PILEHUB_TX_COLUMNS                                                                                             \
    "transaction_id, device_id, connector, id_tag, meter_start_wh, start_ts, sid, accepted, meter_stop_wh, stop_ts, "  \
    "stop_reason, record_acked_at"

constexpr const char* kSqlTxByKey =
    "SELECT " PILEHUB_TX_COLUMNS " FROM ocpp_transactions WHERE device_id = ?1 AND start_key = ?2";
constexpr const char* kSqlTxById = "SELECT " PILEHUB_TX_COLUMNS " FROM ocpp_transactions WHERE transaction_id = ?1";
constexpr const char* kSqlTxBySid =
    "SELECT " PILEHUB_TX_COLUMNS " FROM ocpp_transactions WHERE device_id = ?1 AND sid = ?2 "
    "ORDER BY transaction_id DESC LIMIT 1";
constexpr const char* kSqlTxOpen =
    "SELECT " PILEHUB_TX_COLUMNS " FROM ocpp_transactions WHERE device_id = ?1 AND stop_ts IS NULL "
    "ORDER BY transaction_id";
constexpr const char* kSqlTxUnacked =
    "SELECT " PILEHUB_TX_COLUMNS " FROM ocpp_transactions WHERE device_id = ?1 AND stop_ts IS NOT NULL "
    "AND record_acked_at IS NULL AND sid IS NOT NULL ORDER BY transaction_id";

constexpr const char* kSqlSetSession = R"(
UPDATE ocpp_transactions SET sid = coalesce(sid, ?2), accepted = CASE WHEN sid IS NULL THEN ?3 ELSE accepted END
WHERE transaction_id = ?1)";

constexpr const char* kSqlStop = R"(
UPDATE ocpp_transactions SET meter_stop_wh = ?2, stop_ts = ?3, stop_reason = ?4
WHERE transaction_id = ?1 AND stop_ts IS NULL)";

constexpr const char* kSqlAck = R"(
UPDATE ocpp_transactions SET record_acked_at = ?2 WHERE transaction_id = ?1 AND record_acked_at IS NULL)";

TransactionRow read_tx(const db::Statement& st) {
    TransactionRow t;
    t.id = st.int64(0);
    t.device_id = st.text(1);
    t.connector = static_cast<int>(st.int64(2));
    t.id_tag = st.text(3);
    t.meter_start_wh = st.int64(4);
    t.start_ts = st.int64(5);
    t.sid = st.opt_text(6);
    t.accepted = st.int64(7) != 0;
    t.meter_stop_wh = st.opt_int64(8);
    t.stop_ts = st.opt_int64(9);
    t.stop_reason = st.opt_text(10);
    t.record_acked = !st.is_null(11);
    return t;
}

std::vector<TransactionRow> read_all(db::Statement& st) {
    std::vector<TransactionRow> out;
    while (st.step())
        out.push_back(read_tx(st));
    return out;
}

} // namespace

std::string StartKey::text() const {
    return fmt::format("{}|{}|{}|{}", connector, meter_start_wh, start_ts, id_tag);
}

std::optional<ChargerRow> GatewayStore::charger(const std::string& id) {
    db::Statement st(db_, kSqlCharger);
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    return ChargerRow{st.text(0), static_cast<int>(st.int64(1)), st.text(2)};
}

std::int64_t GatewayStore::next_boot(const std::string& id, EpochMs now) {
    db::Statement st(db_, kSqlNextBoot);
    st.bind_all(id, now);
    st.step();
    const auto boot = st.int64(0);
    st.reset();
    return boot;
}

void GatewayStore::save_boot(const std::string& id, const std::string& vendor, const std::string& model,
                             const std::optional<std::string>& serial, const std::optional<std::string>& firmware,
                             EpochMs now) {
    db::Statement st(db_, kSqlSaveBoot);
    st.bind_all(id, vendor, model, serial, firmware, now).run();
}

TransactionRow GatewayStore::begin(const std::string& device_id, const StartKey& key, EpochMs now) {
    const auto k = key.text();
    db::Transaction tx(db_);
    db::Statement ins(db_, kSqlInsertTx);
    ins.bind_all(device_id, key.connector, k, key.id_tag, key.meter_start_wh, key.start_ts, now).run();
    db::Statement sel(db_, kSqlTxByKey);
    sel.bind_all(device_id, k);
    sel.step();
    auto row = read_tx(sel);
    sel.reset();
    tx.commit();
    return row;
}

void GatewayStore::set_session(std::int64_t transaction_id, const std::optional<std::string>& sid, bool accepted) {
    db::Statement st(db_, kSqlSetSession);
    st.bind_all(transaction_id, sid, accepted ? 1 : 0).run();
}

std::optional<TransactionRow> GatewayStore::transaction(std::int64_t transaction_id) {
    db::Statement st(db_, kSqlTxById);
    st.bind(1, transaction_id);
    if (!st.step())
        return std::nullopt;
    return read_tx(st);
}

std::optional<TransactionRow> GatewayStore::by_sid(const std::string& device_id, const std::string& sid) {
    db::Statement st(db_, kSqlTxBySid);
    st.bind_all(device_id, sid);
    if (!st.step())
        return std::nullopt;
    return read_tx(st);
}

std::vector<TransactionRow> GatewayStore::open(const std::string& device_id) {
    db::Statement st(db_, kSqlTxOpen);
    st.bind(1, device_id);
    return read_all(st);
}

bool GatewayStore::stop(std::int64_t transaction_id, std::int64_t meter_stop_wh, EpochMs stop_ts,
                        const std::string& reason) {
    db::Statement st(db_, kSqlStop);
    return st.bind_all(transaction_id, meter_stop_wh, stop_ts, reason).run() == 1;
}

void GatewayStore::ack_record(std::int64_t transaction_id, EpochMs now) {
    db::Statement st(db_, kSqlAck);
    st.bind_all(transaction_id, now).run();
}

std::vector<TransactionRow> GatewayStore::unacked(const std::string& device_id) {
    db::Statement st(db_, kSqlTxUnacked);
    st.bind(1, device_id);
    return read_all(st);
}

} // namespace pilehub::ocpp
