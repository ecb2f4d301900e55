SET lock_timeout = '5s';

ALTER TABLE orders RENAME COLUMN total_cents TO amount_cents;

ALTER TABLE products ALTER COLUMN price_cents TYPE bigint;

ALTER TABLE users ALTER COLUMN country SET NOT NULL;
