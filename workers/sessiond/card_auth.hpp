#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/error_codes.hpp"
#include "common/payloads.hpp"
#include "common/socket_code.hpp"
#include "workers/sessiond/sessiond_rules.hpp"
#include "workers/sessiond/sessiond_store.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>

/// Card authorisation (`req/authorize`, CONTRACT A.5): a swipe is decided once per request id, the
/// card is checked, the start pre-check that app starts use too is run, and an accepted card creates
/// its session (the pile starts it itself). Not thread-safe: the worker calls it under its lock.
namespace pilehub::sessiond {

/// A start that passed every pre-check.
struct StartPlan {
    SocketInfo socket;
    std::int64_t tariff_id = 0;
    ModeChoice mode;
    payloads::ChargeLimit limit;
    std::int64_t available_fen = 0;
};

/// A refusal of a start, with the wallet when known (card replies carry it).
struct Refusal {
    ErrorCode code = ErrorCode::Internal;
    std::string msg;
    std::optional<std::int64_t> available_fen;
};

/// Who starts a session: a rider in the app, a card swiped at a pile (or an id tag authorised at a
/// charger), or a charger that started a card session itself (`req/start_session`: its gun is in use
/// by that very session, so its reported status does not make it busy), or an operator commissioning a
/// socket (no account, free, for a set time).
enum class StartBy { App, Card, Charger, Operator };
/// The session method of a start (`app`, `card`, `operator`).
inline std::string method_of(StartBy by) {
    if (by == StartBy::Operator)
        return "operator";
    return by == StartBy::App ? "app" : "card";
}

/// The one start pre-check of app starts, card swipes and charger starts (the socket in service, the
/// account, the tariff's mode, presence, faults, occupancy, one session per method, the balance).
/// `mode` is nothing for a card: the card mode of the tariff is chosen.
using StartPlanner = std::function<std::variant<StartPlan, Refusal>(
    std::int64_t account_id, const sockets::SocketRef& ref, StartBy by, std::optional<ModeChoice> mode)>;

/// The id of a card session: derived from the pile's request id, so a resent authorisation finds
/// the session it created (`C` + 16 hex digits).
std::string card_sid(const std::string& device_id, const std::string& msg_id);

class CardAuth {
public:
    struct Options {
        std::int64_t card_start_timeout_ms = 30'000; ///< an accepted card's session fails if the pile does not start it
    };
    /// `db` for the wallet, `store` for cards, sessions and handled message ids, `plan` the start pre-check.
    CardAuth(db::Database& db, Store& store, const Clock& clock, Options options, StartPlanner plan);

    /// The answer to one authorize request.
    struct Answer {
        payloads::AuthorizeReply reply;
        std::optional<SessionRow> created; ///< the card session this request created, if it did
    };

    /// The reply text sent for the very same request before (QoS 1 redelivery), while it still holds:
    /// the same card at the same socket, and the session it accepted still live. Nothing otherwise.
    std::optional<std::string> repeat(const std::string& dev, const payloads::Message<payloads::EbikeAuthorize>& m);
    /// Decides a request not answered in this process's memory. A request id handled before (a
    /// restart, a pile that reuses ids) is accepted again only for its own card session, still live,
    /// of the same card at the same socket; otherwise it is refused `duplicate`.
    Answer decide(const std::string& dev, const payloads::Message<payloads::EbikeAuthorize>& m);
    /// Remembers the reply text sent for a request, for repeat().
    void remember(const std::string& dev, const payloads::Message<payloads::EbikeAuthorize>& m, const Answer& a,
                  std::string text);

    // --- EV chargers (CONTRACT D.1): the card's number is the OCPP id tag ---

    /// `req/authorize {id_tag, n}`: the card and the start pre-check; nothing is created (the charger
    /// then sends `req/start_session`). Deciding again is harmless, so repeats are decided again.
    payloads::AuthorizeReply authorize_tag(const std::string& dev, const payloads::Message<payloads::EvAuthorize>& m);

    /// The answer to one `req/start_session`.
    struct ChargerStart {
        payloads::EvStartSessionReply reply;
        std::optional<SessionRow> created; ///< the card session this request created, if it did
    };
    /// `req/start_session {n, id_tag, meter_start_wh}`: the charger started a session for a card; it
    /// becomes a card session of the account the card is bound to (the same checks as a swipe, one
    /// card session per account), its id derived from the request id, its meter start recorded. A
    /// request id handled before answers with its own session again (same card, same gun), else
    /// `duplicate`.
    ChargerStart start_at_charger(const std::string& dev, const payloads::Message<payloads::EvStartSessionReq>& m);

private:
    struct Sent {
        std::string card_uid;
        int n = 0;
        std::optional<std::string> sid; ///< the session accepted
        std::string text;
    };
    /// Whether an earlier accepted session still answers this request.
    static bool still_holds(const SessionRow& row, const std::string& dev,
                            const payloads::Message<payloads::EbikeAuthorize>& m);
    std::int64_t available(std::int64_t account_id);
    /// The row of a card session that passed its pre-check `p` (no command: the device starts it).
    NewSession card_session(const std::string& sid, std::int64_t account_id, const std::string& card_no,
                            const sockets::SocketRef& ref, const StartPlan& p, EpochMs now) const;
    /// The account a card (id tag) may start for, or why not (unknown_card, card_lost).
    std::variant<std::int64_t, ErrorCode> card_account(const std::string& card_no);

    db::Database& db_;
    Store& store_;
    const Clock& clock_;
    Options opts_;
    StartPlanner plan_;
    RecentAnswers<Sent> sent_; ///< dev/id → what was answered
};

} // namespace pilehub::sessiond
