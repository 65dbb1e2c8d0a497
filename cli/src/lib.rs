//! What every Slipstream command line (`sim`, `trainer`, `league-server`, `league`) shares, written
//! once: the logging set-up and the error exit. Only the binaries depend on this crate (through
//! their crate's `cli` feature), so the libraries stay free of command-line dependencies.

use std::io::IsTerminal;
use std::process::ExitCode;

/// Log to stderr with `tracing`: the `RUST_LOG` filter if set, else `default_filter` (e.g.
/// `"warn"`); colours only on a terminal.
pub fn init_tracing(default_filter: &str) {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// The process's exit: success, or `error: …` (the error and its causes, once) on stderr and a
/// failure status.
pub fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", error_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The one line a failed command prints.
pub fn error_line(e: &anyhow::Error) -> String {
    format!("error: {e:#}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_line_names_the_context_and_the_cause_once() {
        let e = anyhow::anyhow!("tracks/a.npy: not a .npy file").context("loading the track");
        assert_eq!(
            error_line(&e),
            "error: loading the track: tracks/a.npy: not a .npy file"
        );
    }
}
