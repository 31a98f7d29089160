#include "workers/sessiond/sessiond_worker.hpp"

#include "common/daemon.hpp"
#include "common/ledger.hpp"
#include "common/log.hpp"
#include "common/topics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>

namespace pilehub::sessiond {
namespace {

/// Rids of rpc device commands start with this; session commands are `<sid>.start|stop`.
constexpr std::string_view kDeviceCommandPrefix = "dc-";
/// How many answered authorisations and device-command requests are remembered for duplicates.
constexpr std::size_t kRemembered = 4096;

using payloads::ReplyStatus;

std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

std::int64_t whole_watts(double w) {
    return static_cast<std::int64_t>(std::llround(std::max(0.0, w)));
}

rpc::Reply refuse(ErrorCode code, std::string msg) {
    return rpc::Reply::refuse(std::string(to_string(code)), std::move(msg), "rejected");
}

rpc::Reply invalid(std::string msg) {
    return rpc::Reply::refuse(std::string(to_string(ErrorCode::InvalidRequest)), std::move(msg), "invalid");
}

std::string refusal_message(ErrorCode code, const sockets::SocketRef &ref) {
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
    default:
        return std::string(to_string(code));
    }
}

/// A session record synthesized from the last report, for an operator's force-end.
RecordData forced_record(const SessionRow &row, EpochMs now) {
    RecordData r;
    r.msg_id = "forced:" + row.id;
    r.stop_reason = "forced";
    r.energy_wh = row.energy_wh;
    r.max_power_w = row.max_power_w;
    r.started_at = row.started_at;
    r.ended_at = row.last_report_at.value_or(now);
    if (row.started_at && r.ended_at > *row.started_at)
        r.duration_s = (r.ended_at - *row.started_at) / 1000;
    return r;
}

/// A reply's `status`, `code`, `msg` and raw `data` (device replies of any command).
struct ReplyFields {
    std::string status;
    std::string code;
    std::string msg;
    std::string data_json = "{}";
};

std::optional<ReplyFields> read_reply(std::string_view payload) {
    auto doc = json::parse(payload);
    if (!doc)
        return std::nullopt;
    std::string err;
    auto o = json::Object::root(*doc, &err);
    ReplyFields f;
    f.status = o.req_str("status", 16);
    f.code = o.opt_str("code", 64).value_or("");
    f.msg = o.opt_str("msg", 256).value_or("");
    if (const auto *d = o.raw("data"); d && d->IsObject() && json::nesting_depth(*d) <= json::kMaxDepth) {
        json::Writer w;
        w.raw_value(*d);
        f.data_json = w.str();
    }
    if (!o.ok())
        return std::nullopt;
    return f;
}

void remember(std::map<std::string, std::string> &map, std::deque<std::string> &order, const std::string &key,
              std::string value) {
    if (map.insert_or_assign(key, std::move(value)).second) {
        order.push_back(key);
        if (order.size() > kRemembered) {
            map.erase(order.front());
            order.pop_front();
        }
    }
}

} // namespace

// ---- wire shapes ----------------------------------------------------------------------------

void write_session(json::Writer &w, const SessionRow &row) {
    w.begin_object()
        .field("id", row.id)
        .field("state", to_string(row.state))
        .field("socket", sockets::socket_code({row.device_id, row.n}))
        .field("mode", row.mode)
        .opt_field("minutes", row.minutes)
        .field("method", row.method)
        .field("account_id", row.account_id)
        .field("created_at", row.created_at)
        .opt_field("started_at", row.started_at)
        .opt_field("ended_at", row.ended_at)
        .field("energy_wh", row.energy_wh)
        .field("duration_s", row.duration_s)
        .field("max_power_w", row.max_power_w)
        .opt_field("stop_reason", row.stop_reason)
        .opt_field("failure", row.failure)
        .opt_field("cost_fen", row.cost_fen)
        .end_object();
}

std::string session_state_payload(const SessionRow &row, std::optional<State> prev, const std::string &reason,
                                  const std::string &actor, EpochMs ts) {
    json::Writer w;
    w.begin_object().field("v", 1).field("sid", row.id).field("state", to_string(row.state)).key("prev");
    if (prev)
        w.value(to_string(*prev));
    else
        w.null();
    w.field("reason", reason)
        .field("actor", actor)
        .field("ts", ts)
        .field("record", row.record_msg_id.has_value())
        .field("device_id", row.device_id)
        .field("n", row.n)
        .field("account_id", row.account_id)
        .field("method", row.method)
        .end_object();
    return w.str();
}

std::string card_sid(const std::string &device_id, const std::string &msg_id) {
    return fmt::format("C{:016x}", fnv1a(device_id + "/" + msg_id));
}

// ---- life cycle -----------------------------------------------------------------------------

Worker::Worker(db::Database &db, mqtt::Client &mqtt, const Clock &clock, Options options)
    : db_(db), store_(db), mqtt_(mqtt), clock_(clock), opts_(std::move(options)), tariffs_(db),
      rng_(std::random_device{}()) {}

Worker::~Worker() = default;

void Worker::attach() {
    router_.add(mqtt_, topics::any_device::presence(), 1, [this](const mqtt::Message &m) { on_device_presence(m); });
    router_.add(mqtt_, topics::any_device_presence(), 1, [this](const mqtt::Message &m) { on_presence_verdict(m); });
    router_.add(mqtt_, topics::any_device::conn_state(), 1, [this](const mqtt::Message &m) { on_conn_state(m); });
    router_.add(mqtt_, topics::any_device::evt(), 1, [this](const mqtt::Message &m) { on_event(m); });
    router_.add(mqtt_, topics::any_device::req(), 1, [this](const mqtt::Message &m) { on_request(m); });
    router_.add(mqtt_, topics::any_device::cmd_reply(), 1, [this](const mqtt::Message &m) { on_cmd_reply(m); });
    router_.add(mqtt_, topics::any_device::tele(), 0, [this](const mqtt::Message &m) { on_tele(m); });
    server_ = std::make_unique<rpc::Server>(mqtt_, router_, opts_.service, clock_);
    server_->handle("start", [this](rpc::Request &r) { return rpc_start(r); });
    server_->handle("stop", [this](rpc::Request &r) { return rpc_stop(r); });
    server_->handle("force_end", [this](rpc::Request &r) { return rpc_force_end(r); });
    mqtt_.on_message([this](const mqtt::Message &m) { on_message(m); });
    mqtt_.on_connect([this] { on_connected(); });
}

void Worker::resume() {
    std::lock_guard l(m_);
    const auto rows = store_.open_sessions();
    std::size_t armed = 0;
    for (const auto &r : rows) {
        if (r.cmd_exp) {
            deadlines_.arm(r.id, timeout_at(*r.cmd_exp, opts_.reply_grace_ms));
            ++armed;
        }
    }
    resumed_ = true;
    log::info("resumed {} open sessions, {} awaiting the pile", rows.size(), armed);
}

void Worker::on_connected() {
    std::lock_guard l(m_);
    try {
        mqtt_.publish(daemon::status_message(opts_.process, true));
        if (!first_connect_)
            return; // later reconnects: Paho delivers what was queued, the broker kept our session
        first_connect_ = false;
        const auto now = clock_.now_ms();
        for (const auto &r : store_.open_sessions()) {
            // A command committed just before a crash may never have left: resend it, same rid and
            // exp (the pile drops a duplicate), unless it has expired.
            if (r.cmd_rid && r.cmd_exp && may_send(*r.cmd_exp, now)) {
                if (auto k = parse_command_rid(*r.cmd_rid); k && k->second == CommandKind::Start)
                    send_start(r, true);
                else if (k)
                    send_stop(r, *r.cmd_rid, *r.cmd_exp, true);
            }
            // A record committed just before a crash may never have been announced to billingd.
            if (r.record_msg_id)
                publish_state(r, r.state, "resume", "sessiond");
        }
        // The retained presence and conn states have arrived by now (the broker sends them after each
        // SUBACK, and this runs after the last one): the requests queued while we were away may run.
        warm_ = true;
        auto early = std::move(early_rpc_);
        early_rpc_.clear();
        for (const auto &m : early)
            dispatch(m);
    } catch (const std::exception &e) {
        counters_.handler_errors++;
        log::error("on connect: {}", e.what());
    }
}

void Worker::on_message(const mqtt::Message &m) {
    std::lock_guard l(m_);
    try {
        dispatch(m);
    } catch (const std::exception &e) {
        // The worker loop that calls us decides (common/worker_loop.hpp): a storage failure is
        // retried, then the process exits without acknowledging the message; anything else is skipped.
        counters_.handler_errors++;
        log::error("{}: {}", m.topic, e.what());
        throw;
    }
}

void Worker::dispatch(const mqtt::Message &m) {
    if (!warm_ && topics::matches(topics::rpc_any(opts_.service), m.topic)) {
        // Requests queued by the broker while we were down arrive before the retained presence
        // and conn states: checking a start against an empty picture would refuse it wrongly.
        early_rpc_.push_back(m);
        return;
    }
    // device_command answers later, when the device does; rpc::Server answers when the handler returns.
    if (m.topic == topics::rpc(opts_.service, "device_command"))
        rpc_device_command(m);
    else
        router_.dispatch(m);
}

void Worker::tick() {
    std::lock_guard l(m_);
    const auto now = clock_.now_ms();
    for (const auto &sid : deadlines_.due(now)) {
        try {
            auto row = store_.session(sid);
            if (!row || !row->cmd_exp || !is_live(row->state))
                continue;
            const auto at = timeout_at(*row->cmd_exp, opts_.reply_grace_ms);
            if (now < at) {
                deadlines_.arm(sid, at);
                continue;
            }
            Event e = Event::StartTimedOut;
            if (row->cmd_rid)
                if (auto k = parse_command_rid(*row->cmd_rid); k && k->second == CommandKind::Stop)
                    e = Event::StopTimedOut;
            Cause c{"timeout", "sessiond", {}, {}, {}, {}};
            c.failure = row->cmd_rid ? fmt::format("no answer to {} before it expired", *row->cmd_rid)
                                     : std::string("the pile did not start the card session in time");
            process(sid, e, c);
        } catch (const std::exception &ex) {
            counters_.handler_errors++;
            log::error(log::Ctx{{}, sid}, "time-out: {}", ex.what());
        }
    }
    for (const auto &rid : dc_deadlines_.due(now)) {
        auto it = dc_pending_.find(rid);
        if (it == dc_pending_.end())
            continue;
        answer_rpc(it->second,
                   rpc::Reply::refuse("timeout",
                                      fmt::format("{} did not answer {}", it->second.device_id, it->second.name),
                                      "failed"));
        dc_pending_.erase(it);
    }
}

std::optional<EpochMs> Worker::next_deadline() {
    std::lock_guard l(m_);
    auto a = deadlines_.next();
    auto b = dc_deadlines_.next();
    if (a && b)
        return std::min(*a, *b);
    return a ? a : b;
}

Worker::Counters Worker::counters() {
    std::lock_guard l(m_);
    return counters_;
}

// ---- the one path of every session change ---------------------------------------------------

Worker::Result Worker::process(const std::string &sid, Event e, const Cause &cause) {
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
        const bool track_stop = d.send_stop && is_live(d.next);
        const bool clear = has_cmd && !track_stop && (d.clear_command || !is_live(d.next));
        const bool record_missing = (d.commit_record && !cause.record);
        const bool write = !record_missing && (d.verdict == Verdict::Apply || d.send_stop || clear);
        if (!write) {
            if (cause.msg && !store_.mark_processed(*cause.msg, now))
                res.duplicate = true;
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
            c.record = forced_record(*row, now);
        if (d.send_stop)
            c.stop_requested = cause.reason;
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
        auto after = store_.session(sid);
        if (!after)
            return res;
        res.row = after;
        if (c.command == CommandChange::Set)
            deadlines_.arm(sid, timeout_at(stop_exp, opts_.reply_grace_ms));
        else if (c.command == CommandChange::Clear)
            deadlines_.disarm(sid);
        if (d.send_stop)
            send_stop(*after, stop_rid, stop_exp, false);
        if (c.record)
            counters_.records_committed++;
        if (d.next != row->state || c.record)
            publish_state(*after, row->state, cause.reason, cause.actor);
        log::info(log::Ctx{after->device_id, sid}, "{}: {} -> {} ({} by {}){}", to_string(e), to_string(row->state),
                  to_string(after->state), cause.reason, cause.actor, c.record ? ", record committed" : "");
        return res;
    }
    log::warn(log::Ctx{{}, sid}, "{}: the row kept moving; gave up", to_string(e));
    return res;
}

// ---- rpc ------------------------------------------------------------------------------------

rpc::Reply Worker::rpc_start(rpc::Request &r) {
    const auto account_id = r.data.req_int("account_id", 1);
    const auto socket = r.data.req_str("socket", 64);
    const auto mode_word = r.data.req_str("mode", 16);
    const auto minutes = r.data.opt_int("minutes", 1, 2880);
    const auto method = r.data.opt_str("method", 16).value_or("app");
    if (!r.data.ok())
        return invalid("start needs account_id, socket and mode");
    if (method != "app")
        return invalid("only app sessions start over rpc; card sessions start at the pile");
    const auto ref = sockets::parse_socket_code(socket);
    if (!ref)
        return refuse(ErrorCode::UnknownSocket, fmt::format("`{}` is not a socket code", socket));
    const auto mode = billing::parse_mode(mode_word);
    if (!mode)
        return refuse(ErrorCode::InvalidMode, fmt::format("`{}` is not a charging mode", mode_word));

    auto plan = plan_start(account_id, *ref, "app", ModeChoice{*mode, minutes});
    if (const auto *no = std::get_if<Refusal>(&plan)) {
        log::info(log::Ctx{ref->device_id, {}}, "start refused for account {}: {}", account_id, to_string(no->code));
        return refuse(no->code, no->msg);
    }
    const auto &p = std::get<StartPlan>(plan);
    const auto now = clock_.now_ms();
    NewSession s;
    s.id = new_app_sid();
    s.account_id = account_id;
    s.method = "app";
    s.device_id = ref->device_id;
    s.n = ref->n;
    s.station_id = p.socket.station_id;
    s.mode = std::string(billing::to_string(p.mode.mode));
    s.minutes = p.mode.minutes;
    s.tariff_id = p.tariff_id;
    s.cmd_rid = command_rid(s.id, CommandKind::Start);
    s.cmd_exp = command_exp(now, opts_.command_timeout_ms);
    s.created_at = now;
    s.actor = "rider";
    s.reason = "start";
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
    const auto row = store_.session(s.id);
    if (!row)
        return rpc::Reply::refuse("internal", "the new session vanished", "failed");
    deadlines_.arm(s.id, timeout_at(s.cmd_exp, opts_.reply_grace_ms));
    send_start(*row, false);
    publish_state(*row, std::nullopt, s.reason, s.actor);
    log::info(log::Ctx{s.device_id, s.id}, "session created for account {} ({} {})", account_id, s.mode,
              s.minutes ? fmt::format("{} min", *s.minutes) : std::string("until full"));
    json::Writer w;
    w.begin_object().key("session");
    write_session(w, *row);
    w.end_object();
    return rpc::Reply::success(w.str());
}

rpc::Reply Worker::rpc_stop(rpc::Request &r) {
    const auto sid = r.data.req_str("session_id", 64);
    const auto reason = r.data.opt_str("reason", 32).value_or("user_stop");
    const auto actor = r.data.opt_str("actor", 64).value_or("rider");
    if (!r.data.ok() || sid.empty() || reason.empty())
        return invalid("stop needs session_id (and optionally reason, actor)");
    const auto res = process(sid, Event::StopRequested, Cause{reason, actor, {}, {}, {}, {}});
    if (!res.row)
        return refuse(ErrorCode::NotFound, fmt::format("no session {}", sid));
    json::Writer w;
    w.begin_object().key("session");
    write_session(w, *res.row);
    w.field("changed", res.verdict == Verdict::Apply).end_object();
    return rpc::Reply::success(w.str());
}

rpc::Reply Worker::rpc_force_end(rpc::Request &r) {
    const auto sid = r.data.req_str("session_id", 64);
    const auto op = r.data.req_str("operator", 64);
    if (!r.data.ok() || sid.empty() || op.empty())
        return invalid("force_end needs session_id and operator");
    const auto res = process(sid, Event::ForceEnd, Cause{"forced", "operator:" + op, {}, {}, {}, {}});
    if (!res.row)
        return refuse(ErrorCode::NotFound, fmt::format("no session {}", sid));
    if (res.verdict == Verdict::Refuse)
        return refuse(ErrorCode::Conflict, fmt::format("session {} is already {}", sid, to_string(res.row->state)));
    json::Writer w;
    w.begin_object().key("session");
    write_session(w, *res.row);
    w.field("changed", res.verdict == Verdict::Apply).end_object();
    return rpc::Reply::success(w.str());
}

void Worker::rpc_device_command(const mqtt::Message &m) {
    auto doc = json::parse(m.payload);
    if (!doc)
        return;
    std::string err;
    auto o = json::Object::root(*doc, &err);
    const auto rid = o.req_str("rid", 64);
    const auto reply_to = o.req_str("reply_to", 200);
    const auto from = o.opt_str("from", 100).value_or("");
    const auto exp = o.opt_int("exp", 0);
    if (rid.empty() || reply_to.rfind(topics::rpc_reply(""), 0) != 0) {
        log::warn("rpc device_command without a usable rid/reply_to");
        return;
    }
    const auto key = from + "/" + rid;
    if (auto it = dc_answered_.find(key); it != dc_answered_.end()) {
        if (!it->second.empty()) // else the device has not answered yet; the answer goes out then
            mqtt_.publish({reply_to, it->second, 1, false});
        return;
    }
    PendingDeviceCommand p;
    p.rpc_rid = rid;
    p.reply_to = reply_to;
    p.key = key;
    auto answer = [&](const rpc::Reply &r) { answer_rpc(p, r); };
    const auto now = clock_.now_ms();
    if (exp && *exp < now)
        return answer(rpc::Reply::refuse("expired", "the request expired before it was handled", "expired"));

    static const rapidjson::Value kEmpty(rapidjson::kObjectType);
    const auto *raw = o.raw("data");
    json::Object data(raw ? raw : &kEmpty, "data", &err);
    p.device_id = data.req_str("device_id", 48);
    p.name = data.req_str("name", 32);
    auto args = data.opt_obj("data");
    std::function<std::string(const payloads::Envelope &)> build;
    if (p.name == "reboot") {
        payloads::CmdReboot c;
        if (auto w = args.opt_str("when", 16)) {
            auto when = payloads::parse_enum<payloads::RebootWhen>(*w);
            if (!when)
                return answer(invalid("data.data.when must be now or when_idle"));
            c.when = *when;
        }
        build = [c](const payloads::Envelope &e) {
            return payloads::encode(payloads::Message<payloads::CmdReboot>{e, c});
        };
    } else if (p.name == "set_time") {
        const payloads::CmdSetTime c{args.opt_int("epoch_ms", 0, payloads::kMaxEpochMs).value_or(now)};
        build = [c](const payloads::Envelope &e) {
            return payloads::encode(payloads::Message<payloads::CmdSetTime>{e, c});
        };
    } else if (p.name == "query_port") {
        const payloads::EbikeQueryPort c{static_cast<int>(args.req_int("n", 1, payloads::kMaxSockets))};
        build = [c](const payloads::Envelope &e) {
            return payloads::encode(payloads::Message<payloads::EbikeQueryPort>{e, c});
        };
    } else if (p.name == "query_device") {
        build = [](const payloads::Envelope &e) {
            return payloads::encode(payloads::Message<payloads::EbikeQueryDevice>{e, {}});
        };
    } else if (o.ok()) {
        return answer(rpc::Reply::refuse("unsupported", fmt::format("no device command `{}`", p.name), "unsupported"));
    }
    if (!o.ok())
        return answer(invalid(err));
    if (!topics::valid_device_id(p.device_id) || !store_.device_exists(p.device_id))
        return answer(refuse(ErrorCode::UnknownDevice, fmt::format("no device {}", p.device_id)));
    if (!device_online(p.device_id))
        return answer(refuse(ErrorCode::DeviceOffline, fmt::format("{} is offline", p.device_id)));

    auto env = next_env();
    env.rid = fmt::format("{}{}-{}", kDeviceCommandPrefix, now, ++dc_counter_);
    env.exp = command_exp(now, opts_.command_timeout_ms);
    if (exp)
        env.exp = std::min(*env.exp, *exp);
    mqtt_.publish({topics::cmd(p.device_id, p.name), build(env), 1, false});
    p.deadline = timeout_at(*env.exp, opts_.reply_grace_ms);
    dc_deadlines_.arm(*env.rid, p.deadline);
    remember(dc_answered_, dc_answered_order_, key, ""); // pending: a repeated request waits for the device
    log::info(log::Ctx{p.device_id, {}}, "device command {} (rid {}) for {}", p.name, *env.rid, from);
    dc_pending_.emplace(*env.rid, std::move(p));
}

void Worker::answer_rpc(const PendingDeviceCommand &p, const rpc::Reply &r) {
    const auto text = rpc::encode_reply(p.rpc_rid, r);
    remember(dc_answered_, dc_answered_order_, p.key, text);
    mqtt_.publish({p.reply_to, text, 1, false});
}

// ---- pre-checks -----------------------------------------------------------------------------

std::variant<Worker::StartPlan, Worker::Refusal>
Worker::plan_start(std::int64_t account_id, const sockets::SocketRef &ref, const std::string &method,
                   std::optional<ModeChoice> mode) {
    const auto now = clock_.now_ms();
    StartFacts f;
    StartPlan p;
    const auto wallet = ledger::Ledger(db_, clock_).wallet(account_id);
    f.account_exists = wallet.has_value();
    f.account_frozen = wallet && wallet->frozen;
    f.available_fen = wallet ? wallet->available() : Fen(0);
    const auto sock = store_.socket(ref.device_id, ref.n);
    f.socket_exists = sock && sock->kind == "ebike_pile";
    if (f.socket_exists) {
        p.socket = *sock;
        const auto tariff = tariffs_.in_force(sock->station_id, sock->area_id, now);
        if (tariff.tariff) {
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
        sf.device_online = method == "card" || device_online(ref.device_id);
        sf.fault_open = store_.has_open_fault(ref.device_id, ref.n);
        sf.session_live = store_.live_on_socket(ref.device_id, ref.n).has_value();
        if (const auto cs = conn_.find({ref.device_id, ref.n}); cs != conn_.end())
            sf.reported = sockets::reported(cs->second);
        f.socket = sockets::socket_availability(sf);
    }
    if (f.account_exists)
        f.method_in_use = store_.has_live_method(account_id, method);
    p.available_fen = f.available_fen.value();
    if (const auto code = precheck(f))
        return Refusal{*code, refusal_message(*code, ref),
                       wallet ? std::optional<std::int64_t>(f.available_fen.value()) : std::nullopt};
    return p;
}

// ---- presence -------------------------------------------------------------------------------

bool Worker::device_online(const std::string &device_id) {
    if (auto it = presence_.find(device_id); it != presence_.end() && it->second.known)
        return it->second.online;
    return store_.presence(device_id).value_or(false);
}

void Worker::on_device_presence(const mqtt::Message &m) {
    const auto t = topics::parse_device_topic(m.topic);
    if (!t || m.payload.empty())
        return;
    const auto p = payloads::decode_presence(m.payload);
    if (!p) {
        log::warn(log::Ctx{t->device_id, {}}, "unreadable presence: {}", p.error());
        return;
    }
    if (auto change = apply_presence(presence_[t->device_id], p->online, p->boot))
        presence_changed(t->device_id, *change, p->reason.value_or(p->online ? "online" : "offline"), "pile");
}

void Worker::on_presence_verdict(const mqtt::Message &m) {
    const auto dev = topics::device_of_presence(m.topic);
    if (!dev || m.payload.empty())
        return;
    auto doc = json::parse(m.payload);
    if (!doc)
        return;
    std::string err;
    auto o = json::Object::root(*doc, &err);
    const bool online = o.req_bool("online");
    const auto boot = o.opt_int("boot", 0);
    const auto reason = o.opt_str("reason", 64).value_or(online ? "online" : "offline");
    if (!o.ok()) {
        log::warn(log::Ctx{*dev, {}}, "unreadable presence verdict: {}", err);
        return;
    }
    if (auto change = apply_presence(presence_[*dev], online, boot))
        presence_changed(*dev, *change, reason, "presenced");
}

void Worker::presence_changed(const std::string &dev, bool online, const std::string &reason,
                              const std::string &actor) {
    log::info(log::Ctx{dev, {}}, "pile {} ({}, from {})", online ? "online" : "offline", reason, actor);
    if (online)
        return; // §3: a suspended session waits for the pile's record, resent after it reconnects
    for (const auto &row : store_.live_on_device(dev))
        process(row.id, Event::PileOffline, Cause{"offline:" + reason, actor, {}, {}, {}, {}});
}

// ---- device uplinks -------------------------------------------------------------------------

void Worker::on_conn_state(const mqtt::Message &m) {
    const auto t = topics::parse_device_topic(m.topic);
    if (!t || t->leaf != topics::Leaf::ConnState)
        return;
    const auto key = std::make_pair(t->device_id, t->n);
    if (m.payload.empty()) {
        conn_.erase(key);
        return;
    }
    const auto cs = payloads::decode<payloads::EbikeConnState>(m.payload);
    if (!cs) {
        log::debug(log::Ctx{t->device_id, {}}, "conn/{}/state not an e-bike socket state: {}", t->n, cs.error());
        return;
    }
    const auto &st = cs->data;
    conn_[key] = st;
    Cause c{fmt::format("conn_state:{}", payloads::to_string(st.st)), "pile", {}, {}, {}, {}};
    if (st.since > 0)
        c.started_at = st.since;
    const auto live = store_.live_on_socket(t->device_id, t->n);
    if (live)
        if (auto e = conn_event(st, live->id))
            process(live->id, *e, c);
    if (st.sid && (!live || live->id != *st.sid)) {
        // The pile runs (or ran) a session that no longer holds the socket here, e.g. one we failed.
        const auto other = store_.session(*st.sid);
        if (other && other->device_id == t->device_id && other->n == t->n)
            if (auto e = conn_event(st, other->id))
                process(other->id, *e, c);
    }
}

void Worker::on_event(const mqtt::Message &m) {
    const auto t = topics::parse_device_topic(m.topic);
    if (!t || t->leaf != topics::Leaf::Evt)
        return;
    const auto &dev = t->device_id;
    auto belongs = [&](const std::string &sid, int n) {
        const auto row = store_.session(sid);
        if (row && row->device_id == dev && row->n == n)
            return true;
        log::warn(log::Ctx{dev, sid}, "evt/{} for a session this socket does not hold", t->name);
        return false;
    };
    if (t->name == "session_started") {
        const auto ev = payloads::decode<payloads::EbikeSessionStarted>(m.payload);
        if (!ev) {
            log::warn(log::Ctx{dev, {}}, "evt/session_started unreadable: {}", ev.error());
            return;
        }
        if (!belongs(ev->data.sid, ev->data.n))
            return;
        Cause c{"session_started", "pile", MessageKey{dev, *ev->env.id}, {}, {}, {}};
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
        store_.report(dev, {Report{ev->data.sid, ev->data.energy_wh, 0, clock_.now_ms()}});
        process(
            ev->data.sid, Event::PileStopped,
            Cause{std::string(payloads::to_string(ev->data.reason)), "pile", MessageKey{dev, *ev->env.id}, {}, {}, {}});
    }
}

void Worker::on_tele(const mqtt::Message &m) {
    const auto t = topics::parse_device_topic(m.topic);
    if (!t || t->leaf != topics::Leaf::Tele)
        return;
    const auto tele = payloads::decode<payloads::EbikeTele>(m.payload);
    if (!tele)
        return; // another kind's telemetry, or unreadable: recorderd reports those
    std::vector<Report> reports;
    const auto now = clock_.now_ms();
    for (const auto &s : tele->data.sockets)
        if (s.sid && s.session_energy_wh)
            reports.push_back({*s.sid, *s.session_energy_wh, whole_watts(s.power_w), now});
    store_.report(t->device_id, reports);
}

void Worker::on_request(const mqtt::Message &m) {
    const auto t = topics::parse_device_topic(m.topic);
    if (!t || t->leaf != topics::Leaf::Req)
        return;
    if (t->name == "authorize")
        return on_authorize(t->device_id, m.payload);
    if (t->name == "session_record")
        return on_record(t->device_id, m.payload);
    // Every request gets an answer within 5 s (CONTRACT A.6), even one we do not serve.
    if (const auto env = payloads::peek_envelope(m.payload); env && env->rid)
        reply_plain(t->device_id, t->name, *env->rid, ReplyStatus::Unsupported, ErrorCode::Unsupported,
                    fmt::format("the platform does not serve req/{}", t->name));
}

void Worker::on_authorize(const std::string &dev, std::string_view payload) {
    const auto m = payloads::decode<payloads::EbikeAuthorize>(payload);
    if (!m) {
        if (const auto env = payloads::peek_envelope(payload); env && env->rid)
            reply_plain(dev, "authorize", *env->rid, ReplyStatus::Invalid, ErrorCode::InvalidRequest, m.error());
        return;
    }
    const MessageKey key{dev, *m->env.id};
    const auto cache_key = dev + "/" + key.msg_id;
    if (auto it = auth_replies_.find(cache_key); it != auth_replies_.end())
        return reply_device(dev, "authorize", it->second);
    auto respond = [&](const payloads::AuthorizeReply &a) {
        const auto text = payloads::encode(payloads::make_reply(*m, next_env(), ReplyStatus::Ok, a));
        remember(auth_replies_, auth_order_, cache_key, text);
        reply_device(dev, "authorize", text);
    };
    auto reject = [&](ErrorCode code, std::optional<std::int64_t> balance) {
        payloads::AuthorizeReply a;
        a.decision = payloads::Decision::Reject;
        a.reason = code;
        a.balance_fen = balance;
        log::info(log::Ctx{dev, {}}, "card {} at socket {} rejected: {}", m->data.card_uid, m->data.n, to_string(code));
        return a;
    };
    auto accept = [&](const SessionRow &row, std::int64_t balance) {
        payloads::AuthorizeReply a;
        a.decision = payloads::Decision::Accept;
        a.balance_fen = balance;
        a.sid = row.id;
        a.limit = limit_of(row);
        return a;
    };
    const auto now = clock_.now_ms();

    if (store_.processed(key)) {
        // Answered before (and forgotten since a restart): the session, if one was made, is found by its id.
        const auto row = store_.session(card_sid(dev, key.msg_id));
        if (row)
            return respond(accept(*row, ledger::Ledger(db_, clock_).available(row->account_id).value()));
        return respond(reject(ErrorCode::Duplicate, std::nullopt));
    }
    const auto card = store_.card(m->data.card_uid);
    if (!card || !card->account_id) {
        store_.mark_processed(key, now);
        return respond(reject(ErrorCode::UnknownCard, std::nullopt));
    }
    if (card->status != "active") {
        store_.mark_processed(key, now);
        return respond(reject(ErrorCode::CardLost, std::nullopt));
    }
    const sockets::SocketRef ref{dev, m->data.n};
    auto plan = plan_start(*card->account_id, ref, "card", std::nullopt);
    if (const auto *no = std::get_if<Refusal>(&plan)) {
        store_.mark_processed(key, now);
        return respond(reject(no->code, no->available_fen));
    }
    const auto &p = std::get<StartPlan>(plan);
    NewSession s;
    s.id = card_sid(dev, key.msg_id);
    s.account_id = *card->account_id;
    s.method = "card";
    s.card_no = card->card_no;
    s.device_id = dev;
    s.n = ref.n;
    s.station_id = p.socket.station_id;
    s.mode = std::string(billing::to_string(p.mode.mode));
    s.minutes = p.mode.minutes;
    s.tariff_id = p.tariff_id;
    s.cmd_exp = now + opts_.card_start_timeout_ms; // no command: the pile starts itself
    s.created_at = now;
    s.actor = "card";
    s.reason = "card";
    switch (store_.create(s, key)) {
    case CreateOutcome::Created:
        break;
    case CreateOutcome::Duplicate: {
        const auto row = store_.session(s.id);
        return respond(row ? accept(*row, p.available_fen) : reject(ErrorCode::Duplicate, std::nullopt));
    }
    case CreateOutcome::SocketTaken:
        store_.mark_processed(key, now);
        return respond(reject(ErrorCode::SocketBusy, p.available_fen));
    case CreateOutcome::MethodTaken:
        store_.mark_processed(key, now);
        return respond(reject(ErrorCode::SessionLimit, p.available_fen));
    }
    const auto row = store_.session(s.id);
    if (!row)
        return;
    deadlines_.arm(s.id, timeout_at(s.cmd_exp, opts_.reply_grace_ms));
    respond(accept(*row, p.available_fen));
    publish_state(*row, std::nullopt, s.reason, s.actor);
    log::info(log::Ctx{dev, s.id}, "card {} accepted at socket {} for account {} ({})", card->card_no, ref.n,
              s.account_id, s.mode);
}

void Worker::on_record(const std::string &dev, std::string_view payload) {
    const auto m = payloads::decode<payloads::EbikeSessionRecord>(payload);
    if (!m) {
        if (const auto env = payloads::peek_envelope(payload); env && env->rid)
            reply_plain(dev, "session_record", *env->rid, ReplyStatus::Invalid, ErrorCode::InvalidRequest, m.error());
        return;
    }
    const auto &rec = m->data;
    const auto row = store_.session(rec.sid);
    if (!row || row->device_id != dev || row->n != rec.n) {
        // Never acknowledged: the pile keeps it, and an operator can look into it.
        log::error(log::Ctx{dev, rec.sid}, "session_record {} for a session this socket never ran", *m->env.id);
        reply_plain(dev, "session_record", *m->env.rid, ReplyStatus::Rejected, ErrorCode::NotFound,
                    fmt::format("no session {} on socket {}", rec.sid, rec.n));
        return;
    }
    const auto now = clock_.now_ms();
    const auto reason = std::string(payloads::to_string(rec.reason));
    Cause c{"record:" + reason, "pile", MessageKey{dev, *m->env.id}, {}, {}, {}};
    RecordData r;
    r.msg_id = *m->env.id;
    r.stop_reason = ended_reason(reason, row->stop_requested);
    r.energy_wh = rec.energy_wh;
    r.duration_s = rec.duration_s;
    r.max_power_w = whole_watts(rec.max_power_w);
    if (rec.start_ts > 0)
        r.started_at = rec.start_ts;
    r.ended_at = rec.stop_ts > 0 ? rec.stop_ts : now;
    c.record = r;
    const auto res = process(rec.sid, Event::RecordReceived, c);
    if (res.duplicate)
        log::info(log::Ctx{dev, rec.sid}, "session_record {} again: acknowledged, nothing changed", r.msg_id);
    // Only now, with the record (or its id) committed, is the pile told it may forget it.
    reply_device(dev, "session_record", payloads::encode(payloads::make_reply(*m, next_env(), ReplyStatus::Ok)));
}

void Worker::on_cmd_reply(const mqtt::Message &m) {
    const auto t = topics::parse_device_topic(m.topic);
    if (!t || t->leaf != topics::Leaf::CmdReply)
        return;
    const auto env = payloads::peek_envelope(m.payload);
    if (!env || !env->rid)
        return;
    const auto &rid = *env->rid;
    if (rid.rfind(kDeviceCommandPrefix, 0) == 0)
        return device_command_reply(t->device_id, rid, m.payload);
    const auto k = parse_command_rid(rid);
    if (!k)
        return;
    const bool is_start = k->second == CommandKind::Start;
    if (t->name != (is_start ? "start_port" : "stop_port"))
        return;
    const auto f = read_reply(m.payload);
    if (!f || f->status == "accepted")
        return; // unreadable, or interim: the final answer (or the time-out) decides
    const auto row = store_.session(k->first);
    if (!row || row->device_id != t->device_id)
        return;
    const bool ok = f->status == "ok";
    const Event e =
        is_start ? (ok ? Event::StartAccepted : Event::StartRefused) : (ok ? Event::StopAccepted : Event::StopRefused);
    Cause c{fmt::format("{}:{}", t->name, f->code.empty() ? f->status : f->code), "pile", {}, {}, {}, {}};
    if (!ok)
        c.failure = fmt::format("{} {} {} {}", t->name, f->status, f->code, f->msg);
    if (e == Event::StartAccepted)
        c.started_at = clock_.now_ms();
    process(k->first, e, c);
}

void Worker::device_command_reply(const std::string &dev, const std::string &rid, std::string_view payload) {
    auto it = dc_pending_.find(rid);
    if (it == dc_pending_.end() || it->second.device_id != dev)
        return;
    const auto f = read_reply(payload);
    if (!f || f->status == "accepted")
        return;
    answer_rpc(it->second, rpc::Reply{f->status, f->code, f->msg, f->data_json});
    dc_deadlines_.disarm(rid);
    dc_pending_.erase(it);
}

// ---- publishing -----------------------------------------------------------------------------

payloads::Envelope Worker::next_env() {
    return payloads::make_envelope(clock_.now_ms(), 0, ++seq_);
}

std::string Worker::new_app_sid() {
    return fmt::format("S{}{:06x}", clock_.now_ms(), static_cast<std::uint32_t>(rng_() & 0xffffff));
}

std::optional<payloads::ChargeLimit> Worker::limit_of(const SessionRow &row) {
    const auto mode = billing::parse_mode(row.mode);
    if (!mode)
        return std::nullopt;
    if (*mode == billing::Mode::Time) {
        if (!row.minutes)
            return std::nullopt;
        return payloads::ChargeLimit::time(*row.minutes);
    }
    return payloads::ChargeLimit::full();
}

void Worker::send_start(const SessionRow &row, bool resend) {
    const auto limit = limit_of(row);
    if (!row.cmd_rid || !row.cmd_exp || !limit)
        return;
    if (!may_send(*row.cmd_exp, clock_.now_ms()))
        return; // never send an expired command; the time-out fails the session
    auto env = next_env();
    env.rid = *row.cmd_rid;
    env.exp = *row.cmd_exp;
    const payloads::EbikeStartPort d{row.n, row.id, *limit};
    mqtt_.publish({topics::cmd(row.device_id, "start_port"),
                   payloads::encode(payloads::Message<payloads::EbikeStartPort>{env, d}), 1, false});
    (resend ? counters_.commands_resent : counters_.commands_sent)++;
    log::info(log::Ctx{row.device_id, row.id}, "{} start_port socket {} (rid {})", resend ? "resent" : "sent", row.n,
              *env.rid);
}

void Worker::send_stop(const SessionRow &row, const std::string &rid, EpochMs exp, bool resend) {
    if (!may_send(exp, clock_.now_ms()))
        return;
    auto env = next_env();
    env.rid = rid;
    env.exp = exp;
    const payloads::EbikeStopPort d{row.n, row.id};
    mqtt_.publish({topics::cmd(row.device_id, "stop_port"),
                   payloads::encode(payloads::Message<payloads::EbikeStopPort>{env, d}), 1, false});
    (resend ? counters_.commands_resent : counters_.commands_sent)++;
    log::info(log::Ctx{row.device_id, row.id}, "{} stop_port socket {} (rid {})", resend ? "resent" : "sent", row.n,
              rid);
}

void Worker::publish_state(const SessionRow &row, std::optional<State> prev, const std::string &reason,
                           const std::string &actor) {
    mqtt_.publish(
        {topics::session_state(row.id), session_state_payload(row, prev, reason, actor, clock_.now_ms()), 1, false});
}

void Worker::reply_device(const std::string &dev, std::string_view name, const std::string &payload) {
    mqtt_.publish({topics::req_reply(dev, name), payload, 1, false});
}

void Worker::reply_plain(const std::string &dev, std::string_view name, const std::string &rid, ReplyStatus status,
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
