-- Look users up by email, and make emails unique.
CREATE INDEX users_email_idx ON users (email);

ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
