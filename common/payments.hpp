#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/error_codes.hpp"
#include "common/json.hpp"
#include "common/ledger.hpp"
#include "common/money.hpp"

#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

/// Online recharges (CONTRACT B `POST /wallet/recharge`, docs/wallets.md "Payments"): a payment
/// order row, a provider that tells the app how to pay it, and the provider's signed callback that
/// credits the wallet exactly once (ledger idempotency key `pay:<provider>:<provider txn id>`).
///
/// Adding a provider (WeChat Pay, Alipay) means writing one class derived from Provider and
/// registering it by name in a ProviderRegistry at start-up; nothing else changes:
/// - `create()` calls the provider's "unified order" API and returns what the app passes to the
///   provider's SDK (e.g. WeChat JSAPI `{appId, timeStamp, nonceStr, package, signType, paySign}`);
///   it blocks on the network, so it is never called on an MQTT callback thread.
/// - `verify()` checks the notification's signature with the provider's key or certificate and
///   decrypts it if needed, and returns our payment id, the provider's transaction id, the amount
///   paid in fen and when; it never touches the database.
/// - `ack_body()` is what the provider expects in the HTTP response (WeChat: a JSON `{"code":
///   "SUCCESS"}`; Alipay: the text `success`), so that it stops resending.
/// Payments::handle_callback() does every check against the order and the single credit.
namespace pilehub::payments {

/// A payment order's status (payments.status).
enum class Status { Pending, Paid, Failed, Expired };
std::string_view to_string(Status s);
std::optional<Status> parse_status(std::string_view s);

/// One payment order (a row of `payments`).
struct Order {
    std::string id; ///< ours: `pay_` + 32 hex digits
    std::int64_t account_id = 0;
    Fen amount_fen; ///< what the rider pays
    Fen bonus_fen;  ///< credited on top (from a recharge package)
    std::optional<std::int64_t> package_id;
    std::string provider;
    Status status = Status::Pending;
    std::optional<std::string> provider_txn;
    EpochMs created_at = 0;
    std::optional<EpochMs> paid_at;
    /// The payer at the provider, when it needs one: WeChat JSAPI `payer.openid`, Alipay mini-program
    /// `buyer_id` (the rider's linked identity, CONTRACT F.1).
    std::string payer_id;
    std::string provider_ref;          ///< the provider's reference from create (WeChat prepay_id, Alipay trade_no)
    std::optional<EpochMs> queried_at; ///< last asked at the provider (no notification came)
    std::optional<EpochMs> closed_at;  ///< closed at the provider and expired here
    Fen refunded_fen;                  ///< what balance refunds have sent back through this order
    /// What an operator must look at, empty when nothing: paid after it failed or expired (credited),
    /// or paid at the provider but refused here (amount, currency, merchant).
    std::string anomaly;
};

/// What the app needs to pay an order with its provider: JSON text, provider-specific.
struct PayParams {
    std::string provider;
    std::string json;
    std::string provider_ref; ///< kept with the order (WeChat prepay_id, Alipay trade_no); may be empty
};

/// A provider's callback (payment notification) as received over HTTP.
struct CallbackRequest {
    std::string body;
    std::map<std::string, std::string> headers; ///< names in lower case
};

/// Who a provider's trade belongs to: the merchant and the app the money was paid to. Payments
/// compares what a notification or query states with what the provider is configured as.
struct Merchant {
    std::string merchant_id; ///< WeChat Pay `mchid`; Alipay `seller_id` (empty: not checked); sandbox `sandbox`
    std::string app_id;      ///< WeChat `appid`; Alipay `app_id`; sandbox `sandbox`
};

/// A payment notification (or a query's answer) whose signature the provider verified.
struct Notification {
    std::string payment_id;   ///< our order id, echoed by the provider (`out_trade_no`)
    std::string provider_txn; ///< the provider's transaction id (unique per provider)
    Fen amount_fen;           ///< what was actually paid (WeChat `amount.total`, Alipay `total_amount`)
    /// The account, when the provider echoes it (the sandbox does); checked against the order.
    std::optional<std::int64_t> account_id;
    EpochMs paid_at = 0;
    Merchant merchant;            ///< as the provider states it (empty fields: not stated)
    std::string currency = "CNY"; ///< ISO 4217 as the provider states it
    bool paid = true;             ///< the trade state is a success (WeChat SUCCESS; Alipay TRADE_SUCCESS/FINISHED)
    std::string trade_state;      ///< the provider's own word, for logs and the operator's view
    std::string raw;              ///< the verified content (decrypted resource, form), kept with the order
};

/// A refund notification whose signature the provider verified.
struct RefundNotification {
    std::string part_id;            ///< our refund part id, echoed (`out_refund_no`, Alipay `out_biz_no`)
    std::string payment_id;         ///< our order id (`out_trade_no`)
    std::string provider_refund_id; ///< WeChat `refund_id`; Alipay the trade number (`trade_no`)
    bool succeeded = false;         ///< WeChat REFUND.SUCCESS; Alipay a `refund_fee` notification
    Fen amount_fen;                 ///< the refund's amount (cumulative over the trade when `cumulative`)
    /// Alipay states `refund_fee` as everything refunded of the trade so far, not this refund alone.
    bool cumulative = false;
    Merchant merchant;
    std::string state; ///< the provider's own word (SUCCESS, ABNORMAL, CLOSED)
    std::string raw;
};

/// A trade as the provider's query reports it.
enum class TradeState {
    Paid,    ///< paid: `paid` holds the same facts a notification would
    NotPaid, ///< created, not (yet) paid: WeChat NOTPAY/USERPAYING; Alipay WAIT_BUYER_PAY
    Closed,  ///< closed or revoked without payment; or unknown at the provider (never paid)
};
struct TradeQuery {
    TradeState state = TradeState::NotPaid;
    std::optional<Notification> paid;
    std::string raw;
};

/// One part of a balance refund: money back to the channel one payment came in by.
struct RefundRequest {
    std::string part_id;      ///< ours, `rfp_` + hex: the provider's `out_refund_no` / `out_request_no`
    std::string payment_id;   ///< the order refunded (`out_trade_no`)
    std::string provider_txn; ///< its transaction id
    Fen amount_fen;           ///< this part
    Fen total_fen;            ///< the order's amount
    std::string reason;
};
enum class RefundState { Processing, Succeeded, Failed };
std::string_view to_string(RefundState s);
struct RefundAccepted {
    RefundState state = RefundState::Processing;
    std::string provider_refund_id;
    std::string raw;
};

/// What became of a callback. Everything but Credited changed nothing.
enum class CallbackStatus {
    Credited,         ///< the order is paid and the wallet credited (once)
    Replayed,         ///< this transaction was already credited: nothing changed
    BadSignature,     ///< the signature does not verify: forged or corrupted
    Malformed,        ///< not a notification this provider sends
    UnknownProvider,  ///< no provider of that name is registered
    UnknownOrder,     ///< no such payment order
    AmountMismatch,   ///< the amount paid is not the order's amount
    AccountMismatch,  ///< the account named is not the order's account
    OrderMismatch,    ///< the order belongs to another provider, is already paid by another
                      ///< transaction, has failed, or the transaction id already paid another order
    MerchantMismatch, ///< the trade is another merchant's or another app's
    CurrencyMismatch, ///< not paid in CNY
    NotPaid,          ///< a verified notification whose trade state is not a success
    RefundSettled,    ///< a refund notification settled (or had already settled) its part
};
/// `credited`, `replayed`, `bad_signature`, `malformed`, `unknown_provider`, `unknown_order`,
/// `amount_mismatch`, `account_mismatch`, `order_mismatch`, `merchant_mismatch`, `currency_mismatch`,
/// `not_paid`, `refund_settled`.
std::string_view to_string(CallbackStatus s);
/// The shared error code an HTTP reply carries for a refused callback (Credited → nothing).
std::optional<ErrorCode> error_code(CallbackStatus s);
/// Whether the provider should be told "received" so that it stops resending: Credited, Replayed
/// (the money is in the wallet either way) and RefundSettled.
bool acknowledge(CallbackStatus s);

/// What verify() read from a callback: a payment, a refund, or why it is refused.
using Verified = std::variant<Notification, RefundNotification, CallbackStatus>;

/// One payment provider. Implementations must be safe to call from several threads at once.
class Provider {
public:
    virtual ~Provider() = default;
    /// The registry name and payments.provider value: `sandbox`, `wechat`, `alipay`.
    virtual std::string_view name() const = 0;
    /// The merchant and app this installation is at the provider.
    virtual Merchant merchant() const = 0;
    /// Creates the order at the provider; what the app needs to pay it, or why not.
    virtual Result<PayParams> create(const Order& order) = 0;
    /// Verifies the callback's signature and reads it: a payment or a refund notification; or
    /// BadSignature / Malformed. Never touches the database.
    virtual Verified verify(const CallbackRequest& cb) const = 0;
    /// The HTTP status and body the provider expects for `s` (WeChat: 200/204 or 4xx/5xx with a JSON
    /// `{code, message}`; Alipay: 200 `success` or `fail`).
    virtual std::string ack_body(CallbackStatus s) const;
    virtual int ack_status(CallbackStatus s) const;
    /// The MIME type of ack_body.
    virtual std::string ack_content_type() const { return "application/json"; }
    /// Asks the provider how the order stands (an order whose notification never came).
    virtual Result<TradeQuery> query(const Order& order) = 0;
    /// Closes an unpaid order at the provider so that it can no longer be paid.
    virtual Result<bool> close(const Order& order) = 0;
    /// Refunds one part of a paid order through the channel it came in by.
    virtual Result<RefundAccepted> refund(const RefundRequest& r) = 0;
    /// Asks how a refund part stands (one whose notification never came).
    virtual Result<RefundAccepted> query_refund(const RefundRequest& r) = 0;
};

/// Providers by name. Filled at start-up (the sandbox only in development mode), then read-only.
class ProviderRegistry {
public:
    /// Adds a provider; replaces one of the same name.
    void add(std::shared_ptr<Provider> p);
    /// The provider called `name`, or nullptr.
    Provider* find(std::string_view name) const;
    std::vector<std::string> names() const;

private:
    std::map<std::string, std::shared_ptr<Provider>, std::less<>> providers_;
};

/// Reads the per-installation signing key at `path` (at least 32 characters), creating it (256
/// random bits as 64 hex digits, through files::load_or_create_secret: 0600, complete or absent)
/// if missing. Throws std::runtime_error if it cannot be read or written, or is too short.
std::string load_or_create_secret(const std::string& path);

/// The development provider: no network. The rider "pays" with
/// `POST /api/v1/pay/sandbox/{payment_id}/confirm`, which makes the callback a real provider
/// would send (confirm_callback()) and hands it to Payments::handle_callback like any other.
///
/// Callback body (JSON): `{"payment_id","account_id","amount_fen","txn_id","paid_at","sign"}`;
/// `sign` = HMAC-SHA256 (hex, with the installation's secret) of the canonical string
/// `account_id=<n>&amount_fen=<n>&paid_at=<ms>&payment_id=<id>&provider=sandbox&txn_id=<id>`
/// (every field but `sign`, by name, `key=value` joined with `&`).
class SandboxProvider final : public Provider {
public:
    explicit SandboxProvider(std::string secret, const Clock& clock = SystemClock::instance());
    std::string_view name() const override { return "sandbox"; }
    Merchant merchant() const override { return {"sandbox", "sandbox"}; }
    /// `{"provider":"sandbox","payment_id","amount_fen","confirm_path":"/api/v1/pay/sandbox/<id>/confirm"}`.
    Result<PayParams> create(const Order& order) override;
    Verified verify(const CallbackRequest& cb) const override;
    /// The sandbox keeps no trades: an order that was never confirmed is not paid.
    Result<TradeQuery> query(const Order& order) override;
    Result<bool> close(const Order& order) override;
    /// Refunds succeed at once (there is no money to move).
    Result<RefundAccepted> refund(const RefundRequest& r) override;
    Result<RefundAccepted> query_refund(const RefundRequest& r) override;
    /// The signed callback for paying `order` in full now. Its transaction id is derived from
    /// the order id, so confirming twice replays the same transaction (credited once).
    CallbackRequest confirm_callback(const Order& order) const;
    /// A callback with the given fields, signed (tests build tampered ones from it).
    CallbackRequest make_callback(const Notification& n) const;
    /// The canonical string that is signed.
    static std::string canonical(const Notification& n);

private:
    std::string secret_;
    const Clock& clock_;
};

/// How create_order went.
enum class CreateStatus {
    Created,
    UnknownAccount,
    AccountFrozen,
    UnknownPackage,
    InvalidAmount,
    UnknownProvider,
    ProviderFailed
};
/// `created`, `unknown_account`, `account_frozen`, `unknown_package`, `invalid_amount`, `unknown_provider`,
/// `provider_failed`.
std::string_view to_string(CreateStatus s);
/// The shared error code for a refused order (Created → nothing).
std::optional<ErrorCode> error_code(CreateStatus s);

/// What the rider wants to pay: an amount, or a recharge package (its price, with its bonus).
struct OrderRequest {
    std::int64_t account_id = 0;
    std::optional<Fen> amount_fen;
    std::optional<std::int64_t> package_id;
    std::string provider;
    std::string payer_id; ///< the rider at the provider (Order::payer_id); required by wechat and alipay
};

struct Created {
    CreateStatus status = CreateStatus::InvalidAmount;
    std::optional<Order> order;
    std::optional<PayParams> params;
    std::string detail; ///< why, for logs and the HTTP message
};

struct CallbackResult {
    CallbackStatus status = CallbackStatus::Malformed;
    std::optional<Order> order;         ///< the order, as it is after the callback
    std::optional<ledger::Entry> entry; ///< the credit (the original one when Replayed)
    std::string detail;
};

/// The operators' list of payment orders (seed 003 §3.4.3): every filter optional.
struct PaymentFilter {
    std::string state;   ///< pending, paid, failed, expired
    std::string channel; ///< the provider
    std::optional<std::int64_t> account_id;
    bool anomaly_only = false;
    EpochMs from = 0; ///< created at or after
    EpochMs to = std::numeric_limits<EpochMs>::max();
    std::int64_t limit = 50;
    std::int64_t offset = 0;
};

/// What a provider said about an order, as kept (payment_callbacks).
struct CallbackRecord {
    std::int64_t id = 0;
    std::string provider;
    std::string kind; ///< payment, refund, query
    std::string payment_id;
    std::string part_id;
    std::string verdict;
    std::string detail;
    std::string content;
    EpochMs received_at = 0;
};

/// Payment orders and callbacks over the core database (a db::Sync::Full connection).
class Payments {
public:
    /// The largest single recharge, in fen (5 000 yuan).
    static constexpr std::int64_t kMaxRechargeFen = 500'000;

    Payments(db::Database& db, const ProviderRegistry& providers, const Clock& clock = SystemClock::instance());

    /// Writes a pending order, then asks the provider for the pay parameters (marks the order
    /// failed if the provider refuses). Never for a frozen account.
    Created create_order(const OrderRequest& r);
    /// Verifies, checks against the order and credits once, in one transaction with the order
    /// turning `paid`. Any refusal changes nothing.
    CallbackResult handle_callback(std::string_view provider, const CallbackRequest& cb);
    /// A verified payment (from a notification or a query): checks it against our merchant and app,
    /// CNY, a paid state and the order, and credits once. Any refusal changes nothing.
    CallbackResult settle_paid(const Provider& p, const Notification& n);
    /// The sandbox's confirm button: builds the sandbox callback for the order and handles it.
    /// UnknownProvider when no sandbox is registered (production).
    CallbackResult sandbox_confirm(const std::string& payment_id);
    std::optional<Order> order(const std::string& id);
    /// Orders newest first.
    std::vector<Order> list(const PaymentFilter& f);
    /// What the providers said about an order (notifications, query answers), oldest first.
    std::vector<CallbackRecord> callbacks(const std::string& payment_id);
    /// Marks pending orders created before `created_before` as expired; returns how many. A late
    /// callback for an expired order still credits it (the rider has paid).
    int expire_pending(EpochMs created_before);

    // ---- the reconciler's and the operator's view (web-api/reconciler) ----
    /// Pending orders created before `created_before` and not asked about since `queried_before`
    /// (or never), oldest first.
    std::vector<Order> due_for_query(EpochMs created_before, EpochMs queried_before, int limit);
    /// Notes that the order was asked about at its provider now.
    void mark_queried(const std::string& id);
    /// A pending order closed at its provider: expired here, with when. False if it was no longer pending.
    bool close_expired(const std::string& id);
    /// Records what an operator must look at on the order (appended to what is there).
    void flag(const std::string& id, const std::string& anomaly);
    /// A pending order paid at its provider that the platform refuses (another amount, currency or
    /// merchant): failed, with the anomaly an operator must resolve (refund it at the provider).
    void mark_refused(const std::string& id, const std::string& anomaly);
    /// Keeps what a provider said about a payment or refund, with our verdict (the order's
    /// "provider callback" in the operator's detail).
    void record_callback(std::string_view provider, std::string_view kind, std::string_view payment_id,
                         std::string_view part_id, std::string_view verdict, std::string_view detail,
                         std::string_view content);

private:
    db::Database& db_;
    const ProviderRegistry& providers_;
    const Clock& clock_;
};

} // namespace pilehub::payments
