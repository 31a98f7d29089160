#include "workers/pilehub-sim/camera.hpp"

#include "common/log.hpp"

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

// New-energy plates have 8 characters (and are green); the others 7.
payloads::PlateColor color_of(const std::string& plate) {
    std::size_t chars = 0;
    for (unsigned char c : plate)
        chars += (c & 0xC0) != 0x80 ? 1 : 0;
    return chars == 8 ? payloads::PlateColor::Green : payloads::PlateColor::Blue;
}

} // namespace

Camera::Camera(const FleetDevice& d, const Clock& clock, const Settings& settings, DeviceStore& store)
    : Device(d.id, Kind::Camera, clock, settings, store) {
    spaces_.resize(static_cast<std::size_t>(d.ports));
    for (int n = 1; n <= d.ports; ++n) {
        at(n).n = n;
        at(n).since = now();
    }
    ambient_c_ = std::round(rng().uniform(20, 32) * 10) / 10;
    rssi_dbm_ = static_cast<int>(rng().between(-90, -55));
}

void Camera::publish_connect_states() {
    payloads::DeviceInfo info;
    info.kind = payloads::DeviceKind::Camera;
    info.model = "SIM-CAM";
    info.firmware = settings().firmware;
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
    if (s.jammed) {
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

void Camera::advance(std::int64_t dt_ms) {
    for (auto& s : spaces_) {
        if (!s.moving)
            continue;
        s.move_left_ms -= dt_ms;
        if (s.move_left_ms <= 0)
            finish_move(s);
    }
}

EpochMs Camera::next_wake() const {
    EpochMs next = kNever;
    for (const auto& s : spaces_)
        if (s.moving)
            next = std::min(next, now() + wall_ms(std::max<std::int64_t>(s.move_left_ms, 1)));
    return next;
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
        if (s.moving)
            return reply(name, *m, RS::Busy, std::nullopt, ErrorCode::SocketBusy, std::string("the lock is moving"));
        const auto target = d.action == LockAction::Raise ? LockStatus::Raised : LockStatus::Lowered;
        if (s.lock.st == target && !s.lock.alarm)
            return reply(name, *m, RS::Ok, s.lock);
        s.moving = true;
        s.action = d.action;
        s.from = s.lock.st;
        s.move_left_ms = rng().between(kMoveMinMs, kMoveMaxMs);
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
        payloads::CameraPlate p;
        p.space = c.n;
        p.plate = c.plate;
        p.color = color_of(c.plate);
        p.direction = in ? payloads::PlateDirection::In : payloads::PlateDirection::Out;
        p.confidence = static_cast<int>(rng().between(88, 99));
        p.image_url = fmt::format("http://sim.invalid/{}/plate-{}-{}.jpg", id(), c.n, now());
        publish_event("plate", p);
        s.occupied = in;
        s.plate = in ? c.plate : std::string();
        s.since = now();
        publish_event("space", payloads::CameraSpace{c.n, in, in ? std::optional<std::string>(c.plate) : std::nullopt});
        publish_space_state(s);
        if (in && s.lock.st == LockStatus::Raised)
            set_lock(s, LockStatus::Raised, true); // a car pushing against a raised lock
        else if (!in && s.lock.alarm && s.lock.st != LockStatus::Fault)
            set_lock(s, s.lock.st, false);
        return {};
    }
    case ControlOp::LockJam: {
        if (!valid(c.n))
            return fmt::format("space {} does not exist (1..{})", c.n, space_count());
        auto& s = at(c.n);
        s.jammed = !c.clear;
        if (c.clear && s.lock.st == LockStatus::Fault)
            set_lock(s, LockStatus::Unknown, false);
        return {};
    }
    case ControlOp::Fault: {
        if (c.n != 0) {
            if (!valid(c.n))
                return fmt::format("space {} does not exist (1..{})", c.n, space_count());
            auto& s = at(c.n);
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
    default:
        return "not a control for a camera";
    }
}

} // namespace pilehub::sim
