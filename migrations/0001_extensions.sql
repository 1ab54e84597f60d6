-- Vietnamese-aware search: unaccent maps đ→d and strips tone and vowel marks; pg_trgm gives
-- trigram similarity and GIN indexes for "same name spelled differently".
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- unaccent() is only STABLE (its dictionary could change), so it cannot back an index. This
-- wrapper names the dictionary explicitly, which makes declaring it IMMUTABLE sound.
CREATE FUNCTION public.giupdo_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN public.unaccent('public.unaccent'::regdictionary, $1);

-- The one normalisation of names (mirrored in Rust by domain::text::normalize_name):
-- lower case, diacritics removed, punctuation dropped, spaces collapsed and trimmed.
CREATE FUNCTION public.normalize_name(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN btrim(regexp_replace(
        regexp_replace(lower(public.giupdo_unaccent($1)), '[^a-z0-9 ]+', ' ', 'g'),
        '\s+', ' ', 'g'));
