-- A membership carries its sponsorship's campaign, so "this campaign's memberships" (quotas,
-- agencies taking part, joint groups) is an index range instead of a pass over every year's.
ALTER TABLE sponsorship_agencies ADD COLUMN campaign_id uuid CONSTRAINT sponsorship_agencies_campaign_fkey REFERENCES campaigns (id);
UPDATE sponsorship_agencies sa SET campaign_id = s.campaign_id FROM sponsorships s WHERE s.id = sa.sponsorship_id;
ALTER TABLE sponsorship_agencies ALTER COLUMN campaign_id SET NOT NULL;

CREATE FUNCTION sponsorship_agencies_set_campaign() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT campaign_id INTO NEW.campaign_id FROM sponsorships WHERE id = NEW.sponsorship_id;
    RETURN NEW;
END $$;
CREATE TRIGGER sponsorship_agencies_set_campaign BEFORE INSERT OR UPDATE OF sponsorship_id ON sponsorship_agencies
    FOR EACH ROW EXECUTE FUNCTION sponsorship_agencies_set_campaign();

-- A sponsorship's campaign never changes (a new campaign is a new sponsorship).
CREATE FUNCTION sponsorships_campaign_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a sponsorship''s campaign cannot change' USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER sponsorships_campaign_fixed BEFORE UPDATE OF campaign_id ON sponsorships
    FOR EACH ROW WHEN (OLD.campaign_id IS DISTINCT FROM NEW.campaign_id)
    EXECUTE FUNCTION sponsorships_campaign_fixed();

CREATE INDEX sponsorship_agencies_campaign_agency_idx ON sponsorship_agencies (campaign_id, agency_id) INCLUDE (is_lead);
