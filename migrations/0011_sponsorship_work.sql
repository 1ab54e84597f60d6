-- Sponsorships at work (issue #6): support lines, commune confirmation, late pledges, deliveries,
-- follow-up visits, and submission tokens that make a double-submitted form harmless.

-- R4 counts only live sponsorships: a rejected or cancelled pledge frees the household for
-- another agency. The unique index keeps the name the application maps to its message.
ALTER TABLE sponsorships DROP CONSTRAINT sponsorships_campaign_household_key;
CREATE UNIQUE INDEX sponsorships_campaign_household_key ON sponsorships (campaign_id, household_id)
    WHERE state NOT IN ('rejected', 'cancelled');

ALTER TABLE sponsorships
    ADD COLUMN pledged_on date NOT NULL DEFAULT (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date,
    -- R7: pledged after the campaign's registration deadline (accepted, marked).
    ADD COLUMN is_late boolean NOT NULL DEFAULT false,
    ADD COLUMN helped_before_reason text CONSTRAINT sponsorships_helped_before_reason_length CHECK (char_length(helped_before_reason) <= 500),
    ADD COLUMN decided_at timestamptz,
    ADD COLUMN decided_by uuid CONSTRAINT sponsorships_decided_by_fkey REFERENCES users (id),
    ADD COLUMN rejection_reason text CONSTRAINT sponsorships_rejection_reason_length CHECK (char_length(rejection_reason) <= 500),
    ADD COLUMN cancel_reason text CONSTRAINT sponsorships_cancel_reason_length CHECK (char_length(cancel_reason) <= 500),
    -- The form that created it: a second submission of the same form finds this row.
    ADD COLUMN submission uuid CONSTRAINT sponsorships_submission_key UNIQUE;

-- Rows written before reasons were recorded get a note saying so, then reasons are required.
UPDATE sponsorships SET rejection_reason = 'Không ghi lý do (ghi trước phiên bản có lý do)'
    WHERE state = 'rejected' AND rejection_reason IS NULL;
UPDATE sponsorships SET cancel_reason = 'Không ghi lý do (ghi trước phiên bản có lý do)'
    WHERE state = 'cancelled' AND cancel_reason IS NULL;

ALTER TABLE sponsorships
    ADD CONSTRAINT sponsorships_rejected_has_reason CHECK (state <> 'rejected' OR btrim(rejection_reason) <> ''),
    ADD CONSTRAINT sponsorships_cancelled_has_reason CHECK (state <> 'cancelled' OR btrim(cancel_reason) <> '');

CREATE INDEX sponsorships_campaign_state_idx ON sponsorships (campaign_id, state);

-- Each member's share of the pledged value (a joint group splits it; a lone agency holds all).
ALTER TABLE sponsorship_agencies
    ADD COLUMN share_value bigint NOT NULL DEFAULT 0 CONSTRAINT sponsorship_agencies_share_range CHECK (share_value BETWEEN 0 AND 10000000000);
CREATE UNIQUE INDEX sponsorship_agencies_one_lead_key ON sponsorship_agencies (sponsorship_id) WHERE is_lead;

-- The planned support, line by line (R6 values whole VND).
CREATE TABLE support_lines (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    sponsorship_id  uuid NOT NULL CONSTRAINT support_lines_sponsorship_fkey REFERENCES sponsorships (id) ON DELETE CASCADE,
    position        integer NOT NULL,
    form            text NOT NULL CONSTRAINT support_lines_form_valid CHECK (form IN (
                        'livestock', 'seedlings', 'tools', 'house_repair', 'cash', 'training', 'other')),
    item            text NOT NULL CONSTRAINT support_lines_item_length CHECK (char_length(btrim(item)) BETWEEN 1 AND 200),
    quantity        integer NOT NULL CONSTRAINT support_lines_quantity_range CHECK (quantity BETWEEN 1 AND 1000000),
    unit            text NOT NULL CONSTRAINT support_lines_unit_length CHECK (char_length(btrim(unit)) BETWEEN 1 AND 40),
    estimated_value bigint NOT NULL CONSTRAINT support_lines_value_range CHECK (estimated_value BETWEEN 1 AND 10000000000),
    CONSTRAINT support_lines_position_key UNIQUE (sponsorship_id, position)
);

-- R6: what was handed over. The sponsorship's delivered_value is their sum, kept in the same
-- transaction under the sponsorship's row lock.
CREATE TABLE deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    sponsorship_id  uuid NOT NULL CONSTRAINT deliveries_sponsorship_fkey REFERENCES sponsorships (id) ON DELETE CASCADE,
    agency_id       uuid NOT NULL CONSTRAINT deliveries_agency_fkey REFERENCES agencies (id),
    delivered_on    date NOT NULL,
    item            text NOT NULL CONSTRAINT deliveries_item_length CHECK (char_length(btrim(item)) BETWEEN 1 AND 200),
    quantity        integer NOT NULL CONSTRAINT deliveries_quantity_range CHECK (quantity BETWEEN 1 AND 1000000),
    unit            text NOT NULL CONSTRAINT deliveries_unit_length CHECK (char_length(btrim(unit)) BETWEEN 1 AND 40),
    unit_value      bigint NOT NULL CONSTRAINT deliveries_unit_value_range CHECK (unit_value BETWEEN 1 AND 10000000000),
    total_value     bigint NOT NULL CONSTRAINT deliveries_total_range CHECK (total_value BETWEEN 1 AND 10000000000),
    delivered_by    text NOT NULL CONSTRAINT deliveries_delivered_by_length CHECK (char_length(btrim(delivered_by)) BETWEEN 1 AND 120),
    record_number   text CONSTRAINT deliveries_record_number_length CHECK (char_length(record_number) <= 60),
    note            text CONSTRAINT deliveries_note_length CHECK (char_length(note) <= 1000),
    recorded_by     uuid CONSTRAINT deliveries_recorded_by_fkey REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    submission      uuid CONSTRAINT deliveries_submission_key UNIQUE,
    CONSTRAINT deliveries_total_is_product CHECK (total_value = quantity::bigint * unit_value)
);
CREATE INDEX deliveries_sponsorship_idx ON deliveries (sponsorship_id, delivered_on);

-- R8: visits to households helped in earlier campaigns.
CREATE TABLE follow_up_visits (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    sponsorship_id      uuid NOT NULL CONSTRAINT follow_up_visits_sponsorship_fkey REFERENCES sponsorships (id) ON DELETE CASCADE,
    visited_on          date NOT NULL,
    findings            text NOT NULL CONSTRAINT follow_up_visits_findings_length CHECK (char_length(btrim(findings)) BETWEEN 1 AND 2000),
    received            integer CONSTRAINT follow_up_visits_received_range CHECK (received BETWEEN 0 AND 1000000),
    born                integer CONSTRAINT follow_up_visits_born_range CHECK (born BETWEEN 0 AND 1000000),
    died                integer CONSTRAINT follow_up_visits_died_range CHECK (died BETWEEN 0 AND 1000000),
    sold                integer CONSTRAINT follow_up_visits_sold_range CHECK (sold BETWEEN 0 AND 1000000),
    trees_surviving     integer CONSTRAINT follow_up_visits_trees_range CHECK (trees_surviving BETWEEN 0 AND 10000000),
    guidance            text CONSTRAINT follow_up_visits_guidance_length CHECK (char_length(guidance) <= 1000),
    evaluation          text NOT NULL CONSTRAINT follow_up_visits_evaluation_valid CHECK (evaluation IN ('effective', 'partly', 'not_effective')),
    household_status    text NOT NULL CONSTRAINT follow_up_visits_status_valid CHECK (household_status IN ('poor', 'near_poor', 'escaped')),
    recorded_by         uuid CONSTRAINT follow_up_visits_recorded_by_fkey REFERENCES users (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    submission          uuid CONSTRAINT follow_up_visits_submission_key UNIQUE
);
CREATE INDEX follow_up_visits_sponsorship_idx ON follow_up_visits (sponsorship_id, visited_on);
