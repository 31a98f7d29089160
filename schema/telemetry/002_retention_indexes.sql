-- Retention (common/retention.hpp): recorderd purges rows older than retention.telemetry_days in small
-- batches; these indexes let each batch find its oldest rows without scanning the table.
CREATE INDEX session_samples_by_time ON session_samples(t);
CREATE INDEX device_samples_by_time ON device_samples(t);
CREATE INDEX device_events_by_at ON device_events(at);
