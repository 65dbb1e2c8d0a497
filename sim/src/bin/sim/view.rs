//! `sim view`: run the 3-D viewer, `slipstream-viewer`, with the same arguments. The viewer is a
//! separate crate (bevy with its renderer, a long build), so the simulator's build stays lean; this
//! finds its binary next to `sim` or on PATH.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::Args;

/// The viewer's binary name.
pub const VIEWER: &str = "slipstream-viewer";

#[derive(Args, Debug)]
#[command(disable_help_flag = true)]
pub struct ViewArgs {
    /// The viewer's arguments (`sim view --help` shows them): --track T [--model M | --trace
    /// trace.csv] [--obstacles N | --bots N] [race options] [--camera chase|orbit|top-down] ...
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub args: Vec<OsString>,
}

/// Where the viewer is: next to this executable, else the first on PATH.
pub fn find_viewer() -> Option<PathBuf> {
    let name = format!("{VIEWER}{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(&name)))
        .filter(|p| p.is_file());
    beside.or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(&name))
                .find(|p| p.is_file())
        })
    })
}

pub fn run(a: ViewArgs) -> Result<()> {
    let Some(viewer) = find_viewer() else {
        bail!(
            "the viewer ({VIEWER}) is not built: it is a separate crate, built on request. From the \
             repository: `scripts/viewer-deps` (its Debian packages, once), then `cargo build --release \
             -p slipstream-viewer --ignore-rust-version` (it lands next to `sim`; the first build takes \
             about 18 minutes on 2 cores), or put {VIEWER} on PATH"
        )
    };
    let mut cmd = Command::new(&viewer);
    cmd.args(&a.args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = cmd.exec();
        Err(err).with_context(|| format!("cannot run {}", viewer.display()))
    }
    #[cfg(not(unix))]
    {
        let status = cmd
            .status()
            .with_context(|| format!("cannot run {}", viewer.display()))?;
        if status.success() {
            Ok(())
        } else {
            std::process::exit(status.code().unwrap_or(1))
        }
    }
}
