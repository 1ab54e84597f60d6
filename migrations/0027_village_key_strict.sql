-- village_key(NULL) looped for ever: `rest = k` is NULL for a NULL name, and `EXIT WHEN NULL` does
-- not exit, so the backend spun at full CPU until cancelled (found when sqlx's query! macro
-- planned a statement with NULL parameters). STRICT makes a NULL name give NULL at once, as every
-- other function of the name and village rules does.
ALTER FUNCTION village_key(text) STRICT;
