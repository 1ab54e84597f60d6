-- Word search ("hoang van thu" finds "Hoàng Văn Thụ" and "Thụ Văn Hoàng") through the name
-- dictionary of 0016 instead of a tsvector on every household (0009). At 1.000.000 households a
-- name made of common words intersected posting lists of 25.000 to 90.000 households each (53 ms
-- p95 for the list page); the dictionary holds each name once, so the same words intersect lists
-- of a few thousand names, and the households of the names found come through the b-tree on
-- (name, id) or (commune, name, id). Imports no longer compute and index a tsvector per row.
CREATE INDEX name_keys_words ON name_keys USING gin (to_tsvector('simple', key));
ALTER TABLE households DROP COLUMN head_name_words;
