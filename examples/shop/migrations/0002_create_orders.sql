CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id),
    total_cents bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- orders is new in this migration: a plain CREATE INDEX blocks nobody.
CREATE INDEX orders_created_at_idx ON orders (created_at);

-- Abandoned carts, kept for a while; 0008 drops the table.
CREATE TABLE cart_items_archive (
    id bigserial PRIMARY KEY,
    product_sku text NOT NULL,
    archived_at timestamptz NOT NULL
);
