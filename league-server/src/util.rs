//! Ids, secrets, hashes and time.

use sha2::{Digest, Sha256};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A time from the API (milliseconds since the Unix epoch) in UTC to the second, e.g.
/// `2024-05-01 09:30:00Z`; `-` for 0 (never / not set). A time outside years -9999..=9999 (no server
/// sends one) shows as its milliseconds. The CLI's tables and the web pages show times this way.
pub fn display_time(ms: i64) -> String {
    if ms == 0 {
        return "-".into();
    }
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.strftime("%Y-%m-%d %H:%M:%SZ").to_string(),
        Err(_) => format!("{ms} ms"),
    }
}

/// Milliseconds as seconds to the millisecond, e.g. `83.125`.
pub fn display_seconds(ms: i64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
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

/// An offset page token ("" = start).
pub fn parse_page_token(token: &str) -> Result<usize, crate::error::LeagueError> {
    if token.is_empty() {
        return Ok(0);
    }
    token.parse().map_err(|_| {
        crate::error::LeagueError::invalid(format!("page_token: {token:?} is not a page token from this server"))
    })
}

/// A requested page size: 0 = `default`, otherwise 1–`max`; anything larger is refused with an
/// error naming `field` (`page_size`, `top`) rather than quietly cut down.
pub fn page_size(field: &str, requested: u32, default: usize, max: usize) -> Result<usize, crate::error::LeagueError> {
    match requested as usize {
        0 => Ok(default),
        n if n <= max => Ok(n),
        n => Err(crate::error::LeagueError::invalid(format!(
            "{field}: expected 1–{max} (or 0 for the default, {default}), got {n}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(parse_page_token("").unwrap(), 0);
        assert!(parse_page_token("x").is_err());
        assert_eq!(page_size("page_size", 0, 50, 1000).unwrap(), 50);
        assert_eq!(page_size("page_size", 1, 50, 1000).unwrap(), 1);
        assert_eq!(page_size("page_size", 1000, 50, 1000).unwrap(), 1000);
        let e = page_size("page_size", 1001, 50, 1000).unwrap_err().to_string();
        assert!(e.starts_with("page_size: expected 1–1000"), "{e}");
    }
}
