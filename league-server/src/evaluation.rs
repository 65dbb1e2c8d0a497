//! Racing a submission: the trainer's model loader and race-mode evaluation, on the CPU, with the
//! race's fixed seed (so a re-evaluation repeats exactly) and a wall-clock limit.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use slipstream_sim::Track;
use slipstream_trainer::{EvalOptions, EvalReport, Model, TraceBuffer, TraceTo, TrainError, evaluate, race_match};

use crate::matches::{MatchResult, SeatResult};
use crate::races::RaceRun;
use crate::ranking::{Lap, to_ms};

/// The laps and the SIM_TRACE_LOG CSV of one evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub laps: Vec<Lap>,
    pub trace: Vec<u8>,
}

/// Validate model bytes as the trainer's loader does (format, metadata, tensors, action space).
pub fn validate_model(bytes: &[u8], name: &str) -> Result<Model, TrainError> {
    Model::from_bytes(bytes, Path::new(name), tch::Device::Cpu)
}

/// Race `model_bytes` as `run` describes, on a thread of its own at a lower CPU priority than the
/// server's request handling (nice +10 on Linux): races are batch work, while leaderboard queries,
/// uploads and submissions are interactive, and on a small machine they share the same cores.
pub async fn run_in_background(
    model_bytes: Vec<u8>,
    run: RaceRun,
    track: Arc<Track>,
    wall_limit: Duration,
) -> Result<Outcome, String> {
    in_background(move || self::run(&model_bytes, &run, track, wall_limit)).await
}

/// [`run_match`] on a thread of its own at a lower CPU priority (as [`run_in_background`]).
pub async fn run_match_in_background(
    models: Vec<Vec<u8>>,
    run: RaceRun,
    track: Arc<Track>,
    wall_limit: Duration,
) -> Result<MatchOutcome, String> {
    in_background(move || self::run_match(&models, &run, track, wall_limit)).await
}

/// Run `work` on a thread of its own at a lower CPU priority than request handling.
async fn in_background<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("evaluation".into())
        .spawn(move || {
            lower_thread_priority();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
                .unwrap_or_else(|_| Err("the evaluation crashed (a bug: please report it)".into()));
            // The receiver is gone if the server stopped waiting (shutdown): nothing to report then.
            let _ = tx.send(r);
        })
        .map_err(|e| format!("cannot start an evaluation thread: {e}"))?;
    rx.await
        .map_err(|_| "the evaluation thread ended without a result".to_string())?
}

/// Make the calling thread yield the CPU to the rest of the process under contention.
fn lower_thread_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority take no pointers; they only read and set the calling
    // thread's scheduling priority. Failure (e.g. a seccomp filter) just leaves it unchanged.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

/// The most frames a stored replay has (a minute at 15 frames/s; a longer race plays faster).
pub const REPLAY_MAX_FRAMES: usize = 900;
/// The width of a stored replay's track map, pixels.
pub const REPLAY_MAP_WIDTH: u32 = 480;

/// An animated GIF replay of an evaluation's trace on `track` (the race's), bounded in size (at
/// most [`REPLAY_MAX_FRAMES`] frames of a [`REPLAY_MAP_WIDTH`]-pixel map and the camera panel).
pub fn replay_gif(run: &RaceRun, track: Arc<Track>, trace: &[u8]) -> Result<Vec<u8>, String> {
    use slipstream_sim::plot::replay::{ReplayOptions, ReplayRenderer, write_gif};
    let text = std::str::from_utf8(trace).map_err(|e| format!("trace: {e}"))?;
    let rows = slipstream_sim::trace::parse_trace(text).map_err(|(line, m)| format!("trace line {line}: {m}"))?;
    let opts = ReplayOptions {
        map_width: REPLAY_MAP_WIDTH,
        max_frames: Some(REPLAY_MAX_FRAMES),
        ..ReplayOptions::default()
    };
    let title = replay_title(run);
    let mut r = ReplayRenderer::new(track, rows, &title, opts).map_err(|e| e.to_string())?;
    let mut gif = Vec::new();
    write_gif(&mut gif, &mut r).map_err(|e| e.to_string())?;
    Ok(gif)
}

/// A replay's title: the track's name, short enough for the 480-pixel map's title line (a race id
/// or an upload's hash is not).
fn replay_title(run: &RaceRun) -> String {
    let track_name = if crate::races::upload_sha(&run.track_name).is_some() {
        "uploaded track"
    } else {
        run.track_name.as_str()
    };
    format!("{track_name}{}", if run.reverse { ", reversed" } else { "" })
}

/// Race `model_bytes` as `run` describes, on `track` (the race's). Blocking (call from a blocking
/// thread).
pub fn run(model_bytes: &[u8], run: &RaceRun, track: Arc<Track>, wall_limit: Duration) -> Result<Outcome, String> {
    let started = Instant::now();
    let model = validate_model(model_bytes, "model").map_err(|e| e.to_string())?;
    let trace = TraceBuffer::default();
    // No reward function: the league does not run racers' code (their traces' rewards are 0).
    let opts = EvalOptions {
        race: run.rules.clone(),
        seed: run.seed,
        scenario: run.scenario.clone(),
        reward: None,
        trace: Some(TraceTo::Buffer(trace.clone())),
        deadline: Some(started + wall_limit),
    };
    let report = evaluate(&model, track, &run.track_name, &opts).map_err(|e| e.to_string())?;
    Ok(Outcome {
        laps: laps_of(&report),
        trace: trace.take(),
    })
}

/// A race's laps as the league stores them.
fn laps_of(report: &EvalReport) -> Vec<Lap> {
    report
        .laps
        .iter()
        .map(|l| Lap {
            time_ms: to_ms(l.time_s),
            penalty_ms: to_ms(l.penalty_s),
            // Every incident but collisions (off-track, reversed, immobilized).
            off_track: slipstream_sim::Lap::off_track(l),
            collisions: l.collisions,
            completed: l.completed,
        })
        .collect()
}

/// A head-to-head match's result and each seat's SIM_TRACE_LOG CSV (empty for a seat that
/// forfeited, or when no two cars raced).
#[derive(Clone, Debug, PartialEq)]
pub struct MatchOutcome {
    pub result: MatchResult,
    pub traces: Vec<Vec<u8>>,
}

/// Race the models of a head-to-head match (grid order) as `run` describes, on `track` (its rules
/// made continuous, its seed the match's). A model that cannot be loaded forfeits: it is placed behind
/// every car that raced, without laps, and the others race without it (one left wins without
/// racing). Blocking (call from a blocking thread).
pub fn run_match(
    models: &[Vec<u8>],
    run: &RaceRun,
    track: Arc<Track>,
    wall_limit: Duration,
) -> Result<MatchOutcome, String> {
    let started = Instant::now();
    let mut traces = vec![Vec::new(); models.len()];
    let loaded: Vec<Option<Model>> = models
        .iter()
        .enumerate()
        .map(|(seat, bytes)| {
            validate_model(bytes, "model")
                .map_err(|e| tracing::warn!(seat, "a model of a match forfeits: {e}"))
                .ok()
        })
        .collect();
    let racing: Vec<usize> = (0..models.len()).filter(|&i| loaded[i].is_some()).collect();
    let forfeit = SeatResult {
        place: racing.len() as u32 + 1,
        laps: vec![],
    };
    let mut seats = vec![forfeit; models.len()];
    match racing.as_slice() {
        [] => {}
        [only] => seats[*only].place = 1,
        _ => {
            let cars: Vec<&Model> = racing.iter().filter_map(|&i| loaded[i].as_ref()).collect();
            let opts = EvalOptions {
                race: run.rules.clone(),
                seed: run.seed,
                scenario: slipstream_sim::Scenario::TimeTrial {},
                reward: None,
                trace: None,
                deadline: Some(started + wall_limit),
            };
            let buffers: Vec<TraceBuffer> = racing.iter().map(|_| TraceBuffer::default()).collect();
            let to: Vec<TraceTo> = buffers.iter().cloned().map(TraceTo::Buffer).collect();
            let report = race_match(&cars, track, &run.track_name, &opts, &to).map_err(|e| e.to_string())?;
            for (k, &seat) in racing.iter().enumerate() {
                seats[seat] = SeatResult {
                    place: report.places[k],
                    laps: laps_of(&report.seats[k]),
                };
                traces[seat] = buffers[k].take();
            }
        }
    }
    Ok(MatchOutcome {
        result: MatchResult { seats },
        traces,
    })
}

/// A head-to-head match's replay: the winner's car (trail, camera, timer) with the others drawn
/// from their traces, named `names` (grid order); the same bounds as an evaluation's. `None` when
/// fewer than two cars raced.
pub fn match_replay_gif(
    run: &RaceRun,
    track: Arc<Track>,
    result: &MatchResult,
    traces: &[Vec<u8>],
    names: &[String],
) -> Result<Option<Vec<u8>>, String> {
    use slipstream_sim::plot::replay::{ReplayOptions, ReplayRenderer, Rival, write_gif};
    use slipstream_sim::trace::parse_trace;
    let raced: Vec<usize> = (0..traces.len()).filter(|&i| !traces[i].is_empty()).collect();
    if raced.len() < 2 {
        return Ok(None);
    }
    let rows = |i: usize| {
        let text = std::str::from_utf8(&traces[i]).map_err(|e| format!("trace: {e}"))?;
        parse_trace(text).map_err(|(line, m)| format!("trace line {line}: {m}"))
    };
    let winner = result.winner();
    let main = if traces[winner].is_empty() { raced[0] } else { winner };
    let rivals = raced
        .iter()
        .filter(|&&i| i != main)
        .map(|&i| {
            Ok(Rival {
                name: names.get(i).cloned().unwrap_or_default(),
                rows: rows(i)?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let opts = ReplayOptions {
        map_width: REPLAY_MAP_WIDTH,
        max_frames: Some(REPLAY_MAX_FRAMES),
        ..ReplayOptions::default()
    };
    let title = format!("{}, head-to-head", replay_title(run));
    let mut r = ReplayRenderer::new(track, rows(main)?, &title, opts)
        .map_err(|e| e.to_string())?
        .with_rivals(names.get(main).map_or("", String::as_str), rivals);
    let mut gif = Vec::new();
    write_gif(&mut gif, &mut r).map_err(|e| e.to_string())?;
    Ok(Some(gif))
}
