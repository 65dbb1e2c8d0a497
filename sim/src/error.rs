//! Error types of the simulator library.

use std::path::PathBuf;

/// A track could not be loaded, parsed, generated or validated.
///
/// Displays as `<source>: <what went wrong>`, where the source is a file path, a built-in name or
/// `generated(seed=…)`, and the message names the waypoint index, line or field involved.
///
/// The message is complete on its own (it includes the underlying cause), so the error reports no
/// `source()`: printing the chain (`{:#}` with anyhow) would repeat it.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {kind}")]
pub struct TrackError {
    pub source_name: String,
    pub kind: TrackErrorKind,
}

impl TrackError {
    pub fn new(source_name: impl Into<String>, kind: TrackErrorKind) -> Self {
        Self {
            source_name: source_name.into(),
            kind,
        }
    }
}

impl From<std::io::Error> for TrackErrorKind {
    fn from(e: std::io::Error) -> Self {
        TrackErrorKind::Io(e)
    }
}

/// What was wrong with a track.
#[derive(Debug, thiserror::Error)]
pub enum TrackErrorKind {
    #[error("cannot read the file: {0}")]
    Io(std::io::Error),
    #[error("unsupported track file extension {0:?}: expected .npy or .csv")]
    Extension(String),
    #[error("not a valid .npy file: {0}")]
    NpyFormat(String),
    #[error("unsupported .npy dtype {0:?}: expected little-endian float64 ('<f8')")]
    NpyDtype(String),
    #[error("expected 6 columns (center_x, center_y, inner_x, inner_y, outer_x, outer_y), found {found}")]
    Columns { found: usize },
    #[error("line {line}: {message}")]
    Csv { line: usize, message: String },
    #[error("waypoint {index}: {column} is {value} (expected a finite number of metres)")]
    NonFinite {
        index: usize,
        column: &'static str,
        value: f64,
    },
    #[error("only {distinct} distinct centre-line waypoints; a {kind} track needs at least {min}")]
    TooFewPoints {
        distinct: usize,
        min: usize,
        kind: &'static str,
    },
    #[error("waypoint {index}: the {border} border crosses the centre line (at centre-line segment {other})")]
    BorderCrossesCenter {
        index: usize,
        other: usize,
        border: &'static str,
    },
    #[error("waypoint {index}: the inner and outer borders cross each other (at waypoint {other})")]
    BordersCross { index: usize, other: usize },
    #[error("waypoint {index}: the {line} crosses itself (at waypoint {other})")]
    SelfIntersection {
        index: usize,
        other: usize,
        line: &'static str,
    },
    #[error(
        "waypoint {index}: the road overlaps itself near waypoint {other} (centre lines {distance:.3} m apart, \
         the road needs {need:.3} m; a bend tighter than half the width or legs too close)"
    )]
    Overlap {
        index: usize,
        other: usize,
        distance: f64,
        need: f64,
    },
    #[error("waypoint {index}: the track is {width:.3} m wide, narrower than the car ({min:.3} m)")]
    TooNarrow { index: usize, width: f64, min: f64 },
    #[error("unknown built-in track {name:?}; built-in tracks: {known}")]
    UnknownBuiltin { name: String, known: String },
    #[error("invalid generator request: {0}")]
    GeneratorRequest(String),
    #[error(
        "the generator found no valid track in {attempts} attempts; try another seed, a longer length or a narrower width"
    )]
    GeneratorFailed { attempts: u32 },
}

/// Errors of the simulator's configuration, files and stepping API.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Track(#[from] TrackError),
    #[error("{file}: {message}")]
    File { file: PathBuf, message: String },
    #[error("invalid configuration: {field}: {message}")]
    Config { field: String, message: String },
    #[error("action for car {car}: {message}")]
    Action { car: usize, message: String },
    #[error("buffer {name}: expected length {expected}, got {got}")]
    Buffer {
        name: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("a simulator worker thread stopped unexpectedly: {0}")]
    Worker(String),
}

impl SimError {
    pub fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        SimError::Config {
            field: field.into(),
            message: message.into(),
        }
    }
    pub fn file(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        SimError::File {
            file: file.into(),
            message: message.into(),
        }
    }
}
