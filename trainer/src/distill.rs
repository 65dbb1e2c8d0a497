//! Distillation: a camera-only student learns to imitate a privileged teacher (a state or lidar
//! model) on the frames the student itself visits — DAgger (Ross et al. 2011), "learning by
//! cheating" (Chen et al. 2019).
//!
//! ```text
//! set up: the teacher, a new camera student with the teacher's car and action space, two twin
//!         environments stepped with the same actions (the teacher's sensor, the student's camera)
//! until the budget is used, iteration i:
//!     1. β = beta_decay^i: each car-step is driven by the teacher with probability β, else by the
//!        student (deterministic)
//!     2. every visited frame is labelled with the teacher's deterministic action and value, and
//!        kept in a replay buffer (the oldest frames go first once it is full)
//!     3. the student takes num_epochs × (frames collected / batch_size) Adam steps on minibatches
//!        drawn from the buffer: imitation loss (continuous: squared error of the Gaussian mean to
//!        the teacher's clipped action; discrete: cross-entropy to the teacher's choice) plus
//!        value_coef × squared error of its value to the teacher's
//!     4. every eval_every iterations the student races 3 laps on the first track (its own camera
//!        only); the best racer is model_best
//! ```
//!
//! `--out` receives `model_last` / `model_best` (with `model_metadata.json`) and `distill.jsonl`, one
//! [`DistillMetrics`] row per iteration.
//!
//! The student is an ordinary camera model: it races, uploads and evaluates like any other, and
//! `trainer train --init-from student/model_best.safetensors` fine-tunes it with PPO on its own
//! reward (its value head, imitated from the teacher, gives that run a trained critic).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;
use slipstream_sim::rng::Rng;
use slipstream_sim::{Action, Mode, StepBuffers, TrackSchedule, VecEnv};
use tch::{Device, Kind, Tensor};

use crate::checkpoint::{OutputFiles, race_and_keep_best};
use crate::config::TrainConfig;
use crate::device::{DeviceChoice, device_name};
use crate::error::TrainError;
use crate::evaluate::EvalReport;
use crate::model::{Model, ModelSpec};
use crate::optim::{Adam, AdamConfig};
use crate::policy::{ActionDecoder, Observations, RawActions};
use crate::tensors;
use crate::tracks::TrackSet;
use crate::train::Budget;

/// Everything `trainer distill` passes in.
#[derive(Clone, Debug)]
pub struct DistillOptions {
    /// The student's sensor (a camera) and network, cars, rollout, minibatch, epochs, lr, eval_every.
    pub config: TrainConfig,
    pub teacher: PathBuf,
    pub tracks: Vec<String>,
    pub budget: Budget,
    pub seed: u64,
    pub device: DeviceChoice,
    pub out_dir: PathBuf,
    /// β of iteration i is `beta_decay^i` (1 at the first iteration: the teacher drives).
    pub beta_decay: f64,
    /// Frames the replay buffer keeps.
    pub buffer_frames: usize,
}

/// One iteration's figures.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DistillMetrics {
    pub iteration: u64,
    pub frames: u64,
    pub wall_s: f64,
    pub beta: f64,
    /// Fraction of this iteration's car-steps where the student's action differed from the
    /// teacher's by more than a tenth of the action range (continuous) or at all (discrete).
    pub disagreement: f64,
    pub imitation_loss: f64,
    pub value_loss: f64,
    pub eval_completed_laps: Option<usize>,
    pub eval_clean_laps: Option<usize>,
    pub eval_best_lap_s: Option<f64>,
}

/// What a distillation reports.
#[derive(Clone, Debug, Serialize)]
pub struct DistillSummary {
    pub out_dir: PathBuf,
    pub model_last: PathBuf,
    pub model_best: Option<PathBuf>,
    pub iterations: u64,
    pub frames: u64,
    pub wall_s: f64,
    pub device: String,
    pub best_eval: Option<EvalReport>,
    /// Wall-clock seconds until the student first drove 3 consecutive clean laps.
    pub first_three_clean_laps_s: Option<f64>,
}

/// The student's settings when no config file is given: DeepRacer's camera, Slipstream's camera
/// network, 32 cars × 32 steps (1,024 frames) per iteration, minibatches of 256, two passes.
pub fn default_config() -> TrainConfig {
    TrainConfig {
        sensor: slipstream_sim::ObsConfig::Camera(Default::default()),
        network: crate::network::NetworkSpec::camera_default(),
        num_cars: 32,
        rollout_steps: 32,
        batch_size: 256,
        num_epochs: 2,
        lr: 1e-3,
        eval_every: 2,
        ..TrainConfig::default()
    }
}

/// The student's model: the teacher's car, action space and steps, the config's camera and network.
pub fn student_spec(teacher: &ModelSpec, cfg: &TrainConfig) -> Result<ModelSpec, TrainError> {
    let spec = ModelSpec {
        sensor: cfg.sensor.clone(),
        network: cfg.network.clone(),
        ..teacher.clone()
    };
    if spec.sensor.camera().is_none() {
        return Err(TrainError::option(
            "--sensor",
            "the student must see a camera (camera or stereo_camera)",
        ));
    }
    spec.validate().map_err(|m| TrainError::option("--config", m))?;
    Ok(spec)
}

/// Distil `opts.teacher` into a camera student. `on_iteration` sees every iteration's metrics.
///
/// The steps of the module's outline, in order: set up, then per iteration 1.–2. drive and label,
/// 3. imitate, 4. race the student; finally save the last student.
pub fn distill(
    opts: DistillOptions,
    on_iteration: &mut dyn FnMut(&DistillMetrics),
) -> Result<DistillSummary, TrainError> {
    let mut d = Distillation::set_up(&opts)?;
    let files_best = d.files.best();
    let log_path = d.files.dir.join("distill.jsonl");
    let mut log =
        std::fs::File::create(&log_path).map_err(|e| TrainError::file(&log_path, format!("cannot create: {e}")))?;
    let started = Instant::now();
    let mut iteration = 0u64;
    let (mut best, mut best_eval, mut first_clean) = (None, None, None);
    let eval_track = (d.set.tracks[0].clone(), d.set.names[0].clone());
    while opts.budget.used(d.frames, started.elapsed().as_secs_f64()) < 1.0 {
        let beta = opts.beta_decay.powi(iteration as i32);
        let mut row = DistillMetrics {
            iteration: iteration + 1,
            beta,
            ..Default::default()
        };
        // 1.–2. Drive (teacher with probability β, else student); label every frame.
        row.disagreement = d.drive_and_label(beta)?;
        // 3. Imitate: minibatches from the buffer.
        (row.imitation_loss, row.value_loss) = d.imitate();
        iteration += 1;
        d.student.info.steps = d.frames;
        row.frames = d.frames;
        row.wall_s = started.elapsed().as_secs_f64();

        // 4. Race the student.
        let last = opts.budget.used(d.frames, started.elapsed().as_secs_f64()) >= 1.0;
        let cfg = &opts.config;
        if cfg.eval_every > 0 && (iteration.is_multiple_of(cfg.eval_every as u64) || last) {
            let (report, is_best) = race_and_keep_best(&d.student, &eval_track, opts.seed, &mut best, &files_best)?;
            row.eval_completed_laps = Some(report.completed_laps);
            row.eval_clean_laps = Some(report.consecutive_clean);
            row.eval_best_lap_s = report.best_lap_s;
            if report.consecutive_clean >= 3 && first_clean.is_none() {
                first_clean = Some(started.elapsed().as_secs_f64());
            }
            if is_best {
                best_eval = Some(report);
            }
        }
        let line = serde_json::to_string(&row).expect("serialisable") + "\n";
        log.write_all(line.as_bytes())
            .map_err(|e| TrainError::file(&log_path, format!("cannot write: {e}")))?;
        on_iteration(&row);
    }
    d.student.save(&d.files.last())?;
    Ok(DistillSummary {
        out_dir: opts.out_dir.clone(),
        model_last: d.files.last(),
        model_best: files_best.exists().then_some(files_best),
        iterations: iteration,
        frames: d.frames,
        wall_s: started.elapsed().as_secs_f64(),
        device: device_name(d.device),
        best_eval,
        first_three_clean_laps_s: first_clean,
    })
}

/// A distillation under way: the teacher and the student, the twin environments stepped with the
/// same actions, the replay buffer of labelled frames, and what one step reuses.
struct Distillation {
    cfg: TrainConfig,
    device: Device,
    set: TrackSet,
    files: OutputFiles,
    teacher: Model,
    student: Model,
    opt: Adam,
    teacher_env: VecEnv,
    student_env: VecEnv,
    t_out: StepBuffers,
    s_out: StepBuffers,
    /// The student's camera images of one step, on the device (reused every step).
    images: Tensor,
    /// The camera networks read only the images; the student's observation vector is not used.
    no_features: Tensor,
    /// Bytes of one car's image.
    frame: usize,
    buffer: ReplayBuffer,
    decoder: ActionDecoder,
    actions: Vec<Action>,
    raw_f: Vec<f32>,
    raw_i: Vec<i64>,
    rng: Rng,
    /// Car-steps driven so far.
    frames: u64,
}

impl Distillation {
    /// Set up: check the options, load the teacher, make the student (the teacher's car and action
    /// space, the config's camera and network), the twin environments and the replay buffer.
    fn set_up(opts: &DistillOptions) -> Result<Self, TrainError> {
        let cfg = &opts.config;
        cfg.validate().map_err(|m| TrainError::option("--config", m))?;
        if !(opts.beta_decay.is_finite() && (0.0..=1.0).contains(&opts.beta_decay)) {
            return Err(TrainError::option("--beta-decay", "expected a number in [0, 1]"));
        }
        if opts.buffer_frames < cfg.batch_size {
            return Err(TrainError::option("--buffer", "must hold at least one minibatch"));
        }
        let device = opts.device.resolve()?;
        let teacher = Model::load(&opts.teacher, device)?;
        if teacher.spec.sensor.camera().is_some() {
            return Err(TrainError::option(
                "--teacher",
                "the teacher must be a state or lidar model (it is a camera model)",
            ));
        }
        let set = TrackSet::build(&opts.tracks, &cfg.generated, cfg.both_directions)?;
        let files = OutputFiles {
            dir: opts.out_dir.clone(),
        };
        files.prepare(false)?;

        tch::manual_seed(opts.seed as i64);
        let mut student = Model::new(student_spec(&teacher.spec, cfg)?, cfg.init_log_std, false, device);
        student.info.tracks = set.names.clone();
        student.info.seed = opts.seed;
        student.info.reward = format!("distilled from {}", opts.teacher.display());
        student.info.hyperparameters = serde_json::to_value(cfg).unwrap_or_default();
        let opt = Adam::new(&student.policy.vs, cfg.lr, AdamConfig::default());

        // Twin environments: same tracks, seed and actions, so the same cars in the same places.
        let twin = |spec: &ModelSpec| -> Result<VecEnv, TrainError> {
            let mut e = spec.env_config(&set.tracks, Mode::Train(cfg.episode.clone()));
            e.track_schedule = TrackSchedule::RoundRobin;
            e.scenario = cfg.scenario.clone();
            Ok(VecEnv::new(e, cfg.num_cars)?)
        };
        let mut teacher_env = twin(&teacher.spec)?;
        let mut student_env = twin(&student.spec)?;
        let (mut t_out, mut s_out) = (teacher_env.buffers(false), student_env.buffers(false));
        teacher_env.reset(opts.seed, &mut t_out)?;
        student_env.reset(opts.seed, &mut s_out)?;

        let cars = cfg.num_cars;
        let [c, h, w] = student.spec.image_shape().expect("a camera student");
        Ok(Distillation {
            cfg: cfg.clone(),
            device,
            images: Tensor::zeros([cars as i64, c, h, w], (Kind::Uint8, device)),
            no_features: Tensor::zeros([cars as i64, student.spec.obs_dim() as i64], (Kind::Float, device)),
            frame: (c * h * w) as usize,
            buffer: ReplayBuffer::new(opts.buffer_frames, [c, h, w], teacher.policy.is_discrete(), device),
            decoder: ActionDecoder::new(student.spec.action_space()),
            actions: vec![Action::Discrete(0); cars],
            raw_f: vec![0f32; 2 * cars],
            raw_i: vec![0i64; cars],
            rng: Rng::new(slipstream_sim::rng::mix_seed(&[opts.seed, 0xd157])),
            frames: 0,
            set,
            files,
            teacher,
            student,
            opt,
            teacher_env,
            student_env,
            t_out,
            s_out,
        })
    }

    /// Steps 1.–2.: `rollout_steps` steps of the twins, each car driven by the teacher with
    /// probability `beta`, else by the student; every frame kept with the teacher's action and
    /// value. Returns the fraction of car-steps where the two disagreed.
    fn drive_and_label(&mut self, beta: f64) -> Result<f64, TrainError> {
        let (cars, steps, device) = (self.cfg.num_cars, self.cfg.rollout_steps, self.device);
        let discrete = self.teacher.policy.is_discrete();
        let mut disagree = 0usize;
        for _ in 0..steps {
            check_twins(&self.t_out, &self.s_out)?;
            let (t_raw, t_value) = tch::no_grad(|| teacher_act(&self.teacher, &self.t_out, device));
            // The step's images go to the device once, into a tensor reused every step.
            tensors::copy_bytes_into(&self.images, &self.s_out.image[..cars * self.frame]);
            let s_raw = tch::no_grad(|| {
                let input = Observations {
                    features: self.no_features.shallow_clone(),
                    images: Some(self.images.shallow_clone()),
                };
                self.student.policy.distribution(&input).sample(true)
            });
            disagree += disagreements(&t_raw, &s_raw);
            let mask: Vec<bool> = (0..cars).map(|_| self.rng.next_f64() < beta).collect();
            let mask_t = Tensor::from_slice(&mask).to_device(device);
            let driven = if discrete {
                s_raw.where_self(&mask_t.logical_not(), &t_raw)
            } else {
                s_raw.where_self(&mask_t.logical_not().unsqueeze(-1), &t_raw)
            };
            let raw = if discrete {
                RawActions::Discrete(&mut self.raw_i)
            } else {
                RawActions::Continuous(&mut self.raw_f)
            };
            self.decoder.decode(&driven, raw, &mut self.actions);
            self.buffer.push(&self.images, &t_raw, &t_value);
            self.teacher_env.step(&self.actions, &mut self.t_out)?;
            self.student_env.step(&self.actions, &mut self.s_out)?;
            self.frames += cars as u64;
        }
        Ok(disagree as f64 / (cars * steps) as f64)
    }

    /// Step 3.: num_epochs × (frames of an iteration / batch_size) Adam steps on minibatches drawn
    /// from the buffer. Returns the mean imitation and value losses.
    fn imitate(&mut self) -> (f64, f64) {
        let cfg = &self.cfg;
        let updates = (cfg.num_epochs * cfg.num_cars * cfg.rollout_steps).div_ceil(cfg.batch_size);
        let (mut sum_il, mut sum_vl) = (0.0, 0.0);
        for _ in 0..updates {
            let (images, labels, values) = self.buffer.sample(cfg.batch_size, &mut self.rng);
            let input = Observations {
                features: Tensor::zeros(
                    [cfg.batch_size as i64, self.student.spec.obs_dim() as i64],
                    (Kind::Float, self.device),
                ),
                images: Some(images),
            };
            let (il, vl) = imitation_loss(&self.student, &input, &labels, &values);
            let loss = &il + &vl * cfg.value_coef;
            self.opt.zero_grad();
            loss.backward();
            self.opt.clip_and_step(cfg.max_grad_norm);
            sum_il += il.double_value(&[]);
            sum_vl += vl.double_value(&[]);
        }
        (sum_il / updates as f64, sum_vl / updates as f64)
    }
}

/// The teacher's deterministic actions (raw, as its policy outputs them) and values on its own
/// observations.
fn teacher_act(teacher: &Model, out: &StepBuffers, device: Device) -> (Tensor, Tensor) {
    let obs = teacher.normalized(&out.obs);
    let n = out.done.len() as i64;
    let input = Observations {
        features: Tensor::from_slice(&obs).view([n, -1]).to_device(device),
        images: None,
    };
    let raw = teacher.policy.distribution(&input).sample(true);
    (raw, teacher.policy.value(&input))
}

/// Car-steps where the student's choice differs from the teacher's (continuous: by more than a
/// tenth of the [-1, 1] range in either dimension).
fn disagreements(teacher: &Tensor, student: &Tensor) -> usize {
    let differs = if teacher.kind() == Kind::Int64 {
        teacher.ne_tensor(student)
    } else {
        (teacher.clamp(-1.0, 1.0) - student.clamp(-1.0, 1.0))
            .abs()
            .gt(0.2)
            .any_dim(-1, false)
    };
    differs.sum(Kind::Int64).int64_value(&[]) as usize
}

/// Imitation loss of the student's actor and squared error of its value to the teacher's.
fn imitation_loss(student: &Model, input: &Observations, labels: &Tensor, values: &Tensor) -> (Tensor, Tensor) {
    let dist = student.policy.distribution(input);
    let il = match &dist {
        crate::policy::Distribution::Categorical { log_probs } => {
            -log_probs.gather(-1, &labels.unsqueeze(-1), false).mean(Kind::Float)
        }
        crate::policy::Distribution::Gaussian { mean, .. } => {
            (mean - labels.clamp(-1.0, 1.0)).square().mean(Kind::Float)
        }
    };
    let vl = (student.policy.value(input) - values).square().mean(Kind::Float);
    (il, vl)
}

/// Labelled frames on the learner's device: images as bytes, the teacher's actions and values. A
/// ring: once full, new frames replace the oldest.
struct ReplayBuffer {
    images: Tensor,
    labels: Tensor,
    values: Tensor,
    capacity: usize,
    len: usize,
    next: usize,
}

impl ReplayBuffer {
    fn new(capacity: usize, [c, h, w]: [i64; 3], discrete: bool, device: Device) -> Self {
        let n = capacity as i64;
        ReplayBuffer {
            images: Tensor::zeros([n, c, h, w], (Kind::Uint8, device)),
            labels: if discrete {
                Tensor::zeros([n], (Kind::Int64, device))
            } else {
                Tensor::zeros([n, 2], (Kind::Float, device))
            },
            values: Tensor::zeros([n], (Kind::Float, device)),
            capacity,
            len: 0,
            next: 0,
        }
    }

    fn push(&mut self, images: &Tensor, labels: &Tensor, values: &Tensor) {
        let n = images.size()[0] as usize;
        let mut k = 0;
        while k < n {
            // Up to the end of the ring, then from its start.
            let take = (n - k).min(self.capacity - self.next);
            let (at, from, len) = (self.next as i64, k as i64, take as i64);
            self.images.narrow(0, at, len).copy_(&images.narrow(0, from, len));
            self.labels.narrow(0, at, len).copy_(&labels.narrow(0, from, len));
            self.values.narrow(0, at, len).copy_(&values.narrow(0, from, len));
            self.next = (self.next + take) % self.capacity;
            self.len = (self.len + take).min(self.capacity);
            k += take;
        }
    }

    fn sample(&self, batch: usize, rng: &mut Rng) -> (Tensor, Tensor, Tensor) {
        let idx: Vec<i64> = (0..batch).map(|_| rng.below(self.len as u64) as i64).collect();
        let ix = Tensor::from_slice(&idx).to_device(self.images.device());
        (
            self.images.index_select(0, &ix),
            self.labels.index_select(0, &ix),
            self.values.index_select(0, &ix),
        )
    }
}

/// The twin environments must hold the same cars in the same places (they are stepped with the
/// same actions from the same seed); a difference is a determinism bug, reported rather than
/// trained on.
fn check_twins(teacher: &StepBuffers, student: &StepBuffers) -> Result<(), TrainError> {
    for (i, (a, b)) in teacher.info.iter().zip(&student.info).enumerate() {
        if a.progress != b.progress || a.episode != b.episode {
            return Err(TrainError::Internal(format!(
                "distillation's twin environments diverged at car {i} (progress {} vs {}): the \
                 simulator was not deterministic across sensors",
                a.progress, b.progress
            )));
        }
    }
    Ok(())
}
