-- The import preview's check for "the same head of household in the same village" (R4, probable):
-- one index probe per row.
CREATE INDEX households_village_name_key_idx ON households (village_id, head_name_key) WHERE merged_into IS NULL;
