//! Article identity: URL normalisation and the id derived from it.
//!
//! The rules (each unit-tested below):
//! 1. Only `http` and `https` URLs are articles; anything else has no canonical form.
//! 2. Scheme and host are lower-cased, a default port is dropped, the fragment is dropped.
//! 3. Tracking parameters are removed from the query (`utm_*`, `fbclid`, `gclid`, ... see
//!    [`is_tracking_param`]); an empty query disappears.
//! 4. Dot segments in the path are resolved (the `url` crate does this when parsing).
//! 5. Redirect wrappers are unwrapped to the URL they point to (see [`unwrap_redirect`]):
//!    `google.com/url?q=…`/`url=…`, `l.facebook.com/l.php?u=…`, `out.reddit.com/…?url=…`,
//!    `t.umblr.com/redirect?z=…` are taken only from
//!    these known hosts; Google AMP cache (`www.google.com/amp/s/HOST/PATH`) and the AMP
//!    project cache (`*.cdn.ampproject.org/c/s/HOST/PATH`, `/v/s/…`) are unwrapped to
//!    `https://HOST/PATH`.
//! 6. AMP versions are mapped to the article: an `amp.` host prefix is dropped, and a last
//!    path segment `amp` or `amp.html` (`/story/amp`, `/story.amp.html`), and the query
//!    parameters `amp`, `outputType=amp` and `_amp` are removed.
//! 7. The rules repeat until they change nothing (wrappers nest; an AMP rule may uncover a
//!    wrapper), so normalising is idempotent; a URL still changing after 8 rounds is none.
//!
//! The id is the first 128 bits (32 hex digits) of SHA-256 over an *identity key* of the
//! canonical URL that also ignores the scheme, a leading `www.`, a trailing slash and the
//! order of query parameters, so `http://www.example.com/a/?b=1&a=2` and
//! `https://example.com/a?a=2&b=1` are one article.

use sha2::{Digest, Sha256};
use url::Url;

/// Query parameters that identify a click, a campaign or a session, never an article.
fn is_tracking_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_")
        || matches!(
            name.as_str(),
            "fbclid"
                | "gclid"
                | "dclid"
                | "gclsrc"
                | "msclkid"
                | "yclid"
                | "mc_cid"
                | "mc_eid"
                | "igshid"
                | "ocid"
                | "cmpid"
                | "ito"
                | "smid"
                | "_ga"
                | "ns_mchannel"
                | "ns_source"
                | "ns_campaign"
                | "ns_linkname"
                | "ns_fee"
                | "at_medium"
                | "at_campaign"
                | "at_custom1"
                | "at_custom2"
                | "at_custom3"
                | "at_custom4"
                | "rss"
                | "ref"
                | "ref_src"
                | "cmp"
                | "xtor"
        )
}

/// The URL a known redirect wrapper or AMP cache points to, if `url` is one.
pub fn unwrap_redirect(url: &Url) -> Option<Url> {
    let host = url.host_str()?.to_ascii_lowercase();
    let param = |names: &[&str]| {
        url.query_pairs()
            .find(|(k, _)| names.contains(&k.as_ref()))
            .and_then(|(_, v)| Url::parse(&v).ok())
    };
    let path = url.path();
    if (host == "www.google.com" || host == "google.com") && path == "/url" {
        return param(&["q", "url"]);
    }
    if (host == "l.facebook.com" || host == "lm.facebook.com") && path == "/l.php" {
        return param(&["u"]);
    }
    if host == "out.reddit.com" || host == "t.umblr.com" || host == "l.messenger.com" {
        return param(&["url", "z", "u"]);
    }
    let amp_path = if (host == "www.google.com" || host == "google.com") && path.starts_with("/amp/") {
        path.strip_prefix("/amp/")
    } else if host.ends_with(".cdn.ampproject.org") {
        path.strip_prefix("/c/").or_else(|| path.strip_prefix("/v/"))
    } else {
        None
    }?;
    let (scheme, rest) = match amp_path.strip_prefix("s/") {
        Some(rest) => ("https", rest),
        None => ("http", amp_path),
    };
    let mut target = Url::parse(&format!("{scheme}://{rest}")).ok()?;
    target.set_query(url.query());
    Some(target)
}

/// Maps an AMP version of an article to the article (rule 6 above).
fn strip_amp(url: &mut Url) {
    if let Some(host) = url.host_str().and_then(|h| h.strip_prefix("amp.")).map(str::to_string)
        && host.contains('.')
    {
        let _ = url.set_host(Some(&host));
    }
    let path = url.path().to_string();
    let trimmed = path.trim_end_matches('/');
    let new_path = if let Some(p) = trimmed
        .strip_suffix("/amp")
        .or_else(|| trimmed.strip_suffix("/amp.html"))
    {
        Some(if p.is_empty() { "/".to_string() } else { p.to_string() })
    } else {
        trimmed.strip_suffix(".amp.html").map(|p| format!("{p}.html"))
    };
    if let Some(p) = new_path {
        url.set_path(&p);
    }
}

fn is_amp_param(name: &str, value: &str) -> bool {
    matches!(name, "amp" | "_amp" | "amp_js_v" | "usqp") || (name == "outputType" && value == "amp")
}

/// Rounds of the rules tried before a URL is given up on (see [`normalize_url`]).
const MAX_ROUNDS: usize = 8;

/// The canonical form of an article URL, or `None` when it is not an http(s) URL (or is
/// wrapped in more than a few redirects and AMP caches).
///
/// The rules are applied in rounds until a round changes nothing, because one round can
/// uncover work for the next: a redirect wrapper inside another, an AMP cache URL behind a
/// redirect, an `amp.` host or `/amp` path that was hiding a wrapper, `/amp/amp`. So the
/// canonical form of a canonical URL is itself, and one article has one id whether its URL
/// arrives normalised or not. A URL still changing after [`MAX_ROUNDS`] rounds is no article
/// link.
pub fn normalize_url(raw: &str) -> Option<String> {
    let mut url = Url::parse(raw.trim()).ok()?;
    for _ in 0..MAX_ROUNDS {
        let (next, uncovered) = normalize_once(&url)?;
        // Only unwrapping a redirect or an AMP form can uncover work for another round
        // (dropping parameters and the fragment cannot), so most URLs take one round.
        if !uncovered || next == url {
            return Some(next.into());
        }
        url = next;
    }
    None
}

/// One round of the rules; says whether it unwrapped a redirect or an AMP form.
fn normalize_once(url: &Url) -> Option<(Url, bool)> {
    let unwrapped = unwrap_redirect(url);
    let mut uncovered = unwrapped.is_some();
    let mut url = unwrapped.unwrap_or_else(|| url.clone());
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    url.set_fragment(None);
    let before = (url.host_str().map(str::len), url.path().len());
    strip_amp(&mut url);
    uncovered |= before != (url.host_str().map(str::len), url.path().len());
    // `Url` already lower-cases the scheme and host and drops the scheme's default port.
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, value)| !is_tracking_param(name) && !is_amp_param(name, value))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    Some((url, uncovered))
}

/// The identity key of a canonical URL: what two URLs of one article have in common.
fn identity_key(canonical: &str) -> String {
    let Ok(url) = Url::parse(canonical) else {
        return canonical.to_string();
    };
    let host = url.host_str().unwrap_or_default();
    let host = host.strip_prefix("www.").unwrap_or(host);
    let mut path = url.path().to_string();
    while path.len() > 1 && path.ends_with('/') {
        path.pop();
    }
    let mut query: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    query.sort();
    let mut key = String::with_capacity(canonical.len());
    key.push_str(host);
    if let Some(port) = url.port() {
        key.push(':');
        key.push_str(&port.to_string());
    }
    key.push_str(&path);
    for (i, (name, value)) in query.iter().enumerate() {
        key.push(if i == 0 { '?' } else { '&' });
        key.push_str(name);
        key.push('=');
        key.push_str(value);
    }
    key
}

/// The stable article id for a canonical URL (or for any other identity string, such as a
/// guid, when an item has no link): 32 lower-case hex digits.
pub fn article_id(canonical: &str) -> String {
    let digest = Sha256::digest(identity_key(canonical).as_bytes());
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Option<&str>) {
        assert_eq!(normalize_url(input).as_deref(), expected, "normalising {input}");
    }

    #[test]
    fn normalisation_rules() {
        check(
            "HTTPS://WWW.Example.COM:443/a/b?x=1#frag",
            Some("https://www.example.com/a/b?x=1"),
        );
        check("http://example.com:80/", Some("http://example.com/"));
        check("http://example.com:8080/a", Some("http://example.com:8080/a"));
        check(
            "https://example.com/story?utm_source=rss&utm_medium=feed&id=7&fbclid=abc",
            Some("https://example.com/story?id=7"),
        );
        check(
            "https://example.com/story?utm_source=rss",
            Some("https://example.com/story"),
        );
        check("https://example.com/a/../b/./c", Some("https://example.com/b/c"));
        check("  https://example.com/x  ", Some("https://example.com/x"));
        check("ftp://example.com/x", None);
        check("mailto:someone@example.com", None);
        check("not a url", None);
        check("/relative/path", None);
    }

    #[test]
    fn redirect_wrappers_and_amp_are_unwrapped() {
        let story = Some("https://www.example.com/world/story");
        check(
            "https://www.google.com/url?sa=t&url=https%3A%2F%2Fwww.example.com%2Fworld%2Fstory%3Futm_source%3Dx",
            story,
        );
        check(
            "https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.example.com%2Fworld%2Fstory&h=AT0",
            story,
        );
        check("https://www.google.com/amp/s/www.example.com/world/story/amp", story);
        check(
            "https://www-example-com.cdn.ampproject.org/c/s/www.example.com/world/story?amp=1",
            story,
        );
        check(
            "https://amp.example.com/world/story",
            Some("https://example.com/world/story"),
        );
        check("https://www.example.com/world/story/amp/", story);
        check("https://www.example.com/world/story?outputType=amp", story);
        check(
            "https://www.example.com/world/story.amp.html",
            Some("https://www.example.com/world/story.html"),
        );
        // Not wrappers: kept as they are.
        check(
            "https://www.google.com/search?q=x",
            Some("https://www.google.com/search?q=x"),
        );
        check(
            "https://www.example.com/world/amplifier",
            Some("https://www.example.com/world/amplifier"),
        );
        check("https://www.google.com/url?q=javascript:alert(1)", None);
    }

    #[test]
    fn one_article_one_id() {
        let a = article_id(&normalize_url("http://www.example.com/a/?b=1&a=2").unwrap());
        let b = article_id(&normalize_url("https://example.com/a?a=2&b=1#top").unwrap());
        assert_eq!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        let c = article_id(&normalize_url("https://example.com/b").unwrap());
        assert_ne!(a, c);
        let d = article_id(&normalize_url("https://example.com/a?a=3&b=1").unwrap());
        assert_ne!(a, d, "a different query value is a different article");
    }

    /// Found by fuzzing (`newswire-fuzz run url`): the rules ran once (three unwrappings,
    /// then the AMP rules), so the canonical form of some canonical URLs was another URL, and
    /// one article could get two ids. The rules now repeat until nothing changes.
    #[test]
    fn the_canonical_form_of_a_canonical_url_is_itself() {
        let story = "http://www.example.com/world/story";
        for url in [
            // Four AMP caches inside one another (the fuzzer's input had thousands).
            "https://x.cdn.ampproject.org/v/x.cdn.ampproject.org/v/x.cdn.ampproject.org/v/x.cdn.ampproject.org/v/www.example.com/world/story",
            // Four redirects.
            "https://www.google.com/url?q=https%3A%2F%2Fwww.google.com%2Furl%3Fq%3Dhttps%253A%252F%252Fwww.google.com%252Furl%253Fq%253Dhttps%25253A%25252F%25252Fwww.google.com%25252Furl%25253Fq%25253Dhttp%2525253A%2525252F%2525252Fwww.example.com%2525252Fworld%2525252Fstory",
            // An AMP path hiding a redirect, and AMP twice.
            "https://www.google.com/url/amp?q=http://www.example.com/world/story",
            "http://www.example.com/world/story/amp/amp",
            "http://amp.amp.www.example.com/world/story",
        ] {
            assert_eq!(normalize_url(url).as_deref(), Some(story), "{url}");
            assert_eq!(normalize_url(story).as_deref(), Some(story));
        }
        let input = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fuzz/seeds/url/idempotence-nested-amp-caches.txt"
        ))
        .unwrap();
        let canonical = normalize_url(&String::from_utf8_lossy(&input)).unwrap();
        assert_eq!(normalize_url(&canonical).as_deref(), Some(canonical.as_str()));
        // Wrapped beyond reason: no article link.
        let deep = format!("https://{}www.example.com/a", "x.cdn.ampproject.org/v/".repeat(20));
        assert_eq!(normalize_url(&deep), None);
    }
}
