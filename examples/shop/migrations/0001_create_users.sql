-- Users and the product catalogue. New tables take no locks anyone waits on, so only the type
-- hints speak here.
CREATE TABLE users (
    id serial PRIMARY KEY,
    email varchar(255) NOT NULL,
    name text NOT NULL,
    country char(2),
    preferences json,
    legacy_notes text,
    created_at timestamp NOT NULL DEFAULT now()
);

CREATE TABLE products (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku text NOT NULL UNIQUE,
    title text NOT NULL,
    price_cents integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
