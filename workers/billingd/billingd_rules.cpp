#include "billingd_rules.hpp"

#include "common/json.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace pilehub::billing {
namespace {

std::string unpriced_bill(std::string_view why) {
    json::Writer w;
    w.begin_object().field("cost_fen", 0).key("lines").begin_array().end_array().field("error", why).end_object();
    return w.str();
}

SettlementPlan zero(const TariffChoice& t, std::string note) {
    SettlementPlan p;
    p.priced_fen = Fen(0);
    p.tariff_id = t.id;
    p.bill_json = unpriced_bill(note);
    p.note = std::move(note);
    return p;
}

} // namespace

bool settleable(const SessionFacts& s) {
    return s.record_msg_id.has_value() && !s.cost_fen.has_value() && svc::awaits_settlement(s.state);
}

TelemetryEvidence evidence_of(const std::vector<Sample>& recorded) {
    TelemetryEvidence e;
    for (const auto& x : recorded)
        if (!e.last_sample_ms || x.t > *e.last_sample_ms)
            e.last_sample_ms = x.t;
    return e;
}

EpochMs settle_not_before(const SessionFacts& s, std::int64_t settle_delay_ms) {
    return s.committed_at + std::max<std::int64_t>(0, settle_delay_ms);
}

bool due_for_settlement(const SessionFacts& s, const Clock& clock, std::int64_t settle_delay_ms,
                        const TelemetryEvidence& telemetry) {
    if (!settleable(s))
        return false;
    const EpochMs stop = s.ended_at.value_or(settlement_window(s).stop_ms);
    if (telemetry.last_sample_ms && *telemetry.last_sample_ms >= stop)
        return true;
    return clock.now_ms() >= settle_not_before(s, settle_delay_ms);
}

Window settlement_window(const SessionFacts& s) {
    Window w;
    w.start_ms = s.started_at.value_or(s.created_at);
    if (s.duration_s > 0)
        w.stop_ms = w.start_ms + s.duration_s * 1000;
    else if (s.ended_at)
        w.stop_ms = std::max(*s.ended_at, w.start_ms);
    else
        w.stop_ms = w.start_ms;
    w.pile_stop_ms = w.stop_ms;
    // Billed to the stop request, not to when the pile finally obeyed (it may have been away). How long
    // the session had run by then is measured on the platform's clock alone (request − creation), so a
    // pile's clock, which may have set started_at, cannot move it.
    if (s.stop_requested_at)
        w.stop_ms = std::min(w.stop_ms, w.start_ms + std::max<EpochMs>(0, *s.stop_requested_at - s.created_at));
    return w;
}

std::int64_t energy_at(const std::vector<Sample>& recorded, EpochMs start_ms, EpochMs final_ms,
                       std::int64_t final_energy_wh, EpochMs t) {
    // The points of the curve, in time order, the counter never falling (a falling reading is ignored
    // by pricing too), closed by the record's final reading.
    EpochMs t0 = start_ms;
    std::int64_t e0 = 0;
    for (const auto& x : recorded) {
        if (x.t >= final_ms)
            break;
        const std::int64_t e = std::clamp(x.energy_wh, e0, final_energy_wh);
        if (x.t > t) {
            // Between (t0, e0) and this sample.
            return x.t > t0 ? e0 + (e - e0) * (t - t0) / (x.t - t0) : e0;
        }
        t0 = std::max(t0, x.t);
        e0 = e;
    }
    if (t >= final_ms)
        return std::max(e0, final_energy_wh);
    const std::int64_t e1 = std::max(e0, final_energy_wh);
    return final_ms > t0 ? e0 + (e1 - e0) * (std::max(t, t0) - t0) / (final_ms - t0) : e0;
}

std::vector<Sample> settlement_samples(const SessionFacts& s, const Tariff* t, std::vector<Sample> recorded) {
    const Window w = settlement_window(s);
    std::stable_sort(recorded.begin(), recorded.end(), [](const Sample& a, const Sample& b) { return a.t < b.t; });
    std::int64_t final_energy_wh = s.energy_wh;
    if (w.cut_at_stop_request()) {
        // What the pile did after the stop request is not billed: its reports after it are left out,
        // and the energy at the request is read off the curve closed by the record.
        final_energy_wh = energy_at(recorded, w.start_ms, w.pile_stop_ms, s.energy_wh, w.stop_ms);
        std::erase_if(recorded, [&](const Sample& x) { return x.t > w.stop_ms; });
    }
    // A late report (the pile's clock ahead of ours) counts at the stop, before the final reading.
    for (auto& x : recorded)
        x.t = std::min(x.t, w.stop_ms);
    const std::int64_t ignore_ms = (t && t->power) ? t->power->ignore_first_s * 1000 : 0;
    const bool power_reported = std::any_of(recorded.begin(), recorded.end(), [&](const Sample& x) {
        return x.t >= w.start_ms + ignore_ms && x.t <= w.stop_ms;
    });
    Sample last;
    last.t = w.stop_ms;
    last.energy_wh = final_energy_wh;
    last.power_w = power_reported ? 0 : std::max<std::int64_t>(0, s.max_power_w);
    recorded.push_back(last);
    return recorded;
}

SettlementPlan plan_settlement(const SessionFacts& s, const TariffChoice& t, std::vector<Sample> recorded) {
    if (s.method == svc::SessionMethod::Operator) {
        auto p = zero(TariffChoice{}, "commissioning by an operator: free, no wallet");
        p.charges_wallet = false;
        return p;
    }
    if (!t.id)
        return zero(t, "no tariff was in force at the start: settled at 0");
    if (!t.tariff)
        return zero(t, fmt::format("tariff {} cannot be read ({}): settled at 0", *t.id, t.problem));
    const auto mode = parse_mode(s.mode);
    if (!mode)
        return zero(t, fmt::format("unknown mode `{}`: settled at 0", s.mode));
    const Window w = settlement_window(s);
    const auto samples = settlement_samples(s, t.tariff.get(), std::move(recorded));
    PricingInput in;
    in.mode = *mode;
    in.start_ms = w.start_ms;
    in.stop_ms = w.stop_ms;
    in.minutes = s.minutes;
    in.samples = samples;
    in.stop_reason = s.stop_reason;
    in.max_fen = s.max_fen;
    auto bill = price(*t.tariff, in);
    if (!bill)
        return zero(t, fmt::format("cannot be priced with tariff {} ({}): settled at 0", *t.id, bill.error()));
    SettlementPlan p;
    p.priced_fen = std::max(bill->cost_fen, Fen(0));
    p.electricity_fen = bill->electricity_fen;
    p.service_fen = bill->service_fen;
    p.tariff_id = t.id;
    p.bill_json = to_json(*bill);
    return p;
}

Amounts settle_amounts(Fen priced, Fen available) {
    const Fen debit = std::clamp(available, Fen(0), std::max(priced, Fen(0)));
    return {debit, std::max(priced, Fen(0)) - debit};
}

svc::RunningCost running_cost(const CostUpdate& u) {
    return svc::RunningCost{.sid = u.sid,
                            .ts = u.at,
                            .cost_fen = u.cost_fen,
                            .balance_fen = u.balance_fen,
                            .bonus_fen = u.bonus_fen,
                            .available_fen = u.available_fen,
                            .balance_low = u.balance_low,
                            .cap_reached = u.cap_reached,
                            .quota = u.quota,
                            .elapsed_s = u.elapsed_s,
                            .energy_wh = u.energy_wh,
                            .error = u.error.empty() ? std::nullopt : std::optional<std::string>(u.error)};
}

CostTracker::CostTracker(const Clock& clock, Options options) : clock_(clock), options_(options) {}

void CostTracker::track(LiveSession s, std::shared_ptr<const Tariff> tariff, std::vector<Sample> history) {
    std::stable_sort(history.begin(), history.end(), [](const Sample& a, const Sample& b) { return a.t < b.t; });
    auto& t = tracked_[s.id];
    const bool known = t.session.id == s.id;
    t.session = std::move(s);
    t.tariff = std::move(tariff);
    if (!known || history.size() >= t.samples.size())
        t.samples = std::move(history);
}

bool CostTracker::tracking(const std::string& sid) const {
    return tracked_.count(sid) > 0;
}

void CostTracker::forget(const std::string& sid) {
    tracked_.erase(sid);
}

std::vector<std::string> CostTracker::retain(const std::set<std::string>& live) {
    std::vector<std::string> dropped;
    for (auto it = tracked_.begin(); it != tracked_.end();) {
        if (live.count(it->first)) {
            ++it;
        } else {
            dropped.push_back(it->first);
            it = tracked_.erase(it);
        }
    }
    return dropped;
}

std::vector<std::string> CostTracker::sessions() const {
    std::vector<std::string> out;
    for (const auto& [sid, t] : tracked_)
        out.push_back(sid);
    return out;
}

std::optional<std::int64_t> CostTracker::account_of(const std::string& sid) const {
    auto it = tracked_.find(sid);
    if (it == tracked_.end())
        return std::nullopt;
    return it->second.session.account_id;
}

bool CostTracker::on_reading(const std::string& sid, EpochMs at, std::optional<std::int64_t> energy_wh,
                             std::int64_t power_w) {
    auto it = tracked_.find(sid);
    if (it == tracked_.end())
        return false;
    auto& t = it->second;
    Sample s;
    s.t = at;
    s.power_w = std::max<std::int64_t>(0, power_w);
    s.energy_wh = energy_wh.value_or(t.samples.empty() ? 0 : t.samples.back().energy_wh);
    if (!t.samples.empty() && s.t < t.samples.back().t)
        return false; // an old reading (redelivered or reordered): already counted, or too late
    if (!t.samples.empty() && s.t == t.samples.back().t)
        t.samples.back() = s;
    else
        t.samples.push_back(s);
    if (t.samples.size() > options_.max_samples) {
        // Thin the older half (every other reading): bounded memory for very long sessions.
        std::vector<Sample> thinned;
        const std::size_t half = t.samples.size() / 2;
        for (std::size_t i = 0; i < t.samples.size(); ++i)
            if (i >= half || i % 2 == 0)
                thinned.push_back(t.samples[i]);
        t.samples = std::move(thinned);
    }
    return !t.published || clock_.now_ms() - t.last_published >= options_.min_interval_ms;
}

std::vector<std::string> CostTracker::due() const {
    std::vector<std::string> out;
    const EpochMs now = clock_.now_ms();
    for (const auto& [sid, t] : tracked_)
        if (!t.published || now - t.last_published >= options_.period_ms)
            out.push_back(sid);
    return out;
}

std::optional<CostUpdate> CostTracker::compute(const std::string& sid, const WalletView& wallet) {
    auto it = tracked_.find(sid);
    if (it == tracked_.end())
        return std::nullopt;
    auto& t = it->second;
    const EpochMs now = clock_.now_ms();
    CostUpdate u;
    u.sid = sid;
    u.account_id = t.session.account_id;
    u.at = now;
    u.balance_fen = wallet.balance_fen;
    u.bonus_fen = wallet.bonus_fen;
    u.available_fen = wallet.available();
    u.elapsed_s = std::max<EpochMs>(0, now - t.session.start_ms) / 1000;
    u.energy_wh = t.samples.empty() ? 0 : t.samples.back().energy_wh;
    t.last_published = now;
    t.published = true;
    if (!t.tariff) {
        u.error = "no tariff: free";
        return u;
    }
    const auto mode = parse_mode(t.session.mode);
    if (!mode) {
        u.error = fmt::format("unknown mode `{}`", t.session.mode);
        return u;
    }
    PricingInput in;
    in.mode = *mode;
    in.start_ms = t.session.start_ms;
    in.stop_ms = std::max(now, t.session.start_ms);
    in.minutes = t.session.minutes;
    in.samples = t.samples;
    in.max_fen = t.session.max_fen;
    auto bill = running_cost(*t.tariff, in, now);
    if (!bill) {
        u.error = bill.error();
        return u;
    }
    u.cost_fen = bill->cost_fen;
    u.balance_low = billing::balance_low(*t.tariff, u.available_fen, u.cost_fen);
    u.cap_reached = billing::cap_reached(*t.tariff, *bill);
    u.quota = quota_reached(*t.tariff, in, *bill);
    return u;
}

} // namespace pilehub::billing
