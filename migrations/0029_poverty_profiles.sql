-- Issue #26: the national multidimensional poverty standard as data, and each household's
-- deprivation profile from the commune's yearly review.
--
-- A standard is rows, not code: its review years, the income line per area, the indicators (each in
-- one of the dimensions) and the rule "poor at N or more indicators short". Next period's decree is
-- a migration like this one (or rows typed by an administrator), never a change of the program.

CREATE TABLE poverty_standards (
    code           text PRIMARY KEY CONSTRAINT poverty_standards_code_shape CHECK (code ~ '^[0-9a-z_-]{2,40}$'),
    name           text NOT NULL,
    legal_basis    text NOT NULL,
    -- The review years it decides (inclusive): the review of year Y is classified by the standard
    -- whose range holds Y.
    first_year     integer NOT NULL,
    last_year      integer NOT NULL,
    -- Poor: income at or below the line and at least this many indicators short; near-poor: at or
    -- below the line and fewer.
    poor_min_short smallint NOT NULL CONSTRAINT poverty_standards_poor_min_short_positive CHECK (poor_min_short >= 1),
    -- What was and was not checked against the published text.
    note           text NOT NULL DEFAULT '',
    CONSTRAINT poverty_standards_years CHECK (first_year BETWEEN 2000 AND 2100 AND last_year BETWEEN first_year AND 2100),
    -- Two standards never decide the same review year.
    CONSTRAINT poverty_standards_years_disjoint EXCLUDE USING gist (int4range(first_year, last_year, '[]') WITH &&)
);

CREATE TABLE poverty_income_lines (
    standard_code text NOT NULL CONSTRAINT poverty_income_lines_standard_fkey REFERENCES poverty_standards (code) ON DELETE CASCADE,
    area          text NOT NULL CONSTRAINT poverty_income_lines_area_valid CHECK (area IN ('rural', 'urban')),
    -- đồng per person per month
    income_line   bigint NOT NULL CONSTRAINT poverty_income_lines_positive CHECK (income_line > 0),
    CONSTRAINT poverty_income_lines_pkey PRIMARY KEY (standard_code, area)
);

CREATE TABLE poverty_indicators (
    standard_code   text NOT NULL CONSTRAINT poverty_indicators_standard_fkey REFERENCES poverty_standards (code) ON DELETE CASCADE,
    code            text NOT NULL CONSTRAINT poverty_indicators_code_shape CHECK (code ~ '^[a-z_]{2,40}$'),
    position        smallint NOT NULL,
    dimension       text NOT NULL,
    dimension_label text NOT NULL,
    label           text NOT NULL,
    -- The column heading of the commune's review form, for the spreadsheet import.
    heading         text NOT NULL,
    CONSTRAINT poverty_indicators_pkey PRIMARY KEY (standard_code, code),
    CONSTRAINT poverty_indicators_position_unique UNIQUE (standard_code, position)
);

INSERT INTO poverty_standards (code, name, legal_basis, first_year, last_year, poor_min_short, note) VALUES
('nd07-2021', 'Chuẩn nghèo đa chiều giai đoạn 2022–2025 (kéo dài đến hết năm 2026)',
 'Nghị định 07/2021/NĐ-CP, sửa đổi bởi Nghị định 30/2025/NĐ-CP; Thông tư 07/2021/TT-BLĐTBXH',
 2022, 2026, 3,
 'Mức thu nhập, 12 chỉ số và quy tắc theo Điều 3 Nghị định 07/2021/NĐ-CP.'),
('nd-2027-2030', 'Chuẩn nghèo đa chiều quốc gia giai đoạn 2027–2030',
 'Nghị định quy định chuẩn nghèo đa chiều quốc gia giai đoạn 2026–2030',
 2027, 2030, 3,
 'Đã đối chiếu: mức thu nhập (nông thôn 2.200.000 đ, thành thị 2.800.000 đ) và quy tắc thiếu hụt từ 3 chỉ số. '
 'CHƯA đối chiếu được danh sách chỉ số với văn bản đã ban hành: tạm giữ 12 chỉ số của giai đoạn trước; '
 'sửa bằng một migration khi có văn bản.');

INSERT INTO poverty_income_lines (standard_code, area, income_line) VALUES
('nd07-2021', 'rural', 1500000), ('nd07-2021', 'urban', 2000000),
('nd-2027-2030', 'rural', 2200000), ('nd-2027-2030', 'urban', 2800000);

INSERT INTO poverty_indicators (standard_code, code, position, dimension, dimension_label, label, heading)
SELECT s.code, i.code, i.position, i.dimension, i.dimension_label, i.label, i.heading
FROM poverty_standards s CROSS JOIN (VALUES
    ('viec_lam', 1, 'viec_lam', 'Việc làm', 'Việc làm', 'Việc làm'),
    ('nguoi_phu_thuoc', 2, 'viec_lam', 'Việc làm', 'Người phụ thuộc trong hộ', 'Người phụ thuộc'),
    ('dinh_duong', 3, 'y_te', 'Y tế', 'Dinh dưỡng', 'Dinh dưỡng'),
    ('bao_hiem_y_te', 4, 'y_te', 'Y tế', 'Bảo hiểm y tế', 'Bảo hiểm y tế'),
    ('giao_duc_nguoi_lon', 5, 'giao_duc', 'Giáo dục', 'Trình độ giáo dục của người lớn', 'Trình độ giáo dục người lớn'),
    ('tre_em_di_hoc', 6, 'giao_duc', 'Giáo dục', 'Tình trạng đi học của trẻ em', 'Tình trạng đi học của trẻ em'),
    ('chat_luong_nha', 7, 'nha_o', 'Nhà ở', 'Chất lượng nhà ở', 'Chất lượng nhà ở'),
    ('dien_tich_nha', 8, 'nha_o', 'Nhà ở', 'Diện tích nhà ở bình quân đầu người', 'Diện tích nhà ở bình quân'),
    ('nuoc_sinh_hoat', 9, 'nuoc_ve_sinh', 'Nước sinh hoạt và vệ sinh', 'Nguồn nước sinh hoạt', 'Nguồn nước sinh hoạt'),
    ('nha_tieu', 10, 'nuoc_ve_sinh', 'Nước sinh hoạt và vệ sinh', 'Nhà tiêu hợp vệ sinh', 'Nhà tiêu hợp vệ sinh'),
    ('vien_thong', 11, 'thong_tin', 'Thông tin', 'Sử dụng dịch vụ viễn thông', 'Sử dụng dịch vụ viễn thông'),
    ('tiep_can_thong_tin', 12, 'thong_tin', 'Thông tin', 'Phương tiện phục vụ tiếp cận thông tin', 'Phương tiện tiếp cận thông tin')
) AS i (code, position, dimension, dimension_label, label, heading);

-- One review of one household: the commune's figures for that year. The indicators not listed in
-- short_of are met (the review form marks only the shortfalls).
CREATE TABLE household_profiles (
    household_id      uuid NOT NULL CONSTRAINT household_profiles_household_fkey REFERENCES households (id) ON DELETE CASCADE,
    review_year       integer NOT NULL CONSTRAINT household_profiles_year_range CHECK (review_year BETWEEN 2000 AND 2100),
    standard_code     text NOT NULL CONSTRAINT household_profiles_standard_fkey REFERENCES poverty_standards (code),
    area              text NOT NULL CONSTRAINT household_profiles_area_valid CHECK (area IN ('rural', 'urban')),
    -- đồng per person per month
    income_per_person bigint NOT NULL CONSTRAINT household_profiles_income_range CHECK (income_per_person BETWEEN 0 AND 1000000000),
    short_of          text[] NOT NULL DEFAULT '{}',
    -- The household's own words: what it wants, what it plans ("tâm tư, nguyện vọng").
    wishes            text NOT NULL DEFAULT '' CONSTRAINT household_profiles_wishes_length CHECK (length(wishes) <= 1000),
    source            text NOT NULL DEFAULT 'form' CONSTRAINT household_profiles_source_valid CHECK (source IN ('form', 'import', 'demo')),
    recorded_by       uuid CONSTRAINT household_profiles_recorded_by_fkey REFERENCES users (id),
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT household_profiles_pkey PRIMARY KEY (household_id, review_year)
);

-- The effectiveness report's one row per sponsorship gains the household's shortfalls at the last
-- review up to the campaign's year (before the help) and at the last review after it.
ALTER TABLE effectiveness_facts
    ADD COLUMN short_before text[],
    ADD COLUMN short_after text[];

CREATE OR REPLACE FUNCTION effectiveness_refresh(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO effectiveness_facts AS f (sponsorship_id, year, state, commune_code, support_group,
        delivered_value, escaped_in, last_status, received, born, died, sold, trees_surviving,
        short_before, short_after)
    SELECT s.id, c.year, s.state, s.commune_code, coalesce(m.support_group, 'other'), s.delivered_value,
           o.escaped_in, o.last_status, v.received, v.born, v.died, v.sold, v.trees_surviving,
           pb.short_of, pa.short_of
    FROM sponsorships s
    JOIN campaigns c ON c.id = s.campaign_id
    LEFT JOIN LATERAL (SELECT l.support_group FROM support_lines l WHERE l.sponsorship_id = s.id
                       ORDER BY l.estimated_value DESC, l.position LIMIT 1) m ON true
    LEFT JOIN LATERAL (SELECT min(h.year) FILTER (WHERE h.status = 'escaped') AS escaped_in,
                              (max(h.year * 4 + CASE h.status WHEN 'poor' THEN 1 WHEN 'near_poor' THEN 2 ELSE 3 END) % 4)::smallint
                                  AS last_status
                       FROM household_status_history h
                       WHERE h.household_id = s.household_id AND h.year > c.year AND h.source = 'official') o ON true
    LEFT JOIN LATERAL (SELECT x.received, x.born, x.died, x.sold, x.trees_surviving FROM follow_up_visits x
                       WHERE x.sponsorship_id = s.id ORDER BY x.visited_on DESC, x.created_at DESC LIMIT 1) v ON true
    LEFT JOIN LATERAL (SELECT p.short_of FROM household_profiles p
                       WHERE p.household_id = s.household_id AND p.review_year <= c.year
                       ORDER BY p.review_year DESC LIMIT 1) pb ON true
    LEFT JOIN LATERAL (SELECT p.short_of FROM household_profiles p
                       WHERE p.household_id = s.household_id AND p.review_year > c.year
                       ORDER BY p.review_year DESC LIMIT 1) pa ON true
    WHERE s.id = ANY (ids)
    ORDER BY s.id
    ON CONFLICT (sponsorship_id) DO UPDATE SET
        year = excluded.year, state = excluded.state, commune_code = excluded.commune_code,
        support_group = excluded.support_group, delivered_value = excluded.delivered_value,
        escaped_in = excluded.escaped_in, last_status = excluded.last_status, received = excluded.received,
        born = excluded.born, died = excluded.died, sold = excluded.sold, trees_surviving = excluded.trees_surviving,
        short_before = excluded.short_before, short_after = excluded.short_after;
$$;

-- A review written, changed or removed moves the facts of every sponsorship of its household
-- (the same statement-level function as the official statuses).
CREATE TRIGGER household_profiles_effectiveness_insert AFTER INSERT ON household_profiles
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION effectiveness_by_household();
CREATE TRIGGER household_profiles_effectiveness_update AFTER UPDATE ON household_profiles
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION effectiveness_by_household();
CREATE TRIGGER household_profiles_effectiveness_delete AFTER DELETE ON household_profiles
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION effectiveness_by_household();

-- The pledge page's advice counts, for a form of help and an indicator, the households helped that
-- way while short of it (and how many escaped).
CREATE INDEX effectiveness_facts_short_before_idx ON effectiveness_facts USING gin (short_before);
