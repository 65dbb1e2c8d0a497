//! DeepRacer `reward_function(params)` files, run unchanged in an embedded Python interpreter
//! (pyo3; the trainer's `python` feature).
//!
//! The Python function receives DeepRacer's `params` dict with the names and types DeepRacer's
//! simulator passes (`markov/agent_ctrl/utils.py`, `rollout_agent_ctrl.py`, `track_geom/track_data.py`):
//! floats, bools, `steps` as a float (the simulator counts it in a float: `2.0`), `sim_time` in
//! seconds, `waypoints` as a list of `(x, y)` tuples, `closest_waypoints` and `closest_objects` as
//! lists of two ints, `objects_location` as a list of `[x, y]` lists, the other object lists as
//! lists of floats or bools (`objects_heading`: 0.0 for boxes, a bot car's yaw in radians), and so
//! on (see `slipstream_sim::params`). `import math` and
//! `import numpy` work: the interpreter's `sys.path` gets the site-packages of the environment in
//! `VIRTUAL_ENV` (if set) and of the PyTorch environment the trainer was built against (which has
//! numpy), plus the reward file's own folder.
//!
//! An exception, or a return value that is not a finite real number within ±1e5 (DeepRacer's
//! limit), stops training with the file, the line, and the params that caused it.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use slipstream_sim::Track;
use slipstream_sim::params::RewardParams;

use super::REWARD_LIMIT;
use crate::error::TrainError;

/// A loaded DeepRacer reward file.
#[derive(Debug)]
pub struct PythonReward {
    path: PathBuf,
    func: Py<PyAny>,
    /// Per track: its `waypoints` list, built once and shared by every call.
    waypoints: Vec<Py<PyList>>,
    /// The helper that turns an exception into (line, source line, message).
    describe: Py<PyAny>,
}

/// site-packages folders the embedded interpreter should see.
fn site_packages() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut add_env = |root: &Path| {
        for lib in ["lib", "lib64"] {
            if let Ok(entries) = std::fs::read_dir(root.join(lib)) {
                for e in entries.flatten() {
                    let sp = e.path().join("site-packages");
                    if e.file_name().to_string_lossy().starts_with("python3") && sp.is_dir() && !out.contains(&sp) {
                        out.push(sp);
                    }
                }
            }
        }
    };
    if let Some(v) = std::env::var_os("VIRTUAL_ENV") {
        add_env(Path::new(&v));
    }
    // The PyTorch environment this binary was built against (it has numpy).
    if let Some(sp) = option_env!("SLIPSTREAM_TORCH_SITE_PACKAGES").map(PathBuf::from)
        && sp.is_dir()
        && !out.contains(&sp)
    {
        out.push(sp);
    }
    out
}

const HELPERS: &std::ffi::CStr = c"
import traceback

def describe(exc, tb, filename):
    frames = [f for f in traceback.extract_tb(tb) if f.filename == filename]
    line = frames[-1].lineno if frames else getattr(exc, 'lineno', None)
    text = frames[-1].line if frames else getattr(exc, 'text', None)
    return (line, (text or '').strip(), '%s: %s' % (type(exc).__name__, exc))
";

impl PythonReward {
    /// Load `path` and check it defines `reward_function`. `tracks` are the environment's tracks, in
    /// order (for their `waypoints`).
    pub fn load(path: &Path, tracks: &[Arc<Track>]) -> Result<Self, TrainError> {
        let code = std::fs::read_to_string(path)
            .map_err(|e| TrainError::file(path, format!("cannot read the reward file: {e}")))?;
        let shown = path.display().to_string();
        let code_c = CString::new(code).map_err(|_| TrainError::file(path, "the reward file contains a NUL byte"))?;
        let file_c = CString::new(shown.clone()).map_err(|_| TrainError::file(path, "unusable file name"))?;
        Python::attach(|py| {
            let sys = py.import("sys").map_err(|e| TrainError::Reward(e.to_string()))?;
            let sys_path = sys
                .getattr("path")
                .and_then(|p| p.cast_into::<PyList>().map_err(PyErr::from))
                .map_err(|e| TrainError::Reward(e.to_string()))?;
            let mut dirs: Vec<PathBuf> = site_packages();
            if let Some(parent) = path.parent() {
                dirs.insert(
                    0,
                    if parent.as_os_str().is_empty() {
                        PathBuf::from(".")
                    } else {
                        parent.to_path_buf()
                    },
                );
            }
            for d in dirs {
                let s = d.display().to_string();
                if !sys_path.contains(&s).unwrap_or(false) {
                    sys_path.append(s).map_err(|e| TrainError::Reward(e.to_string()))?;
                }
            }
            let helpers = PyModule::from_code(py, HELPERS, c"<slipstream>", c"slipstream_reward_helpers")
                .map_err(|e| TrainError::Reward(e.to_string()))?;
            // A fresh module name per file: Python would otherwise reuse (and mix) a module of the same name.
            static LOADED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = LOADED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let module_name = CString::new(format!("slipstream_reward_{n}")).expect("no NUL");
            let module = match PyModule::from_code(py, &code_c, &file_c, &module_name) {
                Ok(m) => m,
                Err(e) => {
                    return Err(describe_error(
                        py,
                        &helpers,
                        &e,
                        path,
                        "cannot load the reward file",
                        None,
                    ));
                }
            };
            let func = module
                .getattr("reward_function")
                .map_err(|_| TrainError::file(path, "does not define reward_function(params)"))?;
            if !func.is_callable() {
                return Err(TrainError::file(path, "reward_function is not a function"));
            }
            let waypoints = tracks
                .iter()
                .map(|t| {
                    let pts: Vec<Bound<'_, PyTuple>> = t
                        .waypoints()
                        .iter()
                        .map(|w| PyTuple::new(py, [w.center.x, w.center.y]).expect("tuple of floats"))
                        .collect();
                    PyList::new(py, pts).expect("list of tuples").unbind()
                })
                .collect();
            let describe = helpers.getattr("describe").expect("defined above").unbind();
            Ok(PythonReward {
                path: path.to_path_buf(),
                func: func.unbind(),
                waypoints,
                describe,
            })
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Build DeepRacer's params dict.
    fn params_dict<'py>(&self, py: Python<'py>, p: &RewardParams) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("all_wheels_on_track", p.all_wheels_on_track)?;
        d.set_item("x", p.x)?;
        d.set_item("y", p.y)?;
        d.set_item("heading", p.heading)?;
        d.set_item("distance_from_center", p.distance_from_center)?;
        d.set_item("is_left_of_center", p.is_left_of_center)?;
        d.set_item("is_offtrack", p.is_offtrack)?;
        d.set_item("is_crashed", p.is_crashed)?;
        d.set_item("is_reversed", p.is_reversed)?;
        d.set_item("progress", p.progress)?;
        d.set_item("speed", p.speed)?;
        d.set_item("steering_angle", p.steering_angle)?;
        d.set_item("steps", f64::from(p.steps))?;
        d.set_item("track_width", p.track_width)?;
        d.set_item("track_length", p.track_length)?;
        let wp = self.waypoints.get(p.track_index as usize).or(self.waypoints.first());
        if let Some(wp) = wp {
            d.set_item("waypoints", wp.bind(py))?;
        }
        d.set_item("closest_waypoints", [p.closest_waypoints[0], p.closest_waypoints[1]])?;
        d.set_item("closest_objects", [p.closest_objects[0], p.closest_objects[1]])?;
        let objs = p.objects();
        let loc: Vec<Bound<'py, PyList>> = objs
            .iter()
            .map(|o| PyList::new(py, [o.location.x, o.location.y]))
            .collect::<PyResult<_>>()?;
        d.set_item("objects_location", loc)?;
        d.set_item(
            "objects_left_of_center",
            objs.iter().map(|o| o.left_of_center).collect::<Vec<_>>(),
        )?;
        d.set_item("objects_speed", objs.iter().map(|o| o.speed).collect::<Vec<_>>())?;
        d.set_item("objects_heading", objs.iter().map(|o| o.heading).collect::<Vec<_>>())?;
        d.set_item("objects_distance", objs.iter().map(|o| o.distance).collect::<Vec<_>>())?;
        d.set_item(
            "objects_distance_from_center",
            objs.iter().map(|o| o.distance_from_center).collect::<Vec<_>>(),
        )?;
        d.set_item("object_in_camera", p.object_in_camera)?;
        d.set_item("projection_distance", p.projection_distance)?;
        d.set_item("sim_time", p.sim_time)?;
        Ok(d)
    }

    /// Call the reward function for every car; `out[i]` gets car i's reward.
    pub fn call_batch(&self, params: &[RewardParams], out: &mut [f32]) -> Result<(), TrainError> {
        Python::attach(|py| {
            let func = self.func.bind(py);
            for (p, o) in params.iter().zip(out.iter_mut()) {
                *o = self.call_one(py, func, p)?;
            }
            Ok(())
        })
    }

    /// Call the reward function once.
    pub fn call(&self, p: &RewardParams) -> Result<f32, TrainError> {
        Python::attach(|py| self.call_one(py, self.func.bind(py), p))
    }

    fn call_one(&self, py: Python<'_>, func: &Bound<'_, PyAny>, p: &RewardParams) -> Result<f32, TrainError> {
        let d = self
            .params_dict(py, p)
            .map_err(|e| TrainError::Reward(format!("cannot build params: {e}")))?;
        let result = match func.call1((d,)) {
            Ok(r) => r,
            Err(e) => {
                let describe = self.describe.bind(py);
                return Err(describe_with(
                    py,
                    describe,
                    &e,
                    &self.path,
                    "reward_function raised an exception",
                    Some(p),
                ));
            }
        };
        let problem = if result.is_instance_of::<pyo3::types::PyBool>() {
            Some(format!("returned {} (a bool), expected a float", result))
        } else {
            match result.extract::<f64>() {
                Ok(v) if !v.is_finite() => Some(format!("returned {v}, expected a finite number")),
                Ok(v) if v.abs() > REWARD_LIMIT => {
                    Some(format!("returned {v}, outside DeepRacer's limit of ±{REWARD_LIMIT:e}"))
                }
                Ok(v) => return Ok(v as f32),
                Err(_) => Some(format!(
                    "returned {} of type {}, expected a float",
                    result.repr().map(|r| r.to_string()).unwrap_or_default(),
                    result.get_type().name().map(|n| n.to_string()).unwrap_or_default()
                )),
            }
        };
        let line = self.return_line();
        Err(TrainError::Reward(format!(
            "{}{}: reward_function {}\nparams: {}",
            self.path.display(),
            line.map(|l| format!(":{l}")).unwrap_or_default(),
            problem.unwrap_or_default(),
            params_repr(p)
        )))
    }

    /// The line of the function's definition (for errors about its return value).
    fn return_line(&self) -> Option<u32> {
        Python::attach(|py| {
            let code = self.func.bind(py).getattr("__code__").ok()?;
            code.getattr("co_firstlineno").ok()?.extract::<u32>().ok()
        })
    }
}

fn describe_error(
    py: Python<'_>,
    helpers: &Bound<'_, PyModule>,
    e: &PyErr,
    path: &Path,
    what: &str,
    p: Option<&RewardParams>,
) -> TrainError {
    match helpers.getattr("describe") {
        Ok(f) => describe_with(py, &f, e, path, what, p),
        Err(_) => TrainError::Reward(format!("{}: {what}: {e}", path.display())),
    }
}

fn describe_with(
    py: Python<'_>,
    describe: &Bound<'_, PyAny>,
    e: &PyErr,
    path: &Path,
    what: &str,
    p: Option<&RewardParams>,
) -> TrainError {
    let value = e.value(py);
    let tb = e.traceback(py);
    let (line, text, msg) = describe
        .call1((value, tb, path.display().to_string()))
        .and_then(|r| r.extract::<(Option<u32>, String, String)>())
        .unwrap_or((None, String::new(), e.to_string()));
    let mut s = format!(
        "{}{}: {what}: {msg}",
        path.display(),
        line.map(|l| format!(":{l}")).unwrap_or_default()
    );
    if !text.is_empty() {
        s.push_str(&format!("\n    {text}"));
    }
    if let Some(p) = p {
        s.push_str(&format!("\nparams: {}", params_repr(p)));
    }
    TrainError::Reward(s)
}

/// The params as a Python-like dict literal (waypoints elided), for error messages.
pub fn params_repr(p: &RewardParams) -> String {
    let b = |v: bool| if v { "True" } else { "False" };
    let objs = p.objects();
    format!(
        "{{'all_wheels_on_track': {}, 'x': {:?}, 'y': {:?}, 'heading': {:?}, 'distance_from_center': {:?}, 'is_left_of_center': {}, \
         'is_offtrack': {}, 'is_crashed': {}, 'is_reversed': {}, 'progress': {:?}, 'speed': {:?}, 'steering_angle': {:?}, 'steps': {:?}, \
         'track_width': {:?}, 'track_length': {:?}, 'waypoints': [...], 'closest_waypoints': [{}, {}], 'closest_objects': [{}, {}], \
         'objects_location': {:?}, 'object_in_camera': {}, 'projection_distance': {:?}, 'sim_time': {:?}}}",
        b(p.all_wheels_on_track),
        p.x,
        p.y,
        p.heading,
        p.distance_from_center,
        b(p.is_left_of_center),
        b(p.is_offtrack),
        b(p.is_crashed),
        b(p.is_reversed),
        p.progress,
        p.speed,
        p.steering_angle,
        f64::from(p.steps),
        p.track_width,
        p.track_length,
        p.closest_waypoints[0],
        p.closest_waypoints[1],
        p.closest_objects[0],
        p.closest_objects[1],
        objs.iter().map(|o| [o.location.x, o.location.y]).collect::<Vec<_>>(),
        b(p.object_in_camera),
        p.projection_distance,
        p.sim_time
    )
}
