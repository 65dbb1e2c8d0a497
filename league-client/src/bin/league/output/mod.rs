//! What `league` prints: for people, tables and cards ([`human`]); with `--json`, one JSON document
//! per result for scripts ([`json`]: the shapes scripts rely on). A command hands both to
//! [`Output::emit`], which picks one.

pub mod human;
pub mod json;

use anyhow::Result;
use serde::Serialize;

/// Tables for people, or JSON (`--json`).
#[derive(Clone, Copy, Debug)]
pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Output { json }
    }

    /// Print `value` as one line of JSON with `--json`, else the text `human` makes.
    pub fn emit<T: Serialize>(self, value: &T, human: impl FnOnce() -> String) -> Result<()> {
        if self.json {
            println!("{}", to_json(value)?);
        } else {
            println!("{}", human());
        }
        Ok(())
    }
}

/// One line of JSON. Through a `Value`, whose map keeps keys sorted: documents read as they always
/// have, whatever the order of a view's fields.
fn to_json<T: Serialize>(value: &T) -> Result<String> {
    Ok(serde_json::to_value(value)?.to_string())
}

pub use slipstream_league_client::time::{display_seconds as seconds, display_time as time};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_to_the_second() {
        assert_eq!(time(0), "-", "0 is 'not set'");
        assert_eq!(time(1), "1970-01-01 00:00:00Z");
        assert_eq!(
            time(1_714_555_800_999),
            "2024-05-01 09:30:00Z",
            "truncated, not rounded"
        );
        assert_eq!(time(951_825_600_000), "2000-02-29 12:00:00Z", "a leap day");
        assert_eq!(time(4_107_542_399_000), "2100-02-28 23:59:59Z", "2100 is no leap year");
        assert_eq!(time(-86_400_000), "1969-12-31 00:00:00Z");
        assert_eq!(time(i64::MAX), format!("{} ms", i64::MAX));
    }

    #[test]
    fn seconds_keep_three_decimals() {
        assert_eq!(seconds(83_125), "83.125");
        assert_eq!(seconds(2_000), "2.000");
        assert_eq!(seconds(0), "0.000");
        assert_eq!(seconds(-1_500), "-1.500");
    }

    #[test]
    fn json_keys_are_sorted() {
        #[derive(Serialize)]
        struct View {
            b: u32,
            a: Option<u32>,
        }
        assert_eq!(to_json(&View { b: 1, a: None }).unwrap(), r#"{"a":null,"b":1}"#);
    }
}
