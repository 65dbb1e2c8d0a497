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
    # DeepRacer's simulator counts steps in a float.
    assert isinstance(params['steps'], float) and params['steps'] >= 2 and params['steps'].is_integer()
    for k in ['all_wheels_on_track', 'is_left_of_center', 'is_offtrack', 'is_crashed', 'is_reversed', 'object_in_camera']:
        assert isinstance(params[k], bool), k
    for k in ['x', 'y', 'heading', 'distance_from_center', 'progress', 'speed', 'steering_angle',
              'track_width', 'track_length', 'projection_distance', 'sim_time']:
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

/// Params after `steps` steps of one car on the oval with `scenario`'s objects.
fn params_with(scenario: slipstream_sim::Scenario, steps: usize) -> slipstream_sim::RewardParams {
    let mut cfg = EnvConfig::new((*oval()).clone());
    cfg.reward = Arc::new(RewardPreset::Zero);
    cfg.scenario = scenario;
    let mut env = VecEnv::new(cfg, 1).unwrap();
    let mut out = env.buffers(true);
    env.reset(3, &mut out).unwrap();
    for _ in 0..steps {
        env.step(&[Action::Discrete(5)], &mut out).unwrap();
    }
    out.params[0]
}

/// A reward function that returns one number computed from the params, to compare with Rust's.
fn call_with(dir: &Path, body: &str, p: &slipstream_sim::RewardParams) -> f32 {
    let path = write(
        dir,
        "probe.py",
        &format!(
            "def reward_function(params):
{body}
"
        ),
    );
    PythonReward::load(&path, &[oval()]).unwrap().call(p).unwrap()
}

#[test]
fn objects_and_sim_time_reach_python_as_deepracer_passes_them() {
    use slipstream_sim::objects::{BotConfig, ObstacleConfig};
    let dir = tempfile::tempdir().unwrap();
    // Boxes: [x, y] lists, heading 0.0 and speed 0.0 for every one.
    let boxes = params_with(slipstream_sim::Scenario::ObjectAvoidance(ObstacleConfig::default()), 3);
    assert_eq!(boxes.num_objects, 3);
    let body = "    loc = params['objects_location']
    assert isinstance(loc, list) and all(isinstance(l, list) and len(l) == 2 for l in loc), loc
    assert all(isinstance(v, float) for l in loc for v in l)
    assert params['objects_heading'] == [0.0, 0.0, 0.0], params['objects_heading']
    assert params['objects_speed'] == [0.0, 0.0, 0.0]
    assert all(isinstance(b, bool) for b in params['objects_left_of_center'])
    assert all(isinstance(i, int) for i in params['closest_objects'])
    return loc[1][0]";
    assert_eq!(call_with(dir.path(), body, &boxes), boxes.objects[1].location.x as f32);
    // Bot cars: their yaw in radians, their speed.
    let bots = params_with(slipstream_sim::Scenario::HeadToBot(BotConfig::default()), 10);
    assert!(bots.num_objects > 0);
    for o in bots.objects() {
        assert!(o.heading.abs() <= std::f64::consts::PI && o.speed > 0.0, "{o:?}");
    }
    let body = "    import math
    assert all(-math.pi <= h <= math.pi for h in params['objects_heading'])
    return params['objects_heading'][0]";
    assert_eq!(call_with(dir.path(), body, &bots), bots.objects[0].heading as f32);
    // sim_time: the simulation clock in seconds; steps a float.
    let body = "    assert isinstance(params['sim_time'], float) and isinstance(params['steps'], float)
    return params['sim_time']";
    let v = call_with(dir.path(), body, &bots);
    assert!((f64::from(v) - 10.0 / 15.0).abs() < 1e-5, "{v}");
    assert!(
        (bots.sim_time - 10.0 / 15.0).abs() < 1e-12,
        "ten steps of 1/15 s: {}",
        bots.sim_time
    );
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

/// DeepRacer takes `float(reward_function(params))`: a bool, an int or a numeric string is a reward.
#[test]
fn whatever_float_takes_is_a_reward() {
    let dir = tempfile::tempdir().unwrap();
    for (body, expected) in [
        ("return True", 1.0),
        ("return params['is_offtrack']", 0.0),
        ("return 3", 3.0),
        ("return '1.5'", 1.5),
    ] {
        let p = write(
            dir.path(),
            "lenient.py",
            &format!("def reward_function(params):\n    {body}\n"),
        );
        let r = PythonReward::load(&p, &[oval()]).unwrap();
        let ps = params(1);
        assert!(!ps[0].is_offtrack);
        assert_eq!(r.call(&ps[0]).unwrap(), expected, "{body}");
    }
}

/// Each car has its own module, as each DeepRacer car has a worker of its own: module-level state
/// (the previous step's progress, a call counter) is the car's own.
#[test]
fn each_car_keeps_its_own_module_state() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "stateful.py",
        "calls = 0\nlast_x = None\n\ndef reward_function(params):\n    global calls, last_x\n    calls += 1\n    \
         # The same car's x, one call later: a shared module would see another car's.\n    \
         assert last_x is None or last_x == params['x'], (last_x, params['x'])\n    last_x = params['x']\n    return float(calls)\n",
    );
    let r = PythonReward::load(&p, &[oval()]).unwrap();
    let ps = params(8);
    assert!(ps.windows(2).any(|w| w[0].x != w[1].x), "the cars stand apart");
    let mut out = vec![0.0f32; ps.len()];
    for round in 1..=3 {
        r.call_batch(&ps, &mut out).unwrap();
        assert!(out.iter().all(|&v| v == round as f32), "round {round}: {out:?}");
    }
    // Two more cars later: theirs start afresh, the others go on.
    let more = params(10);
    let ten: Vec<_> = ps.iter().cloned().chain(more[8..].iter().cloned()).collect();
    let mut out = vec![0.0f32; ten.len()];
    r.call_batch(&ten, &mut out).unwrap();
    assert_eq!(out, [4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 1.0, 1.0]);
}

/// Top-level code that fails in a car's own module is reported like a load error, naming the car.
#[test]
fn a_module_that_fails_for_a_later_car_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "flaky.py",
        "import sys\n_n = sys.modules.setdefault('flaky_counter', type(sys)('flaky_counter'))\n\
         _n.count = getattr(_n, 'count', 0) + 1\nif _n.count > 2:\n    raise RuntimeError('only two cars')\n\
         def reward_function(params):\n    return 1.0\n",
    );
    let r = PythonReward::load(&p, &[oval()]).unwrap();
    let ps = params(3);
    let e = r.call_batch(&ps, &mut [0.0; 3]).unwrap_err().to_string();
    assert!(
        e.contains("flaky.py:5") && e.contains("car 2") && e.contains("only two cars"),
        "{e}"
    );
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

/// Prints go to the log given, each line with the step and the car (those of loading too); the log
/// stops growing at its limit with one line saying so.
#[test]
fn prints_are_logged_with_step_and_car_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "chatty.py",
        "print('loaded')\ndef reward_function(params):\n    print('x is', round(params['x'], 1))\n    print('big', 'y' * 1_000_000, sep=':')\n    return 1.0\n",
    );
    let r = PythonReward::load(&p, &[oval()]).unwrap();
    let log = dir.path().join("prints.log");
    r.log_prints(Some(&log), false).unwrap();
    let ps = params(2);
    for _ in 0..8 {
        r.call_batch(&ps, &mut [0.0; 2]).unwrap();
    }
    drop(r);
    let text = std::fs::read_to_string(&log).unwrap();
    // Car 0's module printed at load, before the log was given: its line comes first; car 1's
    // module loads when car 1 is first scored.
    assert!(
        text.starts_with("[step 0 car 0] loaded\n[step 0 car 1] loaded\n[step 0 car 0] x is "),
        "{:.100}",
        &text
    );
    assert!(text.contains("\n[step 0 car 1] x is "), "car 1's own lines");
    assert!(text.contains("[step 1 car 0] big:yyy"), "print's sep is kept");
    let limit = slipstream_trainer::reward::python::PRINT_LOG_LIMIT;
    assert!(text.len() <= limit + 100, "{} bytes", text.len());
    assert!(
        text.trim_end().ends_with(&format!("this log reached {limit} bytes")),
        "{}",
        &text[text.len() - 100..]
    );
    assert_eq!(text.matches("further prints dropped").count(), 1);
}

/// DeepRacer's simulation image has scipy and shapely beside numpy; students' reward functions use
/// them (distances to the racing line, the track as a polygon). scripts/env.sh installs them.
#[test]
fn scipy_and_shapely_import() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "geometry.py",
        "import math\nimport random\nimport numpy as np\nfrom scipy import spatial\n\
         from shapely.geometry import Point, Polygon\n\n\
         def reward_function(params):\n    \
         line = Polygon(params['waypoints'])\n    \
         here = Point(params['x'], params['y'])\n    \
         d = line.exterior.distance(here)\n    \
         tree = spatial.KDTree(np.array(params['waypoints']))\n    \
         nearest, _ = tree.query([params['x'], params['y']])\n    \
         return float(abs(d - nearest) < 0.2)\n",
    );
    let r = PythonReward::load(&p, &[oval()]).unwrap_or_else(|e| panic!("{e}"));
    let ps = params(1);
    // Distance to the centre line (shapely) and to its nearest waypoint (scipy) agree to 0.2 m.
    assert_eq!(r.call(&ps[0]).unwrap(), 1.0);
}
