-- The password policy and session lifetimes as settings the console edits (the defaults are
-- what the code held until now). Bounds keep them inside what NIST 800-63B and OWASP ASVS
-- allow: at least 8 characters and a zxcvbn score of 3; idle from 5 minutes to a day;
-- a sign-in lasting from 1 hour to 30 days.
ALTER TABLE auth_settings
    ADD COLUMN password_min_length integer NOT NULL DEFAULT 8
        CHECK (password_min_length BETWEEN 8 AND 64),
    ADD COLUMN password_min_strength integer NOT NULL DEFAULT 3
        CHECK (password_min_strength BETWEEN 3 AND 4),
    ADD COLUMN session_idle_minutes integer NOT NULL DEFAULT 30
        CHECK (session_idle_minutes BETWEEN 5 AND 1440),
    ADD COLUMN session_max_hours integer NOT NULL DEFAULT 12
        CHECK (session_max_hours BETWEEN 1 AND 720),
    ADD CONSTRAINT auth_settings_idle_within_max CHECK (session_idle_minutes <= session_max_hours * 60);
