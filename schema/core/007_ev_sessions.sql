-- Cars (CONTRACT D.1, issue 10): EV sessions at guns, the rider's prepaid amount, the meter of a
-- charger's record, gun connectors, the split of a bill into electricity and service, and the
-- prepaid amounts a station offers. Money in fen, energy in Wh, times UTC epoch milliseconds.

-- The rider's prepaid amount (seed 003 预付值, any device kind): the session stops as quota_reached
-- when its running cost reaches it, and its cost never exceeds it.
ALTER TABLE sessions ADD COLUMN max_fen INTEGER CHECK (max_fen IS NULL OR max_fen > 0);
-- An EV session's meter register at its start and stop, from the charger (evt/session_started,
-- req/start_session, the record); its energy is meter_stop_wh - meter_start_wh.
ALTER TABLE sessions ADD COLUMN meter_start_wh INTEGER CHECK (meter_start_wh IS NULL OR meter_start_wh >= 0);
ALTER TABLE sessions ADD COLUMN meter_stop_wh INTEGER CHECK (meter_stop_wh IS NULL OR meter_stop_wh >= 0);
-- The car's state of charge in the latest report (DC guns), for the rider and the operator.
ALTER TABLE sessions ADD COLUMN soc_pct INTEGER CHECK (soc_pct IS NULL OR soc_pct BETWEEN 0 AND 100);

-- A gun's connector (D.1 registration `connectors`); NULL when the operator did not say.
ALTER TABLE guns ADD COLUMN connector_type TEXT
    CHECK (connector_type IS NULL OR connector_type IN ('gbt_dc', 'gbt_ac', 'ccs2', 'type2'));

-- What of a settlement's priced amount was electricity and what service (BILLING §5: invoices and
-- exports split them). electricity_fen + service_fen = priced_fen; NULL on rows settled before.
ALTER TABLE settlements ADD COLUMN electricity_fen INTEGER CHECK (electricity_fen IS NULL OR electricity_fen >= 0);
ALTER TABLE settlements ADD COLUMN service_fen INTEGER CHECK (service_fen IS NULL OR service_fen >= 0);

-- The prepaid amounts riders pick from at a station (seed 003: up to 12 preset values).
CREATE TABLE station_prepaid_amounts (
    station_id  INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    amount_fen  INTEGER NOT NULL CHECK (amount_fen > 0),
    PRIMARY KEY (station_id, amount_fen)
);
