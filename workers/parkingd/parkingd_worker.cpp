#include "workers/parkingd/parkingd_worker.hpp"

#include "common/error_codes.hpp"
#include "common/parking_fees.hpp"
#include "common/topics.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace pilehub::parkingd {
namespace {

using parking::SpaceId;
using payloads::LockAction;
using payloads::LockStatus;

bool healthy(const payloads::LockState& l) {
    return !l.alarm && l.st != LockStatus::Fault;
}

rpc::Reply refuse(ErrorCode code, std::string msg, std::string status = "rejected") {
    return rpc::Reply::refuse(std::string(to_string(code)), std::move(msg), std::move(status));
}

std::string color_word(payloads::PlateColor c) {
    return std::string(payloads::to_string(c));
}

} // namespace

Worker::Worker(mqtt::Client& mqtt, mqtt::Router& router, db::Database& core, const Clock& clock, Options opts)
    : mqtt_(mqtt), db_(core), store_(core), ledger_(core, clock), clock_(clock), opts_(std::move(opts)),
      purge_(core, {{retention::Kind::ProcessedMessages, "parkingd"}}, opts_.retention, opts_.purge),
      loop_(
          clock, worker::loop_options("parkingd", opts_), [this](const mqtt::Message& m) { handle(m); },
          [this] { tick(); }) {
    auto post = [this](const mqtt::Message& m) { loop_.post(m); };
    for (const auto& f : {topics::evt("+", "plate"), topics::evt("+", "space"), topics::evt("+", "lock"),
                          topics::cmd_reply("+", "lock"), topics::cmd_reply("+", "snapshot"),
                          topics::any_device::space_state(), topics::any_device::presence()})
        router.add(mqtt, f, 1, post);
    // The RPC server subscribes through a router of its own that is never attached: its requests
    // reach the loop like everything else and are answered there (rpc::Server::on_request).
    server_ = std::make_unique<rpc::Server>(mqtt, rpc_router_, std::string(svc::kParkingdService), clock_);
    router.add_local(topics::rpc_any(svc::kParkingdService), post);
    server_->handle_async(std::string(svc::Traits<svc::LockRequest>::kMethod),
                          [this](rpc::Request& r, rpc::Responder responder) { rpc_lock(r, std::move(responder)); });
    server_->handle_async(std::string(svc::Traits<svc::SnapshotRequest>::kMethod),
                          [this](rpc::Request& r, rpc::Responder responder) { rpc_snapshot(r, std::move(responder)); });
}

Worker::~Worker() {
    stop();
}

void Worker::start() {
    restore();
    loop_.start();
}

void Worker::stop() {
    loop_.stop();
}

void Worker::restore() {
    spaces_.clear();
    for (auto& c : store_.spaces())
        spaces_[c.id].cfg = c;
    for (auto& [id, t] : store_.tracks()) {
        auto it = spaces_.find(id);
        if (it == spaces_.end())
            continue;
        t.has_lock = it->second.cfg.has_lock;
        it->second.track = t;
        it->second.occupied = t.stay.has_value();
        it->second.saved_occupied = it->second.occupied;
    }
    for (auto& p : store_.pending_lock_commands()) {
        auto it = spaces_.find(p.space);
        if (it == spaces_.end())
            continue;
        it->second.cmd = p.cmd;
        it->second.cmd->sent_at = 0; // send again at the first tick
        lock_rids_[p.cmd.rid] = p.space;
    }
    next_config_refresh_ = clock_.now_ms() + opts_.config_refresh_ms;
    log::info("parkingd: {} spaces, {} open stays, {} lock commands pending", spaces_.size(),
              std::count_if(spaces_.begin(), spaces_.end(), [](const auto& s) { return s.second.track.stay; }),
              lock_rids_.size());
}

std::optional<Track> Worker::track(const SpaceId& id) const {
    const auto it = spaces_.find(id);
    return it == spaces_.end() ? std::nullopt : std::optional<Track>(it->second.track);
}

std::optional<LockCommand> Worker::pending_lock(const SpaceId& id) const {
    const auto it = spaces_.find(id);
    return it == spaces_.end() ? std::nullopt : it->second.cmd;
}

// ---- dispatch ---------------------------------------------------------------------------------

void Worker::handle(const mqtt::Message& m) {
    if (topics::matches(topics::rpc_any(svc::kParkingdService), m.topic)) {
        server_->on_request(m);
        return;
    }
    const auto t = topics::parse_device_topic(m.topic);
    if (!t)
        return;
    using K = topics::Leaf;
    if (t->leaf == K::Presence) {
        on_presence(t->device_id, m);
        return;
    }
    if (!is_camera(t->device_id)) {
        if (t->leaf != K::SpaceState && t->leaf != K::Evt)
            return; // another kind's presence, replies: not ours
        ++counters_.rejected;
        if (warnings_.allow(t->device_id, "unknown", clock_.now_ms()))
            log::warn(log::Ctx{t->device_id, {}}, "parkingd: {} from a device that is not a registered camera: dropped",
                      m.topic);
        return;
    }
    switch (t->leaf) {
    case K::Evt:
        if (t->name == "plate")
            on_plate(t->device_id, m);
        else if (t->name == "space")
            on_space_event(t->device_id, m);
        else if (t->name == "lock")
            on_lock_event(t->device_id, m);
        break;
    case K::SpaceState:
        on_space_state(t->device_id, t->n, m);
        break;
    case K::CmdReply:
        if (t->name == "lock")
            on_lock_reply(t->device_id, m);
        else if (t->name == "snapshot")
            on_snapshot_reply(t->device_id, m);
        break;
    default:
        break;
    }
}

bool Worker::is_camera(const std::string& cam) {
    const auto first = spaces_.lower_bound(SpaceId{cam, 0});
    if (first != spaces_.end() && first->first.camera == cam)
        return true;
    return find(SpaceId{cam, 1}) != nullptr;
}

Worker::Space* Worker::find(const SpaceId& id) {
    if (auto it = spaces_.find(id); it != spaces_.end())
        return &it->second;
    const auto key = id.str();
    const auto now = clock_.now_ms();
    if (auto u = unknown_.find(key); u != unknown_.end() && u->second > now)
        return nullptr;
    const auto cfg = store_.space(id);
    if (!cfg) {
        unknown_[key] = now + opts_.config_refresh_ms;
        return nullptr;
    }
    unknown_.erase(key);
    auto& s = spaces_[id];
    s.cfg = *cfg;
    s.track.has_lock = cfg->has_lock;
    return &s;
}

Worker::Space* Worker::space_or_drop(const std::string& cam, int n, std::string_view what) {
    if (Space* s = find(SpaceId{cam, n}))
        return s;
    ++counters_.rejected;
    if (warnings_.allow(cam, what, clock_.now_ms()))
        log::warn(log::Ctx{cam, {}}, "parkingd: {} for space {} that is not registered: dropped", what, n);
    return nullptr;
}

bool Worker::offline(const std::string& cam) const {
    const auto it = cameras_.find(cam);
    return it != cameras_.end() && it->second.online() == false;
}

EpochMs Worker::event_time(EpochMs device_ts) const {
    const auto received = loop_.current_posted_ms();
    if (device_ts <= 0 || device_ts > received + opts_.max_skew_ms || device_ts < received - opts_.max_skew_ms)
        return received;
    return device_ts;
}

PlateFacts Worker::facts(const Space& s, const std::optional<std::string>& plate) {
    PlateFacts f;
    if (!plate)
        return f;
    f.whitelisted = store_.whitelisted(s.cfg.station_id, *plate);
    if (const auto r = store_.reservation_on(s.cfg.id))
        f.reserved = r->plate == *plate ? Reserved::ForThisPlate : Reserved::ForAnother;
    return f;
}

// ---- camera reports ---------------------------------------------------------------------------

template <typename T>
std::optional<payloads::Message<T>> Worker::decode_camera(const std::string& cam, const mqtt::Message& m,
                                                          std::string_view what) {
    auto msg = payloads::decode<T>(m.payload);
    if (!msg) {
        ++counters_.rejected;
        log::warn(log::Ctx{cam, {}}, "parkingd: bad {} dropped: {}", what, msg.error());
        return std::nullopt;
    }
    return std::move(msg.value());
}

void Worker::camera_event(const std::string& cam, int n, const payloads::Envelope& env, std::string_view what,
                          const EventBody& body) {
    Space* s = space_or_drop(cam, n, what);
    if (!s)
        return;
    const auto at = event_time(env.ts);
    // The lock commands the event decides are stored in its own transaction: one synced commit
    // stands between a plate read and its command.
    std::vector<std::pair<LockCommand, std::string_view>> commands;
    loop_.with_retry(what, [&] {
        commands.clear();
        db::Transaction tx(db_);
        if (!store_.first_time(cam, *env.id, clock_.now_ms())) {
            ++counters_.duplicates;
            return;
        }
        for (const auto& mv : body(tx, *s, at))
            if (auto c = store_command(*s, mv.action, mv.cause, "parkingd"))
                commands.emplace_back(*c, mv.cause);
        tx.commit();
        ++counters_.events;
    });
    for (const auto& [c, cause] : commands)
        install(*s, c, cause, "parkingd");
}

void Worker::on_plate(const std::string& cam, const mqtt::Message& m) {
    const auto msg = decode_camera<payloads::CameraPlate>(cam, m, "evt/plate");
    if (!msg)
        return;
    const auto& d = msg->data;
    const auto plate = parking::normalise_plate(d.plate);
    camera_event(cam, d.space, msg->env, "evt/plate", [&](db::Transaction& tx, Space& s, EpochMs at) {
        std::optional<std::int64_t> capture;
        if (d.image_url)
            capture = store_.record_capture(Capture{s.cfg.station_id, cam, d.space, "plate", plate, color_word(d.color),
                                                    std::string(payloads::to_string(d.direction)), d.confidence,
                                                    *d.image_url, at, msg->env.id});
        if (!plate) {
            log::warn(log::Ctx{cam, {}}, "parkingd: space {}: unreadable plate \"{}\" ignored", d.space, d.plate);
            return std::vector<MoveLock>{};
        }
        const SpaceEvent e = d.direction == payloads::PlateDirection::In ? SpaceEvent(PlateIn{*plate, d.color})
                                                                         : SpaceEvent(PlateOut{*plate});
        return run(tx, s, e, at, capture);
    });
}

void Worker::on_space_event(const std::string& cam, const mqtt::Message& m) {
    const auto msg = decode_camera<payloads::CameraSpace>(cam, m, "evt/space");
    if (!msg)
        return;
    const auto& d = msg->data;
    camera_event(cam, d.space, msg->env, "evt/space", [&](db::Transaction& tx, Space& s, EpochMs at) {
        s.occupied = d.occupied;
        const SpaceEvent e =
            d.occupied ? SpaceEvent(SpaceOccupied{d.plate ? parking::normalise_plate(*d.plate) : std::nullopt})
                       : SpaceEvent(SpaceFree{});
        return run(tx, s, e, at, std::nullopt);
    });
}

void Worker::on_space_state(const std::string& cam, int n, const mqtt::Message& m) {
    const auto msg = decode_camera<payloads::CameraSpaceState>(cam, m, "space state");
    if (!msg)
        return;
    Space* s = space_or_drop(cam, n, "space state");
    if (!s)
        return;
    const auto& d = msg->data;
    // The retained state is the camera's word after a reconnect (or at our start): the lock as it
    // is, and whether a car is there. An arrival or departure we missed is taken from it.
    const auto at = d.since > 0 ? event_time(d.since) : loop_.current_posted_ms();
    std::vector<MoveLock> moves;
    loop_.with_retry("space state", [&] {
        db::Transaction tx(db_);
        s->occupied = d.occupied;
        const SpaceEvent e =
            d.occupied ? SpaceEvent(SpaceOccupied{d.plate ? parking::normalise_plate(*d.plate) : std::nullopt})
                       : SpaceEvent(SpaceFree{});
        moves = run(tx, *s, e, at, std::nullopt);
        tx.commit();
    });
    if (d.lock)
        lock_seen(*s, *d.lock, "state");
    for (const auto& mv : moves)
        command(*s, mv.action, mv.cause, "parkingd");
    if (moves.empty())
        sync(*s);
}

void Worker::on_lock_event(const std::string& cam, const mqtt::Message& m) {
    const auto msg = decode_camera<payloads::CameraLockEvent>(cam, m, "evt/lock");
    if (!msg)
        return;
    const auto& d = msg->data;
    Space* s = space_or_drop(cam, d.space, "evt/lock");
    if (!s)
        return;
    lock_seen(*s, payloads::LockState{d.st, d.alarm}, "evt/lock");
}

void Worker::on_presence(const std::string& cam, const mqtt::Message& m) {
    if (!is_camera(cam))
        return;
    const auto p = payloads::decode_presence(m.payload);
    if (!p) {
        log::warn(log::Ctx{cam, {}}, "parkingd: bad presence dropped: {}", p.error());
        return;
    }
    const auto change = cameras_[cam].apply(p.value().online, p.value().boot);
    if (change != svc::PresenceChange::CameOnline)
        return;
    // Back online: every unanswered command goes again with its rid and a fresh exp; the retained
    // space states that follow the connect synchronise the rest.
    for (auto it = spaces_.lower_bound(SpaceId{cam, 0}); it != spaces_.end() && it->first.camera == cam; ++it)
        if (it->second.cmd) {
            it->second.cmd->sent_at = 0;
            send(it->second);
        }
}

// ---- the rules' effects -------------------------------------------------------------------------

std::vector<MoveLock> Worker::run(db::Transaction& tx, Space& s, const SpaceEvent& e, EpochMs at,
                                  std::optional<std::int64_t> capture_id) {
    std::optional<std::string> plate;
    if (const auto* in = std::get_if<PlateIn>(&e))
        plate = in->plate;
    else if (const auto* occ = std::get_if<SpaceOccupied>(&e))
        plate = occ->plate;
    const auto pricing = store_.parking_pricing(s.cfg, at).first;
    auto out = apply(s.track, e, at, facts(s, plate), pricing.raise_delay_s * 1000);
    std::vector<MoveLock> moves;
    std::optional<Stay> closing = s.track.stay;
    for (const auto& eff : out.effects) {
        if (const auto* open = std::get_if<OpenStay>(&eff)) {
            std::optional<std::int64_t> reservation;
            if (open->decision.reason == Reason::Reservation)
                if (const auto r = store_.reservation_on(s.cfg.id))
                    reservation = r->id;
            const auto id = store_.open_stay(s.cfg, open->stay, reservation);
            out.track.stay->id = id;
            if (reservation)
                store_.reservation_arrived(*reservation, id, at);
            store_.record_decision(s.cfg, open->stay.plate, open->stay.color, open->decision, capture_id, id, at);
            ++counters_.stays_opened;
            log::info(log::Ctx{s.cfg.id.camera, {}}, "space {}: {} arrived ({}), stay {}", s.cfg.id.n,
                      open->stay.plate.value_or("a car without a plate read"), to_string(open->decision.reason), id);
        } else if (const auto* attach = std::get_if<AttachPlate>(&eff)) {
            store_.attach_plate(out.track.stay->id, attach->plate, attach->color, out.track.stay->whitelisted);
            store_.record_decision(s.cfg, attach->plate, attach->color, attach->decision, capture_id,
                                   out.track.stay->id, at);
        } else if (const auto* cl = std::get_if<CloseStay>(&eff)) {
            if (closing)
                close(tx, s, *closing, cl->left_at);
            closing.reset();
        } else if (const auto* ref = std::get_if<Refuse>(&eff)) {
            store_.record_decision(s.cfg, ref->plate, ref->color, ref->decision, capture_id, std::nullopt, at);
            ++counters_.refusals;
            log::info(log::Ctx{s.cfg.id.camera, {}}, "space {}: {} refused ({}), the lock stays up", s.cfg.id.n,
                      ref->plate, to_string(ref->decision.reason));
        } else if (const auto* mv = std::get_if<MoveLock>(&eff)) {
            moves.push_back(*mv);
        }
    }
    // A camera repeats itself (retained states at every reconnect): an unchanged space writes nothing.
    const bool changed = !(out.track == s.track) || s.occupied != s.saved_occupied;
    s.track = out.track;
    if (changed) {
        store_.save_track(s.cfg.id, s.track, s.occupied, clock_.now_ms());
        s.saved_occupied = s.occupied;
        s.dirty = false;
    }
    return moves;
}

void Worker::close(db::Transaction& tx, Space& s, const Stay& stay, EpochMs left_at) {
    const auto [pricing, tariff_id] = store_.parking_pricing(s.cfg, stay.arrived_at);
    const auto charging = s.cfg.ev_gun ? store_.charging_s(*s.cfg.ev_gun, stay.arrived_at, left_at) : 0;
    const auto fee = parking::stay_fee(pricing, stay.arrived_at, left_at, charging, stay.whitelisted);
    store_.close_stay(stay.id, left_at, fee, tariff_id);
    // Inside the caller's transaction: the fee is debited with the departure or not at all.
    const auto settled = parking::settle_stay(tx, db_, ledger_, stay.id, stay.plate, fee.fee_fen, clock_.now_ms());
    store_.reservation_completed(stay.id, left_at);
    ++counters_.stays_closed;
    log::info(log::Ctx{s.cfg.id.camera, {}},
              "space {}: stay {} ({}) left after {} s, {} s charging, {} s billable, fee {} fen: {}", s.cfg.id.n,
              stay.id, stay.plate.value_or("no plate"), fee.duration_s, fee.charging_s, fee.billable_s,
              fee.fee_fen.value(), to_string(settled.state));
}

// ---- locks ------------------------------------------------------------------------------------

void Worker::lock_seen(Space& s, const payloads::LockState& l, std::string_view source) {
    const bool changed = !(s.track.lock == l);
    s.track.lock = l;
    if (!s.track.has_lock)
        return;
    bool fault_opened = false;
    bool fault_closed = false;
    // A car admitted at a raised lock pushes against it until the lock is down: its alarm then is
    // what the arrival looks like, not a fault.
    const bool admitted_car = l.st == LockStatus::Raised && l.alarm && s.cmd && s.cmd->action == LockAction::Lower;
    loop_.with_retry("lock state", [&] {
        db::Transaction tx(db_);
        if (!healthy(l) && !admitted_car)
            fault_opened = store_.open_fault(s.cfg.id, "alarm",
                                             fmt::format("{} reports the lock {}{}", source, payloads::to_string(l.st),
                                                         l.alarm ? " with its alarm" : ""),
                                             clock_.now_ms());
        else if (l.st == LockStatus::Raised || l.st == LockStatus::Lowered)
            fault_closed = store_.close_fault(s.cfg.id, clock_.now_ms());
        tx.commit();
    });
    // The lock's position is written with the next tick's batch (space_states is what operators see;
    // a position lost in a crash is the camera's next retained state): thousands of cameras reporting
    // at once cost a few synced commits, not one each.
    if (changed)
        s.dirty = true;
    if (fault_opened)
        alert(s, true, fmt::format("lock {}{}", payloads::to_string(l.st), l.alarm ? ", alarm" : ""));
    if (fault_closed)
        alert(s, false, fmt::format("lock {} again", payloads::to_string(l.st)));
    // CONTRACT A.6: the lock where it was sent answers the command too.
    if (s.cmd && reached(l, s.cmd->action))
        finish(s, true, &l, {}, {});
}

std::optional<LockCommand> Worker::store_command(Space& s, LockAction a, std::string_view cause, std::string_view by) {
    if (!s.track.has_lock)
        return std::nullopt;
    if (s.cmd && s.cmd->action == a && by == "parkingd")
        return std::nullopt; // already on its way
    LockCommand c;
    c.rid = fmt::format("lk{}-{}", clock_.now_ms(), ++rid_counter_);
    c.action = a;
    store_.new_lock_command(s.cfg.id, c, cause, by, clock_.now_ms());
    return c;
}

void Worker::install(Space& s, const LockCommand& c, std::string_view cause, std::string_view by) {
    if (s.cmd)
        lock_rids_.erase(s.cmd->rid);
    if (s.waiter && by == "parkingd") {
        s.waiter->responder.reply(refuse(ErrorCode::Conflict, "superseded by an arrival or departure", "failed"));
        s.waiter.reset();
    }
    s.cmd = c;
    lock_rids_[c.rid] = s.cfg.id;
    log::info(log::Ctx{s.cfg.id.camera, {}}, "space {}: {} the lock ({}, {}), rid {}", s.cfg.id.n,
              c.action == LockAction::Lower ? "lower" : "raise", cause, by, c.rid);
    send(s);
}

void Worker::command(Space& s, LockAction a, std::string_view cause, std::string_view by) {
    std::optional<LockCommand> c;
    loop_.with_retry("lock command", [&] {
        db::Transaction tx(db_);
        c = store_command(s, a, cause, by);
        tx.commit();
    });
    if (c)
        install(s, *c, cause, by);
}

void Worker::send(Space& s) {
    if (!s.cmd)
        return;
    const auto now = clock_.now_ms();
    if (!due(*s.cmd, !offline(s.cfg.id.camera), now, opts_.lock_retry_ms))
        return;
    if (s.cmd->attempts >= opts_.lock_max_attempts) {
        const auto msg = fmt::format("no answer to {} sends", s.cmd->attempts);
        finish(s, false, nullptr, std::string(to_string(ErrorCode::Timeout)), msg);
        return;
    }
    auto env = next_env();
    env.rid = s.cmd->rid;
    env.exp = now + opts_.lock_exp_ms;
    mqtt_.publish({topics::cmd(s.cfg.id.camera, "lock"),
                   payloads::encode(payloads::Message<payloads::CameraLockCmd>{env, {s.cfg.id.n, s.cmd->action}}), 1,
                   false});
    ++s.cmd->attempts;
    s.cmd->sent_at = now;
    ++counters_.lock_commands;
    s.sent_dirty = true; // attempts and sent_at go with the next tick's batch: a crash only re-sends
}

void Worker::finish(Space& s, bool ok, const payloads::LockState* state, const std::string& code,
                    const std::string& msg) {
    if (!s.cmd)
        return;
    const auto rid = s.cmd->rid;
    bool fault_opened = false;
    loop_.with_retry("lock done", [&] {
        db::Transaction tx(db_);
        store_.lock_done(rid, ok, state ? std::optional<LockStatus>(state->st) : std::nullopt, code, msg,
                         clock_.now_ms());
        if (!ok)
            fault_opened = store_.open_fault(s.cfg.id, "command_failed", msg.empty() ? code : msg, clock_.now_ms());
        tx.commit();
    });
    lock_rids_.erase(rid);
    s.cmd.reset();
    if (state)
        s.track.lock = *state;
    if (!ok) {
        ++counters_.lock_failures;
        log::warn(log::Ctx{s.cfg.id.camera, {}}, "space {}: lock command {} failed: {} {}", s.cfg.id.n, rid, code, msg);
        if (fault_opened)
            alert(s, true, msg.empty() ? code : msg);
    }
    if (s.waiter) {
        if (ok)
            s.waiter->responder.reply(
                rpc::Reply::success(svc::encode(svc::LockReply{s.cfg.id.str(), state ? *state : s.track.lock})));
        else
            s.waiter->responder.reply(rpc::Reply::refuse(
                code.empty() ? std::string(to_string(ErrorCode::DeviceFailed)) : code, msg, "failed"));
        s.waiter.reset();
    }
}

void Worker::sync(Space& s) {
    if (!s.track.has_lock || s.cmd || offline(s.cfg.id.camera))
        return;
    const auto want = wanted_lock(s.track, clock_.now_ms());
    const auto st = s.track.lock.st;
    if (!want || st == LockStatus::Moving || st == LockStatus::Fault || s.track.lock.alarm)
        return;
    if (!reached(s.track.lock, *want))
        command(s, *want, "sync", "parkingd");
}

void Worker::alert(const Space& s, bool open, const std::string& msg) {
    svc::Alert a{
        "lock_fault", s.cfg.id.camera, s.cfg.id.str(), open, msg.substr(0, 512), clock_.now_ms(), 0, s.cfg.id.n, ""};
    mqtt_.publish({topics::alert(a.kind), svc::encode(a), 1, false});
    ++counters_.alerts;
    log::warn(log::Ctx{s.cfg.id.camera, {}}, "alert lock_fault {} for space {}: {}", open ? "open" : "resolved",
              s.cfg.id.n, msg);
}

void Worker::on_lock_reply(const std::string& cam, const mqtt::Message& m) {
    const auto msg = decode_camera<payloads::Reply<payloads::LockState>>(cam, m, "cmd-reply/lock");
    if (!msg)
        return;
    const auto& rid = *msg->env.rid;
    const auto it = lock_rids_.find(rid);
    if (it == lock_rids_.end() || it->second.camera != cam) {
        log::debug(log::Ctx{cam, {}},
                   "parkingd: cmd-reply/lock for rid {} that no command waits for (superseded or "
                   "answered before): ignored",
                   rid);
        return; // a superseded or finished command's late answer
    }
    auto& s = spaces_.at(it->second);
    const auto& r = msg->data;
    const auto code = r.code ? std::string(to_string(*r.code)) : std::string();
    switch (lock_result(r.status)) {
    case LockResult::Ok:
        finish(s, true, r.data ? &*r.data : nullptr, {}, {});
        if (r.data)
            lock_seen(s, *r.data, "reply");
        break;
    case LockResult::Failed:
        finish(s, false, r.data ? &*r.data : nullptr,
               code.empty() ? std::string(to_string(ErrorCode::DeviceFailed)) : code, r.msg.value_or(""));
        break;
    case LockResult::Resend:
        // expired: again at once with a fresh exp; busy (the lock still moving for an earlier
        // command): again once a move is likely over, not a whole retry period later.
        s.cmd->sent_at =
            r.status == payloads::ReplyStatus::Expired
                ? 0
                : clock_.now_ms() - opts_.lock_retry_ms + std::min(opts_.busy_retry_ms, opts_.lock_retry_ms);
        send(s);
        break;
    case LockResult::Pending:
        break;
    }
}

void Worker::on_snapshot_reply(const std::string& cam, const mqtt::Message& m) {
    const auto msg = decode_camera<payloads::Reply<payloads::CameraSnapshotResult>>(cam, m, "cmd-reply/snapshot");
    if (!msg)
        return;
    const auto it = snapshots_.find(*msg->env.rid);
    if (it == snapshots_.end() || it->second.space.camera != cam)
        return;
    auto snap = std::move(it->second);
    snapshots_.erase(it);
    const auto& r = msg->data;
    if (r.status != payloads::ReplyStatus::Ok || !r.data) {
        snap.waiter.responder.reply(rpc::Reply::refuse(std::string(to_string(r.code.value_or(ErrorCode::DeviceFailed))),
                                                       r.msg.value_or("the camera took no picture"), "failed"));
        return;
    }
    std::int64_t id = 0;
    loop_.with_retry("snapshot", [&] {
        db::Transaction tx(db_);
        id = store_.record_capture(Capture{snap.station_id, cam, snap.space.n, "snapshot", std::nullopt, std::nullopt,
                                           std::nullopt, std::nullopt, r.data->image_url, clock_.now_ms(),
                                           std::nullopt});
        tx.commit();
    });
    snap.waiter.responder.reply(rpc::Reply::success(svc::encode(svc::SnapshotReply{id, r.data->image_url})));
}

// ---- RPC ----------------------------------------------------------------------------------------

void Worker::rpc_lock(rpc::Request& r, rpc::Responder responder) {
    const auto req = svc::decode<svc::LockRequest>(*r.data_value);
    if (!req) {
        responder.reply(refuse(ErrorCode::InvalidRequest, req.error(), "invalid"));
        return;
    }
    const auto id = parking::parse_space_id(req.value().space);
    Space* s = id ? find(*id) : nullptr;
    if (!s || !s->track.has_lock) {
        responder.reply(
            refuse(ErrorCode::UnknownSpace, fmt::format("{} is not a space with a ground lock", req.value().space)));
        return;
    }
    if (offline(s->cfg.id.camera)) {
        responder.reply(refuse(ErrorCode::DeviceOffline, fmt::format("camera {} is offline", s->cfg.id.camera)));
        return;
    }
    if (s->waiter)
        s->waiter->responder.reply(refuse(ErrorCode::Conflict, "superseded by a newer lock request", "failed"));
    command(*s, req.value().action, "operator", req.value().operator_name);
    s->waiter = Waiter{std::move(responder), clock_.now_ms() + opts_.rpc_wait_ms};
}

void Worker::rpc_snapshot(rpc::Request& r, rpc::Responder responder) {
    const auto req = svc::decode<svc::SnapshotRequest>(*r.data_value);
    if (!req) {
        responder.reply(refuse(ErrorCode::InvalidRequest, req.error(), "invalid"));
        return;
    }
    const auto id = parking::parse_space_id(req.value().space);
    Space* s = id ? find(*id) : nullptr;
    if (!s) {
        responder.reply(
            refuse(ErrorCode::UnknownSpace, fmt::format("{} is not a registered space", req.value().space)));
        return;
    }
    if (offline(s->cfg.id.camera)) {
        responder.reply(refuse(ErrorCode::DeviceOffline, fmt::format("camera {} is offline", s->cfg.id.camera)));
        return;
    }
    const auto now = clock_.now_ms();
    auto env = next_env();
    env.rid = fmt::format("sn{}-{}", now, ++rid_counter_);
    env.exp = now + opts_.rpc_wait_ms;
    mqtt_.publish({topics::cmd(s->cfg.id.camera, "snapshot"),
                   payloads::encode(payloads::Message<payloads::CameraSnapshotCmd>{env, {s->cfg.id.n}}), 1, false});
    snapshots_.emplace(*env.rid, Snapshot{s->cfg.id, s->cfg.station_id, Waiter{std::move(responder), *env.exp}});
}

// ---- the tick -----------------------------------------------------------------------------------

void Worker::tick() {
    const auto now = clock_.now_ms();
    try {
        purge_.tick(now);
    } catch (const std::exception& ex) { // the next tick tries again
        log::error("retention purge: {}", ex.what());
    }
    if (now >= next_config_refresh_) {
        next_config_refresh_ = now + opts_.config_refresh_ms;
        for (auto& c : store_.spaces()) {
            auto& s = spaces_[c.id];
            s.cfg = c;
            s.track.has_lock = c.has_lock;
        }
    }
    if (now >= next_reservation_check_) {
        next_reservation_check_ = now + opts_.reservation_check_ms;
        std::vector<TimedOut> gone;
        loop_.with_retry("reservation holds", [&] {
            db::Transaction tx(db_);
            gone = store_.time_out_reservations(now);
            tx.commit();
        });
        for (const auto& g : gone)
            log::info(log::Ctx{g.space.camera, {}}, "reservation {} of space {} timed out", g.id, g.space.n);
    }
    flush_dirty(now);
    for (auto& [id, s] : spaces_) {
        if (s.track.raise_due_at && *s.track.raise_due_at <= now) {
            auto out = parkingd::tick(s.track, now);
            s.track = out.track;
            loop_.with_retry("raise due", [&] {
                db::Transaction tx(db_);
                store_.save_track(id, s.track, s.occupied, now);
                tx.commit();
            });
            for (const auto& eff : out.effects)
                if (const auto* mv = std::get_if<MoveLock>(&eff))
                    command(s, mv->action, mv->cause, "parkingd");
        }
        if (s.cmd)
            send(s);
        if (s.waiter && s.waiter->until <= now) {
            s.waiter->responder.reply(refuse(ErrorCode::Timeout, "the camera did not answer in time", "failed"));
            s.waiter.reset();
        }
    }
    for (auto it = snapshots_.begin(); it != snapshots_.end();) {
        if (it->second.waiter.until <= now) {
            it->second.waiter.responder.reply(
                refuse(ErrorCode::Timeout, "the camera did not answer in time", "failed"));
            it = snapshots_.erase(it);
        } else {
            ++it;
        }
    }
}

void Worker::flush_dirty(EpochMs now) {
    if (std::none_of(spaces_.begin(), spaces_.end(),
                     [](const auto& x) { return x.second.dirty || x.second.sent_dirty; }))
        return;
    loop_.with_retry("space states", [&] {
        db::Transaction tx(db_);
        for (auto& [id, s] : spaces_) {
            if (s.dirty)
                store_.save_track(id, s.track, s.occupied, now);
            if (s.sent_dirty && s.cmd)
                store_.lock_sent(s.cmd->rid, s.cmd->attempts, s.cmd->sent_at);
        }
        tx.commit();
    });
    for (auto& [id, s] : spaces_) {
        if (s.dirty)
            s.saved_occupied = s.occupied;
        s.dirty = false;
        s.sent_dirty = false;
    }
}

payloads::Envelope Worker::next_env() {
    return payloads::make_envelope(clock_.now_ms(), 0, ++seq_);
}

} // namespace pilehub::parkingd
