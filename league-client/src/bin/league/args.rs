//! The command line: every command, argument and default (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use slipstream_league_client::kinds::RaceType;
use slipstream_league_client::kinds::Role;
use slipstream_league_client::kinds::Timing;

/// The Slipstream league client: races, models, submissions and leaderboards.
///
/// The server and token come from --server/--token or LEAGUE_SERVER/LEAGUE_TOKEN. Output is a table
/// for people; --json prints one JSON document for scripts.
#[derive(Parser, Debug)]
#[command(name = "league", version, about, long_about = None)]
pub struct Cli {
    /// The league server.
    #[arg(long, env = "LEAGUE_SERVER", default_value = "http://127.0.0.1:50051", global = true)]
    pub server: String,
    /// Your token (public races and leaderboards need none).
    #[arg(long, env = "LEAGUE_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Who the token belongs to.
    Whoami,
    /// Users (admins).
    #[command(subcommand)]
    Users(UsersCmd),
    /// Tokens for the CLI and gRPC: issue, list and revoke your own (admins: anyone's).
    #[command(subcommand)]
    Tokens(TokensCmd),
    /// Sign-up invites for the console: links that make accounts (admins: any role;
    /// facilitators: racers).
    #[command(subcommand)]
    Invites(InvitesCmd),
    /// Set your console password (admins: `--user` sets another user's). Read from the terminal
    /// without echo, or from the first line of standard input when it is not a terminal. Every
    /// browser signed in as that user is signed out.
    Password {
        /// Another user's id (admins).
        #[arg(long)]
        user: Option<String>,
    },
    /// Tracks: list the built-in and uploaded ones, upload a DeepRacer .npy.
    #[command(subcommand)]
    Tracks(TracksCmd),
    /// Races: create, list, show, delete, invite, join.
    #[command(subcommand)]
    Races(RacesCmd),
    /// Your models: upload, list, delete.
    #[command(subcommand)]
    Models(ModelsCmd),
    /// Seasons: points by finishing position over several public races, and the standings.
    #[command(subcommand)]
    Seasons(SeasonsCmd),
    /// Head-to-head events: elimination brackets seeded from a race's leaderboard, and rating
    /// ladders over it.
    #[command(subcommand)]
    Events(EventsCmd),
    /// Head-to-head matches: several models racing on one track at once.
    #[command(subcommand)]
    Matches(MatchesCmd),
    /// Check a DeepRacer reward_function.py on the league's server before training (the DeepRacer
    /// console's "Validate"): its first error, with its line, or what it returned. Exits with
    /// status 1 when it fails.
    CheckReward {
        /// The reward_function.py.
        file: std::path::PathBuf,
        /// A built-in track's name or an uploaded track's id (see `league tracks list`).
        #[arg(long)]
        track: String,
    },
    /// Submit one of your models to a race.
    Submit {
        /// The race's id (see `league races list`).
        race: String,
        /// One of your models' ids (see `league models list`).
        model: String,
        /// Wait for the evaluation to finish.
        #[arg(long)]
        wait: bool,
    },
    /// A submission's status and lap times.
    Status {
        /// The submission's id (printed by `league submit`).
        submission: String,
        /// Wait for the evaluation to finish.
        #[arg(long)]
        wait: bool,
    },
    /// Your submissions (admins: everyone's).
    Submissions {
        /// Only this race's.
        #[arg(long)]
        race: Option<String>,
    },
    /// Cancel a queued or running submission.
    Cancel {
        /// The submission's id.
        submission: String,
    },
    /// Evaluate a submission again (admins).
    Reevaluate {
        /// The submission's id.
        submission: String,
    },
    /// A race's leaderboard.
    Leaderboard {
        /// The race's id.
        race: String,
        /// Rows per page (1–1000).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
        /// Keep watching: print submission and rank changes as they happen.
        #[arg(long)]
        watch: bool,
    },
    /// Download a submission's animated replay (GIF: the track from above with the car, its trail
    /// and the lap timer, beside the car's camera view).
    Replay {
        /// The submission's id.
        submission: String,
        /// The GIF file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Download a submission's per-step trace (DeepRacer SIM_TRACE_LOG CSV).
    Trace {
        /// The submission's id.
        submission: String,
        /// Write it here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum UsersCmd {
    /// Create a user.
    Create {
        /// The user's display name (on leaderboards).
        name: String,
        /// racer: uploads and submits models; facilitator: also runs races; admin: everything;
        /// worker: a remote evaluation worker.
        #[arg(long, value_enum, default_value = "racer")]
        role: RoleArg,
    },
    /// List users.
    List,
}

#[derive(Subcommand, Debug)]
pub enum TokensCmd {
    /// Issue a token (printed once): for yourself, or (admins) for a user.
    Issue {
        /// The user's id (printed by `league users create`); default: yourself.
        user_id: Option<String>,
        /// Expire after this many days (default: never).
        #[arg(long)]
        days: Option<f64>,
        /// A note to recognise the token by (e.g. which machine uses it).
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Revoke a token.
    Revoke {
        /// The token's id (not the token itself).
        token_id: String,
    },
    /// List tokens (ids, descriptions, expiry, last use; never the secrets): your own, or as an
    /// admin everyone's or one user's.
    List {
        /// Only this user's tokens (admins).
        #[arg(long)]
        user: Option<String>,
        /// Also revoked and expired tokens.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum InvitesCmd {
    /// Make a sign-up link (printed once): whoever opens it picks a name and password.
    Create {
        /// The role of the accounts it makes.
        #[arg(long, value_enum, default_value = "racer")]
        role: RoleArg,
        /// How many accounts it may make.
        #[arg(long, default_value_t = 1)]
        uses: i64,
        /// Expire after this many days (default: never).
        #[arg(long)]
        days: Option<f64>,
        /// Who it is for (shown in the list).
        #[arg(long, default_value = "")]
        note: String,
    },
    /// List invites, newest first: admins every one, facilitators their own.
    List,
    /// Withdraw an invite (the accounts it made stay).
    Revoke {
        /// The invite's id (not its link).
        invite_id: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TracksCmd {
    /// Built-in and uploaded tracks.
    List,
    /// Upload a DeepRacer track file (.npy).
    Upload {
        /// The .npy file: float64, shape (N, 6), DeepRacer's columns.
        file: PathBuf,
        /// The track's name (default: the file name without its extension).
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct RaceArgs {
    /// The race's name.
    #[arg(long)]
    pub name: String,
    /// What racers read about it.
    #[arg(long, default_value = "")]
    pub description: String,
    /// A built-in track name or an uploaded track id (upload:…).
    #[arg(long)]
    pub track: String,
    /// Drive the track the other way round.
    #[arg(long)]
    pub reverse: bool,
    /// What else is on the track.
    #[arg(long = "type", value_enum, default_value = "time-trial")]
    pub race_type: RaceTypeArg,
    /// Obstacles (object avoidance).
    #[arg(long, default_value_t = 3)]
    pub obstacles: u32,
    /// Bot cars (head-to-bot).
    #[arg(long, default_value_t = 3)]
    pub bots: u32,
    /// Bot speed, m/s.
    #[arg(long, default_value_t = 0.6)]
    pub bot_speed: f64,
    /// How a submission is scored: its fastest lap, its best mean over --min-laps consecutive
    /// laps, or the sum of all laps (needs --min-laps = --laps).
    #[arg(long, value_enum, default_value = "best-lap")]
    pub timing: TimingArg,
    /// Laps each evaluation drives.
    #[arg(long, default_value_t = 3)]
    pub laps: u32,
    /// Consecutive completed laps to qualify (default: 1; total time: all laps).
    #[arg(long)]
    pub min_laps: Option<u32>,
    /// Seconds the car is held (the clock running) after it leaves the track.
    #[arg(long, default_value_t = 2.0)]
    pub off_track_penalty: f64,
    /// Seconds the car is held after a collision.
    #[arg(long, default_value_t = 5.0)]
    pub collision_penalty: f64,
    /// Seconds the car is held after driving the wrong way [default: the off-track penalty].
    #[arg(long)]
    pub reverse_penalty: Option<f64>,
    /// Seconds the car is held after being immobilized.
    #[arg(long, default_value_t = 0.0)]
    pub immobilized_penalty: f64,
    /// Drive the laps one after another instead of as separate trials from the start line.
    #[arg(long)]
    pub continuous: bool,
    /// Incidents per trial (per race with --continuous) that hold the car and put it back
    /// instead of ending the trial (DeepRacer's default 0; 10000 for unlimited).
    #[arg(long, default_value_t = 0)]
    pub number_of_resets: u32,
    /// Minutes from now until the window opens.
    #[arg(long, default_value_t = 0.0)]
    pub opens_in_minutes: f64,
    /// Hours the window stays open.
    #[arg(long, default_value_t = 24.0)]
    pub hours: f64,
    /// Submissions per racer (0 = unlimited).
    #[arg(long, default_value_t = 0)]
    pub max_submissions: u32,
    /// Only invited racers may enter.
    #[arg(long)]
    pub private: bool,
    /// A sensor the race takes (repeat for several; none = any): camera, stereo_camera,
    /// camera+lidar, camera+sector_lidar, stereo_camera+lidar, stereo_camera+sector_lidar, lidar,
    /// deepracer_lidar, sector_lidar or state (a model's sensor as `league models list` shows it).
    #[arg(long = "sensor")]
    pub sensors: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum RacesCmd {
    /// Create a race (facilitators and admins).
    Create(RaceArgs),
    /// Races you may see.
    List,
    /// One race.
    Show {
        /// The race's id.
        race: String,
    },
    /// Change a race: before it opens, its name, description and window; while it is open, its
    /// name, description and closing time (close it now, or keep it open longer).
    Update(UpdateArgs),
    /// Delete a race (not while it is open).
    Delete {
        /// The race's id.
        race: String,
    },
    /// Create an invite token for a private race.
    Invite {
        /// The race's id.
        race: String,
        /// Hours until it expires (default: when the race closes).
        #[arg(long)]
        hours: Option<f64>,
    },
    /// Join a private race with an invite token.
    Join {
        /// The invite token the race's facilitator gave you.
        invite_token: String,
    },
}

#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// The race's id.
    pub race: String,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// Close the window this many hours from now.
    #[arg(long, conflicts_with_all = ["close_now", "never_close"])]
    pub hours: Option<f64>,
    /// Close the window now (no more submissions; those in the queue are still raced).
    #[arg(long, conflicts_with = "never_close")]
    pub close_now: bool,
    /// Keep the window open with no closing time.
    #[arg(long)]
    pub never_close: bool,
}

#[derive(Subcommand, Debug)]
pub enum EventsCmd {
    /// Seed an elimination bracket from a race's leaderboard (the race's creator or an admin).
    /// Matches are raced by the evaluation queue as soon as both their entrants are known, and the
    /// bracket advances by itself; a bracket of 2 is a final.
    Bracket {
        /// The race whose leaderboard seeds the bracket and whose track and rules every match uses.
        race: String,
        /// The bracket's name.
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// How many of the leaderboard's first racers to seed (single: 2–64, double: 3–64).
        #[arg(long, default_value_t = 8)]
        size: u32,
        /// Double elimination (a second loss eliminates; default: single).
        #[arg(long)]
        double: bool,
    },
    /// Open a rating ladder over a race's leaderboard: its models are paired and raced one match
    /// at a time while the race is open, and rated (Weng-Lin).
    Ladder {
        /// The race whose leaderboard are the entrants and whose track and rules the matches use.
        race: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Matches after which the ladder stops pairing (1–10000).
        #[arg(long, default_value_t = 100)]
        max_matches: u32,
    },
    /// Every bracket and ladder you may see.
    List,
    /// A bracket's matches round by round, or a ladder's ratings.
    Show {
        /// The event's id.
        event: String,
        /// Wait until a bracket has its champion (or a match of it could not be raced), or a
        /// ladder stops racing (its match limit reached or its race closed).
        #[arg(long)]
        wait: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum MatchesCmd {
    /// Race submissions ranked on a race's leaderboard against each other (the race's creator or
    /// an admin). The first starts in front.
    Create {
        /// The race whose track and rules the match uses.
        race: String,
        /// 2–17 submissions, in grid order.
        #[arg(required = true, num_args = 2..)]
        submissions: Vec<String>,
        /// Wait for the match to be raced.
        #[arg(long)]
        wait: bool,
    },
    /// Race a failed match again (the race's creator or an admin); a bracket waits on it.
    Retry {
        /// The match's id.
        r#match: String,
    },
    /// A match's result: places, laps and finish times.
    Show {
        /// The match's id.
        r#match: String,
        /// Wait for the match to be raced.
        #[arg(long)]
        wait: bool,
    },
    /// Download a raced match's animated replay (GIF: the track from above following the winner,
    /// the other cars in their colours, the winner's camera view).
    Replay {
        /// The match's id.
        r#match: String,
        /// The GIF file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Download one car's per-step trace of a raced match (DeepRacer SIM_TRACE_LOG CSV): your own
    /// car's (the race's creator and admins: any car's). Replay a match's traces together with
    /// `sim replay TRACE --rival TRACE2`.
    Trace {
        /// The match's id.
        r#match: String,
        /// The car's grid position: 1 = the car that started in front (the `grid` column of
        /// `league matches show`).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        grid: u32,
        /// Write it here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SeasonsCmd {
    /// Create a season (facilitators and admins).
    Create {
        /// The season's name.
        name: String,
        /// What the season is.
        #[arg(long, default_value = "")]
        description: String,
        /// Points for 1st, 2nd, … place in each race, comma-separated and never increasing; places
        /// beyond score 0 (default: 25,18,15,12,10,8,6,4,2,1).
        #[arg(long, value_delimiter = ',')]
        points: Vec<u32>,
        /// A public race of the season (repeat, in order; more can be added later).
        #[arg(long = "race")]
        races: Vec<String>,
    },
    /// Every season.
    List,
    /// A season's standings: points per racer over its races, with the tie-breaks.
    Show {
        /// The season's id.
        season: String,
        /// Rows per page (1–1000).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
        /// Start after this many rows (the standings' page token).
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// Add a public race to the end of a season.
    AddRace {
        /// The season's id.
        season: String,
        /// The race's id.
        race: String,
    },
    /// Delete a season (its races stay).
    Delete {
        /// The season's id.
        season: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ModelsCmd {
    /// Upload a model (.safetensors from `trainer train`).
    Upload {
        /// The model file (e.g. model_best.safetensors).
        file: PathBuf,
        /// The model's name (default: the file name without its extension).
        #[arg(long)]
        name: Option<String>,
    },
    /// Your models.
    List,
    /// Delete one of your models.
    Delete {
        /// The model's id.
        model: String,
    },
}

// The choices of `--role`, `--type` and `--timing`, spelled the command line's way (kebab-case);
// each is one of the library's enums.

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    Racer,
    Facilitator,
    Admin,
    Worker,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Racer => Role::Racer,
            RoleArg::Facilitator => Role::Facilitator,
            RoleArg::Admin => Role::Admin,
            RoleArg::Worker => Role::Worker,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RaceTypeArg {
    TimeTrial,
    ObjectAvoidance,
    HeadToBot,
}

impl From<RaceTypeArg> for RaceType {
    fn from(t: RaceTypeArg) -> RaceType {
        match t {
            RaceTypeArg::TimeTrial => RaceType::TimeTrial,
            RaceTypeArg::ObjectAvoidance => RaceType::ObjectAvoidance,
            RaceTypeArg::HeadToBot => RaceType::HeadToBot,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TimingArg {
    BestLap,
    BestAverage,
    TotalTime,
}

impl From<TimingArg> for Timing {
    fn from(t: TimingArg) -> Timing {
        match t {
            TimingArg::BestLap => Timing::BestLap,
            TimingArg::BestAverage => Timing::BestAverage,
            TimingArg::TotalTime => Timing::TotalTime,
        }
    }
}
