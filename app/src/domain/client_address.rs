//! Who is really on the other end of a request: the TCP peer, unless it is one of the trusted
//! proxies (`CIAM_TRUSTED_PROXIES`), in which case `Forwarded` (RFC 7239) or `X-Forwarded-For`
//! names the client, read from the right and skipping the trusted hops; the scheme comes from
//! the same trusted headers. Also the client's network, which throttles count per.

use std::net::IpAddr;

use http::HeaderMap;

/// One network in CIDR notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `10.0.0.0/8`, `2001:db8::/32`, or a single address.
    pub fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((addr, prefix)) => (addr.parse::<IpAddr>().ok()?, prefix.parse::<u8>().ok()?),
            None => {
                let addr: IpAddr = text.trim().parse().ok()?;
                (addr, if addr.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Self { addr, prefix })
    }

    /// Whether `ip` is in this network (an IPv4-mapped IPv6 address counts as its IPv4 one).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    /// Parses a comma- or space-separated list of networks; names the first bad entry.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split([',', ' '])
            .filter(|s| !s.trim().is_empty())
            .map(|s| Network::parse(s).ok_or_else(|| s.trim().to_owned()))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client behind `peer`: `peer` itself unless it is trusted, else the nearest untrusted
    /// hop the forwarding headers name (or the farthest one, when every hop is trusted), with the
    /// scheme reported for that hop.
    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> ClientAddress {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return ClientAddress {
                ip: peer,
                forwarded_scheme: None,
            };
        }
        let hops = forwarded_hops(headers);
        // No client named: the proxy is the client, and its word on the scheme still counts.
        let mut client = ClientAddress {
            ip: peer,
            forwarded_scheme: hops.last().and_then(|h| h.scheme.clone()).or_else(|| {
                header_values(headers, "x-forwarded-proto")
                    .last()
                    .and_then(|v| v.split(',').next_back())
                    .map(|s| s.trim().to_ascii_lowercase())
            }),
        };
        for hop in hops.into_iter().rev() {
            client = ClientAddress {
                ip: canonical(hop.ip),
                forwarded_scheme: hop.scheme,
            };
            if !self.trusts(client.ip) {
                break;
            }
        }
        client
    }
}

/// The client address a request was resolved to (put in the request's extensions by the
/// server), and the scheme a trusted proxy reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress {
    pub ip: IpAddr,
    pub forwarded_scheme: Option<String>,
}

/// One hop the forwarding headers name, with the scheme reported for it.
#[derive(Debug, Clone)]
struct Hop {
    ip: IpAddr,
    scheme: Option<String>,
}

/// The hops the forwarding headers list, client first: `Forwarded` when present (each element's
/// `for` with its `proto`), else `X-Forwarded-For` (with the last `X-Forwarded-Proto` value,
/// what the nearest proxy says, for each). Entries that are not addresses (obfuscated
/// identifiers, `unknown`) end what can be read from the right.
fn header_values(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect()
}

fn forwarded_hops(headers: &HeaderMap) -> Vec<Hop> {
    let values = |name: &str| header_values(headers, name);
    let forwarded = values("forwarded");
    let hops: Vec<(Option<IpAddr>, Option<String>)> = if !forwarded.is_empty() {
        forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                let (mut node, mut scheme) = (None, None);
                for pair in element.split(';') {
                    if let Some((key, value)) = pair.trim().split_once('=') {
                        let value = value.trim().trim_matches('"');
                        match key.trim().to_ascii_lowercase().as_str() {
                            "for" => node = parse_node(value),
                            "proto" => scheme = Some(value.to_ascii_lowercase()),
                            _ => {}
                        }
                    }
                }
                (node, scheme)
            })
            .collect()
    } else {
        let scheme = values("x-forwarded-proto").last().and_then(|v| {
            v.split(',')
                .next_back()
                .map(|s| s.trim().to_ascii_lowercase())
        });
        values("x-forwarded-for")
            .iter()
            .flat_map(|v| v.split(','))
            .map(|h| (parse_node(h.trim()), scheme.clone()))
            .collect()
    };
    let start = hops
        .iter()
        .rposition(|(ip, _)| ip.is_none())
        .map_or(0, |i| i + 1);
    hops.into_iter()
        .skip(start)
        .filter_map(|(ip, scheme)| ip.map(|ip| Hop { ip, scheme }))
        .collect()
}

/// A node of `Forwarded` or `X-Forwarded-For`: `192.0.2.1`, `192.0.2.1:443`, `[2001:db8::1]`,
/// `[2001:db8::1]:443` or a bare IPv6 address.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    node.rsplit_once(':')?.0.parse().ok()
}

/// The network a client address counts in for throttling: its /24 (IPv4) or /64 (IPv6), the
/// usual allotment of one subscriber.
pub fn network_of(ip: &str) -> Option<String> {
    match canonical(ip.parse().ok()?) {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            Some(format!("{a}.{b}.{c}.0/24"))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_contain_their_addresses() {
        let net = Network::parse("10.1.0.0/16").unwrap();
        assert!(net.contains(ip("10.1.200.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(net.contains(ip("::ffff:10.1.0.9")));
        assert!(Network::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(Network::parse("2001:db8::/32")
            .unwrap()
            .contains(ip("2001:db8:1::1")));
        assert!(Network::parse("10.0.0.0/33").is_none());
        assert!(Network::parse("nonsense").is_none());
        assert_eq!(
            TrustedProxies::parse("10.0.0.0/8, 192.168.1.1 bad/1"),
            Err("bad/1".into())
        );
    }

    #[test]
    fn forwarding_headers_count_only_from_a_trusted_peer() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-proto", "https"),
        ]);
        // An untrusted peer's headers are its own invention.
        let direct = proxies.resolve(ip("198.51.100.7"), &h);
        assert_eq!(direct.ip, ip("198.51.100.7"));
        assert_eq!(direct.forwarded_scheme, None);
        let proxied = proxies.resolve(ip("10.0.0.2"), &h);
        assert_eq!(proxied.ip, ip("203.0.113.9"));
        assert_eq!(proxied.forwarded_scheme.as_deref(), Some("https"));
        assert_eq!(
            TrustedProxies::default().resolve(ip("10.0.0.2"), &h).ip,
            ip("10.0.0.2")
        );
    }

    #[test]
    fn a_spoofed_leftmost_entry_is_not_believed() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        // The client sent "1.2.3.4" itself; the trusted proxy appended the real address.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.0.0.5")]);
        assert_eq!(proxies.resolve(ip("10.0.0.2"), &h).ip, ip("203.0.113.9"));
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "garbage, 203.0.113.9"),
        ]);
        assert_eq!(proxies.resolve(ip("10.0.0.2"), &h).ip, ip("203.0.113.9"));
    }

    #[test]
    fn the_standard_forwarded_header_is_read_too() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let h = headers(&[(
            "forwarded",
            "for=192.0.2.60;proto=http, for=\"[2001:db8:cafe::17]:4711\";proto=https",
        )]);
        let client = proxies.resolve(ip("10.9.9.9"), &h);
        assert_eq!(client.ip, ip("2001:db8:cafe::17"));
        assert_eq!(client.forwarded_scheme.as_deref(), Some("https"));
    }

    #[test]
    fn clients_count_per_network() {
        assert_eq!(network_of("203.0.113.9").as_deref(), Some("203.0.113.0/24"));
        assert_eq!(
            network_of("2001:db8:1:2:3:4:5:6").as_deref(),
            Some("2001:db8:1:2::/64")
        );
        assert_eq!(network_of("not an ip"), None);
    }
}
