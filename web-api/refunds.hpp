#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/ledger.hpp"
#include "common/money.hpp"
#include "common/payments.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

/// Balance refunds (CONTRACT F.3, docs/wallets.md "Refunds"): real money leaves the wallet at once
/// (ledger kind `refund`) and goes back through the channels it came in by, newest payment first,
/// one part per payment (a provider refund with its own number and notification); what no online
/// payment can take back is a `counter` part (cash at the counter, done at once). A part the
/// provider refuses or fails puts its money back in the wallet (ledger kind `refund_reversal`).
///
/// States: a part is processing → succeeded | failed; the refund is processing while any part is,
/// then succeeded (every part succeeded), failed (every part failed) or partial.
///
/// Provider calls happen outside any transaction; every state change is one transaction, and a
/// settled part never changes again (a replayed notification is acknowledged and changes nothing).
namespace pilehub::api {

struct RefundPart {
    std::string id; ///< `rfp_` + hex: the provider's out_refund_no / out_request_no
    std::string refund_id;
    std::optional<std::string> payment_id; ///< nothing for a counter part
    std::string channel;                   ///< wechat, alipay, sandbox or counter
    Fen amount_fen;
    std::string state; ///< processing, succeeded, failed
    std::string provider_refund_id;
    std::string detail; ///< the provider's last word (error, status)
    std::int64_t attempts = 0;
    EpochMs created_at = 0;
    std::optional<EpochMs> settled_at;
    std::optional<EpochMs> polled_at;
};

struct RefundRecord {
    std::string id; ///< `rf_` + hex
    std::int64_t account_id = 0;
    std::string phone;
    Fen amount_fen;
    std::string reason;
    std::string state; ///< processing, succeeded, failed, partial
    std::string kind;  ///< balance (wallet money back) or returned (a refused paid order sent back whole)
    std::string operator_name;
    EpochMs created_at = 0;
    std::optional<EpochMs> settled_at;
    std::vector<RefundPart> parts;
};

struct RefundFilter {
    std::string state;
    std::optional<std::int64_t> account_id;
    EpochMs from = 0;
    EpochMs to = INT64_MAX;
    std::int64_t limit = 50;
    std::int64_t offset = 0;
};

/// A refund asked for: created (or found again by its idempotency key), or refused.
struct RefundStarted {
    ledger::Outcome outcome = ledger::Outcome::InvalidRequest; ///< Applied, Duplicate or why not
    std::optional<RefundRecord> refund;
    std::string detail;
};

/// What a refund notification or answer did to its part.
struct PartSettled {
    payments::CallbackStatus status = payments::CallbackStatus::Malformed; ///< RefundSettled or why not
    std::string detail;
    std::optional<RefundPart> part;
};

class Refunds {
public:
    Refunds(db::Database& db, const payments::ProviderRegistry& providers, const Clock& clock);

    /// Takes `amount` out of the wallet (at most what is refundable) and plans the parts, in one
    /// transaction; the same idempotency key again finds the first refund (Duplicate). `check` runs
    /// inside that transaction before anything is written (a staff limit; it throws to refuse).
    RefundStarted start(std::int64_t account_id, Fen amount, const std::string& reason,
                        const std::string& operator_name, const std::string& idempotency_key,
                        const std::function<void()>& check = {});
    /// Sends a paid order the platform refused (another amount, currency or merchant: never
    /// credited) back whole through its channel: a `returned` refund of one part, once per order.
    /// Its failure puts nothing in the wallet; the order's anomaly says what became of it.
    std::optional<RefundRecord> return_refused(const payments::Order& o, Fen paid, const std::string& why);
    /// Sends the refund's processing parts that were never answered to their providers and applies
    /// the answers. Returns the refund as it is then.
    std::optional<RefundRecord> send(const std::string& refund_id);
    /// A verified refund notification from `p`: settles its part once.
    PartSettled settle(const payments::Provider& p, const payments::RefundNotification& n);
    /// Parts still processing whose last word is older than `before` (the reconciler asks again).
    std::vector<RefundPart> due(EpochMs before, int limit);
    /// Asks the provider again about a processing part (re-sends it when it never got an answer:
    /// refunds are idempotent by part id) and applies the answer.
    void poll(const RefundPart& part);

    std::optional<RefundRecord> get(const std::string& id);
    std::vector<RefundRecord> list(const RefundFilter& f);
    /// Refund parts through one payment order, oldest first (the order's detail).
    std::vector<RefundPart> parts_of_payment(const std::string& payment_id);

private:
    std::optional<payments::RefundRequest> request_for(const RefundPart& part);
    /// Applies a provider's answer (from refund() or query_refund()) to a processing part.
    void apply(const RefundPart& part, const payments::RefundAccepted& a);
    /// Settles a part succeeded or failed (a failure puts its money back); false when it was
    /// already settled. Runs inside `tx`.
    bool finish(db::Transaction& tx, const RefundPart& part, bool succeeded, const std::string& provider_refund_id,
                const std::string& detail);
    std::vector<RefundPart> parts(const std::string& refund_id);
    std::optional<RefundPart> part(const std::string& id);

    db::Database& db_;
    const payments::ProviderRegistry& providers_;
    const Clock& clock_;
};

/// Whether a success notification's amount fits the part: the part's amount, or, when the
/// provider states the trade's cumulative refunds (Alipay `refund_fee`), at least the part and at
/// most the trade's total (`request`'s). Pure.
bool refund_amount_fits(const payments::RefundNotification& n, const RefundPart& part,
                        const std::optional<payments::RefundRequest>& request);

/// The refund's state from its parts' states (pure): processing while any part is; else succeeded,
/// failed, or partial.
std::string refund_state(const std::vector<std::string>& part_states);

/// How a balance refund of `amount` splits over paid orders (each with what it can still take
/// back), newest first: the amounts per order, and what is left for the counter (pure).
struct PlannedPart {
    std::string payment_id; ///< empty: the counter
    Fen amount_fen;
};
struct RefundableOrder {
    std::string payment_id;
    Fen left_fen; ///< amount − refunded so far
};
std::vector<PlannedPart> plan_refund(Fen amount, const std::vector<RefundableOrder>& newest_first);

} // namespace pilehub::api
