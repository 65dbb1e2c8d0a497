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
//! Each car has its own instance of the file — its own module, so its own module-level variables —
//! as each car has a simulation worker (a process) of its own in DeepRacer: a reward that keeps the
//! previous step's progress or counts episodes in a global sees its own car's calls only. The file
//! is compiled once; each car's module runs its top-level code once, when the car is first scored.
//!
//! The return value is converted as DeepRacer converts it, with Python's `float()` (so `True`, `1`
//! and numpy scalars are rewards too); an exception, a value `float()` refuses, or one that is not
//! finite or is outside ±1e5 (DeepRacer's limit) stops training with the file, the line, and the
//! params that caused it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyList, PyTuple};
use slipstream_sim::Track;
use slipstream_sim::params::RewardParams;

use super::REWARD_LIMIT;
use crate::error::TrainError;

/// A loaded DeepRacer reward file.
#[derive(Debug)]
pub struct PythonReward {
    path: PathBuf,
    /// The file, compiled.
    code: Py<PyAny>,
    /// Per car, its own module's `reward_function` (made when the car is first scored).
    funcs: Mutex<Vec<Py<PyAny>>>,
    /// The helper that runs the code in a fresh module and returns its `reward_function`.
    instantiate: Py<PyAny>,
    /// Where the cars' `print()`s go (a `PrintLog`).
    prints: Py<PyAny>,
    /// Batches scored so far (the step a print is logged with).
    steps: std::sync::atomic::AtomicU64,
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
import sys
import traceback
import types

def describe(exc, tb, filename):
    frames = [f for f in traceback.extract_tb(tb) if f.filename == filename]
    line = frames[-1].lineno if frames else getattr(exc, 'lineno', None)
    text = frames[-1].line if frames else getattr(exc, 'text', None)
    return (line, (text or '').strip(), '%s: %s' % (type(exc).__name__, exc))

def instantiate(code, name, filename, car, prints):
    module = types.ModuleType(name)
    module.__file__ = filename
    module.print = lambda *args, **kwargs: prints.emit(car, *args, **kwargs)
    exec(code, module.__dict__)
    return module.__dict__.get('reward_function')

# Where reward functions' print() goes: never standard output. To a run's log file, each line
# with the step and the car, up to `limit` bytes, and/or to standard error. Lines printed before
# that is set (the first car's module is loaded first) wait, and follow it then; lines still
# waiting when the reward is dropped go to standard error. print(..., file=f) goes to f.
class PrintLog:
    def __init__(self, limit):
        self.limit = limit
        self.file = None
        self.echo = False
        self.pending = []
        self.step = 0
        self.written = 0
        self.dropped = 0

    def open(self, path, echo):
        if self.file is not None:
            self.file.close()
        self.file = open(path, 'a', encoding='utf-8', buffering=1) if path else None
        self.echo = echo
        self.written = 0
        self.dropped = 0
        waiting, self.pending = self.pending, None
        for line in waiting or []:
            self.write(line)

    def close(self):
        if self.pending:
            sys.stderr.write(''.join(self.pending))
            self.pending = []
        if self.file is not None:
            self.file.close()
            self.file = None

    def emit(self, car, *args, sep=' ', end='\\n', file=None, flush=False):
        if file is not None and file is not sys.stdout:
            print(*args, sep=sep, end=end, file=file, flush=flush)
            return
        text = (' ' if sep is None else sep).join(map(str, args)) + ('\\n' if end is None else end)
        self.write('[step %d car %d] %s' % (self.step, car, text))

    def write(self, line):
        if self.pending is not None:
            if sum(map(len, self.pending)) + len(line) <= self.limit:
                self.pending.append(line)
            return
        if self.echo:
            sys.stderr.write(line)
        if self.file is None:
            return
        if not self.dropped and self.written + len(line) <= self.limit:
            self.file.write(line)
            self.written += len(line)
        else:
            if not self.dropped:
                self.file.write('[slipstream] further prints dropped: this log reached %d bytes\\n' % self.limit)
            self.dropped += 1
";

/// The most a run's reward-print log holds, bytes.
pub const PRINT_LOG_LIMIT: usize = 10 << 20;

impl PythonReward {
    /// Load `path` and check it defines `reward_function`. `tracks` are the environment's tracks, in
    /// order (for their `waypoints`).
    pub fn load(path: &Path, tracks: &[Arc<Track>]) -> Result<Self, TrainError> {
        let code = std::fs::read_to_string(path)
            .map_err(|e| TrainError::file(path, format!("cannot read the reward file: {e}")))?;
        let shown = path.display().to_string();
        if code.contains('\0') {
            return Err(TrainError::file(path, "the reward file contains a NUL byte"));
        }
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
            let code = match py
                .import("builtins")
                .and_then(|b| b.getattr("compile"))
                .and_then(|compile| compile.call1((&code, &shown, "exec")))
            {
                Ok(c) => c,
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
            let instantiate = helpers.getattr("instantiate").expect("defined above");
            let prints = helpers
                .getattr("PrintLog")
                .and_then(|c| c.call1((PRINT_LOG_LIMIT,)))
                .map_err(|e| TrainError::Reward(e.to_string()))?;
            // Car 0's module now: errors in the file's top-level code show at load.
            let first = instance(&instantiate, &code, &prints, path, 0).map_err(|e| match e {
                Instance::Failed(e) => describe_error(py, &helpers, &e, path, "cannot load the reward file", None),
                Instance::Missing(m) => TrainError::file(path, m),
            })?;
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
                code: code.unbind(),
                funcs: Mutex::new(vec![first]),
                instantiate: instantiate.unbind(),
                prints: prints.unbind(),
                steps: Default::default(),
                waypoints,
                describe,
            })
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Send the cars' `print()`s to `log` (appended; each line with the step and the car, at most
    /// [`PRINT_LOG_LIMIT`] bytes) and to standard error if `echo` (neither: they are dropped).
    /// Lines printed before this is called (the first car's module runs at load) follow it then;
    /// if it never is, they go to standard error when the reward is dropped. They never go to
    /// standard output (where `--json` writes).
    pub fn log_prints(&self, log: Option<&Path>, echo: bool) -> Result<(), TrainError> {
        Python::attach(|py| {
            let path = log.map(|p| p.display().to_string());
            self.prints
                .bind(py)
                .call_method1("open", (path, echo))
                .map(|_| ())
                .map_err(|e| match log {
                    Some(p) => TrainError::file(p, format!("cannot open the reward-print log: {e}")),
                    None => TrainError::Reward(e.to_string()),
                })
        })
    }

    /// Tell the print log which step is being scored.
    fn next_step(&self, py: Python<'_>) {
        let step = self.steps.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // A plain attribute of our own object: setting it does not fail.
        let _ = self.prints.bind(py).setattr("step", step);
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

    /// Call the reward function for every car, each its own instance; `out[i]` gets car i's reward.
    pub fn call_batch(&self, params: &[RewardParams], out: &mut [f32]) -> Result<(), TrainError> {
        Python::attach(|py| {
            self.next_step(py);
            let mut funcs = self.funcs.lock().unwrap_or_else(|e| e.into_inner());
            self.instances_for(py, &mut funcs, params.len())?;
            for ((p, o), func) in params.iter().zip(out.iter_mut()).zip(funcs.iter()) {
                *o = self.call_one(py, func.bind(py), p)?;
            }
            Ok(())
        })
    }

    /// Call car 0's reward function once.
    pub fn call(&self, p: &RewardParams) -> Result<f32, TrainError> {
        Python::attach(|py| {
            self.next_step(py);
            let funcs = self.funcs.lock().unwrap_or_else(|e| e.into_inner());
            self.call_one(py, funcs[0].bind(py), p)
        })
    }

    /// Make the modules of cars `funcs.len()..cars`.
    fn instances_for(&self, py: Python<'_>, funcs: &mut Vec<Py<PyAny>>, cars: usize) -> Result<(), TrainError> {
        let (instantiate, code, prints) = (self.instantiate.bind(py), self.code.bind(py), self.prints.bind(py));
        while funcs.len() < cars {
            let f = instance(instantiate, code, prints, &self.path, funcs.len()).map_err(|e| match e {
                Instance::Failed(e) => describe_with(
                    py,
                    self.describe.bind(py),
                    &e,
                    &self.path,
                    &format!("cannot load the reward file for car {}", funcs.len()),
                    None,
                ),
                Instance::Missing(m) => TrainError::file(&self.path, m),
            })?;
            funcs.push(f);
        }
        Ok(())
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
        // DeepRacer takes `float(reward_function(params))` (a float itself needs no call).
        let value = match result.cast_exact::<PyFloat>() {
            Ok(f) => Ok(f.value()),
            Err(_) => py
                .get_type::<PyFloat>()
                .call1((&result,))
                .and_then(|f| f.extract::<f64>()),
        };
        let problem = match value {
            Ok(v) if !v.is_finite() => format!("returned {v}, expected a finite number"),
            Ok(v) if v.abs() > REWARD_LIMIT => format!("returned {v}, outside DeepRacer's limit of ±{REWARD_LIMIT:e}"),
            Ok(v) => return Ok(v as f32),
            Err(e) => format!(
                "returned {} of type {}, which float() refuses ({e}); expected a number",
                result.repr().map(|r| r.to_string()).unwrap_or_default(),
                result.get_type().name().map(|n| n.to_string()).unwrap_or_default()
            ),
        };
        let line = return_line(func);
        Err(TrainError::Reward(format!(
            "{}{}: reward_function {}\nparams: {}",
            self.path.display(),
            line.map(|l| format!(":{l}")).unwrap_or_default(),
            problem,
            params_repr(p)
        )))
    }
}

/// The line of a function's definition (for errors about its return value).
fn return_line(func: &Bound<'_, PyAny>) -> Option<u32> {
    let code = func.getattr("__code__").ok()?;
    code.getattr("co_firstlineno").ok()?.extract::<u32>().ok()
}

impl Drop for PythonReward {
    /// Close the print log (its last lines written).
    fn drop(&mut self) {
        Python::attach(|py| {
            let _ = self.prints.bind(py).call_method0("close");
        });
    }
}

/// Why a car's module could not be made.
enum Instance {
    /// Its top-level code raised.
    Failed(PyErr),
    /// It made no usable `reward_function`.
    Missing(&'static str),
}

/// A fresh module of the reward file for car `car`, and its `reward_function`.
fn instance(
    instantiate: &Bound<'_, PyAny>,
    code: &Bound<'_, PyAny>,
    prints: &Bound<'_, PyAny>,
    path: &Path,
    car: usize,
) -> Result<Py<PyAny>, Instance> {
    // A fresh module name per file and car: each car's globals are its own.
    static LOADED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = LOADED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let func = instantiate
        .call1((
            code,
            format!("slipstream_reward_{n}_car_{car}"),
            path.display().to_string(),
            car,
            prints,
        ))
        .map_err(Instance::Failed)?;
    if func.is_none() {
        return Err(Instance::Missing("does not define reward_function(params)"));
    }
    if !func.is_callable() {
        return Err(Instance::Missing("reward_function is not a function"));
    }
    Ok(func.unbind())
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
