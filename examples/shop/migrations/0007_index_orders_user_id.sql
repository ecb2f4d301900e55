-- Someone knew to build the index CONCURRENTLY, but wrapped it in a transaction.
BEGIN;
CREATE INDEX CONCURRENTLY orders_user_id_idx ON orders (user_id);
COMMIT;
