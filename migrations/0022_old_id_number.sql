-- Issue #16: the old 9-digit identity card number (CMND) many poor households' heads still
-- carry. It was refused as "a CCCD needs 12 digits" with no way forward; it is kept in its own
-- field and is an exact identifier for the duplicate check, as the CCCD is.
ALTER TABLE households
    ADD COLUMN old_id_number text CONSTRAINT households_old_id_number_format CHECK (old_id_number ~ '^[0-9]{9}$');
ALTER TABLE households ADD CONSTRAINT households_old_id_number_key UNIQUE (old_id_number);
