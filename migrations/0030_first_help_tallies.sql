-- Issue #29: the home page's "households helped in earlier years" tile counted the distinct
-- households of every earlier sponsorship on each view (~390 ms at 440.000 sponsorships). The
-- database now keeps each household's first year of help and, per year, how many households were
-- first helped then; the tile sums the years before the campaign (a dozen rows). Statement-level
-- triggers with transition tables recompute only the households a statement touches.

-- No foreign key: a household removed with its sponsorships is taken out of the tally by the
-- sponsorships' delete trigger, which must still find its row here.
CREATE TABLE household_first_help (
    household_id uuid PRIMARY KEY,
    first_year   integer NOT NULL
);

CREATE TABLE first_help_tallies (
    first_year integer PRIMARY KEY,
    -- No CHECK (n >= 0): an upsert checks the row it proposes (a negative delta) first.
    n          bigint NOT NULL
);

INSERT INTO household_first_help (household_id, first_year)
SELECT s.household_id, min(c.year) FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id
GROUP BY 1;
INSERT INTO first_help_tallies (first_year, n)
SELECT first_year, count(*) FROM household_first_help GROUP BY 1;

-- The first year of help of each household in `ids`, recomputed; the tallies moved by the
-- difference, in year order (two transactions never lock tallies in opposite orders).
CREATE FUNCTION first_help_refresh(ids uuid[]) RETURNS void LANGUAGE sql AS $$
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
            SELECT y, sum(d) AS d FROM (
                SELECT old_year AS y, -1 AS d FROM changes WHERE old_year IS NOT NULL
                UNION ALL
                SELECT new_year, 1 FROM changes WHERE new_year IS NOT NULL) x
            GROUP BY y HAVING sum(d) <> 0)
    INSERT INTO first_help_tallies AS t (first_year, n)
    SELECT y, d FROM deltas ORDER BY y
    ON CONFLICT (first_year) DO UPDATE SET n = t.n + excluded.n;
$$;

CREATE FUNCTION first_help_sponsorships() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM first_help_refresh(ARRAY(SELECT household_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM first_help_refresh(ARRAY(SELECT household_id FROM old_rows));
    ELSE
        -- Only a sponsorship moved to another household or campaign changes a first year.
        PERFORM first_help_refresh(ARRAY(
            SELECT x.household_id FROM new_rows n JOIN old_rows o USING (id),
                LATERAL (VALUES (n.household_id), (o.household_id)) AS x (household_id)
            WHERE (n.household_id, n.campaign_id) IS DISTINCT FROM (o.household_id, o.campaign_id)));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sponsorships_first_help_insert AFTER INSERT ON sponsorships
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION first_help_sponsorships();
CREATE TRIGGER sponsorships_first_help_update AFTER UPDATE ON sponsorships
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION first_help_sponsorships();
CREATE TRIGGER sponsorships_first_help_delete AFTER DELETE ON sponsorships
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION first_help_sponsorships();

-- A campaign's year moves the first years of its households.
CREATE FUNCTION first_help_campaigns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM first_help_refresh(ARRAY(
        SELECT s.household_id FROM sponsorships s
        WHERE s.campaign_id IN (SELECT n.id FROM new_rows n JOIN old_rows o USING (id) WHERE n.year <> o.year)));
    RETURN NULL;
END $$;
CREATE TRIGGER campaigns_first_help_update AFTER UPDATE ON campaigns
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION first_help_campaigns();
