-- Issue #16: one spelling for every stored text. A name pasted from a phone or a PDF arrives in
-- decomposed Unicode (a letter, then its marks), sometimes with no-break or zero-width spaces:
-- it matched (normalize_name folds it) but was stored as typed, so exports, Excel's filters and
-- other systems saw another string. The app now stores NFC with spaces collapsed
-- (domain::text::clean); clean_text() is the same in SQL (a test proves they agree), used here to
-- rewrite what is already stored and by triggers so that no path in can store another spelling.

CREATE FUNCTION public.clean_text(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN btrim(regexp_replace(
        regexp_replace(normalize(t, NFC), '[\u200B\u200C\u200D\uFEFF\u00AD\u2060]', '', 'g'),
        '[\s\u00A0\u0085\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+', ' ', 'g'));

-- Free text of several lines keeps its line breaks; each line's spaces are collapsed.
CREATE FUNCTION public.clean_multiline(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN btrim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        normalize(t, NFC), '[\u200B\u200C\u200D\uFEFF\u00AD\u2060]', '', 'g'),
        E'\r\n?', E'\n', 'g'),
        '[ \t\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]+', ' ', 'g'),
        E' ?\n ?', E'\n', 'g'), E' \n');

-- The identity fields, whatever path they come by.
CREATE FUNCTION households_clean_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.head_name := public.clean_text(NEW.head_name);
    NEW.household_code := public.clean_text(NEW.household_code);
    RETURN NEW;
END $$;
CREATE TRIGGER households_clean_text BEFORE INSERT OR UPDATE OF head_name, household_code ON households
    FOR EACH ROW EXECUTE FUNCTION households_clean_text();

CREATE FUNCTION name_clean_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.name := public.clean_text(NEW.name);
    RETURN NEW;
END $$;
CREATE TRIGGER villages_clean_text BEFORE INSERT OR UPDATE OF name ON villages
    FOR EACH ROW EXECUTE FUNCTION name_clean_text();
CREATE TRIGGER agencies_clean_text BEFORE INSERT OR UPDATE OF name ON agencies
    FOR EACH ROW EXECUTE FUNCTION name_clean_text();

-- What is stored already.
UPDATE households SET head_name = clean_text(head_name) WHERE head_name IS DISTINCT FROM clean_text(head_name);
UPDATE households SET household_code = clean_text(household_code)
    WHERE household_code IS DISTINCT FROM clean_text(household_code);
UPDATE households SET other_needs = clean_multiline(other_needs) WHERE other_needs IS DISTINCT FROM clean_multiline(other_needs);
UPDATE households SET notes = clean_multiline(notes) WHERE notes IS DISTINCT FROM clean_multiline(notes);
UPDATE villages SET name = clean_text(name) WHERE name IS DISTINCT FROM clean_text(name);
UPDATE agencies SET name = clean_text(name) WHERE name IS DISTINCT FROM clean_text(name);
UPDATE agencies SET contact_person = clean_text(contact_person)
    WHERE contact_person IS DISTINCT FROM clean_text(contact_person);
UPDATE users SET full_name = clean_text(full_name) WHERE full_name IS DISTINCT FROM clean_text(full_name);
UPDATE campaigns SET name = clean_text(name) WHERE name IS DISTINCT FROM clean_text(name);
UPDATE sponsorships SET support_summary = clean_multiline(support_summary)
    WHERE support_summary IS DISTINCT FROM clean_multiline(support_summary);
UPDATE sponsorships SET note = clean_multiline(note) WHERE note IS DISTINCT FROM clean_multiline(note);
UPDATE support_lines SET item = clean_text(item), unit = clean_text(unit)
    WHERE item IS DISTINCT FROM clean_text(item) OR unit IS DISTINCT FROM clean_text(unit);
UPDATE deliveries SET item = clean_text(item), unit = clean_text(unit), delivered_by = clean_text(delivered_by)
    WHERE item IS DISTINCT FROM clean_text(item) OR unit IS DISTINCT FROM clean_text(unit)
       OR delivered_by IS DISTINCT FROM clean_text(delivered_by);
UPDATE deliveries SET note = clean_multiline(note) WHERE note IS DISTINCT FROM clean_multiline(note);
UPDATE follow_up_visits SET findings = clean_multiline(findings), guidance = clean_multiline(guidance)
    WHERE findings IS DISTINCT FROM clean_multiline(findings) OR guidance IS DISTINCT FROM clean_multiline(guidance);
