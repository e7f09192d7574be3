//! `X-Twilio-Signature`, computed and checked exactly as Twilio's own helper libraries do
//! (`twilio.request_validator` in the `twilio` Python package): the full URL Twilio requested,
//! then for every parameter name in sorted order, each of its distinct values in sorted order,
//! name followed by value; HMAC-SHA1 with the auth token; base64. The URL is tried with and
//! without its port, since Twilio's own signing is inconsistent about the default port.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use std::collections::{BTreeMap, BTreeSet};

type HmacSha1 = Hmac<Sha1>;

/// The signature Twilio sends for a request to `url` with form parameters `params`.
#[must_use]
pub fn compute(token: &str, url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(mac(token, url, params).finalize().into_bytes())
}

fn mac(token: &str, url: &str, params: &[(String, String)]) -> HmacSha1 {
    let mut by_name: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (k, v) in params {
        by_name.entry(k).or_default().insert(v);
    }
    // HMAC takes a key of any length; this cannot fail.
    let mut m = <HmacSha1 as Mac>::new_from_slice(token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    m.update(url.as_bytes());
    for (name, values) in by_name {
        for v in values {
            m.update(name.as_bytes());
            m.update(v.as_bytes());
        }
    }
    m
}

/// Whether `signature` is Twilio's for this request. `url` is the public URL as configured (not
/// the Host header), with the request's path and query. Compared in constant time.
#[must_use]
pub fn valid(token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let Ok(given) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    let (with_port, without_port) = port_variants(url);
    // `verify_slice` compares in constant time.
    let ok = |u: &str| mac(token, u, params).verify_slice(&given).is_ok();
    ok(&without_port) | ok(&with_port)
}

/// The URL with its default port added (if it had none) and with any port removed, as
/// `add_port` and `remove_port` do in Twilio's library.
fn port_variants(url: &str) -> (String, String) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), url.to_owned());
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host_end = authority.rfind('@').map_or(0, |k| k + 1);
    let (userinfo, hostport) = authority.split_at(host_end);
    // An IPv6 literal's colons are not a port.
    let port_at = match hostport.rfind(']') {
        Some(close) => hostport[close..].find(':').map(|k| close + k),
        None => hostport.rfind(':'),
    };
    match port_at {
        Some(k) => {
            let host = &hostport[..k];
            (url.to_owned(), format!("{scheme}://{userinfo}{host}{tail}"))
        }
        None => {
            let port = if scheme.eq_ignore_ascii_case("https") {
                443
            } else {
                80
            };
            (
                format!("{scheme}://{authority}:{port}{tail}"),
                url.to_owned(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn twilio_published_test_vector() {
        let params = p(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]);
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            compute("12345", url, &params),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert!(valid("12345", url, &params, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        assert!(!valid(
            "12346",
            url,
            &params,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn ports_are_added_and_removed_like_twilios_library() {
        assert_eq!(
            port_variants("https://a.org/x?y=1"),
            (
                "https://a.org:443/x?y=1".into(),
                "https://a.org/x?y=1".into()
            )
        );
        assert_eq!(
            port_variants("http://a.org:8080/x"),
            ("http://a.org:8080/x".into(), "http://a.org/x".into())
        );
        assert_eq!(
            port_variants("http://[::1]:9000/x"),
            ("http://[::1]:9000/x".into(), "http://[::1]/x".into())
        );
        assert_eq!(
            port_variants("http://[::1]/x"),
            ("http://[::1]:80/x".into(), "http://[::1]/x".into())
        );
    }

    #[test]
    fn garbage_signatures_are_refused_not_panicked_on() {
        for sig in ["", "not base64!", "AAAA", "RSOYDt4T1cUTdK1PDd93/VVr8B8"] {
            assert!(!valid("12345", "https://x.org/", &[], sig), "{sig}");
        }
    }
}
