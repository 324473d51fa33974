-- The language a person reads and the time zone their moments are shown in.
ALTER TABLE users
  ADD COLUMN locale text CHECK (locale ~ '^[a-z]{2,3}$'),
  ADD COLUMN time_zone text CHECK (length(time_zone) BETWEEN 1 AND 64);
