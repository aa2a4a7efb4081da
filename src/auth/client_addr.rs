//! The address a request comes from, for the sign-in limits. Behind a reverse proxy every user
//! arrives from the proxy's address; the proxy names the real one in `X-Forwarded-For` or
//! `Forwarded` (RFC 7239). Those headers are believed only from the proxies the operator lists in
//! `CLAVIS_TRUSTED_PROXIES`: anyone else could write any address there.

use std::net::IpAddr;

use http::HeaderMap;

/// An IP network, `address/prefix` (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

/// A list of IP networks (e.g. who may read `/metrics`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Networks(Vec<Cidr>);

impl Networks {
    /// Comma-separated networks or addresses.
    pub fn parse(raw: &str) -> Result<Self, CidrError> {
        raw.split(',').filter(|p| !p.trim().is_empty()).map(Cidr::parse).collect::<Result<_, _>>().map(Self)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IP network such as 10.0.0.0/8, 192.168.1.7 or fd00::/8")]
pub struct CidrError(String);

impl Cidr {
    pub fn parse(raw: &str) -> Result<Self, CidrError> {
        let bad = || CidrError(raw.chars().take(60).collect());
        let (addr, prefix) = match raw.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (raw.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => same_prefix(&net.octets(), &ip.octets(), self.prefix),
            (IpAddr::V6(net), IpAddr::V6(ip)) => same_prefix(&net.octets(), &ip.octets(), self.prefix),
            _ => false,
        }
    }
}

/// IPv4 peers of a dual-stack socket arrive as `::ffff:a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn same_prefix(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let (whole, rest) = (usize::from(prefix / 8), prefix % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0
}

/// The proxies whose forwarding headers are believed (`CLAVIS_TRUSTED_PROXIES`, comma-separated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    pub fn parse(raw: &str) -> Result<Self, CidrError> {
        raw.split(',').filter(|p| !p.trim().is_empty()).map(Cidr::parse).collect::<Result<_, _>>().map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client's address: the peer itself unless it is a trusted proxy; then, walking the
    /// forwarding chain from the nearest hop back, the first address that is not a trusted proxy.
    /// A chain that cannot be read stops the walk at the last address that could be.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        for hop in forwarded_chain(headers).into_iter().rev() {
            let Some(ip) = hop else { break };
            client = canonical(ip);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// The addresses a request passed through, first (the original client) to last, from
/// `Forwarded` if sent, else `X-Forwarded-For`. `None` marks a hop that is not an IP address
/// (`unknown`, an obfuscated name, garbage).
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let lines = |name: &str| {
        headers.get_all(name).iter().map(|v| v.to_str().unwrap_or("\u{0}")).collect::<Vec<_>>().join(",")
    };
    let forwarded = lines("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .split(',')
            .map(|element| {
                let node = element.split(';').find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    k.trim().eq_ignore_ascii_case("for").then_some(v.trim())
                });
                node.and_then(forwarded_node)
            })
            .collect();
    }
    lines("x-forwarded-for")
        .split(',')
        .filter(|hop| !hop.trim().is_empty())
        .map(|hop| hop.trim().parse().ok())
        .collect()
}

/// An RFC 7239 node: `192.0.2.60`, `"192.0.2.60:47011"`, `"[2001:db8::17]:4711"`.
fn forwarded_node(raw: &str) -> Option<IpAddr> {
    let node = raw.trim_matches('"');
    if let Some(v6) = node.strip_prefix('[') {
        return v6.split(']').next()?.parse().ok();
    }
    node.split(':').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn networks() {
        let net = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(net.contains(ip("10.1.200.3")) && !net.contains(ip("10.2.0.1")));
        assert!(Cidr::parse("10.0.0.0/9").unwrap().contains(ip("10.127.0.1")));
        assert!(!Cidr::parse("10.0.0.0/9").unwrap().contains(ip("10.128.0.1")));
        assert!(Cidr::parse("192.168.1.7").unwrap().contains(ip("192.168.1.7")));
        assert!(Cidr::parse("127.0.0.1/32").unwrap().contains(ip("::ffff:127.0.0.1")), "v4-mapped peers");
        assert!(Cidr::parse("fd00::/8").unwrap().contains(ip("fd12::1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(!Cidr::parse("::/0").unwrap().contains(ip("8.8.8.8")), "families do not mix");
        for bad in ["10.0.0.0/33", "fd00::/129", "localhost", "10.0.0/8", "", "10.0.0.0/x"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(TrustedProxies::parse(" 10.0.0.0/8 , ::1 ").unwrap().0.len(), 2);
        assert_eq!(TrustedProxies::parse("").unwrap(), TrustedProxies::default());
        assert!(TrustedProxies::parse("10.0.0.0/8,nope").unwrap_err().to_string().contains("\"nope\""));
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let none = TrustedProxies::default();
        let proxy = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let xff = headers(&[("x-forwarded-for", "203.0.113.9, 10.0.0.5")]);
        // (trusted, peer, headers, expected client)
        let cases: [(&TrustedProxies, &str, HeaderMap, &str); 10] = [
            (&none, "10.0.0.1", xff.clone(), "10.0.0.1"),
            (&proxy, "198.51.100.1", xff.clone(), "198.51.100.1"),
            (&proxy, "10.0.0.1", xff.clone(), "203.0.113.9"),
            (&proxy, "10.0.0.1", headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9")]), "203.0.113.9"),
            (
                &proxy,
                "10.0.0.1",
                headers(&[("x-forwarded-for", "203.0.113.9"), ("x-forwarded-for", "10.9.9.9")]),
                "203.0.113.9",
            ),
            (&proxy, "10.0.0.1", headers(&[("x-forwarded-for", "junk, 10.0.0.7")]), "10.0.0.7"),
            (&proxy, "10.0.0.1", HeaderMap::new(), "10.0.0.1"),
            (
                &proxy,
                "10.0.0.1",
                headers(&[("forwarded", "for=192.0.2.60;proto=https, for=\"10.0.0.2:8080\"")]),
                "192.0.2.60",
            ),
            (
                &proxy,
                "10.0.0.1",
                headers(&[("forwarded", "For=\"[2001:db8:cafe::17]:4711\""), ("x-forwarded-for", "1.2.3.4")]),
                "2001:db8:cafe::17",
            ),
            (&proxy, "10.0.0.1", headers(&[("forwarded", "for=unknown")]), "10.0.0.1"),
        ];
        for (trusted, peer, h, want) in cases {
            assert_eq!(trusted.client_ip(ip(peer), &h), ip(want), "{peer} {h:?}");
        }
    }
}
