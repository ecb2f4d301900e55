SET lock_timeout = '5s';

ALTER TABLE users ADD COLUMN tier text;

-- Fill the new column for everyone, in the same migration, in one statement.
UPDATE users SET tier = 'standard';
