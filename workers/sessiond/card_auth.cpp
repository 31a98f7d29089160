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
    const auto card = store_.card(m.data.card_uid);
    if (!card || !card->account_id)
        return refuse(ErrorCode::UnknownCard, std::nullopt);
    if (card->status != "active")
        return refuse(ErrorCode::CardLost, std::nullopt);
    const sockets::SocketRef ref{dev, m.data.n};
    auto plan = plan_(*card->account_id, ref, "card", std::nullopt);
    if (const auto* no = std::get_if<Refusal>(&plan))
        return refuse(no->code, no->available_fen);
    const auto& p = std::get<StartPlan>(plan);
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

} // namespace pilehub::sessiond
