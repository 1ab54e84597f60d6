-- Issue #18: the effectiveness report groups sponsorships by their main form of support. The
-- stored forms are broad ("livestock"); the animal is in the item's text, typed by people
-- ("01 con bò cái", "Bo giong", "lợn nái"), so it is matched on the normalised words. The list of
-- groups and their labels is domain::effectiveness::GROUPS (a test checks the two agree).
CREATE FUNCTION public.support_group(form text, item text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN form = 'livestock' THEN CASE
            WHEN public.normalize_name(item) ~ '\m(bo|trau|be|nghe)\M' THEN 'cattle'
            WHEN public.normalize_name(item) ~ '\m(lon|heo)\M' THEN 'pigs'
            WHEN public.normalize_name(item) ~ '\m(de|cuu)\M' THEN 'goats'
            WHEN public.normalize_name(item) ~ '\m(ga|vit|ngan|ngong|gia cam)\M' THEN 'poultry'
            ELSE 'other' END
        WHEN form = 'seedlings' THEN 'seedlings'
        WHEN form = 'tools' THEN 'tools'
        WHEN form = 'house_repair' THEN 'housing'
        WHEN form = 'cash' THEN 'cash'
        ELSE 'other' END;


-- Each support line's group, computed once when the line is written (the function reads the
-- item through unaccent and regular expressions: 2 s over 500.000 lines if done per report).
ALTER TABLE support_lines
    ADD COLUMN support_group text NOT NULL GENERATED ALWAYS AS (public.support_group(form, item)) STORED;

-- The effectiveness report reads one narrow row per sponsorship, kept by the database itself:
-- the main group (the line of the largest value), the first official "escaped" year after the
-- campaign's year and the last official status after it, and what its latest visit counted.
-- Computing these per report joined 500.000 sponsorships with every household's status history:
-- 3–5 s on two cores. Statement-level triggers recompute the rows a statement touches.
CREATE TABLE effectiveness_facts (
    sponsorship_id  uuid PRIMARY KEY CONSTRAINT effectiveness_facts_sponsorship_fkey
                        REFERENCES sponsorships (id) ON DELETE CASCADE,
    year            integer NOT NULL,
    state           text NOT NULL,
    commune_code    text NOT NULL,
    support_group   text NOT NULL,
    delivered_value bigint NOT NULL,
    escaped_in      integer,
    -- The last official status after the campaign's year: 1 poor, 2 near-poor, 3 escaped; NULL
    -- when no review came after it.
    last_status     smallint,
    received        integer,
    born            integer,
    died            integer,
    sold            integer,
    trees_surviving integer
);
CREATE INDEX effectiveness_facts_year_idx ON effectiveness_facts (year);
-- The latest official review year, read by every effectiveness report.
CREATE INDEX household_status_history_official_year_idx ON household_status_history (year)
    WHERE source = 'official';

CREATE FUNCTION effectiveness_refresh(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO effectiveness_facts AS f (sponsorship_id, year, state, commune_code, support_group,
        delivered_value, escaped_in, last_status, received, born, died, sold, trees_surviving)
    SELECT s.id, c.year, s.state, s.commune_code, coalesce(m.support_group, 'other'), s.delivered_value,
           o.escaped_in, o.last_status, v.received, v.born, v.died, v.sold, v.trees_surviving
    FROM sponsorships s
    JOIN campaigns c ON c.id = s.campaign_id
    LEFT JOIN LATERAL (SELECT l.support_group FROM support_lines l WHERE l.sponsorship_id = s.id
                       ORDER BY l.estimated_value DESC, l.position LIMIT 1) m ON true
    LEFT JOIN LATERAL (SELECT min(h.year) FILTER (WHERE h.status = 'escaped') AS escaped_in,
                              (max(h.year * 4 + CASE h.status WHEN 'poor' THEN 1 WHEN 'near_poor' THEN 2 ELSE 3 END) % 4)::smallint
                                  AS last_status
                       FROM household_status_history h
                       WHERE h.household_id = s.household_id AND h.year > c.year AND h.source = 'official') o ON true
    LEFT JOIN LATERAL (SELECT x.received, x.born, x.died, x.sold, x.trees_surviving FROM follow_up_visits x
                       WHERE x.sponsorship_id = s.id ORDER BY x.visited_on DESC, x.created_at DESC LIMIT 1) v ON true
    WHERE s.id = ANY (ids)
    ORDER BY s.id
    ON CONFLICT (sponsorship_id) DO UPDATE SET
        year = excluded.year, state = excluded.state, commune_code = excluded.commune_code,
        support_group = excluded.support_group, delivered_value = excluded.delivered_value,
        escaped_in = excluded.escaped_in, last_status = excluded.last_status, received = excluded.received,
        born = excluded.born, died = excluded.died, sold = excluded.sold, trees_surviving = excluded.trees_surviving;
$$;

-- Sponsorships: a new one, or one whose counted facts changed (an edit of its note moves nothing).
CREATE FUNCTION effectiveness_sponsorships() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM effectiveness_refresh(ARRAY(SELECT id FROM new_rows));
    ELSE
        PERFORM effectiveness_refresh(ARRAY(
            SELECT n.id FROM new_rows n JOIN old_rows o USING (id)
            WHERE (n.state, n.delivered_value, n.campaign_id, n.household_id, n.commune_code)
                  IS DISTINCT FROM (o.state, o.delivered_value, o.campaign_id, o.household_id, o.commune_code)));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sponsorships_effectiveness_insert AFTER INSERT ON sponsorships
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION effectiveness_sponsorships();
CREATE TRIGGER sponsorships_effectiveness_update AFTER UPDATE ON sponsorships
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION effectiveness_sponsorships();

-- Support lines and visits: their sponsorships.
CREATE FUNCTION effectiveness_by_sponsorship() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM effectiveness_refresh(ARRAY(SELECT DISTINCT sponsorship_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM effectiveness_refresh(ARRAY(SELECT DISTINCT sponsorship_id FROM old_rows));
    ELSE
        PERFORM effectiveness_refresh(ARRAY(SELECT sponsorship_id FROM new_rows
                                            UNION SELECT sponsorship_id FROM old_rows));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER support_lines_effectiveness_insert AFTER INSERT ON support_lines
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION effectiveness_by_sponsorship();
CREATE TRIGGER support_lines_effectiveness_update AFTER UPDATE ON support_lines
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION effectiveness_by_sponsorship();
CREATE TRIGGER support_lines_effectiveness_delete AFTER DELETE ON support_lines
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION effectiveness_by_sponsorship();
CREATE TRIGGER follow_up_visits_effectiveness_insert AFTER INSERT ON follow_up_visits
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION effectiveness_by_sponsorship();
CREATE TRIGGER follow_up_visits_effectiveness_update AFTER UPDATE ON follow_up_visits
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION effectiveness_by_sponsorship();
CREATE TRIGGER follow_up_visits_effectiveness_delete AFTER DELETE ON follow_up_visits
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION effectiveness_by_sponsorship();

-- Official statuses: every sponsorship of the households they belong to.
CREATE FUNCTION effectiveness_by_household() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM effectiveness_refresh(ARRAY(SELECT s.id FROM sponsorships s
            WHERE s.household_id IN (SELECT household_id FROM new_rows)));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM effectiveness_refresh(ARRAY(SELECT s.id FROM sponsorships s
            WHERE s.household_id IN (SELECT household_id FROM old_rows)));
    ELSE
        PERFORM effectiveness_refresh(ARRAY(SELECT s.id FROM sponsorships s
            WHERE s.household_id IN (SELECT household_id FROM new_rows UNION SELECT household_id FROM old_rows)));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER household_status_history_effectiveness_insert AFTER INSERT ON household_status_history
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION effectiveness_by_household();
CREATE TRIGGER household_status_history_effectiveness_update AFTER UPDATE ON household_status_history
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION effectiveness_by_household();
CREATE TRIGGER household_status_history_effectiveness_delete AFTER DELETE ON household_status_history
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION effectiveness_by_household();

-- A campaign's year moves its sponsorships' outcomes.
CREATE FUNCTION effectiveness_by_campaign() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM effectiveness_refresh(ARRAY(SELECT s.id FROM sponsorships s
        WHERE s.campaign_id IN (SELECT n.id FROM new_rows n JOIN old_rows o USING (id) WHERE n.year <> o.year)));
    RETURN NULL;
END $$;
CREATE TRIGGER campaigns_effectiveness_update AFTER UPDATE ON campaigns
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION effectiveness_by_campaign();

SELECT effectiveness_refresh(ARRAY(SELECT id FROM sponsorships));
