//! The signature a receiver checks a notification by: HMAC-SHA256, keyed with
//! `--notify-secret`, of `<timestamp>.<body>`, the timestamp in its own header (so that an old
//! request replayed is told apart).

use claude_agent_protocol::config::Secret;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `sha256=<hex>` of the HMAC-SHA256 of `<timestamp>.<body>`.
pub(crate) const SIGNATURE_HEADER: &str = "x-claude-agent-signature";
/// The Unix time in seconds when the try was made, signed with the body.
pub(crate) const TIMESTAMP_HEADER: &str = "x-claude-agent-timestamp";

/// The signature header's value for `body` sent at `timestamp`.
pub(super) fn signature(secret: &Secret, timestamp: u64, body: &[u8]) -> String {
    let timestamp = timestamp.to_string();
    let signed = [timestamp.as_bytes(), b".", body];
    format!("sha256={}", hmac_hex(secret.expose().as_bytes(), &signed))
}

fn hmac_hex(key: &[u8], parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_is_the_standard_hmac_sha256() {
        // The well-known example (Wikipedia, "HMAC").
        let fox = b"The quick brown fox jumps over the lazy dog";
        assert_eq!(
            hmac_hex(b"key", &[fox]),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn the_timestamp_is_signed_with_the_body() {
        let secret = Secret::new("key");
        let signed = signature(&secret, 1_700_000_000, b"{}");
        assert_eq!(
            signed,
            format!("sha256={}", hmac_hex(b"key", &[b"1700000000.{}"]))
        );
        assert_ne!(signed, signature(&secret, 1_700_000_001, b"{}"));
    }
}
