//! `league`: the league's command-line client for racers and admins.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};
use slipstream_league::client::{self, Clients};
use slipstream_league::util::now_ms;
use slipstream_proto::v1 as pb;

/// The Slipstream league client: races, models, submissions and leaderboards.
///
/// The server and token come from --server/--token or LEAGUE_SERVER/LEAGUE_TOKEN. Output is a table
/// for people; --json prints one JSON document for scripts.
#[derive(Parser, Debug)]
#[command(name = "league", version, about, long_about = None)]
struct Cli {
    /// The league server.
    #[arg(long, env = "LEAGUE_SERVER", default_value = "http://127.0.0.1:50051", global = true)]
    server: String,
    /// Your token (public races and leaderboards need none).
    #[arg(long, env = "LEAGUE_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Who the token belongs to.
    Whoami,
    /// Users (admins).
    #[command(subcommand)]
    Users(UsersCmd),
    /// Tokens (admins).
    #[command(subcommand)]
    Tokens(TokensCmd),
    /// Tracks: list the built-in and uploaded ones, upload a DeepRacer .npy.
    #[command(subcommand)]
    Tracks(TracksCmd),
    /// Races: create, list, show, delete, invite, join.
    #[command(subcommand)]
    Races(RacesCmd),
    /// Your models: upload, list, delete.
    #[command(subcommand)]
    Models(ModelsCmd),
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
        /// Rows per page.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Keep watching: print submission and rank changes as they happen.
        #[arg(long)]
        watch: bool,
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

#[derive(Clone, Copy, Debug, ValueEnum)]
enum RoleArg {
    Racer,
    Facilitator,
    Admin,
    Worker,
}

#[derive(Subcommand, Debug)]
enum UsersCmd {
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
enum TokensCmd {
    /// Issue a token for a user (printed once).
    Issue {
        /// The user's id (printed by `league users create`).
        user_id: String,
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
}

#[derive(Subcommand, Debug)]
enum TracksCmd {
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

#[derive(Clone, Copy, Debug, ValueEnum)]
enum RaceTypeArg {
    TimeTrial,
    ObjectAvoidance,
    HeadToBot,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum TimingArg {
    BestLap,
    BestAverage,
    TotalTime,
}

#[derive(Args, Debug)]
struct RaceArgs {
    /// The race's name.
    #[arg(long)]
    name: String,
    /// What racers read about it.
    #[arg(long, default_value = "")]
    description: String,
    /// A built-in track name or an uploaded track id (upload:…).
    #[arg(long)]
    track: String,
    /// Drive the track the other way round.
    #[arg(long)]
    reverse: bool,
    /// What else is on the track.
    #[arg(long = "type", value_enum, default_value = "time-trial")]
    race_type: RaceTypeArg,
    /// Obstacles (object avoidance).
    #[arg(long, default_value_t = 3)]
    obstacles: u32,
    /// Bot cars (head-to-bot).
    #[arg(long, default_value_t = 3)]
    bots: u32,
    /// Bot speed, m/s.
    #[arg(long, default_value_t = 0.6)]
    bot_speed: f64,
    /// How a submission is scored: its fastest lap, its best mean over --min-laps consecutive
    /// laps, or the sum of all laps (needs --min-laps = --laps).
    #[arg(long, value_enum, default_value = "best-lap")]
    timing: TimingArg,
    /// Laps each evaluation drives.
    #[arg(long, default_value_t = 3)]
    laps: u32,
    /// Consecutive completed laps to qualify (default: 1; total time: all laps).
    #[arg(long)]
    min_laps: Option<u32>,
    /// Seconds added to a lap for each time the car leaves the track.
    #[arg(long, default_value_t = 2.0)]
    off_track_penalty: f64,
    /// Seconds added to a lap for each collision.
    #[arg(long, default_value_t = 5.0)]
    collision_penalty: f64,
    /// Minutes from now until the window opens.
    #[arg(long, default_value_t = 0.0)]
    opens_in_minutes: f64,
    /// Hours the window stays open.
    #[arg(long, default_value_t = 24.0)]
    hours: f64,
    /// Submissions per racer (0 = unlimited).
    #[arg(long, default_value_t = 0)]
    max_submissions: u32,
    /// Only invited racers may enter.
    #[arg(long)]
    private: bool,
}

#[derive(Subcommand, Debug)]
enum RacesCmd {
    /// Create a race (facilitators and admins).
    Create(RaceArgs),
    /// Races you may see.
    List,
    /// One race.
    Show {
        /// The race's id.
        race: String,
    },
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

#[derive(Subcommand, Debug)]
enum ModelsCmd {
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

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A gRPC error as a person reads it.
fn status(e: tonic::Status) -> anyhow::Error {
    anyhow!("{} ({:?})", e.message(), e.code())
}

fn ms_to_s(ms: i64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

fn fmt_time(ms: i64) -> String {
    if ms == 0 {
        return "-".into();
    }
    let secs = ms / 1000;
    let (d, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = d + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn role_name(r: i32) -> &'static str {
    match pb::Role::try_from(r) {
        Ok(pb::Role::Racer) => "racer",
        Ok(pb::Role::Facilitator) => "facilitator",
        Ok(pb::Role::Admin) => "admin",
        Ok(pb::Role::Worker) => "worker",
        _ => "?",
    }
}

fn status_name(s: i32) -> &'static str {
    match pb::SubmissionStatus::try_from(s) {
        Ok(pb::SubmissionStatus::Queued) => "queued",
        Ok(pb::SubmissionStatus::Running) => "running",
        Ok(pb::SubmissionStatus::Completed) => "completed",
        Ok(pb::SubmissionStatus::Failed) => "failed",
        Ok(pb::SubmissionStatus::Cancelled) => "cancelled",
        _ => "?",
    }
}

fn state_name(s: i32) -> &'static str {
    match pb::RaceState::try_from(s) {
        Ok(pb::RaceState::Upcoming) => "upcoming",
        Ok(pb::RaceState::Open) => "open",
        Ok(pb::RaceState::Closed) => "closed",
        _ => "?",
    }
}

fn timing_name(t: i32) -> &'static str {
    match pb::TimingMethod::try_from(t) {
        Ok(pb::TimingMethod::BestAverage) => "best average",
        Ok(pb::TimingMethod::TotalTime) => "total time",
        _ => "best lap",
    }
}

fn user_json(u: &pb::User) -> Value {
    json!({"id": u.id, "name": u.name, "role": role_name(u.role), "created_at_ms": u.created_at_ms})
}

fn race_json(r: &pb::Race) -> Value {
    let s = r.spec.clone().unwrap_or_default();
    json!({"id": r.id, "name": s.name, "description": s.description, "track": s.track,
           "direction": if s.direction == pb::Direction::Reverse as i32 { "reverse" } else { "forward" },
           "race_type": race_type_name(s.race_type),
           "obstacles": s.obstacles.as_ref().map(|o| o.count), "bots": s.bots.as_ref().map(|b| json!({"count": b.count, "speed_mps": b.speed_mps, "lane_change": b.lane_change})),
           "timing": timing_name(s.timing), "laps": s.laps, "min_laps": s.min_laps,
           "off_track_penalty_s": s.off_track_penalty_s, "collision_penalty_s": s.collision_penalty_s,
           "opens_at_ms": s.opens_at_ms, "closes_at_ms": s.closes_at_ms, "state": state_name(r.state),
           "max_submissions_per_user": s.max_submissions_per_user, "private": s.private, "created_by": r.created_by})
}

fn race_type_name(t: i32) -> &'static str {
    match pb::RaceType::try_from(t) {
        Ok(pb::RaceType::ObjectAvoidance) => "object_avoidance",
        Ok(pb::RaceType::HeadToBot) => "head_to_bot",
        Ok(pb::RaceType::TimeTrial | pb::RaceType::Unspecified) => "time_trial",
        Err(_) => "?",
    }
}

/// A race, as a person reads it.
fn print_race(r: &pb::Race) {
    let s = r.spec.clone().unwrap_or_default();
    let reverse = s.direction == pb::Direction::Reverse as i32;
    println!("{}  ({}, {})", s.name, r.id, state_name(r.state));
    if !s.description.is_empty() {
        println!("  {}", s.description);
    }
    println!("track        {}{}", s.track, if reverse { " (reversed)" } else { "" });
    let what = match (race_type_name(s.race_type), &s.obstacles, &s.bots) {
        ("object_avoidance", Some(o), _) => format!("object avoidance, {} obstacles", o.count),
        ("head_to_bot", _, Some(b)) => format!(
            "head-to-bot, {} bots at {:.1} m/s{}",
            b.count,
            b.speed_mps,
            if b.lane_change { ", changing lanes" } else { "" }
        ),
        (t, _, _) => t.replace('_', " "),
    };
    println!("race type    {what}");
    println!(
        "scoring      {} over {} laps (qualify with {} consecutive completed)",
        timing_name(s.timing),
        s.laps,
        s.min_laps
    );
    println!(
        "penalties    off-track {} s, collision {} s",
        s.off_track_penalty_s, s.collision_penalty_s
    );
    println!(
        "window       {} → {}",
        fmt_time(s.opens_at_ms),
        fmt_time(s.closes_at_ms)
    );
    let cap = match s.max_submissions_per_user {
        0 => "unlimited".to_string(),
        n => n.to_string(),
    };
    println!("submissions  {cap} per racer");
    println!(
        "entry        {}",
        if s.private { "private (by invite)" } else { "public" }
    );
}

fn lap_json(l: &pb::LapTime) -> Value {
    json!({"lap": l.lap, "time_s": l.time_ms as f64 / 1000.0, "time_ms": l.time_ms, "penalty_ms": l.penalty_ms,
           "off_track": l.off_track, "collisions": l.collisions, "completed": l.completed})
}

fn submission_json(s: &pb::Submission) -> Value {
    json!({"id": s.id, "race_id": s.race_id, "model_id": s.model_id, "user_id": s.user_id, "status": status_name(s.status),
           "laps": s.laps.iter().map(lap_json).collect::<Vec<_>>(), "qualified": s.qualified,
           "score_ms": if s.qualified { Some(s.score_ms) } else { None }, "failure_reason": s.failure_reason,
           "submitted_at_ms": s.submitted_at_ms, "finished_at_ms": s.finished_at_ms, "attempts": s.attempts,
           "off_track": s.off_track, "collisions": s.collisions})
}

fn model_json(m: &pb::ModelInfo) -> Value {
    json!({"id": m.id, "name": m.name, "sha256": m.sha256, "size_bytes": m.size_bytes, "uploaded_at_ms": m.uploaded_at_ms,
           "sensor": m.sensor, "action_space_type": m.action_space_type, "network": m.network})
}

fn row_json(r: &pb::LeaderboardRow) -> Value {
    json!({"rank": r.rank, "user": r.user_name, "user_id": r.user_id, "score_ms": r.score_ms, "score_s": r.score_ms as f64 / 1000.0,
           "best_lap_ms": r.best_lap_ms, "off_track": r.off_track, "model": r.model_name, "submission_id": r.submission_id,
           "achieved_at_ms": r.achieved_at_ms})
}

fn print_submission(s: &pb::Submission) {
    println!("submission {}  race {}  model {}", s.id, s.race_id, s.model_id);
    println!(
        "status     {}{}",
        status_name(s.status),
        if s.failure_reason.is_empty() {
            String::new()
        } else {
            format!(" ({})", s.failure_reason)
        }
    );
    for l in &s.laps {
        println!(
            "  lap {:>2}: {:>8} s  penalty {:>6} s  off-track {}  collisions {}{}",
            l.lap,
            ms_to_s(l.time_ms),
            ms_to_s(l.penalty_ms),
            l.off_track,
            l.collisions,
            if l.completed { "" } else { "  (not completed)" }
        );
    }
    if s.status == pb::SubmissionStatus::Completed as i32 {
        if s.qualified {
            println!("score      {} s", ms_to_s(s.score_ms));
        } else {
            println!("score      - (did not qualify: not enough consecutive completed laps)");
        }
    }
}

fn print_board(b: &pb::GetLeaderboardResponse) {
    println!(
        "{:>5}  {:<20} {:>10} {:>10} {:>9}  {:<16} achieved",
        "rank", "racer", "score_s", "best_lap_s", "off-track", "model"
    );
    for r in &b.rows {
        println!(
            "{:>5}  {:<20} {:>10} {:>10} {:>9}  {:<16} {}",
            r.rank,
            r.user_name,
            ms_to_s(r.score_ms),
            ms_to_s(r.best_lap_ms),
            r.off_track,
            r.model_name,
            fmt_time(r.achieved_at_ms)
        );
    }
    println!(
        "({} ranked, {}; {} shown)",
        b.total,
        timing_name(b.timing),
        b.rows.len()
    );
}

async fn wait_for(c: &mut Clients, id: &str) -> Result<pb::Submission> {
    loop {
        let s = c
            .submissions
            .get_submission(pb::GetSubmissionRequest {
                submission_id: id.into(),
            })
            .await
            .map_err(status)?
            .into_inner();
        let st = pb::SubmissionStatus::try_from(s.status).unwrap_or(pb::SubmissionStatus::Unspecified);
        if matches!(
            st,
            pb::SubmissionStatus::Completed | pb::SubmissionStatus::Failed | pb::SubmissionStatus::Cancelled
        ) {
            return Ok(s);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn run(cli: Cli) -> Result<()> {
    let mut c = client::connect(&cli.server, cli.token.as_deref())
        .await
        .map_err(anyhow::Error::msg)?;
    let json = cli.json;
    match cli.command {
        Command::Whoami => {
            let u = c
                .users
                .who_am_i(pb::WhoAmIRequest {})
                .await
                .map_err(status)?
                .into_inner();
            if json {
                println!("{}", user_json(&u));
            } else {
                println!("{} ({}, {})", u.name, role_name(u.role), u.id);
            }
        }
        Command::Users(UsersCmd::Create { name, role }) => {
            let role = match role {
                RoleArg::Racer => pb::Role::Racer,
                RoleArg::Facilitator => pb::Role::Facilitator,
                RoleArg::Admin => pb::Role::Admin,
                RoleArg::Worker => pb::Role::Worker,
            };
            let u = c
                .users
                .create_user(pb::CreateUserRequest {
                    name,
                    role: role as i32,
                })
                .await
                .map_err(status)?
                .into_inner();
            if json {
                println!("{}", user_json(&u));
            } else {
                println!("created {} ({}) {}", u.name, role_name(u.role), u.id);
            }
        }
        Command::Users(UsersCmd::List) => {
            let r = c
                .users
                .list_users(pb::ListUsersRequest {
                    page_size: 1000,
                    page_token: String::new(),
                })
                .await
                .map_err(status)?
                .into_inner();
            if json {
                println!(
                    "{}",
                    json!({"users": r.users.iter().map(user_json).collect::<Vec<_>>()})
                );
            } else {
                println!("{:<38} {:<20} {:<12} created", "id", "name", "role");
                for u in &r.users {
                    println!(
                        "{:<38} {:<20} {:<12} {}",
                        u.id,
                        u.name,
                        role_name(u.role),
                        fmt_time(u.created_at_ms)
                    );
                }
            }
        }
        Command::Tokens(TokensCmd::Issue {
            user_id,
            days,
            description,
        }) => {
            let expires = match days {
                Some(d) if d > 0.0 => now_ms() + (d * 86_400_000.0) as i64,
                Some(_) => bail!("--days: expected a positive number"),
                None => 0,
            };
            let r = c
                .users
                .issue_token(pb::IssueTokenRequest {
                    user_id,
                    expires_at_ms: expires,
                    description,
                })
                .await
                .map_err(status)?
                .into_inner();
            if json {
                println!(
                    "{}",
                    json!({"token_id": r.token_id, "token": r.token, "expires_at_ms": r.expires_at_ms})
                );
            } else {
                println!("token {} (id {}; shown once, keep it safe)", r.token, r.token_id);
            }
        }
        Command::Tokens(TokensCmd::Revoke { token_id }) => {
            c.users
                .revoke_token(pb::RevokeTokenRequest {
                    token_id: token_id.clone(),
                })
                .await
                .map_err(status)?;
            if json {
                println!("{}", json!({"revoked": token_id}));
            } else {
                println!("revoked {token_id}");
            }
        }
        Command::Tracks(TracksCmd::List) => {
            let r = c
                .races
                .list_tracks(pb::ListTracksRequest {})
                .await
                .map_err(status)?
                .into_inner();
            if json {
                let v: Vec<Value> = r
                    .tracks
                    .iter()
                    .map(|t| json!({"id": t.id, "name": t.name, "waypoints": t.waypoints, "length_m": t.length_m, "width_min_m": t.width_min_m, "closed": t.closed, "builtin": t.builtin}))
                    .collect();
                println!("{}", json!({"tracks": v}));
            } else {
                println!("{:<74} {:<16} {:>9} {:>8}", "id", "name", "length_m", "width_m");
                for t in &r.tracks {
                    println!("{:<74} {:<16} {:>9.2} {:>8.2}", t.id, t.name, t.length_m, t.width_min_m);
                }
            }
        }
        Command::Tracks(TracksCmd::Upload { file, name }) => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let name = name.unwrap_or_else(|| {
                file.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "track".into())
            });
            let t = c
                .races
                .upload_track(pb::UploadTrackRequest { name, npy: bytes })
                .await
                .map_err(status)?
                .into_inner();
            if json {
                println!(
                    "{}",
                    json!({"id": t.id, "name": t.name, "length_m": t.length_m, "waypoints": t.waypoints})
                );
            } else {
                println!(
                    "uploaded {} as {} ({:.2} m, {} waypoints)",
                    t.name, t.id, t.length_m, t.waypoints
                );
            }
        }
        Command::Races(RacesCmd::Create(a)) => {
            let now = now_ms();
            let opens = now + (a.opens_in_minutes * 60_000.0) as i64;
            let min_laps = a.min_laps.unwrap_or(if matches!(a.timing, TimingArg::TotalTime) {
                a.laps
            } else {
                1
            });
            let spec = pb::RaceSpec {
                name: a.name,
                description: a.description,
                track: a.track,
                direction: if a.reverse {
                    pb::Direction::Reverse
                } else {
                    pb::Direction::Forward
                } as i32,
                race_type: match a.race_type {
                    RaceTypeArg::TimeTrial => pb::RaceType::TimeTrial,
                    RaceTypeArg::ObjectAvoidance => pb::RaceType::ObjectAvoidance,
                    RaceTypeArg::HeadToBot => pb::RaceType::HeadToBot,
                } as i32,
                obstacles: matches!(a.race_type, RaceTypeArg::ObjectAvoidance).then(|| pb::ObstacleSettings {
                    count: a.obstacles,
                    positions: vec![],
                }),
                bots: matches!(a.race_type, RaceTypeArg::HeadToBot).then(|| pb::BotSettings {
                    count: a.bots,
                    speed_mps: a.bot_speed,
                    lane_change: true,
                }),
                timing: match a.timing {
                    TimingArg::BestLap => pb::TimingMethod::BestLap,
                    TimingArg::BestAverage => pb::TimingMethod::BestAverage,
                    TimingArg::TotalTime => pb::TimingMethod::TotalTime,
                } as i32,
                min_laps,
                laps: a.laps,
                off_track_penalty_s: a.off_track_penalty,
                collision_penalty_s: a.collision_penalty,
                opens_at_ms: opens,
                closes_at_ms: opens + (a.hours * 3_600_000.0) as i64,
                max_submissions_per_user: a.max_submissions,
                private: a.private,
            };
            let r = c
                .races
                .create_race(pb::CreateRaceRequest { spec: Some(spec) })
                .await
                .map_err(status)?
                .into_inner();
            if json {
                println!("{}", race_json(&r));
            } else {
                println!("created race {} ({})", r.id, state_name(r.state));
            }
        }
        Command::Races(RacesCmd::List) => {
            let r = c
                .races
                .list_races(pb::ListRacesRequest {
                    page_size: 500,
                    page_token: String::new(),
                })
                .await
                .map_err(status)?
                .into_inner();
            if json {
                println!(
                    "{}",
                    json!({"races": r.races.iter().map(race_json).collect::<Vec<_>>()})
                );
            } else {
                println!(
                    "{:<38} {:<24} {:<12} {:<9} {:<12} closes",
                    "id", "name", "track", "state", "timing"
                );
                for race in &r.races {
                    let s = race.spec.clone().unwrap_or_default();
                    println!(
                        "{:<38} {:<24} {:<12} {:<9} {:<12} {}",
                        race.id,
                        s.name,
                        s.track,
                        state_name(race.state),
                        timing_name(s.timing),
                        fmt_time(s.closes_at_ms)
                    );
                }
            }
        }
        Command::Races(RacesCmd::Show { race }) => {
            let r = c
                .races
                .get_race(pb::GetRaceRequest { race_id: race })
                .await
                .map_err(status)?
                .into_inner();
            if json {
                println!("{}", race_json(&r));
            } else {
                print_race(&r);
            }
        }
        Command::Races(RacesCmd::Delete { race }) => {
            c.races
                .delete_race(pb::DeleteRaceRequest { race_id: race.clone() })
                .await
                .map_err(status)?;
            if json {
                println!("{}", json!({"deleted": race}));
            } else {
                println!("deleted {race}");
            }
        }
        Command::Races(RacesCmd::Invite { race, hours }) => {
            let expires = hours.map_or(0, |h| now_ms() + (h * 3_600_000.0) as i64);
            let i = c
                .races
                .create_invite(pb::CreateInviteRequest {
                    race_id: race,
                    expires_at_ms: expires,
                })
                .await
                .map_err(status)?
                .into_inner();
            if json {
                println!(
                    "{}",
                    json!({"invite_id": i.id, "token": i.token, "expires_at_ms": i.expires_at_ms})
                );
            } else {
                println!(
                    "invite token {} (id {}, expires {})",
                    i.token,
                    i.id,
                    fmt_time(i.expires_at_ms)
                );
            }
        }
        Command::Races(RacesCmd::Join { invite_token }) => {
            let r = c
                .races
                .join_race(pb::JoinRaceRequest { invite_token })
                .await
                .map_err(status)?
                .into_inner();
            if json {
                println!("{}", race_json(&r));
            } else {
                println!("joined {} ({})", r.id, r.spec.map(|s| s.name).unwrap_or_default());
            }
        }
        Command::Models(ModelsCmd::Upload { file, name }) => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let name = name.unwrap_or_else(|| {
                file.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "model".into())
            });
            let mut msgs = vec![pb::UploadModelRequest {
                part: Some(pb::upload_model_request::Part::Metadata(pb::ModelUploadMetadata {
                    name,
                    size_bytes: bytes.len() as u64,
                })),
            }];
            for chunk in bytes.chunks(1 << 20) {
                msgs.push(pb::UploadModelRequest {
                    part: Some(pb::upload_model_request::Part::Chunk(chunk.to_vec())),
                });
            }
            let m = c
                .models
                .upload_model(futures::stream::iter(msgs))
                .await
                .map_err(status)?
                .into_inner();
            if json {
                println!("{}", model_json(&m));
            } else {
                println!(
                    "uploaded {} as {} ({} bytes, sha256 {})",
                    m.name, m.id, m.size_bytes, m.sha256
                );
            }
        }
        Command::Models(ModelsCmd::List) => {
            let r = c
                .models
                .list_models(pb::ListModelsRequest {
                    page_size: 1000,
                    page_token: String::new(),
                })
                .await
                .map_err(status)?
                .into_inner();
            if json {
                println!(
                    "{}",
                    json!({"models": r.models.iter().map(model_json).collect::<Vec<_>>()})
                );
            } else {
                println!(
                    "{:<38} {:<24} {:>10} {:<8} {:<11} uploaded",
                    "id", "name", "bytes", "sensor", "actions"
                );
                for m in &r.models {
                    println!(
                        "{:<38} {:<24} {:>10} {:<8} {:<11} {}",
                        m.id,
                        m.name,
                        m.size_bytes,
                        m.sensor,
                        m.action_space_type,
                        fmt_time(m.uploaded_at_ms)
                    );
                }
            }
        }
        Command::Models(ModelsCmd::Delete { model }) => {
            c.models
                .delete_model(pb::DeleteModelRequest {
                    model_id: model.clone(),
                })
                .await
                .map_err(status)?;
            if json {
                println!("{}", json!({"deleted": model}));
            } else {
                println!("deleted {model}");
            }
        }
        Command::Submit { race, model, wait } => {
            let mut s = c
                .submissions
                .submit(pb::SubmitRequest {
                    race_id: race,
                    model_id: model,
                })
                .await
                .map_err(status)?
                .into_inner();
            if wait {
                s = wait_for(&mut c, &s.id).await?;
            }
            if json {
                println!("{}", submission_json(&s));
            } else {
                print_submission(&s);
            }
        }
        Command::Status { submission, wait } => {
            let s = if wait {
                wait_for(&mut c, &submission).await?
            } else {
                c.submissions
                    .get_submission(pb::GetSubmissionRequest {
                        submission_id: submission,
                    })
                    .await
                    .map_err(status)?
                    .into_inner()
            };
            if json {
                println!("{}", submission_json(&s));
            } else {
                print_submission(&s);
            }
        }
        Command::Submissions { race } => {
            let r = c
                .submissions
                .list_submissions(pb::ListSubmissionsRequest {
                    race_id: race.unwrap_or_default(),
                    page_size: 500,
                    page_token: String::new(),
                })
                .await
                .map_err(status)?
                .into_inner();
            if json {
                println!(
                    "{}",
                    json!({"submissions": r.submissions.iter().map(submission_json).collect::<Vec<_>>()})
                );
            } else {
                println!(
                    "{:<38} {:<38} {:<10} {:>9} submitted",
                    "id", "race", "status", "score_s"
                );
                for s in &r.submissions {
                    let score = if s.qualified { ms_to_s(s.score_ms) } else { "-".into() };
                    println!(
                        "{:<38} {:<38} {:<10} {:>9} {}",
                        s.id,
                        s.race_id,
                        status_name(s.status),
                        score,
                        fmt_time(s.submitted_at_ms)
                    );
                }
            }
        }
        Command::Cancel { submission } => {
            let s = c
                .submissions
                .cancel_submission(pb::CancelSubmissionRequest {
                    submission_id: submission,
                })
                .await
                .map_err(status)?
                .into_inner();
            if json {
                println!("{}", submission_json(&s));
            } else {
                print_submission(&s);
            }
        }
        Command::Reevaluate { submission } => {
            let s = c
                .submissions
                .reevaluate(pb::ReevaluateRequest {
                    submission_id: submission,
                })
                .await
                .map_err(status)?
                .into_inner();
            if json {
                println!("{}", submission_json(&s));
            } else {
                print_submission(&s);
            }
        }
        Command::Leaderboard { race, limit, watch } => {
            if watch {
                let mut stream = c
                    .leaderboards
                    .watch_leaderboard(pb::WatchLeaderboardRequest {
                        race_id: race,
                        top: limit,
                    })
                    .await
                    .map_err(status)?
                    .into_inner();
                while let Some(ev) = stream.message().await.map_err(status)? {
                    match ev.event {
                        Some(pb::leaderboard_event::Event::Snapshot(b)) => {
                            if json {
                                println!(
                                    "{}",
                                    json!({"snapshot": b.rows.iter().map(row_json).collect::<Vec<_>>(), "total": b.total})
                                );
                            } else {
                                print_board(&b);
                            }
                        }
                        Some(pb::leaderboard_event::Event::Submission(s)) => {
                            if json {
                                println!("{}", json!({"submission": submission_json(&s)}));
                            } else {
                                println!("submission {} by {}: {}", s.id, s.user_id, status_name(s.status));
                            }
                        }
                        Some(pb::leaderboard_event::Event::RankChange(r)) => {
                            if json {
                                println!("{}", json!({"rank_change": row_json(&r)}));
                            } else {
                                println!("rank {:>4}: {} {} s", r.rank, r.user_name, ms_to_s(r.score_ms));
                            }
                        }
                        None => {}
                    }
                }
            } else {
                let b = c
                    .leaderboards
                    .get_leaderboard(pb::GetLeaderboardRequest {
                        race_id: race,
                        page_size: limit,
                        page_token: String::new(),
                    })
                    .await
                    .map_err(status)?
                    .into_inner();
                if json {
                    println!(
                        "{}",
                        json!({"rows": b.rows.iter().map(row_json).collect::<Vec<_>>(), "total": b.total, "timing": timing_name(b.timing)})
                    );
                } else {
                    print_board(&b);
                }
            }
        }
        Command::Trace { submission, out } => {
            let mut stream = c
                .submissions
                .download_trace(pb::DownloadTraceRequest {
                    submission_id: submission,
                })
                .await
                .map_err(status)?
                .into_inner();
            let mut data = Vec::new();
            while let Some(chunk) = stream.message().await.map_err(status)? {
                data.extend_from_slice(&chunk.data);
            }
            match out {
                Some(p) => {
                    std::fs::write(&p, &data).with_context(|| format!("cannot write {}", p.display()))?;
                    if json {
                        println!("{}", json!({"file": p.display().to_string(), "bytes": data.len()}));
                    } else {
                        println!("wrote {} ({} bytes)", p.display(), data.len());
                    }
                }
                None => {
                    use std::io::Write;
                    std::io::stdout().write_all(&data)?;
                }
            }
        }
    }
    Ok(())
}
