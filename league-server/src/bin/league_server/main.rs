//! `league-server`: run the league (serve) or a remote evaluation worker (worker).

mod bench;
mod bench_console;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use slipstream_league::{Config, client, serve, worker};

/// The Slipstream league server: races, model uploads, an evaluation queue and leaderboards over
/// gRPC (package slipstream.league.v1, with health checks and server reflection).
#[derive(Parser, Debug)]
#[command(name = "league-server", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the league (SQLite by default, PostgreSQL with --db postgres://…).
    Serve(ServeArgs),
    /// Evaluate submissions for a remote server: lease jobs over gRPC, race them here, report back.
    Worker(WorkerArgs),
    /// Measure evaluation, leaderboard and upload performance against an in-process server.
    Bench(bench::BenchArgs),
    /// Measure the student console's page times with a class-sized league (1,000 users, 10,000
    /// models) against an in-process server.
    BenchConsole(bench_console::BenchConsoleArgs),
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:50051")]
    addr: SocketAddr,
    /// Database: sqlite://FILE (created if missing) or postgres://USER@HOST/DB.
    #[arg(long, default_value = "sqlite://league.db")]
    db: String,
    /// Token of the bootstrap admin user "admin": at least 32 characters, e.g. from
    /// `openssl rand -hex 32`. Starting with a new one retires the previous one.
    #[arg(long, env = "LEAGUE_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// In-process evaluation workers (0 = only remote workers evaluate).
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Largest accepted model upload, MiB.
    #[arg(long, default_value_t = 64)]
    max_model_mib: usize,
    /// Wall-clock limit of one evaluation, seconds.
    #[arg(long, default_value_t = 120)]
    eval_timeout_s: u64,
    /// Attempts before a failing evaluation is given up.
    #[arg(long, default_value_t = 3)]
    max_attempts: i64,
    /// Seconds a worker's lease lasts without a heartbeat.
    #[arg(long, default_value_t = 60)]
    lease_s: u64,
    /// On SIGTERM/Ctrl-C, seconds running evaluations get to finish before their jobs go back to
    /// the queue (a later start picks them up).
    #[arg(long, default_value_t = 20)]
    shutdown_grace_s: u64,
    /// Training jobs run at once on this server (the console's "Create model"); 0 = none here.
    #[arg(long, default_value_t = 1)]
    trainers: usize,
    /// Threads each training job uses (its simulator and libtorch); jobs share the machine's cores
    /// by this budget. Default: half the cores (at least 1).
    #[arg(long)]
    training_threads: Option<usize>,
    /// Where training jobs keep their files and checkpoints (a job interrupted by a restart resumes
    /// from its checkpoint there).
    #[arg(long, default_value = "league-training")]
    training_dir: std::path::PathBuf,
    /// The server is reached over HTTPS (a reverse proxy that terminates TLS; docs/console.md): the
    /// console's session and form cookies are marked Secure, sent over HTTPS only.
    #[arg(long)]
    secure_cookies: bool,
}

#[derive(Args, Debug)]
struct WorkerArgs {
    /// The league server, e.g. http://league.example:50051.
    #[arg(long, env = "LEAGUE_SERVER")]
    server: String,
    /// A token of a worker (or admin) user.
    #[arg(long, env = "LEAGUE_TOKEN", hide_env_values = true)]
    token: String,
    /// This worker's name (shown in leases).
    #[arg(long, default_value = "worker")]
    name: String,
    /// Wall-clock limit of one evaluation, seconds.
    #[arg(long, default_value_t = 120)]
    eval_timeout_s: u64,
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("signal received: shutting down");
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The benchmark's server would log every request of its load; keep its output to the figures.
    let default_level = if matches!(cli.command, Command::Bench(_) | Command::BenchConsole(_)) {
        "warn"
    } else {
        "info"
    };
    slipstream_cli::init_tracing(default_level);
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let races_models = matches!(cli.command, Command::Serve(_) | Command::Worker(_));
    let result = rt.block_on(async {
        match cli.command {
            Command::Serve(a) => run_serve(a).await,
            Command::Worker(a) => run_worker(a).await,
            Command::Bench(a) => bench::run(a).await,
            Command::BenchConsole(a) => bench_console::run(a).await,
        }
    });
    let ok = result.is_ok();
    let code = slipstream_cli::exit(result);
    if races_models {
        // An evaluation given back at shutdown may still be running on its own thread inside
        // libtorch: a normal exit runs libtorch's static destructors under it, and the process
        // crashed at exit (SIGSEGV, seen in the SIGTERM recovery test). Everything is saved by now
        // (the job returned to the queue, the database closed), so end without them.
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        // SAFETY: _exit ends the process at once; nothing after it runs.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) }
    }
    code
}

async fn run_serve(a: ServeArgs) -> Result<()> {
    if a.max_model_mib == 0 || a.max_model_mib > 4096 {
        bail!("--max-model-mib: expected 1–4096");
    }
    if a.eval_timeout_s == 0 || !(5..=3600).contains(&a.lease_s) || a.max_attempts < 1 {
        bail!("--eval-timeout-s must be positive, --lease-s 5–3600 and --max-attempts at least 1");
    }
    let cfg = Config {
        max_model_bytes: a.max_model_mib << 20,
        workers: a.workers,
        lease: Duration::from_secs(a.lease_s),
        max_attempts: a.max_attempts,
        eval_wall_limit: Duration::from_secs(a.eval_timeout_s),
        shutdown_grace: Duration::from_secs(a.shutdown_grace_s),
        admin_token: a.admin_token,
        secure_cookies: a.secure_cookies,
        trainers: a.trainers,
        training_threads: a
            .training_threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))),
        training_dir: a.training_dir,
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind(a.addr)
        .await
        .with_context(|| format!("cannot listen on {}", a.addr))?;
    let local = listener.local_addr()?;
    eprintln!("league server listening on {local}");
    if let Some(warning) = slipstream_league::league::accounts::in_clear_warning(local, a.secure_cookies) {
        eprintln!("warning: {warning}");
    }
    serve(listener, &a.db, cfg, shutdown_signal()).await?;
    Ok(())
}

async fn run_worker(a: WorkerArgs) -> Result<()> {
    let clients = client::connect(&a.server, Some(&a.token))
        .await
        .map_err(anyhow::Error::msg)?;
    let (tx, rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(worker::remote::run(
        clients,
        a.name,
        Duration::from_secs(a.eval_timeout_s),
        rx,
    ));
    shutdown_signal().await;
    let _ = tx.send(true);
    let _ = worker.await;
    Ok(())
}
