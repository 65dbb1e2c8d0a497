//! Ids, secrets, hashes and time.

use sha2::{Digest, Sha256};

pub use slipstream_league_client::time::{display_seconds, display_time, now_ms};

/// The server's clock: the system's time, moved on by [`Clock::advance`] (tests move it instead
/// of waiting: a token's expiry, a race's closing). Every time the server decides by — expiries,
/// race windows, leases, timestamps it stores — comes from the one clock its `Config` holds;
/// clones share it.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Clock {
    /// Milliseconds since the Unix epoch, as this clock tells them.
    pub fn now_ms(&self) -> i64 {
        now_ms() + self.offset_ms.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Move this clock (and its clones) on by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A new random id with a readable prefix, e.g. `race_4f1c…` (128 random bits).
pub fn new_id(prefix: &str) -> String {
    let bytes: [u8; 16] = rand::random();
    format!("{prefix}_{}", hex::encode(bytes))
}

/// A new secret (256 random bits), e.g. a bearer token `slp_…`.
pub fn new_secret(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{prefix}_{}", hex::encode(bytes))
}

/// SHA-256 as lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// How secrets (tokens, invites) are stored: only their SHA-256.
pub fn secret_hash(secret: &str) -> String {
    sha256_hex(secret.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advanced_clock_moves_its_clones_too() {
        let c = Clock::default();
        let shared = c.clone();
        let before = shared.now_ms();
        c.advance(std::time::Duration::from_secs(3600));
        let after = shared.now_ms();
        assert!((3_600_000..3_700_000).contains(&(after - before)), "{}", after - before);
    }

    #[test]
    fn ids_and_secrets_are_unique_and_hashed() {
        let a = new_id("race");
        assert!(a.starts_with("race_") && a.len() == 5 + 32);
        assert_ne!(a, new_id("race"));
        let s = new_secret("slp");
        assert_eq!(secret_hash(&s).len(), 64);
        assert_ne!(secret_hash(&s), s);
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
