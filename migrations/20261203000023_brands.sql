-- Brands: the default look of every page and mail, and one per partner app that has its own.
-- A partner's sign-in, registration and consent pages, and the mail sent during its flow,
-- wear that app's brand; everything else wears the default (the row without an app).
CREATE TABLE brands (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id        text UNIQUE REFERENCES oauth_clients (id) ON DELETE CASCADE,
    product_name     text NOT NULL CHECK (char_length(product_name) BETWEEN 1 AND 60),
    primary_color    text NOT NULL CHECK (primary_color ~ '^#[0-9a-f]{6}$'),
    accent_color     text NOT NULL CHECK (accent_color ~ '^#[0-9a-f]{6}$'),
    background_color text NOT NULL CHECK (background_color ~ '^#[0-9a-f]{6}$'),
    text_color       text NOT NULL CHECK (text_color ~ '^#[0-9a-f]{6}$'),
    font             text NOT NULL CHECK (font IN ('system', 'humanist', 'serif', 'rounded', 'mono')),
    -- Custom CSS variables, name to value, checked by the server before they are stored.
    css_vars         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(css_vars) = 'object'),
    -- Page texts; empty means the built-in wording.
    signin_heading   text NOT NULL DEFAULT '' CHECK (char_length(signin_heading) <= 120),
    signin_intro     text NOT NULL DEFAULT '' CHECK (char_length(signin_intro) <= 400),
    register_heading text NOT NULL DEFAULT '' CHECK (char_length(register_heading) <= 120),
    register_intro   text NOT NULL DEFAULT '' CHECK (char_length(register_intro) <= 400),
    consent_intro    text NOT NULL DEFAULT '' CHECK (char_length(consent_intro) <= 400),
    footer_text      text NOT NULL DEFAULT '' CHECK (char_length(footer_text) <= 400),
    -- Mail: the sender's display name and a closing added under every message.
    mail_sender_name text NOT NULL CHECK (char_length(mail_sender_name) BETWEEN 1 AND 60),
    mail_footer      text NOT NULL DEFAULT '' CHECK (char_length(mail_footer) <= 1000),
    -- The uploaded logo (PNG, JPEG, GIF or WebP, checked by its bytes), served from this site.
    logo             bytea CHECK (octet_length(logo) <= 262144),
    logo_type        text CHECK (logo_type IN ('image/png', 'image/jpeg', 'image/gif', 'image/webp')),
    CHECK ((logo IS NULL) = (logo_type IS NULL)),
    -- Bumped on every change; the stylesheet and logo addresses carry it, so caches turn over.
    version          integer NOT NULL DEFAULT 1,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- Exactly one default brand.
CREATE UNIQUE INDEX brands_one_default ON brands ((true)) WHERE client_id IS NULL;

INSERT INTO brands (product_name, primary_color, accent_color, background_color, text_color,
                    font, mail_sender_name)
SELECT product_name, lower(primary_color), lower(accent_color), '#f3f4f8', '#1c2033',
       'system', product_name
FROM branding;

DROP TABLE branding;

-- The brand a queued message wears, for its sender's display name.
ALTER TABLE mail_outbox ADD COLUMN sender_name text;
