//! A small reader and writer for NumPy `.npy` files holding a 2-D float64 array (DeepRacer track files).
//!
//! Format: the magic `\x93NUMPY`, a version byte pair, a little-endian header length (u16 for version 1,
//! u32 for versions 2 and 3), a Python-literal header dict with `descr`, `fortran_order` and `shape`,
//! then the raw array data.

use std::io::Write;
use std::path::Path;

use crate::error::TrackErrorKind;

const MAGIC: &[u8] = b"\x93NUMPY";

/// A parsed 2-D array of f64 in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct Array2 {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Dtype {
    F8Le,
    F8Be,
    F4Le,
    F4Be,
}

fn fmt_err(msg: impl Into<String>) -> TrackErrorKind {
    TrackErrorKind::NpyFormat(msg.into())
}

/// Parse `.npy` bytes into a 2-D array (a 1-D array is read as a single row).
pub fn parse(bytes: &[u8]) -> Result<Array2, TrackErrorKind> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(fmt_err("missing the \\x93NUMPY magic string at the start"));
    }
    let major = bytes[6];
    let (header_len, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10usize),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(fmt_err("file ends inside the header length"));
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => {
            return Err(fmt_err(format!("unsupported format version {v}.{}", bytes[7])));
        }
    };
    let end = start
        .checked_add(header_len)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| fmt_err("file ends inside the header"))?;
    let header = std::str::from_utf8(&bytes[start..end]).map_err(|_| fmt_err("header is not text"))?;
    let descr = dict_value(header, "descr").ok_or_else(|| fmt_err("header has no 'descr' entry"))?;
    let descr = descr.trim().trim_matches(|c| c == '\'' || c == '"');
    let dtype = match descr {
        "<f8" | "f8" | "float64" => Dtype::F8Le,
        ">f8" => Dtype::F8Be,
        "<f4" | "f4" | "float32" => Dtype::F4Le,
        ">f4" => Dtype::F4Be,
        other => return Err(TrackErrorKind::NpyDtype(other.to_string())),
    };
    let fortran = match dict_value(header, "fortran_order").map(str::trim) {
        Some("False") | None => false,
        Some("True") => true,
        Some(other) => return Err(fmt_err(format!("bad 'fortran_order' value {other:?}"))),
    };
    let shape_txt = dict_value(header, "shape").ok_or_else(|| fmt_err("header has no 'shape' entry"))?;
    let shape_txt = shape_txt.trim();
    if !(shape_txt.starts_with('(') && shape_txt.ends_with(')')) {
        return Err(fmt_err(format!("bad 'shape' value {shape_txt:?}")));
    }
    let dims: Vec<usize> = shape_txt[1..shape_txt.len() - 1]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim_end_matches('L')
                .parse::<usize>()
                .map_err(|_| fmt_err(format!("bad dimension {s:?} in 'shape'")))
        })
        .collect::<Result<_, _>>()?;
    let (rows, cols) = match dims.as_slice() {
        [r, c] => (*r, *c),
        [c] => (1, *c),
        other => {
            return Err(fmt_err(format!(
                "expected a 2-D array of shape (N, 6), found {} dimensions",
                other.len()
            )));
        }
    };
    let item = match dtype {
        Dtype::F8Le | Dtype::F8Be => 8,
        Dtype::F4Le | Dtype::F4Be => 4,
    };
    let count = rows.checked_mul(cols).ok_or_else(|| fmt_err("shape too large"))?;
    let need = count.checked_mul(item).ok_or_else(|| fmt_err("shape too large"))?;
    let body = &bytes[end..];
    if body.len() < need {
        return Err(fmt_err(format!(
            "truncated data: shape ({rows}, {cols}) needs {need} bytes, the file has {}",
            body.len()
        )));
    }
    let mut raw: Vec<f64> = body[..need]
        .chunks_exact(item)
        .map(|c| match dtype {
            Dtype::F8Le => f64::from_le_bytes(c.try_into().expect("8 bytes")),
            Dtype::F8Be => f64::from_be_bytes(c.try_into().expect("8 bytes")),
            Dtype::F4Le => f32::from_le_bytes(c.try_into().expect("4 bytes")) as f64,
            Dtype::F4Be => f32::from_be_bytes(c.try_into().expect("4 bytes")) as f64,
        })
        .collect();
    if fortran && rows > 1 && cols > 1 {
        let mut t = vec![0.0; count];
        for r in 0..rows {
            for c in 0..cols {
                t[r * cols + c] = raw[c * rows + r];
            }
        }
        raw = t;
    }
    Ok(Array2 { rows, cols, data: raw })
}

/// The text after `'key':` up to the next top-level comma (tuples kept whole).
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pat1 = format!("'{key}'");
    let pat2 = format!("\"{key}\"");
    let pos = header
        .find(&pat1)
        .map(|p| p + pat1.len())
        .or_else(|| header.find(&pat2).map(|p| p + pat2.len()))?;
    let rest = header[pos..].trim_start().strip_prefix(':')?;
    let mut depth = 0i32;
    for (i, ch) in rest.char_indices() {
        match ch {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' | '}' if depth == 0 => return Some(&rest[..i]),
            _ => {}
        }
    }
    Some(rest)
}

/// Read a track file's rows, checking the column count.
pub fn read_track_rows(path: &Path) -> Result<Vec<[f64; 6]>, TrackErrorKind> {
    let bytes = std::fs::read(path)?;
    let a = parse(&bytes)?;
    if a.cols != 6 {
        return Err(TrackErrorKind::Columns { found: a.cols });
    }
    Ok(a.data
        .chunks_exact(6)
        .map(|c| [c[0], c[1], c[2], c[3], c[4], c[5]])
        .collect())
}

/// Serialise rows as a version-1.0 `.npy` (little-endian float64, C order), as NumPy writes it.
pub fn to_bytes(rows: &[[f64; 6]]) -> Vec<u8> {
    let dict = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, 6), }}",
        rows.len()
    );
    // Pad with spaces so that magic + version + length + header + '\n' is a multiple of 64.
    let unpadded = MAGIC.len() + 2 + 2 + dict.len() + 1;
    let pad = (64 - unpadded % 64) % 64;
    let header = format!("{dict}{}\n", " ".repeat(pad));
    let mut out = Vec::with_capacity(10 + header.len() + rows.len() * 48);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for r in rows {
        for v in r {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

/// Write rows to a `.npy` file.
pub fn write_track_rows(path: &Path, rows: &[[f64; 6]]) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(&to_bytes(rows))?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let rows = vec![[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [-1.5, 0.25, 1e-9, 7.0, 8.0, 9.0]];
        let bytes = to_bytes(&rows);
        assert_eq!((bytes.len() - 2 * 48) % 64, 0, "header aligned to 64 bytes");
        let a = parse(&bytes).unwrap();
        assert_eq!((a.rows, a.cols), (2, 6));
        assert_eq!(a.data[6..], [-1.5, 0.25, 1e-9, 7.0, 8.0, 9.0]);
    }

    /// Replace `from` by `to` (same length) in place.
    fn patch(bytes: &mut [u8], from: &[u8], to: &[u8]) {
        let pos = bytes.windows(from.len()).position(|w| w == from).unwrap();
        bytes[pos..pos + to.len()].copy_from_slice(to);
    }

    #[test]
    fn fortran_order_is_transposed() {
        let mut bytes = to_bytes(&[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]]);
        patch(&mut bytes, b"'fortran_order': False", b"'fortran_order': True ");
        let hdr_end = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
        // Column-major data for the same logical array.
        let col_major: [f64; 12] = [1.0, 10.0, 2.0, 20.0, 3.0, 30.0, 4.0, 40.0, 5.0, 50.0, 6.0, 60.0];
        for (k, v) in col_major.iter().enumerate() {
            bytes[hdr_end + 8 * k..hdr_end + 8 * k + 8].copy_from_slice(&v.to_le_bytes());
        }
        let a = parse(&bytes).unwrap();
        assert_eq!(&a.data[..6], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(matches!(parse(b"hello world"), Err(TrackErrorKind::NpyFormat(_))));
        let bytes = to_bytes(&[[0.0; 6]; 3]);
        let truncated = &bytes[..bytes.len() - 5];
        let e = parse(truncated).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
        let mut wrong = bytes.clone();
        patch(&mut wrong, b"<f8", b"<i8");
        let e = parse(&wrong).unwrap_err().to_string();
        assert!(e.contains("<i8"), "{e}");
    }
}
