-- Issue #18: photos as evidence of deliveries and follow-up visits, kept in PostgreSQL so that
-- `giupdo backup` / `restore` carry them. The server stores only what it re-encoded itself
-- (upright, no EXIF/GPS, at most 1600 px and ~300 KB, plus a ~20 KB thumbnail).
CREATE TABLE photos (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    sponsorship_id  uuid NOT NULL CONSTRAINT photos_sponsorship_fkey REFERENCES sponsorships (id) ON DELETE CASCADE,
    delivery_id     uuid CONSTRAINT photos_delivery_fkey REFERENCES deliveries (id) ON DELETE CASCADE,
    visit_id        uuid CONSTRAINT photos_visit_fkey REFERENCES follow_up_visits (id) ON DELETE CASCADE,
    width           integer NOT NULL CONSTRAINT photos_width_range CHECK (width BETWEEN 1 AND 1600),
    height          integer NOT NULL CONSTRAINT photos_height_range CHECK (height BETWEEN 1 AND 1600),
    jpeg            bytea NOT NULL CONSTRAINT photos_jpeg_size CHECK (octet_length(jpeg) BETWEEN 1 AND 1048576),
    thumb           bytea NOT NULL CONSTRAINT photos_thumb_size CHECK (octet_length(thumb) BETWEEN 1 AND 131072),
    uploaded_by     uuid CONSTRAINT photos_uploaded_by_fkey REFERENCES users (id),
    uploaded_at     timestamptz NOT NULL DEFAULT now(),
    -- A photo belongs to exactly one delivery or one visit.
    CONSTRAINT photos_one_owner CHECK (num_nonnulls(delivery_id, visit_id) = 1)
);
-- JPEG does not compress further: store it out of line without trying.
ALTER TABLE photos ALTER COLUMN jpeg SET STORAGE EXTERNAL;
ALTER TABLE photos ALTER COLUMN thumb SET STORAGE EXTERNAL;
CREATE INDEX photos_sponsorship_idx ON photos (sponsorship_id, uploaded_at);
CREATE INDEX photos_delivery_idx ON photos (delivery_id) WHERE delivery_id IS NOT NULL;
CREATE INDEX photos_visit_idx ON photos (visit_id) WHERE visit_id IS NOT NULL;

-- Whether the family agreed to be photographed; who recorded it and when (also in the audit log).
ALTER TABLE households
    ADD COLUMN photo_consent text NOT NULL DEFAULT 'not_asked'
        CONSTRAINT households_photo_consent_valid CHECK (photo_consent IN ('not_asked', 'agreed', 'refused')),
    ADD COLUMN photo_consent_by uuid CONSTRAINT households_photo_consent_by_fkey REFERENCES users (id),
    ADD COLUMN photo_consent_at timestamptz;
