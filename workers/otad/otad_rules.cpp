#include "workers/otad/otad_rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace pilehub::otad {
namespace {

constexpr std::array<std::string_view, 7> kDeviceStates{"pending",   "sent",   "downloading", "installing",
                                                        "installed", "failed", "skipped"};
constexpr std::array<std::string_view, 3> kRolloutStates{"running", "halted", "completed"};

template <typename E, std::size_t N>
std::optional<E> parse_word(const std::array<std::string_view, N>& words, std::string_view s) {
    for (std::size_t i = 0; i < N; ++i)
        if (words[i] == s)
            return static_cast<E>(i);
    return std::nullopt;
}

bool refusal(payloads::ReplyStatus s) {
    using RS = payloads::ReplyStatus;
    return s == RS::Rejected || s == RS::Failed || s == RS::Unsupported || s == RS::Invalid || s == RS::Expired;
}

} // namespace

std::string_view to_string(DeviceState s) {
    return kDeviceStates[static_cast<std::size_t>(s)];
}
std::optional<DeviceState> parse_device_state(std::string_view s) {
    return parse_word<DeviceState>(kDeviceStates, s);
}
std::string_view to_string(RolloutState s) {
    return kRolloutStates[static_cast<std::size_t>(s)];
}
std::optional<RolloutState> parse_rollout_state(std::string_view s) {
    return parse_word<RolloutState>(kRolloutStates, s);
}

bool in_flight(DeviceState s) {
    return s == DeviceState::Sent || s == DeviceState::Downloading || s == DeviceState::Installing;
}
bool is_final(DeviceState s) {
    return s == DeviceState::Installed || s == DeviceState::Failed || s == DeviceState::Skipped;
}

void Effects::append(Effects other) {
    for (auto& d : other.devices)
        devices.push_back(std::move(d));
    for (auto& r : other.rollouts)
        rollouts.push_back(std::move(r));
    for (auto& c : other.commands)
        commands.push_back(std::move(c));
}

void Rules::add(Rollout r) {
    if (r.state != RolloutState::Running || rollouts_.count(r.id))
        return;
    // After a restart the interval counts from the last change of the latest batch, if it has ended.
    const bool busy = std::any_of(r.devices.begin(), r.devices.end(), [](const auto& d) { return in_flight(d.state); });
    int last = 0;
    for (const auto& d : r.devices)
        last = std::max(last, d.batch.value_or(0));
    if (!busy && last > 0) {
        EpochMs done = 0;
        for (const auto& d : r.devices)
            if (d.batch == last)
                done = std::max(done, d.updated_at);
        batch_done_at_[r.id] = done;
    }
    const auto id = r.id;
    rollouts_.emplace(id, std::move(r));
}

void Rules::remove(std::int64_t rollout_id) {
    rollouts_.erase(rollout_id);
    batch_done_at_.erase(rollout_id);
    std::erase_if(offline_since_, [&](const auto& kv) { return kv.first.first == rollout_id; });
    std::erase_if(last_send_, [&](const auto& kv) { return kv.first.first == rollout_id; });
    std::erase_if(acked_, [&](const auto& k) { return k.first == rollout_id; });
}

void Rules::resend_unanswered(Rollout& r, const ReadinessOf& readiness, Effects& out) {
    const auto now = clock_.now_ms();
    for (const auto& d : r.devices) {
        const auto key = std::make_pair(r.id, d.device_id);
        if (d.state != DeviceState::Sent || !d.rid || acked_.count(key))
            continue;
        const auto last = last_send_.count(key) ? last_send_[key] : d.sent_at.value_or(d.updated_at);
        if (now - last < opts_.command_exp_s * 1000 || !readiness(d.device_id).online)
            continue;
        last_send_[key] = now;
        out.commands.push_back(Command{r.id, d.device_id, *d.rid, now + opts_.command_exp_s * 1000,
                                       payloads::CmdOta{r.url, r.version, r.sha256}});
    }
}

void Rules::change(const Rollout& r, const RolloutDevice& d, Effects& out) const {
    out.devices.push_back(DeviceChange{r.id, d});
}

void Rules::halt(Rollout& r, std::string why, Effects& out) {
    const auto now = clock_.now_ms();
    r.state = RolloutState::Halted;
    r.halt_reason = std::move(why);
    r.finished_at = now;
    // Devices not yet sent never get cmd/ota; those at work keep their last reported state.
    for (auto& d : r.devices) {
        if (d.state != DeviceState::Pending)
            continue;
        d.state = DeviceState::Skipped;
        d.error = "rollout halted";
        d.updated_at = now;
        change(r, d, out);
    }
    out.rollouts.push_back(RolloutChange{r.id, r.state, r.failures, r.halt_reason, r.finished_at});
}

void Rules::fail(Rollout& r, RolloutDevice& d, std::string why, Effects& out) {
    const auto now = clock_.now_ms();
    d.state = DeviceState::Failed;
    d.error = std::move(why);
    d.updated_at = now;
    change(r, d, out);
    ++r.failures;
    if (r.failures > r.max_failures) {
        halt(r, fmt::format("{} failures, more than max_failures {}", r.failures, r.max_failures), out);
        return;
    }
    out.rollouts.push_back(RolloutChange{r.id, r.state, r.failures, r.halt_reason, r.finished_at});
}

void Rules::finish_if_done(Rollout& r, Effects& out) {
    if (r.state != RolloutState::Running)
        return;
    const bool open = std::any_of(r.devices.begin(), r.devices.end(), [](const auto& d) { return !is_final(d.state); });
    if (!open) {
        r.state = RolloutState::Completed;
        r.finished_at = clock_.now_ms();
        out.rollouts.push_back(RolloutChange{r.id, r.state, r.failures, r.halt_reason, r.finished_at});
        return;
    }
    const bool working =
        std::any_of(r.devices.begin(), r.devices.end(), [](const auto& d) { return in_flight(d.state); });
    const bool sent_before =
        std::any_of(r.devices.begin(), r.devices.end(), [](const auto& d) { return d.batch.has_value(); });
    if (!working && sent_before && !batch_done_at_.count(r.id))
        batch_done_at_[r.id] = clock_.now_ms(); // the batch at work has just ended
}

void Rules::drop_ended() {
    std::vector<std::int64_t> ended;
    for (const auto& [id, r] : rollouts_)
        if (r.state != RolloutState::Running)
            ended.push_back(id);
    for (auto id : ended)
        remove(id);
}

Effects Rules::on_event(const std::string& device_id, const payloads::EvtOta& e) {
    Effects out;
    const auto now = clock_.now_ms();
    for (auto& [id, r] : rollouts_) {
        if (r.state != RolloutState::Running || r.version != e.version)
            continue;
        for (auto& d : r.devices) {
            if (d.device_id != device_id || !in_flight(d.state))
                continue;
            using S = payloads::OtaStatus;
            switch (e.st) {
            case S::Downloading:
            case S::Downloaded:
                if (d.state == DeviceState::Sent) // a device's state only moves forward
                    d.state = DeviceState::Downloading;
                break;
            case S::Installing:
            case S::Installed: // the proof is the new version reported on connect (on_firmware)
                d.state = DeviceState::Installing;
                break;
            case S::Failed:
                fail(r, d, e.error.value_or("the device reported the update failed"), out);
                continue;
            }
            acked_.insert({r.id, device_id});
            d.progress_pct = e.st == S::Installed ? std::optional<int>(100) : e.progress_pct;
            d.updated_at = now;
            change(r, d, out);
        }
        finish_if_done(r, out);
    }
    drop_ended();
    return out;
}

Effects Rules::on_reply(const std::string& device_id, const std::string& rid, payloads::ReplyStatus status,
                        const std::string& msg) {
    Effects out;
    for (auto& [id, r] : rollouts_) {
        if (r.state != RolloutState::Running)
            continue;
        for (auto& d : r.devices) {
            if (d.device_id != device_id || d.rid != rid || !in_flight(d.state))
                continue;
            acked_.insert({r.id, device_id});
            if (refusal(status)) {
                fail(r, d, fmt::format("cmd/ota {}{}{}", payloads::to_string(status), msg.empty() ? "" : ": ", msg),
                     out);
            } else if (status == payloads::ReplyStatus::Busy) {
                // Nothing was executed (CONTRACT A.6): the device waits for its turn again.
                d.state = DeviceState::Pending;
                d.batch.reset();
                d.updated_at = clock_.now_ms();
                change(r, d, out);
            } else {
                d.updated_at = clock_.now_ms();
                change(r, d, out);
            }
        }
        finish_if_done(r, out);
    }
    drop_ended();
    return out;
}

Effects Rules::on_firmware(const std::string& device_id, const std::string& version) {
    Effects out;
    firmware_[device_id] = version;
    for (auto& [id, r] : rollouts_) {
        if (r.state != RolloutState::Running || r.version != version)
            continue;
        for (auto& d : r.devices) {
            if (d.device_id != device_id || !in_flight(d.state))
                continue;
            d.state = DeviceState::Installed;
            d.progress_pct = 100;
            d.error.clear();
            d.updated_at = clock_.now_ms();
            change(r, d, out);
        }
        finish_if_done(r, out);
    }
    drop_ended();
    return out;
}

void Rules::send_batch(Rollout& r, const ReadinessOf& readiness, Effects& out) {
    if (std::any_of(r.devices.begin(), r.devices.end(), [](const auto& d) { return in_flight(d.state); }))
        return;
    const auto now = clock_.now_ms();
    if (auto it = batch_done_at_.find(r.id); it != batch_done_at_.end() && now < it->second + r.batch_interval_s * 1000)
        return;
    int batch = 1;
    for (const auto& d : r.devices)
        batch = std::max(batch, d.batch.value_or(0) + 1);
    const auto skip_after_ms = (opts_.offline_skip_s > 0 ? opts_.offline_skip_s : r.timeout_s) * 1000;
    int sent = 0;
    for (auto& d : r.devices) {
        if (sent >= r.batch_size)
            break;
        if (d.state != DeviceState::Pending)
            continue;
        const auto key = std::make_pair(r.id, d.device_id);
        if (auto fw = firmware_.find(d.device_id); fw != firmware_.end() && fw->second == r.version) {
            d.state = DeviceState::Installed; // already on this version: nothing to send
            d.progress_pct = 100;
            d.updated_at = now;
            change(r, d, out);
            offline_since_.erase(key);
            continue;
        }
        const auto ready = readiness(d.device_id);
        if (!ready.online) {
            auto [it, fresh] = offline_since_.emplace(key, now);
            if (!fresh && now - it->second >= skip_after_ms) {
                d.state = DeviceState::Skipped;
                d.error = fmt::format("offline for {} s when its turn came", (now - it->second) / 1000);
                d.updated_at = now;
                change(r, d, out);
                offline_since_.erase(it);
            }
            continue;
        }
        offline_since_.erase(key);
        if (ready.busy)
            continue; // a live session: re-checked on every tick until the device is idle
        d.state = DeviceState::Sent;
        d.batch = batch;
        d.rid = fmt::format("ota-{}", r.id);
        d.sent_at = now;
        d.updated_at = now;
        d.progress_pct.reset();
        d.error.clear();
        change(r, d, out);
        last_send_[key] = now;
        acked_.erase(key);
        out.commands.push_back(Command{r.id, d.device_id, *d.rid, now + opts_.command_exp_s * 1000,
                                       payloads::CmdOta{r.url, r.version, r.sha256}});
        ++sent;
    }
    if (sent > 0)
        batch_done_at_.erase(r.id);
}

Effects Rules::tick(const ReadinessOf& readiness) {
    Effects out;
    const auto now = clock_.now_ms();
    for (auto& [id, r] : rollouts_) {
        for (auto& d : r.devices) {
            if (r.state != RolloutState::Running)
                break;
            if (in_flight(d.state) && now - d.updated_at >= r.timeout_s * 1000)
                fail(r, d, fmt::format("no progress within timeout_s ({} s)", r.timeout_s), out);
        }
        if (r.state != RolloutState::Running)
            continue;
        finish_if_done(r, out);
        if (r.state != RolloutState::Running)
            continue;
        resend_unanswered(r, readiness, out);
        send_batch(r, readiness, out);
        finish_if_done(r, out);
    }
    drop_ended();
    return out;
}

} // namespace pilehub::otad
