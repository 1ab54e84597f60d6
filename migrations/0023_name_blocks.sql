-- Issue #16: the cross-commune similar-name search looks at few names. pg_trgm could only ask
-- that a name share 45 % of the *typed* name's trigrams, so every name sharing one common word
-- ("nguyen", "thi") was fetched and compared: ~4.500 names for ~200 kept, half of PostgreSQL's
-- time in the load mix. The record-linkage standard is blocking: a few keys per name, and only
-- names sharing a key are scored. The keys (domain::duplicates::name_blocks, the same here; a test
-- proves they agree) cover what a clerk writes for the same person:
--   w:  the words sorted          — the same name in another order, case, diacritics;
--   r:  all but the family name   — a typo in the family name;
--   d:  family name + the given name and each of its one-letter deletions (SymSpell) — the middle
--       name missing or another, and a letter dropped, doubled, swapped or replaced in the given
--       name.
-- Schema-qualified throughout: pg_restore rebuilds with an empty search_path.

CREATE FUNCTION public.name_blocks(key text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    w text[] := string_to_array(key, ' ');
    n integer := coalesce(array_length(w, 1), 0);
    fam text;
    giv text;
    out text[];
BEGIN
    IF key = '' OR n = 0 THEN
        RETURN '{}';
    END IF;
    out := ARRAY['w:' || array_to_string(ARRAY(SELECT x FROM unnest(w) AS x ORDER BY x COLLATE "C"), ' ')];
    IF n >= 2 THEN
        fam := w[1];
        giv := w[n];
        out := out || ('r:' || array_to_string(w[2:n], ' '));
        out := out || ('d:' || fam || ' ' || giv);
        FOR i IN 1..length(giv) LOOP
            out := out || ('d:' || fam || ' ' || overlay(giv PLACING '' FROM i FOR 1));
        END LOOP;
    END IF;
    RETURN ARRAY(SELECT DISTINCT b COLLATE "C" FROM unnest(out) AS b ORDER BY 1);
END $$;

CREATE TABLE name_blocks (
    block text NOT NULL,
    key   text NOT NULL CONSTRAINT name_blocks_key_fkey REFERENCES name_keys (key),
    CONSTRAINT name_blocks_pkey PRIMARY KEY (block, key)
);

INSERT INTO name_blocks (block, key)
SELECT DISTINCT b, k.key FROM name_keys k, unnest(public.name_blocks(k.key)) AS b ORDER BY 1, 2;

-- New dictionary names get their blocks in the same statement (an import adds its new names in
-- one statement through the households trigger of migration 0016).
CREATE FUNCTION public.name_blocks_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.name_blocks (block, key)
    SELECT DISTINCT b, n.key FROM new_names n, unnest(public.name_blocks(n.key)) AS b
    ORDER BY 1, 2
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER name_keys_blocks AFTER INSERT ON name_keys
    REFERENCING NEW TABLE AS new_names FOR EACH STATEMENT EXECUTE FUNCTION public.name_blocks_add();

ANALYZE name_blocks;
