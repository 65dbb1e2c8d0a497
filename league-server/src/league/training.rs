//! Training from the console: the "Create model" form turned into exactly what `trainer train`
//! runs, the quotas a new job is checked against, and stopping a job. The runner that trains is
//! `worker/training.rs`.
//!
//! The form speaks DeepRacer: a sensor and network as `model_metadata.json` names them, its action
//! space (a discrete table or continuous ranges), `hyperparameters.json`'s names, a reward function
//! and a stop condition in minutes. The trainer's own readers of those files turn them into its
//! config ([`build_config`]), so the console trains what the same files give on the command line.
//! The learning rate stays constant, as on DeepRacer: then a job stopped by its minutes is
//! repeated exactly by `trainer train --steps` with the steps it trained.

use serde::{Deserialize, Serialize};
use slipstream_sim::action::{ActionSpace, DiscreteAction, ModelMetadata, Range};
use slipstream_trainer::TrainConfig;

use crate::ctx::Ctx;
use crate::error::{LeagueError, Result};
use crate::league::access::{ADMINS, RACERS};
use crate::league::rewards::MAX_REWARD_BYTES;
use crate::store::{NewTraining, TrainingLimits, TrainingRow, User};

/// The file name the reward function has in a job's folder.
pub const REWARD_FILE: &str = "reward_function.py";

/// DeepRacer's first example reward function ("follow the center line"), the editor's start.
pub const EXAMPLE_REWARD: &str = r#"def reward_function(params):
    '''
    Example of rewarding the agent to follow center line
    '''

    # Read input parameters
    track_width = params['track_width']
    distance_from_center = params['distance_from_center']

    # Calculate 3 markers that are at varying distances away from the center line
    marker_1 = 0.1 * track_width
    marker_2 = 0.25 * track_width
    marker_3 = 0.5 * track_width

    # Give higher reward if the car is closer to center line and vice versa
    if distance_from_center <= marker_1:
        reward = 1.0
    elif distance_from_center <= marker_2:
        reward = 0.5
    elif distance_from_center <= marker_3:
        reward = 0.1
    else:
        reward = 1e-3  # likely crashed/ close to off track

    return float(reward)
"#;

/// Cars a camera model trains in lockstep (the state sensor's default, 256, makes a CPU's camera
/// iteration last a minute).
pub const CAMERA_CARS: usize = 32;

/// A camera model's minibatch and epochs (trainer/examples/camera.toml), unless the student sets
/// DeepRacer's `batch_size` and `num_epochs`.
pub const CAMERA_BATCH_SIZE: usize = 256;
pub const CAMERA_EPOCHS: usize = 3;

/// The sensors the form offers: (value, DeepRacer's sensor list, what a student reads).
pub const SENSORS: &[(&str, &[&str], &str)] = &[
    ("camera", &["FRONT_FACING_CAMERA"], "Camera (one front camera)"),
    ("stereo", &["STEREO_CAMERAS"], "Stereo camera (two front cameras)"),
    ("camera_lidar", &["FRONT_FACING_CAMERA", "LIDAR"], "Camera and LIDAR"),
    ("stereo_lidar", &["STEREO_CAMERAS", "LIDAR"], "Stereo camera and LIDAR"),
    (
        "camera_sector_lidar",
        &["FRONT_FACING_CAMERA", "SECTOR_LIDAR"],
        "Camera and sector LIDAR",
    ),
];

/// The networks the form offers: (name, what a student reads). DeepRacer's by their
/// `model_metadata.json` names, and Slipstream's own camera network.
pub const NETWORKS: &[(&str, &str)] = &[
    (
        SLIPSTREAM_CNN,
        "Slipstream's camera network (fastest to train on a CPU)",
    ),
    (
        "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
        "DeepRacer's 3-layer convolutional network",
    ),
    (
        "DEEP_CONVOLUTIONAL_NETWORK",
        "DeepRacer's 5-layer convolutional network",
    ),
];

/// The form's name for Slipstream's camera network (`NetworkSpec::camera_default`).
pub const SLIPSTREAM_CNN: &str = "SLIPSTREAM_CNN";

/// The console's "Create model" form, as sent (every field text, as a browser sends it) and as
/// stored with the job (`trainings.form_json`: the form shows it again for "clone").
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainingForm {
    pub name: String,
    /// A built-in track's name or an uploaded track's id.
    pub track: String,
    /// One of [`SENSORS`]' values.
    pub sensor: String,
    /// One of [`NETWORKS`]' names.
    pub network: String,
    /// `discrete` or `continuous`.
    pub action_space_type: String,
    /// The discrete table: one action a line, "steering_angle speed" (degrees, m/s).
    pub actions: String,
    /// Continuous ranges: steering ± this many degrees, speed from–to m/s.
    pub steering_max: String,
    pub speed_min: String,
    pub speed_max: String,
    pub reward_code: String,
    /// The stop condition, and the job's wall-clock cap.
    pub minutes: String,
    /// A step budget instead (empty = none): the same model on every machine.
    pub steps: String,
    pub seed: String,
    // DeepRacer's hyperparameters (empty: the default).
    pub batch_size: String,
    pub num_epochs: String,
    pub lr: String,
    pub beta_entropy: String,
    pub discount_factor: String,
    pub loss_type: String,
    pub num_episodes_between_training: String,
    /// One of the student's models whose weights it starts from (DeepRacer's "clone"; empty =
    /// fresh weights). Its sensor, network and action space must be the form's.
    pub init_model: String,
}

impl TrainingForm {
    /// The form as a new student first sees it: DeepRacer's defaults.
    pub fn defaults(track: &str) -> Self {
        TrainingForm {
            name: String::new(),
            track: track.into(),
            sensor: "camera".into(),
            network: SLIPSTREAM_CNN.into(),
            action_space_type: "discrete".into(),
            actions: default_actions_text(),
            steering_max: "30".into(),
            speed_min: "0.5".into(),
            speed_max: "2".into(),
            reward_code: EXAMPLE_REWARD.into(),
            minutes: "10".into(),
            seed: "1".into(),
            ..Default::default()
        }
    }
}

/// The discrete table the form starts with (the simulator's default space), one action a line.
pub fn default_actions_text() -> String {
    match ActionSpace::default() {
        ActionSpace::Discrete(v) => v
            .iter()
            .map(|a| format!("{} {}", a.steering_angle, a.speed))
            .collect::<Vec<_>>()
            .join("\n"),
        ActionSpace::Continuous { .. } => String::new(),
    }
}

fn number(field: &str, text: &str) -> Result<f64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| LeagueError::invalid(format!("{field}: expected a number, got {:?}", text.trim())))
}

/// The action space the form describes.
fn action_space(f: &TrainingForm) -> Result<ActionSpace> {
    match f.action_space_type.as_str() {
        "discrete" => {
            let mut actions = Vec::new();
            for (i, line) in f.actions.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let parts: Vec<&str> = line.split([' ', ',', '\t']).filter(|p| !p.is_empty()).collect();
                let [steering, speed] = parts[..] else {
                    return Err(LeagueError::invalid(format!(
                        "actions, line {}: expected \"steering_angle speed\" (degrees, m/s), got {:?}",
                        i + 1,
                        line.trim()
                    )));
                };
                actions.push(DiscreteAction {
                    steering_angle: number(&format!("actions, line {}: steering angle", i + 1), steering)?,
                    speed: number(&format!("actions, line {}: speed", i + 1), speed)?,
                });
            }
            if actions.is_empty() {
                return Err(LeagueError::invalid("actions: give at least one action"));
            }
            Ok(ActionSpace::Discrete(actions))
        }
        "continuous" => {
            let steer = number("steering angle", &f.steering_max)?;
            Ok(ActionSpace::Continuous {
                steering_angle: Range {
                    low: -steer.abs(),
                    high: steer.abs(),
                },
                speed: Range {
                    low: number("minimum speed", &f.speed_min)?,
                    high: number("maximum speed", &f.speed_max)?,
                },
            })
        }
        other => Err(LeagueError::invalid(format!(
            "action space: expected discrete or continuous, got {other:?}"
        ))),
    }
}

/// The trainer's config for the form: its model_metadata.json and hyperparameters.json applied by
/// the trainer's own readers, a constant learning rate, `threads` simulator threads. Errors name
/// the form's field.
pub fn build_config(f: &TrainingForm, threads: usize) -> Result<TrainConfig> {
    let sensors = SENSORS
        .iter()
        .find(|(v, ..)| *v == f.sensor)
        .ok_or_else(|| LeagueError::invalid(format!("sensor: not one this league trains: {:?}", f.sensor)))?
        .1;
    if !NETWORKS.iter().any(|(n, _)| *n == f.network) {
        return Err(LeagueError::invalid(format!(
            "network: not one this league trains: {:?}",
            f.network
        )));
    }
    // Slipstream's network takes the camera as DeepRacer's do; the metadata names one of those.
    let deepracer_network = if f.network == SLIPSTREAM_CNN {
        "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW"
    } else {
        f.network.as_str()
    };
    let meta = ModelMetadata::new(
        action_space(f)?,
        sensors.iter().map(|s| s.to_string()).collect(),
        deepracer_network,
    );
    let mut cfg = TrainConfig::default();
    slipstream_trainer::model_metadata::apply(&mut cfg, &meta).map_err(LeagueError::invalid)?;
    if f.network == SLIPSTREAM_CNN {
        cfg.network = slipstream_trainer::network::NetworkSpec::camera_default();
    }
    if cfg.sensor.image_shape().is_some() {
        // Camera models on CPUs (trainer/examples/camera.toml): fewer cars keep an iteration to
        // seconds, and smaller minibatches over more epochs learn from its shorter rollouts. The
        // student's hyperparameters, applied next, override these.
        cfg.num_cars = CAMERA_CARS;
        cfg.batch_size = CAMERA_BATCH_SIZE;
        cfg.num_epochs = CAMERA_EPOCHS;
    }
    let mut hp = serde_json::Map::new();
    for (key, text, integer) in [
        ("batch_size", &f.batch_size, true),
        ("num_epochs", &f.num_epochs, true),
        ("lr", &f.lr, false),
        ("beta_entropy", &f.beta_entropy, false),
        ("discount_factor", &f.discount_factor, false),
        ("num_episodes_between_training", &f.num_episodes_between_training, true),
    ] {
        if text.trim().is_empty() {
            continue;
        }
        let v = number(key, text)?;
        let value = if integer {
            if v.fract() != 0.0 || v < 0.0 {
                return Err(LeagueError::invalid(format!(
                    "{key}: expected a whole number, got {}",
                    text.trim()
                )));
            }
            serde_json::Value::from(v as u64)
        } else {
            serde_json::Value::from(v)
        };
        hp.insert(key.into(), value);
    }
    if !f.loss_type.trim().is_empty() {
        hp.insert("loss_type".into(), f.loss_type.trim().into());
    }
    slipstream_trainer::deepracer_logs::apply_hyperparameters(&mut cfg, &serde_json::Value::Object(hp).to_string())
        .map_err(LeagueError::invalid)?;
    cfg.anneal_lr = false;
    cfg.sim_threads = threads.max(1);
    cfg.validate().map_err(LeagueError::invalid)?;
    Ok(cfg)
}

/// A config as the TOML file `trainer train --config` reads.
pub fn config_toml(cfg: &TrainConfig) -> Result<String> {
    toml::to_string(cfg).map_err(|e| LeagueError::internal(format!("writing a training config: {e}")))
}

/// The league's quotas (an admin sets them; each 0 = no limit). DeepRacer's student league gave
/// 10 hours of training a month.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Quotas {
    /// Training jobs queued or running at once, per user.
    pub concurrent_jobs: i64,
    /// Training minutes per user per calendar month (UTC).
    pub monthly_minutes: f64,
    /// Models per user.
    pub models: i64,
    /// The longest one job may train, minutes.
    pub job_minutes: f64,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            concurrent_jobs: 1,
            monthly_minutes: 600.0,
            models: 50,
            job_minutes: 60.0,
        }
    }
}

const QUOTAS_KEY: &str = "quotas";

/// The quotas in force.
pub async fn quotas(ctx: &Ctx) -> Result<Quotas> {
    match ctx.store.setting(QUOTAS_KEY).await? {
        Some(json) => serde_json::from_str(&json).map_err(|e| LeagueError::internal(format!("stored quotas: {e}"))),
        None => Ok(Quotas::default()),
    }
}

/// Set the quotas (admins).
pub async fn set_quotas(ctx: &Ctx, by: &User, q: Quotas) -> Result<()> {
    if !ADMINS.contains(&by.role) {
        return Err(LeagueError::denied("setting quotas: admins only"));
    }
    let minutes_ok = |m: f64| m.is_finite() && m >= 0.0;
    if q.concurrent_jobs < 0 || q.models < 0 || !minutes_ok(q.monthly_minutes) || !minutes_ok(q.job_minutes) {
        return Err(LeagueError::invalid(
            "quotas: expected numbers of 0 or more (0 = no limit)",
        ));
    }
    let json = serde_json::to_string(&q).expect("quotas serialise");
    ctx.store.set_setting(QUOTAS_KEY, &json).await?;
    tracing::info!(by = %by.id, ?q, "quotas set");
    Ok(())
}

/// The first millisecond of `now`'s calendar month, UTC.
pub fn month_start_ms(now_ms: i64) -> i64 {
    // jiff's civil arithmetic in UTC: the timestamp's UTC date, then the first of its month.
    let Ok(ts) = jiff::Timestamp::from_millisecond(now_ms) else {
        return 0;
    };
    let date = jiff::tz::Offset::UTC.to_datetime(ts).date().first_of_month();
    jiff::tz::Offset::UTC
        .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .map(|t| t.as_millisecond())
        .unwrap_or(0)
}

/// Whether `track` is one a student may train on: a built-in, or an uploaded track.
async fn check_track(ctx: &Ctx, track: &str) -> Result<()> {
    if slipstream_sim::track::builtin::find(track).is_some() {
        return Ok(());
    }
    if crate::races::upload_sha(track).is_some() && ctx.store.track(track).await?.is_some() {
        return Ok(());
    }
    Err(LeagueError::invalid(format!(
        "track: no built-in or uploaded track {track:?}"
    )))
}

/// Queue a training job for `by` from the console's form: checked field by field, then against the
/// quotas; nothing is made when anything is refused.
pub async fn start(ctx: &Ctx, by: &User, f: &TrainingForm) -> Result<TrainingRow> {
    if !RACERS.contains(&by.role) {
        return Err(LeagueError::denied("training models: racers, facilitators and admins"));
    }
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(LeagueError::invalid("name: expected 1–100 characters"));
    }
    check_track(ctx, f.track.trim()).await?;
    if f.reward_code.trim().is_empty() {
        return Err(LeagueError::invalid(
            "reward function: write one (the example is a start)",
        ));
    }
    if f.reward_code.len() > MAX_REWARD_BYTES {
        return Err(LeagueError::invalid(format!(
            "reward function: at most {} KiB",
            MAX_REWARD_BYTES >> 10
        )));
    }
    if ctx.cfg.trainers == 0 {
        return Err(LeagueError::precondition(
            "this league server trains no models (it was started with --trainers 0)",
        ));
    }
    ctx.student_code.found()?;
    let q = quotas(ctx).await?;
    let minutes = number("minutes", &f.minutes)?;
    if minutes <= 0.0 || (q.job_minutes > 0.0 && minutes > q.job_minutes) {
        return Err(LeagueError::invalid(if q.job_minutes > 0.0 {
            format!(
                "minutes: expected more than 0 and at most {} (this league's longest job)",
                q.job_minutes
            )
        } else {
            "minutes: expected more than 0".to_string()
        }));
    }
    let steps = if f.steps.trim().is_empty() {
        0
    } else {
        f.steps
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|s| (1..=1_000_000_000).contains(s))
            .ok_or_else(|| {
                LeagueError::invalid(format!(
                    "steps: expected a whole number from 1 to 1,000,000,000, or nothing; got {:?}",
                    f.steps.trim()
                ))
            })?
    };
    let seed =
        if f.seed.trim().is_empty() {
            1
        } else {
            f.seed.trim().parse::<i64>().ok().filter(|s| *s >= 0).ok_or_else(|| {
                LeagueError::invalid(format!("seed: expected a whole number, got {:?}", f.seed.trim()))
            })?
        };
    let cfg = build_config(f, ctx.cfg.training_threads)?;
    let init = f.init_model.trim();
    if !init.is_empty() {
        let model = match ctx.store.model(init).await? {
            Some(m) if !m.deleted && m.owner_id == by.id => m,
            _ => {
                return Err(LeagueError::not_found(format!(
                    "start from: you have no model {init:?}"
                )));
            }
        };
        let spec = ctx
            .model_spec(&model)
            .await?
            .map_err(|e| LeagueError::precondition(format!("start from: model {:?}: {e}", model.name)))?;
        let want = cfg.model_spec();
        for (what, same) in [
            ("sensor", spec.sensor == want.sensor),
            ("network", spec.network == want.network),
            ("action space", spec.action_space == want.action_space),
        ] {
            if !same {
                return Err(LeagueError::invalid(format!(
                    "start from: model {:?} has another {what} than this form's; a model continues with its own \
                     (choose fresh weights to change it)",
                    model.name
                )));
            }
        }
    }
    let form_json = serde_json::to_string(f).expect("a form serialises");
    let toml = config_toml(&cfg)?;
    let now = ctx.now_ms();
    let row = ctx
        .store
        .insert_training(
            &NewTraining {
                owner_id: &by.id,
                name,
                form_json: &form_json,
                config_toml: &toml,
                reward_code: &f.reward_code,
                track: f.track.trim(),
                seed,
                minutes,
                steps,
                init_model_id: init,
            },
            &TrainingLimits {
                concurrent: q.concurrent_jobs,
                monthly_minutes: q.monthly_minutes,
                models: q.models,
                month_start_ms: month_start_ms(now),
            },
        )
        .await?;
    tracing::info!(training = %row.id, owner = %by.id, minutes, "training queued");
    ctx.training_ready.notify_one();
    Ok(row)
}

/// A training job `by` may see (its owner or an admin); anyone else gets NotFound, as for a job
/// that does not exist.
pub async fn visible(ctx: &Ctx, by: &User, id: &str) -> Result<TrainingRow> {
    let missing = || LeagueError::not_found(format!("There is no training job {id:?} of yours."));
    let row = ctx.store.training(id).await?.ok_or_else(missing)?;
    if row.owner_id != by.id && !ADMINS.contains(&by.role) {
        return Err(missing());
    }
    Ok(row)
}

/// Stop a job (its owner or an admin): a queued one at once, a running one within a second or two,
/// keeping the model trained so far.
pub async fn stop(ctx: &Ctx, by: &User, id: &str) -> Result<TrainingRow> {
    visible(ctx, by, id).await?;
    let row = ctx
        .store
        .request_training_stop(id)
        .await?
        .ok_or_else(|| LeagueError::not_found(format!("There is no training job {id:?} of yours.")))?;
    tracing::info!(training = %id, by = %by.id, "training stop asked");
    ctx.training_changed(id);
    Ok(row)
}

/// One iteration as the console's chart draws it (a line of `trainings.metrics_jsonl`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChartPoint {
    pub iteration: u64,
    pub env_steps: u64,
    /// Training: the mean over the episodes that ended of the reward function's sums.
    pub reward: Option<f64>,
    /// Training: the mean progress (% of a lap) of the episodes that ended.
    pub progress: Option<f64>,
    /// Evaluation: % of the 3-lap evaluation race completed, when one ran.
    pub eval_progress: Option<f64>,
    pub eval_best_lap_s: Option<f64>,
    pub best: bool,
}

impl ChartPoint {
    pub fn of(m: &slipstream_trainer::metrics::IterationMetrics) -> Self {
        ChartPoint {
            iteration: m.iteration,
            env_steps: m.env_steps,
            reward: m.mean_return,
            progress: m.mean_progress,
            eval_progress: m.eval_completed_laps.map(|l| 100.0 * l.min(3) as f64 / 3.0),
            eval_best_lap_s: m.eval_best_lap_s,
            best: m.best_so_far,
        }
    }
}

/// A job's chart points, oldest first (lines that do not read are skipped).
pub fn chart_points(row: &TrainingRow) -> Vec<ChartPoint> {
    row.metrics_jsonl
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_form_builds_a_camera_config_with_a_constant_learning_rate() {
        let cfg = build_config(&TrainingForm::defaults("oval"), 2).unwrap();
        assert_eq!(cfg.sensor.kind(), "camera");
        assert!(!cfg.anneal_lr);
        assert_eq!(cfg.sim_threads, 2);
        let toml = config_toml(&cfg).unwrap();
        assert_eq!(
            TrainConfig::parse(&toml).unwrap(),
            cfg,
            "the TOML is what the trainer reads back"
        );
    }

    #[test]
    fn every_offered_sensor_and_network_builds() {
        for (sensor, ..) in SENSORS {
            for (network, _) in NETWORKS {
                let f = TrainingForm {
                    sensor: sensor.to_string(),
                    network: network.to_string(),
                    ..TrainingForm::defaults("oval")
                };
                build_config(&f, 1).unwrap_or_else(|e| panic!("{sensor} {network}: {e}"));
            }
        }
    }

    #[test]
    fn bad_values_are_refused_naming_the_field() {
        let bad = |edit: fn(&mut TrainingForm), want: &str| {
            let mut f = TrainingForm::defaults("oval");
            edit(&mut f);
            let e = build_config(&f, 1).unwrap_err().to_string();
            assert!(e.contains(want), "{want} in {e}");
        };
        bad(|f| f.actions = "0 1\n-30 fast".into(), "actions, line 2: speed");
        bad(|f| f.actions = "0".into(), "actions, line 1: expected");
        bad(|f| f.batch_size = "12.5".into(), "batch_size: expected a whole number");
        bad(|f| f.lr = "-1".into(), "lr");
        bad(|f| f.sensor = "radar".into(), "sensor:");
        bad(
            |f| {
                f.action_space_type = "continuous".into();
                f.speed_min = "slow".into()
            },
            "minimum speed",
        );
    }

    #[test]
    fn hyperparameters_keep_deepracers_names() {
        let f = TrainingForm {
            batch_size: "64".into(),
            num_epochs: "3".into(),
            lr: "0.0003".into(),
            discount_factor: "0.999".into(),
            ..TrainingForm::defaults("oval")
        };
        let cfg = build_config(&f, 1).unwrap();
        assert_eq!(
            (cfg.batch_size, cfg.num_epochs, cfg.lr, cfg.discount_factor),
            (64, 3, 0.0003, 0.999)
        );
    }

    #[test]
    fn a_month_starts_on_its_first_day_at_midnight_utc() {
        // 2026-12-07 21:35:53 UTC → 2026-12-01 00:00:00 UTC.
        assert_eq!(month_start_ms(1_796_679_353_000), 1_796_083_200_000);
    }
}
