-- Issue #29: under the open-loop load a pledge waited on another transaction in 34 of 58 samples
-- (pg_stat_activity, Lock:transactionid): every first pledge of the year adds 1 to the one
-- first_help_tallies row of that year, and every pledge in a commune to its campaign_tallies row,
-- and each holds that row until it commits. The rows are now split in 16 shards by a hash of the
-- household (first help) or of the sponsorship (campaign tallies), so two pledges meet on a row
-- one time in 16; whoever reads sums the shards, as it summed the keys before. Existing rows stay
-- in shard 0 (a shard may go negative; only the sums mean anything).

CREATE FUNCTION tally_shard(id uuid) RETURNS smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (abs(hashtext(id::text)) % 16)::smallint;

ALTER TABLE first_help_tallies ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE first_help_tallies DROP CONSTRAINT first_help_tallies_pkey;
ALTER TABLE first_help_tallies ADD CONSTRAINT first_help_tallies_pkey PRIMARY KEY (first_year, shard);

CREATE OR REPLACE FUNCTION first_help_refresh(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    WITH touched AS (SELECT DISTINCT id FROM unnest(ids) AS t (id)),
         fresh AS (
            SELECT t.id AS household_id,
                   (SELECT min(c.year) FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id
                    WHERE s.household_id = t.id) AS first_year
            FROM touched t),
         changes AS (
            SELECT f.household_id, o.first_year AS old_year, f.first_year AS new_year
            FROM fresh f LEFT JOIN household_first_help o ON o.household_id = f.household_id
            WHERE f.first_year IS DISTINCT FROM o.first_year),
         removed AS (
            DELETE FROM household_first_help h USING changes ch
            WHERE h.household_id = ch.household_id AND ch.new_year IS NULL),
         upserted AS (
            INSERT INTO household_first_help (household_id, first_year)
            SELECT household_id, new_year FROM changes WHERE new_year IS NOT NULL
            ON CONFLICT (household_id) DO UPDATE SET first_year = excluded.first_year),
         deltas AS (
            SELECT y, shard, sum(d) AS d FROM (
                SELECT old_year AS y, tally_shard(household_id) AS shard, -1 AS d FROM changes WHERE old_year IS NOT NULL
                UNION ALL
                SELECT new_year, tally_shard(household_id), 1 FROM changes WHERE new_year IS NOT NULL) x
            GROUP BY y, shard HAVING sum(d) <> 0)
    INSERT INTO first_help_tallies AS t (first_year, shard, n)
    SELECT y, shard, d FROM deltas ORDER BY y, shard
    ON CONFLICT (first_year, shard) DO UPDATE SET n = t.n + excluded.n;
$$;

ALTER TABLE campaign_tallies ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE campaign_tallies DROP CONSTRAINT campaign_tallies_pkey;
ALTER TABLE campaign_tallies ADD CONSTRAINT campaign_tallies_pkey
    PRIMARY KEY (campaign_id, commune_code, state, shard);

CREATE OR REPLACE FUNCTION campaign_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cols text := '%1$s.campaign_id, %1$s.commune_code, %1$s.state, tally_shard(%1$s.id) AS shard,
                  %1$s.pledged_value, %1$s.delivered_value';
    changed text := '(o.campaign_id, o.commune_code, o.state, o.pledged_value, o.delivered_value)
                     IS DISTINCT FROM (n.campaign_id, n.commune_code, n.state, n.pledged_value, n.delivered_value)';
    src text := CASE TG_OP
        WHEN 'INSERT' THEN format('SELECT ' || cols || ', 1 AS sgn FROM new_rows n', 'n')
        WHEN 'DELETE' THEN format('SELECT ' || cols || ', -1 AS sgn FROM old_rows o', 'o')
        ELSE format('SELECT ' || cols || ', -1 AS sgn FROM old_rows o JOIN new_rows n USING (id) WHERE ', 'o')
             || changed || ' UNION ALL '
             || format('SELECT ' || cols || ', 1 FROM new_rows n JOIN old_rows o USING (id) WHERE ', 'n')
             || changed END;
BEGIN
    EXECUTE format($q$
        INSERT INTO campaign_tallies AS t (campaign_id, commune_code, state, shard, sponsorships, pledged, delivered)
        SELECT campaign_id, commune_code, state, shard, sum(sgn), sum(sgn * pledged_value), sum(sgn * delivered_value)
        FROM (%s) f
        GROUP BY 1, 2, 3, 4
        HAVING sum(sgn) <> 0 OR sum(sgn * pledged_value) <> 0 OR sum(sgn * delivered_value) <> 0
        ORDER BY 1, 2, 3, 4
        ON CONFLICT ON CONSTRAINT campaign_tallies_pkey DO UPDATE SET
            sponsorships = t.sponsorships + excluded.sponsorships,
            pledged = t.pledged + excluded.pledged,
            delivered = t.delivered + excluded.delivered$q$, src);
    RETURN NULL;
END $$;
