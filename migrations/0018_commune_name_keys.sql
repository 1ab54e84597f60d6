-- The name dictionary per commune: every (commune, normalised name) that stands in the registry,
-- once, one partition per commune, so that the check as one types — always within one commune —
-- searches only its commune's trigram index instead of every name of the district. At 100.000
-- households a common name's lookup went from ~7 ms to ~1,5 ms; the check ran on every keystroke
-- and was, with the cross-commune search (which keeps `name_keys`), three quarters of PostgreSQL's
-- time in the load test. (Hash partitions were tried first: 19 communes in 16 partitions put up to
-- three communes in one, larger than the district's dictionary at 2.000.000 households.) Kept by
-- statement triggers like those of `name_keys` (0016); pairs are only added, never removed.

CREATE TABLE commune_name_keys (
    commune_code text NOT NULL,
    key          text NOT NULL CONSTRAINT commune_name_keys_not_empty CHECK (key <> ''),
    PRIMARY KEY (commune_code, key)
) PARTITION BY LIST (commune_code);

CREATE FUNCTION commune_name_keys_partition(code text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF commune_name_keys FOR VALUES IN (%L)',
                   'commune_name_keys_' || code, code);
END $$;

SELECT commune_name_keys_partition(code) FROM communes;
CREATE TABLE commune_name_keys_other PARTITION OF commune_name_keys DEFAULT;

-- A commune added later gets its partition before it has any household.
CREATE FUNCTION communes_add_name_partition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM commune_name_keys_partition(NEW.code);
    RETURN NULL;
END $$;
CREATE TRIGGER communes_name_partition AFTER INSERT ON communes
    FOR EACH ROW EXECUTE FUNCTION communes_add_name_partition();

INSERT INTO commune_name_keys (commune_code, key)
SELECT DISTINCT commune_code, head_name_key FROM households WHERE head_name_key <> '' ORDER BY 1, 2;

CREATE INDEX commune_name_keys_trgm ON commune_name_keys USING gin (key gin_trgm_ops);

-- Its own function and triggers beside those of `name_keys` (0016), in (commune, name) order.
CREATE FUNCTION commune_name_keys_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO commune_name_keys (commune_code, key)
    SELECT DISTINCT n.commune_code, n.head_name_key FROM new_rows n
    WHERE n.head_name_key <> ''
      AND NOT EXISTS (SELECT 1 FROM commune_name_keys k
                      WHERE k.commune_code = n.commune_code AND k.key = n.head_name_key)
    ORDER BY 1, 2
    ON CONFLICT (commune_code, key) DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER households_commune_name_keys_insert AFTER INSERT ON households
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION commune_name_keys_add();
CREATE TRIGGER households_commune_name_keys_update AFTER UPDATE ON households
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION commune_name_keys_add();
