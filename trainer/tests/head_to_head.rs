//! Head-to-head matches between models: repeatable to the bit, one trace per seat, and models that
//! cannot share a world refused with the seat named. (Who wins between a trained and an untrained
//! model is checked end to end in `tests/`, where a model is trained.)

use std::sync::Arc;

use slipstream_sim::sensors::LidarConfig;
use slipstream_sim::track::ValidateOptions;
use slipstream_sim::{ObsConfig, RaceConfig, Track};
use slipstream_trainer::config::ActionSpaceConfig;
use slipstream_trainer::model::{Model, ModelSpec};
use slipstream_trainer::network::NetworkSpec;
use slipstream_trainer::{EvalOptions, TraceBuffer, TraceTo, race_match};
use tch::Device;

fn spec() -> ModelSpec {
    ModelSpec {
        sensor: ObsConfig::Lidar(LidarConfig::default()),
        action_space: ActionSpaceConfig::default(),
        network: NetworkSpec::default(),
        car: slipstream_sim::CarParams::default(),
        agent_dt: 1.0 / 15.0,
        physics_substeps: 4,
    }
}

/// A model with seeded random weights (libtorch's seed is global: tests running at the same time
/// take turns).
fn model(seed: i64, spec: ModelSpec) -> Model {
    static SEEDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = SEEDING.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(seed);
    Model::new(spec, -0.5, false, Device::Cpu)
}

fn options() -> EvalOptions {
    EvalOptions {
        race: RaceConfig {
            laps: 1,
            number_of_resets: 10_000,
            max_time_s: 20.0,
            ..Default::default()
        },
        seed: 5,
        ..Default::default()
    }
}

#[test]
fn a_match_repeats_bit_for_bit_and_writes_a_trace_per_seat() {
    let track = Arc::new(Track::resolve("oval", &ValidateOptions::default()).unwrap());
    let (a, b) = (model(1, spec()), model(2, spec()));
    let dir = tempfile::tempdir().unwrap();
    let traces = [dir.path().join("seat0.csv"), dir.path().join("seat1.csv")];
    let to_files: Vec<TraceTo> = traces.iter().cloned().map(TraceTo::from).collect();
    let first = race_match(&[&a, &b], track.clone(), "oval", &options(), &to_files).unwrap();
    // Again, the traces in memory: the same race, the same bytes.
    let buffers = [TraceBuffer::default(), TraceBuffer::default()];
    let to_memory: Vec<TraceTo> = buffers.iter().cloned().map(TraceTo::Buffer).collect();
    let again = race_match(&[&a, &b], track.clone(), "oval", &options(), &to_memory).unwrap();
    assert_eq!(first, again);
    for (seat, (p, b)) in traces.iter().zip(&buffers).enumerate() {
        assert_eq!(
            std::fs::read(p).unwrap(),
            b.take(),
            "seat {seat}'s trace in memory and on disk"
        );
    }
    assert_eq!(first.seats.len(), 2);
    assert_eq!(first.places.len(), 2);
    assert!(first.places.iter().all(|p| (1..=2).contains(p)));
    // Untrained models do not finish a lap in 20 s: the time limit ends the race for both.
    assert_eq!(first.steps, 300);
    let mut starts = Vec::new();
    for (seat, p) in traces.iter().enumerate() {
        let text = std::fs::read_to_string(p).unwrap();
        let rows = slipstream_sim::trace::parse_trace(&text).unwrap();
        // The prepare row and one row per step.
        assert_eq!(rows.len(), 301, "seat {seat}");
        assert!(rows[0].is_prepare());
        starts.push(rows[0].clone());
    }
    // The grid: seat 0 at the line, seat 1 behind it (negative progress) on the other lane.
    assert!(starts[0].progress > 0.0 && starts[1].progress < 0.0, "{starts:?}");
    let gap = starts[0].pos.distance(starts[1].pos);
    assert!((0.75..1.0).contains(&gap), "{gap} m apart");
    // Swapped, the other model starts in front: its trace's first row is seat 0's place.
    let dir = tempfile::tempdir().unwrap();
    let swapped_traces = [dir.path().join("0.csv"), dir.path().join("1.csv")].map(TraceTo::from);
    race_match(&[&b, &a], track, "oval", &options(), &swapped_traces).unwrap();
    let text = std::fs::read_to_string(dir.path().join("0.csv")).unwrap();
    let rows = slipstream_sim::trace::parse_trace(&text).unwrap();
    assert_eq!(rows[0].pos, starts[0].pos);
}

#[test]
fn models_with_different_action_spaces_race_together() {
    let track = Arc::new(Track::resolve("oval", &ValidateOptions::default()).unwrap());
    let discrete = model(1, spec());
    let mut continuous_spec = spec();
    continuous_spec.action_space = ActionSpaceConfig::Continuous {
        steering_angle: slipstream_sim::action::Range { low: -30.0, high: 30.0 },
        speed: slipstream_sim::action::Range { low: 0.5, high: 2.0 },
    };
    let continuous = model(2, continuous_spec);
    let r = race_match(&[&discrete, &continuous], track, "oval", &options(), &[]).unwrap();
    assert_eq!(r.seats.len(), 2);
    assert_eq!(r.steps, 300);
}

#[test]
fn models_that_cannot_share_a_world_are_refused_naming_the_seat() {
    let track = Arc::new(Track::resolve("oval", &ValidateOptions::default()).unwrap());
    let a = model(1, spec());
    let mut camera = spec();
    camera.sensor = ObsConfig::default();
    let b = model(2, camera);
    let e = race_match(&[&a, &a, &b], track.clone(), "oval", &options(), &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("models[2]") && e.contains("sensor"), "{e}");
    let e = race_match(&[&a], track.clone(), "oval", &options(), &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("2–17 models"), "{e}");
    let mut opts = options();
    opts.scenario = slipstream_sim::Scenario::HeadToBot(Default::default());
    let e = race_match(&[&a, &a], track, "oval", &opts, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("scenario"), "{e}");
}
