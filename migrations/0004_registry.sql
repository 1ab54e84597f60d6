-- Agencies (R2). The quota is computed from kind, staff count and the named-school flag
-- (domain::quota); only a clerk's override with its reason is stored.
CREATE TABLE agencies (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text NOT NULL CONSTRAINT agencies_name_length CHECK (char_length(btrim(name)) BETWEEN 1 AND 200),
    kind            text NOT NULL CONSTRAINT agencies_kind_valid CHECK (kind IN (
                        'department', 'state_agency', 'fatherland_front', 'mass_organisation', 'school',
                        'armed_forces', 'commune_committee', 'business', 'business_association')),
    staff_count     integer NOT NULL CONSTRAINT agencies_staff_count_range CHECK (staff_count BETWEEN 0 AND 100000),
    named_school    boolean NOT NULL DEFAULT false,
    commune_code    text CONSTRAINT agencies_commune_fkey REFERENCES communes (code),
    contact_person  text CONSTRAINT agencies_contact_person_length CHECK (char_length(contact_person) <= 120),
    phone           text CONSTRAINT agencies_phone_format CHECK (phone ~ '^[0-9+ .-]{6,20}$'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT agencies_name_key UNIQUE (name),
    CONSTRAINT agencies_named_school_is_school CHECK (NOT named_school OR kind = 'school'),
    CONSTRAINT agencies_commune_committee_has_commune CHECK ((kind = 'commune_committee') = (commune_code IS NOT NULL))
);

-- A clerk's override of the computed quota for one campaign, with the recorded reason.
CREATE TABLE agency_quota_overrides (
    campaign_id  uuid NOT NULL CONSTRAINT agency_quota_overrides_campaign_fkey REFERENCES campaigns (id) ON DELETE CASCADE,
    agency_id    uuid NOT NULL CONSTRAINT agency_quota_overrides_agency_fkey REFERENCES agencies (id) ON DELETE CASCADE,
    quota        integer NOT NULL CONSTRAINT agency_quota_overrides_quota_range CHECK (quota BETWEEN 0 AND 100),
    reason       text NOT NULL CONSTRAINT agency_quota_overrides_reason_not_blank CHECK (btrim(reason) <> ''),
    CONSTRAINT agency_quota_overrides_pkey PRIMARY KEY (campaign_id, agency_id)
);

-- Households: the fields of domain.md. The CCCD is personal data (masked for most users).
CREATE TABLE households (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    commune_code    text NOT NULL CONSTRAINT households_commune_fkey REFERENCES communes (code),
    village_id      uuid NOT NULL CONSTRAINT households_village_fkey REFERENCES villages (id),
    head_name       text NOT NULL CONSTRAINT households_head_name_length CHECK (char_length(btrim(head_name)) BETWEEN 2 AND 120),
    birth_year      integer CONSTRAINT households_birth_year_range CHECK (birth_year BETWEEN 1900 AND 2100),
    gender          text CONSTRAINT households_gender_valid CHECK (gender IN ('male', 'female')),
    cccd            text CONSTRAINT households_cccd_format CHECK (cccd ~ '^[0-9]{12}$'),
    household_code  text CONSTRAINT households_household_code_length CHECK (char_length(btrim(household_code)) BETWEEN 1 AND 40),
    ethnicity       text NOT NULL CONSTRAINT households_ethnicity_valid CHECK (ethnicity IN ('nung', 'tay', 'kinh', 'dao', 'hoa', 'other')),
    members         integer NOT NULL CONSTRAINT households_members_range CHECK (members BETWEEN 1 AND 50),
    status          text NOT NULL CONSTRAINT households_status_valid CHECK (status IN ('poor', 'near_poor', 'escaped')),
    status_year     integer NOT NULL CONSTRAINT households_status_year_range CHECK (status_year BETWEEN 2000 AND 2100),
    lacks_capital   boolean NOT NULL DEFAULT false,
    lacks_land      boolean NOT NULL DEFAULT false,
    lacks_labour    boolean NOT NULL DEFAULT false,
    lacks_technique boolean NOT NULL DEFAULT false,
    illness         boolean NOT NULL DEFAULT false,
    other_needs     text CONSTRAINT households_other_needs_length CHECK (char_length(other_needs) <= 500),
    will_to_escape  boolean NOT NULL DEFAULT false,
    phone           text CONSTRAINT households_phone_format CHECK (phone ~ '^[0-9+ .-]{6,20}$'),
    notes           text CONSTRAINT households_notes_length CHECK (char_length(notes) <= 2000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX households_cccd_key ON households (cccd) WHERE cccd IS NOT NULL;
CREATE UNIQUE INDEX households_household_code_key ON households (commune_code, household_code) WHERE household_code IS NOT NULL;
CREATE INDEX households_village_idx ON households (village_id);
CREATE INDEX households_commune_idx ON households (commune_code);
CREATE INDEX households_head_name_trgm_idx ON households USING gin (normalize_name(head_name) gin_trgm_ops);

-- The household's poverty status year by year (R8: poor → near-poor → escaped).
CREATE TABLE household_status_history (
    household_id uuid NOT NULL CONSTRAINT household_status_history_household_fkey REFERENCES households (id) ON DELETE CASCADE,
    year         integer NOT NULL CONSTRAINT household_status_history_year_range CHECK (year BETWEEN 2000 AND 2100),
    status       text NOT NULL CONSTRAINT household_status_history_status_valid CHECK (status IN ('poor', 'near_poor', 'escaped')),
    CONSTRAINT household_status_history_pkey PRIMARY KEY (household_id, year)
);

-- A sponsorship: one agency, or a joint group led by one agency, adopts one household in one
-- campaign. R4: at most one sponsorship per household per campaign, enforced here.
CREATE TABLE sponsorships (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    campaign_id     uuid NOT NULL CONSTRAINT sponsorships_campaign_fkey REFERENCES campaigns (id),
    household_id    uuid NOT NULL CONSTRAINT sponsorships_household_fkey REFERENCES households (id),
    lead_agency_id  uuid NOT NULL CONSTRAINT sponsorships_lead_agency_fkey REFERENCES agencies (id),
    state           text NOT NULL CONSTRAINT sponsorships_state_valid CHECK (state IN (
                        'proposed', 'confirmed', 'rejected', 'delivering', 'target_reached', 'follow_up', 'cancelled')),
    support_form    text NOT NULL CONSTRAINT sponsorships_support_form_valid CHECK (support_form IN (
                        'livestock', 'seedlings', 'tools', 'house_repair', 'cash', 'training', 'other')),
    support_summary text NOT NULL CONSTRAINT sponsorships_support_summary_length CHECK (char_length(support_summary) BETWEEN 1 AND 500),
    pledged_value   bigint NOT NULL CONSTRAINT sponsorships_pledged_value_range CHECK (pledged_value BETWEEN 0 AND 10000000000),
    delivered_value bigint NOT NULL DEFAULT 0 CONSTRAINT sponsorships_delivered_value_range CHECK (delivered_value BETWEEN 0 AND 10000000000),
    note            text CONSTRAINT sponsorships_note_length CHECK (char_length(note) <= 2000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sponsorships_campaign_household_key UNIQUE (campaign_id, household_id)
);
CREATE INDEX sponsorships_household_idx ON sponsorships (household_id);
CREATE INDEX sponsorships_lead_agency_idx ON sponsorships (lead_agency_id);

-- Members of a sponsorship: the lead plus, for a joint group, 1–3 other agencies.
CREATE TABLE sponsorship_agencies (
    sponsorship_id uuid NOT NULL CONSTRAINT sponsorship_agencies_sponsorship_fkey REFERENCES sponsorships (id) ON DELETE CASCADE,
    agency_id      uuid NOT NULL CONSTRAINT sponsorship_agencies_agency_fkey REFERENCES agencies (id),
    is_lead        boolean NOT NULL DEFAULT false,
    CONSTRAINT sponsorship_agencies_pkey PRIMARY KEY (sponsorship_id, agency_id)
);
CREATE INDEX sponsorship_agencies_agency_idx ON sponsorship_agencies (agency_id);
