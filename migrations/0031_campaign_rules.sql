-- Issue #28: next year's letter without a programmer. The quota rules (R2), the forms of support
-- offered and their report groups belong to the campaign, as rows a clerk edits; editing one
-- campaign's rows never changes another's (a copy, not a reference), so the 2024 report keeps
-- saying what the 2024 letter said.

-- The ordered rule table. The first rule whose condition holds for an agency gives its quota; the
-- last rule has no condition (the default) — checked by domain::quota::RuleTable::check before
-- every save, and by the seed below.
CREATE TABLE campaign_quota_rules (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    campaign_id     uuid NOT NULL CONSTRAINT campaign_quota_rules_campaign_fkey REFERENCES campaigns (id) ON DELETE CASCADE,
    position        integer NOT NULL,
    -- Agency kinds the rule is for; empty: any kind.
    kinds           text[] NOT NULL DEFAULT '{}',
    staff_below     integer CONSTRAINT campaign_quota_rules_staff_below_range CHECK (staff_below BETWEEN 1 AND 100000),
    staff_at_least  integer CONSTRAINT campaign_quota_rules_staff_at_least_range CHECK (staff_at_least BETWEEN 0 AND 100000),
    -- Only the agencies of its named list (campaign_quota_rule_agencies).
    named           boolean NOT NULL DEFAULT false,
    households_min  integer NOT NULL CONSTRAINT campaign_quota_rules_households_range CHECK (households_min BETWEEN 1 AND 100),
    households_max  integer,
    -- Met in a joint group of this many agencies (the agency included), or alone when NULL.
    group_min       integer,
    group_max       integer,
    wording         text NOT NULL CONSTRAINT campaign_quota_rules_wording_length CHECK (char_length(btrim(wording)) BETWEEN 1 AND 300),
    CONSTRAINT campaign_quota_rules_position_key UNIQUE (campaign_id, position),
    CONSTRAINT campaign_quota_rules_households_order CHECK (households_max IS NULL OR households_max >= households_min),
    CONSTRAINT campaign_quota_rules_group_size CHECK ((group_min IS NULL) = (group_max IS NULL)
        AND (group_min IS NULL OR (group_min >= 2 AND group_max >= group_min AND group_max <= 10))),
    CONSTRAINT campaign_quota_rules_staff_order CHECK (staff_below IS NULL OR staff_at_least IS NULL OR staff_below > staff_at_least)
);

-- A rule's named list, chosen from the registry. An agency is on at most one named list of a
-- campaign (two would make the order of the rules decide silently).
CREATE TABLE campaign_quota_rule_agencies (
    rule_id      uuid NOT NULL CONSTRAINT campaign_quota_rule_agencies_rule_fkey REFERENCES campaign_quota_rules (id) ON DELETE CASCADE,
    campaign_id  uuid NOT NULL CONSTRAINT campaign_quota_rule_agencies_campaign_fkey REFERENCES campaigns (id) ON DELETE CASCADE,
    agency_id    uuid NOT NULL CONSTRAINT campaign_quota_rule_agencies_agency_fkey REFERENCES agencies (id) ON DELETE CASCADE,
    CONSTRAINT campaign_quota_rule_agencies_pkey PRIMARY KEY (rule_id, agency_id),
    CONSTRAINT campaign_quota_rule_agencies_once_key UNIQUE (campaign_id, agency_id)
);
CREATE INDEX campaign_quota_rule_agencies_agency_idx ON campaign_quota_rule_agencies (agency_id);

-- The forms of support a campaign offers (a subset of the stored codes, whose meaning the
-- effectiveness report relies on), with the campaign's own words and the group a report adds
-- them up under (seeded one group per form, as the reports have always shown them).
CREATE TABLE campaign_support_forms (
    campaign_id   uuid NOT NULL CONSTRAINT campaign_support_forms_campaign_fkey REFERENCES campaigns (id) ON DELETE CASCADE,
    form          text NOT NULL CONSTRAINT campaign_support_forms_form_valid CHECK (form IN (
                      'livestock', 'seedlings', 'tools', 'house_repair', 'cash', 'training', 'other')),
    position      integer NOT NULL,
    label         text NOT NULL CONSTRAINT campaign_support_forms_label_length CHECK (char_length(btrim(label)) BETWEEN 1 AND 80),
    report_group  text NOT NULL CONSTRAINT campaign_support_forms_group_length CHECK (char_length(btrim(report_group)) BETWEEN 1 AND 80),
    CONSTRAINT campaign_support_forms_pkey PRIMARY KEY (campaign_id, form)
);

-- The 2024 letter, as the rules of every campaign that exists (the code computed every year's
-- quota with these rules until now, so earlier years' reports keep their figures).
CREATE FUNCTION campaign_seed_2024_rules(c uuid) RETURNS void LANGUAGE sql AS $$
    INSERT INTO campaign_quota_rules (campaign_id, position, kinds, staff_below, staff_at_least, named,
                                      households_min, households_max, group_min, group_max, wording)
    VALUES
      (c, 1, '{department,state_agency,fatherland_front,mass_organisation}', 10, NULL, false, 1, NULL, 3, 4,
          'Dưới 10 biên chế: cùng 2–3 đơn vị khác giúp 01 hộ'),
      (c, 2, '{armed_forces}', NULL, NULL, false, 2, NULL, NULL, NULL,
          'Lực lượng vũ trang: giúp từ 02 hộ trở lên'),
      (c, 3, '{}', NULL, NULL, true, 2, NULL, NULL, NULL,
          'Trường THPT Bình Gia, THPT Pác Khuông, PTDTNT THCS-THPT Bình Gia: giúp từ 02 hộ trở lên'),
      (c, 4, '{business_association}', NULL, NULL, false, 2, 3, NULL, NULL,
          'Hội Doanh nghiệp huyện: giúp 02–03 hộ trở lên'),
      (c, 5, '{}', NULL, NULL, false, 1, NULL, NULL, NULL,
          'Mỗi cơ quan, đơn vị giúp 01 hộ');
    INSERT INTO campaign_quota_rule_agencies (rule_id, campaign_id, agency_id)
    SELECT r.id, c, a.id FROM campaign_quota_rules r, agencies a
    WHERE r.campaign_id = c AND r.position = 3 AND a.named_school;
    INSERT INTO campaign_support_forms (campaign_id, form, position, label, report_group)
    VALUES (c, 'livestock', 1, 'Con giống', 'Con giống'),
           (c, 'seedlings', 2, 'Cây giống', 'Cây giống'),
           (c, 'tools', 3, 'Công cụ sản xuất', 'Công cụ sản xuất'),
           (c, 'house_repair', 4, 'Sửa chữa nhà', 'Sửa chữa nhà'),
           (c, 'cash', 5, 'Tiền mặt', 'Tiền mặt'),
           (c, 'training', 6, 'Tập huấn kỹ thuật', 'Tập huấn kỹ thuật'),
           (c, 'other', 7, 'Khác', 'Khác');
$$;
SELECT campaign_seed_2024_rules(id) FROM campaigns;
DROP FUNCTION campaign_seed_2024_rules(uuid);

-- A campaign made without rules (the "new campaign" form, history loaded by script) starts with a
-- copy of the nearest campaign's rules and forms — nearest earlier year first — so it is never
-- without a default rule; the clerk then edits the copy.
CREATE FUNCTION campaign_copy_rules(source uuid, target uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    r record;
    new_id uuid;
BEGIN
    FOR r IN SELECT * FROM campaign_quota_rules WHERE campaign_id = source ORDER BY position LOOP
        INSERT INTO campaign_quota_rules (campaign_id, position, kinds, staff_below, staff_at_least, named,
                                          households_min, households_max, group_min, group_max, wording)
        VALUES (target, r.position, r.kinds, r.staff_below, r.staff_at_least, r.named,
                r.households_min, r.households_max, r.group_min, r.group_max, r.wording)
        RETURNING id INTO new_id;
        INSERT INTO campaign_quota_rule_agencies (rule_id, campaign_id, agency_id)
        SELECT new_id, target, agency_id FROM campaign_quota_rule_agencies WHERE rule_id = r.id;
    END LOOP;
    INSERT INTO campaign_support_forms (campaign_id, form, position, label, report_group)
    SELECT target, form, position, label, report_group FROM campaign_support_forms WHERE campaign_id = source;
END $$;

CREATE FUNCTION campaigns_start_with_rules() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    source uuid;
BEGIN
    SELECT c.id INTO source FROM campaigns c
    WHERE c.id <> NEW.id AND EXISTS (SELECT 1 FROM campaign_quota_rules r WHERE r.campaign_id = c.id)
    ORDER BY (c.year > NEW.year), abs(c.year - NEW.year) LIMIT 1;
    IF source IS NOT NULL THEN
        PERFORM campaign_copy_rules(source, NEW.id);
    ELSE
        INSERT INTO campaign_quota_rules (campaign_id, position, households_min, wording)
        VALUES (NEW.id, 1, 1, 'Mỗi cơ quan, đơn vị giúp 01 hộ');
        INSERT INTO campaign_support_forms (campaign_id, form, position, label, report_group)
        VALUES (NEW.id, 'livestock', 1, 'Con giống', 'Con giống'),
               (NEW.id, 'seedlings', 2, 'Cây giống', 'Cây giống'),
               (NEW.id, 'tools', 3, 'Công cụ sản xuất', 'Công cụ sản xuất'),
               (NEW.id, 'house_repair', 4, 'Sửa chữa nhà', 'Sửa chữa nhà'),
               (NEW.id, 'cash', 5, 'Tiền mặt', 'Tiền mặt'),
               (NEW.id, 'training', 6, 'Tập huấn kỹ thuật', 'Tập huấn kỹ thuật'),
               (NEW.id, 'other', 7, 'Khác', 'Khác');
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER campaigns_start_with_rules AFTER INSERT ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaigns_start_with_rules();

-- The named-school flag is now the named list of the 2024 rule.
ALTER TABLE agencies DROP CONSTRAINT agencies_named_school_is_school;
ALTER TABLE agencies DROP COLUMN named_school;
