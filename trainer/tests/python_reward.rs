//! DeepRacer reward files run unchanged; every kind of failure names the file, the line and the params.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use slipstream_sim::reward::{RewardContext, RewardFn};
use slipstream_sim::track::ValidateOptions;
use slipstream_sim::{Action, EnvConfig, RewardPreset, Track, VecEnv};
use slipstream_trainer::reward::PythonReward;

fn write(dir: &Path, name: &str, code: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, code).unwrap();
    p
}

fn oval() -> Arc<Track> {
    Arc::new(Track::resolve("oval", &ValidateOptions::default()).unwrap())
}

/// Real params from a few simulator steps (some cars off the track).
fn params(n: usize) -> Vec<slipstream_sim::RewardParams> {
    let mut cfg = EnvConfig::new((*oval()).clone());
    cfg.reward = Arc::new(RewardPreset::Zero);
    let mut env = VecEnv::new(cfg, n).unwrap();
    let mut out = env.buffers(true);
    env.reset(1, &mut out).unwrap();
    let actions: Vec<Action> = (0..n).map(|i| Action::Discrete((i % 10) as u32)).collect();
    for _ in 0..12 {
        env.step(&actions, &mut out).unwrap();
    }
    out.params.clone()
}

/// DeepRacer's first example reward function, verbatim.
const FOLLOW_THE_CENTER_LINE: &str = r#"
def reward_function(params):
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

#[test]
fn deepracer_example_runs_unchanged_and_agrees_with_the_preset() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "reward_function.py", FOLLOW_THE_CENTER_LINE);
    let r = PythonReward::load(&p, &[oval()]).unwrap();
    let ps = params(40);
    let mut out = vec![0.0f32; ps.len()];
    r.call_batch(&ps, &mut out).unwrap();
    let ctx = RewardContext {
        agent_dt: 1.0 / 15.0,
        max_speed: 4.0,
    };
    let mut differ = 0;
    for (p, v) in ps.iter().zip(&out) {
        let expected = if p.is_offtrack {
            None
        } else {
            Some(RewardPreset::Centerline.reward(p, &ctx))
        };
        if let Some(e) = expected {
            assert_eq!(*v, e, "{p:?}");
        } else {
            differ += 1;
        }
    }
    assert!(differ < ps.len());
}

#[test]
fn params_have_deepracers_types_and_numpy_imports() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "types.py",
        r#"
import math
import numpy as np

def reward_function(params):
    assert isinstance(params['waypoints'], list) and isinstance(params['waypoints'][0], tuple)
    assert len(params['waypoints'][0]) == 2 and isinstance(params['waypoints'][0][0], float)
    prev, nxt = params['closest_waypoints']
    assert isinstance(prev, int) and isinstance(nxt, int)
    assert isinstance(params['steps'], int) and params['steps'] >= 2
    for k in ['all_wheels_on_track', 'is_left_of_center', 'is_offtrack', 'is_crashed', 'is_reversed', 'object_in_camera']:
        assert isinstance(params[k], bool), k
    for k in ['x', 'y', 'heading', 'distance_from_center', 'progress', 'speed', 'steering_angle',
              'track_width', 'track_length', 'projection_distance']:
        assert isinstance(params[k], float), k
    for k in ['objects_location', 'objects_left_of_center', 'objects_speed', 'objects_heading',
              'objects_distance', 'objects_distance_from_center', 'closest_objects']:
        assert isinstance(params[k], list), k
    a = np.array(params['waypoints'][nxt]) - np.array(params['waypoints'][prev])
    return float(np.linalg.norm(a)) + math.sqrt(4.0)
"#,
    );
    let r = PythonReward::load(&p, &[oval()]).unwrap();
    let ps = params(8);
    let v = r.call(&ps[0]).unwrap();
    assert!(v > 2.0 && v < 2.5, "{v}");
}

#[test]
fn an_exception_names_the_file_line_and_params() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "broken.py",
        "def reward_function(params):\n    x = params['speed']\n    return x / 0\n",
    );
    let r = PythonReward::load(&p, &[oval()]).unwrap();
    let e = r.call(&params(1)[0]).unwrap_err().to_string();
    assert!(e.contains(&format!("{}:3", p.display())), "{e}");
    assert!(e.contains("ZeroDivisionError"), "{e}");
    assert!(e.contains("return x / 0"), "{e}");
    assert!(
        e.contains("params: {'all_wheels_on_track'") && e.contains("'speed'"),
        "{e}"
    );
}

#[test]
fn bad_return_values_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (body, needle) in [
        ("return 'fast'", "type str"),
        ("return None", "NoneType"),
        ("return float('nan')", "finite"),
        ("return float('inf')", "finite"),
        ("return True", "bool"),
        ("return 1e9", "limit"),
    ] {
        let p = write(
            dir.path(),
            "bad.py",
            &format!("def reward_function(params):\n    {body}\n"),
        );
        let r = PythonReward::load(&p, &[oval()]).unwrap();
        let e = r.call(&params(1)[0]).unwrap_err().to_string();
        assert!(
            e.contains(needle) && e.contains("bad.py") && e.contains("params:"),
            "{body}: {e}"
        );
    }
    // numpy scalars are fine.
    let p = write(
        dir.path(),
        "np.py",
        "import numpy as np\ndef reward_function(params):\n    return np.float32(0.5)\n",
    );
    let r = PythonReward::load(&p, &[oval()]).unwrap();
    assert_eq!(r.call(&params(1)[0]).unwrap(), 0.5);
}

#[test]
fn broken_files_are_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "syntax.py",
        "def reward_function(params):\n    return (1 +\n",
    );
    let e = PythonReward::load(&p, &[oval()]).unwrap_err().to_string();
    assert!(e.contains("syntax.py") && e.contains("SyntaxError"), "{e}");
    let p = write(dir.path(), "nofunc.py", "def reward(params):\n    return 1.0\n");
    let e = PythonReward::load(&p, &[oval()]).unwrap_err().to_string();
    assert!(e.contains("nofunc.py") && e.contains("reward_function"), "{e}");
    let p = write(
        dir.path(),
        "import.py",
        "import no_such_module_anywhere\ndef reward_function(params):\n    return 1.0\n",
    );
    let e = PythonReward::load(&p, &[oval()]).unwrap_err().to_string();
    assert!(
        e.contains("import.py:1") && e.contains("no_such_module_anywhere"),
        "{e}"
    );
    let e = PythonReward::load(&dir.path().join("missing.py"), &[oval()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.py") && e.contains("cannot read"), "{e}");
}
