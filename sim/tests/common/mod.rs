//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::process::{Command, Output};

use slipstream_sim::rng::Rng;
use slipstream_sim::track::{Track, ValidateOptions};
use slipstream_sim::{Action, ActionSpace};

pub fn builtin(name: &str) -> Track {
    Track::resolve(name, &ValidateOptions::default()).unwrap()
}

/// A reproducible action sequence: `steps` rows of `cars` random actions.
pub fn random_actions(space: &ActionSpace, cars: usize, steps: usize, seed: u64) -> Vec<Vec<Action>> {
    let mut rng = Rng::new(seed);
    (0..steps)
        .map(|_| {
            (0..cars)
                .map(|_| match space {
                    ActionSpace::Discrete(v) => Action::Discrete(rng.below(v.len() as u64) as u32),
                    ActionSpace::Continuous { steering_angle, speed } => Action::Continuous([
                        rng.range(steering_angle.low, steering_angle.high) as f32,
                        rng.range(speed.low, speed.high) as f32,
                    ]),
                })
                .collect()
        })
        .collect()
}

/// Rows of a closed rectangular loop with rounded corners drawn by hand (no builtin code involved),
/// counter-clockwise, `width` wide.
pub fn square_rows(size: f64, width: f64, per_side: usize) -> Vec<[f64; 6]> {
    let h = width / 2.0;
    let corners = [(0.0, 0.0), (size, 0.0), (size, size), (0.0, size)];
    let mut rows = Vec::new();
    for k in 0..4 {
        let (x0, y0) = corners[k];
        let (x1, y1) = corners[(k + 1) % 4];
        for j in 0..per_side {
            let t = j as f64 / per_side as f64;
            let (x, y) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
            let (dx, dy) = (x - size / 2.0, y - size / 2.0);
            let l = (dx * dx + dy * dy).sqrt();
            let (ux, uy) = (dx / l, dy / l);
            rows.push([x, y, x - ux * h, y - uy * h, x + ux * h, y + uy * h]);
        }
    }
    rows.push(rows[0]);
    rows
}

/// Run the `sim` binary with extra environment variables.
pub fn sim_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("the sim binary runs")
}

/// Run the `sim` binary.
pub fn sim(args: &[&str]) -> Output {
    sim_env(args, &[])
}

/// Run `sim`, expect success, and parse its one JSON object.
pub fn ok_json(args: &[&str]) -> serde_json::Value {
    let out = sim(args);
    assert!(
        out.status.success(),
        "sim {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("sim {args:?}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// Run `sim`, expect a clear failure (see [`fails_with_env`]).
pub fn fails_with(args: &[&str], needle: &str) {
    fails_with_env(args, &[], needle)
}

/// Run `sim`, expect a clear failure: a non-zero exit, `needle` on stderr, no panic.
pub fn fails_with_env(args: &[&str], env: &[(&str, &str)], needle: &str) {
    let out = sim_env(args, env);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "sim {args:?} should fail");
    assert!(
        err.contains(needle),
        "sim {args:?}: stderr does not mention {needle:?}: {err}"
    );
    assert!(!err.contains("panicked"), "sim {args:?} panicked: {err}");
}

/// A pixel of an RGB picture.
pub fn pixel(rgb: &[u8], w: u32, (x, y): (i32, i32)) -> [u8; 3] {
    let i = (y as usize * w as usize + x as usize) * 3;
    [rgb[i], rgb[i + 1], rgb[i + 2]]
}
