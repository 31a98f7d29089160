#pragma once
#include "workers/pilehub-sim/device.hpp"

namespace pilehub::sim {

/// An AC or DC car charger (CONTRACT A.5 `ev_charger`), guns with OCPP 1.6 statuses. A car plugged
/// in has a 40–100 kWh battery at 10–50 % state of charge; AC guns give 7 kW flat to 95 %, DC guns
/// their rated power (60 kW unless the fleet says `power_w`) tapering above 80 %; the state of
/// charge rises by energy / battery size; at 100 % the car stops drawing (`suspended_ev`) until the
/// session is stopped. Each gun has an energy register that never goes back (kept in the state
/// directory). The EV configuration (`ev_cfg_desired`) is applied and reported; full, no-load and
/// over-temperature stops are left to the platform (seed 003 FAQ 13: the charger's own full stop is
/// off by default), the charger only halves its output at `temp_warn_c`.
class EvCharger final : public Device {
public:
    static constexpr double kAcMaxW = 7000;
    static constexpr double kDcMaxW = 60000;
    /// The highest `temp_stop_c` the simulated power modules accept; above it the report is partial.
    static constexpr std::int64_t kHwTempStopMaxC = 95;
    /// Authorisation and start requests unanswered after this are dropped (wall ms).
    static constexpr EpochMs kRequestTimeoutMs = 10'000;

    EvCharger(const FleetDevice& d, const Clock& clock, const Settings& settings, DeviceStore& store);

    int active_sessions() const override;

    // --- observation ---
    payloads::EvGunStatus gun_status(int n) const { return at(n).st; }
    std::string gun_sid(int n) const { return at(n).sid; }
    double gun_power_w(int n) const { return at(n).power_w; }
    std::int64_t gun_register_wh(int n) const { return at(n).register_wh(); }
    double gun_soc_pct(int n) const { return at(n).battery.soc_pct(); }
    double gun_battery_wh(int n) const { return at(n).battery.capacity_wh(); }
    int gun_count() const { return static_cast<int>(guns_.size()); }
    /// Each gun's rated power, W.
    double rated_power_w() const { return rated_w_; }
    const payloads::EvConfig& config() const { return cfg_.values(); }
    std::int64_t config_version() const { return cfg_.version(); }

protected:
    void publish_connect_states() override;
    void publish_tele() override;
    bool any_active() const override { return active_sessions() > 0; }
    void on_command(std::string_view name, const std::string& rid, std::string_view text) override;
    void on_request_reply(std::string_view name, std::string_view text) override;
    void on_cfg(std::string_view text) override;
    void publish_cfg_reported() override;
    std::int64_t tele_period_s() const override { return config().tele_period_s; }
    std::int64_t idle_tele_period_s() const override { return config().idle_tele_period_s; }
    void advance(std::int64_t dt_ms) override;
    EpochMs next_wake() const override;
    std::string on_control(const ControlCommand& c) override;
    std::string reencode_record(const PendingRecord& r, const payloads::Envelope& env) override;

private:
    struct Gun {
        int n = 1;
        payloads::EvGunStatus st = payloads::EvGunStatus::Available;
        EpochMs since = 0;
        std::uint32_t fault_bits = 0;
        bool plugged = false;
        bool operative = true;
        bool inoperative_pending = false; // set_availability(false) while charging: applied at the end
        EnergyMeter reg;                  // the energy register (starts from the saved value)
        std::int64_t reg_base_wh = 0;
        // the session
        std::string sid;
        std::string last_sid;
        std::string id_tag;
        std::optional<payloads::ChargeLimit> limit;
        EpochMs start_ts = 0;
        std::int64_t elapsed_ms = 0;
        std::int64_t meter_start_wh = 0;
        EvBattery battery;
        double power_w = 0;
        double max_power_w = 0;
        double voltage_v = 0;
        bool asleep = false; // the car takes nothing (control `noload`) until it is unplugged
        bool active() const { return !sid.empty(); }
        std::int64_t register_wh() const { return reg_base_wh + reg.wh(); }
    };

    struct PendingReq {
        std::string rid;
        std::string name; // authorize | start_session
        int n = 1;
        std::string id_tag;
        EpochMs deadline = 0;
    };

    const Gun& at(int n) const { return guns_.at(static_cast<std::size_t>(n - 1)); }
    Gun& at(int n) { return guns_.at(static_cast<std::size_t>(n - 1)); }
    bool valid(int n) const { return n >= 1 && n <= gun_count(); }

    void set_state(Gun& g, payloads::EvGunStatus st);
    /// The state of a gun from its plug, faults, availability and session.
    void settle(Gun& g);
    void plug_in(Gun& g);
    void plug_out(Gun& g);
    void start_session(Gun& g, const std::string& sid, const std::string& id_tag,
                       const std::optional<payloads::ChargeLimit>& limit);
    void stop_session(Gun& g, payloads::EvStopReason reason);
    void publish_conn_state(const Gun& g);
    void publish_device_state();
    void save_meters();
    std::uint32_t all_faults(const Gun& g) const { return g.fault_bits | device_fault_bits_; }
    double total_power_w() const;
    double temp_c() const;
    void apply_cfg(const payloads::EvCfgDesired& d, bool from_store);

    std::vector<Gun> guns_;
    bool dc_ = false;
    double rated_w_ = kAcMaxW;
    ConfigDocument<payloads::EvCfgReported> cfg_;
    std::uint32_t device_fault_bits_ = 0;
    std::vector<PendingReq> pending_;
    std::optional<double> temp_override_;
    double ambient_c_ = 25;
};

} // namespace pilehub::sim
