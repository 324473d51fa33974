//! What a social provider's configuration must be: the presets (Google, Apple, Microsoft as
//! OpenID Connect; GitHub as plain OAuth 2.0) with their issuers, names and scopes, or any other
//! OpenID provider by its issuer; ids, issuers and scopes checked before anything is stored.

use url::Url;

/// Which protocol and preset a provider uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Oidc,
    Google,
    Apple,
    Microsoft,
    Github,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Oidc,
        Kind::Google,
        Kind::Apple,
        Kind::Microsoft,
        Kind::Github,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Oidc => "oidc",
            Self::Google => "google",
            Self::Apple => "apple",
            Self::Microsoft => "microsoft",
            Self::Github => "github",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the provider speaks OpenID Connect (ID tokens, discovery).
    pub fn is_oidc(self) -> bool {
        self != Self::Github
    }

    fn default_name(self) -> &'static str {
        match self {
            Self::Oidc => "OpenID",
            Self::Google => "Google",
            Self::Apple => "Apple",
            Self::Microsoft => "Microsoft",
            Self::Github => "GitHub",
        }
    }

    fn default_scopes(self) -> &'static str {
        match self {
            Self::Oidc | Self::Google | Self::Microsoft => "openid email profile",
            // Apple sends the name only once, and email only with form_post.
            Self::Apple => "openid email name",
            Self::Github => "read:user user:email",
        }
    }

    fn preset_issuer(self, tenant: Option<&str>) -> Option<String> {
        match self {
            Self::Google => Some("https://accounts.google.com".into()),
            Self::Apple => Some("https://appleid.apple.com".into()),
            Self::Microsoft => Some(format!(
                "https://login.microsoftonline.com/{}/v2.0",
                tenant.unwrap_or("common")
            )),
            Self::Oidc | Self::Github => None,
        }
    }
}

/// Why a provider configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderConfigError {
    #[error("the id must be 1-32 lower-case letters, digits or dashes")]
    BadId,
    #[error("unknown kind; use one of oidc, google, apple, microsoft, github")]
    BadKind,
    #[error("an 'oidc' provider needs --issuer")]
    MissingIssuer,
    #[error("the issuer must be an https URL (http only for localhost)")]
    BadIssuer,
    #[error("the client id must not be empty")]
    MissingClientId,
    #[error("the display name must be 1-60 characters")]
    BadName,
    #[error("the scopes of an OpenID provider must include 'openid'")]
    MissingOpenidScope,
    #[error("a provider with this id exists already")]
    Exists,
}

/// What `server social add` is given.
#[derive(Debug, Clone, Default)]
pub struct NewProvider {
    pub id: String,
    pub kind: String,
    pub display_name: Option<String>,
    pub issuer: Option<String>,
    pub tenant: Option<String>,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub scopes: Option<String>,
}

/// A provider as listings show it.
/// Accepts `https://…`, or `http://` for localhost (development and tests); no trailing slash.
fn parse_issuer(raw: &str) -> Result<String, ProviderConfigError> {
    let issuer = raw.trim().trim_end_matches('/');
    let url = Url::parse(issuer).map_err(|_| ProviderConfigError::BadIssuer)?;
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    let ok = (url.scheme() == "https" || (url.scheme() == "http" && local))
        && url.query().is_none()
        && url.fragment().is_none();
    if !ok {
        return Err(ProviderConfigError::BadIssuer);
    }
    Ok(issuer.to_owned())
}

fn valid_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
}

/// Checks `new` and fills in the preset's issuer, name and scopes.
pub(super) fn resolve(
    new: &NewProvider,
) -> Result<(Kind, String, Option<String>, String), ProviderConfigError> {
    if !valid_id(&new.id) {
        return Err(ProviderConfigError::BadId);
    }
    let kind = Kind::parse(&new.kind).ok_or(ProviderConfigError::BadKind)?;
    let issuer = match (kind, &new.issuer) {
        (Kind::Github, _) => None,
        (Kind::Oidc, None) => return Err(ProviderConfigError::MissingIssuer),
        (_, Some(issuer)) => Some(parse_issuer(issuer)?),
        (_, None) => kind.preset_issuer(new.tenant.as_deref()),
    };
    if new.client_id.trim().is_empty() {
        return Err(ProviderConfigError::MissingClientId);
    }
    let name = new
        .display_name
        .as_deref()
        .unwrap_or(kind.default_name())
        .trim()
        .to_owned();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ProviderConfigError::BadName);
    }
    let scopes = parse_scopes(kind, new.scopes.as_deref().unwrap_or(kind.default_scopes()))?;
    Ok((kind, name, issuer, scopes))
}

/// Space-separated scopes, normalised; an OpenID provider's must include `openid`.
pub(super) fn parse_scopes(kind: Kind, raw: &str) -> Result<String, ProviderConfigError> {
    let scopes = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if kind.is_oidc() && !scopes.split(' ').any(|s| s == "openid") {
        return Err(ProviderConfigError::MissingOpenidScope);
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(kind: &str) -> NewProvider {
        NewProvider {
            id: "up".into(),
            kind: kind.into(),
            client_id: "client".into(),
            ..Default::default()
        }
    }

    #[test]
    fn presets_fill_in_issuer_name_and_scopes() {
        let (kind, name, issuer, scopes) = resolve(&new("google")).unwrap();
        assert_eq!(kind, Kind::Google);
        assert_eq!(name, "Google");
        assert_eq!(issuer.as_deref(), Some("https://accounts.google.com"));
        assert_eq!(scopes, "openid email profile");
        let (_, _, issuer, _) = resolve(&NewProvider {
            tenant: Some("contoso.onmicrosoft.com".into()),
            ..new("microsoft")
        })
        .unwrap();
        assert_eq!(
            issuer.as_deref(),
            Some("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0")
        );
        let (_, name, issuer, scopes) = resolve(&new("github")).unwrap();
        assert_eq!((name.as_str(), issuer), ("GitHub", None));
        assert_eq!(scopes, "read:user user:email");
    }

    #[test]
    fn bad_configurations_are_refused() {
        assert_eq!(
            resolve(&new("oidc")).unwrap_err(),
            ProviderConfigError::MissingIssuer
        );
        assert_eq!(
            resolve(&new("saml")).unwrap_err(),
            ProviderConfigError::BadKind
        );
        for issuer in [
            "http://idp.example.com",
            "ftp://x",
            "https://x/?a=b",
            "nope",
        ] {
            let p = NewProvider {
                issuer: Some(issuer.into()),
                ..new("oidc")
            };
            assert_eq!(
                resolve(&p).unwrap_err(),
                ProviderConfigError::BadIssuer,
                "{issuer}"
            );
        }
        let local = NewProvider {
            issuer: Some("http://localhost:4000/".into()),
            ..new("oidc")
        };
        assert_eq!(
            resolve(&local).unwrap().2.as_deref(),
            Some("http://localhost:4000")
        );
        for id in ["", "Upper", "-x", "a b", &"x".repeat(33)] {
            let p = NewProvider {
                id: id.into(),
                ..new("google")
            };
            assert_eq!(resolve(&p).unwrap_err(), ProviderConfigError::BadId, "{id}");
        }
        let p = NewProvider {
            scopes: Some("email".into()),
            ..new("google")
        };
        assert_eq!(
            resolve(&p).unwrap_err(),
            ProviderConfigError::MissingOpenidScope
        );
        let p = NewProvider {
            client_id: " ".into(),
            ..new("google")
        };
        assert_eq!(
            resolve(&p).unwrap_err(),
            ProviderConfigError::MissingClientId
        );
    }
}
