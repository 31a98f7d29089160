#pragma once
#include "workers/pilehub-sim/device.hpp"

namespace pilehub::sim {

/// A parking-space camera with an RS485 ground lock on every space (CONTRACT A.5 `camera`).
/// A lock takes 2–4 simulated seconds to move; the `lock` command is answered when it got there,
/// or failed (a car on the space stops a raise: `failed`/`conflict`, the lock goes back down with
/// its alarm; a jammed lock ends in `fault`: `failed`/`socket_faulted`). The same `rid` again while
/// its move is under way is answered once, when the move ends (CONTRACT A.6 retries); another rid
/// is `busy`. Each move jams with `Settings::lock_jam_pct` per cent.
///
/// Traffic (control `traffic`, `Settings::parking_traffic`): each free space gets a car after an
/// exponential gap (mean `car_gap_s`), with a random plate of a random colour. A car at a lock that
/// is not down waits kGiveUpMs for the platform to lower it, else leaves; a parked car stays an
/// exponential time (mean `car_stay_s`). A new-energy car parked on a space the fleet file maps to an
/// EV gun plugs in there (asked of the runner: ask_peer) and unplugs before it leaves. While traffic is
/// on, a jammed lock is repaired (back to `unknown`) kRepairMs after it jammed.
///
/// Cameras have no `tele` payload in the contract, so the retained device `state` is republished
/// every idle telemetry period as the camera's heartbeat.
class Camera final : public Device {
public:
    static constexpr std::int64_t kMoveMinMs = 2000;
    static constexpr std::int64_t kMoveMaxMs = 4000;
    /// A car in front of a lock that is not down waits this long (simulated ms) for it, then leaves.
    static constexpr std::int64_t kGiveUpMs = 60'000;
    /// From the lock down (or no lock in the way) to the car parked, its driver plugged in (simulated ms).
    static constexpr std::int64_t kParkMs = 30'000;
    /// From unplugging to driving off the space (simulated ms).
    static constexpr std::int64_t kUnplugMs = 30'000;
    /// With traffic on, a jammed lock is repaired this long after it jammed (simulated ms).
    static constexpr std::int64_t kRepairMs = 10 * 60'000;

    Camera(const FleetDevice& d, const Clock& clock, const Settings& settings, DeviceStore& store);

    int active_sessions() const override { return 0; }

    // --- observation ---
    int space_count() const { return static_cast<int>(spaces_.size()); }
    bool occupied(int n) const { return at(n).occupied; }
    payloads::LockStatus lock_status(int n) const { return at(n).lock.st; }
    bool lock_alarm(int n) const { return at(n).lock.alarm; }
    /// The plate on the space (a traffic car or a `plate` line); empty when free.
    const std::string& plate(int n) const { return at(n).plate; }
    /// A car of the traffic is at space n (waiting, parking, parked or leaving).
    bool has_car(int n) const { return at(n).car.phase != CarPhase::None; }
    /// The traffic car at space n is parked (the lock was down, it stays its time).
    bool car_parked(int n) const { return at(n).car.phase == CarPhase::Parked; }
    /// The traffic car at space n is plugged in at the space's gun.
    bool car_plugged(int n) const { return at(n).car.plugged; }
    bool traffic() const { return traffic_; }

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
    /// Where a car of the traffic is: none, waiting for the lock to go down, parking (then plugging in),
    /// parked, leaving (unplugged, driving off).
    enum class CarPhase { None, Waiting, Parking, Parked, Leaving };
    struct Car {
        CarPhase phase = CarPhase::None;
        payloads::PlateColor color = payloads::PlateColor::Blue;
        bool plugged = false;
    };

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
        std::string rid;        // the lock command waiting for its reply
        bool jammed = false;    // control lockjam: every move jams
        bool move_jams = false; // this move jams (lockjam or the --lock-jam-pct draw)
        bool jam_fault = false; // in fault because a move jammed (repaired with traffic on)
        std::int64_t repair_left_ms = 0;
        // traffic
        Car car;
        std::optional<std::int64_t> car_timer_ms; // until the car's next step (or the next arrival)
        std::optional<sockets::SocketRef> gun;    // the EV gun the space serves (fleet file)
    };

    const Space& at(int n) const { return spaces_.at(static_cast<std::size_t>(n - 1)); }
    Space& at(int n) { return spaces_.at(static_cast<std::size_t>(n - 1)); }
    bool valid(int n) const { return n >= 1 && n <= space_count(); }

    void publish_space_state(const Space& s);
    void publish_device_state();
    void set_lock(Space& s, payloads::LockStatus st, bool alarm);
    void finish_move(Space& s);
    void repair(Space& s);
    /// A plate read at the space: evt/plate, evt/space, the retained state.
    void read_plate(Space& s, const std::string& plate, payloads::PlateColor color, bool in);
    void set_traffic(bool on);
    /// The next car comes to this free space after a random gap (nothing when traffic is off).
    void expect_car(Space& s);
    void car_arrives(Space& s);
    /// The car's timer ran out: its next step.
    void car_step(Space& s);
    /// Runs the car timer of the space through `dt_ms`, step after step.
    void run_car(Space& s, std::int64_t dt_ms);
    void car_leaves(Space& s);
    /// Asks the runner to apply `op` (plug, unplug) to the space's gun.
    void ask_gun(const Space& s, ControlOp op);
    /// A plate line overrides the traffic: the space's car (unplugged first) is forgotten, silently.
    void forget_car(Space& s);

    std::vector<Space> spaces_;
    bool traffic_ = false;
    std::vector<std::string> device_faults_;
    std::optional<double> temp_override_;
    double ambient_c_ = 25;
    int rssi_dbm_ = -70;
};

} // namespace pilehub::sim
