#pragma once
#include "workers/pilehub-sim/device.hpp"

namespace pilehub::sim {

/// A parking-space camera with an RS485 ground lock on every space (CONTRACT A.5 `camera`).
/// A lock takes 2–4 simulated seconds to move; the `lock` command is answered when it got there,
/// or failed (a car on the space stops a raise: `failed`/`conflict`, the lock goes back down with
/// its alarm; a jammed lock ends in `fault`: `failed`/`socket_faulted`). Cameras have no `tele`
/// payload in the contract, so the retained device `state` is republished every idle telemetry
/// period as the camera's heartbeat.
class Camera final : public Device {
public:
    static constexpr std::int64_t kMoveMinMs = 2000;
    static constexpr std::int64_t kMoveMaxMs = 4000;

    Camera(const FleetDevice& d, const Clock& clock, const Settings& settings, DeviceStore& store);

    int active_sessions() const override { return 0; }

    // --- observation ---
    int space_count() const { return static_cast<int>(spaces_.size()); }
    bool occupied(int n) const { return at(n).occupied; }
    payloads::LockStatus lock_status(int n) const { return at(n).lock.st; }
    bool lock_alarm(int n) const { return at(n).lock.alarm; }

protected:
    void publish_connect_states() override;
    void publish_tele() override;
    bool any_active() const override { return false; }
    void on_command(std::string_view name, const std::string& rid, std::string_view text) override;
    void advance(std::int64_t dt_ms) override;
    EpochMs next_wake() const override;
    std::string on_control(const ControlCommand& c) override;
    std::string reencode_record(const PendingRecord&, const payloads::Envelope&) override { return {}; }

private:
    struct Space {
        int n = 1;
        bool occupied = false;
        std::string plate;
        EpochMs since = 0;
        payloads::LockState lock{payloads::LockStatus::Lowered, false};
        // a move in progress
        bool moving = false;
        payloads::LockAction action = payloads::LockAction::Lower;
        payloads::LockStatus from = payloads::LockStatus::Lowered;
        std::int64_t move_left_ms = 0;
        std::string rid; // the lock command waiting for its reply
        bool jammed = false;
    };

    const Space& at(int n) const { return spaces_.at(static_cast<std::size_t>(n - 1)); }
    Space& at(int n) { return spaces_.at(static_cast<std::size_t>(n - 1)); }
    bool valid(int n) const { return n >= 1 && n <= space_count(); }

    void publish_space_state(const Space& s);
    void publish_device_state();
    void set_lock(Space& s, payloads::LockStatus st, bool alarm);
    void finish_move(Space& s);

    std::vector<Space> spaces_;
    std::vector<std::string> device_faults_;
    std::optional<double> temp_override_;
    double ambient_c_ = 25;
    int rssi_dbm_ = -70;
};

} // namespace pilehub::sim
