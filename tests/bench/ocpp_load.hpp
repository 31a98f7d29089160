#pragma once
// The OCPP side of `pilehub-bench ocpp` (docs/benchmarks.md, "OCPP gateway"): simulated OCPP 1.6-J
// charge points as Boost.Beast WebSocket clients on one io_context thread, and the bare baseline,
// a Boost.Beast WebSocket server that answers every CALL without doing anything else.
// Boost.Beast is used only in ocpp_load.cpp.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace pilehub::bench {

/// One simulated charge point: its id (the last part of `/ocpp/<id>`) and its Basic-auth key.
struct OcppChargerSpec {
    std::string id;
    std::string key;
};

/// When the steps of one remote start reached a charge point (monotonic µs, 0 = not yet).
struct OcppStartMarks {
    std::int64_t remote_start_us = 0; ///< RemoteStartTransaction received
    std::int64_t start_conf_us = 0;   ///< StartTransaction.conf received
    std::int64_t transaction_id = 0;
    std::string id_tag;
    std::string start_status; ///< StartTransaction.conf idTagInfo.status
};

/// What the charge points have done so far (every counter only grows).
struct OcppLoadCounters {
    std::uint64_t connected = 0;        ///< WebSocket handshakes that succeeded
    std::uint64_t connect_failures = 0; ///< TCP or handshake failures (each retried)
    std::uint64_t disconnects = 0;      ///< established connections that ended (each reconnected)
    std::uint64_t calls_sent = 0;       ///< our CALLs
    std::uint64_t results = 0;          ///< CALLRESULTs to them
    std::uint64_t errors = 0;           ///< CALLERRORs to them
    std::uint64_t server_calls = 0;     ///< the server's CALLs we answered
    std::uint64_t meter_values = 0;     ///< MeterValues answered (CALLRESULT)
};

/// N charge points on ONE io_context thread. Each connects to ws://127.0.0.1:<port>/ocpp/<id> with
/// `Authorization: Basic base64(id:key)` and `Sec-WebSocket-Protocol: ocpp1.6` (connects paced at
/// `connect_rate` per second), sends BootNotification and, once accepted, StatusNotification
/// (connector 1 Available); Heartbeat at the interval BootNotification.conf gives. MeterValues
/// (connector 1, Energy.Active.Import.Register in Wh, increasing) only when asked: meter() or
/// saturate(). The server's CALLs are answered as a charger does: RemoteStartTransaction Accepted,
/// then StatusNotification Preparing, StartTransaction (the call's idTag) and, once confirmed,
/// StatusNotification Charging; RemoteStopTransaction Accepted, then StopTransaction (reason Remote)
/// and StatusNotification Available; ChangeConfiguration Accepted; anything else a CALLERROR
/// NotImplemented. A charge point whose connection fails or ends connects again after a second.
class OcppLoad {
public:
    OcppLoad(int port, std::vector<OcppChargerSpec> chargers, double connect_rate = 200);
    ~OcppLoad();
    OcppLoad(const OcppLoad&) = delete;
    OcppLoad& operator=(const OcppLoad&) = delete;

    /// Charge points whose BootNotification and first StatusNotification are confirmed right now.
    std::size_t booted() const;
    OcppLoadCounters counters() const;
    /// MeterValues from every booted charge point every `period_s`, their phases spread evenly
    /// over the period (charge point i starts at i/N of it); 0 stops.
    void meter(double period_s);
    /// true: every booted charge point sends MeterValues back to back (the next as soon as the
    /// last is answered); false stops.
    void saturate(bool on);
    /// The round trips (CALL sent → CALLRESULT received, ms) of MeterValues since the last call.
    std::vector<double> take_rtts();
    /// The remote start marks of charge point `index` (the order given), if any arrived.
    std::optional<OcppStartMarks> start_marks(std::size_t index) const;
    /// The first CALLERRORs, connection failures and other oddities seen (at most 20).
    std::vector<std::string> problems() const;
    /// The Linux thread id of the io_context's thread (for its CPU in /proc/self/task).
    int thread_id() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

/// `pilehub-bench ocpp-echo --port P`: the bare baseline. One io_context thread; accepts any
/// `/ocpp/<id>` WebSocket that offers the subprotocol ocpp1.6 (no authentication, no database, no
/// MQTT), parses every message and answers every CALL `[2,id,action,payload]` with `[3,id,{}]`,
/// except BootNotification: `{"status":"Accepted","currentTime":…,"interval":300}`. Runs until
/// SIGTERM or SIGINT.
int run_ocpp_echo(int port);

} // namespace pilehub::bench
