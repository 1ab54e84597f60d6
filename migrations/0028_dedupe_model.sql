-- Issue #25: the duplicate check as a scored record-linkage model.
--
-- 1. One spelling whatever the keyboard. canonical_name() is domain::text::canonical_name: each
--    word's letters with their vowel marks (ă â ê ô ơ ư đ, NFC) and its tone apart, as a digit
--    (sắc 1, huyền 2, hỏi 3, ngã 4, nặng 5): "Hoàng Thị Hòa", "Hoàng Thị Hoà" and their NFD
--    forms are all "hoang2 thi5 hoa2". Ð and ð, pasted for Đ, read as đ. A test proves Rust and
--    SQL agree on every syllable of the generated benchmark. The stored keys (head_name_key, the
--    name dictionary, its blocking keys, village_key) are this spelling with its marks folded;
--    they never depended on where a tone mark sits, and the Rust fold now also reads Ð as D, as
--    unaccent always did, so no stored key changes.
-- 2. How common each family, middle and given name is, per commune and in the whole registry
--    (commune_code ''): the model weighs exact agreement on a rare name ("Pảo") more than on a
--    common one ("Hùng"). Kept by statement-level triggers, so an import of 100.000 rows updates
--    it in one statement. Merged households stay counted (a few, and they were real entries).
-- 3. The models `giupdo dedupe train` estimates, with their date; the newest that reads is used.

-- plpgsql, one pass over the words: three times faster than the same as one SQL statement of
-- regexp_split_to_table and string_agg (15 µs a name here), which an import of 100.000 rows pays
-- once per row in the frequency trigger below.
CREATE FUNCTION public.canonical_name(t text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    s text := regexp_replace(
        translate(normalize(t, NFD), 'ABCDEFGHIJKLMNOPQRSTUVWXYZĐÐð', 'abcdefghijklmnopqrstuvwxyzđđđ'),
        '[^a-z0-9đ\u0300-\u036f]+', ' ', 'g');
    w text;
    tones text;
    base text;
    out text := '';
BEGIN
    FOREACH w IN ARRAY string_to_array(btrim(s), ' ') LOOP
        -- The tone marks as digits (sắc 1, huyền 2, hỏi 3, ngã 4, nặng 5), sorted, once each.
        tones := translate(regexp_replace(w, '[^\u0300\u0301\u0303\u0309\u0323]', '', 'g'),
                           E'\u0301\u0300\u0309\u0303\u0323', '12345');
        IF length(tones) > 1 THEN
            tones := (SELECT string_agg(DISTINCT d, '' ORDER BY d) FROM regexp_split_to_table(tones, '') AS d);
        END IF;
        base := normalize(translate(w, E'\u0300\u0301\u0303\u0309\u0323', ''), NFC);
        -- A word of marks alone is no word.
        IF base ~ '[a-z0-9đ]' THEN
            out := out || CASE WHEN out = '' THEN '' ELSE ' ' END || base || tones;
        END IF;
    END LOOP;
    RETURN out;
END $$;

-- The canonical family name (part 0), middle name(s) (1) and given name (2); one word is a given
-- name (domain::duplicates::model::name_parts).
CREATE FUNCTION public.name_parts(name text) RETURNS TABLE (part smallint, word text)
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    w text[] := string_to_array(public.canonical_name(name), ' ');
    n integer := coalesce(cardinality(w), 0);
BEGIN
    IF n >= 2 THEN
        part := 0; word := w[1]; RETURN NEXT;
    END IF;
    IF n >= 3 THEN
        part := 1; word := array_to_string(w[2:n - 1], ' '); RETURN NEXT;
    END IF;
    IF n >= 1 THEN
        part := 2; word := w[n]; RETURN NEXT;
    END IF;
END $$;

-- word '' counts the households that have that part at all.
CREATE TABLE name_word_counts (
    commune_code text NOT NULL,
    part         smallint NOT NULL CONSTRAINT name_word_counts_part CHECK (part BETWEEN 0 AND 2),
    word         text NOT NULL,
    n            bigint NOT NULL,
    CONSTRAINT name_word_counts_pkey PRIMARY KEY (commune_code, part, word)
);

-- Updates: −1 for each old row's words, +1 for each new row's, the rows whose name and commune
-- did not change left out (a status update changes nothing here).
CREATE FUNCTION public.name_word_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH changed AS (
        SELECT n.commune_code, n.head_name, 1 AS d FROM new_rows n
        WHERE NOT EXISTS (SELECT 1 FROM old_rows o
                          WHERE o.id = n.id AND o.head_name = n.head_name AND o.commune_code = n.commune_code)
        UNION ALL
        SELECT o.commune_code, o.head_name, -1 FROM old_rows o
        WHERE NOT EXISTS (SELECT 1 FROM new_rows n
                          WHERE n.id = o.id AND n.head_name = o.head_name AND n.commune_code = o.commune_code)
    )
    INSERT INTO public.name_word_counts AS c (commune_code, part, word, n)
    SELECT s.scope, p.part, w.word, sum(x.d)
    FROM changed x
    CROSS JOIN LATERAL public.name_parts(x.head_name) p
    CROSS JOIN LATERAL (VALUES (p.word), ('')) AS w(word)
    CROSS JOIN LATERAL (VALUES (x.commune_code), ('')) AS s(scope)
    GROUP BY 1, 2, 3 HAVING sum(x.d) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (commune_code, part, word) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

-- Inserts and deletes: each household's words counted once, +1 or −1 (the trigger's argument);
-- both triggers name their transition table `changed`.
CREATE FUNCTION public.name_word_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.name_word_counts AS c (commune_code, part, word, n)
    SELECT s.scope, p.part, w.word, TG_ARGV[0]::int * count(*)
    FROM changed x
    CROSS JOIN LATERAL public.name_parts(x.head_name) p
    CROSS JOIN LATERAL (VALUES (p.word), ('')) AS w(word)
    CROSS JOIN LATERAL (VALUES (x.commune_code), ('')) AS s(scope)
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (commune_code, part, word) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

CREATE TRIGGER households_name_word_counts_insert AFTER INSERT ON households
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION public.name_word_counts_add('1');
CREATE TRIGGER households_name_word_counts_update AFTER UPDATE ON households
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.name_word_counts_apply();
CREATE TRIGGER households_name_word_counts_delete AFTER DELETE ON households
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION public.name_word_counts_add('-1');

INSERT INTO name_word_counts (commune_code, part, word, n)
SELECT s.scope, p.part, w.word, count(*)
FROM households x
CROSS JOIN LATERAL public.name_parts(x.head_name) p
CROSS JOIN LATERAL (VALUES (p.word), ('')) AS w(word)
CROSS JOIN LATERAL (VALUES (x.commune_code), ('')) AS s(scope)
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;

CREATE TABLE dedupe_models (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT dedupe_models_pkey PRIMARY KEY,
    trained_at      timestamptz NOT NULL DEFAULT now(),
    trained_by      text NOT NULL,
    params          jsonb NOT NULL,
    fit_pairs       integer NOT NULL,
    registry_pairs  integer NOT NULL
);
