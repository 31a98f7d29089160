#pragma once
#include "common/db.hpp"
#include "web-api/catalog_store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

/// The tariff library (issue 14): named schemes an operator assigns to stations, areas and devices.
/// Assigning copies the scheme's document into a new `tariffs` version of each target
/// (CatalogStore::insert_tariff), so what is in force only changes when a scheme is (re)assigned.
/// All SQL of `tariff_schemes` lives here.
namespace pilehub::api {

/// One scheme of the library.
struct TariffSchemeRow {
    std::int64_t id = 0;
    std::int64_t operator_id = 0;
    std::string name;
    std::string description;
    std::string document; ///< the validated tariff JSON (BILLING.md §1)
    std::string created_by;
    EpochMs created_at = 0;
    EpochMs updated_at = 0;
    bool archived = false;
};

/// A target where a version copied from a scheme is (or will be) its target's version in force.
struct SchemeAssignment {
    TariffRow version;     ///< level(), station_id, area_id, device_id say the target
    bool in_force = false; ///< false: scheduled (its effective_from is still ahead)
};

class TariffSchemeStore {
public:
    explicit TariffSchemeStore(db::Database& d) : db_(d) {}

    /// The operator's schemes by name; archived ones too when `with_archived`.
    std::vector<TariffSchemeRow> list(std::int64_t operator_id, bool with_archived);
    /// One of the operator's schemes (archived too).
    std::optional<TariffSchemeRow> get(std::int64_t operator_id, std::int64_t id);
    /// Saves a new scheme; nullopt when the operator already has one by that name.
    std::optional<std::int64_t> add(const TariffSchemeRow& s);
    /// Saves name, description and document; false when the name is another scheme's.
    bool update(const TariffSchemeRow& s);
    /// Archives a scheme: kept (versions copied from it name it), no longer listed or assignable.
    void archive(std::int64_t id, EpochMs now);
    /// Saves a version of the scheme for every target (CatalogStore::insert_tariff), effective from
    /// `from`, in one transaction: all or nothing.
    std::vector<TariffRow> assign(const TariffSchemeRow& scheme, const std::vector<TariffTarget>& targets, EpochMs from,
                                  EpochMs now, const std::string& by);
    /// Where versions copied from the scheme are their target's version in force at `now`, or will be
    /// (a version whose effective_from is ahead and that no later save of its target supersedes).
    std::vector<SchemeAssignment> assignments(std::int64_t scheme_id, EpochMs now);

private:
    db::Database& db_;
};

} // namespace pilehub::api
