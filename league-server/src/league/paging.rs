//! Paged listings: the page tokens and page sizes every listing (gRPC and web) accepts.

use crate::error::LeagueError;

/// An offset page token ("" = start).
pub fn parse_page_token(token: &str) -> Result<usize, LeagueError> {
    if token.is_empty() {
        return Ok(0);
    }
    token
        .parse()
        .map_err(|_| LeagueError::invalid(format!("page_token: {token:?} is not a page token from this server")))
}

/// A requested page size: 0 = `default`, otherwise 1–`max`; anything larger is refused with an
/// error naming `field` (`page_size`, `top`) rather than quietly cut down.
pub fn page_size(field: &str, requested: u32, default: usize, max: usize) -> Result<usize, LeagueError> {
    match requested as usize {
        0 => Ok(default),
        n if n <= max => Ok(n),
        n => Err(LeagueError::invalid(format!(
            "{field}: expected 1–{max} (or 0 for the default, {default}), got {n}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_and_sizes_are_checked() {
        assert_eq!(parse_page_token("").unwrap(), 0);
        assert!(parse_page_token("x").is_err());
        assert_eq!(page_size("page_size", 0, 50, 1000).unwrap(), 50);
        assert_eq!(page_size("page_size", 1, 50, 1000).unwrap(), 1);
        assert_eq!(page_size("page_size", 1000, 50, 1000).unwrap(), 1000);
        let e = page_size("page_size", 1001, 50, 1000).unwrap_err().to_string();
        assert!(e.starts_with("page_size: expected 1–1000"), "{e}");
    }
}
