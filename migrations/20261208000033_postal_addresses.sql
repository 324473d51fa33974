-- A person's postal address (OpenID Connect Core §5.1.1), in a table of its own: only people
-- who gave one have a row, and it goes with the account. The parts are checked in the
-- application (`domain::postal_address::parse`); these checks are the last line.
CREATE TABLE postal_addresses (
    user_id        uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    street_address text CHECK (char_length(street_address) BETWEEN 1 AND 500
                               AND translate(street_address, E'\n', '') !~ '[[:cntrl:]]'),
    locality       text CHECK (char_length(locality) BETWEEN 1 AND 200
                               AND locality !~ '[[:cntrl:]]'),
    region         text CHECK (char_length(region) BETWEEN 1 AND 200
                               AND region !~ '[[:cntrl:]]'),
    postal_code    text CHECK (char_length(postal_code) BETWEEN 1 AND 200
                               AND postal_code !~ '[[:cntrl:]]'),
    country        text CHECK (char_length(country) BETWEEN 2 AND 100
                               AND country !~ '[[:cntrl:]]'),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nonnulls(street_address, locality, region, postal_code, country) > 0)
);

-- Apps that sign people in may ask for the `address` scope.
UPDATE oauth_clients SET scopes = array_append(scopes, 'address')
WHERE client_type <> 'service' AND NOT 'address' = ANY (scopes);
