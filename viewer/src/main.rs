//! `slipstream-viewer` (also run as `sim view`): see [`slipstream_viewer::cli::Cli`].

use std::process::ExitCode;

use clap::Parser;
use slipstream_viewer::cli::{Cli, run};

fn main() -> ExitCode {
    // bevy's LogPlugin sets up logging (warnings and errors on stderr).
    slipstream_cli::exit(run(Cli::parse()))
}
