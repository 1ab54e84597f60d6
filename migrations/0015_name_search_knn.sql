-- The "Kiểm tra trùng hộ" search across all communes ranks names by trigram similarity. Through the
-- (commune, name) GIN index PostgreSQL had to score every household sharing trigrams with a common
-- name (thousands) before keeping the best 50: the costliest page of the load test. A GiST trigram
-- index returns households nearest first (`ORDER BY head_name_key <-> $1 LIMIT 50`) and stops
-- there: 25–31 ms became 13–14 ms at 100.000 households. It is one more index for imports to
-- write; the search is the page commune officials use most.
CREATE INDEX households_head_name_key_gist ON households USING gist (head_name_key gist_trgm_ops);
