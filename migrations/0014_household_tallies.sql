-- Household counts per commune and status, kept by the database itself. The home page and the
-- dashboards showed them by counting the whole registry on every view: 47 ms at 100.000
-- households, a second at 2.000.000, and the load test's busiest cost. Statement-level triggers
-- with transition tables apply one grouped delta per statement, so an import of 100.000 rows
-- costs one small upsert per (commune, status) it touches, not one per row. Deltas are applied in
-- key order, so two transactions never lock the same tallies in opposite orders.

CREATE TABLE household_tallies (
    commune_code text   NOT NULL REFERENCES communes (code),
    status       text   NOT NULL,
    -- No CHECK (n >= 0): an upsert checks the row it proposes (a negative delta) before it
    -- finds the conflict it updates.
    n            bigint NOT NULL,
    PRIMARY KEY (commune_code, status)
);

INSERT INTO household_tallies (commune_code, status, n)
SELECT commune_code, status, count(*) FROM households WHERE merged_into IS NULL GROUP BY 1, 2;

CREATE FUNCTION household_tallies_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO household_tallies AS t (commune_code, status, n)
    SELECT commune_code, status, count(*) FROM new_rows WHERE merged_into IS NULL
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (commune_code, status) DO UPDATE SET n = t.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE FUNCTION household_tallies_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE household_tallies t SET n = t.n - d.n
    FROM (SELECT commune_code, status, count(*) AS n FROM old_rows WHERE merged_into IS NULL
          GROUP BY 1, 2) d
    WHERE t.commune_code = d.commune_code AND t.status = d.status;
    RETURN NULL;
END $$;

CREATE FUNCTION household_tallies_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Only rows whose counted identity changed (commune, status, merged or not) move a tally;
    -- an edit of a name or a phone number touches nothing here.
    INSERT INTO household_tallies AS t (commune_code, status, n)
    SELECT commune_code, status, sum(delta) FROM (
        SELECT o.commune_code, o.status, -1 AS delta FROM old_rows o JOIN new_rows n USING (id)
        WHERE o.merged_into IS NULL
          AND (n.merged_into IS NOT NULL OR n.commune_code <> o.commune_code OR n.status <> o.status)
        UNION ALL
        SELECT n.commune_code, n.status, 1 FROM old_rows o JOIN new_rows n USING (id)
        WHERE n.merged_into IS NULL
          AND (o.merged_into IS NOT NULL OR n.commune_code <> o.commune_code OR n.status <> o.status)
    ) d
    GROUP BY 1, 2 HAVING sum(delta) <> 0 ORDER BY 1, 2
    ON CONFLICT (commune_code, status) DO UPDATE SET n = t.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE TRIGGER households_tally_insert AFTER INSERT ON households
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION household_tallies_insert();
CREATE TRIGGER households_tally_delete AFTER DELETE ON households
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION household_tallies_delete();
CREATE TRIGGER households_tally_update AFTER UPDATE ON households
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION household_tallies_update();
