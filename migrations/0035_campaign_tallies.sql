-- Issue #29: the home page's campaign tiles (households adopted, confirmed, pledged, delivered)
-- were folded from the summary report's aggregate, which reads every sponsorship of the current
-- campaign (60.000 in the bench: 85 ms p95 for a page every user opens first). The database now
-- keeps, per (campaign, commune, state), the sponsorships and their pledged and delivered sums;
-- the tiles add up at most 19 × 7 rows per campaign, applying the same state sets
-- (sponsorship_is_live, sponsorship_counts) the report applies to the rows themselves.
-- Statement-level triggers with transition tables move the tallies by what a statement changed,
-- as 0030 and 0034 do; an UPDATE that changes none of the tallied columns writes nothing.

CREATE FUNCTION tally_shard(id uuid) RETURNS smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (abs(hashtext(id::text)) % 16)::smallint;

CREATE TABLE campaign_tallies (
    campaign_id  uuid NOT NULL,
    commune_code text NOT NULL,
    state        text NOT NULL,
    -- Rows are split in 16 by a hash of the sponsorship, so concurrent pledges in one commune
    -- rarely wait on the same row until commit (0039 measured why); readers sum the shards.
    shard        smallint NOT NULL,
    sponsorships bigint NOT NULL,
    pledged      bigint NOT NULL,
    delivered    bigint NOT NULL,
    CONSTRAINT campaign_tallies_pkey PRIMARY KEY (campaign_id, commune_code, state, shard)
);

CREATE FUNCTION campaign_tally() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER sponsorships_campaign_tally_insert AFTER INSERT ON sponsorships
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_tally();
CREATE TRIGGER sponsorships_campaign_tally_update AFTER UPDATE ON sponsorships
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_tally();
CREATE TRIGGER sponsorships_campaign_tally_delete AFTER DELETE ON sponsorships
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_tally();

INSERT INTO campaign_tallies (campaign_id, commune_code, state, shard, sponsorships, pledged, delivered)
SELECT campaign_id, commune_code, state, tally_shard(id), count(*), sum(pledged_value), sum(delivered_value)
FROM sponsorships GROUP BY 1, 2, 3, 4;

-- The report's "joint groups" figure asks, per counted sponsorship, whether it has a member
-- besides its lead: an index of just those memberships answers it without reading the table
-- (without it, the summary scanned every membership of every year: 27 ms of the home page).
CREATE INDEX sponsorship_agencies_joint_idx ON sponsorship_agencies (sponsorship_id) WHERE NOT is_lead;
