-- Reports group and scope sponsorships by commune (issue #7). The commune is the household's at
-- the time of the sponsorship ("records keep the commune they were made under"), kept on the
-- sponsorship so a report over 2,000,000 households never has to read the households to group
-- or filter — and a key a distributed deployment can shard by.
ALTER TABLE sponsorships ADD COLUMN commune_code text CONSTRAINT sponsorships_commune_fkey REFERENCES communes (code);
UPDATE sponsorships s SET commune_code = h.commune_code FROM households h WHERE h.id = s.household_id;
ALTER TABLE sponsorships ALTER COLUMN commune_code SET NOT NULL;

CREATE FUNCTION sponsorships_set_commune() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT commune_code INTO NEW.commune_code FROM households WHERE id = NEW.household_id;
    RETURN NEW;
END $$;
CREATE TRIGGER sponsorships_set_commune BEFORE INSERT OR UPDATE OF household_id ON sponsorships
    FOR EACH ROW EXECUTE FUNCTION sponsorships_set_commune();

CREATE INDEX sponsorships_campaign_commune_idx ON sponsorships (campaign_id, commune_code);
