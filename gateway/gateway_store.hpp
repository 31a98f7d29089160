#pragma once
#include "common/db.hpp"
#include "common/money.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

/// The gateway's SQL (schema/core/008_ocpp.sql): which OCPP chargers may connect and with what key,
/// their connect counters, and the transactionId ↔ session map with each transaction's stop until
/// sessiond has acknowledged its record.
namespace pilehub::ocpp {

/// An OCPP charger as the gateway needs it at connect.
struct ChargerRow {
    std::string id;
    int guns = 1;
    std::string key_hash; ///< `$7$` hash of the Basic-auth key
};

/// One OCPP transaction.
struct TransactionRow {
    std::int64_t id = 0; ///< the OCPP transactionId
    std::string device_id;
    int connector = 1;
    std::string id_tag;
    std::int64_t meter_start_wh = 0;
    EpochMs start_ts = 0;
    std::optional<std::string> sid; ///< the session, once sessiond answered
    bool accepted = false;
    std::optional<std::int64_t> meter_stop_wh;
    std::optional<EpochMs> stop_ts;
    std::optional<std::string> stop_reason; ///< the contract's word (`ev_disconnected`, ...)
    bool record_acked = false;
    bool stopped() const { return stop_ts.has_value(); }
};

/// What a StartTransaction is known by when the charger sends it again (its conf was lost).
struct StartKey {
    int connector = 1;
    std::string id_tag;
    std::int64_t meter_start_wh = 0;
    EpochMs start_ts = 0;
    std::string text() const;
};

class GatewayStore {
public:
    explicit GatewayStore(db::Database& db) : db_(db) {}

    /// An enabled `ev_charger` registered with protocol `ocpp1.6` and a key; nullopt otherwise.
    std::optional<ChargerRow> charger(const std::string& id);
    /// The next connect counter of a charger (1 for its first connection), stored.
    std::int64_t next_boot(const std::string& id, EpochMs now);
    /// What BootNotification said.
    void save_boot(const std::string& id, const std::string& vendor, const std::string& model,
                   const std::optional<std::string>& serial, const std::optional<std::string>& firmware, EpochMs now);

    /// The transaction of this StartTransaction: a new one, or the one made when the charger sent the
    /// same start before (same connector, id tag, meter and time).
    TransactionRow begin(const std::string& device_id, const StartKey& key, EpochMs now);
    /// Records sessiond's answer to the transaction's start (first answer wins; a later one with a
    /// sid fills a missing sid).
    void set_session(std::int64_t transaction_id, const std::optional<std::string>& sid, bool accepted);
    std::optional<TransactionRow> transaction(std::int64_t transaction_id);
    /// The charger's transaction of session `sid`.
    std::optional<TransactionRow> by_sid(const std::string& device_id, const std::string& sid);
    /// Transactions of the charger that are not stopped, oldest first.
    std::vector<TransactionRow> open(const std::string& device_id);
    /// Records the stop once: true if this call stored it, false if it was stopped before.
    bool stop(std::int64_t transaction_id, std::int64_t meter_stop_wh, EpochMs stop_ts, const std::string& reason);
    /// sessiond acknowledged the transaction's record.
    void ack_record(std::int64_t transaction_id, EpochMs now);
    /// Stopped transactions with a session whose record sessiond has not acknowledged yet.
    std::vector<TransactionRow> unacked(const std::string& device_id);

private:
    db::Database& db_;
};

} // namespace pilehub::ocpp
