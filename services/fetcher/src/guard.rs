//! Which addresses the fetcher may connect to.
//!
//! Feeds and pages come from the open internet and are hostile by default: a feed URL, a
//! redirect or a DNS answer may point at the fetcher's own network (a database, the cloud
//! metadata service). Every request is checked twice: its URL before it is sent (an IP
//! literal, or a host listed in `network.allow`), and every address a host name resolves to,
//! in the client's resolver, so that the address checked is the address connected to (no
//! window for DNS rebinding). Redirects are followed by hand and each hop is checked again.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde::{Deserialize, Serialize};
use url::{Host, Url};

/// The `network:` section of the configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkSettings {
    /// `allow`: addresses that are reachable although they are private, loopback, link-local
    /// or otherwise not public: CIDRs (`10.1.0.0/16`, `127.0.0.1/32`), single IPs, or
    /// `host:port` pairs (`feeds.internal:8080`, `127.0.0.1:8080`, `[::1]:8080`). A host
    /// name listed with a port is reachable on the listed ports only.
    pub allow: Vec<String>,
}

/// The parsed allow list.
#[derive(Debug, Clone, Default)]
pub struct NetworkPolicy {
    nets: Vec<IpNet>,
    /// `(host, port)` pairs; hosts lowercase, IPv6 without brackets.
    host_ports: Vec<(String, u16)>,
}

/// A URL or address the policy refuses.
#[derive(Debug, Clone, thiserror::Error)]
#[error("blocked address: {0}")]
pub struct Blocked(pub String);

impl NetworkPolicy {
    /// Parses `network.allow` entries; names the entry that is not a CIDR, an IP or a `host:port`.
    pub fn new(allow: &[String]) -> Result<Self, String> {
        let mut policy = NetworkPolicy::default();
        for entry in allow {
            let entry = entry.trim();
            if let Ok(net) = entry.parse::<IpNet>() {
                policy.nets.push(net);
            } else if let Ok(ip) = entry.parse::<IpAddr>() {
                policy.nets.push(IpNet::from(ip));
            } else if let Ok(addr) = entry.parse::<SocketAddr>() {
                policy.host_ports.push((addr.ip().to_string(), addr.port()));
            } else if let Some((host, port)) = entry.rsplit_once(':')
                && let Ok(port) = port.parse::<u16>()
                && !host.is_empty()
                && !host.contains(['/', ' ', '[', ']'])
            {
                policy.host_ports.push((host.to_ascii_lowercase(), port));
            } else {
                return Err(format!(
                    "network.allow entry {entry:?} is neither a CIDR, an IP address nor host:port"
                ));
            }
        }
        Ok(policy)
    }

    /// Whether the fetcher may connect to `ip` (on any port).
    pub fn ip_allowed(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.nets.iter().any(|net| net.contains(&ip))
    }

    /// Whether `host` is listed with some port (its resolved addresses are then trusted; the
    /// port was checked by [`NetworkPolicy::check_url`]).
    fn host_listed(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.host_ports.iter().any(|(h, _)| *h == host)
    }

    /// Checks a URL before a request: http(s) only; an IP literal must be allowed; a host
    /// listed with ports must use one of them. Host names are checked again after resolution.
    pub fn check_url(&self, url: &Url) -> Result<(), Blocked> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Blocked(format!("{url}: only http and https are fetched")));
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let (host, ip) = match url.host() {
            Some(Host::Domain(name)) => (name.to_ascii_lowercase(), None),
            Some(Host::Ipv4(ip)) => (ip.to_string(), Some(IpAddr::V4(ip))),
            Some(Host::Ipv6(ip)) => (ip.to_string(), Some(IpAddr::V6(ip))),
            None => return Err(Blocked(format!("{url}: no host"))),
        };
        if self.host_ports.iter().any(|(h, p)| *h == host && *p == port) {
            return Ok(());
        }
        match ip {
            Some(ip) if self.ip_allowed(ip) => Ok(()),
            Some(ip) => Err(Blocked(format!("{url}: {ip} is not a public address"))),
            None if self.host_listed(&host) => Err(Blocked(format!("{url}: {host} is allowed on other ports only"))),
            None => Ok(()),
        }
    }

    /// Checks the addresses `host` resolves to on this machine, for a request a proxy will
    /// make: every one must be allowed. A name that does not resolve here passes (the proxy
    /// resolves it; its own policy applies).
    pub async fn check_resolved(&self, host: &str) -> Result<(), Blocked> {
        if self.host_listed(host) {
            return Ok(());
        }
        let Ok(resolved) = tokio::net::lookup_host((host, 0)).await else {
            return Ok(());
        };
        let refused: Vec<String> = resolved
            .filter(|addr| !self.ip_allowed(addr.ip()))
            .map(|addr| addr.ip().to_string())
            .collect();
        if refused.is_empty() {
            Ok(())
        } else {
            Err(Blocked(format!(
                "{host} resolves to {} (not public)",
                refused.join(", ")
            )))
        }
    }

    /// A DNS resolver for reqwest that only returns addresses this policy allows.
    pub fn resolver(self: &Arc<Self>) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver { policy: self.clone() })
    }
}

/// Resolves with the system resolver and drops every address the policy refuses; fails with
/// [`Blocked`] when none is left.
#[derive(Debug)]
pub struct GuardedResolver {
    policy: Arc<NetworkPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let listed = policy.host_listed(&host);
            let allowed: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|addr| listed || policy.ip_allowed(addr.ip()))
                .collect();
            if allowed.is_empty() {
                let ips: Vec<String> = resolved.iter().map(|a| a.ip().to_string()).collect();
                return Err(
                    Box::new(Blocked(format!("{host} resolves to {} (not public)", ips.join(", "))))
                        as Box<dyn std::error::Error + Send + Sync>,
                );
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Whether `ip` is a public unicast address: not loopback, private, link-local (the cloud
/// metadata service lives there), shared (CGNAT), multicast, reserved or documentation, and
/// the same for IPv4 addresses embedded in IPv6 ones.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address that must be public too.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = segments[6].to_be_bytes();
        let [c, d] = segments[7].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    if segments[0] == 0x2002 {
        let [a, b] = segments[1].to_be_bytes();
        let [c, d] = segments[2].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local
        || (segments[0] & 0xffc0) == 0xfe80 // link-local
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || segments[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "127.0.0.2",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    fn check(allow: &[&str], url: &str) -> bool {
        let allow: Vec<String> = allow.iter().map(|s| s.to_string()).collect();
        NetworkPolicy::new(&allow)
            .unwrap()
            .check_url(&Url::parse(url).unwrap())
            .is_ok()
    }

    #[test]
    fn urls_are_checked_against_the_allow_list() {
        assert!(check(&[], "https://example.com/feed"), "names wait for the resolver");
        assert!(!check(&[], "http://127.0.0.1:8080/feed"));
        assert!(!check(&[], "http://[::1]/feed"));
        assert!(!check(&[], "http://169.254.169.254/latest/meta-data/"));
        assert!(!check(&[], "file:///etc/passwd"));
        assert!(check(&["127.0.0.1/32"], "http://127.0.0.1:8080/feed"));
        assert!(!check(&["127.0.0.1/32"], "http://127.0.0.2:8080/feed"));
        assert!(check(&["127.0.0.1:8080"], "http://127.0.0.1:8080/feed"));
        assert!(!check(&["127.0.0.1:8080"], "http://127.0.0.1:8081/feed"));
        assert!(check(&["[::1]:8080"], "http://[::1]:8080/feed"));
        assert!(check(&["feeds.internal:8080"], "http://FEEDS.internal:8080/x"));
        assert!(!check(&["feeds.internal:8080"], "http://feeds.internal:9090/x"));
        assert!(check(&["10.0.0.0/8"], "http://10.2.3.4/"));
    }

    #[test]
    fn bad_allow_entries_are_named() {
        let err = NetworkPolicy::new(&["10.0.0.0/33".to_string()]).unwrap_err();
        assert!(err.contains("10.0.0.0/33"), "{err}");
        let err = NetworkPolicy::new(&["no port".to_string()]).unwrap_err();
        assert!(err.contains("no port"), "{err}");
    }
}
