//! Track files as CSV: the same six columns as DeepRacer's `.npy` files
//! (`center_x, center_y, inner_x, inner_y, outer_x, outer_y`), one waypoint per line, metres.
//! An optional header line naming the columns, blank lines and `#` comments are allowed.

use std::fmt::Write as _;
use std::path::Path;

use super::COLUMNS;
use crate::error::TrackErrorKind;

/// Parse CSV text into waypoint rows.
pub fn parse(text: &str) -> Result<Vec<[f64; 6]>, TrackErrorKind> {
    let mut rows = Vec::new();
    let mut seen_data = false;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if !seen_data && fields.iter().any(|f| f.parse::<f64>().is_err()) {
            // A header line: it must name the six columns in order.
            let names: Vec<String> = fields
                .iter()
                .map(|f| f.trim_matches('"').to_ascii_lowercase())
                .collect();
            if names != COLUMNS {
                return Err(TrackErrorKind::Csv {
                    line: line_no,
                    message: format!(
                        "expected a header `{}` or six numbers, found `{line}`",
                        COLUMNS.join(",")
                    ),
                });
            }
            seen_data = true;
            continue;
        }
        seen_data = true;
        if fields.len() != 6 {
            return Err(TrackErrorKind::Csv {
                line: line_no,
                message: format!("expected 6 columns ({}), found {}", COLUMNS.join(", "), fields.len()),
            });
        }
        let mut row = [0.0; 6];
        for (k, f) in fields.iter().enumerate() {
            row[k] = f.parse::<f64>().map_err(|_| TrackErrorKind::Csv {
                line: line_no,
                message: format!("column {} ({}): {f:?} is not a number", k + 1, COLUMNS[k]),
            })?;
        }
        rows.push(row);
    }
    Ok(rows)
}

pub fn read_track_rows(path: &Path) -> Result<Vec<[f64; 6]>, TrackErrorKind> {
    let text = std::fs::read_to_string(path)?;
    parse(&text)
}

/// CSV text with a header line, full precision.
pub fn to_string(rows: &[[f64; 6]]) -> String {
    let mut out = COLUMNS.join(",");
    out.push('\n');
    for r in rows {
        let _ = writeln!(out, "{:?},{:?},{:?},{:?},{:?},{:?}", r[0], r[1], r[2], r[3], r[4], r[5]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_comments_and_roundtrip() {
        let rows = vec![[0.0, 0.0, 0.0, 0.3, 0.0, -0.3], [1.0, 0.0, 1.0, 0.3, 1.0, -0.3]];
        let text = format!("# a comment\n\n{}", to_string(&rows));
        assert_eq!(parse(&text).unwrap(), rows);
        assert_eq!(parse("1,2,3,4,5,6\n").unwrap(), vec![[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]);
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse("1,2,3,4,5,6\n1,2,x,4,5,6\n").unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("inner_x"), "{e}");
        let e = parse("1,2,3,4,5\n").unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("found 5"), "{e}");
        let e = parse("a,b,c,d,e,f\n").unwrap_err().to_string();
        assert!(e.contains("header"), "{e}");
    }
}
