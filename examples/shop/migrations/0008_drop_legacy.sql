SET lock_timeout = '5s';

-- safemig: ignore drop-column — legacy_notes has not been read or written since release 2024.06 (PR #412)
ALTER TABLE users DROP COLUMN legacy_notes;

DROP TABLE cart_items_archive;
