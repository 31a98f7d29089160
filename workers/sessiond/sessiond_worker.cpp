#include "workers/sessiond/sessiond_worker.hpp"

#include "common/daemon.hpp"
#include "common/failpoint.hpp"
#include "common/incidents.hpp"
#include "common/ledger.hpp"
#include "common/log.hpp"
#include "common/svc.hpp"
#include "common/topics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace pilehub::sessiond {
namespace {

using payloads::ReplyStatus;

/// Handled message ids are pruned hourly from the first tick on, in batches of 2000 rows (a few per
/// tick at most).
retention::Purger::Options purge_options() {
    retention::Purger::Options o;
    o.batch_rows = 2'000;
    o.first_delay_ms = 0;
    return o;
}

std::int64_t whole_watts(double w) {
    return static_cast<std::int64_t>(std::llround(std::max(0.0, w)));
}

rpc::Reply refuse(ErrorCode code, std::string msg) {
    return rpc_refusal(code, std::move(msg));
}

rpc::Reply invalid(std::string msg) {
    return rpc_invalid(std::move(msg));
}

std::string refusal_message(ErrorCode code, const sockets::SocketRef& ref) {
    const auto sock = sockets::socket_code(ref);
    switch (code) {
    case ErrorCode::UnknownSocket:
        return fmt::format("there is no socket {} in service", sock);
    case ErrorCode::NotFound:
        return "no such account";
    case ErrorCode::AccountFrozen:
        return "the account is frozen";
    case ErrorCode::InvalidMode:
        return fmt::format("the tariff of socket {} does not offer this mode", sock);
    case ErrorCode::DeviceOffline:
        return fmt::format("the pile of socket {} is offline", sock);
    case ErrorCode::SocketFaulted:
        return fmt::format("socket {} is out of order", sock);
    case ErrorCode::SocketBusy:
        return fmt::format("socket {} is in use", sock);
    case ErrorCode::SessionLimit:
        return "the account already has a session of this kind running";
    case ErrorCode::BalanceTooLow:
        return "the wallet is below the minimum to start";
    case ErrorCode::Arrears:
        return "the account owes arrears (a bill its wallet could not cover): recharge first";
    case ErrorCode::DeviceNotInstalled:
        return fmt::format("the device of socket {} is not installed (in stock or retired)", sock);
    default:
        return std::string(to_string(code));
    }
}

/// A session record synthesized from the last report (an operator's force-end, a session given up
/// on): ends at the last report, else at `fallback_end`.
RecordData synthesized_record(const SessionRow& row, std::string stop_reason, EpochMs fallback_end) {
    RecordData r;
    r.msg_id = "forced:" + row.id;
    r.stop_reason = std::move(stop_reason);
    r.energy_wh = row.energy_wh;
    r.max_power_w = row.max_power_w;
    r.started_at = row.started_at;
    r.ended_at = row.last_report_at.value_or(fallback_end);
    if (row.started_at && r.ended_at > *row.started_at)
        r.duration_s = (r.ended_at - *row.started_at) / 1000;
    if (row.meter_start_wh) { // EV: the register as far as the reports took it
        r.meter_start_wh = row.meter_start_wh;
        r.meter_stop_wh = *row.meter_start_wh + row.energy_wh;
    }
    return r;
}

} // namespace

// ---- wire shapes ----------------------------------------------------------------------------

svc::SessionView session_view(const SessionRow& row) {
    svc::SessionView v;
    v.id = row.id;
    v.state = row.state;
    v.socket = sockets::socket_code({row.device_id, row.n});
    // The row's mode and method are written by sessiond from these enums (and checked by the schema).
    v.mode = billing::parse_mode(row.mode).value_or(billing::Mode::Power);
    v.minutes = row.minutes;
    v.method = svc::parse_session_method(row.method).value_or(svc::SessionMethod::App);
    v.account_id = row.account_id;
    v.created_at = row.created_at;
    v.started_at = row.started_at;
    v.ended_at = row.ended_at;
    v.energy_wh = row.energy_wh;
    v.duration_s = row.duration_s;
    v.max_power_w = row.max_power_w;
    v.stop_reason = row.stop_reason;
    v.failure = row.failure;
    if (row.cost_fen)
        v.cost_fen = Fen(*row.cost_fen);
    if (row.max_fen)
        v.max_fen = Fen(*row.max_fen);
    v.operator_name = row.operator_name;
    return v;
}

svc::SessionTransition session_transition(const SessionRow& row, std::optional<State> prev, const std::string& reason,
                                          const std::string& actor, EpochMs ts) {
    svc::SessionTransition t;
    t.sid = row.id;
    t.state = row.state;
    t.prev = prev;
    t.reason = reason;
    t.actor = actor;
    t.ts = ts;
    t.record = row.record_msg_id.has_value();
    t.device_id = row.device_id;
    t.n = row.n;
    t.account_id = row.account_id;
    t.method = svc::parse_session_method(row.method).value_or(svc::SessionMethod::App);
    if (row.max_fen)
        t.max_fen = Fen(*row.max_fen);
    return t;
}

// ---- life cycle -----------------------------------------------------------------------------

Worker::Worker(db::Database& db, mqtt::Client& mqtt, const Clock& clock, Options options)
    : db_(db), store_(db), mqtt_(mqtt), clock_(clock), opts_(std::move(options)), tariffs_(db),
      rng_(std::random_device{}()),
      purge_(db, {{retention::Kind::ProcessedMessages, std::string(kConsumer)}},
             retention::Policy{.telemetry_days = 1, .dedup_days = static_cast<int>(opts_.processed_keep_days)},
             purge_options()) {
    card_auth_ = std::make_unique<CardAuth>(
        db_, store_, clock_, CardAuth::Options{opts_.card_start_timeout_ms},
        [this](std::int64_t account_id, const sockets::SocketRef& ref, StartBy by, std::optional<ModeChoice> mode) {
            return plan_start(account_id, ref, by, mode);
        });
    device_commands_ = std::make_unique<DeviceCommands>(
        mqtt_, clock_, DeviceCommands::Options{opts_.command_timeout_ms, opts_.reply_grace_ms},
        DeviceCommands::Hooks{[this](const std::string& dev) { return device_kind(dev); },
                              [this](const std::string& dev) { return device_online(dev); },
                              [this] { return next_env(); },
                              [this](CommandLogEntry e) { command_log_.push_back(std::move(e)); }});
}

Worker::~Worker() = default;

void Worker::attach() {
    router_.add(mqtt_, topics::any_device::presence(), 1, [this](const mqtt::Message& m) { on_device_presence(m); });
    router_.add(mqtt_, topics::any_device_presence(), 1, [this](const mqtt::Message& m) { on_presence_verdict(m); });
    router_.add(mqtt_, topics::any_device::conn_state(), 1, [this](const mqtt::Message& m) { on_conn_state(m); });
    router_.add(mqtt_, topics::any_device::evt(), 1, [this](const mqtt::Message& m) { on_event(m); });
    router_.add(mqtt_, topics::any_device::req(), 1, [this](const mqtt::Message& m) { on_request(m); });
    router_.add(mqtt_, topics::any_device::cmd_reply(), 1, [this](const mqtt::Message& m) { on_cmd_reply(m); });
    router_.add(mqtt_, topics::any_device_report(), 0, [this](const mqtt::Message& m) { on_report(m); });
    server_ = std::make_unique<rpc::Server>(mqtt_, router_, opts_.service, clock_);
    // The method words are the requests' own (svc::Traits<Req>::kMethod).
    auto method = [](auto tag) { return std::string(svc::Traits<decltype(tag)>::kMethod); };
    server_->handle(method(svc::StartRequest{}), [this](rpc::Request& r) { return rpc_start(r); });
    server_->handle(method(svc::StopRequest{}), [this](rpc::Request& r) { return rpc_stop(r); });
    server_->handle(method(svc::ForceEndRequest{}), [this](rpc::Request& r) { return rpc_force_end(r); });
    // Answered when the device answers (or its command times out), through the Responder.
    server_->handle_async(method(svc::DeviceCommandRequest{}), [this](rpc::Request& r, rpc::Responder responder) {
        device_commands_->request(r, std::move(responder));
    });
    mqtt_.on_message([this](const mqtt::Message& m) { on_message(m); });
    mqtt_.on_connect([this] { on_connected(); });
}

void Worker::resume() {
    std::lock_guard l(m_);
    const auto rows = store_.open_sessions();
    const auto now = clock_.now_ms();
    std::size_t armed = 0;
    for (const auto& r : rows) {
        if (r.facts().stop_outstanding) {
            deadlines_.arm(r.id, now + opts_.stop_resend_ms); // the first connect sends it at once
            ++armed;
        } else if (r.cmd_exp) {
            deadlines_.arm(r.id, timeout_at(*r.cmd_exp, opts_.reply_grace_ms));
            ++armed;
        }
        if (r.state == State::Suspended && !r.record_msg_id)
            arm_suspend(r);
    }
    resumed_ = true;
    log::info("resumed {} open sessions, {} awaiting the pile, {} suspended", rows.size(), armed,
              suspend_deadlines_.size());
}

void Worker::on_connected() {
    std::lock_guard l(m_);
    try {
        mqtt_.publish(daemon::status_message(opts_.process, true));
        if (!first_connect_)
            return; // later reconnects: Paho delivers what was queued, the broker kept our session
        first_connect_ = false;
        const auto now = clock_.now_ms();
        for (const auto& r : store_.open_sessions()) {
            // A command committed just before a crash may never have left: a start is resent with its
            // rid and exp (the pile drops a duplicate) unless it has expired; a stop still outstanding
            // with its rid and a fresh exp.
            if (r.facts().stop_outstanding)
                resend_stop(r);
            else if (r.cmd_rid && r.cmd_exp && may_send(*r.cmd_exp, now))
                if (auto k = parse_command_rid(*r.cmd_rid); k && k->second == CommandKind::Start)
                    send_start(r, true);
            // A record committed just before a crash may never have been announced to billingd.
            if (r.record_msg_id)
                publish_state(r, r.state, "resume", "sessiond");
        }
        // The retained presence and conn states have arrived by now (the broker sends them after each
        // SUBACK, and this runs after the last one): the requests queued while we were away may run.
        warm_ = true;
        auto early = std::move(early_rpc_);
        early_rpc_.clear();
        for (const auto& m : early)
            dispatch(m);
    } catch (const std::exception& e) {
        counters_.handler_errors++;
        log::error("on connect: {}", e.what());
    }
}

void Worker::on_message(const mqtt::Message& m) {
    std::lock_guard l(m_);
    try {
        dispatch(m);
    } catch (const std::exception& e) {
        // The worker loop that calls us decides (common/worker_loop.hpp): a storage failure is
        // retried, then the process exits without acknowledging the message; anything else is skipped.
        counters_.handler_errors++;
        log::error("{}: {}", m.topic, e.what());
        throw;
    }
}

void Worker::dispatch(const mqtt::Message& m) {
    // Whatever else arrives may read or end a session: its live figures are written first.
    if (!pending_reports_.empty() && !topics::device_of_report(m.topic))
        flush_reports();
    if (!warm_ && topics::matches(topics::rpc_any(opts_.service), m.topic)) {
        // Requests queued by the broker while we were down arrive before the retained presence
        // and conn states: checking a start against an empty picture would refuse it wrongly.
        early_rpc_.push_back(m);
        return;
    }
    router_.dispatch(m);
}

void Worker::tick() {
    std::lock_guard l(m_);
    const auto now = clock_.now_ms();
    // One session's failure never stops the others' time-outs.
    if (now >= next_report_flush_) {
        try {
            flush_reports();
        } catch (const std::exception& ex) { // kept for the next tick
            counters_.handler_errors++;
            log::error("writing live figures of {} session(s): {}", pending_reports_.size(), ex.what());
        }
    }
    auto each_due = [&](Deadlines& d, std::string_view what, auto&& fire) {
        for (const auto& sid : d.due(now)) {
            try {
                flush_reports(); // a time-out reads the session's last report
                fire(sid);
            } catch (const std::exception& ex) {
                counters_.handler_errors++;
                log::error(log::Ctx{{}, sid}, "{}: {}", what, ex.what());
            }
        }
    };
    each_due(deadlines_, "time-out", [&](const std::string& sid) { command_due(sid, now); });
    each_due(suspend_deadlines_, "suspend time-out", [&](const std::string& sid) { give_up_suspended(sid, now); });
    each_due(record_waits_, "record wait", [&](const std::string& sid) { give_up_record(sid, now); });
    device_commands_->tick();
    try {
        flush_command_log();             // one batch per tick: never a write of its own on the message path
    } catch (const std::exception& ex) { // kept for the next tick
        counters_.handler_errors++;
        log::error("writing {} command log entries: {}", command_log_.size(), ex.what());
    }
    try {
        counters_.processed_pruned += static_cast<std::uint64_t>(purge_.tick(now));
    } catch (const std::exception& ex) { // the next tick tries again
        counters_.handler_errors++;
        log::error("pruning processed_messages: {}", ex.what());
    }
}

void Worker::command_due(const std::string& sid, EpochMs now) {
    auto row = store_.session(sid);
    if (!row || !svc::holds_socket(row->state))
        return;
    if (row->facts().stop_outstanding) {
        // Not confirmed a resend period after it was (re)sent: the rules resend it (or fail a session
        // stopped while starting that the pile never confirmed).
        Cause c{"timeout", "sessiond"};
        c.failure = fmt::format("no answer to {} within {} ms", *row->cmd_rid, opts_.stop_resend_ms);
        process(sid, Event::StopTimedOut, c);
        return;
    }
    if (!row->cmd_exp)
        return;
    const auto at = timeout_at(*row->cmd_exp, opts_.reply_grace_ms);
    if (now < at) {
        deadlines_.arm(sid, at);
        return;
    }
    Cause c{"timeout", "sessiond"};
    c.failure = row->cmd_rid ? fmt::format("no answer to {} before it expired", *row->cmd_rid)
                             : std::string("the pile did not start the card session in time");
    if (row->cmd_rid)
        log_answered(*row->cmd_rid, std::nullopt);
    process(sid, Event::StartTimedOut, c);
}

std::optional<EpochMs> Worker::next_deadline() {
    std::lock_guard l(m_);
    std::optional<EpochMs> next;
    for (auto at :
         {deadlines_.next(), suspend_deadlines_.next(), record_waits_.next(), device_commands_->next_deadline()})
        if (at && (!next || *at < *next))
            next = at;
    return next;
}

Worker::Counters Worker::counters() {
    std::lock_guard l(m_);
    return counters_;
}

// ---- the one path of every session change ---------------------------------------------------

Worker::Result Worker::process(const std::string& sid, Event e, const Cause& cause) {
    Result res;
    for (int attempt = 0; attempt < 3; ++attempt) {
        auto row = store_.session(sid);
        if (!row)
            return res;
        const auto d = handle(row->state, e, row->facts());
        res.verdict = d.verdict;
        res.row = row;
        const auto now = clock_.now_ms();
        const bool has_cmd = row->cmd_rid || row->cmd_exp;
        const bool track_stop = d.send_stop && svc::holds_socket(d.next);
        const bool clear = has_cmd && !track_stop && (d.clear_command || !svc::holds_socket(d.next));
        const bool record_missing = (d.commit_record && !cause.record);
        const bool write = !record_missing && (d.verdict == Verdict::Apply || d.send_stop || clear);
        if (!write) {
            if (cause.msg && !store_.mark_processed(*cause.msg, now)) {
                res.duplicate = true;
                return res;
            }
            follow_up(*row, d);
            if (d.resend_stop)
                resend_stop(*row);
            return res;
        }

        Change c;
        c.sid = sid;
        c.from = row->state;
        c.to = d.next;
        c.reason = cause.reason;
        c.actor = cause.actor;
        c.at = now;
        c.msg = cause.msg;
        if (d.commit_record)
            c.record = cause.record;
        if (d.forced_record)
            c.record = synthesized_record(*row, synthesized_reason(row->state, e, row->stop_requested),
                                          cause.end_fallback.value_or(now));
        if (d.send_stop)
            c.stop_requested = cause.reason; // and stop_requested_at = now, if the row has none yet
        c.incident = cause.incident;
        if (d.next == State::Failed && row->state != State::Failed)
            c.failure = cause.failure.value_or(cause.reason);
        if (d.next == State::Charging || e == Event::PileStarted || e == Event::StartAccepted)
            c.started_at = cause.started_at.value_or(now);
        const auto stop_rid = command_rid(sid, CommandKind::Stop);
        const auto stop_exp = command_exp(now, opts_.command_timeout_ms);
        if (track_stop) {
            c.command = CommandChange::Set;
            c.cmd_rid = stop_rid;
            c.cmd_exp = stop_exp;
        } else if (clear) {
            c.command = CommandChange::Clear;
        }

        const auto applied = store_.apply(c);
        if (applied == Applied::Stale)
            continue; // moved under us (billingd settled it): decide again on the new row
        if (applied == Applied::Duplicate) {
            res.duplicate = true;
            res.verdict = Verdict::Ignore;
            return res;
        }
        counters_.transitions++;
        failpoint::hit("sessiond.after_commit"); // committed; the stop command and the state not yet published
        auto after = store_.session(sid);
        if (!after)
            return res;
        res.row = after;
        if (c.command == CommandChange::Set)
            deadlines_.arm(sid, now + opts_.stop_resend_ms);
        else if (c.command == CommandChange::Clear)
            deadlines_.disarm(sid);
        follow_up(*after, d);
        if (d.send_stop)
            send_stop(*after, stop_rid, stop_exp, false, cause.actor);
        else if (d.resend_stop)
            resend_stop(*after);
        if (c.record)
            counters_.records_committed++;
        if (d.next != row->state || c.record)
            publish_state(*after, row->state, cause.reason, cause.actor);
        log::info(log::Ctx{after->device_id, sid}, "{}: {} -> {} ({} by {}){}", to_string(e), to_string(row->state),
                  to_string(after->state), cause.reason, cause.actor, c.record ? ", record committed" : "");
        return res;
    }
    log::warn(log::Ctx{{}, sid}, "{}: the row kept moving; gave up", to_string(e));
    res.gave_up = true;
    return res;
}

void Worker::follow_up(const SessionRow& row, const Decision& d) {
    if ((row.state != State::Stopping && row.state != State::Suspended) || row.record_msg_id) {
        record_waits_.disarm(row.id);
        idle_seen_.erase(row.id);
        suspend_deadlines_.disarm(row.id);
        return;
    }
    if (d.await_record && !record_waits_.deadline(row.id)) {
        const auto now = clock_.now_ms();
        record_waits_.arm(row.id, now + opts_.idle_record_wait_s * 1000);
        idle_seen_[row.id] = now;
    }
    if (row.state != State::Suspended)
        suspend_deadlines_.disarm(row.id);
    else if (!suspend_deadlines_.deadline(row.id))
        arm_suspend(row);
}

void Worker::arm_suspend(const SessionRow& row) {
    const auto since = store_.entered_at(row.id, State::Suspended).value_or(row.updated_at);
    suspend_deadlines_.arm(row.id, suspend_deadline(since, row.last_report_at, opts_.suspend_timeout_s * 1000));
}

void Worker::resend_stop(const SessionRow& row) {
    if (!row.facts().stop_outstanding || !svc::holds_socket(row.state))
        return;
    const auto now = clock_.now_ms();
    deadlines_.arm(row.id, now + opts_.stop_resend_ms);
    if (!device_online(row.device_id)) {
        // Queued by the broker for an offline pile it would arrive expired; PileOnline sends it at once.
        log::debug(log::Ctx{row.device_id, row.id}, "stop not resent: the pile is offline");
        return;
    }
    send_stop(row, *row.cmd_rid, command_exp(now, opts_.command_timeout_ms), true, "sessiond");
}

void Worker::give_up_suspended(const std::string& sid, EpochMs now) {
    const auto row = store_.session(sid);
    if (!row || row->state != State::Suspended || row->record_msg_id)
        return;
    const auto since = store_.entered_at(sid, State::Suspended).value_or(row->updated_at);
    const auto at = suspend_deadline(since, row->last_report_at, opts_.suspend_timeout_s * 1000);
    if (now < at) {
        suspend_deadlines_.arm(sid, at); // reported since: not stuck yet
        return;
    }
    settle_on_last_report(*row, Event::SuspendTimedOut, std::string(incidents::kSuspendTimeout), since,
                          fmt::format("socket {}: no sign of the session for {} s since its pile left", row->n,
                                      (now - std::max(since, row->last_report_at.value_or(since))) / 1000),
                          now);
}

void Worker::give_up_record(const std::string& sid, EpochMs now) {
    const auto since = idle_seen_.count(sid) ? idle_seen_[sid] : now;
    idle_seen_.erase(sid);
    const auto row = store_.session(sid);
    if (!row || row->record_msg_id || (row->state != State::Stopping && row->state != State::Suspended))
        return;
    // Only while the pile still shows the socket not running this session.
    if (auto cs = conn_.find({row->device_id, row->n});
        cs != conn_.end() && conn_event(cs->second, sid) != Event::SocketIdle)
        return;
    settle_on_last_report(*row, Event::RecordOverdue, std::string(incidents::kRecordOverdue), since,
                          fmt::format("socket {} idle for {} s and no session record", row->n, (now - since) / 1000),
                          now);
}

void Worker::settle_on_last_report(const SessionRow& row, Event e, const std::string& kind, EpochMs since,
                                   const std::string& what, EpochMs now) {
    Cause c{kind, "sessiond"};
    c.end_fallback = since;
    c.incident = Incident{kind, row.device_id, row.id,
                          fmt::format("{}: settled on the last report ({} Wh)", what, row.energy_wh), now};
    const auto res = process(row.id, e, c);
    if (res.verdict == Verdict::Apply)
        log::warn(log::Ctx{row.device_id, row.id}, "{}: {}", kind, c.incident->detail);
}

// ---- rpc ------------------------------------------------------------------------------------

rpc::Reply Worker::rpc_start(rpc::Request& r) {
    const auto req = svc::decode<svc::StartRequest>(*r.data_value);
    if (!req)
        return invalid(req.error());
    const auto account_id = req->account_id;
    const auto ref = sockets::parse_socket_code(req->socket);
    if (!ref)
        return refuse(ErrorCode::UnknownSocket, fmt::format("`{}` is not a socket code", req->socket));
    const bool commissioning = req->operator_name.has_value();
    auto plan = plan_start(account_id, *ref, commissioning ? StartBy::Operator : StartBy::App,
                           ModeChoice{req->mode, req->minutes});
    if (const auto* no = std::get_if<Refusal>(&plan)) {
        log::info(log::Ctx{ref->device_id, {}}, "start refused for account {}: {}", account_id, to_string(no->code));
        return refuse(no->code, no->msg);
    }
    const auto& p = std::get<StartPlan>(plan);
    const auto now = clock_.now_ms();
    NewSession s;
    s.id = new_app_sid();
    s.account_id = account_id;
    s.method = commissioning ? "operator" : "app";
    s.device_id = ref->device_id;
    s.n = ref->n;
    s.station_id = p.socket.station_id;
    s.mode = std::string(billing::to_string(p.mode.mode));
    s.minutes = p.mode.minutes;
    if (!commissioning)
        s.tariff_id = p.tariff_id; // a commissioning run is free: no tariff prices it
    if (req->max_fen)
        s.max_fen = req->max_fen->value();
    s.cmd_rid = command_rid(s.id, CommandKind::Start);
    s.cmd_exp = command_exp(now, opts_.command_timeout_ms);
    s.created_at = now;
    s.operator_name = req->operator_name;
    s.actor = commissioning ? "operator:" + *req->operator_name : "rider";
    s.reason = commissioning ? "commissioning" : "start";
    switch (store_.create(s, std::nullopt)) {
    case CreateOutcome::Created:
        break;
    case CreateOutcome::SocketTaken:
        return refuse(ErrorCode::SocketBusy, refusal_message(ErrorCode::SocketBusy, *ref));
    case CreateOutcome::MethodTaken:
        return refuse(ErrorCode::SessionLimit, refusal_message(ErrorCode::SessionLimit, *ref));
    case CreateOutcome::Duplicate:
        return rpc::Reply::refuse("internal", "duplicate session id", "failed");
    }
    failpoint::hit("sessiond.after_create_commit"); // the row committed; no start command, no reply yet
    const auto row = store_.session(s.id);
    if (!row)
        return rpc::Reply::refuse("internal", "the new session vanished", "failed");
    deadlines_.arm(s.id, timeout_at(s.cmd_exp, opts_.reply_grace_ms));
    send_start(*row, false);
    publish_state(*row, std::nullopt, s.reason, s.actor);
    log::info(log::Ctx{s.device_id, s.id}, "session created for {} ({} {})",
              commissioning ? "operator " + *req->operator_name : fmt::format("account {}", account_id), s.mode,
              s.minutes ? fmt::format("{} min", *s.minutes) : std::string("until full"));
    return rpc::Reply::success(svc::encode(svc::StartReply{session_view(*row)}));
}

rpc::Reply Worker::rpc_stop(rpc::Request& r) {
    const auto req = svc::decode<svc::StopRequest>(*r.data_value);
    if (!req)
        return invalid(req.error());
    const auto& sid = req->session_id;
    const auto res = process(sid, Event::StopRequested, Cause{std::string(svc::to_string(req->reason)), req->actor});
    if (!res.row)
        return refuse(ErrorCode::NotFound, fmt::format("no session {}", sid));
    return rpc::Reply::success(svc::encode(svc::StopReply{session_view(*res.row), res.verdict == Verdict::Apply}));
}

rpc::Reply Worker::rpc_force_end(rpc::Request& r) {
    const auto req = svc::decode<svc::ForceEndRequest>(*r.data_value);
    if (!req)
        return invalid(req.error());
    const auto& sid = req->session_id;
    const auto res = process(sid, Event::ForceEnd, Cause{"forced", "operator:" + req->operator_name});
    if (!res.row)
        return refuse(ErrorCode::NotFound, fmt::format("no session {}", sid));
    if (res.verdict == Verdict::Refuse)
        return refuse(ErrorCode::Conflict, fmt::format("session {} is already {}", sid, to_string(res.row->state)));
    return rpc::Reply::success(svc::encode(svc::ForceEndReply{session_view(*res.row), res.verdict == Verdict::Apply}));
}

// ---- pre-checks -----------------------------------------------------------------------------

std::variant<StartPlan, Refusal> Worker::plan_start(std::int64_t account_id, const sockets::SocketRef& ref, StartBy by,
                                                    std::optional<ModeChoice> mode) {
    const auto method = method_of(by);
    const auto now = clock_.now_ms();
    StartFacts f;
    StartPlan p;
    f.commissioning = by == StartBy::Operator;
    const auto wallet = f.commissioning ? std::nullopt : ledger::Ledger(db_, clock_).wallet(account_id);
    f.account_exists = wallet.has_value();
    f.account_frozen = wallet && wallet->frozen;
    f.arrears_fen = wallet ? wallet->arrears_fen : Fen(0);
    f.available_fen = wallet ? wallet->available() : Fen(0);
    const auto sock = store_.socket(ref.device_id, ref.n);
    f.socket_exists = sock && (sock->kind == "ebike_pile" || sock->kind == "ev_charger");
    f.device_installed = sock && sock->installed;
    if (f.socket_exists) {
        p.socket = *sock;
        const auto tariff = f.commissioning ? billing::TariffChoice{}
                                            : tariffs_.in_force(sock->station_id, sock->area_id, sock->device_id, now);
        if (f.commissioning && mode) {
            // Free, whatever the tariff: the operator's minutes are the pile's limit.
            if (auto limit = session_limit(billing::to_string(mode->mode), mode->minutes)) {
                p.mode = *mode;
                p.limit = *limit;
            }
        } else if (tariff.tariff) {
            if (!mode)
                mode = card_mode(*tariff.tariff, opts_.card_mode);
            if (mode) {
                if (auto limit = limit_for(*tariff.tariff, *mode)) {
                    f.mode_offered = true;
                    p.mode = *mode;
                    p.limit = *limit;
                }
            }
            f.min_start_balance_fen = tariff.tariff->min_start_balance_fen;
            p.tariff_id = *tariff.id;
        } else if (tariff.id) {
            log::warn("tariff {} of station {} is unreadable: {}", *tariff.id, sock->station_id, tariff.problem);
        }
        sockets::SocketFacts sf;
        sf.enabled = sock->enabled;
        // A pile asking to authorise a card is online, whatever a late presence report says.
        sf.device_online = (by != StartBy::App && by != StartBy::Operator) || device_online(ref.device_id);
        sf.fault_open = store_.has_open_fault(ref.device_id, ref.n);
        sf.session_live = store_.live_on_socket(ref.device_id, ref.n).has_value();
        if (const auto cs = conn_.find({ref.device_id, ref.n}); cs != conn_.end())
            sf.reported = reported(cs->second);
        // A charger asking to start a card session runs it already: its gun being in use is that session.
        if (by == StartBy::Charger && sf.reported == sockets::Reported::InUse)
            sf.reported.reset();
        f.socket = sockets::socket_availability(sf);
    }
    if (f.account_exists && !f.commissioning)
        f.method_in_use = store_.has_live_method(account_id, method);
    p.available_fen = f.available_fen.value();
    if (const auto code = precheck(f))
        return Refusal{by == StartBy::App ? *code : device_reason(*code), refusal_message(*code, ref),
                       wallet ? std::optional<std::int64_t>(f.available_fen.value()) : std::nullopt};
    return p;
}

PlatformView Worker::platform_view(const SessionRow& row, EpochMs now) {
    PlatformView v;
    v.created_at = row.created_at;
    v.started_at = row.started_at;
    v.now = now;
    v.reported_energy_wh = row.energy_wh;
    const auto sock = store_.socket(row.device_id, row.n);
    v.rated_power_w = sock && sock->rated_power_w          ? *sock->rated_power_w
                      : sock && sock->kind == "ev_charger" ? payloads::kMaxEvGunPowerW
                                                           : payloads::kMaxEbikeSocketPowerW;
    return v;
}

// ---- presence -------------------------------------------------------------------------------

bool Worker::device_online(const std::string& device_id) {
    if (auto it = presence_.find(device_id); it != presence_.end() && it->second.known())
        return *it->second.online();
    return store_.presence(device_id).value_or(false);
}

std::optional<std::string> Worker::device_kind(const std::string& device_id) {
    if (auto it = kinds_.find(device_id); it != kinds_.end())
        return it->second;
    auto kind = store_.device_kind(device_id);
    if (kind)
        kinds_.emplace(device_id, *kind); // a device's kind does not change
    return kind;
}

bool Worker::is_charger(const std::string& device_id) {
    return device_kind(device_id) == "ev_charger";
}

void Worker::on_device_presence(const mqtt::Message& m) {
    const auto t = topics::parse_device_topic(m.topic);
    if (!t || m.payload.empty())
        return;
    const auto p = payloads::decode_presence(m.payload);
    if (!p) {
        log::warn(log::Ctx{t->device_id, {}}, "unreadable presence: {}", p.error());
        return;
    }
    const auto change = presence_[t->device_id].apply(*p);
    if (change == svc::PresenceChange::CameOnline || change == svc::PresenceChange::WentOffline)
        presence_changed(t->device_id, p->online, p->reason.value_or(p->online ? "online" : "offline"), "pile");
}

void Worker::on_presence_verdict(const mqtt::Message& m) {
    const auto dev = topics::device_of_presence(m.topic);
    if (!dev || m.payload.empty())
        return;
    const auto v = svc::decode<svc::PresenceVerdict>(m.payload);
    if (!v) {
        log::warn(log::Ctx{*dev, {}}, "unreadable presence verdict: {}", v.error());
        return;
    }
    const auto change = presence_[*dev].apply(*v);
    if (change == svc::PresenceChange::CameOnline || change == svc::PresenceChange::WentOffline)
        presence_changed(*dev, v->online, v->reason, "presenced");
}

void Worker::presence_changed(const std::string& dev, bool online, const std::string& reason,
                              const std::string& actor) {
    log::info(log::Ctx{dev, {}}, "pile {} ({}, from {})", online ? "online" : "offline", reason, actor);
    for (const auto& row : store_.live_on_device(dev)) {
        if (!online)
            process(row.id, Event::PileOffline, Cause{"offline:" + reason, actor});
        else if (row.facts().stop_outstanding)
            process(row.id, Event::PileOnline, Cause{"online:" + reason, actor}); // its stop goes out at once
    }
}

// ---- device uplinks -------------------------------------------------------------------------

void Worker::on_conn_state(const mqtt::Message& m) {
    const auto t = topics::parse_device_topic(m.topic);
    if (!t || t->leaf != topics::Leaf::ConnState)
        return;
    const auto key = std::make_pair(t->device_id, t->n);
    if (m.payload.empty()) {
        conn_.erase(key);
        return;
    }
    std::optional<ConnState> decoded;
    std::string word;
    EpochMs since = 0;
    std::optional<std::string> running;
    if (is_charger(t->device_id)) {
        const auto cs = payloads::decode<payloads::EvConnState>(m.payload);
        if (!cs) {
            log::warn(log::Ctx{t->device_id, {}}, "conn/{}/state is not a gun state: {}", t->n, cs.error());
            return;
        }
        decoded = cs->data;
        word = payloads::to_string(cs->data.st);
        since = cs->data.since;
        running = cs->data.sid;
    } else {
        const auto cs = payloads::decode<payloads::EbikeConnState>(m.payload);
        if (!cs) {
            log::debug(log::Ctx{t->device_id, {}}, "conn/{}/state not an e-bike socket state: {}", t->n, cs.error());
            return;
        }
        decoded = cs->data;
        word = payloads::to_string(cs->data.st);
        since = cs->data.since;
        running = cs->data.sid;
    }
    const auto& st = *decoded;
    conn_[key] = st;
    Cause c{fmt::format("conn_state:{}", word), "pile"};
    if (since > 0)
        c.started_at = since;
    const auto live = store_.live_on_socket(t->device_id, t->n);
    if (live)
        if (auto e = conn_event(st, live->id))
            process(live->id, *e, c);
    if (running && (!live || live->id != *running)) {
        // The pile runs (or ran) a session that no longer holds the socket here, e.g. one we failed.
        const auto other = store_.session(*running);
        if (other && other->device_id == t->device_id && other->n == t->n)
            if (auto e = conn_event(st, other->id))
                process(other->id, *e, c);
    }
}

void Worker::on_event(const mqtt::Message& m) {
    const auto t = topics::parse_device_topic(m.topic);
    if (!t || t->leaf != topics::Leaf::Evt)
        return;
    const auto& dev = t->device_id;
    auto belongs = [&](const std::string& sid, int n) {
        const auto row = store_.session(sid);
        if (row && row->device_id == dev && row->n == n)
            return true;
        log::warn(log::Ctx{dev, sid}, "evt/{} for a session this socket does not hold", t->name);
        return false;
    };
    if (is_charger(dev))
        return on_ev_event(dev, t->name, m.payload);
    if (t->name == "session_started") {
        const auto ev = payloads::decode<payloads::EbikeSessionStarted>(m.payload);
        if (!ev) {
            log::warn(log::Ctx{dev, {}}, "evt/session_started unreadable: {}", ev.error());
            return;
        }
        if (!belongs(ev->data.sid, ev->data.n))
            return;
        Cause c{"session_started", "pile", MessageKey{dev, *ev->env.id}};
        if (ev->data.start_ts > 0)
            c.started_at = ev->data.start_ts;
        process(ev->data.sid, Event::PileStarted, c);
    } else if (t->name == "session_stopped") {
        const auto ev = payloads::decode<payloads::EbikeSessionStopped>(m.payload);
        if (!ev) {
            log::warn(log::Ctx{dev, {}}, "evt/session_stopped unreadable: {}", ev.error());
            return;
        }
        if (!belongs(ev->data.sid, ev->data.n))
            return;
        const auto now = clock_.now_ms();
        store_.report({Report{dev, ev->data.sid, ev->data.energy_wh, 0, 0, now}});
        process(ev->data.sid, Event::PileStopped,
                Cause{std::string(payloads::to_string(ev->data.reason)), "pile", MessageKey{dev, *ev->env.id}});
    }
}

bool Worker::runs_here(const std::string& dev, const std::string& sid, int n, std::string_view what) {
    const auto row = store_.session(sid);
    if (row && row->device_id == dev && row->n == n)
        return true;
    log::warn(log::Ctx{dev, sid}, "{} for a session this socket does not hold", what);
    return false;
}

void Worker::on_ev_event(const std::string& dev, const std::string& name, std::string_view payload) {
    if (name == "session_started") {
        const auto ev = payloads::decode<payloads::EvSessionStarted>(payload);
        if (!ev) {
            log::warn(log::Ctx{dev, {}}, "evt/session_started unreadable: {}", ev.error());
            return;
        }
        if (!runs_here(dev, ev->data.sid, ev->data.n, "evt/session_started"))
            return;
        Cause c{"session_started", "pile", MessageKey{dev, *ev->env.id}};
        if (ev->data.start_ts > 0)
            c.started_at = ev->data.start_ts;
        // Whatever state the session is in by now (a start reply may have confirmed it first), its
        // meter start is the charger's word: written once.
        store_.set_meter_start(ev->data.sid, ev->data.meter_start_wh, clock_.now_ms());
        process(ev->data.sid, Event::PileStarted, c);
    } else if (name == "session_stopped") {
        const auto ev = payloads::decode<payloads::EvSessionStopped>(payload);
        if (!ev) {
            log::warn(log::Ctx{dev, {}}, "evt/session_stopped unreadable: {}", ev.error());
            return;
        }
        if (!runs_here(dev, ev->data.sid, ev->data.n, "evt/session_stopped"))
            return;
        // The meter at the stop is the session's energy so far; the record settles it.
        const auto row = store_.session(ev->data.sid);
        Report r{dev, ev->data.sid, std::nullopt, 0, 0, clock_.now_ms()};
        r.register_wh = ev->data.meter_stop_wh;
        if (row && !row->meter_start_wh)
            r.energy_wh = ev->data.meter_stop_wh - ev->data.meter_start_wh;
        store_.report({r});
        process(ev->data.sid, Event::PileStopped,
                Cause{platform_stop_reason(ev->data.reason), "pile", MessageKey{dev, *ev->env.id}});
    }
    // plug_in, plug_out (autostopd stops a live session as `unplugged`) and fault (recorderd,
    // autostopd) change no session here.
}

void Worker::on_report(const mqtt::Message& m) {
    const auto dev = topics::device_of_report(m.topic);
    if (!dev)
        return;
    const auto r = svc::decode_report(m.topic, m.payload);
    if (!r) {
        log::warn(log::Ctx{*dev, {}}, "device report ignored: {}", r.error());
        return;
    }
    // recorderd bound each socket to its session (docs/topics.md, device reports). Merged per
    // session and written by flush_reports().
    const auto now = clock_.now_ms();
    for (const auto& s : r.value().sockets) {
        if (!s.energy_wh && !s.register_wh)
            continue;
        Report one{*dev, s.sid, s.energy_wh, s.power_w, s.power_w, now};
        one.register_wh = s.register_wh;
        one.soc_pct = s.soc_pct;
        auto [it, fresh] = pending_reports_.try_emplace({*dev, s.sid}, one);
        if (!fresh)
            it->second.merge(one);
    }
    if (opts_.report_flush_ms == 0)
        flush_reports();
}

void Worker::flush() {
    std::lock_guard l(m_);
    try {
        flush_reports();
    } catch (const std::exception& ex) {
        log::error("writing live figures of {} session(s) at shutdown: {}", pending_reports_.size(), ex.what());
    }
    try {
        flush_command_log();
    } catch (const std::exception& ex) {
        log::error("writing {} command log entries at shutdown: {}", command_log_.size(), ex.what());
    }
}

void Worker::flush_reports() {
    next_report_flush_ = clock_.now_ms() + opts_.report_flush_ms;
    if (pending_reports_.empty())
        return;
    std::vector<Report> all;
    all.reserve(pending_reports_.size());
    for (const auto& [key, r] : pending_reports_)
        all.push_back(r);
    store_.report(all); // throws when it cannot commit: the figures stay pending
    pending_reports_.clear();
}

void Worker::on_request(const mqtt::Message& m) {
    const auto t = topics::parse_device_topic(m.topic);
    if (!t || t->leaf != topics::Leaf::Req)
        return;
    if (is_charger(t->device_id)) {
        if (t->name == "authorize")
            return on_ev_authorize(t->device_id, m.payload);
        if (t->name == "start_session")
            return on_ev_start_session(t->device_id, m.payload);
        if (t->name == "session_record")
            return on_ev_record(t->device_id, m.payload);
    } else if (t->name == "authorize") {
        return on_authorize(t->device_id, m.payload);
    } else if (t->name == "session_record") {
        return on_record(t->device_id, m.payload);
    }
    // Every request gets an answer within 5 s (CONTRACT A.6), even one we do not serve.
    if (const auto env = payloads::peek_envelope(m.payload); env && env->rid)
        reply_plain(t->device_id, t->name, *env->rid, ReplyStatus::Unsupported, ErrorCode::Unsupported,
                    fmt::format("the platform does not serve req/{}", t->name));
}

template <typename T>
std::optional<payloads::Message<T>> Worker::read_request(const std::string& dev, std::string_view name,
                                                         std::string_view payload) {
    auto m = payloads::decode<T>(payload);
    if (m)
        return std::move(m).value();
    // Every request is answered (CONTRACT A.6): one that does not decode, `invalid` with the reason.
    if (const auto env = payloads::peek_envelope(payload); env && env->rid)
        reply_plain(dev, name, *env->rid, ReplyStatus::Invalid, ErrorCode::InvalidRequest, m.error());
    return std::nullopt;
}

void Worker::on_authorize(const std::string& dev, std::string_view payload) {
    const auto m = read_request<payloads::EbikeAuthorize>(dev, "authorize", payload);
    if (!m)
        return;
    if (const auto again = card_auth_->repeat(dev, *m))
        return reply_device(dev, "authorize", *again);
    const auto a = card_auth_->decide(dev, *m);
    const auto text = payloads::encode(payloads::make_reply(*m, next_env(), ReplyStatus::Ok, a.reply));
    card_auth_->remember(dev, *m, a, text);
    reply_device(dev, "authorize", text);
    if (a.created) {
        if (a.created->cmd_exp)
            deadlines_.arm(a.created->id, timeout_at(*a.created->cmd_exp, opts_.reply_grace_ms));
        publish_state(*a.created, std::nullopt, "card", "card");
    }
}

void Worker::on_record(const std::string& dev, std::string_view payload) {
    const auto m = read_request<payloads::EbikeSessionRecord>(dev, "session_record", payload);
    if (!m)
        return;
    const auto& rec = m->data;
    RecordData r;
    r.msg_id = *m->env.id;
    r.stop_reason = std::string(payloads::to_string(rec.reason));
    r.energy_wh = rec.energy_wh;
    r.duration_s = rec.duration_s;
    r.max_power_w = whole_watts(rec.max_power_w);
    if (rec.start_ts > 0)
        r.started_at = rec.start_ts;
    r.ended_at = rec.stop_ts > 0 ? rec.stop_ts : clock_.now_ms();
    answer_record(dev, *m->env.rid, rec.sid, rec.n, std::move(r),
                  [&] { return payloads::encode(payloads::make_reply(*m, next_env(), ReplyStatus::Ok)); });
}

void Worker::on_ev_record(const std::string& dev, std::string_view payload) {
    const auto m = read_request<payloads::EvSessionRecord>(dev, "session_record", payload);
    if (!m)
        return;
    const auto& rec = m->data;
    RecordData r;
    r.msg_id = *m->env.id;
    r.stop_reason = platform_stop_reason(rec.reason);
    // CONTRACT D.1: an EV session's energy is its meter's rise (the codec checks stop >= start).
    r.energy_wh = rec.meter_stop_wh - rec.meter_start_wh;
    r.meter_start_wh = rec.meter_start_wh;
    r.meter_stop_wh = rec.meter_stop_wh;
    r.duration_s = (rec.stop_ts - rec.start_ts) / 1000;
    r.max_power_w = rec.max_power_w ? whole_watts(*rec.max_power_w) : 0;
    if (rec.start_ts > 0)
        r.started_at = rec.start_ts;
    r.ended_at = rec.stop_ts > 0 ? rec.stop_ts : clock_.now_ms();
    answer_record(dev, *m->env.rid, rec.sid, rec.n, std::move(r),
                  [&] { return payloads::encode(payloads::make_reply(*m, next_env(), ReplyStatus::Ok)); });
}

void Worker::answer_record(const std::string& dev, const std::string& rid, const std::string& sid, int n, RecordData r,
                           const std::function<std::string()>& ack) {
    const auto row = store_.session(sid);
    if (!row || row->device_id != dev || row->n != n) {
        // Never acknowledged: the pile keeps it, and an operator can look into it.
        log::error(log::Ctx{dev, sid}, "session_record {} for a session this socket never ran", r.msg_id);
        reply_plain(dev, "session_record", rid, ReplyStatus::Rejected, ErrorCode::NotFound,
                    fmt::format("no session {} on socket {}", sid, n));
        return;
    }
    const auto now = clock_.now_ms();
    Cause c{"record:" + r.stop_reason, "pile", MessageKey{dev, r.msg_id}};
    r.stop_reason = ended_reason(r.stop_reason, row->stop_requested);
    // Never bill beyond what the platform saw: a duration past platform time, or energy past rated
    // power over it, is clamped to the platform's own view and flagged.
    const auto check = check_record(r.duration_s, r.energy_wh, platform_view(*row, now),
                                    RecordSlack{opts_.record_tolerance_s, opts_.device_time_scale});
    if (check.clamped) {
        r.duration_s = check.duration_s;
        r.energy_wh = check.energy_wh;
        r.ended_at = std::min(r.ended_at, now);
        if (r.meter_start_wh)
            r.meter_stop_wh = *r.meter_start_wh + r.energy_wh; // the meter as far as the platform believes it
        c.incident = Incident{std::string(incidents::kRecordClamped), dev, sid,
                              fmt::format("record {}: {}; committed duration_s {} and energy_wh {}", r.msg_id,
                                          check.why, r.duration_s, r.energy_wh),
                              now};
    }
    const auto msg_id = r.msg_id;
    c.record = std::move(r);
    const auto res = process(sid, Event::RecordReceived, c);
    if (res.gave_up) {
        // Nothing was committed: the pile keeps the record and sends it again.
        log::error(log::Ctx{dev, sid}, "session_record {} not committed: not acknowledged", msg_id);
        return;
    }
    if (res.duplicate)
        log::info(log::Ctx{dev, sid}, "session_record {} again: acknowledged, nothing changed", msg_id);
    else if (check.clamped && res.row && res.row->record_msg_id == msg_id) {
        counters_.records_clamped++;
        log::warn(log::Ctx{dev, sid}, "session_record {} is absurd ({}): clamped to what the platform saw", msg_id,
                  check.why);
    }
    // Only now, with the record (or its id) committed, is the pile told it may forget it.
    failpoint::hit("sessiond.before_record_ack");
    reply_device(dev, "session_record", ack());
}

void Worker::on_ev_authorize(const std::string& dev, std::string_view payload) {
    const auto m = read_request<payloads::EvAuthorize>(dev, "authorize", payload);
    if (!m)
        return;
    const auto reply = card_auth_->authorize_tag(dev, *m);
    reply_device(dev, "authorize", payloads::encode(payloads::make_reply(*m, next_env(), ReplyStatus::Ok, reply)));
}

void Worker::on_ev_start_session(const std::string& dev, std::string_view payload) {
    const auto m = read_request<payloads::EvStartSessionReq>(dev, "start_session", payload);
    if (!m)
        return;
    // The transaction of an app start (CONTRACT D.2: the charger's StartTransaction with the id tag of
    // our cmd/start_session, on that gun, is that session): confirmed, never a second session.
    if (const auto live = store_.live_on_socket(dev, m->data.n);
        live && (live->method == "app" || live->method == "operator") &&
        m->data.id_tag == app_id_tag(live->account_id)) {
        store_.set_meter_start(live->id, m->data.meter_start_wh, clock_.now_ms());
        Cause c{"start_session", "pile", MessageKey{dev, *m->env.id}};
        c.started_at = m->data.start_ts.value_or(clock_.now_ms());
        process(live->id, Event::PileStarted, c);
        payloads::EvStartSessionReply ok;
        ok.decision = payloads::Decision::Accept;
        ok.sid = live->id;
        reply_device(dev, "start_session", payloads::encode(payloads::make_reply(*m, next_env(), ReplyStatus::Ok, ok)));
        return;
    }
    const auto a = card_auth_->start_at_charger(dev, *m);
    if (a.created) {
        publish_state(*a.created, std::nullopt, "card", "card");
        // The charger reports a transaction it has started: the session runs from its start.
        Cause c{"start_session", "pile"};
        c.started_at = m->data.start_ts.value_or(clock_.now_ms());
        process(a.created->id, Event::PileStarted, c);
    }
    reply_device(dev, "start_session",
                 payloads::encode(payloads::make_reply(*m, next_env(), ReplyStatus::Ok, a.reply)));
}

void Worker::on_cmd_reply(const mqtt::Message& m) {
    const auto t = topics::parse_device_topic(m.topic);
    if (!t || t->leaf != topics::Leaf::CmdReply)
        return;
    const auto env = payloads::peek_envelope(m.payload);
    if (!env || !env->rid)
        return;
    const auto& rid = *env->rid;
    if (DeviceCommands::is_ours(rid))
        return device_commands_->reply(t->device_id, rid, m.payload);
    const auto k = parse_command_rid(rid);
    if (!k)
        return;
    const bool is_start = k->second == CommandKind::Start;
    if (t->name != session_command_name(t->device_id, k->second))
        return;
    const auto f = read_reply(m.payload);
    if (!f || f->status == "accepted")
        return; // unreadable, or interim: the final answer (or the time-out) decides
    const auto row = store_.session(k->first);
    if (!row || row->device_id != t->device_id)
        return;
    log_answered(rid, f);
    if (!is_start && f->status == "expired") {
        // Our stop reached the pile too late (queued while it was away): not its answer; the stop stays
        // outstanding and goes again, same rid, fresh exp.
        log::info(log::Ctx{t->device_id, row->id}, "stop_port {} arrived expired: it is sent again", rid);
        return;
    }
    const bool ok = f->status == "ok";
    const Event e =
        is_start ? (ok ? Event::StartAccepted : Event::StartRefused) : (ok ? Event::StopAccepted : Event::StopRefused);
    Cause c{fmt::format("{}:{}", t->name, f->code.empty() ? f->status : f->code), "pile"};
    if (!ok)
        c.failure = fmt::format("{} {} {} {}", t->name, f->status, f->code, f->msg);
    if (e == Event::StartAccepted)
        c.started_at = clock_.now_ms();
    process(k->first, e, c);
}

// ---- publishing -----------------------------------------------------------------------------

std::string_view Worker::session_command_name(const std::string& device_id, CommandKind kind) {
    if (is_charger(device_id))
        return kind == CommandKind::Start ? "start_session" : "stop_session";
    return kind == CommandKind::Start ? "start_port" : "stop_port";
}

payloads::Envelope Worker::next_env() {
    return payloads::make_envelope(clock_.now_ms(), 0, ++seq_);
}

std::string Worker::new_app_sid() {
    return fmt::format("S{}{:06x}", clock_.now_ms(), static_cast<std::uint32_t>(rng_() & 0xffffff));
}

void Worker::send_start(const SessionRow& row, bool resend) {
    const auto limit = session_limit(row.mode, row.minutes);
    if (!row.cmd_rid || !row.cmd_exp || !limit)
        return;
    if (!may_send(*row.cmd_exp, clock_.now_ms()))
        return; // never send an expired command; the time-out fails the session
    auto env = next_env();
    env.rid = *row.cmd_rid;
    env.exp = *row.cmd_exp;
    const auto name = session_command_name(row.device_id, CommandKind::Start);
    std::string text;
    if (is_charger(row.device_id))
        text = payloads::encode(
            payloads::Message<payloads::EvStartSessionCmd>{env, {row.n, row.id, app_id_tag(row.account_id), *limit}});
    else
        text = payloads::encode(payloads::Message<payloads::EbikeStartPort>{env, {row.n, row.id, *limit}});
    mqtt_.publish({topics::cmd(row.device_id, name), text, 1, false});
    log_sent(row, name, *env.rid, text, row.operator_name ? "operator:" + *row.operator_name : "rider");
    (resend ? counters_.commands_resent : counters_.commands_sent)++;
    log::info(log::Ctx{row.device_id, row.id}, "{} {} socket {} (rid {})", resend ? "resent" : "sent", name, row.n,
              *env.rid);
}

void Worker::log_sent(const SessionRow& row, std::string_view name, const std::string& rid, const std::string& text,
                      const std::string& actor) {
    command_log_.push_back(CommandSent{row.device_id, std::string(name), row.n, rid, data_of(text),
                                       command_requester(actor, row), row.id, clock_.now_ms()});
}

void Worker::log_answered(const std::string& rid, const std::optional<ReplyFields>& f) {
    if (f)
        command_log_.push_back(
            CommandAnswered{rid, f->status, logged_reply(*f), command_outcome(f->status), clock_.now_ms()});
    else
        command_log_.push_back(CommandAnswered{rid, std::nullopt, std::nullopt, "timeout", clock_.now_ms()});
}

void Worker::flush_command_log() {
    if (command_log_.empty())
        return;
    store_.log_commands(command_log_); // throws when it cannot commit: the entries stay pending
    command_log_.clear();
}

void Worker::send_stop(const SessionRow& row, const std::string& rid, EpochMs exp, bool resend,
                       const std::string& actor) {
    if (!may_send(exp, clock_.now_ms()))
        return;
    auto env = next_env();
    env.rid = rid;
    env.exp = exp;
    const auto name = session_command_name(row.device_id, CommandKind::Stop);
    std::string text;
    if (is_charger(row.device_id))
        text = payloads::encode(payloads::Message<payloads::EvStopSessionCmd>{env, {row.id}});
    else
        text = payloads::encode(payloads::Message<payloads::EbikeStopPort>{env, {row.n, row.id}});
    mqtt_.publish({topics::cmd(row.device_id, name), text, 1, false});
    log_sent(row, name, rid, text, actor); // a resend keeps the first entry
    (resend ? counters_.commands_resent : counters_.commands_sent)++;
    log::info(log::Ctx{row.device_id, row.id}, "{} {} socket {} (rid {})", resend ? "resent" : "sent", name, row.n,
              rid);
}

void Worker::publish_state(const SessionRow& row, std::optional<State> prev, const std::string& reason,
                           const std::string& actor) {
    mqtt_.publish({topics::session_state(row.id),
                   svc::encode(session_transition(row, prev, reason, actor, clock_.now_ms())), 1, false});
}

void Worker::reply_device(const std::string& dev, std::string_view name, const std::string& payload) {
    mqtt_.publish({topics::req_reply(dev, name), payload, 1, false});
}

void Worker::reply_plain(const std::string& dev, std::string_view name, const std::string& rid, ReplyStatus status,
                         std::optional<ErrorCode> code, std::optional<std::string> msg) {
    payloads::Message<payloads::Reply<payloads::Empty>> r;
    r.env = next_env();
    r.env.rid = rid;
    r.data.status = status;
    r.data.code = code;
    if (msg && msg->size() > 256)
        msg->resize(256);
    r.data.msg = std::move(msg);
    reply_device(dev, name, payloads::encode(r));
}

} // namespace pilehub::sessiond
