//! Students' code (reward functions) never runs inside the server: it runs in a separate process,
//! confined by bubblewrap (Debian's `bwrap`, the sandbox Flatpak uses) and kernel resource limits.
//!
//! * **Namespaces** (bwrap): its own PID, network (no interface but a down loopback: no network at
//!   all), IPC and UTS namespaces, a new session (no terminal to inject into), killed with the
//!   server (`--die-with-parent`).
//! * **Files**: the system's program folders (`/usr`, `/lib*`, `/bin`) read-only, the folders a job
//!   names read-only (the trainer and its libraries), its job folder — its working directory — the
//!   only writable place besides a private `/tmp`. Nothing else of the machine is there: not `/etc`
//!   (no `/etc/passwd`), `/home`, `/root`, nor the league's database or files.
//! * **Limits** (`setrlimit`, inherited by everything it starts): CPU seconds, address space,
//!   processes (a fork bomb stops there), file size; and a wall-clock limit after which bwrap is
//!   killed, which ends its PID namespace and so every process in it. Output is kept up to a bound.
//! * **User**: the kernel does not hold root to the process limit, so a server running as root (in
//!   a container) starts bwrap privileged and has `setpriv` drop the job to an unprivileged user id
//!   of its own, with no capabilities; a server running as a user has bwrap make a user namespace.
//!
//! [`Sandbox::detect`] finds `bwrap` (`SLIPSTREAM_BWRAP`, else `PATH`) and says plainly when it is
//! missing: the league runs no student code without it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// Resource limits of one sandboxed job.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// CPU time, s (all its threads and processes count, each process against the limit).
    pub cpu_s: u64,
    /// Address space per process, bytes.
    pub memory_bytes: u64,
    /// Processes and threads of the job's user.
    pub processes: u64,
    /// Largest file it may write, bytes.
    pub file_bytes: u64,
    /// Wall-clock time before it is killed.
    pub wall: Duration,
    /// Standard output and standard error kept, bytes each (the rest is read and dropped).
    pub output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            cpu_s: 600,
            memory_bytes: 8 << 30,
            processes: 256,
            file_bytes: 1 << 30,
            wall: Duration::from_secs(15 * 60),
            output_bytes: 1 << 20,
        }
    }
}

/// One program to run confined.
#[derive(Clone, Debug)]
pub struct Job {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// The job's folder: its working directory and the only writable folder it sees.
    pub dir: PathBuf,
    /// More folders (or files) it may read, at the same paths.
    pub read_only: Vec<PathBuf>,
    /// Its environment (nothing of the server's is passed on); `PATH`, `HOME` (the job folder) and
    /// `TMPDIR` are set.
    pub env: Vec<(OsString, OsString)>,
    pub limits: Limits,
}

/// How a sandboxed job ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this status.
    Exited(i32),
    /// A signal ended it: its CPU time limit (`SIGXCPU`, `SIGKILL`), a crash, or its own doing.
    Signalled(i32),
    /// Still running when its wall-clock limit came; killed with everything it started.
    WallClock,
    /// Stopped on request (`Sandbox::run_until`'s `cancel`); killed with everything it started.
    Cancelled,
}

/// A finished job: how it ended and what it printed (each up to [`Limits::output_bytes`]).
#[derive(Clone, Debug)]
pub struct Outcome {
    pub ended: Ended,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.ended == Ended::Exited(0)
    }

    /// How it ended, in words for its owner: `exited with status 1`, `stopped: it used its 60 s of
    /// CPU time`, ….
    pub fn describe(&self, limits: &Limits) -> String {
        match self.ended {
            Ended::Exited(c) => format!("exited with status {c}"),
            Ended::Signalled(libc::SIGXCPU) => format!("stopped: it used its {} s of CPU time", limits.cpu_s),
            Ended::Signalled(libc::SIGKILL) => "killed (CPU time or memory limit)".into(),
            Ended::Signalled(s) => format!("ended by signal {s}"),
            Ended::WallClock => format!("stopped: still running after {} s", limits.wall.as_secs()),
            Ended::Cancelled => "stopped on request".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "bubblewrap (bwrap) was not found ({0}): students' code runs only inside it; install Debian's \
         bubblewrap (scripts/sandbox-deps) or set SLIPSTREAM_BWRAP to its path"
    )]
    Missing(String),
    /// Another program the sandbox or its jobs need is missing (the message says which and how
    /// to get it).
    #[error("{0}")]
    NotFound(String),
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> SandboxError {
    let what = what.into();
    move |source| SandboxError::Io { what, source }
}

/// User ids for jobs when the server runs as root: one of its own per job, so that the process
/// limit counts that job's processes alone.
const JOB_UID_BASE: u32 = 2_100_000_000;
static NEXT_JOB: AtomicU32 = AtomicU32::new(0);

/// The sandbox: where `bwrap` (and, as root, `setpriv`) is.
#[derive(Clone, Debug)]
pub struct Sandbox {
    bwrap: PathBuf,
    /// `setpriv`, when the server runs as root and jobs drop to a user of their own.
    setpriv: Option<PathBuf>,
}

/// The first `name` on `PATH`.
pub(crate) fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

impl Sandbox {
    /// Find `bwrap`: `SLIPSTREAM_BWRAP`, else on `PATH`.
    pub fn detect() -> Result<Sandbox, SandboxError> {
        match std::env::var_os("SLIPSTREAM_BWRAP") {
            Some(p) => Sandbox::at(PathBuf::from(p)),
            None => Sandbox::at(which("bwrap").ok_or_else(|| SandboxError::Missing("not on PATH".into()))?),
        }
    }

    /// The sandbox with `bwrap` at `bwrap`.
    pub fn at(bwrap: PathBuf) -> Result<Sandbox, SandboxError> {
        if !bwrap.is_file() {
            return Err(SandboxError::Missing(format!("{} is not a file", bwrap.display())));
        }
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let setpriv = if root {
            Some(which("setpriv").ok_or_else(|| {
                SandboxError::NotFound(
                    "setpriv (util-linux) is not on PATH: running as root, the sandbox drops each job to a user \
                     of its own with it (scripts/sandbox-deps installs it)"
                        .into(),
                )
            })?)
        } else {
            None
        };
        Ok(Sandbox { bwrap, setpriv })
    }

    /// bwrap's command line for `job` in its (canonical) folder `dir`, run by `uid` when the server
    /// is root.
    fn command_line(&self, job: &Job, dir: &Path, uid: Option<u32>) -> Vec<OsString> {
        let mut args = CommandLine::default();
        args.add(["--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net"]);
        args.add(["--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]);
        if uid.is_none() {
            args.add(["--unshare-user"]);
        }
        // The system's programs and libraries, read-only (merged-/usr links as links).
        args.add(["--ro-bind", "/usr", "/usr"]);
        for d in ["/lib", "/lib64", "/lib32", "/bin", "/sbin"] {
            let p = Path::new(d);
            match std::fs::read_link(p) {
                Ok(target) => args.add([OsString::from("--symlink"), target.into(), d.into()]),
                Err(_) if p.is_dir() => args.add(["--ro-bind", d, d]),
                Err(_) => {}
            }
        }
        args.add(["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]);
        let ld_cache = Path::new("/etc/ld.so.cache");
        if ld_cache.is_file() {
            args.bind("--ro-bind", ld_cache);
        }
        for p in &job.read_only {
            args.bind("--ro-bind", p);
        }
        args.bind("--bind", dir);
        args.add([OsString::from("--chdir"), dir.into()]);
        args.add([
            "--clearenv",
            "--setenv",
            "PATH",
            "/usr/bin:/bin",
            "--setenv",
            "TMPDIR",
            "/tmp",
        ]);
        args.add([OsString::from("--setenv"), "HOME".into(), dir.into()]);
        for (k, v) in &job.env {
            args.add([OsString::from("--setenv"), k.clone(), v.clone()]);
        }
        if let (Some(setpriv), Some(uid)) = (&self.setpriv, uid) {
            args.add([setpriv.as_os_str().to_os_string()]);
            args.add([format!("--reuid={uid}"), format!("--regid={uid}")]);
            args.add(["--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"]);
        }
        args.add([job.program.clone().into_os_string()]);
        args.add(job.args.iter().cloned());
        args.args
    }

    /// Run `job` to its end (or its wall-clock limit).
    pub async fn run(&self, job: &Job) -> Result<Outcome, SandboxError> {
        self.run_until(job, std::future::pending()).await
    }

    /// Run `job` to its end, its wall-clock limit, or until `cancel` completes (then it is killed
    /// with everything it started: [`Ended::Cancelled`]).
    pub async fn run_until(
        &self,
        job: &Job,
        cancel: impl std::future::Future<Output = ()>,
    ) -> Result<Outcome, SandboxError> {
        let dir = job
            .dir
            .canonicalize()
            .map_err(io(format!("job folder {}", job.dir.display())))?;
        let uid = self
            .setpriv
            .as_ref()
            .map(|_| JOB_UID_BASE + NEXT_JOB.fetch_add(1, Ordering::Relaxed) % 1_000_000);
        if let Some(uid) = uid {
            chown_tree(&dir, uid)?;
        }
        let args = self.command_line(job, &dir, uid);
        let mut cmd = Command::new(&self.bwrap);
        cmd.args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let limits = job.limits.clone();
        // SAFETY: the closure runs in the child between fork and exec and calls only setrlimit,
        // which is async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                let set = |resource, soft: u64, hard: u64| {
                    let r = libc::rlimit {
                        rlim_cur: soft as libc::rlim_t,
                        rlim_max: hard as libc::rlim_t,
                    };
                    if libc::setrlimit(resource, &r) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                };
                // CPU: SIGXCPU at the limit, SIGKILL a second later.
                set(libc::RLIMIT_CPU, limits.cpu_s, limits.cpu_s + 1)?;
                set(libc::RLIMIT_AS, limits.memory_bytes, limits.memory_bytes)?;
                set(libc::RLIMIT_NPROC, limits.processes, limits.processes)?;
                set(libc::RLIMIT_FSIZE, limits.file_bytes, limits.file_bytes)?;
                set(libc::RLIMIT_CORE, 0, 0)?;
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(io(format!("starting {}", self.bwrap.display())))?;
        let out = tokio::spawn(read_bounded(child.stdout.take().expect("piped"), limits.output_bytes));
        let err = tokio::spawn(read_bounded(child.stderr.take().expect("piped"), limits.output_bytes));
        let waited = tokio::select! {
            w = tokio::time::timeout(limits.wall, child.wait()) => Some(w),
            () = cancel => None,
        };
        let ended = match waited {
            None => {
                let _ = child.kill().await;
                Ended::Cancelled
            }
            Some(Ok(status)) => {
                let status = status.map_err(io("waiting for the sandboxed job"))?;
                // bwrap exits with 128 + the signal that ended the job.
                match status.code() {
                    Some(c) if c > 128 && c < 128 + 65 => Ended::Signalled(c - 128),
                    Some(c) => Ended::Exited(c),
                    None => Ended::Signalled(std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(0)),
                }
            }
            Some(Err(_)) => {
                // Killing bwrap ends the job's PID namespace, and with it every process there.
                let _ = child.kill().await;
                Ended::WallClock
            }
        };
        let stdout = out.await.unwrap_or_default();
        let stderr = err.await.unwrap_or_default();
        Ok(Outcome { ended, stdout, stderr })
    }
}

/// bwrap's arguments, and the folders made inside so far.
#[derive(Default)]
struct CommandLine {
    args: Vec<OsString>,
    made: Vec<PathBuf>,
}

impl CommandLine {
    fn add<S: Into<OsString>>(&mut self, v: impl IntoIterator<Item = S>) {
        self.args.extend(v.into_iter().map(Into::into));
    }

    /// Bind `path` at the same place (`how`: `--bind` or `--ro-bind`), first making the folders
    /// above it traversable (bwrap makes them 0700, which the job's user could not pass).
    fn bind(&mut self, how: &str, path: &Path) {
        let mut above: Vec<&Path> = path.ancestors().skip(1).collect();
        above.reverse();
        for a in above {
            let given = ["/", "/usr", "/proc", "/dev", "/tmp"].iter().any(|g| Path::new(g) == a);
            if !given && !self.made.iter().any(|m| m == a) {
                self.add([OsString::from("--perms"), "0755".into(), "--dir".into(), a.into()]);
                self.made.push(a.to_path_buf());
            }
        }
        self.add([OsString::from(how), path.into(), path.into()]);
    }
}

/// Read `r` to its end, keeping the first `limit` bytes.
async fn read_bounded(mut r: impl AsyncRead + Unpin, limit: usize) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = r.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let room = limit.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
    kept
}

/// Give the job folder (and what is in it) to the job's user.
fn chown_tree(dir: &Path, uid: u32) -> Result<(), SandboxError> {
    let meta = std::fs::symlink_metadata(dir).map_err(io(format!("{}", dir.display())))?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    std::os::unix::fs::lchown(dir, Some(uid), Some(uid)).map_err(io(format!("chown {}", dir.display())))?;
    if meta.is_dir() {
        for e in std::fs::read_dir(dir).map_err(io(format!("{}", dir.display())))? {
            let e = e.map_err(io(format!("{}", dir.display())))?;
            chown_tree(&e.path(), uid)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox() -> Sandbox {
        Sandbox::detect().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Run a shell script confined in a fresh job folder; returns the outcome and the folder.
    async fn sh(script: &str, limits: Limits) -> (Outcome, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let job = Job {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            dir: dir.path().to_path_buf(),
            read_only: vec![],
            env: vec![],
            limits,
        };
        (sandbox().run(&job).await.unwrap(), dir)
    }

    fn text(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    #[test]
    fn a_missing_sandbox_is_said_plainly() {
        let e = Sandbox::at("/nonexistent/bwrap".into()).unwrap_err().to_string();
        assert!(
            e.contains("bubblewrap (bwrap) was not found") && e.contains("/nonexistent/bwrap"),
            "{e}"
        );
        assert!(e.contains("students' code runs only inside it"), "{e}");
    }

    #[tokio::test]
    async fn the_job_folder_is_the_only_place_it_can_write_and_the_machine_is_not_there() {
        // A file the server has (its database, say), outside the job folder.
        let secret = tempfile::tempdir().unwrap();
        let db = secret.path().join("league.db");
        std::fs::write(&db, "secret").unwrap();
        let (o, dir) = sh(
            &format!(
                "echo made > made.txt; cat /etc/passwd; cat {db}; ls /root /home; echo x > /usr/evil; echo y > {}/evil; \
                 echo tmp > /tmp/t && cat /tmp/t; exit 3",
                secret.path().display(),
                db = db.display()
            ),
            Limits::default(),
        )
        .await;
        assert_eq!(o.ended, Ended::Exited(3), "{}", text(&o.stderr));
        let err = text(&o.stderr);
        assert!(err.contains("/etc/passwd: No such file"), "{err}");
        assert!(err.contains("league.db: No such file"), "{err}");
        assert!(
            err.contains("/usr/evil: Read-only file system") || err.contains("/usr/evil: Permission denied"),
            "{err}"
        );
        assert!(!secret.path().join("evil").exists());
        assert_eq!(std::fs::read_to_string(&db).unwrap(), "secret");
        assert_eq!(std::fs::read_to_string(dir.path().join("made.txt")).unwrap(), "made\n");
        assert_eq!(text(&o.stdout), "tmp\n", "a private /tmp works");
    }

    #[tokio::test]
    async fn it_has_no_network() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (o, _dir) = sh(
            &format!(
                "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), timeout=2)' 2>&1; \
                 python3 -c 'import socket; socket.create_connection((\"pypi.org\", 443), timeout=2)' 2>&1"
            ),
            Limits::default(),
        )
        .await;
        let out = text(&o.stdout);
        assert!(
            out.contains("Network is unreachable") || out.contains("Connection refused"),
            "{out}"
        );
        assert!(
            out.contains("Temporary failure in name resolution") || out.contains("unreachable"),
            "{out}"
        );
        listener.set_nonblocking(true).unwrap();
        assert!(listener.accept().is_err(), "nothing reached the server's port");
    }

    #[tokio::test]
    async fn a_fork_bomb_stops_at_the_process_limit() {
        let limits = Limits {
            processes: 32,
            wall: Duration::from_secs(20),
            ..Limits::default()
        };
        let (o, _dir) = sh(
            "i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done 2>/dev/null; echo started",
            limits,
        )
        .await;
        // The shell could not start 200 sleepers; it ends (its sleepers are killed with the
        // namespace) long before they would have.
        assert_ne!(o.ended, Ended::WallClock);
        assert!(!o.success() && !text(&o.stdout).contains("started"), "{o:?}");
    }

    #[tokio::test]
    async fn a_busy_loop_is_stopped_at_its_cpu_time() {
        let limits = Limits {
            cpu_s: 1,
            ..Limits::default()
        };
        let (o, _dir) = sh("while :; do :; done", limits.clone()).await;
        assert_eq!(o.ended, Ended::Signalled(libc::SIGXCPU));
        assert!(o.describe(&limits).contains("CPU time"), "{}", o.describe(&limits));
    }

    #[tokio::test]
    async fn a_sleeper_is_stopped_at_its_wall_clock_limit_with_everything_it_started() {
        let limits = Limits {
            wall: Duration::from_secs(1),
            ..Limits::default()
        };
        let (o, dir) = sh("(sleep 300; echo late > late.txt) & sleep 600", limits).await;
        assert_eq!(o.ended, Ended::WallClock);
        // Its background child died with it: soon no process has its working directory there.
        let job = dir.path().canonicalize().unwrap();
        let in_job = || {
            std::fs::read_dir("/proc")
                .unwrap()
                .filter_map(|e| std::fs::read_link(e.ok()?.path().join("cwd")).ok())
                .filter(|cwd| cwd.starts_with(&job))
                .count()
        };
        let mut left = in_job();
        for _ in 0..100 {
            if left == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            left = in_job();
        }
        assert_eq!(left, 0, "processes left running in the job folder");
    }

    #[tokio::test]
    async fn a_huge_allocation_fails_inside_the_job() {
        let (o, _dir) = sh(
            "python3 -c 'b = bytearray(20 * 1024**3)' 2>&1; echo status $?",
            Limits {
                memory_bytes: 1 << 30,
                ..Limits::default()
            },
        )
        .await;
        let out = text(&o.stdout);
        assert!(out.contains("MemoryError") && out.contains("status 1"), "{out}");
    }

    #[tokio::test]
    async fn output_is_kept_up_to_its_bound() {
        let (o, _dir) = sh(
            "yes | head -c 100000",
            Limits {
                output_bytes: 1000,
                ..Limits::default()
            },
        )
        .await;
        assert!(o.success());
        assert_eq!(o.stdout.len(), 1000);
    }
}
