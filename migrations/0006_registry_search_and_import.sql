-- Household list: sorted by normalised name, alone or within a commune, and newest first.
CREATE INDEX households_name_sort_idx ON households (normalize_name(head_name), id);
CREATE INDEX households_commune_name_sort_idx ON households (commune_code, normalize_name(head_name), id);
CREATE INDEX households_created_idx ON households (created_at DESC, id);
CREATE INDEX households_status_idx ON households (status, normalize_name(head_name), id);
DROP INDEX households_commune_idx; -- covered by households_commune_name_sort_idx

-- A file uploaded for import waits here between preview and confirmation; nothing reaches the
-- registry until the user confirms. Batches older than a day are of no use and are deleted.
CREATE TABLE import_batches (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL CONSTRAINT import_batches_user_fkey REFERENCES users (id),
    kind          text NOT NULL CONSTRAINT import_batches_kind_valid CHECK (kind IN ('households', 'history')),
    filename      text NOT NULL CONSTRAINT import_batches_filename_length CHECK (char_length(filename) <= 255),
    payload       bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    confirmed_at  timestamptz
);
CREATE INDEX import_batches_created_idx ON import_batches (created_at);
