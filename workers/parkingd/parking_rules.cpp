#include "workers/parkingd/parking_rules.hpp"

namespace pilehub::parkingd {
namespace {

using payloads::LockAction;
using payloads::LockStatus;

EntryFacts facts_for(const Track& t, const std::optional<std::string>& plate, payloads::PlateColor color,
                     const PlateFacts& f) {
    return EntryFacts{t.has_lock, plate, color, f.whitelisted, f.reserved};
}

void close_stay(Outcome& o, EpochMs at, EpochMs raise_delay_ms) {
    o.effects.emplace_back(CloseStay{at});
    o.track.stay.reset();
    if (o.track.has_lock)
        o.track.raise_due_at = at + raise_delay_ms;
}

/// A car identified by `plate` arrives at a space without a stay.
void arrive(Outcome& o, const std::string& plate, payloads::PlateColor color, EpochMs at, const PlateFacts& f) {
    const auto d = decide_entry(facts_for(o.track, plate, color, f));
    if (!d.allowed) {
        o.effects.emplace_back(Refuse{plate, color, d});
        return;
    }
    Stay s{0, plate, color, at, d.reason == Reason::Whitelist};
    o.effects.emplace_back(OpenStay{s, d});
    o.track.stay = s;
    o.track.raise_due_at.reset();
    if (o.track.has_lock && !reached(o.track.lock, LockAction::Lower))
        o.effects.emplace_back(MoveLock{LockAction::Lower, "arrival"});
}

/// A plate read at a space that may already hold a stay.
void plate_seen(Outcome& o, const std::string& plate, payloads::PlateColor color, EpochMs at, const PlateFacts& f,
                EpochMs raise_delay_ms) {
    if (o.track.stay) {
        auto& s = *o.track.stay;
        const bool learns_color =
            s.plate == plate && s.color == payloads::PlateColor::Unknown && color != payloads::PlateColor::Unknown;
        if (s.plate == plate && !learns_color)
            return; // the same car again
        if (!s.plate || learns_color) {
            const auto d = decide_entry(facts_for(o.track, plate, color, f));
            s.plate = plate;
            s.color = color;
            s.whitelisted = d.reason == Reason::Whitelist;
            o.effects.emplace_back(AttachPlate{plate, color, d});
            return;
        }
        close_stay(o, at, raise_delay_ms); // the previous car left without a word
    }
    arrive(o, plate, color, at, f);
}

/// The camera says a car is on the space (with the plate it read, if any) and no stay is open.
void occupied(Outcome& o, const std::optional<std::string>& plate, EpochMs at, const PlateFacts& f) {
    const auto color = payloads::PlateColor::Unknown; // evt/space carries no colour
    const auto d = decide_entry(facts_for(o.track, plate, color, f));
    if (o.track.has_lock && o.track.lock.st == LockStatus::Raised) {
        // A car waiting at a raised lock is not on the space: unless its plate alone lets it in
        // (whitelist, its reservation), the plate read with its colour decides.
        if (plate && d.allowed)
            arrive(o, *plate, color, at, f);
        return;
    }
    Stay s{0, plate, color, at, d.reason == Reason::Whitelist};
    o.effects.emplace_back(OpenStay{s, d});
    o.track.stay = s;
    o.track.raise_due_at.reset();
    if (o.track.has_lock && d.allowed && !reached(o.track.lock, LockAction::Lower))
        o.effects.emplace_back(MoveLock{LockAction::Lower, "arrival"});
}

} // namespace

std::string_view to_string(Reason r) {
    switch (r) {
    case Reason::Whitelist:
        return "whitelist";
    case Reason::Reservation:
        return "reservation";
    case Reason::Nev:
        return "nev";
    case Reason::NoLock:
        return "no_lock";
    case Reason::NotNev:
        return "not_nev";
    case Reason::ReservedForAnother:
        return "reserved_for_other";
    case Reason::NoPlate:
        return "no_plate";
    }
    return "?";
}

Decision decide_entry(const EntryFacts& f) {
    if (!f.has_lock)
        return {true, Reason::NoLock};
    if (!f.plate)
        return {false, Reason::NoPlate};
    if (f.whitelisted)
        return {true, Reason::Whitelist};
    if (f.reserved == Reserved::ForThisPlate)
        return {true, Reason::Reservation};
    if (f.reserved == Reserved::ForAnother)
        return {false, Reason::ReservedForAnother};
    if (parking::is_nev(f.color))
        return {true, Reason::Nev};
    return {false, Reason::NotNev};
}

bool reached(const payloads::LockState& s, LockAction a) {
    return !s.alarm && s.st == (a == LockAction::Raise ? LockStatus::Raised : LockStatus::Lowered);
}

Outcome apply(const Track& t, const SpaceEvent& e, EpochMs at, const PlateFacts& facts, EpochMs raise_delay_ms) {
    Outcome o{t, {}};
    if (const auto* in = std::get_if<PlateIn>(&e)) {
        plate_seen(o, in->plate, in->color, at, facts, raise_delay_ms);
    } else if (const auto* occ = std::get_if<SpaceOccupied>(&e)) {
        if (!o.track.stay)
            occupied(o, occ->plate, at, facts);
        else if (occ->plate && o.track.stay->plate != occ->plate)
            plate_seen(o, *occ->plate, payloads::PlateColor::Unknown, at, facts, raise_delay_ms);
    } else if (const auto* out = std::get_if<PlateOut>(&e)) {
        if (o.track.stay && (!o.track.stay->plate || o.track.stay->plate == out->plate))
            close_stay(o, at, raise_delay_ms);
    } else if (std::holds_alternative<SpaceFree>(e)) {
        if (o.track.stay)
            close_stay(o, at, raise_delay_ms);
    }
    return o;
}

Outcome tick(const Track& t, EpochMs now) {
    Outcome o{t, {}};
    if (!t.raise_due_at || *t.raise_due_at > now)
        return o;
    o.track.raise_due_at.reset();
    if (t.has_lock && !t.stay && !reached(t.lock, LockAction::Raise))
        o.effects.emplace_back(MoveLock{LockAction::Raise, "departure"});
    return o;
}

std::optional<LockAction> wanted_lock(const Track& t, EpochMs now) {
    if (!t.has_lock)
        return std::nullopt;
    if (t.stay || (t.raise_due_at && *t.raise_due_at > now))
        return LockAction::Lower;
    return LockAction::Raise;
}

LockResult lock_result(payloads::ReplyStatus s) {
    using RS = payloads::ReplyStatus;
    switch (s) {
    case RS::Ok:
        return LockResult::Ok;
    case RS::Accepted:
        return LockResult::Pending;
    case RS::Busy:
    case RS::Expired:
        return LockResult::Resend;
    case RS::Rejected:
    case RS::Failed:
    case RS::Unsupported:
    case RS::Invalid:
        return LockResult::Failed;
    }
    return LockResult::Failed;
}

bool due(const LockCommand& c, bool camera_online, EpochMs now, EpochMs retry_ms) {
    if (!camera_online)
        return false;
    return c.sent_at == 0 || now - c.sent_at >= retry_ms;
}

} // namespace pilehub::parkingd
