-- Issue #29: the household list pages by keyset (after the last household of a page, not by
-- OFFSET). "Mới thêm" orders by (created_at, id) both descending, so a page boundary is one row
-- comparison this index answers in its order, from either side.
DROP INDEX households_created_idx;
CREATE INDEX households_created_idx ON households (created_at DESC, id DESC);
