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

