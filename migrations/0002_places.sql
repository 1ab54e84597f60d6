-- The communes of the district as of 2024, with their official codes, and the commune each
-- became on 01/07/2025 (Nghị quyết 1672/NQ-UBTVQH15). Records keep the commune they were made
-- under; reports group by merged_into_code when asked.
CREATE TABLE communes (
    code              text PRIMARY KEY CONSTRAINT communes_code_format CHECK (code ~ '^[0-9]{5}$'),
    name              text NOT NULL CONSTRAINT communes_name_not_blank CHECK (btrim(name) <> ''),
    kind              text NOT NULL CONSTRAINT communes_kind_valid CHECK (kind IN ('Xã', 'Thị trấn', 'Phường')),
    district_code     text NOT NULL,
    province_code     text NOT NULL,
    merged_into_code  text NOT NULL CONSTRAINT communes_merged_code_format CHECK (merged_into_code ~ '^[0-9]{5}$'),
    merged_into_name  text NOT NULL,
    CONSTRAINT communes_name_key UNIQUE (name)
);

-- Villages (thôn, bản, tổ dân phố) per commune.
CREATE TABLE villages (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    commune_code text NOT NULL CONSTRAINT villages_commune_fkey REFERENCES communes (code),
    name         text NOT NULL CONSTRAINT villages_name_length CHECK (char_length(btrim(name)) BETWEEN 1 AND 120),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX villages_commune_name_key ON villages (commune_code, normalize_name(name));

INSERT INTO communes (code, name, kind, district_code, province_code, merged_into_code, merged_into_name) VALUES
('06067', 'Xã Hưng Đạo', 'Xã', '181', '20', '06073', 'Xã Hoa Thám'),
('06070', 'Xã Vĩnh Yên', 'Xã', '181', '20', '06076', 'Xã Quý Hòa'),
('06073', 'Xã Hoa Thám', 'Xã', '181', '20', '06073', 'Xã Hoa Thám'),
('06076', 'Xã Quý Hòa', 'Xã', '181', '20', '06076', 'Xã Quý Hòa'),
('06079', 'Xã Hồng Phong', 'Xã', '181', '20', '06079', 'Xã Hồng Phong'),
('06082', 'Xã Yên Lỗ', 'Xã', '181', '20', '06085', 'Xã Thiện Hòa'),
('06085', 'Xã Thiện Hòa', 'Xã', '181', '20', '06085', 'Xã Thiện Hòa'),
('06088', 'Xã Quang Trung', 'Xã', '181', '20', '06091', 'Xã Thiện Thuật'),
('06091', 'Xã Thiện Thuật', 'Xã', '181', '20', '06091', 'Xã Thiện Thuật'),
('06094', 'Xã Minh Khai', 'Xã', '181', '20', '06079', 'Xã Hồng Phong'),
('06097', 'Xã Thiện Long', 'Xã', '181', '20', '06103', 'Xã Thiện Long'),
('06100', 'Xã Hoàng Văn Thụ', 'Xã', '181', '20', '06112', 'Xã Bình Gia'),
('06103', 'Xã Hòa Bình', 'Xã', '181', '20', '06103', 'Xã Thiện Long'),
('06106', 'Xã Mông Ân', 'Xã', '181', '20', '06112', 'Xã Bình Gia'),
('06109', 'Xã Tân Hòa', 'Xã', '181', '20', '06103', 'Xã Thiện Long'),
('06112', 'Thị trấn Bình Gia', 'Thị trấn', '181', '20', '06112', 'Xã Bình Gia'),
('06115', 'Xã Hồng Thái', 'Xã', '181', '20', '06115', 'Xã Tân Văn'),
('06118', 'Xã Bình La', 'Xã', '181', '20', '06115', 'Xã Tân Văn'),
('06121', 'Xã Tân Văn', 'Xã', '181', '20', '06115', 'Xã Tân Văn');
