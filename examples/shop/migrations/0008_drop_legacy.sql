SET lock_timeout = '5s';

-- safemig: ignore drop-column — legacy_notes has not been read or written since release 2024.06 (PR #412)
ALTER TABLE users DROP COLUMN legacy_notes;

DROP TABLE cart_items_archive;

-- The UNIQUE constraint from 0003 has its own index; this one is redundant now.
DROP INDEX users_email_idx;

-- Give back the space legacy_notes took.
VACUUM FULL users;
