-- Issue #15: what an outside attacker and a careless insider found.

-- 1. CCCD lookups by agency staff are audited (who, when, found or not) and throttled per
--    account; the throttle counts the account's recent lookups through this partial index.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_valid;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_valid CHECK (action IN (
    'create', 'update', 'delete', 'login', 'logout', 'login_failed', 'merge', 'unmerge', 'import', 'lookup'));
CREATE INDEX audit_log_lookup_idx ON audit_log (user_id, at) WHERE action = 'lookup';

-- 2. A follow-up visit keeps what it observed as its own finding. Whether a household is poor,
--    near-poor or out of poverty is the commune's annual review: only the household's commune
--    official or a clerk records it (from the household page, or from a visit of their own, which
--    then says so with `official_status`). An agency's visit no longer writes the status history.
ALTER TABLE follow_up_visits RENAME COLUMN household_status TO observed_status;
ALTER TABLE follow_up_visits RENAME CONSTRAINT follow_up_visits_status_valid TO follow_up_visits_observed_status_valid;
ALTER TABLE follow_up_visits ADD COLUMN official_status boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN follow_up_visits.observed_status IS 'what the visitor saw: the visit''s own finding, not the official status';
COMMENT ON COLUMN follow_up_visits.official_status IS 'the visit (by the commune or the district) also recorded the household''s official status';

-- The status history says where each year's status came from: 'official' (the registry, the
-- commune's review, a commune official or clerk), or 'agency_visit' — written by an agency's
-- visit before this migration, kept and labelled, never counted as official.
ALTER TABLE household_status_history
    ADD COLUMN source text NOT NULL DEFAULT 'official'
        CONSTRAINT household_status_history_source_valid CHECK (source IN ('official', 'agency_visit')),
    ADD COLUMN recorded_by uuid CONSTRAINT household_status_history_recorded_by_fkey REFERENCES users (id);

-- Visits already recorded by the commune or the district were official by the new rule.
UPDATE follow_up_visits v SET official_status = true
FROM users u WHERE u.id = v.recorded_by AND u.role IN ('admin', 'clerk', 'commune');

-- A year's status written by an agency's visit (same household, year and status, and no official
-- visit that year) is relabelled; the visit keeps its observation.
UPDATE household_status_history h SET source = 'agency_visit', recorded_by = x.recorded_by
FROM (
    SELECT DISTINCT ON (s.household_id, extract(year FROM v.visited_on))
           s.household_id, extract(year FROM v.visited_on)::int AS year, v.observed_status, v.recorded_by
    FROM follow_up_visits v
    JOIN sponsorships s ON s.id = v.sponsorship_id
    JOIN users u ON u.id = v.recorded_by AND u.role = 'agency'
    ORDER BY s.household_id, extract(year FROM v.visited_on), v.visited_on DESC, v.created_at DESC
) x
WHERE h.household_id = x.household_id AND h.year = x.year AND h.status = x.observed_status
  AND NOT EXISTS (
    SELECT 1 FROM follow_up_visits o JOIN sponsorships os ON os.id = o.sponsorship_id
    WHERE os.household_id = h.household_id AND extract(year FROM o.visited_on) = h.year
      AND o.official_status);

-- A household whose current status came from such a row takes its latest official status back.
UPDATE households hh SET status = o.status, status_year = o.year, updated_at = now()
FROM (
    SELECT DISTINCT ON (household_id) household_id, year, status
    FROM household_status_history WHERE source = 'official'
    ORDER BY household_id, year DESC
) o
WHERE hh.id = o.household_id
  AND EXISTS (SELECT 1 FROM household_status_history a
              WHERE a.household_id = hh.id AND a.year = hh.status_year AND a.source = 'agency_visit');

-- 3. An uploaded file is read once, on the blocking pool, and kept read with its batch: the
--    preview and the confirmation no longer parse up to 20 MB again on the request's task.
ALTER TABLE import_batches ADD COLUMN parsed bytea;
COMMENT ON COLUMN import_batches.parsed IS 'the file as read (serde_json of import::Table); NULL for batches uploaded before';
