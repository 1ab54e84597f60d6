-- The name dictionary per commune: every (commune, normalised name) that stands in the registry,
-- once, hash-partitioned by commune so that the check as one types — always within one commune —
-- searches only its partition's trigram index (a sixteenth of the pairs) instead of every name of
-- the district. At 100.000 households a common name's lookup went from ~7 ms to ~1 ms; the check
-- ran on every keystroke and was, with the cross-commune search (which keeps `name_keys`), three
-- quarters of PostgreSQL's time in the load test. Kept by the same statement triggers as
-- `name_keys` (0016); pairs are only added, never removed.

CREATE TABLE commune_name_keys (
    commune_code text NOT NULL,
    key          text NOT NULL CONSTRAINT commune_name_keys_not_empty CHECK (key <> ''),
    PRIMARY KEY (commune_code, key)
) PARTITION BY HASH (commune_code);

DO $$
BEGIN
    FOR i IN 0..15 LOOP
        EXECUTE format(
            'CREATE TABLE commune_name_keys_%s PARTITION OF commune_name_keys FOR VALUES WITH (MODULUS 16, REMAINDER %s)',
            i, i);
    END LOOP;
END $$;

INSERT INTO commune_name_keys (commune_code, key)
SELECT DISTINCT commune_code, head_name_key FROM households WHERE head_name_key <> '' ORDER BY 1, 2;

CREATE INDEX commune_name_keys_trgm ON commune_name_keys USING gin (key gin_trgm_ops);

CREATE OR REPLACE FUNCTION name_keys_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO name_keys (key)
    SELECT DISTINCT n.head_name_key FROM new_rows n
    WHERE n.head_name_key <> '' AND NOT EXISTS (SELECT 1 FROM name_keys k WHERE k.key = n.head_name_key)
    ORDER BY 1
    ON CONFLICT (key) DO NOTHING;
    INSERT INTO commune_name_keys (commune_code, key)
    SELECT DISTINCT n.commune_code, n.head_name_key FROM new_rows n
    WHERE n.head_name_key <> ''
      AND NOT EXISTS (SELECT 1 FROM commune_name_keys k
                      WHERE k.commune_code = n.commune_code AND k.key = n.head_name_key)
    ORDER BY 1, 2
    ON CONFLICT (commune_code, key) DO NOTHING;
    RETURN NULL;
END $$;
