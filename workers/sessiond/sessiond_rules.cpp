#include "workers/sessiond/sessiond_rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace pilehub::sessiond {

std::string_view to_string(Event e) {
    switch (e) {
    case Event::StartAccepted:
        return "start_accepted";
    case Event::StartRefused:
        return "start_refused";
    case Event::StartTimedOut:
        return "start_timed_out";
    case Event::PileStarted:
        return "pile_started";
    case Event::SocketIdle:
        return "socket_idle";
    case Event::StopRequested:
        return "stop_requested";
    case Event::StopAccepted:
        return "stop_accepted";
    case Event::StopRefused:
        return "stop_refused";
    case Event::StopTimedOut:
        return "stop_timed_out";
    case Event::PileStopped:
        return "pile_stopped";
    case Event::RecordReceived:
        return "record_received";
    case Event::PileOffline:
        return "pile_offline";
    case Event::PileOnline:
        return "pile_online";
    case Event::ForceEnd:
        return "force_end";
    case Event::SuspendTimedOut:
        return "suspend_timed_out";
    case Event::RecordOverdue:
        return "record_overdue";
    }
    return "unknown";
}

namespace {

Decision ignore(State s) {
    return Decision{Verdict::Ignore, s};
}
Decision move_to(State to) {
    return Decision{Verdict::Apply, to};
}
Decision refuse(State s) {
    return Decision{Verdict::Refuse, s};
}

/// A session record arriving: committed once (moving the state where §3 says), acknowledged always.
Decision record(State s, const Facts& f) {
    Decision d = ignore(s);
    d.ack_record = true;
    if (f.has_record)
        return d;
    switch (s) {
    case State::Starting:
    case State::Charging:
    case State::Stopping:
        d.verdict = Verdict::Apply;
        d.next = State::Stopping;
        d.commit_record = true;
        d.clear_command = true; // a start is moot, and a stop too: the record says the pile ended it
        return d;
    case State::Suspended:
        d.verdict = Verdict::Apply;
        d.next = State::Settling;
        d.commit_record = true;
        d.clear_command = true;
        return d;
    case State::Settling:
    case State::Completed:
    case State::Failed: // nothing is charged for a failed start, whatever the pile did
        return d;
    }
    return d;
}

Decision stop_requested(State s, const Facts& f) {
    switch (s) {
    case State::Starting:
    case State::Charging: {
        Decision d = move_to(State::Stopping);
        d.send_stop = true;
        return d;
    }
    case State::Suspended: {
        // §3 has no way out of suspended but the record; the stop still goes to the pile, which
        // gets it if it returns before the command expires, and ends the session with a record.
        Decision d = ignore(s);
        d.send_stop = !f.stop_sent;
        return d;
    }
    case State::Stopping:
    case State::Settling:
    case State::Completed:
    case State::Failed:
        return ignore(s);
    }
    return ignore(s);
}

/// The pile shows the socket no longer running this session.
Decision socket_idle(State s, const Facts& f) {
    switch (s) {
    case State::Charging: {
        Decision d = move_to(State::Stopping);
        d.await_record = true;
        return d;
    }
    case State::Stopping:
    case State::Suspended: {
        Decision d = ignore(s);
        if (s == State::Stopping && !f.pile_confirmed)
            return d; // stopped while starting: an idle socket may only mean the start has not run yet
        d.clear_command = f.stop_outstanding; // the idle socket confirms the stop
        d.await_record = !f.has_record;
        return d;
    }
    case State::Starting: // the pile has not started yet
    case State::Settling:
    case State::Completed:
    case State::Failed:
        return ignore(s);
    }
    return ignore(s);
}

/// The stop is not confirmed a resend period after it was (re)sent.
Decision stop_timed_out(State s, const Facts& f) {
    if (s == State::Stopping && !f.pile_confirmed && !f.has_record) {
        // Stopped while starting, and the pile never confirmed anything: the start failed.
        Decision d = move_to(State::Failed);
        d.clear_command = true;
        return d;
    }
    Decision d = ignore(s);
    if ((s == State::Stopping || s == State::Suspended) && !f.has_record && f.stop_outstanding)
        d.resend_stop = true; // until the pile confirms it or a record settles the session
    else
        d.clear_command = s == State::Stopping || s == State::Suspended || s == State::Settling;
    return d;
}

/// The platform gives up waiting for the pile's record (SuspendTimedOut, RecordOverdue).
Decision give_up(State s, Event e, const Facts& f) {
    if (f.has_record)
        return ignore(s);
    if (s == State::Suspended || (s == State::Stopping && e == Event::RecordOverdue && f.pile_confirmed)) {
        Decision d = move_to(s == State::Suspended ? State::Settling : State::Stopping);
        d.forced_record = true;
        d.clear_command = true;
        return d;
    }
    return ignore(s);
}

Decision force_end(State s, const Facts& f) {
    switch (s) {
    case State::Starting: {
        // Nothing was confirmed, so nothing is charged; the stop catches a start still in flight.
        Decision d = move_to(State::Failed);
        d.send_stop = !f.stop_sent;
        d.clear_command = true;
        return d;
    }
    case State::Charging: {
        // The pile is reachable: end it the normal way, so the real record settles it.
        Decision d = move_to(State::Stopping);
        d.send_stop = true;
        return d;
    }
    case State::Stopping:
    case State::Suspended: {
        if (f.has_record)
            return ignore(s);
        Decision d = move_to(s == State::Suspended ? State::Settling : State::Stopping);
        d.forced_record = true;
        d.clear_command = true;
        return d;
    }
    case State::Settling:
        return ignore(s); // its record is committed; billingd settles it
    case State::Completed:
    case State::Failed:
        return refuse(s);
    }
    return refuse(s);
}

} // namespace

Decision handle(State s, Event e, const Facts& f) {
    switch (e) {
    case Event::StartAccepted:
    case Event::PileStarted:
        if (s == State::Starting) {
            Decision d = move_to(State::Charging);
            d.clear_command = true;
            return d;
        }
        if (s == State::Stopping && !f.pile_confirmed && !f.has_record) {
            // Stopped while starting, and now the pile confirms the start: remember it ran, so that
            // a refused or unanswered stop cannot fail a session whose record is on its way.
            return move_to(State::Stopping);
        }
        if (s == State::Failed && !f.stop_sent) {
            // The pile runs (or accepted) a session we gave up on: stop it, still charging nothing.
            Decision d = ignore(s);
            d.send_stop = true;
            return d;
        }
        return ignore(s);

    case Event::StartRefused:
        if (s == State::Starting) {
            Decision d = move_to(State::Failed);
            d.clear_command = true;
            return d;
        }
        if (s == State::Stopping && !f.pile_confirmed && !f.has_record) {
            // Stopped while starting, and the start was refused: it never ran.
            Decision d = move_to(State::Failed);
            d.clear_command = true;
            return d;
        }
        return ignore(s);

    case Event::StartTimedOut:
        if (s == State::Starting) {
            Decision d = move_to(State::Failed);
            d.clear_command = true;
            return d;
        }
        return ignore(s);

    case Event::SocketIdle:
        return socket_idle(s, f);

    case Event::PileStopped:
        if (s == State::Starting || s == State::Charging) {
            Decision d = move_to(State::Stopping);
            d.clear_command = s == State::Starting;
            return d;
        }
        if ((s == State::Stopping && f.pile_confirmed) || s == State::Suspended) {
            Decision d = ignore(s);
            d.clear_command = f.stop_outstanding; // the pile reports it stopped this session
            return d;
        }
        return ignore(s);

    case Event::StopRequested:
        return stop_requested(s, f);

    case Event::StopAccepted: {
        Decision d = ignore(s);
        d.clear_command = s == State::Stopping || s == State::Suspended || s == State::Settling;
        return d;
    }

    case Event::StopRefused:
        if (s == State::Stopping && !f.pile_confirmed && !f.has_record) {
            // Stopped while starting, and the pile never confirmed anything: the start failed.
            Decision d = move_to(State::Failed);
            d.clear_command = true;
            return d;
        }
        {
            // A refusal is the pile's final word on this rid (it answers a resend the same way).
            Decision d = ignore(s);
            d.clear_command = s == State::Stopping || s == State::Suspended || s == State::Settling;
            return d;
        }

    case Event::StopTimedOut:
        return stop_timed_out(s, f);

    case Event::RecordReceived:
        return record(s, f);

    case Event::PileOffline:
        if (s == State::Charging)
            return move_to(State::Suspended);
        return ignore(s);

    case Event::PileOnline: {
        // §3: a suspended session waits for the pile's record (it is resent after reconnect); a stop
        // still outstanding goes to the pile at once.
        Decision d = ignore(s);
        d.resend_stop = (s == State::Stopping || s == State::Suspended) && f.stop_outstanding && !f.has_record;
        return d;
    }

    case Event::ForceEnd:
        return force_end(s, f);

    case Event::SuspendTimedOut:
    case Event::RecordOverdue:
        return give_up(s, e, f);
    }
    return ignore(s);
}

std::string synthesized_reason(State s, Event e, const std::optional<std::string>& stop_requested) {
    if (e == Event::ForceEnd)
        return "forced";
    if (s == State::Suspended || e == Event::SuspendTimedOut)
        return "power_loss";
    if (stop_requested)
        return ended_reason("remote_stop", stop_requested);
    return "other";
}

// ---- pre-checks ---------------------------------------------------------------------------

std::optional<ErrorCode> precheck(const StartFacts& f) {
    using A = sockets::Availability;
    if (!f.socket_exists)
        return ErrorCode::UnknownSocket;
    if (!f.device_installed)
        return ErrorCode::DeviceNotInstalled;
    if (f.socket == A::Disabled)
        return ErrorCode::UnknownSocket;
    if (f.commissioning) {
        if (f.socket == A::Offline)
            return ErrorCode::DeviceOffline;
        if (f.socket == A::Faulted)
            return ErrorCode::SocketFaulted;
        if (f.socket == A::Busy)
            return ErrorCode::SocketBusy;
        return std::nullopt;
    }
    if (!f.account_exists)
        return ErrorCode::NotFound;
    if (f.account_frozen)
        return ErrorCode::AccountFrozen;
    if (f.arrears_fen > Fen(0))
        return ErrorCode::Arrears;
    if (!f.mode_offered)
        return ErrorCode::InvalidMode;
    if (f.socket == A::Offline)
        return ErrorCode::DeviceOffline;
    if (f.socket == A::Faulted)
        return ErrorCode::SocketFaulted;
    if (f.socket == A::Busy)
        return ErrorCode::SocketBusy;
    if (f.method_in_use)
        return ErrorCode::SessionLimit;
    if (f.available_fen < f.min_start_balance_fen)
        return ErrorCode::BalanceTooLow;
    return std::nullopt;
}

ErrorCode device_reason(ErrorCode code) {
    if (code == ErrorCode::Arrears)
        return ErrorCode::BalanceTooLow;
    return code == ErrorCode::DeviceNotInstalled ? ErrorCode::UnknownSocket : code;
}

std::optional<payloads::ChargeLimit> limit_for(const billing::Tariff& tariff, const ModeChoice& choice) {
    if (!billing::offers(tariff, choice.mode))
        return std::nullopt;
    switch (choice.mode) {
    case billing::Mode::Time: {
        if (!choice.minutes || !tariff.time)
            return std::nullopt;
        const auto& opts = tariff.time->options_minutes;
        if (std::find(opts.begin(), opts.end(), *choice.minutes) == opts.end())
            return std::nullopt;
        return payloads::ChargeLimit::time(*choice.minutes);
    }
    case billing::Mode::Power:
    case billing::Mode::Energy:
        return payloads::ChargeLimit::full();
    }
    return std::nullopt;
}

std::optional<payloads::ChargeLimit> session_limit(std::string_view mode, std::optional<std::int64_t> minutes) {
    const auto m = billing::parse_mode(mode);
    if (!m)
        return std::nullopt;
    if (*m == billing::Mode::Time) {
        if (!minutes)
            return std::nullopt;
        return payloads::ChargeLimit::time(*minutes);
    }
    return payloads::ChargeLimit::full();
}

std::optional<ModeChoice> card_mode(const billing::Tariff& tariff, billing::Mode preferred) {
    auto choose = [&](billing::Mode m) -> std::optional<ModeChoice> {
        ModeChoice c{m, std::nullopt};
        if (m == billing::Mode::Time) {
            if (!tariff.time || tariff.time->options_minutes.empty())
                return std::nullopt;
            c.minutes = tariff.time->options_minutes.back();
        }
        if (!limit_for(tariff, c))
            return std::nullopt;
        return c;
    };
    if (auto c = choose(preferred))
        return c;
    for (auto m : tariff.modes)
        if (auto c = choose(m))
            return c;
    return std::nullopt;
}

std::string ended_reason(std::string_view record_reason, const std::optional<std::string>& stop_requested) {
    // The pile only knows it was told to stop; the platform knows why (every svc::StopCause but user_stop).
    if (record_reason == "remote_stop" && stop_requested)
        if (const auto cause = svc::parse_stop_cause(*stop_requested); cause && svc::is_auto_stop(*cause))
            return *stop_requested;
    return std::string(record_reason);
}

std::optional<Event> conn_event(const payloads::EbikeConnState& s, std::string_view sid) {
    using St = payloads::EbikeSocketStatus;
    const bool ours = s.sid && *s.sid == sid;
    switch (s.st) {
    case St::Charging:
    case St::FullWait:
        return ours ? Event::PileStarted : Event::SocketIdle;
    case St::Starting:
        return ours ? std::nullopt : std::optional<Event>(Event::SocketIdle);
    case St::Idle:
    case St::Fault:
    case St::Disabled:
        return Event::SocketIdle;
    }
    return std::nullopt;
}

std::optional<Event> conn_event(const payloads::EvConnState& s, std::string_view sid) {
    using St = payloads::EvGunStatus;
    const bool ours = s.sid && *s.sid == sid;
    switch (s.st) {
    case St::Charging:
    case St::SuspendedEv:
    case St::SuspendedEvse:
        if (ours)
            return Event::PileStarted;
        return s.sid ? std::optional<Event>(Event::SocketIdle) : std::nullopt;
    case St::Preparing:
        return s.sid && !ours ? std::optional<Event>(Event::SocketIdle) : std::nullopt;
    case St::Available:
    case St::Finishing:
    case St::Reserved:
    case St::Unavailable:
    case St::Faulted:
        return Event::SocketIdle;
    }
    return std::nullopt;
}

std::optional<Event> conn_event(const ConnState& s, std::string_view sid) {
    return std::visit([sid](const auto& x) { return conn_event(x, sid); }, s);
}

sockets::Reported reported(const ConnState& s) {
    if (const auto* ev = std::get_if<payloads::EvConnState>(&s))
        return sockets::reported(ev->st);
    return sockets::reported(std::get<payloads::EbikeConnState>(s));
}

std::string platform_stop_reason(payloads::EvStopReason r) {
    using R = payloads::EvStopReason;
    switch (r) {
    case R::EvDisconnected:
        return "unplugged";
    case R::Remote:
    case R::UnlockCommand:
    case R::DeAuthorized: // CONTRACT D.2: the platform withdrew the authorisation
        return "remote_stop";
    case R::Local:
        return "user_stop";
    case R::EmergencyStop:
        return "fault";
    case R::PowerLoss:
        return "power_loss";
    case R::QuotaReached:
        return "quota_reached";
    case R::HardReset:
    case R::SoftReset:
    case R::Reboot:
    case R::Other:
        return "other";
    }
    return "other";
}

std::string app_id_tag(std::int64_t account_id) {
    return fmt::format("APP{}", account_id);
}

bool kind_has_command(std::string_view device_kind, svc::DeviceCommandName name) {
    using N = svc::DeviceCommandName;
    if (name == N::SetTime)
        return device_kind == "ebike_pile" || device_kind == "ev_charger" || device_kind == "camera";
    if (device_kind == "camera") // its lock and snapshot are parkingd's (CONTRACT E)
        return name == N::Reboot;
    if (device_kind == "ebike_pile")
        return name == N::QueryPort || name == N::QueryDevice || name == N::Reboot;
    if (device_kind == "ev_charger")
        return name == N::Reset || name == N::Unlock || name == N::SetAvailability || name == N::SetTariff;
    return false;
}

// ---- device records -----------------------------------------------------------------------

RecordCheck check_record(std::int64_t duration_s, std::int64_t energy_wh, const PlatformView& p,
                         const RecordSlack& slack) {
    RecordCheck r{false, duration_s, energy_wh, {}};
    const std::int64_t scale = std::max<std::int64_t>(1, slack.time_scale);
    const std::int64_t tolerance_s = std::max<std::int64_t>(0, slack.tolerance_s);
    // The longest the session can have run, and what the platform saw run (its own start when that
    // lies within the session's life, else its creation).
    const std::int64_t alive_s = std::max<EpochMs>(0, p.now - p.created_at) * scale / 1000;
    EpochMs start = p.created_at;
    if (p.started_at && *p.started_at >= p.created_at && *p.started_at <= p.now)
        start = *p.started_at;
    const std::int64_t seen_s = std::max<EpochMs>(0, p.now - start) * scale / 1000;
    if (duration_s > alive_s + tolerance_s) {
        r.clamped = true;
        r.duration_s = seen_s;
        r.why = fmt::format("duration_s {} > {} s the platform saw (+{} s)", duration_s, alive_s, tolerance_s);
    }
    // At rated power for as long as it can have run (+ the tolerance), rounded up to whole Wh.
    // (The bound of any port the codecs accept: an EV gun's 1 MW.)
    const std::int64_t rated_w = std::clamp<std::int64_t>(p.rated_power_w, 1, payloads::kMaxEvGunPowerW);
    const std::int64_t max_wh = (rated_w * (alive_s + tolerance_s) + 3599) / 3600;
    if (energy_wh > max_wh) {
        r.clamped = true;
        r.energy_wh = std::clamp<std::int64_t>(p.reported_energy_wh, 0, max_wh);
        r.why +=
            fmt::format("{}energy_wh {} > {} Wh at {} W rated", r.why.empty() ? "" : "; ", energy_wh, max_wh, rated_w);
    }
    return r;
}

// ---- commands -----------------------------------------------------------------------------

std::string command_rid(std::string_view sid, CommandKind kind) {
    std::string r(sid);
    r += kind == CommandKind::Start ? ".start" : ".stop";
    return r;
}

std::optional<std::pair<std::string, CommandKind>> parse_command_rid(std::string_view rid) {
    const auto dot = rid.rfind('.');
    if (dot == std::string_view::npos || dot == 0)
        return std::nullopt;
    const auto tail = rid.substr(dot + 1);
    std::string sid(rid.substr(0, dot));
    if (tail == "start")
        return std::make_pair(std::move(sid), CommandKind::Start);
    if (tail == "stop")
        return std::make_pair(std::move(sid), CommandKind::Stop);
    return std::nullopt;
}

void Deadlines::arm(const std::string& sid, EpochMs at) {
    disarm(sid);
    by_sid_[sid] = at;
    by_time_.emplace(at, sid);
}

void Deadlines::disarm(const std::string& sid) {
    auto it = by_sid_.find(sid);
    if (it == by_sid_.end())
        return;
    auto [b, e] = by_time_.equal_range(it->second);
    for (auto t = b; t != e; ++t) {
        if (t->second == sid) {
            by_time_.erase(t);
            break;
        }
    }
    by_sid_.erase(it);
}

std::vector<std::string> Deadlines::due(EpochMs now) {
    std::vector<std::string> out;
    while (!by_time_.empty() && by_time_.begin()->first <= now) {
        out.push_back(by_time_.begin()->second);
        by_sid_.erase(by_time_.begin()->second);
        by_time_.erase(by_time_.begin());
    }
    return out;
}

std::optional<EpochMs> Deadlines::next() const {
    if (by_time_.empty())
        return std::nullopt;
    return by_time_.begin()->first;
}

std::optional<EpochMs> Deadlines::deadline(const std::string& sid) const {
    auto it = by_sid_.find(sid);
    if (it == by_sid_.end())
        return std::nullopt;
    return it->second;
}
} // namespace pilehub::sessiond
