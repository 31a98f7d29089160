#include "workers/sessiond/card_auth.hpp"

#include "common/ledger.hpp"
#include "common/log.hpp"

#include <fmt/format.h>

namespace pilehub::sessiond {
namespace {

std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

std::string cache_key(const std::string& dev, const payloads::Message<payloads::EbikeAuthorize>& m) {
    return dev + "/" + *m.env.id;
}

} // namespace

std::string card_sid(const std::string& device_id, const std::string& msg_id) {
    return fmt::format("C{:016x}", fnv1a(device_id + "/" + msg_id));
}

CardAuth::CardAuth(db::Database& db, Store& store, const Clock& clock, Options options, StartPlanner plan)
    : db_(db), store_(store), clock_(clock), opts_(options), plan_(std::move(plan)) {}

bool CardAuth::still_holds(const SessionRow& row, const std::string& dev,
                           const payloads::Message<payloads::EbikeAuthorize>& m) {
    return svc::holds_socket(row.state) && row.method == "card" && row.device_id == dev && row.n == m.data.n &&
           row.card_no == m.data.card_uid;
}

std::int64_t CardAuth::available(std::int64_t account_id) {
    return ledger::Ledger(db_, clock_).available(account_id).value();
}

std::optional<std::string> CardAuth::repeat(const std::string& dev,
                                            const payloads::Message<payloads::EbikeAuthorize>& m) {
    const auto* sent = sent_.find(cache_key(dev, m));
    if (!sent || sent->card_uid != m.data.card_uid || sent->n != m.data.n)
        return std::nullopt;
    if (sent->sid) {
        const auto row = store_.session(*sent->sid);
        if (!row || !still_holds(*row, dev, m))
            return std::nullopt;
    }
    return sent->text;
}

void CardAuth::remember(const std::string& dev, const payloads::Message<payloads::EbikeAuthorize>& m, const Answer& a,
                        std::string text) {
    sent_.put(cache_key(dev, m), Sent{m.data.card_uid, m.data.n, a.reply.sid, std::move(text)});
}

CardAuth::Answer CardAuth::decide(const std::string& dev, const payloads::Message<payloads::EbikeAuthorize>& m) {
    const MessageKey key{dev, *m.env.id};
    const auto now = clock_.now_ms();
    auto reject = [&](ErrorCode code, std::optional<std::int64_t> balance) {
        Answer a;
        a.reply.decision = payloads::Decision::Reject;
        a.reply.reason = code;
        a.reply.balance_fen = balance;
        log::info(log::Ctx{dev, {}}, "card {} at socket {} rejected: {}", m.data.card_uid, m.data.n, to_string(code));
        return a;
    };
    auto accept = [&](const SessionRow& row, std::int64_t balance) {
        Answer a;
        a.reply.decision = payloads::Decision::Accept;
        a.reply.balance_fen = balance;
        a.reply.sid = row.id;
        a.reply.limit = session_limit(row.mode, row.minutes);
        return a;
    };
    // The request id was handled before: only its own card session, still running for this card at
    // this socket, answers it again (a pile whose ids repeat must not be accepted against old sessions).
    auto again = [&]() {
        const auto row = store_.session(card_sid(dev, key.msg_id));
        if (row && still_holds(*row, dev, m))
            return accept(*row, available(row->account_id));
        return reject(ErrorCode::Duplicate, std::nullopt);
    };
    auto refuse = [&](ErrorCode code, std::optional<std::int64_t> balance) {
        store_.mark_processed(key, now);
        return reject(code, balance);
    };

    if (store_.processed(key))
        return again();
    const auto account = card_account(m.data.card_uid);
    if (const auto* code = std::get_if<ErrorCode>(&account))
        return refuse(*code, std::nullopt);
    const auto account_id = std::get<std::int64_t>(account);
    const auto card = store_.card(m.data.card_uid);
    const sockets::SocketRef ref{dev, m.data.n};
    auto plan = plan_(account_id, ref, StartBy::Card, std::nullopt);
    if (const auto* no = std::get_if<Refusal>(&plan))
        return refuse(no->code, no->available_fen);
    const auto& p = std::get<StartPlan>(plan);
    // No command: the pile starts itself.
    const auto s = card_session(card_sid(dev, key.msg_id), account_id, card->card_no, ref, p, now);
    switch (store_.create(s, key)) {
    case CreateOutcome::Created:
        break;
    case CreateOutcome::Duplicate:
        return again();
    case CreateOutcome::SocketTaken:
        return refuse(ErrorCode::SocketBusy, p.available_fen);
    case CreateOutcome::MethodTaken:
        return refuse(ErrorCode::SessionLimit, p.available_fen);
    }
    const auto row = store_.session(s.id);
    if (!row)
        return reject(ErrorCode::Internal, std::nullopt);
    auto a = accept(*row, p.available_fen);
    a.created = row;
    log::info(log::Ctx{dev, s.id}, "card {} accepted at socket {} for account {} ({})", card->card_no, ref.n,
              s.account_id, s.mode);
    return a;
}

NewSession CardAuth::card_session(const std::string& sid, std::int64_t account_id, const std::string& card_no,
                                  const sockets::SocketRef& ref, const StartPlan& p, EpochMs now) const {
    NewSession s;
    s.id = sid;
    s.account_id = account_id;
    s.method = "card";
    s.card_no = card_no;
    s.device_id = ref.device_id;
    s.n = ref.n;
    s.station_id = p.socket.station_id;
    s.mode = std::string(billing::to_string(p.mode.mode));
    s.minutes = p.mode.minutes;
    s.tariff_id = p.tariff_id;
    s.cmd_exp = now + opts_.card_start_timeout_ms; // the deadline for the device to start it
    s.created_at = now;
    s.actor = "card";
    s.reason = "card";
    return s;
}

std::variant<std::int64_t, ErrorCode> CardAuth::card_account(const std::string& card_no) {
    const auto card = store_.card(card_no);
    if (!card || !card->account_id)
        return ErrorCode::UnknownCard;
    if (card->status != "active")
        return ErrorCode::CardLost;
    return *card->account_id;
}

payloads::AuthorizeReply CardAuth::authorize_tag(const std::string& dev,
                                                 const payloads::Message<payloads::EvAuthorize>& m) {
    payloads::AuthorizeReply r;
    r.decision = payloads::Decision::Reject;
    const auto account = card_account(m.data.id_tag);
    if (const auto* code = std::get_if<ErrorCode>(&account)) {
        r.reason = *code;
    } else {
        auto plan = plan_(std::get<std::int64_t>(account), {dev, m.data.n}, StartBy::Card, std::nullopt);
        if (const auto* no = std::get_if<Refusal>(&plan)) {
            r.reason = no->code;
            r.balance_fen = no->available_fen;
        } else {
            r.decision = payloads::Decision::Accept;
            r.balance_fen = std::get<StartPlan>(plan).available_fen;
        }
    }
    log::info(log::Ctx{dev, {}}, "id tag {} at gun {}: {}{}", m.data.id_tag, m.data.n,
              r.decision == payloads::Decision::Accept ? "accepted" : "rejected",
              r.reason ? fmt::format(" ({})", to_string(*r.reason)) : std::string());
    return r;
}

CardAuth::ChargerStart CardAuth::start_at_charger(const std::string& dev,
                                                  const payloads::Message<payloads::EvStartSessionReq>& m) {
    const MessageKey key{dev, *m.env.id};
    const auto now = clock_.now_ms();
    const auto sid = card_sid(dev, key.msg_id);
    auto reject = [&](ErrorCode code) {
        ChargerStart a;
        a.reply.decision = payloads::Decision::Reject;
        a.reply.reason = code;
        log::info(log::Ctx{dev, {}}, "id tag {} started gun {}: refused ({})", m.data.id_tag, m.data.n,
                  to_string(code));
        return a;
    };
    auto accept = [&](const std::string& id) {
        ChargerStart a;
        a.reply.decision = payloads::Decision::Accept;
        a.reply.sid = id;
        return a;
    };
    // Handled before (a resend after an outage, a restart): its own session answers it again.
    auto again = [&]() {
        const auto row = store_.session(sid);
        if (row && row->method == "card" && row->device_id == dev && row->n == m.data.n &&
            row->card_no == m.data.id_tag)
            return accept(row->id);
        return reject(ErrorCode::Duplicate);
    };
    auto refuse = [&](ErrorCode code) {
        store_.mark_processed(key, now);
        return reject(code);
    };
    if (store_.processed(key))
        return again();
    const auto account = card_account(m.data.id_tag);
    if (const auto* code = std::get_if<ErrorCode>(&account))
        return refuse(*code);
    const auto account_id = std::get<std::int64_t>(account);
    auto plan = plan_(account_id, {dev, m.data.n}, StartBy::Charger, std::nullopt);
    if (const auto* no = std::get_if<Refusal>(&plan))
        return refuse(no->code);
    const auto& p = std::get<StartPlan>(plan);
    // The charger has started: the worker confirms it at once.
    auto s = card_session(sid, account_id, m.data.id_tag, {dev, m.data.n}, p, now);
    s.meter_start_wh = m.data.meter_start_wh;
    switch (store_.create(s, key)) {
    case CreateOutcome::Created:
        break;
    case CreateOutcome::Duplicate:
        return again();
    case CreateOutcome::SocketTaken:
        return refuse(ErrorCode::SocketBusy);
    case CreateOutcome::MethodTaken:
        return refuse(ErrorCode::SessionLimit);
    }
    const auto row = store_.session(s.id);
    if (!row)
        return reject(ErrorCode::Internal);
    auto a = accept(row->id);
    a.created = row;
    log::info(log::Ctx{dev, s.id}, "id tag {} started gun {} for account {} ({}, meter {} Wh)", m.data.id_tag, m.data.n,
              account_id, s.mode, m.data.meter_start_wh);
    return a;
}

} // namespace pilehub::sessiond
