-- R1: help is organised as a yearly campaign. Deadlines, target and priority communes are data
-- a clerk sets, never constants in code.
CREATE TABLE campaigns (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    year                   integer NOT NULL CONSTRAINT campaigns_year_range CHECK (year BETWEEN 2000 AND 2100),
    name                   text NOT NULL CONSTRAINT campaigns_name_not_blank CHECK (btrim(name) <> ''),
    registration_deadline  date NOT NULL,
    report_deadline        date NOT NULL,
    target_per_household   bigint NOT NULL CONSTRAINT campaigns_target_positive CHECK (target_per_household > 0),
    is_current             boolean NOT NULL DEFAULT false,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT campaigns_year_key UNIQUE (year),
    CONSTRAINT campaigns_deadlines_order CHECK (report_deadline >= registration_deadline)
);
-- At most one campaign is the current one.
CREATE UNIQUE INDEX campaigns_one_current_key ON campaigns (is_current) WHERE is_current;

CREATE TABLE campaign_priority_communes (
    campaign_id  uuid NOT NULL CONSTRAINT campaign_priority_communes_campaign_fkey REFERENCES campaigns (id) ON DELETE CASCADE,
    commune_code text NOT NULL CONSTRAINT campaign_priority_communes_commune_fkey REFERENCES communes (code),
    reason       text NOT NULL CONSTRAINT campaign_priority_communes_reason_not_blank CHECK (btrim(reason) <> ''),
    CONSTRAINT campaign_priority_communes_pkey PRIMARY KEY (campaign_id, commune_code)
);

WITH c AS (
    INSERT INTO campaigns (year, name, registration_deadline, report_deadline, target_per_household, is_current)
    VALUES (2024, 'Nhận giúp đỡ hộ nghèo theo địa chỉ năm 2024', DATE '2024-07-15', DATE '2024-07-31', 8000000, true)
    RETURNING id
)
INSERT INTO campaign_priority_communes (campaign_id, commune_code, reason)
SELECT c.id, p.code, p.reason FROM c, (VALUES
    ('06073', 'Phấn đấu đạt chuẩn Nông thôn mới năm 2024'),
    ('06091', 'Phấn đấu đạt chuẩn Nông thôn mới năm 2025')
) AS p (code, reason);
