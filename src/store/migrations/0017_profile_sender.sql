-- 0017: a sending profile's default sender (SPEC E7; GoPhish's SMTP
-- from_address).  "Name <local@domain>" or "local@domain"; '' = none.  A
-- campaign created without a sender takes it (docs/API.md).
ALTER TABLE sending_profiles ADD COLUMN from_address TEXT NOT NULL DEFAULT '';
