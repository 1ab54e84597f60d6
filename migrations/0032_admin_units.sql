-- Issue #28: the map as dated data. Since 01/07/2025 Vietnam has two levels of local government:
-- districts are gone and communes merged. A unit (province, district, commune) is valid for a
-- period, under a parent valid at the same time, and names its successor(s) when it ends. A code
-- may be reused by the unit that continues it (Bình Gia's new communes keep one old code each), so
-- a unit is a code *and* a period: no two periods of one code overlap.
CREATE TABLE admin_units (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code        text NOT NULL CONSTRAINT admin_units_code_format CHECK (code ~ '^[0-9]{2,5}$'),
    name        text NOT NULL CONSTRAINT admin_units_name_length CHECK (char_length(btrim(name)) BETWEEN 1 AND 120),
    level       text NOT NULL CONSTRAINT admin_units_level_valid CHECK (level IN ('province', 'district', 'commune')),
    parent_code text,
    valid_from  date NOT NULL,
    -- Last day of validity, inclusive; NULL while valid.
    valid_to    date,
    CONSTRAINT admin_units_period_order CHECK (valid_to IS NULL OR valid_to >= valid_from),
    CONSTRAINT admin_units_parent_level CHECK ((level = 'province') = (parent_code IS NULL)),
    CONSTRAINT admin_units_one_period EXCLUDE USING gist (code WITH =, daterange(valid_from, valid_to, '[]') WITH &&)
);
CREATE INDEX admin_units_parent_idx ON admin_units (parent_code);
CREATE INDEX admin_units_code_idx ON admin_units (code, valid_from);

CREATE TABLE admin_unit_successors (
    unit_id        uuid NOT NULL CONSTRAINT admin_unit_successors_unit_fkey REFERENCES admin_units (id) ON DELETE CASCADE,
    successor_code text NOT NULL,
    CONSTRAINT admin_unit_successors_pkey PRIMARY KEY (unit_id, successor_code)
);

-- The commune a code stands for on a day: the unit valid then, or, following successors (the
-- first, by code), the unit that took its place. Records keep the code they were made under;
-- views by year ask this function. Depth-limited: the import refuses cycles, this never loops.
CREATE FUNCTION commune_on(c text, d date) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        -- Most codes are themselves on the day asked (or not on the map at all): no chain.
        WHEN EXISTS (SELECT 1 FROM admin_units v WHERE v.code = c
                     AND d BETWEEN v.valid_from AND coalesce(v.valid_to, 'infinity'))
          OR NOT EXISTS (SELECT 1 FROM admin_units v WHERE v.code = c) THEN c
        ELSE (
            WITH RECURSIVE chain (code, depth) AS (
                SELECT c, 0
                UNION ALL
                SELECT s.code, chain.depth + 1
                FROM chain
                CROSS JOIN LATERAL (
                    SELECT min(x.successor_code) AS code
                    FROM admin_units u JOIN admin_unit_successors x ON x.unit_id = u.id
                    WHERE u.code = chain.code AND u.valid_to < d
                      AND NOT EXISTS (SELECT 1 FROM admin_units v WHERE v.code = chain.code
                                      AND d BETWEEN v.valid_from AND coalesce(v.valid_to, 'infinity'))
                ) s
                WHERE s.code IS NOT NULL AND s.code <> chain.code AND chain.depth < 20
            )
            SELECT code FROM chain ORDER BY depth DESC LIMIT 1)
    END
$$;

-- A campaign names its organiser: a district (2024), a province or a commune after 2025. Its
-- area is the organiser's communes valid in the campaign's year.
ALTER TABLE campaigns ADD COLUMN organiser_code text;

-- Imported units at commune level are communes the registry can hold households in; a commune
-- created after 01/07/2025 has no district.
ALTER TABLE communes ALTER COLUMN district_code DROP NOT NULL;
ALTER TABLE communes DROP CONSTRAINT communes_kind_valid;
ALTER TABLE communes ADD CONSTRAINT communes_kind_valid CHECK (kind IN ('Xã', 'Thị trấn', 'Phường', 'Đặc khu'));
-- Names are not unique: two provinces may each have a "Xã Tân Văn", and Bình Gia's new Xã Tân Văn
-- (code 06115) is not the old one (06121). The code identifies a commune.
ALTER TABLE communes DROP CONSTRAINT communes_name_key;

-- Bình Gia (Lạng Sơn) as the demo's and the first deployment's map: the province, the district
-- until 30/06/2025, the 19 communes of 2024 until then, and the 8 communes from 01/07/2025 (each
-- keeping one old code), from ../shared/data/binh-gia-communes.csv.
INSERT INTO admin_units (code, name, level, parent_code, valid_from, valid_to) VALUES
    ('20', 'Tỉnh Lạng Sơn', 'province', NULL, DATE '1900-01-01', NULL),
    ('181', 'Huyện Bình Gia', 'district', '20', DATE '1900-01-01', DATE '2025-06-30');
INSERT INTO admin_units (code, name, level, parent_code, valid_from, valid_to)
SELECT code, name, 'commune', '181', DATE '1900-01-01', DATE '2025-06-30' FROM communes;
INSERT INTO admin_units (code, name, level, parent_code, valid_from, valid_to)
SELECT DISTINCT merged_into_code, merged_into_name, 'commune', '20', DATE '2025-07-01', NULL::date FROM communes;
INSERT INTO admin_unit_successors (unit_id, successor_code)
SELECT u.id, c.merged_into_code FROM admin_units u JOIN communes c ON c.code = u.code
WHERE u.level = 'commune' AND u.valid_to = DATE '2025-06-30';
INSERT INTO admin_unit_successors (unit_id, successor_code)
SELECT id, '20' FROM admin_units WHERE code = '181';

UPDATE campaigns SET organiser_code = '181';

-- A commune official's covered codes are read on every request: the communes whose commune of
-- today is theirs.
CREATE INDEX communes_merged_into_idx ON communes (merged_into_code);

-- The communes of the registry (old codes and new) in a campaign's area: those whose commune on
-- the campaign's day is the organiser or lies under it (its district or province, as valid that
-- day). The day is the registration deadline, or the organiser's last day when it ended before
-- (a campaign kept open past its organiser's end keeps its area). A campaign without an organiser
-- covers every commune.
CREATE FUNCTION campaign_area(campaign uuid) RETURNS SETOF text LANGUAGE sql STABLE AS $$
    WITH c0 AS (SELECT organiser_code AS org, registration_deadline AS d0 FROM campaigns WHERE id = campaign),
    c AS (
        SELECT c0.org, CASE
            WHEN EXISTS (SELECT 1 FROM admin_units u WHERE u.code = c0.org
                         AND c0.d0 BETWEEN u.valid_from AND coalesce(u.valid_to, 'infinity')) THEN c0.d0
            ELSE coalesce((SELECT max(u.valid_to) FROM admin_units u WHERE u.code = c0.org AND u.valid_to < c0.d0), c0.d0)
        END AS d
        FROM c0)
    SELECT co.code FROM communes co, c
    WHERE c.org IS NULL OR EXISTS (
        SELECT 1 FROM admin_units u
        LEFT JOIN admin_units p ON p.code = u.parent_code
                               AND c.d BETWEEN p.valid_from AND coalesce(p.valid_to, 'infinity')
        WHERE u.code = commune_on(co.code, c.d)
          AND c.d BETWEEN u.valid_from AND coalesce(u.valid_to, 'infinity')
          AND c.org IN (u.code, u.parent_code, p.parent_code))
$$;

-- A provincial clerk: since the 2025 reform the province organises the campaign; its staff have
-- the district clerk's rights over everything this deployment holds (the province's map).
ALTER TABLE users DROP CONSTRAINT users_role_valid;
ALTER TABLE users ADD CONSTRAINT users_role_valid CHECK (role IN ('admin', 'clerk', 'province', 'agency', 'commune'));
