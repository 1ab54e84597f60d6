-- Issue #29: under the open-loop load a pledge waited on another transaction in 34 of 58 samples
-- (pg_stat_activity, Lock:transactionid): every first pledge of the year adds 1 to the one
-- first_help_tallies row of that year and holds that row until it commits. The rows are now split
-- in 16 shards by a hash of the household (tally_shard, 0035, which shards campaign_tallies the
-- same way), so two pledges meet on a row one time in 16; whoever reads sums the shards, as it
-- summed the years before. Existing rows stay in shard 0 (a shard may go negative; only the sums
-- mean anything).

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
