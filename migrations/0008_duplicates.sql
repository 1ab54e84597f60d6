-- Duplicate household check (R4). btree_gin lets one GIN index hold the commune and the
-- trigrams of the normalised name, so "similar names in this commune" is one index scan even
-- with millions of households in the district.
CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA public;
CREATE INDEX households_commune_name_trgm_idx ON households USING gin (commune_code, head_name_key gin_trgm_ops);

-- Pairs a person has judged "not the same household": never suggested again.
CREATE TABLE duplicate_dismissals (
    household_a  uuid NOT NULL CONSTRAINT duplicate_dismissals_a_fkey REFERENCES households (id) ON DELETE CASCADE,
    household_b  uuid NOT NULL CONSTRAINT duplicate_dismissals_b_fkey REFERENCES households (id) ON DELETE CASCADE,
    user_id      uuid CONSTRAINT duplicate_dismissals_user_fkey REFERENCES users (id),
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT duplicate_dismissals_pkey PRIMARY KEY (household_a, household_b),
    CONSTRAINT duplicate_dismissals_ordered CHECK (household_a < household_b)
);
