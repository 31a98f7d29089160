#include "workers/pilehub-sim/camera.hpp"

#include "common/log.hpp"
#include "common/parking.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace pilehub::sim {
namespace {

using payloads::LockAction;
using payloads::LockStatus;
using RS = payloads::ReplyStatus;

constexpr EpochMs kNever = std::numeric_limits<EpochMs>::max();

using payloads::PlateColor;

// A plate line without a colour: new-energy plates have 8 characters (and are green); the others 7.
PlateColor color_of(const std::string& plate) {
    std::size_t chars = 0;
    for (unsigned char c : plate)
        chars += (c & 0xC0) != 0x80 ? 1 : 0;
    return chars == 8 ? PlateColor::Green : PlateColor::Blue;
}

// The traffic's mix of plate colours, per cent.
constexpr std::pair<PlateColor, int> kColorMix[] = {
    {PlateColor::Green, 50}, {PlateColor::YellowGreen, 10}, {PlateColor::Blue, 25},
    {PlateColor::Yellow, 5}, {PlateColor::White, 5},        {PlateColor::Black, 5},
};

PlateColor random_color(Rng& rng) {
    auto x = rng.between(0, 99);
    for (const auto& [color, pct] : kColorMix) {
        if (x < pct)
            return color;
        x -= pct;
    }
    return PlateColor::Blue;
}

constexpr std::string_view kProvinces[] = {"京", "沪", "粤", "苏", "浙", "川", "鲁", "鄂", "闽", "津"};
// Plates use the Latin letters without I and O (they read as 1 and 0).
constexpr std::string_view kLetters = "ABCDEFGHJKLMNPQRSTUVWXYZ";
constexpr std::string_view kDigits = "0123456789";

char pick(Rng& rng, std::string_view from) {
    return from[static_cast<std::size_t>(rng.between(0, static_cast<std::int64_t>(from.size()) - 1))];
}

// A Chinese plate: a province, the city letter, then 5 characters (7 in all), or for new-energy
// cars D (electric) or F (hybrid), a letter or digit and 4 digits (8 in all).
std::string random_plate(Rng& rng, PlateColor color) {
    std::string p(
        kProvinces[static_cast<std::size_t>(rng.between(0, static_cast<std::int64_t>(std::size(kProvinces)) - 1))]);
    p += pick(rng, kLetters);
    if (parking::is_nev(color)) {
        p += rng.between(0, 1) ? 'D' : 'F';
        p += rng.between(0, 3) ? pick(rng, kDigits) : pick(rng, kLetters);
        for (int i = 0; i < 4; ++i)
            p += pick(rng, kDigits);
    } else {
        for (int i = 0; i < 5; ++i)
            p += rng.between(0, 4) ? pick(rng, kDigits) : pick(rng, kLetters);
    }
    return p;
}

} // namespace

Camera::Camera(const FleetDevice& d, const Clock& clock, const Settings& settings, DeviceStore& store)
    : Device(d.id, Kind::Camera, clock, settings, store) {
    spaces_.resize(static_cast<std::size_t>(d.ports));
    for (int n = 1; n <= d.ports; ++n) {
        at(n).n = n;
        at(n).since = now();
        if (auto g = d.guns.find(n); g != d.guns.end())
            at(n).gun = g->second;
    }
    ambient_c_ = std::round(rng().uniform(20, 32) * 10) / 10;
    rssi_dbm_ = static_cast<int>(rng().between(-90, -55));
    if (settings.parking_traffic)
        set_traffic(true);
}

void Camera::publish_connect_states() {
    payloads::DeviceInfo info;
    info.kind = payloads::DeviceKind::Camera;
    info.model = "SIM-CAM";
    info.firmware = firmware();
    info.vendor = "PileHub simulator";
    info.serial = id();
    info.space_count = space_count();
    publish_status(topics::info(id()), info, true);
    publish_device_state();
    for (const auto& s : spaces_)
        publish_space_state(s);
}

void Camera::publish_device_state() {
    payloads::DeviceState st;
    st.faults = device_faults_;
    for (const auto& f : st.faults) {
        auto bits = payloads::ev_fault_bits({f});
        st.fault_bits |= bits ? *bits : payloads::ev_fault_mask(payloads::EvFault::Other);
    }
    st.temp_c = temp_override_.value_or(ambient_c_);
    st.rssi_dbm = rssi_dbm_;
    publish_status(topics::state(id()), st, true);
}

void Camera::publish_tele() {
    publish_device_state();
}

void Camera::publish_space_state(const Space& s) {
    payloads::CameraSpaceState st;
    st.occupied = s.occupied;
    if (!s.plate.empty())
        st.plate = s.plate;
    st.since = s.since;
    st.lock = s.lock;
    publish_status(topics::space_state(id(), s.n), st, true);
}

void Camera::set_lock(Space& s, LockStatus st, bool alarm) {
    if (s.lock.st == st && s.lock.alarm == alarm)
        return;
    s.lock = {st, alarm};
    publish_event("lock", payloads::CameraLockEvent{s.n, st, alarm});
    publish_space_state(s);
}

void Camera::finish_move(Space& s) {
    s.moving = false;
    payloads::LockState end;
    std::optional<ErrorCode> code;
    std::string msg;
    RS status = RS::Ok;
    if (s.move_jams) {
        end = {LockStatus::Fault, true};
        status = RS::Failed;
        code = ErrorCode::SocketFaulted;
        msg = "the lock jammed";
    } else if (s.action == LockAction::Raise && s.occupied) {
        // The arm met the car: the lock backs off down and raises its alarm.
        end = {LockStatus::Lowered, true};
        status = RS::Failed;
        code = ErrorCode::Conflict;
        msg = "a vehicle is on the space";
    } else {
        end = {s.action == LockAction::Raise ? LockStatus::Raised : LockStatus::Lowered, false};
    }
    set_lock(s, end.st, end.alarm);
    s.jam_fault = s.move_jams;
    if (s.jam_fault)
        s.repair_left_ms = kRepairMs;
    if (s.car.phase == CarPhase::Waiting && end.st == LockStatus::Lowered) {
        s.car.phase = CarPhase::Parking;
        s.car_timer_ms = kParkMs;
    }
    if (!s.rid.empty()) {
        payloads::Message<payloads::Reply<payloads::LockState>> r;
        r.env = next_env();
        r.env.rid = s.rid;
        r.data.status = status;
        r.data.code = code;
        if (!msg.empty())
            r.data.msg = msg;
        r.data.data = end;
        send_reply("lock", s.rid, payloads::encode(r));
        s.rid.clear();
    }
    log::info(log::Ctx{id(), {}}, "space {} lock {} ({})", s.n, payloads::to_string(end.st),
              status == RS::Ok ? "ok" : msg);
}

void Camera::repair(Space& s) {
    s.jam_fault = false;
    log::info(log::Ctx{id(), {}}, "space {} lock repaired", s.n);
    set_lock(s, LockStatus::Unknown, false);
}

void Camera::advance(std::int64_t dt_ms) {
    for (auto& s : spaces_) {
        if (s.moving) {
            s.move_left_ms -= dt_ms;
            if (s.move_left_ms <= 0)
                finish_move(s);
        }
        if (traffic_ && s.jam_fault) {
            s.repair_left_ms -= dt_ms;
            if (s.repair_left_ms <= 0)
                repair(s);
        }
        run_car(s, dt_ms);
    }
}

EpochMs Camera::next_wake() const {
    std::int64_t next_sim = std::numeric_limits<std::int64_t>::max();
    for (const auto& s : spaces_) {
        if (s.moving)
            next_sim = std::min(next_sim, s.move_left_ms);
        if (traffic_ && s.jam_fault)
            next_sim = std::min(next_sim, s.repair_left_ms);
        if (s.car_timer_ms)
            next_sim = std::min(next_sim, *s.car_timer_ms);
    }
    if (next_sim == std::numeric_limits<std::int64_t>::max())
        return kNever;
    return now() + wall_ms(std::max<std::int64_t>(next_sim, 1));
}

// --- traffic ---

void Camera::set_traffic(bool on) {
    if (traffic_ == on)
        return;
    traffic_ = on;
    log::info(log::Ctx{id(), {}}, "traffic {}", on ? "on" : "off");
    for (auto& s : spaces_) {
        s.repair_left_ms = kRepairMs;
        if (s.car.phase != CarPhase::None)
            continue; // a car already here finishes its visit
        s.car_timer_ms.reset();
        expect_car(s);
    }
}

void Camera::expect_car(Space& s) {
    if (traffic_ && !s.occupied)
        s.car_timer_ms = rng().exponential(settings().car_gap_s * 1000);
}

void Camera::read_plate(Space& s, const std::string& plate, PlateColor color, bool in) {
    payloads::CameraPlate p;
    p.space = s.n;
    p.plate = plate;
    p.color = color;
    p.direction = in ? payloads::PlateDirection::In : payloads::PlateDirection::Out;
    p.confidence = static_cast<int>(rng().between(88, 99));
    p.image_url = fmt::format("http://sim.invalid/{}/plate-{}-{}.jpg", id(), s.n, now());
    publish_event("plate", p);
    s.occupied = in;
    s.plate = in ? plate : std::string();
    s.since = now();
    publish_event("space", payloads::CameraSpace{s.n, in, in ? std::optional<std::string>(plate) : std::nullopt});
    publish_space_state(s);
}

void Camera::car_arrives(Space& s) {
    s.car.color = random_color(rng());
    const auto plate = random_plate(rng(), s.car.color);
    // A car waiting in front of a raised lock does not push it (no alarm): it waits, then leaves.
    read_plate(s, plate, s.car.color, true);
    if (s.lock.st == LockStatus::Lowered) {
        s.car.phase = CarPhase::Parking;
        s.car_timer_ms = kParkMs;
    } else {
        s.car.phase = CarPhase::Waiting;
        s.car_timer_ms = kGiveUpMs;
    }
    log::debug(log::Ctx{id(), {}}, "space {}: {} ({}) arrives{}", s.n, plate, payloads::to_string(s.car.color),
               s.car.phase == CarPhase::Waiting ? ", waits for the lock" : "");
}

void Camera::car_step(Space& s) {
    switch (s.car.phase) {
    case CarPhase::None:
        if (traffic_ && !s.occupied)
            car_arrives(s);
        return;
    case CarPhase::Waiting:
        log::debug(log::Ctx{id(), {}}, "space {}: {} gives up, the lock stayed up", s.n, s.plate);
        car_leaves(s);
        return;
    case CarPhase::Parking:
        s.car.phase = CarPhase::Parked;
        s.car_timer_ms = rng().exponential(settings().car_stay_s * 1000);
        if (s.gun && parking::is_nev(s.car.color)) {
            ask_gun(s, ControlOp::Plug);
            s.car.plugged = true;
        }
        log::debug(log::Ctx{id(), {}}, "space {}: {} parked{}", s.n, s.plate,
                   s.car.plugged ? ", plugged in at " + sockets::socket_code(*s.gun) : "");
        return;
    case CarPhase::Parked:
        if (s.car.plugged) {
            ask_gun(s, ControlOp::Unplug);
            s.car.plugged = false;
            s.car.phase = CarPhase::Leaving;
            s.car_timer_ms = kUnplugMs;
            return;
        }
        car_leaves(s);
        return;
    case CarPhase::Leaving:
        car_leaves(s);
        return;
    }
}

void Camera::run_car(Space& s, std::int64_t dt_ms) {
    // Several steps can fall into one advance: each starts where the previous one ended.
    while (s.car_timer_ms) {
        if (*s.car_timer_ms > dt_ms) {
            *s.car_timer_ms -= dt_ms;
            return;
        }
        dt_ms -= *s.car_timer_ms;
        s.car_timer_ms.reset();
        car_step(s);
    }
}

void Camera::car_leaves(Space& s) {
    log::debug(log::Ctx{id(), {}}, "space {}: {} leaves", s.n, s.plate);
    const auto plate = s.plate;
    read_plate(s, plate, s.car.color, false);
    if (s.lock.alarm && s.lock.st != LockStatus::Fault)
        set_lock(s, s.lock.st, false);
    s.car = Car{};
    s.car_timer_ms.reset();
    expect_car(s);
}

void Camera::ask_gun(const Space& s, ControlOp op) {
    ControlCommand c;
    c.op = op;
    c.device = s.gun->device_id;
    c.n = s.gun->n;
    ask_peer(std::move(c));
}

void Camera::forget_car(Space& s) {
    if (s.car.plugged)
        ask_gun(s, ControlOp::Unplug);
    s.car = Car{};
    s.car_timer_ms.reset();
}

void Camera::on_command(std::string_view name, const std::string& rid, std::string_view text) {
    if (name == "lock") {
        auto m = decode_command<payloads::CameraLockCmd>(name, text);
        if (!m)
            return;
        const auto& d = m->data;
        if (!valid(d.space))
            return reply(name, *m, RS::Invalid, std::nullopt, ErrorCode::UnknownSocket,
                         fmt::format("space {} does not exist (1..{})", d.space, space_count()));
        auto& s = at(d.space);
        if (s.moving && s.rid == rid) {
            // The platform's retry of the move under way. Device::handle drops duplicates of a deferred
            // rid, but a reconnect forgets them: deferred again, answered once, when the move ends.
            defer(rid);
            return;
        }
        if (s.moving)
            return reply(name, *m, RS::Busy, std::nullopt, ErrorCode::SocketBusy, std::string("the lock is moving"));
        const auto target = d.action == LockAction::Raise ? LockStatus::Raised : LockStatus::Lowered;
        if (s.lock.st == target && !s.lock.alarm)
            return reply(name, *m, RS::Ok, s.lock);
        s.moving = true;
        s.action = d.action;
        s.from = s.lock.st;
        s.move_left_ms = rng().between(kMoveMinMs, kMoveMaxMs);
        const int jam_pct = settings().lock_jam_pct;
        s.move_jams = s.jammed || (jam_pct > 0 && rng().between(0, 99) < jam_pct);
        s.jam_fault = false;
        s.rid = rid;
        defer(rid);
        set_lock(s, LockStatus::Moving, false);
        return;
    }
    if (name == "snapshot") {
        auto m = decode_command<payloads::CameraSnapshotCmd>(name, text);
        if (!m)
            return;
        if (m->data.space != 0 && !valid(m->data.space))
            return reply(name, *m, RS::Invalid, std::nullopt, ErrorCode::UnknownSocket,
                         fmt::format("space {} does not exist (0..{})", m->data.space, space_count()));
        return reply(name, *m, RS::Ok,
                     payloads::CameraSnapshotResult{
                         fmt::format("http://sim.invalid/{}/snap-{}-{}.jpg", id(), m->data.space, now())});
    }
    if (name == "reboot") {
        auto m = decode_command<payloads::CmdReboot>(name, text);
        if (!m)
            return;
        reply(name, *m, RS::Ok);
        request_action(TransportAction::Reboot);
        return;
    }
    if (name == "set_time") {
        auto m = decode_command<payloads::CmdSetTime>(name, text);
        if (m)
            reply(name, *m, RS::Ok);
        return;
    }
    reply_plain(name, rid, RS::Unsupported, ErrorCode::Unsupported, fmt::format("a camera has no command {}", name));
}

std::string Camera::on_control(const ControlCommand& c) {
    switch (c.op) {
    case ControlOp::Plate: {
        if (!valid(c.n))
            return fmt::format("space {} does not exist (1..{})", c.n, space_count());
        auto& s = at(c.n);
        const bool in = !c.clear;
        forget_car(s);
        read_plate(s, c.plate, c.plate_color.value_or(color_of(c.plate)), in);
        if (in && s.lock.st == LockStatus::Raised)
            set_lock(s, LockStatus::Raised, true); // a car pushing against a raised lock
        else if (!in && s.lock.alarm && s.lock.st != LockStatus::Fault)
            set_lock(s, s.lock.st, false);
        if (!in)
            expect_car(s);
        return {};
    }
    case ControlOp::LockJam: {
        if (!valid(c.n))
            return fmt::format("space {} does not exist (1..{})", c.n, space_count());
        auto& s = at(c.n);
        s.jammed = !c.clear;
        if (c.clear && s.lock.st == LockStatus::Fault) {
            s.jam_fault = false;
            set_lock(s, LockStatus::Unknown, false);
        }
        return {};
    }
    case ControlOp::Fault: {
        if (c.n != 0) {
            if (!valid(c.n))
                return fmt::format("space {} does not exist (1..{})", c.n, space_count());
            auto& s = at(c.n);
            s.jam_fault = false; // a fault of its own: cleared by `clear`, not repaired
            if (c.clear)
                set_lock(s, LockStatus::Unknown, false);
            else
                set_lock(s, LockStatus::Fault, true);
            return {};
        }
        const bool has = std::find(device_faults_.begin(), device_faults_.end(), c.code) != device_faults_.end();
        if (has == c.clear) {
            if (c.clear)
                std::erase(device_faults_, c.code);
            else
                device_faults_.push_back(c.code);
        }
        publish_device_state();
        return {};
    }
    case ControlOp::Temp:
        temp_override_ = c.celsius;
        publish_device_state();
        return {};
    case ControlOp::Traffic:
        set_traffic(!c.clear);
        return {};
    default:
        return "not a control for a camera";
    }
}

} // namespace pilehub::sim
