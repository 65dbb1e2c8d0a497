//! A student's reward function checked before any training (the console's "Validate" button):
//! `trainer check-reward` run on the chosen track inside the [`crate::sandbox`], never in the
//! server. The student sees the function's first error — `reward_function.py:LINE`, the source
//! line, the step's params — or what it returned; code that reaches for the machine finds nothing
//! there, and code that runs away is stopped at its limits.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::sandbox::{Job, Limits, Sandbox, SandboxError};

/// The reward file's name in the job folder (and in what the student reads).
const REWARD_FILE: &str = "reward_function.py";

/// The trainer binary that runs students' Python (the league's own build runs presets only).
#[derive(Clone, Debug)]
pub struct Trainer {
    pub program: PathBuf,
}

impl Trainer {
    /// `SLIPSTREAM_TRAINER`, else `trainer` beside this executable (or beside the folder of a test
    /// binary, `target/*/deps/..`), else `trainer` on `PATH`.
    pub fn locate() -> Result<Trainer, SandboxError> {
        if let Some(p) = std::env::var_os("SLIPSTREAM_TRAINER") {
            let program = PathBuf::from(p);
            return if program.is_file() {
                Ok(Trainer { program })
            } else {
                Err(SandboxError::NotFound(format!(
                    "SLIPSTREAM_TRAINER={} is not a file",
                    program.display()
                )))
            };
        }
        let exe = std::env::current_exe().map_err(|source| SandboxError::Io {
            what: "this executable's path".into(),
            source,
        })?;
        let beside = exe
            .parent()
            .into_iter()
            .flat_map(|d| [d.join("trainer"), d.join("../trainer")]);
        beside
            .filter(|p| p.is_file())
            .chain(crate::sandbox::which("trainer"))
            .next()
            .and_then(|p| p.canonicalize().ok())
            .map(|program| Trainer { program })
            .ok_or_else(|| {
                SandboxError::NotFound(
                    "the trainer binary (checks and trains students' reward functions) was found neither beside \
                     this executable nor on PATH; build it (cargo build -p slipstream-trainer) or set SLIPSTREAM_TRAINER"
                        .into(),
                )
            })
    }

    /// What the trainer reads besides the system: itself, and the PyTorch environment it was built
    /// against (libtorch; numpy, scipy and shapely for reward functions).
    pub(crate) fn read_only(&self) -> Vec<PathBuf> {
        let mut v = vec![self.program.clone()];
        v.push(PathBuf::from(env!("SLIPSTREAM_TORCH_SITE_PACKAGES")));
        v
    }
}

/// The track the reward is checked on.
#[derive(Clone, Copy, Debug)]
pub enum CheckTrack<'a> {
    /// A built-in track's name.
    Builtin(&'a str),
    /// An uploaded DeepRacer `.npy` file's bytes.
    Npy(&'a [u8]),
}

/// What a sound reward function returned over the check's drive.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct RewardStats {
    pub calls: u64,
    pub offtrack_calls: u64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
}

/// The check's verdict.
#[derive(Clone, Debug, PartialEq)]
pub enum RewardVerdict {
    Ok(RewardStats),
    /// Its error as the student should read it (paths relative to their file), or the limit it hit.
    Refused(String),
}

#[derive(Deserialize)]
struct Report {
    ok: bool,
    error: Option<String>,
    #[serde(flatten)]
    stats: Option<RewardStats>,
}

/// Check `code` (a `reward_function.py`) on `track` in a fresh job folder under `jobs` (removed
/// afterwards), within `limits`.
pub async fn check_reward(
    sandbox: &Sandbox,
    trainer: &Trainer,
    jobs: &Path,
    code: &str,
    track: CheckTrack<'_>,
    limits: Limits,
) -> Result<RewardVerdict, SandboxError> {
    let dir = tempfile::Builder::new()
        .prefix("reward-check-")
        .tempdir_in(jobs)
        .map_err(|source| SandboxError::Io {
            what: format!("a job folder in {}", jobs.display()),
            source,
        })?;
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.path().join(name), bytes).map_err(|source| SandboxError::Io {
            what: format!("writing the job's {name}"),
            source,
        })
    };
    write(REWARD_FILE, code.as_bytes())?;
    let track_arg = match track {
        CheckTrack::Builtin(name) => name.to_string(),
        CheckTrack::Npy(bytes) => {
            write("track.npy", bytes)?;
            "track.npy".into()
        }
    };
    let job = Job {
        program: trainer.program.clone(),
        args: ["check-reward", "--reward", REWARD_FILE, "--track", &track_arg, "--json"]
            .map(Into::into)
            .to_vec(),
        dir: dir.path().to_path_buf(),
        read_only: trainer.read_only(),
        env: vec![],
        limits: limits.clone(),
    };
    let outcome = sandbox.run(&job).await?;
    // The student's own file is `reward_function.py`, not a path on the server.
    let job_dir = dir.path().canonicalize().unwrap_or_else(|_| dir.path().to_path_buf());
    let relative = |s: &str| s.replace(&format!("{}/", job_dir.display()), "");
    let report = std::str::from_utf8(&outcome.stdout)
        .ok()
        .and_then(|s| s.lines().rev().find_map(|l| serde_json::from_str::<Report>(l).ok()));
    Ok(match report {
        Some(Report {
            ok: true,
            stats: Some(stats),
            ..
        }) if outcome.success() => RewardVerdict::Ok(stats),
        Some(Report {
            ok: false,
            error: Some(e),
            ..
        }) => RewardVerdict::Refused(relative(&e)),
        _ => {
            let stderr = String::from_utf8_lossy(&outcome.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            RewardVerdict::Refused(relative(&format!(
                "the reward check {}{}",
                outcome.describe(&limits),
                if tail.is_empty() {
                    String::new()
                } else {
                    format!(": {}", tail.join("\n"))
                }
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Check `code` on the built-in oval within `limits`.
    async fn check(code: &str, limits: Limits) -> RewardVerdict {
        let sandbox = Sandbox::detect().unwrap_or_else(|e| panic!("{e}"));
        let trainer = Trainer::locate().unwrap_or_else(|e| panic!("{e}"));
        let jobs = tempfile::tempdir().unwrap();
        let v = check_reward(
            &sandbox,
            &trainer,
            jobs.path(),
            code,
            CheckTrack::Builtin("oval"),
            limits,
        )
        .await
        .unwrap();
        assert_eq!(
            std::fs::read_dir(jobs.path()).unwrap().count(),
            0,
            "the job folder is removed"
        );
        v
    }

    fn refused(v: RewardVerdict) -> String {
        match v {
            RewardVerdict::Refused(e) => e,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    const HEAD: &str = "def reward_function(params):\n";

    #[tokio::test]
    async fn a_sound_reward_reports_what_it_returned() {
        let v = check(
            &format!("{HEAD}    import numpy, scipy, shapely\n    return float(params['speed'])\n"),
            Limits::default(),
        )
        .await;
        let RewardVerdict::Ok(s) = v else { panic!("{v:?}") };
        assert!(s.calls > 0 && s.offtrack_calls > 0 && s.max > 0.0, "{s:?}");
    }

    #[tokio::test]
    async fn a_bug_is_shown_at_its_line_in_the_students_file() {
        let e = refused(
            check(
                &format!("{HEAD}    x = params['speed']\n    return x / 0\n"),
                Limits::default(),
            )
            .await,
        );
        assert!(
            e.starts_with("reward_function.py:3") || e.contains(" reward_function.py:3"),
            "{e}"
        );
        assert!(e.contains("ZeroDivisionError") && e.contains("return x / 0"), "{e}");
        assert!(
            !e.contains("/tmp") && !e.contains("reward-check-"),
            "no server path: {e}"
        );
    }

    /// Hostile reward functions: each fails with a clear message, and nothing of the machine or
    /// of other users is reached.
    #[tokio::test]
    async fn hostile_rewards_are_contained() {
        let secret = tempfile::tempdir().unwrap();
        let db = secret.path().join("league.db");
        std::fs::write(&db, "other students' models").unwrap();
        let cases = [
            ("open('/etc/passwd').read()", "No such file or directory: '/etc/passwd'"),
            (&format!("open('{}').read()", db.display()), "No such file or directory"),
            (
                "__import__('socket').create_connection(('1.1.1.1', 80), timeout=2)",
                "Network is unreachable",
            ),
            (
                "__import__('subprocess').run(['cat', '/etc/shadow'], check=True)",
                "CalledProcessError",
            ),
            (
                &format!("open('{}/owned', 'w').write('x')", secret.path().display()),
                "No such file or directory",
            ),
            ("open('/usr/owned', 'w').write('x')", "Read-only file system"),
            (
                "assert __import__('ctypes').CDLL(None).system(b'touch /usr/owned') == 0, 'touch failed'",
                "AssertionError: touch failed",
            ),
        ];
        for (line, needle) in cases {
            let v = check(&format!("{HEAD}    {line}\n    return 1.0\n"), Limits::default()).await;
            let RewardVerdict::Refused(e) = v else {
                panic!("{line}: {v:?}")
            };
            assert!(e.contains(needle), "{line}: {e}");
        }
        assert_eq!(std::fs::read_to_string(&db).unwrap(), "other students' models");
        assert_eq!(
            std::fs::read_dir(secret.path()).unwrap().count(),
            1,
            "nothing written beside it"
        );
        assert!(!Path::new("/usr/owned").exists());
    }

    #[tokio::test]
    async fn a_reward_that_runs_away_is_stopped_at_its_limits() {
        let cases = [
            (
                "while True:\n        pass",
                Limits {
                    cpu_s: 3,
                    ..Limits::default()
                },
                "CPU time",
            ),
            (
                "b = bytearray(20 * 1024**3)",
                Limits {
                    memory_bytes: 4 << 30,
                    ..Limits::default()
                },
                "MemoryError",
            ),
            (
                "__import__('time').sleep(600)",
                Limits {
                    wall: Duration::from_secs(5),
                    ..Limits::default()
                },
                "still running after 5 s",
            ),
            (
                "while True:\n        __import__('os').fork()",
                Limits {
                    processes: 64,
                    wall: Duration::from_secs(30),
                    ..Limits::default()
                },
                "BlockingIOError",
            ),
        ];
        for (body, limits, needle) in cases {
            let e = refused(check(&format!("{HEAD}    {body}\n    return 1.0\n"), limits).await);
            assert!(e.contains(needle), "{body}: {e}");
        }
    }
}
