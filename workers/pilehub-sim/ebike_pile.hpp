#pragma once
#include "workers/pilehub-sim/device.hpp"

namespace pilehub::sim {

/// An e-bike charging pile (CONTRACT A.5 `ebike_pile`) with 10 or 20 sockets. Besides the contract
/// it enforces the protections a pile's firmware applies on its own (BILLING.md §3), with the
/// thresholds of its `cfg/desired`: full (under `full_stop_w` for `full_wait_s`), no load (under
/// `full_stop_w` through the first `no_load_wait_s`; neither applies to time sessions), socket
/// overload, device overload (highest socket first), over temperature (every socket), and the
/// session's time or energy limit.
class EbikePile final : public Device {
public:
    /// What the hardware can do whatever the platform asks (clamped, reported `partial`).
    static constexpr std::int64_t kHwSocketOverloadMaxW = 600;
    static constexpr std::int64_t kHwOverrideMaxW = 3500; ///< the high-power sockets of an 8+2 pile
    static constexpr std::int64_t kHwDeviceOverloadMaxW = 6000;
    /// How long a socket stays `starting` (relay check) before it draws power, simulated ms.
    static constexpr std::int64_t kStartingMs = 2000;
    /// An unanswered card authorisation is dropped after this (wall ms).
    static constexpr EpochMs kAuthorizeTimeoutMs = 10'000;

    EbikePile(const FleetDevice& d, const Clock& clock, const Settings& settings, DeviceStore& store);

    int active_sessions() const override;

    // --- observation (tests, status) ---
    const payloads::EbikeConfig& config() const { return cfg_.values(); }
    std::int64_t config_version() const { return cfg_.version(); }
    int socket_count() const { return static_cast<int>(sockets_.size()); }
    payloads::EbikeSocketStatus socket_status(int n) const { return at(n).st; }
    std::string socket_sid(int n) const { return at(n).sid; }
    double socket_power_w(int n) const { return at(n).power_w; }
    std::int64_t socket_energy_wh(int n) const { return at(n).meter.wh(); }
    double temp_c() const { return temp_c_; }
    double total_power_w() const;

protected:
    void publish_connect_states() override;
    void publish_tele() override;
    bool any_active() const override { return active_sessions() > 0; }
    void on_command(std::string_view name, const std::string& rid, std::string_view text) override;
    void on_request_reply(std::string_view name, std::string_view text) override;
    void on_cfg(std::string_view text) override;
    void publish_cfg_reported() override;
    void advance(std::int64_t dt_ms) override;
    EpochMs next_wake() const override;
    std::string on_control(const ControlCommand& c) override;
    std::string reencode_record(const PendingRecord& r, const payloads::Envelope& env) override;
    std::int64_t tele_period_s() const override { return config().tele_period_s; }
    std::int64_t idle_tele_period_s() const override { return config().idle_tele_period_s; }

private:
    /// What the charger plugged into a socket does (control lines change it).
    enum class Load { Normal, None, Overload, Full, Unplugged };

    struct Socket {
        int n = 1;
        payloads::EbikeSocketStatus st = payloads::EbikeSocketStatus::Idle;
        EpochMs since = 0;
        std::vector<std::string> faults;
        bool disabled = false;
        Load load = Load::Normal;
        double load_w = 0;
        // the session
        std::string sid;
        std::string last_sid;
        std::string card;
        payloads::ChargeLimit limit;
        EpochMs start_ts = 0;
        std::int64_t elapsed_ms = 0; // simulated, since start
        std::int64_t relay_ms = 0;   // simulated, since the relay closed
        std::int64_t below_ms = 0;   // simulated, continuously under full_stop_w
        bool seen_load = false;
        EbikeCurve curve;
        EnergyMeter meter;
        double power_w = 0;
        double max_power_w = 0;
        double voltage_v = 0;
        bool active() const {
            return st == payloads::EbikeSocketStatus::Starting || st == payloads::EbikeSocketStatus::Charging ||
                   st == payloads::EbikeSocketStatus::FullWait;
        }
    };

    struct PendingAuth {
        std::string rid;
        int n = 1;
        std::string card;
        EpochMs deadline = 0;
    };

    const Socket& at(int n) const { return sockets_.at(static_cast<std::size_t>(n - 1)); }
    Socket& at(int n) { return sockets_.at(static_cast<std::size_t>(n - 1)); }
    bool valid(int n) const { return n >= 1 && n <= socket_count(); }

    void start_session(Socket& s, const std::string& sid, const payloads::ChargeLimit& limit, const std::string& card);
    void stop_session(Socket& s, payloads::EbikeStopReason reason);
    void step(std::int64_t dt_ms);
    std::int64_t ms_to_next_rule(const Socket& s) const;
    void update_temperature();
    /// Over-temperature stop and warning from the temperature in force.
    void check_temperature();
    double draw_w(Socket& s);
    /// Sets the state of a socket without a session (idle, fault, disabled) from its faults.
    void settle_state(Socket& s);
    void set_state(Socket& s, payloads::EbikeSocketStatus st);
    void publish_conn_state(const Socket& s);
    void publish_device_state();
    void raise_fault(int n, const std::string& code, bool active);
    std::vector<std::string> faults_of(const Socket& s) const;
    std::int64_t overload_w(int n) const;
    std::int64_t full_stop_w(int n) const;
    payloads::EbikePortStatus port_status(const Socket& s) const;
    payloads::DeviceState device_state() const;
    void apply_cfg(const payloads::EbikeCfgDesired& d, bool from_store);
    void maybe_reboot_when_idle();

    std::vector<Socket> sockets_;
    ConfigDocument<payloads::EbikeCfgReported> cfg_;
    std::vector<std::string> device_faults_;
    std::vector<PendingAuth> auths_;
    std::optional<double> temp_override_;
    double ambient_c_ = 25;
    double temp_c_ = 25;
    bool temp_warning_ = false;
    bool over_temp_ = false;
    bool reboot_when_idle_ = false;
    int rssi_dbm_ = -70;
};

} // namespace pilehub::sim
