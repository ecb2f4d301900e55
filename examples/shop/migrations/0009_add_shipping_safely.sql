-- The safe way. safemig has nothing to say about this file:
--   * a lock timeout, so a blocked ALTER gives up instead of queueing every query behind it;
--   * a nullable column without a default: a catalogue change, no table rewrite;
--   * the index built CONCURRENTLY, outside any transaction (this runner uses none);
--   * the CHECK added NOT VALID (no scan now); 0010 validates it without blocking writes.
SET lock_timeout = '5s';

ALTER TABLE orders ADD COLUMN shipped_at timestamptz;

CREATE INDEX CONCURRENTLY orders_shipped_at_idx ON orders (shipped_at);

ALTER TABLE orders
    ADD CONSTRAINT orders_shipped_after_created CHECK (shipped_at >= created_at) NOT VALID;
