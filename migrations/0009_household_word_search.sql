-- The household list searches by words: every typed word must be a word of the normalised
-- name, in any order ("hoang thu" finds "Hoàng Văn Thụ"). A word index answers that far faster
-- than trigrams at a million households (trigrams stay for the fuzzy duplicate check).
ALTER TABLE households
    ADD COLUMN head_name_words tsvector GENERATED ALWAYS AS (to_tsvector('simple', normalize_name(head_name))) STORED;
CREATE INDEX households_head_name_words_idx ON households USING gin (head_name_words);
-- Searching by household code across communes.
CREATE INDEX households_household_code_idx ON households (household_code) WHERE household_code IS NOT NULL;
-- The plain trigram index is superseded by the commune + trigram index of 0008 for duplicates.
DROP INDEX households_head_name_key_trgm_idx;
