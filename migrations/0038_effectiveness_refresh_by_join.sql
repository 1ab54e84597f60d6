-- Issue #29: effectiveness_refresh(ids) selected `WHERE s.id = ANY (ids)`. Planned without the
-- array's length (a SQL function's parameter), PostgreSQL may drive the query from the campaigns
-- and test each sponsorship against the whole array: with the 290.000 ids of one bulk insert of
-- visits that was a linear search per row, and a statement of 13 s took many minutes in one run
-- of `giupdo-bench reports` (perf: uuid_eq under a bitmap heap scan). The ids are now joined as a
-- set (each once): one primary-key probe per id whatever plan the statistics of the moment suggest.
CREATE OR REPLACE FUNCTION effectiveness_refresh(ids uuid[])
 RETURNS void
 LANGUAGE sql
AS $$
    INSERT INTO effectiveness_facts AS f (sponsorship_id, year, state, commune_code, support_group,
        delivered_value, escaped_in, last_status, received, born, died, sold, trees_surviving,
        short_before, short_after)
    SELECT s.id, c.year, s.state, s.commune_code, coalesce(m.support_group, 'other'), s.delivered_value,
           o.escaped_in, o.last_status, v.received, v.born, v.died, v.sold, v.trees_surviving,
           pb.short_of, pa.short_of
    FROM (SELECT DISTINCT unnest(ids) AS id) i
    JOIN sponsorships s ON s.id = i.id
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
    LEFT JOIN LATERAL (SELECT p.short_of FROM household_profiles p
                       WHERE p.household_id = s.household_id AND p.review_year <= c.year
                       ORDER BY p.review_year DESC LIMIT 1) pb ON true
    LEFT JOIN LATERAL (SELECT p.short_of FROM household_profiles p
                       WHERE p.household_id = s.household_id AND p.review_year > c.year
                       ORDER BY p.review_year DESC LIMIT 1) pa ON true
    ORDER BY s.id
    ON CONFLICT (sponsorship_id) DO UPDATE SET
        year = excluded.year, state = excluded.state, commune_code = excluded.commune_code,
        support_group = excluded.support_group, delivered_value = excluded.delivered_value,
        escaped_in = excluded.escaped_in, last_status = excluded.last_status, received = excluded.received,
        born = excluded.born, died = excluded.died, sold = excluded.sold, trees_surviving = excluded.trees_surviving,
        short_before = excluded.short_before, short_after = excluded.short_after;
$$;
