//! `trainer`: train PPO models in Slipstream's simulator and race them.

mod bench;
mod distill;
mod head_to_head;
mod plot;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use slipstream_sim::Track;
use slipstream_sim::objects::{BotConfig, ObstacleConfig};
use slipstream_sim::race_args::RaceArgs;
use slipstream_sim::track::ValidateOptions;
use slipstream_trainer::metrics::IterationMetrics;
use slipstream_trainer::{Budget, DeviceChoice, EvalOptions, Model, TrainConfig, TrainOptions, evaluate, train};

/// Train autonomous race-car models with PPO in Slipstream's simulator, and race them.
///
/// Rewards are built-in presets or DeepRacer reward_function(params) files; models are single
/// .safetensors files with a DeepRacer-style model_metadata.json beside them.
#[derive(Parser, Debug)]
#[command(name = "trainer", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a model (writes model_last/model_best .safetensors, model_metadata.json and metrics to --out).
    Train(TrainArgs),
    /// Race a model in the simulator's race mode and report lap times.
    Evaluate(EvalArgs),
    /// Race several models against each other on one track at the same time (head-to-head: the
    /// cars see each other, the car that runs into the one ahead is penalised); report places.
    Match(head_to_head::MatchArgs),
    /// Teach a camera-only student from a state or lidar teacher (DAgger distillation).
    Distill(distill::DistillArgs),
    /// Measure PPO update throughput and reward-function calls per second.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Check a reward function before training (DeepRacer's "Validate"): call it on a short drive's
    /// real params on the track (cars on the centre line and cars leaving it) and report its first
    /// error (file, line, params) or the range of what it returned.
    CheckReward(CheckRewardArgs),
    /// Chart a run's metrics.csv as PNGs: return, progress, lap completion, evaluation lap time,
    /// entropy, KL, value loss, learning rate and speed against steps (and wall time).
    Plot(plot::PlotArgs),
}

#[derive(Args, Debug)]
struct TrainArgs {
    /// Training track: a built-in name or a DeepRacer .npy / .csv file. Repeat for several tracks.
    /// With --resume, the run's own tracks when none is given.
    #[arg(long = "track")]
    tracks: Vec<String>,
    /// Hyperparameters and model settings (TOML; DeepRacer's names where they exist), or a
    /// DeepRacer model_metadata.json (as --model-metadata). Default: the built-in settings, or with
    /// --resume / --init the settings the model was trained with.
    #[arg(long)]
    config: Option<PathBuf>,
    /// A DeepRacer model_metadata.json: its action space, sensor and neural network replace the
    /// config's (what Slipstream cannot train, such as SAC, is refused by name).
    #[arg(long, value_name = "FILE")]
    model_metadata: Option<PathBuf>,
    /// A DeepRacer hyperparameters.json (the console's or DeepRacer-for-Cloud's): its values
    /// replace the config's of the same names.
    #[arg(long, value_name = "FILE")]
    hyperparameters: Option<PathBuf>,
    /// Reward: a preset (progress_speed, centerline) or a DeepRacer reward_function.py.
    #[arg(long, default_value = "progress_speed")]
    reward: String,
    /// Train for this many environment steps (car-steps). Training runs whole iterations of
    /// num_cars × rollout_steps steps (16,384 with the default settings), so it stops at the first
    /// iteration that reaches this (said at the start when that is more); on a CPU a camera
    /// model's iteration takes seconds.
    #[arg(long, conflicts_with = "minutes")]
    steps: Option<u64>,
    /// Train for this many minutes of wall-clock time.
    #[arg(long)]
    minutes: Option<f64>,
    /// Random seed (initial weights, exploration, start positions).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where the learner runs: auto (a GPU if there is one), cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    device: String,
    /// Output folder for the model files and metrics.
    #[arg(long)]
    out: PathBuf,
    /// Start from an existing model's weights (DeepRacer's "clone").
    #[arg(long, conflicts_with = "resume")]
    init: Option<PathBuf>,
    /// Continue the run already in --out.
    #[arg(long)]
    resume: bool,
    /// Add procedurally generated tracks (for models that generalise).
    #[arg(long)]
    generated: Option<usize>,
    /// Show a reward_function.py's print()s on standard error too (they always go to
    /// OUT/reward-prints.log, each line with the step and the car; never to standard output).
    #[arg(long)]
    show_reward_prints: bool,
    /// Print one JSON object at the end instead of a summary.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct EvalArgs {
    /// The model (.safetensors).
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    on: RaceTrack,
    #[command(flatten)]
    race: RaceArgs,
    /// The reward function called on each driving step, for the trace's reward column (as
    /// DeepRacer's evaluations do): a preset or a reward_function.py [default: the one the model
    /// was trained with, when it can be found; "none" for 0].
    #[arg(long)]
    reward: Option<String>,
    /// Show a reward_function.py's print()s on standard error (otherwise they are not shown; never
    /// on standard output).
    #[arg(long)]
    show_reward_prints: bool,
    /// Static boxes on the track (object avoidance).
    #[arg(long, default_value_t = 0, conflicts_with = "bots")]
    obstacles: usize,
    /// Bot cars (head-to-bot).
    #[arg(long, default_value_t = 0)]
    bots: usize,
    /// Seed for obstacle and bot layouts.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write a per-step trace (DeepRacer SIM_TRACE_LOG CSV layout).
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Also write the trace where deepracer-utils' DeepRacerLog finds a local evaluation: into
    /// RUN_DIR/evaluation-YYYYMMDDHHMMSS/evaluation-simtrace/0-iteration.csv (RUN_DIR: the
    /// training run's output folder).
    #[arg(long, value_name = "RUN_DIR")]
    deepracer_log: Option<PathBuf>,
    /// Write an animated replay of the race: a .gif, or .mp4 when ffmpeg is installed (the track
    /// from above with the car and its trail coloured by speed, the car's camera view and the lap
    /// timer, at 15 frames per simulated second).
    #[arg(long)]
    video: Option<PathBuf>,
    /// Where the policy runs: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct CheckRewardArgs {
    /// The reward: a reward_function.py or a preset name.
    #[arg(long)]
    reward: String,
    #[command(flatten)]
    on: RaceTrack,
    /// Steps of the drive (8 cars each).
    #[arg(long, default_value_t = 200)]
    steps: usize,
    /// Seed of the random drivers.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Show the reward function's print()s on standard error.
    #[arg(long)]
    show_reward_prints: bool,
    /// Print one JSON object: {"ok": true, "calls", "offtrack_calls", "min", "max", "mean"} or
    /// {"ok": false, "error"} (and exit with status 1).
    #[arg(long)]
    json: bool,
}

/// The track a race is on (`trainer evaluate`, `trainer match`).
#[derive(Args, Debug)]
struct RaceTrack {
    /// Track: a built-in name or a DeepRacer .npy / .csv file.
    #[arg(long)]
    track: String,
    /// Drive the track the other way round.
    #[arg(long)]
    reverse: bool,
}

impl RaceTrack {
    fn load(&self) -> Result<Track> {
        let track = Track::resolve(&self.track, &ValidateOptions::default())?;
        Ok(if self.reverse { track.reversed() } else { track })
    }
}

fn main() -> ExitCode {
    slipstream_trainer::device::keep_freed_tensor_memory();
    slipstream_cli::init_tracing("warn");
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(a) => run_train(a),
        Command::Evaluate(a) => run_evaluate(a),
        Command::Match(a) => head_to_head::run(a),
        Command::Distill(a) => distill::run(a),
        Command::Bench(b) => bench::run(b),
        Command::CheckReward(a) => run_check_reward(a),
        Command::Plot(a) => plot::run(a),
    };
    slipstream_cli::exit(result)
}

fn run_check_reward(a: CheckRewardArgs) -> Result<()> {
    if !(1..=100_000).contains(&a.steps) {
        bail!("--steps: expected 1–100000, got {}", a.steps);
    }
    let track = Arc::new(a.on.load()?);
    let checked =
        slipstream_trainer::reward::check::check_reward(&a.reward, track, a.steps, a.seed, a.show_reward_prints);
    match (checked, a.json) {
        (Ok(c), true) => {
            let mut v = serde_json::to_value(&c)?;
            v["ok"] = json!(true);
            println!("{v}");
            Ok(())
        }
        (Ok(c), false) => {
            println!(
                "{}: ok: {} calls ({} off the track), rewards {:.4} to {:.4}, mean {:.4}",
                c.reward, c.calls, c.offtrack_calls, c.min, c.max, c.mean
            );
            Ok(())
        }
        (Err(e), true) => {
            println!("{}", json!({"ok": false, "error": e.to_string()}));
            Err(e.into())
        }
        (Err(e), false) => Err(e.into()),
    }
}

fn fmt_opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.digits$}"))
}

/// The end of a training or distillation run, for people: its models, best race, first clean laps.
fn print_outcome(
    last: &std::path::Path,
    best: Option<&std::path::Path>,
    best_eval: Option<&slipstream_trainer::EvalReport>,
    first_three_clean_laps_s: Option<f64>,
) {
    println!("last model: {}", last.display());
    if let Some(b) = best {
        println!("best model: {}", b.display());
    }
    if let Some(e) = best_eval {
        println!(
            "best evaluation on {}: {}/3 laps ({} clean in a row), best lap {}, total {:.2} s",
            e.track,
            e.completed_laps,
            e.consecutive_clean,
            e.best_lap_s.map_or("-".into(), |v| format!("{v:.3} s")),
            e.total_time_s
        );
    }
    if let Some(t) = first_three_clean_laps_s {
        println!("first 3 consecutive clean laps after {t:.1} s");
    }
}

/// The budget from `--steps` / `--minutes` (one of them).
fn budget(steps: Option<u64>, minutes: Option<f64>) -> Result<Budget> {
    match (steps, minutes) {
        (Some(s), None) => Ok(Budget::Steps(s)),
        (None, Some(m)) => Ok(Budget::Minutes(m)),
        (None, None) => bail!("give --steps or --minutes"),
        (Some(_), Some(_)) => bail!("give --steps or --minutes, not both"),
    }
}

/// A progress bar over the budget: steps, or seconds of wall-clock time.
fn progress_bar(budget: Budget) -> ProgressBar {
    let (bar, template) = match budget {
        Budget::Steps(s) => (
            ProgressBar::new(s),
            "{elapsed_precise} {bar:30} {pos}/{len} steps  {msg}",
        ),
        Budget::Minutes(m) => (
            ProgressBar::new((m * 60.0).ceil() as u64),
            "{elapsed_precise} {bar:30} {pos}/{len} s  {msg}",
        ),
    };
    bar.set_style(ProgressStyle::with_template(template).expect("valid template"));
    bar
}

fn run_train(a: TrainArgs) -> Result<()> {
    // A .json --config is a model_metadata.json (a TOML config is never JSON).
    let (config_file, metadata_file) = match (&a.config, &a.model_metadata) {
        (Some(p), None) if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) => (None, Some(p)),
        (c, m) => (c.as_ref(), m.as_ref()),
    };
    // With DeepRacer's files to complete it, a TOML config is validated once they are applied.
    let completed = metadata_file.is_some() || a.hyperparameters.is_some();
    let mut config = match (config_file, a.resume, &a.init) {
        (Some(p), _, _) if completed => TrainConfig::load_part(p)?,
        (Some(p), _, _) => TrainConfig::load(p)?,
        (None, true, _) => TrainConfig::of_model(&a.out.join("model_last.safetensors"))?,
        (None, false, Some(init)) => TrainConfig::of_model(init)?,
        (None, false, None) => TrainConfig::default(),
    };
    if let Some(p) = metadata_file {
        let m = slipstream_sim::ModelMetadata::read(p)?;
        slipstream_trainer::model_metadata::apply(&mut config, &m)
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
    }
    if let Some(p) = &a.hyperparameters {
        let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
        let unused = slipstream_trainer::deepracer_logs::apply_hyperparameters(&mut config, &text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        if !unused.is_empty() {
            eprintln!(
                "{}: not used by Slipstream's PPO (which explores by sampling its policy): {}",
                p.display(),
                unused.join(", ")
            );
        }
    }
    if let Some(n) = a.generated {
        config.generated.count = n;
    }
    let budget = budget(a.steps, a.minutes.or(a.steps.is_none().then_some(1.0)))?;
    if let Budget::Steps(s) = budget {
        let per_iteration = (config.num_cars * config.rollout_steps).max(1) as u64;
        let trained = s.div_ceil(per_iteration) * per_iteration;
        if trained != s {
            eprintln!(
                "--steps {s}: training runs whole iterations of {per_iteration} steps (num_cars {} × rollout_steps {}); this run trains {trained}",
                config.num_cars, config.rollout_steps
            );
        }
    }
    let device: DeviceChoice = a.device.parse()?;
    let opts = TrainOptions {
        config,
        tracks: a.tracks.clone(),
        reward: a.reward.clone(),
        budget,
        seed: a.seed,
        device,
        out_dir: a.out.clone(),
        init_from: a.init.clone(),
        resume: a.resume,
        show_reward_prints: a.show_reward_prints,
    };
    let bar = if a.json {
        ProgressBar::hidden()
    } else {
        progress_bar(budget)
    };
    let started = std::time::Instant::now();
    let mut on_iter = |m: &IterationMetrics| {
        match budget {
            Budget::Steps(_) => bar.set_position(m.run_steps),
            Budget::Minutes(_) => bar.set_position(started.elapsed().as_secs()),
        }
        let eval = match (m.eval_completed_laps, m.eval_best_lap_s) {
            (Some(l), Some(b)) => format!("  eval {l}/3 laps best {b:.2}s"),
            (Some(l), None) => format!("  eval {l}/3 laps"),
            _ => String::new(),
        };
        bar.set_message(format!(
            "{:.0} steps/s  reward {}  progress {}%  laps {}%{eval}",
            m.steps_per_s,
            fmt_opt(Some(m.mean_reward), 3),
            fmt_opt(m.mean_progress, 1),
            fmt_opt(m.lap_completion_rate.map(|r| 100.0 * r), 0),
        ));
    };
    let s = train(opts, &mut on_iter)?;
    bar.finish_and_clear();
    if a.json {
        println!("{}", serde_json::to_string(&s)?);
    } else {
        println!(
            "trained {} iterations, {} steps, {} episodes in {:.1} s on {} ({})",
            s.iterations, s.env_steps, s.episodes, s.wall_s, s.device, s.stopped_because
        );
        print_outcome(
            &s.model_last,
            s.model_best.as_deref(),
            s.best_eval.as_ref(),
            s.first_three_clean_laps_s,
        );
    }
    Ok(())
}

fn run_evaluate(a: EvalArgs) -> Result<()> {
    let device: DeviceChoice = a.device.parse()?;
    let model = Model::load(&a.model, device.resolve()?)?;
    let track = a.on.load()?;
    let scenario = if a.obstacles > 0 {
        slipstream_sim::Scenario::ObjectAvoidance(ObstacleConfig {
            count: a.obstacles,
            ..Default::default()
        })
    } else if a.bots > 0 {
        slipstream_sim::Scenario::HeadToBot(BotConfig {
            count: a.bots,
            ..Default::default()
        })
    } else {
        slipstream_sim::Scenario::TimeTrial {}
    };
    let track = Arc::new(track);
    let reward = eval_reward(a.reward.as_deref(), &model, &track)?;
    if let Some(r) = &reward {
        r.log_prints(None, a.show_reward_prints)?;
    }
    let deepracer_trace = match &a.deepracer_log {
        Some(dir) => {
            let stamp = jiff::Timestamp::now().strftime("%Y%m%d%H%M%S").to_string();
            Some(slipstream_trainer::deepracer_logs::evaluation_simtrace_path(
                dir, &stamp,
            )?)
        }
        None => None,
    };
    // A replay is drawn from the race's trace: a temporary one when no other is asked for.
    let scratch = match (&a.video, &a.trace, &deepracer_trace) {
        (Some(_), None, None) => Some(tempfile_path("race-trace.csv")),
        _ => None,
    };
    let trace_path = a
        .trace
        .clone()
        .or_else(|| deepracer_trace.clone())
        .or_else(|| scratch.clone());
    let opts = EvalOptions {
        race: a.race.config(),
        seed: a.seed,
        scenario,
        reward,
        trace: trace_path.clone().map(Into::into),
        deadline: None,
    };
    let r =
        evaluate(&model, track.clone(), &a.on.track, &opts).with_context(|| format!("racing {}", a.model.display()))?;
    if let (Some(t), Some(d)) = (&a.trace, &deepracer_trace) {
        std::fs::copy(t, d).with_context(|| format!("copying the trace to {}", d.display()))?;
    }
    let video = match (&a.video, &trace_path) {
        (Some(v), Some(t)) => {
            let report = write_video(v, t, &track, &a.model);
            if let Some(s) = &scratch {
                let _ = std::fs::remove_file(s);
            }
            Some(report?)
        }
        _ => None,
    };
    if a.json {
        println!(
            "{}",
            json!({
                "model": a.model.display().to_string(), "track": r.track,
                "laps": r.laps, "completed_laps": r.completed_laps, "best_lap_s": r.best_lap_s,
                "total_time_s": r.total_time_s, "off_track": r.off_track, "collisions": r.collisions,
                "consecutive_clean_laps": r.consecutive_clean, "video": video,
            })
        );
    } else {
        println!("{} on {}, {} laps", a.model.display(), r.track, a.race.laps);
        println!("{}", r.table());
        if let Some(d) = &deepracer_trace {
            println!("evaluation trace for deepracer-utils: {}", d.display());
        }
        if let (Some(v), Some(rep)) = (&a.video, &video) {
            println!(
                "replay: {} ({} frames, {:.1} MB)",
                v.display(),
                rep.frames,
                rep.bytes as f64 / 1e6
            );
        }
    }
    Ok(())
}

/// A path for a temporary file of this process.
fn tempfile_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("slipstream-{}-{name}", std::process::id()))
}

/// `trainer evaluate --video`: the race's replay from its trace.
fn write_video(
    video: &std::path::Path,
    trace: &std::path::Path,
    track: &Arc<Track>,
    model: &std::path::Path,
) -> Result<slipstream_sim::plot::replay::ReplayReport> {
    use slipstream_sim::plot::replay::{ReplayOptions, ReplayRenderer, write_replay};
    let rows = slipstream_sim::trace::read_trace(trace)?;
    let name = model
        .file_name()
        .map_or_else(|| model.display().to_string(), |n| n.to_string_lossy().into_owned());
    let title = format!("{} — {name}", track.name());
    let mut renderer = ReplayRenderer::new(track.clone(), rows, &title, ReplayOptions::default())?;
    write_replay(video, &mut renderer).with_context(|| format!("writing the replay {}", video.display()))
}

/// `trainer evaluate --reward`: the given reward, "none", or the model's own when it can be found
/// (a preset, or its reward_function.py still at the recorded path).
fn eval_reward(
    spec: Option<&str>,
    model: &Model,
    track: &Arc<Track>,
) -> Result<Option<slipstream_trainer::reward::RewardSource>> {
    use slipstream_trainer::reward::RewardSource;
    let tracks = std::slice::from_ref(track);
    match spec {
        Some("none") => Ok(None),
        Some(s) => Ok(Some(RewardSource::parse(s, tracks)?)),
        None => match RewardSource::parse(&model.info.reward, tracks) {
            Ok(r) => Ok(Some(r)),
            Err(e) => {
                tracing::warn!(
                    "the model's reward function {:?} is not available ({e}); the trace's rewards are 0 (give --reward)",
                    model.info.reward
                );
                Ok(None)
            }
        },
    }
}
