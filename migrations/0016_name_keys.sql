-- The dictionary of head-of-household names: every normalised name that stands in the registry,
-- once. Similar names are looked up here (a few thousand to a few hundred thousand short strings,
-- however many households share them), then the households bearing them through the
-- (commune, name, id) and (name, id) b-trees.
--
-- Why: the GiST trigram index over households (0015) grew with the registry — the check as one
-- types took 47 ms (p95) at 2.000.000 households, and every inserted household paid ~110 µs to
-- place its name in that tree (11 of the 16 seconds of a 100.000-row import). A name already in
-- the dictionary costs an insert nothing here; the dictionary stops growing once a district's
-- names have all been seen. The check as one types then costs about the same at 100.000 and at
-- 2.000.000 households.
--
-- Names are only added, never removed: a name whose last household was merged or edited away
-- finds no household, which the queries join on anyway.

CREATE TABLE name_keys (
    key text PRIMARY KEY CONSTRAINT name_keys_not_empty CHECK (key <> '')
);

INSERT INTO name_keys (key)
SELECT DISTINCT head_name_key FROM households WHERE head_name_key <> '' ORDER BY 1;

-- GIN, not GiST: as fast to search here (~7 ms for a common name among 57.000 names made of
-- the same few family, middle and given names, whichever index), and new names go to its
-- pending list instead of being placed in a tree one by one.
CREATE INDEX name_keys_trgm ON name_keys USING gin (key gin_trgm_ops);

-- New names in key order, so two transactions adding the same names never wait on each other
-- in opposite orders. Statement-level: an import adds its new names in one statement.
CREATE FUNCTION name_keys_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO name_keys (key)
    SELECT DISTINCT n.head_name_key FROM new_rows n
    WHERE n.head_name_key <> '' AND NOT EXISTS (SELECT 1 FROM name_keys k WHERE k.key = n.head_name_key)
    ORDER BY 1
    ON CONFLICT (key) DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER households_name_keys_insert AFTER INSERT ON households
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION name_keys_add();
CREATE TRIGGER households_name_keys_update AFTER UPDATE ON households
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION name_keys_add();

DROP INDEX households_commune_name_gist;
