//! Errors of the trainer library.

use std::path::{Path, PathBuf};

use slipstream_sim::{SimError, TrackError};

/// Anything that stops training, evaluation or model loading. Messages name the file, field or
/// tensor involved.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{file}: {message}")]
    File { file: PathBuf, message: String },
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error(transparent)]
    Track(#[from] TrackError),
    #[error("{file}: invalid model: {message}")]
    Model { file: PathBuf, message: String },
    #[error("{0}")]
    Reward(String),
    #[error("device: {0}")]
    Device(String),
    /// (Its message includes the cause, so it reports no `source()`: chains would repeat it.)
    #[error("libtorch: {0}")]
    Torch(tch::TchError),
    #[error("{0}")]
    Timeout(String),
    /// A broken promise of the simulator (e.g. determinism); a bug to report.
    #[error("internal error: {0}")]
    Internal(String),
    #[error("invalid option {option}: {message}")]
    Option { option: String, message: String },
}

impl TrainError {
    pub fn file(file: &Path, message: impl Into<String>) -> Self {
        TrainError::File {
            file: file.to_path_buf(),
            message: message.into(),
        }
    }
    pub fn model(file: &Path, message: impl Into<String>) -> Self {
        TrainError::Model {
            file: file.to_path_buf(),
            message: message.into(),
        }
    }
    pub fn option(option: impl Into<String>, message: impl Into<String>) -> Self {
        TrainError::Option {
            option: option.into(),
            message: message.into(),
        }
    }
}

impl From<tch::TchError> for TrainError {
    fn from(e: tch::TchError) -> Self {
        TrainError::Torch(e)
    }
}
