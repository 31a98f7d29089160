#pragma once
#include "common/json.hpp"
#include "common/money.hpp"

#include <cstdint>
#include <optional>
#include <string>

/// OCPP 1.6 meter values (MeterValues.meterValue[], StopTransaction.transactionData[]) as the
/// device contract's gun telemetry (CONTRACT D.2: Energy.Active.Import.Register, Power.Active.Import,
/// SoC, Current.Import, Voltage). Pure.
namespace pilehub::ocpp {

/// One `MeterValue` read: what it says about the gun, in the contract's units.
struct MeterReading {
    EpochMs ts = 0;
    std::optional<std::int64_t> register_wh; ///< Energy.Active.Import.Register, Wh (kWh converted exactly)
    std::optional<double> power_w;           ///< Power.Active.Import, W (kW converted)
    std::optional<double> current_a;         ///< Current.Import, A
    std::optional<double> voltage_v;         ///< Voltage, V
    std::optional<int> soc_pct;              ///< SoC, %
    bool operator==(const MeterReading&) const = default;
};

/// Reads one MeterValue object `{timestamp, sampledValue: [{value, measurand?, unit?, phase?,
/// format?, location?, context?}]}` (already schema-checked). The rules, in OCPP 1.6's defaults:
/// - `measurand` absent is Energy.Active.Import.Register; `unit` absent is the measurand's base unit
///   (Wh, W, A, V, Percent); kWh and kW are multiplied by 1000 (energy exactly, as an integer);
/// - `format: SignedData` values are skipped (they are not numbers), so are measurands not listed
///   above and samples at the `Inlet` (the grid side of the meter);
/// - a value without `phase` is the gun's total and wins; without one, per-phase values are summed
///   for energy, power and current (L1, L2, L3, L1-N, ...; the neutral `N` is not a phase of its
///   own) and averaged for voltage;
/// - a value that is not a decimal number, a negative energy, or a SoC outside 0..100 fails with the
///   reason (the whole MeterValue is then not used).
Result<MeterReading> read_meter_value(const rapidjson::Value& meter_value);

} // namespace pilehub::ocpp
