-- Issue #16: a village has one key in its commune. "Thôn Nà Pàn", "Nà Pàn", "thon na pan" and
-- "Bản Nà Pàn" are one village: typed another way it used to become a second village, and the
-- same person registered again under it dropped from "probable" to "possible" duplicate. The key
-- is the normalised name without its kind (domain::text::village_key; the same here, a test
-- proves they agree). A new village whose key exists is refused, imports and forms map a typed
-- village to the commune's village with that key, and a clerk merges two villages (audited,
-- undoable, like household merges).

-- Names are schema-qualified: an index over it is rebuilt by pg_restore with an empty search_path.
CREATE FUNCTION public.village_key(name text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    k text := public.normalize_name(name);
    rest text;
BEGIN
    LOOP
        rest := regexp_replace(k, '^(to dan pho|thon|ban|khu|to|xom|khoi|lang|ap) ', '');
        EXIT WHEN rest = k OR rest = '' OR rest ~ '^[0-9 ]+$';
        k := rest;
    END LOOP;
    RETURN k;
END $$;

ALTER TABLE villages ADD COLUMN merged_into uuid CONSTRAINT villages_merged_into_fkey REFERENCES villages (id);

-- Every merge of two villages: which households moved, so that a clerk can undo it exactly.
CREATE TABLE village_merges (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    commune_code  text NOT NULL CONSTRAINT village_merges_commune_fkey REFERENCES communes (code),
    survivor      uuid NOT NULL CONSTRAINT village_merges_survivor_fkey REFERENCES villages (id),
    merged        uuid NOT NULL CONSTRAINT village_merges_merged_fkey REFERENCES villages (id),
    households    uuid[] NOT NULL,
    reason        text NOT NULL CONSTRAINT village_merges_reason_length CHECK (char_length(btrim(reason)) BETWEEN 1 AND 500),
    created_by    uuid CONSTRAINT village_merges_created_by_fkey REFERENCES users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    undone_by     uuid CONSTRAINT village_merges_undone_by_fkey REFERENCES users (id),
    undone_at     timestamptz
);
CREATE INDEX village_merges_commune_idx ON village_merges (commune_code, created_at DESC);

-- Villages already stored twice under one key: the older keeps its households and takes the
-- others', each merge in the ledger (a clerk can undo it) and in the audit trail.
WITH ranked AS (
    SELECT id, commune_code,
           first_value(id) OVER (PARTITION BY commune_code, village_key(name) ORDER BY created_at, id) AS survivor
    FROM villages
), dups AS (
    SELECT * FROM ranked WHERE id <> survivor
), ledger AS (
    INSERT INTO village_merges (commune_code, survivor, merged, households, reason)
    SELECT d.commune_code, d.survivor, d.id,
           coalesce((SELECT array_agg(h.id) FROM households h WHERE h.village_id = d.id), '{}'),
           'Migration 0021: cùng tên thôn khi bỏ chữ Thôn/Bản/Khu/Tổ/Xóm'
    FROM dups d RETURNING id, survivor, merged
), moved AS (
    UPDATE households h SET village_id = l.survivor, updated_at = now()
    FROM ledger l WHERE h.village_id = l.merged RETURNING h.id
), marked AS (
    UPDATE villages v SET merged_into = l.survivor FROM ledger l WHERE v.id = l.merged RETURNING v.id
)
INSERT INTO audit_log (actor, action, entity, entity_id, after, reason)
SELECT 'migration 0021', 'merge', 'village', l.merged::text,
       jsonb_build_object('survivor', l.survivor, 'ledger', l.id), 'Cùng tên thôn (khóa thôn)'
FROM ledger l;

CREATE UNIQUE INDEX villages_commune_key_key ON villages (commune_code, village_key(name)) WHERE merged_into IS NULL;
