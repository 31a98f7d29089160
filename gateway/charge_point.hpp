#pragma once
#include "common/clock.hpp"
#include "common/mqtt.hpp"
#include "common/payloads.hpp"
#include "gateway/gateway_store.hpp"
#include "gateway/ocpp_frame.hpp"
#include "gateway/ocpp_meter.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// One connected OCPP 1.6-J charger, mapped onto the device contract (CONTRACT D.2): to the workers
/// it is an `ev_charger` publishing and receiving under its own id. A pure state machine with an
/// injected clock: OCPP-J text from the charger, MQTT messages for it and the passing of time go in;
/// MQTT messages to publish (under the charger's identity) and OCPP-J text to send come out. The
/// transactionId ↔ session map and every stop go through GatewayStore first, so nothing here is
/// lost with the process. One thread drives it.
namespace pilehub::ocpp {

struct ChargePointOptions {
    /// BootNotification.conf `interval`: how often the charger sends Heartbeat, s.
    int heartbeat_s = 300;
    /// How long a charger's Authorize or StartTransaction waits for sessiond's answer before it is
    /// answered with a CALLERROR InternalError (the charger sends a StartTransaction again later).
    EpochMs platform_timeout_ms = 20'000;
    /// How long one of our CALLs waits for the charger's answer before the command fails.
    EpochMs call_timeout_ms = 30'000;
    /// How often a session record sessiond has not acknowledged is sent again.
    EpochMs record_resend_ms = 30'000;
};

/// What one step produced, in order.
struct Effects {
    std::vector<mqtt::Message> publish;
    std::vector<std::string> send; ///< OCPP-J text messages to the charger
};

class ChargePoint {
public:
    /// `boot` is this connection's connect counter (GatewayStore::next_boot).
    ChargePoint(std::string id, int guns, std::int64_t boot, GatewayStore& store, const Clock& clock,
                ChargePointOptions options = {});

    const std::string& id() const { return id_; }
    std::int64_t boot() const { return boot_; }
    /// The charger's downlinks: `cmd/+`, `req-reply/+`, `cfg/desired`.
    std::vector<std::string> subscriptions() const;
    /// Presence `online:false` with this boot and a reason (`lwt` for the Will).
    mqtt::Message offline(std::string_view reason) const;

    /// The charger's MQTT identity is connected: presence online, then every stop whose record
    /// sessiond has not acknowledged.
    Effects connected();
    /// One WebSocket text message from the charger.
    Effects on_text(std::string_view text);
    /// One MQTT message for the charger (a command, a request's reply, its desired configuration).
    Effects on_mqtt(const mqtt::Message& m);
    /// Time-outs and resends; call at least once a second.
    Effects tick();

    /// Our CALLs the charger has not answered yet.
    std::size_t calls_in_flight() const { return calls_.size(); }
    /// Requests to sessiond not answered yet.
    std::size_t requests_in_flight() const { return requests_.size(); }

private:
    struct Gun {
        payloads::EvGunStatus st = payloads::EvGunStatus::Available;
        std::uint32_t fault_bits = 0;
        std::optional<std::int64_t> register_wh;
        EpochMs preparing_since = 0;
        double max_power_w = 0; ///< the highest power seen in the running transaction
    };
    /// A CALL of the charger waiting for sessiond (Authorize, StartTransaction).
    struct Request {
        std::string unique_id;
        std::string action;
        std::int64_t transaction_id = 0;
        EpochMs deadline = 0;
    };
    /// One of our CALLs waiting for the charger's answer.
    struct OutCall {
        std::string action;
        std::string command; ///< the MQTT command it carries out (empty for configuration)
        std::string rid;     ///< that command's rid
        std::string payload; ///< our CALL's payload (for the configuration report)
        std::int64_t cfg_version = 0;
        EpochMs deadline = 0;
    };
    struct Answered {
        std::string rid;
        mqtt::Message reply;
    };

    // charger → platform
    void on_call(const Call& c);
    /// FirmwareStatusNotification: the status as `evt/ota` for the last UpdateFirmware sent.
    void firmware_status(std::string_view status);
    void boot_notification(const Call& c, const rapidjson::Value& p);
    /// The frame's connectorId: a gun 1..guns, or 0 (the charger itself) where `zero` allows it;
    /// otherwise answers the CALLERROR PropertyConstraintViolation and gives nullopt.
    std::optional<int> connector_or_refuse(const Call& c, const rapidjson::Value& p, bool zero);
    void status_notification(const Call& c, const rapidjson::Value& p);
    void authorize(const Call& c, const rapidjson::Value& p);
    void start_transaction(const Call& c, const rapidjson::Value& p);
    void meter_values(const Call& c, const rapidjson::Value& p);
    void stop_transaction(const Call& c, const rapidjson::Value& p);
    void answer(const Call& c, std::string payload_json);
    void answer_error(const Call& c, ErrorCode code, std::string description);
    void answer_start(const Request& r, const TransactionRow& tx, std::string_view id_tag_status);

    // platform → charger
    void on_command(const std::string& name, const mqtt::Message& m);
    void on_request_reply(const std::string& name, const mqtt::Message& m);
    void on_cfg_desired(const mqtt::Message& m);
    void send_cfg();
    void on_call_result(const CallResult& r);
    void on_call_error(const CallError& e);
    void call(const std::string& action, std::string payload, OutCall pending);
    void command_done(const OutCall& c, payloads::ReplyStatus st, std::optional<pilehub::ErrorCode> code,
                      std::optional<std::string> msg);
    void cfg_done(const OutCall& c, bool applied, std::optional<std::string> msg);

    // publishing
    payloads::Envelope env(EpochMs ts);
    payloads::Envelope event_env(std::string id);
    template <typename T> void publish(std::string topic, const payloads::Message<T>& m, bool retained, int qos = 1);
    void publish_conn_state(int n, EpochMs since);
    void publish_tele(int n, const MeterReading& r, const std::optional<TransactionRow>& tx);
    void publish_record(const TransactionRow& tx);
    std::optional<TransactionRow> open_tx(int n) const;

    std::string id_;
    int guns_count_;
    std::string ota_version_; ///< the version of the last UpdateFirmware sent (for evt/ota)
    std::int64_t boot_;
    GatewayStore& store_;
    const Clock& clock_;
    ChargePointOptions opt_;
    std::int64_t seq_ = 0;
    std::int64_t call_counter_ = 0;
    bool booted_ = false;
    std::vector<Gun> guns_;
    std::map<std::string, Request> requests_; ///< by the request's rid
    std::map<std::string, OutCall> calls_;    ///< by our CALL's unique id
    std::deque<Answered> answered_;           ///< recent command replies, by rid
    /// The accepted, running transaction of each gun (the database's, kept here so that telemetry
    /// and states need no query).
    std::map<int, TransactionRow> open_;
    /// Stopped transactions whose record sessiond has not acknowledged, with when it was last sent.
    struct PendingRecord {
        TransactionRow tx;
        EpochMs sent_at = 0;
    };
    std::map<std::int64_t, PendingRecord> unacked_;
    /// Id tags of our RemoteStartTransactions → when sent: a charger that authorises remote starts
    /// (AuthorizeRemoteTxRequests) asks about them, and the platform already has.
    std::map<std::string, EpochMs> remote_tags_;
    std::optional<payloads::EvCfgDesired> cfg_; ///< the desired configuration, once received
    std::int64_t cfg_sent_version_ = 0;
    std::vector<std::string> cfg_failed_; ///< payloads of the ChangeConfiguration calls refused
    Effects out_;
};

} // namespace pilehub::ocpp
