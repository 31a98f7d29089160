// Riders' accounts as operators handle them: open, freeze, recharge at the counter, ledger
// (balance refunds: routes_admin_money.cpp); IC cards (issue with fee, bind, unbind, report lost, replace); recharge
// packages. Every wallet change goes through common/ledger.hpp.
#include "common/ledger.hpp"
#include "web-api/auth.hpp"
#include "web-api/money_controls.hpp"
#include "web-api/openapi_schemas_admin.hpp"
#include "web-api/routes_common.hpp"

#include <fmt/format.h>

namespace pilehub::api {
namespace {

CardRow card_in_scope(AccountStore& accounts, const Principal& who, const std::string& card_no) {
    auto c = accounts.card(card_no);
    if (!c)
        fail(ErrorCode::UnknownCard, "no such card");
    if (who.all_stations)
        return *c;
    if (c->station_id && who.sees_station(*c->station_id))
        return *c;
    if (c->account_id)
        if (auto a = accounts.account(*c->account_id); a && a->home_station_id && who.sees_station(*a->home_station_id))
            return *c;
    fail(ErrorCode::UnknownCard, "no such card");
}

bool valid_card_no(std::string_view s) {
    if (s.size() < 4 || s.size() > 32)
        return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)))
            return false;
    return true;
}

/// The idempotency key of a staff wallet change: the client's Idempotency-Key header (so a
/// retried request changes nothing), or a fresh one.
/// (Money routes, Route::moves_money(), always have the header: the Router requires it.)
std::string staff_key(const Request& req, std::string_view what) {
    if (auto h = idempotency_key(req))
        return fmt::format("{}:{}:{}", what, req.who.name, *h);
    return fmt::format("{}:{}", what, auth::new_token());
}

void write_entry(json::Writer& w, const Services& s, const ledger::Entry& e) {
    w.begin_object().field("id", e.id).field("kind", ledger::to_string(e.kind)).field("real_fen", e.real_fen.value());
    w.field("bonus_fen", e.bonus_fen.value())
        .field("real_after", e.real_after.value())
        .field("bonus_after", e.bonus_after.value());
    w.field("ref", e.ref).field("operator", e.operator_name).field("note", e.note).field("at", when(s, e.at));
    w.field("idempotency_key", e.idempotency_key).end_object();
}

Response user_reply(Services& s, db::Database& d, std::int64_t id, int status = 200) {
    AccountStore accounts(d);
    auto a = accounts.account(id);
    json::Writer w;
    w.begin_object();
    write_account(w, s, *a);
    w.field("refundable_fen", ledger::Ledger(d, *s.clock).refundable(id).value());
    w.key("card");
    if (auto c = accounts.active_card(id))
        write_card(w, s, *c);
    else
        w.null();
    w.end_object();
    return Response::json(w.str(), status);
}

/// user_reply: write_account, refundable_fen and the active card (or null).
std::string user_schema() {
    using namespace oas;
    return obj(account_members() + Members{{"refundable_fen", kInt}, {"card", nullable(card())}});
}

std::string package_schema() {
    using namespace oas;
    return obj({{"id", kInt}, {"name", kStr}, {"pay_fen", kInt}, {"bonus_fen", kInt}, {"enabled", kBool}});
}

/// Resolves the account a card is for: account_id, or phone.
std::optional<std::int64_t> account_for(AccountStore& accounts, const Principal& who, json::Object& b) {
    const auto id = b.opt_int("account_id", 1, INT64_MAX);
    const auto phone = b.opt_str("phone", 20);
    if (id)
        return user_in_scope(accounts, who, *id).id;
    if (phone) {
        auto a = accounts.by_phone(*phone);
        if (!a)
            fail(ErrorCode::NotFound, "no account has this phone; open one first");
        return user_in_scope(accounts, who, a->id).id;
    }
    return std::nullopt;
}

} // namespace

void add_admin_user_routes(Router& r, Services& s) {
    r.add(Route::make(Method::Get, "/api/v1/admin/users", "admin.users.list", "admin-users",
                      "Riders' accounts, newest first")
              .admin("users.read")
              .q(str("q", false, 64, "Phone or name contains, or the exact number of one of the account's cards."))
              .q(boolean("frozen", false, "Only frozen (true) or active (false) accounts."))
              .q(integer("station_id", false, 1, INT64_MAX, "Accounts of one home station."))
              .q(limit_param())
              .q(offset_param())
              .returns(oas::list_of("users", oas::obj(oas::account_members())))
              .handle([&s](Request& req) {
                  AccountFilter f;
                  f.q = req.query("q").value_or("");
                  f.frozen = req.query_bool("frozen");
                  f.station_id = req.query_int("station_id");
                  if (f.station_id)
                      require_station(req.who, *f.station_id);
                  f.scope = scope_of(req.who);
                  f.limit = req.query_int("limit").value_or(50);
                  f.offset = req.query_int("offset").value_or(0);
                  auto d = s.core->get();
                  json::Writer w;
                  w.begin_object().key("users").begin_array();
                  for (const auto& a : AccountStore(*d).accounts(f)) {
                      w.begin_object();
                      write_account(w, s, a);
                      w.end_object();
                  }
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/users", "admin.users.create", "admin-users",
                      "Open an account (and its wallet) at the counter")
              .admin("users.write")
              .field(str("phone", true, 20, "Mobile number (unique)."))
              .field(str("name", false, 64, "Name."))
              .field(integer("station_id", false, 1, INT64_MAX,
                             "The station where it is opened (required for scoped operators)."))
              .ok(201)
              .refuses({ErrorCode::Duplicate, ErrorCode::NotFound})
              .returns(user_schema())
              .handle([&s](Request& req) {
                  auto b = req.body();
                  const auto phone = b.req_str("phone", 20);
                  const auto name = b.opt_str("name", 64).value_or("");
                  const auto station = b.opt_int("station_id", 1, INT64_MAX);
                  req.check_body();
                  if (!auth::valid_phone(phone))
                      fail(ErrorCode::InvalidRequest, "phone must be an optional + and 5..20 digits");
                  auto d = s.core->get();
                  if (station) {
                      if (!CatalogStore(*d).station(*station))
                          fail(ErrorCode::NotFound, "no such station");
                      require_station(req.who, *station);
                  } else if (!req.who.all_stations) {
                      fail(ErrorCode::InvalidRequest,
                           "station_id is required: the account is opened at one of your stations");
                  }
                  const auto opened =
                      ledger::Ledger(*d, *s.clock)
                          .open_account(ledger::NewAccount{phone, name, std::nullopt, ledger::DebitOrder::RealFirst});
                  if (opened.outcome == ledger::Outcome::Duplicate)
                      fail(ErrorCode::Duplicate, "an account with this phone exists");
                  if (opened.outcome != ledger::Outcome::Applied)
                      fail(ErrorCode::InvalidRequest, "this phone number cannot hold an account");
                  if (station)
                      AccountStore(*d).set_home_station(opened.account_id, *station);
                  return user_reply(s, *d, opened.account_id, 201);
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/users/{id}", "admin.users.get", "admin-users",
                      "One account with wallet and card")
              .admin("users.read")
              .param(id_param())
              .refuses({ErrorCode::NotFound})
              .returns(user_schema())
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  AccountStore accounts(*d);
                  user_in_scope(accounts, req.who, req.param_int("id"));
                  return user_reply(s, *d, req.param_int("id"));
              }));

    r.add(Route::make(Method::Put, "/api/v1/admin/users/{id}", "admin.users.update", "admin-users",
                      "Change an account's name")
              .admin("users.write")
              .param(id_param())
              .field(str("name", true, 64, "Name."))
              .refuses({ErrorCode::NotFound})
              .returns(user_schema())
              .handle([&s](Request& req) {
                  auto b = req.body();
                  const auto name = b.req_str("name", 64);
                  req.check_body();
                  auto d = s.core->get();
                  AccountStore accounts(*d);
                  user_in_scope(accounts, req.who, req.param_int("id"));
                  accounts.set_name(req.param_int("id"), name);
                  return user_reply(s, *d, req.param_int("id"));
              }));

    for (const bool freeze : {true, false}) {
        r.add(Route::make(Method::Post,
                          freeze ? "/api/v1/admin/users/{id}/freeze" : "/api/v1/admin/users/{id}/unfreeze",
                          freeze ? "admin.users.freeze" : "admin.users.unfreeze", "admin-users",
                          freeze ? "Freeze an account: it starts nothing, by app or card" : "Unfreeze an account")
                  .admin("users.write")
                  .param(id_param())
                  .refuses({ErrorCode::NotFound})
                  .returns(user_schema())
                  .handle([&s, freeze](Request& req) {
                      auto d = s.core->get();
                      AccountStore accounts(*d);
                      user_in_scope(accounts, req.who, req.param_int("id"));
                      if (ledger::Ledger(*d, *s.clock).set_frozen(req.param_int("id"), freeze) !=
                          ledger::Outcome::Applied)
                          fail(ErrorCode::NotFound, "no such user");
                      return user_reply(s, *d, req.param_int("id"));
                  }));
    }

    r.add(Route::make(Method::Post, "/api/v1/admin/users/{id}/recharge", "admin.users.recharge", "admin-users",
                      "Recharge at the counter: real money (optionally a bonus), or a recharge package (its price "
                      "paid, its bonus credited as bonus); refused for a frozen account and above the role's "
                      "counter recharge limit. Requires an Idempotency-Key (a retry changes nothing)")
              .admin("wallet.recharge")
              .param(id_param())
              .field(integer("amount_fen", false, 0, ledger::kMaxAmountFen,
                             "Real money received, fen (required without package_id)."))
              .field(integer("bonus_fen", false, 0, ledger::kMaxAmountFen, "Bonus given on top, fen."))
              .field(integer("package_id", false, 1, INT64_MAX,
                             "A recharge package instead of amount_fen and bonus_fen (seed 002 §4)."))
              .field(str("note", false, 200, "Note (receipt number, ...)."))
              .moves_money()
              .refuses({ErrorCode::NotFound, ErrorCode::AccountFrozen, ErrorCode::LimitExceeded})
              .returns(oas::obj({{"duplicate", oas::kBool}, {"entry", oas::ledger_entry(false)}}))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  const auto amount_in = b.opt_int("amount_fen", 0, ledger::kMaxAmountFen);
                  const auto bonus_in = b.opt_int("bonus_fen", 0, ledger::kMaxAmountFen);
                  const auto package_id = b.opt_int("package_id", 1, INT64_MAX);
                  const auto note = b.opt_str("note", 200).value_or("");
                  req.check_body();
                  if (package_id && (amount_in || bonus_in))
                      fail(ErrorCode::InvalidRequest, "package_id comes without amount_fen and bonus_fen");
                  if (!package_id && !amount_in)
                      fail(ErrorCode::InvalidRequest, "amount_fen or package_id is required");
                  auto d = s.core->get();
                  AccountStore accounts(*d);
                  const auto id = user_in_scope(accounts, req.who, req.param_int("id")).id;
                  std::int64_t amount = amount_in.value_or(0), bonus = bonus_in.value_or(0);
                  std::string what = note;
                  if (package_id) {
                      const auto pkg = ledger::Ledger(*d, *s.clock).package(*package_id);
                      if (!pkg || !pkg->enabled)
                          fail(ErrorCode::NotFound, "no such recharge package (or it is disabled)");
                      amount = pkg->pay_fen.value();
                      bonus = pkg->bonus_fen.value();
                      if (what.empty())
                          what = fmt::format("package {} ({})", pkg->id, pkg->name);
                  }
                  if (amount == 0 && bonus == 0)
                      fail(ErrorCode::InvalidRequest, "amount_fen or bonus_fen must be positive");
                  if (auto refused = check_counter_recharge_limit(s.settings, req.who.role, Fen(amount)))
                      throw *refused;
                  ledger::Credit c;
                  c.account_id = id;
                  c.real_fen = Fen(amount);
                  c.bonus_fen = Fen(bonus);
                  c.kind = amount > 0 ? ledger::Kind::Recharge : ledger::Kind::Bonus;
                  c.meta = ledger::Meta{staff_key(req, "counter"),
                                        package_id ? fmt::format("package:{}", *package_id) : "", req.who.name, what};
                  const auto p = accounts.recharge(c, *s.clock);
                  check_posting(p);
                  json::Writer w;
                  w.begin_object().field("duplicate", p.outcome == ledger::Outcome::Duplicate).key("entry");
                  write_entry(w, s, *p.entry);
                  w.end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/users/{id}/ledger", "admin.users.ledger", "admin-users",
                      "An account's ledger, newest first")
              .admin("users.read")
              .param(id_param())
              .q(limit_param())
              .q(integer("before_id", false, 1, INT64_MAX, "Entries older than this id."))
              .refuses({ErrorCode::NotFound})
              .returns(oas::list_of("entries", oas::ledger_entry(false)))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  AccountStore accounts(*d);
                  const auto id = user_in_scope(accounts, req.who, req.param_int("id")).id;
                  json::Writer w;
                  w.begin_object().key("entries").begin_array();
                  for (const auto& e :
                       accounts.ledger(id, req.query_int("limit").value_or(50), req.query_int("before_id")))
                      write_ledger_entry(w, s, e, false);
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/ledger", "admin.ledger", "admin-users",
                      "The ledger across accounts (unscoped operators), newest first")
              .admin("users.read")
              .q(str("from", false, 40, "From (RFC 3339 or YYYY-MM-DD)."))
              .q(str("to", false, 40, "Before (RFC 3339 or YYYY-MM-DD)."))
              .q(integer("account_id", false, 1, INT64_MAX, "One account."))
              .q(str_enum("kind", false, ledger_kind_words(), "One kind."))
              .q(limit_param())
              .q(offset_param())
              .returns(oas::list_of("entries", oas::ledger_entry(true)))
              .refuses({ErrorCode::NotFound}) // an account_id that is no rider's
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  AccountStore accounts(*d);
                  auto account = req.query_int("account_id");
                  if (account)
                      user_in_scope(accounts, req.who, *account);
                  else
                      require_unscoped(req.who, "the ledger across accounts");
                  json::Writer w;
                  w.begin_object().key("entries").begin_array();
                  for (const auto& e : accounts.ledger_between(
                           query_time(s, req, "from").value_or(0), query_time(s, req, "to").value_or(INT64_MAX),
                           account, req.query("kind").value_or(""), req.query_int("limit").value_or(50),
                           req.query_int("offset").value_or(0)))
                      write_ledger_entry(w, s, e, true);
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    // ---- cards ----
    r.add(Route::make(Method::Get, "/api/v1/admin/cards", "admin.cards.list", "admin-cards", "IC cards")
              .admin("cards.read")
              .q(integer("account_id", false, 1, INT64_MAX, "One account's."))
              .q(str_enum("status", false, {"active", "lost", "unbound", "replaced"}, "One status."))
              .q(limit_param())
              .q(offset_param())
              .returns(oas::list_of("cards", oas::card()))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  AccountStore accounts(*d);
                  json::Writer w;
                  w.begin_object().key("cards").begin_array();
                  for (const auto& c :
                       accounts.cards(req.query_int("account_id"), req.query("status").value_or(""),
                                      req.query_int("limit").value_or(50), req.query_int("offset").value_or(0))) {
                      bool visible = req.who.all_stations || (c.station_id && req.who.sees_station(*c.station_id));
                      if (!visible && c.account_id)
                          if (auto a = accounts.account(*c.account_id))
                              visible = a->home_station_id && req.who.sees_station(*a->home_station_id);
                      if (visible)
                          write_card(w, s, c);
                  }
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/cards", "admin.cards.issue", "admin-cards",
                      "Issue an IC card, optionally bound to an account at once (its fee is debited from that wallet)")
              .admin("cards.write")
              .moves_money()
              .field(str("card_no", true, 32, "Card number [A-Za-z0-9]{4,32} (printed number = reader UID)."))
              .field(str("name", false, 64, "Label."))
              .field(integer("fee_fen", false, 0, 100000, "Card fee, fen (debited when bound at issue)."))
              .field(integer("account_id", false, 1, INT64_MAX, "Bind to this account."))
              .field(str("phone", false, 20, "Or to the account with this phone."))
              .field(integer("station_id", false, 1, INT64_MAX, "Issuing station (required for scoped operators)."))
              .ok(201)
              .refuses({ErrorCode::Duplicate, ErrorCode::NotFound, ErrorCode::BalanceTooLow, ErrorCode::AccountFrozen,
                        ErrorCode::Conflict})
              .returns(oas::card())
              .handle([&s](Request& req) {
                  auto b = req.body();
                  CardRow c;
                  c.card_no = b.req_str("card_no", 32);
                  c.name = b.opt_str("name", 64).value_or("");
                  c.fee_fen = b.opt_int("fee_fen", 0, 100000).value_or(0);
                  c.station_id = b.opt_int("station_id", 1, INT64_MAX);
                  auto d = s.core->get();
                  AccountStore accounts(*d);
                  const auto account = account_for(accounts, req.who, b);
                  req.check_body();
                  if (!valid_card_no(c.card_no))
                      fail(ErrorCode::InvalidRequest, "card_no must be [A-Za-z0-9]{4,32}");
                  if (c.station_id) {
                      if (!CatalogStore(*d).station(*c.station_id))
                          fail(ErrorCode::NotFound, "no such station");
                      require_station(req.who, *c.station_id);
                  } else if (!req.who.all_stations && !account) {
                      fail(ErrorCode::InvalidRequest, "station_id or an account is required");
                  }
                  if (accounts.card(c.card_no))
                      fail(ErrorCode::Duplicate, "a card with this number exists");
                  if (account && accounts.active_card(*account))
                      fail(ErrorCode::Conflict, "the account already has a card");
                  c.status = "active";
                  c.issued_at = s.now();
                  c.account_id = account;
                  if (account)
                      c.bound_at = s.now();
                  const auto fee = account
                                       ? std::optional(CardFee{*account, c.fee_fen,
                                                               staff_key(req, "card_fee:" + c.card_no), req.who.name})
                                       : std::nullopt;
                  check_posting(accounts.issue_card(c, fee, *s.clock).fee);
                  json::Writer w;
                  write_card(w, s, *accounts.card(c.card_no));
                  return Response::json(w.str(), 201);
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/cards/{card_no}/bind", "admin.cards.bind", "admin-cards",
                      "Bind an issued card to an account (its fee, if unpaid, is debited)")
              .admin("cards.write")
              .moves_money()
              .param(key_param("card_no", "Card number."))
              .field(integer("account_id", false, 1, INT64_MAX, "The account."))
              .field(str("phone", false, 20, "Or the account with this phone."))
              .refuses({ErrorCode::UnknownCard, ErrorCode::CardLost, ErrorCode::NotFound, ErrorCode::Conflict,
                        ErrorCode::BalanceTooLow, ErrorCode::AccountFrozen})
              .returns(oas::card())
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  AccountStore accounts(*d);
                  const auto c = card_in_scope(accounts, req.who, req.param("card_no"));
                  auto b = req.body();
                  const auto account = account_for(accounts, req.who, b);
                  req.check_body();
                  if (!account)
                      fail(ErrorCode::InvalidRequest, "give account_id or phone");
                  if (c.status == "lost" || c.status == "replaced")
                      fail(ErrorCode::CardLost, "this card was reported lost or replaced");
                  if (c.account_id && *c.account_id != *account)
                      fail(ErrorCode::Conflict, "the card is bound to another account");
                  if (auto mine = accounts.active_card(*account); mine && mine->card_no != c.card_no)
                      fail(ErrorCode::Conflict, "the account already has a card");
                  const CardFee fee{*account, c.fee_fen, staff_key(req, "card_fee:" + c.card_no), req.who.name};
                  check_card_change(accounts.bind_card_charging(c.card_no, *account, c.name, s.now(), fee, *s.clock),
                                    "the card changed meanwhile");
                  json::Writer w;
                  write_card(w, s, *accounts.card(c.card_no));
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/cards/{card_no}/unbind", "admin.cards.unbind", "admin-cards",
                      "Unbind a card from its account")
              .admin("cards.write")
              .param(key_param("card_no", "Card number."))
              .refuses({ErrorCode::UnknownCard, ErrorCode::Conflict})
              .returns(oas::card())
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  AccountStore accounts(*d);
                  const auto c = card_in_scope(accounts, req.who, req.param("card_no"));
                  if (!accounts.unbind_card(c.card_no))
                      fail(ErrorCode::Conflict, "the card is not bound");
                  json::Writer w;
                  write_card(w, s, *accounts.card(c.card_no));
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/cards/{card_no}/report-lost", "admin.cards.report_lost",
                      "admin-cards", "Report a card lost: it starts nothing from now on")
              .admin("cards.write")
              .param(key_param("card_no", "Card number."))
              .refuses({ErrorCode::UnknownCard, ErrorCode::Conflict})
              .returns(oas::card())
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  AccountStore accounts(*d);
                  const auto c = card_in_scope(accounts, req.who, req.param("card_no"));
                  if (!accounts.set_card_status(c.card_no, "active", "lost") &&
                      !accounts.set_card_status(c.card_no, "unbound", "lost"))
                      fail(ErrorCode::Conflict, "the card is already lost or replaced");
                  json::Writer w;
                  write_card(w, s, *accounts.card(c.card_no));
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/cards/{card_no}/replace", "admin.cards.replace", "admin-cards",
                      "Replace a card: the old one is retired, a new one is bound to the same account (fee optional)")
              .admin("cards.write")
              .moves_money()
              .param(key_param("card_no", "The old card's number."))
              .field(str("new_card_no", true, 32, "The new card's number."))
              .field(integer("fee_fen", false, 0, 100000, "Fee for the new card, fen."))
              .ok(201)
              .refuses({ErrorCode::UnknownCard, ErrorCode::Conflict, ErrorCode::Duplicate, ErrorCode::BalanceTooLow})
              .returns(oas::obj({{"old", oas::card()}, {"new", oas::card()}}))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  const auto new_no = b.req_str("new_card_no", 32);
                  const auto fee = b.opt_int("fee_fen", 0, 100000).value_or(0);
                  req.check_body();
                  if (!valid_card_no(new_no))
                      fail(ErrorCode::InvalidRequest, "new_card_no must be [A-Za-z0-9]{4,32}");
                  auto d = s.core->get();
                  AccountStore accounts(*d);
                  const auto old = card_in_scope(accounts, req.who, req.param("card_no"));
                  if (!old.account_id || old.status == "replaced")
                      fail(ErrorCode::Conflict, "only a card of an account can be replaced, once");
                  if (accounts.card(new_no))
                      fail(ErrorCode::Duplicate, "a card with the new number exists");
                  CardRow c;
                  c.card_no = new_no;
                  c.account_id = old.account_id;
                  c.name = old.name;
                  c.status = "active";
                  c.fee_fen = fee;
                  c.issued_at = s.now();
                  c.bound_at = s.now();
                  c.station_id = old.station_id;
                  const CardFee card_fee{*old.account_id, fee, staff_key(req, "card_fee:" + new_no), req.who.name};
                  check_card_change(accounts.replace_card(old.card_no, old.status, c, card_fee, *s.clock),
                                    "the card changed meanwhile");
                  json::Writer w;
                  w.begin_object().key("old");
                  write_card(w, s, *accounts.card(old.card_no));
                  w.key("new");
                  write_card(w, s, *accounts.card(new_no));
                  w.end_object();
                  return Response::json(w.str(), 201);
              }));

    // ---- recharge packages ----
    r.add(Route::make(Method::Get, "/api/v1/admin/packages", "admin.packages.list", "admin-users", "Recharge packages")
              .admin("users.read")
              .returns(oas::list_of("packages", package_schema()))
              .handle([&s](Request&) {
                  auto d = s.core->get();
                  json::Writer w;
                  w.begin_object().key("packages").begin_array();
                  for (const auto& p : ledger::Ledger(*d, *s.clock).packages(false))
                      w.begin_object()
                          .field("id", p.id)
                          .field("name", p.name)
                          .field("pay_fen", p.pay_fen.value())
                          .field("bonus_fen", p.bonus_fen.value())
                          .field("enabled", p.enabled)
                          .end_object();
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/packages", "admin.packages.create", "admin-users",
                      "Create a recharge package (pay X, get a bonus; the bonus at most "
                      "pilehub-api.packages.max_bonus_pct percent of the price)")
              .admin("packages.write")
              .field(str("name", true, 64, "Name, e.g. pay 50 get 1."))
              .field(integer("pay_fen", true, 1, 500000, "Price, fen."))
              .field(integer("bonus_fen", false, 0, 500000, "Bonus, fen."))
              .ok(201)
              .returns(package_schema())
              .handle([&s](Request& req) {
                  require_unscoped(req.who, "recharge packages");
                  auto b = req.body();
                  ledger::Package p;
                  p.name = b.req_str("name", 64);
                  p.pay_fen = Fen(b.req_int("pay_fen", 1, 500000));
                  p.bonus_fen = Fen(b.opt_int("bonus_fen", 0, 500000).value_or(0));
                  req.check_body();
                  if (auto refused = check_package_bonus(s.settings, p.pay_fen, p.bonus_fen))
                      throw *refused;
                  auto d = s.core->get();
                  p.id = ledger::Ledger(*d, *s.clock).add_package(p);
                  json::Writer w;
                  w.begin_object()
                      .field("id", p.id)
                      .field("name", p.name)
                      .field("pay_fen", p.pay_fen.value())
                      .field("bonus_fen", p.bonus_fen.value())
                      .field("enabled", true)
                      .end_object();
                  return Response::json(w.str(), 201);
              }));

    r.add(Route::make(Method::Put, "/api/v1/admin/packages/{id}", "admin.packages.update", "admin-users",
                      "Change a recharge package (name, price, bonus) or enable or disable it; an enabled package's "
                      "bonus is at most pilehub-api.packages.max_bonus_pct percent of its price")
              .admin("packages.write")
              .param(id_param())
              .field(boolean("enabled", false, "Offered to riders."))
              .field(str("name", false, 64, "Name."))
              .field(integer("pay_fen", false, 1, 500000, "Price, fen."))
              .field(integer("bonus_fen", false, 0, 500000, "Bonus, fen."))
              .refuses({ErrorCode::NotFound})
              .returns(package_schema())
              .handle([&s](Request& req) {
                  require_unscoped(req.who, "recharge packages");
                  auto b = req.body();
                  const auto enabled = b.opt_bool("enabled");
                  const auto name = b.opt_str("name", 64);
                  const auto pay = b.opt_int("pay_fen", 1, 500000);
                  const auto bonus = b.opt_int("bonus_fen", 0, 500000);
                  req.check_body();
                  auto d = s.core->get();
                  auto p = ledger::Ledger(*d, *s.clock).package(req.param_int("id"));
                  if (!p)
                      fail(ErrorCode::NotFound, "no such package");
                  p->enabled = enabled.value_or(p->enabled);
                  p->name = name.value_or(p->name);
                  p->pay_fen = pay ? Fen(*pay) : p->pay_fen;
                  p->bonus_fen = bonus ? Fen(*bonus) : p->bonus_fen;
                  if (p->enabled)
                      if (auto refused = check_package_bonus(s.settings, p->pay_fen, p->bonus_fen))
                          throw *refused;
                  if (!AccountStore(*d).update_package(*p))
                      fail(ErrorCode::NotFound, "no such package");
                  json::Writer w;
                  w.begin_object()
                      .field("id", p->id)
                      .field("name", p->name)
                      .field("pay_fen", p->pay_fen.value())
                      .field("bonus_fen", p->bonus_fen.value())
                      .field("enabled", p->enabled)
                      .end_object();
                  return Response::json(w.str());
              }));
}

} // namespace pilehub::api
