#include "web-api/tariff_scheme_store.hpp"

#include "common/tariff.hpp"

#include <set>
#include <tuple>

namespace pilehub::api {
namespace {

#define PH_SCHEME_COLUMNS "id, operator_id, name, description, document, created_by, created_at, updated_at, archived"
constexpr const char* kSchemes = "SELECT " PH_SCHEME_COLUMNS " FROM tariff_schemes "
                                 "WHERE operator_id = ?1 AND (archived = 0 OR ?2 = 1) ORDER BY name, id";
constexpr const char* kScheme = "SELECT " PH_SCHEME_COLUMNS " FROM tariff_schemes WHERE operator_id = ?1 AND id = ?2";
#undef PH_SCHEME_COLUMNS
constexpr const char* kNameTaken =
    "SELECT 1 FROM tariff_schemes WHERE operator_id = ?1 AND name = ?2 AND archived = 0 AND id <> ?3";
constexpr const char* kAddScheme =
    "INSERT INTO tariff_schemes (operator_id, name, description, document, created_by, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)";
constexpr const char* kUpdateScheme =
    "UPDATE tariff_schemes SET name = ?2, description = ?3, document = ?4, updated_at = ?5 WHERE id = ?1";
constexpr const char* kArchiveScheme = "UPDATE tariff_schemes SET archived = 1, updated_at = ?2 WHERE id = ?1";

TariffSchemeRow read_scheme(db::Statement& q) {
    return TariffSchemeRow{q.int64(0), q.int64(1), q.text(2),  q.text(3),      q.text(4),
                           q.text(5),  q.int64(6), q.int64(7), q.int64(8) != 0};
}

bool name_taken(db::Database& d, const TariffSchemeRow& s) {
    db::Statement q(d, kNameTaken);
    q.bind_all(s.operator_id, s.name, s.id);
    return q.step();
}

/// A target's version, as version_in_force() reads it.
struct TargetVersion {
    std::int64_t id = 0;
    EpochMs saved_at_ms = 0;
    EpochMs effective_from_ms = 0;
    std::optional<std::int64_t> scheme_id;
};

} // namespace

std::vector<TariffSchemeRow> TariffSchemeStore::list(std::int64_t operator_id, bool with_archived) {
    db::Statement q(db_, kSchemes);
    q.bind_all(operator_id, with_archived ? 1 : 0);
    std::vector<TariffSchemeRow> out;
    while (q.step())
        out.push_back(read_scheme(q));
    return out;
}

std::optional<TariffSchemeRow> TariffSchemeStore::get(std::int64_t operator_id, std::int64_t id) {
    db::Statement q(db_, kScheme);
    q.bind_all(operator_id, id);
    if (!q.step())
        return std::nullopt;
    return read_scheme(q);
}

std::optional<std::int64_t> TariffSchemeStore::add(const TariffSchemeRow& s) {
    db::Transaction tx(db_);
    if (name_taken(db_, s))
        return std::nullopt;
    db::Statement(db_, kAddScheme)
        .bind_all(s.operator_id, s.name, s.description, s.document, s.created_by, s.created_at)
        .run();
    const auto id = db_.last_insert_rowid();
    tx.commit();
    return id;
}

bool TariffSchemeStore::update(const TariffSchemeRow& s) {
    db::Transaction tx(db_);
    if (name_taken(db_, s))
        return false;
    db::Statement(db_, kUpdateScheme).bind_all(s.id, s.name, s.description, s.document, s.updated_at).run();
    tx.commit();
    return true;
}

void TariffSchemeStore::archive(std::int64_t id, EpochMs now) {
    db::Statement(db_, kArchiveScheme).bind_all(id, now).run();
}

std::vector<TariffRow> TariffSchemeStore::assign(const TariffSchemeRow& scheme,
                                                 const std::vector<TariffTarget>& targets, EpochMs from, EpochMs now,
                                                 const std::string& by) {
    CatalogStore cat(db_);
    std::vector<TariffRow> rows;
    db::Transaction tx(db_);
    for (const auto& t : targets)
        rows.push_back(cat.insert_tariff(t, scheme.document, from, now, by, scheme.id));
    tx.commit();
    return rows;
}

std::vector<SchemeAssignment> TariffSchemeStore::assignments(std::int64_t scheme_id, EpochMs now) {
    CatalogStore cat(db_);
    // A device's versions may have been saved at several stations (it moved): one target per device.
    std::set<std::string> devices_seen;
    std::vector<SchemeAssignment> out;
    for (const auto& t : cat.scheme_targets(scheme_id)) {
        if (t.device_id && !devices_seen.insert(*t.device_id).second)
            continue;
        const auto rows = cat.target_tariffs(t);
        std::vector<TargetVersion> versions;
        for (const auto& r : rows)
            versions.push_back(TargetVersion{r.id, r.created_at, r.effective_from, r.scheme_id});
        // In force now, else the scheme's latest version still ahead if nothing saved later replaces it.
        const auto* chosen = billing::version_in_force(versions, now);
        bool in_force = chosen && chosen->scheme_id == scheme_id;
        if (!in_force) {
            chosen = nullptr;
            for (const auto& v : versions)
                if (v.effective_from_ms > now && v.scheme_id == scheme_id &&
                    billing::version_in_force(versions, v.effective_from_ms)->id == v.id)
                    chosen = &v;
        }
        if (chosen)
            for (const auto& r : rows)
                if (r.id == chosen->id)
                    out.push_back(SchemeAssignment{r, in_force});
    }
    return out;
}

} // namespace pilehub::api
