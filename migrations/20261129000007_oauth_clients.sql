-- Partner apps (OAuth 2.0 / OpenID Connect clients) of the built-in OpenID provider.

CREATE TABLE oauth_clients (
    id                         text PRIMARY KEY,
    name                       text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    logo_uri                   text,
    -- confidential: a server-side web app with a secret; public: a browser or native app
    -- (PKCE, no secret); service: machine to machine (client_credentials only).
    client_type                text NOT NULL CHECK (client_type IN ('confidential', 'public', 'service')),
    -- HMAC-SHA-256 of the secret under a key derived from the master key (secrets are
    -- high-entropy, so a fast keyed hash suffices); NULL for public clients.
    secret_hash                bytea,
    redirect_uris              text[] NOT NULL DEFAULT '{}',
    post_logout_redirect_uris  text[] NOT NULL DEFAULT '{}',
    backchannel_logout_uri     text,
    grant_types                text[] NOT NULL,
    scopes                     text[] NOT NULL,
    id_token_alg               text NOT NULL DEFAULT 'RS256' CHECK (id_token_alg IN ('RS256', 'ES256', 'EdDSA')),
    access_token_ttl_secs      integer NOT NULL DEFAULT 600 CHECK (access_token_ttl_secs BETWEEN 60 AND 86400),
    refresh_token_ttl_secs     integer NOT NULL DEFAULT 2592000 CHECK (refresh_token_ttl_secs BETWEEN 300 AND 31536000),
    -- First-party apps skip the consent screen.
    first_party                boolean NOT NULL DEFAULT false,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    CHECK ((client_type = 'public') = (secret_hash IS NULL))
);
