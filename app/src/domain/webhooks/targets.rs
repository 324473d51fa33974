//! Where a webhook may be sent (against server-side request forgery, OWASP SSRF Prevention):
//! an https URL (plain http only for a subscription allowed private targets) without
//! credentials, whose host resolves only to public addresses. Loopback, private (RFC 1918),
//! link-local (RFC 3927, RFC 4291 §2.5.6), unique-local (RFC 4193), shared (CGNAT, RFC 6598),
//! unspecified, "this network", reserved, multicast and broadcast addresses refuse it unless
//! the subscription allows private targets. The check runs when a subscription is added and
//! again at every delivery (the name may have been pointed elsewhere since: DNS rebinding), and
//! the delivery connects to exactly the address that was checked.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::{Host, Url};

/// Why a URL may not receive webhooks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("the webhook URL is not a valid absolute URL")]
    NotAUrl,
    #[error(
        "the webhook URL must use https (plain http only with --allow-private, for a target on \
         a private network)"
    )]
    Scheme,
    #[error("the webhook URL must not carry a user name or password")]
    Credentials,
    #[error("the webhook URL must not have a fragment (#...)")]
    Fragment,
    #[error("the webhook URL has no host")]
    NoHost,
    #[error("the webhook URL's host {0} does not resolve")]
    Unresolved(String),
    #[error(
        "the webhook URL's host {host} is at {addr}, a loopback, private, link-local or other \
         non-public address (allowed only with --allow-private)"
    )]
    Private { host: String, addr: IpAddr },
}

/// A URL that passed the checks, and the one address to connect to.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: Url,
    /// The host as a name, when it is one (for pinning the connection to `addr`).
    pub domain: Option<String>,
    pub addr: SocketAddr,
}

/// The checks that need no lookup: a valid https URL (or http when `allow_private`), no
/// credentials, no fragment, a host.
pub fn parse(text: &str, allow_private: bool) -> Result<Url, TargetError> {
    let url = Url::parse(text.trim()).map_err(|_| TargetError::NotAUrl)?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err(TargetError::Scheme),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::Credentials);
    }
    if url.fragment().is_some() {
        return Err(TargetError::Fragment);
    }
    if url.host().is_none() {
        return Err(TargetError::NoHost);
    }
    Ok(url)
}

/// Checks `text` and resolves its host: every address it resolves to must be public unless
/// `allow_private` (a name with one private address among public ones is refused: whoever
/// controls the name chooses which one a client tries). The first address is the one to use.
pub async fn resolve(text: &str, allow_private: bool) -> Result<Target, TargetError> {
    let url = parse(text, allow_private)?;
    let port = url.port_or_known_default().ok_or(TargetError::NoHost)?;
    let (domain, addrs): (Option<String>, Vec<IpAddr>) = match url.host() {
        Some(Host::Ipv4(ip)) => (None, vec![IpAddr::V4(ip)]),
        Some(Host::Ipv6(ip)) => (None, vec![IpAddr::V6(ip)]),
        Some(Host::Domain(name)) => {
            let found = tokio::net::lookup_host((name, port))
                .await
                .map_err(|_| TargetError::Unresolved(name.to_owned()))?;
            let addrs: Vec<IpAddr> = found.map(|a| a.ip()).collect();
            (Some(name.to_owned()), addrs)
        }
        None => return Err(TargetError::NoHost),
    };
    let host = url.host_str().unwrap_or_default().to_owned();
    let Some(&first) = addrs.first() else {
        return Err(TargetError::Unresolved(host));
    };
    if !allow_private {
        if let Some(&addr) = addrs.iter().find(|a| !is_public(**a)) {
            return Err(TargetError::Private { host, addr });
        }
    }
    Ok(Target {
        url,
        domain,
        addr: SocketAddr::new(first, port),
    })
}

/// Whether `addr` is an ordinary public unicast address.
pub fn is_public(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            // ::ffff:a.b.c.d reaches a.b.c.d.
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || a == 0 // "this network" (RFC 791)
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || (a == 100 && (64..128).contains(&b)) // shared address space (RFC 6598)
        || ip.is_multicast()
        || ip.is_broadcast()
        || a >= 240) // reserved (RFC 1112 §4)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || (first & 0xfe00) == 0xfc00 // unique local (RFC 4193)
        || (first & 0xffc0) == 0xfe80 // link-local unicast (RFC 4291 §2.5.6)
        || (first & 0xffc0) == 0xfec0 // site-local, deprecated (RFC 3879)
        || ip.is_multicast())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_unicast_addresses_are_public() {
        for private in [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "8.8.8.8",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn urls_are_https_without_credentials() {
        assert_eq!(parse("not a url", false), Err(TargetError::NotAUrl));
        assert_eq!(
            parse("http://example.com/", false),
            Err(TargetError::Scheme)
        );
        assert!(parse("http://example.com/", true).is_ok());
        assert_eq!(parse("ftp://example.com/", true), Err(TargetError::Scheme));
        assert_eq!(
            parse("https://user:pw@example.com/", false),
            Err(TargetError::Credentials)
        );
        assert_eq!(
            parse("https://example.com/#x", false),
            Err(TargetError::Fragment)
        );
        assert!(parse("https://example.com/hooks?x=1", false).is_ok());
    }

    #[tokio::test]
    async fn literal_private_addresses_are_refused_unless_allowed() {
        for url in [
            "https://127.0.0.1/hook",
            "https://[::1]/hook",
            "https://10.0.0.1/",
            "https://[fd00::1]/",
            "https://100.64.0.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::ffff:127.0.0.1]/",
        ] {
            assert!(
                matches!(resolve(url, false).await, Err(TargetError::Private { .. })),
                "{url}"
            );
        }
        let allowed = resolve("http://127.0.0.1:8080/hook", true).await.unwrap();
        assert_eq!(allowed.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(allowed.domain, None);
    }
}
