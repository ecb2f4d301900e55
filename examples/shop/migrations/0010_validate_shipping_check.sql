-- VALIDATE CONSTRAINT scans the table under SHARE UPDATE EXCLUSIVE: reads and writes go on.
SET lock_timeout = '5s';

ALTER TABLE orders VALIDATE CONSTRAINT orders_shipped_after_created;
