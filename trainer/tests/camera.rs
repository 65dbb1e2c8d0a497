//! Camera models: PPO learns from pixels alone (with the repository's example config), a camera
//! student learns from a state teacher (distillation), a camera model round-trips through its file
//! with identical actions, and a model whose network does not fit its camera is refused.

use std::path::Path;
use std::sync::Arc;

use slipstream_sim::sensors::{CameraLidarConfig, DeepRacerLidarKind};
use slipstream_sim::track::ValidateOptions;
use slipstream_sim::{Action, ObsConfig, Track};
use slipstream_trainer::distill::{self, DistillOptions, distill};
use slipstream_trainer::metrics::IterationMetrics;
use slipstream_trainer::model::{Model, ModelSpec};
use slipstream_trainer::network::NetworkSpec;
use slipstream_trainer::runner::PolicyRunner;
use slipstream_trainer::{Budget, DeviceChoice, EvalOptions, TrainConfig, TrainOptions, evaluate, train};
use tch::Device;

fn example_config() -> TrainConfig {
    TrainConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/camera.toml"))
        .expect("the documented camera config loads")
}

/// Train `cfg` on the oval for 30,000 steps (seed 7) and load its best model.
fn train_on_oval(cfg: TrainConfig, progress: &mut dyn FnMut(&IterationMetrics)) -> Model {
    let dir = tempfile::tempdir().unwrap();
    let summary = train(
        TrainOptions {
            config: cfg,
            tracks: vec!["oval".into()],
            reward: "progress_speed".into(),
            budget: Budget::Steps(30_000),
            seed: 7,
            device: DeviceChoice::Cpu,
            out_dir: dir.path().to_path_buf(),
            init_from: None,
            resume: false,
            show_reward_prints: false,
        },
        progress,
    )
    .unwrap();
    Model::load(&summary.model_best.expect("an evaluation ran"), Device::Cpu).unwrap()
}

fn race(model: &Model) -> slipstream_trainer::EvalReport {
    let track = Arc::new(Track::resolve("oval", &ValidateOptions::default()).unwrap());
    evaluate(model, track, "oval", &EvalOptions::default()).unwrap()
}

#[test]
fn a_camera_policy_learns_to_drive_from_pixels() {
    let cfg = example_config();
    assert!(cfg.sensor.camera().is_some() && cfg.network.cnn().is_some());
    let mut progress = Vec::new();
    let trained = train_on_oval(cfg.clone(), &mut |m| progress.extend(m.mean_progress));
    let first = progress[0];
    let best_late = progress[progress.len() / 2..].iter().copied().fold(0.0, f64::max);
    assert!(
        best_late > first + 40.0,
        "episodes got much longer: {first:.1}% at first, at best {best_late:.1}% later ({progress:?})"
    );
    assert_eq!(trained.spec.sensor.sensor_names(), ["FRONT_FACING_CAMERA"]);
    let r = race(&trained);
    assert!(r.completed_laps >= 1, "the camera model laps the oval: {r:?}");

    // An untrained camera model of the same kind does not.
    tch::manual_seed(7);
    let fresh = Model::new(cfg.model_spec(), cfg.init_log_std, false, Device::Cpu);
    let r0 = race(&fresh);
    assert!(
        r0.completed_laps < r.completed_laps || r0.off_track > r.off_track,
        "{r0:?} vs {r:?}"
    );
}

fn camera_lidar(stereo: bool, lidar: DeepRacerLidarKind) -> ObsConfig {
    ObsConfig::CameraLidar(CameraLidarConfig {
        stereo,
        lidar,
        ..Default::default()
    })
}

#[test]
fn a_camera_lidar_policy_reads_both_sensors_in_deepracers_layout() {
    let spec = camera_spec(
        NetworkSpec::DeepConvolutionalNetworkShallow {},
        camera_lidar(false, DeepRacerLidarKind::Lidar),
    );
    tch::manual_seed(3);
    let model = Model::new(spec.clone(), -0.5, false, Device::Cpu);
    // Each sensor's embedder, then the middleware over both: 64 × 11 × 16 convolution features and
    // the lidar's 256.
    let shapes: std::collections::HashMap<String, Vec<i64>> = model
        .policy
        .vs
        .variables()
        .into_iter()
        .map(|(k, v)| (k, v.size()))
        .collect();
    assert_eq!(
        shapes["actor.lidar.l0.weight"],
        [256, 64],
        "the lidar's 64 readings, not speed or steering"
    );
    assert_eq!(shapes["actor.lidar.l1.weight"], [256, 256]);
    assert_eq!(shapes["actor.middleware.l0.weight"], [512, 64 * 11 * 16 + 256]);
    assert_eq!(shapes["critic.middleware.l0.weight"], [512, 64 * 11 * 16 + 256]);

    // The same image, a box seen or not: different actions. The same readings, another image:
    // different actions too.
    let image: Vec<u8> = (0..spec.sensor.image_len())
        .map(|i| ((i * 2654435761) >> 13) as u8)
        .collect();
    let other: Vec<u8> = image.iter().map(|p| p.wrapping_add(97)).collect();
    let clear = vec![1.0f32; spec.obs_dim()];
    let mut boxed = clear.clone();
    boxed[20..28].fill(0.2);
    let act = |obs: &[f32], img: &[u8]| {
        let mut a = [Action::Discrete(0)];
        PolicyRunner::new(&model).act(&model, obs, img, &mut a);
        a[0]
    };
    let base = act(&clear, &image);
    assert_ne!(base, act(&boxed, &image), "the lidar is read");
    assert_ne!(base, act(&clear, &other), "the camera is read");
    let mut moving = clear.clone();
    moving[64] = 0.7;
    assert_eq!(
        base,
        act(&moving, &image),
        "speed and steering are not (DeepRacer's inputs only)"
    );
}

#[test]
fn a_camera_lidar_policy_learns_to_lap() {
    let mut cfg = TrainConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/camera_lidar.toml"))
        .expect("the documented camera + lidar config loads");
    cfg.scenario = slipstream_sim::Scenario::TimeTrial {};
    let trained = train_on_oval(cfg, &mut |_| {});
    assert_eq!(trained.spec.sensor.sensor_names(), ["FRONT_FACING_CAMERA", "LIDAR"]);
    let r = race(&trained);
    assert!(r.completed_laps >= 1, "the camera + lidar model laps the oval: {r:?}");
}

fn camera_spec(network: NetworkSpec, sensor: ObsConfig) -> ModelSpec {
    ModelSpec {
        network,
        sensor,
        ..TrainConfig::default().model_spec()
    }
}

#[test]
fn camera_models_round_trip_with_identical_actions() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            NetworkSpec::DeepConvolutionalNetworkShallow {},
            ObsConfig::Camera(Default::default()),
        ),
        (
            NetworkSpec::DeepConvolutionalNetwork {},
            ObsConfig::StereoCamera(Default::default()),
        ),
        (NetworkSpec::camera_default(), ObsConfig::Camera(Default::default())),
        (
            NetworkSpec::DeepConvolutionalNetworkShallow {},
            camera_lidar(false, DeepRacerLidarKind::Lidar),
        ),
        (
            NetworkSpec::DeepConvolutionalNetwork {},
            camera_lidar(true, DeepRacerLidarKind::SectorLidar),
        ),
        (
            NetworkSpec::camera_default(),
            camera_lidar(false, DeepRacerLidarKind::SectorLidar),
        ),
    ];
    for (k, (network, sensor)) in cases.into_iter().enumerate() {
        tch::manual_seed(k as i64);
        let spec = camera_spec(network.clone(), sensor);
        let model = Model::new(spec.clone(), -0.5, false, Device::Cpu);
        let path = dir.path().join(format!("m{k}.safetensors"));
        model.save(&path).unwrap();
        let loaded = Model::load(&path, Device::Cpu).unwrap();
        assert_eq!(loaded.spec, spec);
        let meta = std::fs::read_to_string(dir.path().join("model_metadata.json")).unwrap();
        assert!(meta.contains(&network.name()), "{meta}");
        let names: serde_json::Value = serde_json::from_str::<serde_json::Value>(&meta).unwrap()["sensor"].clone();
        assert_eq!(names, serde_json::json!(spec.sensor.sensor_names()), "{meta}");

        // Four cars' observations and images: the same actions from both, and not all alike.
        let cars = 4;
        let obs = vec![0.0f32; cars * spec.obs_dim()];
        let images: Vec<u8> = (0..cars * spec.sensor.image_len())
            .map(|i| ((i * 2654435761) >> 13) as u8)
            .collect();
        let act = |m: &Model| {
            let mut a = vec![Action::Discrete(0); cars];
            PolicyRunner::new(m).act(m, &obs, &images, &mut a);
            a
        };
        let (a, b) = (act(&model), act(&loaded));
        assert_eq!(a, b, "{}", network.name());
        assert!(
            a.iter().any(|x| *x != a[0]),
            "different images, different actions: {a:?}"
        );
    }
}

#[test]
fn a_network_that_does_not_fit_its_camera_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let spec = camera_spec(
        NetworkSpec::DeepConvolutionalNetworkShallow {},
        ObsConfig::Camera(Default::default()),
    );
    let path = dir.path().join("m.safetensors");
    Model::new(spec, -0.5, false, Device::Cpu).save(&path).unwrap();

    // The file claims a smaller camera than its weights were made for.
    let bytes = std::fs::read(&path).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let rewrite = |edit: &dyn Fn(&mut serde_json::Value), out: &Path| {
        let mut meta = header.metadata().clone().unwrap();
        let mut spec: serde_json::Value = serde_json::from_str(&meta["spec"]).unwrap();
        edit(&mut spec);
        meta.insert("spec".into(), spec.to_string());
        std::fs::write(out, safetensors::serialize(st.tensors(), Some(meta)).unwrap()).unwrap();
    };
    let smaller = dir.path().join("smaller.safetensors");
    rewrite(&|s| s["sensor"]["width"] = 128.into(), &smaller);
    let e = Model::load(&smaller, Device::Cpu).unwrap_err().to_string();
    assert!(
        e.contains("smaller.safetensors") && e.contains("policy.actor.d0.weight") && e.contains("shape"),
        "{e}"
    );

    // A camera network that claims the state sensor, and a camera too small for the kernels.
    let state = dir.path().join("state.safetensors");
    rewrite(
        &|s| s["sensor"] = serde_json::to_value(ObsConfig::default()).unwrap(),
        &state,
    );
    let e = Model::load(&state, Device::Cpu).unwrap_err().to_string();
    assert!(e.contains("'spec'") && e.contains("no camera"), "{e}");
    // A camera model whose DeepRacer metadata claims another sensor.
    let mut meta = header.metadata().clone().unwrap();
    meta.insert(
        "model_metadata".into(),
        meta["model_metadata"].replace("FRONT_FACING_CAMERA", "LIDAR"),
    );
    let lying = dir.path().join("lying.safetensors");
    std::fs::write(&lying, safetensors::serialize(st.tensors(), Some(meta)).unwrap()).unwrap();
    let e = Model::load(&lying, Device::Cpu).unwrap_err().to_string();
    assert!(
        e.contains("claims sensor [\"LIDAR\"]") && e.contains("FRONT_FACING_CAMERA"),
        "{e}"
    );
    let tiny = dir.path().join("tiny.safetensors");
    rewrite(&|s| s["sensor"]["height"] = 16.into(), &tiny);
    let e = Model::load(&tiny, Device::Cpu).unwrap_err().to_string();
    assert!(e.contains("too small for this network"), "{e}");
}

#[test]
fn a_camera_student_learns_from_a_state_teacher() {
    let dir = tempfile::tempdir().unwrap();
    let teacher_dir = dir.path().join("teacher");
    let teacher = train(
        TrainOptions {
            config: TrainConfig::default(),
            tracks: vec!["oval".into()],
            reward: "progress_speed".into(),
            budget: Budget::Steps(120_000),
            seed: 7,
            device: DeviceChoice::Cpu,
            out_dir: teacher_dir.clone(),
            init_from: None,
            resume: false,
            show_reward_prints: false,
        },
        &mut |_| {},
    )
    .unwrap();
    let teacher_model = teacher.model_best.expect("the teacher was evaluated");
    let options = |config: TrainConfig, teacher: &Path, out: &str| DistillOptions {
        config,
        teacher: teacher.to_path_buf(),
        tracks: vec!["oval".into()],
        budget: Budget::Steps(32_768),
        seed: 3,
        device: DeviceChoice::Cpu,
        out_dir: dir.path().join(out),
        beta_decay: 0.6,
        buffer_frames: 20_000,
    };
    let mut rows = Vec::new();
    let s = distill(
        options(distill::default_config(), &teacher_model, "student"),
        &mut |m| rows.push(m.clone()),
    )
    .unwrap();
    assert_eq!(rows[0].beta, 1.0, "the teacher drives the first iteration");
    let log = std::fs::read_to_string(dir.path().join("student/distill.jsonl")).unwrap();
    assert_eq!(log.lines().count(), rows.len(), "one metrics row per iteration");
    // Per-iteration disagreement is noisy (1 024 samples, and it rises while the student starts to
    // drive), so the test compares the untrained student with the mean of the last four iterations.
    let series: Vec<f64> = rows.iter().map(|r| r.disagreement).collect();
    let first = series[0];
    let late = series[series.len() - 4..].iter().sum::<f64>() / 4.0;
    assert!(
        series.len() >= 8 && late < first * 0.5,
        "the student comes to agree with its teacher: {first:.2} → {late:.2} ({series:.2?})"
    );
    let student = Model::load(&s.model_best.expect("evaluated"), Device::Cpu).unwrap();
    assert_eq!(student.spec.sensor.sensor_names(), ["FRONT_FACING_CAMERA"]);
    let r = race(&student);
    assert!(r.completed_laps >= 1, "the camera student laps the oval: {r:?}");

    // A camera teacher, or a student without a camera, is refused with the option named.
    let e = distill(options(distill::default_config(), &s.model_last, "x"), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("--teacher"), "{e}");
    let no_camera = TrainConfig {
        sensor: ObsConfig::default(),
        ..distill::default_config()
    };
    let e = distill(options(no_camera, &teacher_model, "y"), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("camera"), "{e}");
}

/// The CUDA path: a short camera training on the GPU, its model raced on the CPU. Runs where a
/// CUDA device is present; elsewhere it says it was skipped.
#[test]
fn camera_training_runs_on_cuda_where_present() {
    if !tch::Cuda::is_available() {
        eprintln!("skipped: no CUDA device on this machine (the CUDA path is tested where one is present)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let s = train(
        TrainOptions {
            config: TrainConfig {
                eval_every: 0,
                ..example_config()
            },
            tracks: vec!["oval".into()],
            reward: "progress_speed".into(),
            budget: Budget::Steps(8_192),
            seed: 7,
            device: DeviceChoice::Cuda(0),
            out_dir: dir.path().to_path_buf(),
            init_from: None,
            resume: false,
            show_reward_prints: false,
        },
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(s.device, "cuda:0");
    let m = Model::load(&s.model_last, Device::Cpu).unwrap();
    assert!(race(&m).steps > 0);
}
