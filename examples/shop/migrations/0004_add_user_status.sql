ALTER TABLE users ADD COLUMN status text NOT NULL;

ALTER TABLE users ADD COLUMN referral_code uuid DEFAULT gen_random_uuid();

ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total_cents > 0);
