-- Issue #29: after 0034 the effectiveness page over all years still read one row per counted
-- sponsorship for its two tables of issue #26 ("by deprivation" and the households' profiles):
-- 304/318 ms p50/p95 alone at 500.000 sponsorships. The database now also keeps, per (year,
-- commune, group, shortfalls at the last review before the help, shortfalls at the first after
-- it), how many households, how many were reviewed after and how many escaped; both tables add up
-- those few thousand rows. short_before NULL (no review before the help) is not tallied (neither
-- table counts it); after_known stands for short_after IS NOT NULL, short_after '{}' for NULL.

CREATE TABLE effectiveness_shortfall_tallies (
    year          integer NOT NULL,
    commune_code  text NOT NULL,
    support_group text NOT NULL,
    short_before  text[] NOT NULL,
    after_known   boolean NOT NULL,
    short_after   text[] NOT NULL,
    households    bigint NOT NULL,
    reviewed      bigint NOT NULL,
    escaped       bigint NOT NULL,
    CONSTRAINT effectiveness_shortfall_tallies_pkey
        PRIMARY KEY (year, commune_code, support_group, short_before, after_known, short_after)
);

-- 0034's function, with the shortfall tally added after its two.
CREATE OR REPLACE FUNCTION effectiveness_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    src text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT n.*, 1 AS sgn FROM new_rows n'
        WHEN 'DELETE' THEN 'SELECT o.*, -1 AS sgn FROM old_rows o'
        ELSE 'SELECT o.*, -1 AS sgn FROM old_rows o UNION ALL SELECT n.*, 1 FROM new_rows n' END;
BEGIN
    EXECUTE format($q$
        INSERT INTO effectiveness_tallies AS t (year, commune_code, support_group, escaped_in, last_status,
            households, delivered_total, received, born, died, sold, trees_surviving)
        SELECT year, commune_code, support_group, coalesce(escaped_in, 0), coalesce(last_status, 0),
               sum(sgn), sum(sgn * delivered_value), coalesce(sum(sgn * received), 0),
               coalesce(sum(sgn * born), 0), coalesce(sum(sgn * died), 0), coalesce(sum(sgn * sold), 0),
               coalesce(sum(sgn * trees_surviving), 0)
        FROM (%s) f WHERE sponsorship_counts(f.state)
        GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT ON CONSTRAINT effectiveness_tallies_pkey DO UPDATE SET
            households = t.households + excluded.households,
            delivered_total = t.delivered_total + excluded.delivered_total,
            received = t.received + excluded.received, born = t.born + excluded.born,
            died = t.died + excluded.died, sold = t.sold + excluded.sold,
            trees_surviving = t.trees_surviving + excluded.trees_surviving$q$, src);
    EXECUTE format($q$
        INSERT INTO effectiveness_value_buckets AS b (year, commune_code, support_group, bucket, households)
        SELECT year, commune_code, support_group, delivered_value / effectiveness_bucket_width(), sum(sgn)
        FROM (%s) f WHERE sponsorship_counts(f.state)
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT ON CONSTRAINT effectiveness_value_buckets_pkey DO UPDATE SET
            households = b.households + excluded.households$q$, src);
    EXECUTE format($q$
        INSERT INTO effectiveness_shortfall_tallies AS s (year, commune_code, support_group, short_before,
            after_known, short_after, households, reviewed, escaped)
        SELECT year, commune_code, support_group, short_before, short_after IS NOT NULL,
               coalesce(short_after, '{}'), sum(sgn),
               coalesce(sum(sgn) FILTER (WHERE last_status IS NOT NULL), 0),
               coalesce(sum(sgn) FILTER (WHERE escaped_in IS NOT NULL), 0)
        FROM (%s) f WHERE sponsorship_counts(f.state) AND f.short_before IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT ON CONSTRAINT effectiveness_shortfall_tallies_pkey DO UPDATE SET
            households = s.households + excluded.households,
            reviewed = s.reviewed + excluded.reviewed,
            escaped = s.escaped + excluded.escaped$q$, src);
    RETURN NULL;
END $$;

INSERT INTO effectiveness_shortfall_tallies (year, commune_code, support_group, short_before,
    after_known, short_after, households, reviewed, escaped)
SELECT year, commune_code, support_group, short_before, short_after IS NOT NULL,
       coalesce(short_after, '{}'), count(*), count(last_status), count(escaped_in)
FROM effectiveness_facts WHERE sponsorship_counts(state) AND short_before IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6;
