-- Similar names: one GiST trigram index over (commune, normalised name) instead of the GIN index
-- of 0008. With the GIN index PostgreSQL scored every household sharing trigrams with a common
-- name before keeping the best 50, and the two duplicate queries (the check as one types, in a
-- commune; the "Kiểm tra trùng hộ" search, across communes) were three quarters of the database's
-- time in the load test. Measured at 100.000 households: a common name in its commune 15 ms with
-- the GIN index, 3,6 ms with this one; across communes, nearest first (`ORDER BY head_name_key <->
-- $1 LIMIT 50`), 25–31 ms before, 15–17 ms now. btree_gist lets the commune code sit in the same
-- GiST index.
CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;
CREATE INDEX households_commune_name_gist ON households USING gist (commune_code, head_name_key gist_trgm_ops);
DROP INDEX households_commune_name_trgm_idx;
