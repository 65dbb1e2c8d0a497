//! Checking a student's reward function (the API's `CheckReward`, the console's "Validate"): the
//! code runs in the [`crate::sandbox`] through [`crate::reward_check`], never in this process, and
//! a few checks at a time so that they cannot crowd out the league's own work.

use std::sync::OnceLock;

use tokio::sync::Semaphore;

use crate::ctx::Ctx;
use crate::error::{LeagueError, Result};
use crate::races::upload_sha;
use crate::reward_check::{CheckTrack, RewardVerdict, Trainer, check_reward};
use crate::sandbox::{Limits, Sandbox};

/// Largest reward file accepted, bytes.
pub const MAX_REWARD_BYTES: usize = 64 << 10;

/// The sandbox and the trainer, found on first use (or why not), and the checks' turns.
#[derive(Debug)]
pub struct StudentCode {
    found: OnceLock<std::result::Result<(Sandbox, Trainer), String>>,
    turns: Semaphore,
}

impl StudentCode {
    pub fn new(at_once: usize) -> Self {
        StudentCode {
            found: OnceLock::new(),
            turns: Semaphore::new(at_once.max(1)),
        }
    }

    pub(crate) fn found(&self) -> Result<&(Sandbox, Trainer)> {
        self.found
            .get_or_init(|| {
                let sandbox = Sandbox::detect().map_err(|e| e.to_string())?;
                let trainer = Trainer::locate().map_err(|e| e.to_string())?;
                Ok((sandbox, trainer))
            })
            .as_ref()
            .map_err(|e| LeagueError::precondition(format!("this league runs no students' code: {e}")))
    }
}

/// Limits of one check: a short drive takes a few seconds of CPU.
fn check_limits() -> Limits {
    Limits {
        cpu_s: 60,
        memory_bytes: 4 << 30,
        processes: 64,
        file_bytes: 16 << 20,
        wall: std::time::Duration::from_secs(60),
        output_bytes: 256 << 10,
    }
}

impl Ctx {
    /// Check `code` (a `reward_function.py`) on `track` (a built-in name or an uploaded track's id).
    pub async fn check_reward(&self, code: &str, track: &str) -> Result<RewardVerdict> {
        if code.trim().is_empty() || code.len() > MAX_REWARD_BYTES {
            return Err(LeagueError::invalid(format!(
                "code: expected a reward_function.py of 1–{MAX_REWARD_BYTES} bytes, got {}",
                code.len()
            )));
        }
        let bytes;
        let track = match upload_sha(track) {
            Some(sha) => {
                if !self.track_exists(track).await? {
                    return Err(LeagueError::not_found(format!(
                        "track: there is no uploaded track {track:?}"
                    )));
                }
                bytes = self
                    .store
                    .blob(sha)
                    .await?
                    .ok_or_else(|| LeagueError::internal(format!("track {track} is missing its file")))?;
                CheckTrack::Npy(&bytes)
            }
            None if slipstream_sim::track::builtin::find(track).is_some() => CheckTrack::Builtin(track),
            None => {
                return Err(LeagueError::not_found(format!(
                    "track: {track:?} is neither a built-in track nor an uploaded track's id (upload:…)"
                )));
            }
        };
        let (sandbox, trainer) = self.student_code.found()?;
        let _turn = self
            .student_code
            .turns
            .acquire()
            .await
            .map_err(|_| LeagueError::internal("reward checks are closed"))?;
        let jobs = std::env::temp_dir();
        check_reward(sandbox, trainer, &jobs, code, track, check_limits())
            .await
            .map_err(|e| LeagueError::internal(format!("the reward check could not run: {e}")))
    }
}
