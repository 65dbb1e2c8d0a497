//! `league`: the league's command-line client for racers and admins.
//!
//! * `args`: the command line (clap).
//! * One module per gRPC service: `users` (users, tokens), `races` (races, tracks, invites), `models`,
//!   `submissions` (submitting, status, traces), `leaderboard`, `seasons`, `head_to_head`
//!   (brackets, ladders, matches).
//! * `output`: tables and cards for people, JSON documents for scripts (`--json`).

mod args;
mod head_to_head;
mod leaderboard;
mod models;
mod output;
mod races;
mod seasons;
mod submissions;
mod users;

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use clap::Parser;
use slipstream_league_client::client;

use crate::args::{Cli, Command};
use crate::output::Output;

fn main() -> ExitCode {
    slipstream_cli::init_tracing("warn");
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    slipstream_cli::exit(rt.block_on(run(cli)))
}

async fn run(cli: Cli) -> Result<()> {
    let mut c = client::connect(&cli.server, cli.token.as_deref())
        .await
        .map_err(anyhow::Error::msg)?;
    let out = Output::new(cli.json);
    match cli.command {
        Command::Whoami => users::whoami(&mut c, out).await,
        Command::Users(cmd) => users::users(&mut c, out, cmd).await,
        Command::Tokens(cmd) => users::tokens(&mut c, out, cmd).await,
        Command::Invites(cmd) => users::invites(&mut c, out, &cli.server, cmd).await,
        Command::Password { user } => users::password(&mut c, out, user).await,
        Command::Tracks(cmd) => races::tracks(&mut c, out, cmd).await,
        Command::Races(cmd) => races::races(&mut c, out, cmd).await,
        Command::Models(cmd) => models::models(&mut c, out, cmd).await,
        Command::Seasons(cmd) => seasons::seasons(&mut c, out, cmd).await,
        Command::Events(cmd) => head_to_head::events(&mut c, out, cmd).await,
        Command::Matches(cmd) => head_to_head::matches(&mut c, out, cmd).await,
        Command::CheckReward { file, track } => models::check_reward(&mut c, out, file, track).await,
        Command::Submit { race, model, wait } => submissions::submit(&mut c, out, race, model, wait).await,
        Command::Status { submission, wait } => submissions::status(&mut c, out, submission, wait).await,
        Command::Submissions { race } => submissions::list(&mut c, out, race).await,
        Command::Cancel { submission } => submissions::cancel(&mut c, out, submission).await,
        Command::Reevaluate { submission } => submissions::reevaluate(&mut c, out, submission).await,
        Command::Trace { submission, out: file } => submissions::trace(&mut c, out, submission, file).await,
        Command::Replay { submission, out: file } => submissions::replay(&mut c, out, submission, file).await,
        Command::Leaderboard { race, limit, watch } => {
            if watch {
                leaderboard::watch(&mut c, out, race, limit).await
            } else {
                leaderboard::show(&mut c, out, race, limit).await
            }
        }
    }
}

/// A gRPC error as a person reads it: the server's message and the code.
fn rpc_error(e: tonic::Status) -> anyhow::Error {
    anyhow!("{} ({:?})", e.message(), e.code())
}

/// A call's reply: its message (or stream), or the error as [`rpc_error`] words it.
trait Reply<T> {
    fn reply(self) -> Result<T>;
}

impl<T> Reply<T> for std::result::Result<tonic::Response<T>, tonic::Status> {
    fn reply(self) -> Result<T> {
        self.map(tonic::Response::into_inner).map_err(rpc_error)
    }
}

/// A file's name without its extension (`default` if it has none): what an upload is called unless
/// `--name` says.
fn file_stem(file: &Path, default: &str) -> String {
    file.file_stem()
        .map_or_else(|| default.to_string(), |s| s.to_string_lossy().into_owned())
}
