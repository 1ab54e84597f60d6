-- The two sets of sponsorship states the rules name, defined once for SQL: a sponsorship that
-- *counts* (R3: confirmed by the commune and not cancelled — quotas, reports, the home page) and
-- one that is *live* (R4: it still holds its household in its campaign). They mirror
-- `domain::sponsorship::State::{counts, is_live}`; a test checks every state against both.
-- Plain SQL functions, IMMUTABLE: the planner inlines them, so `sponsorship_is_live(s.state)`
-- is the same predicate as before and still matches the partial unique index of migration 0011.

CREATE FUNCTION sponsorship_counts(state text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT state IN ('confirmed', 'delivering', 'target_reached', 'follow_up') $$;

CREATE FUNCTION sponsorship_is_live(state text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT state NOT IN ('rejected', 'cancelled') $$;
