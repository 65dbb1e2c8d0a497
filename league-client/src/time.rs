//! Times: now, and times and durations as people read them (the CLI's tables, the web pages).

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
