-- Merging two records of one household (R4): the survivor keeps all history and sponsorships;
-- the merged record stays, marked, so that a clerk can undo the merge exactly.
ALTER TABLE households ADD COLUMN merged_into uuid CONSTRAINT households_merged_into_fkey REFERENCES households (id);
CREATE INDEX households_merged_into_idx ON households (merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE household_merges (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    survivor_id         uuid NOT NULL CONSTRAINT household_merges_survivor_fkey REFERENCES households (id),
    merged_id           uuid NOT NULL CONSTRAINT household_merges_merged_fkey REFERENCES households (id),
    user_id             uuid CONSTRAINT household_merges_user_fkey REFERENCES users (id),
    reason              text NOT NULL CONSTRAINT household_merges_reason_not_blank CHECK (btrim(reason) <> ''),
    moved_sponsorships  uuid[] NOT NULL DEFAULT '{}',
    moved_status_years  integer[] NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    undone_at           timestamptz,
    undone_by           uuid CONSTRAINT household_merges_undone_by_fkey REFERENCES users (id),
    CONSTRAINT household_merges_distinct CHECK (survivor_id <> merged_id)
);
-- A record can be merged away only once at a time.
CREATE UNIQUE INDEX household_merges_active_key ON household_merges (merged_id) WHERE undone_at IS NULL;
