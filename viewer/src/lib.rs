//! Slipstream's viewer: a 3-D scene of a track with a car raced live by a model (or by the
//! pure-pursuit driver) or replayed from a trace. The only crate that links bevy's renderer;
//! nothing depends on it. Physics and race rules stay in `slipstream_sim`: the viewer steps a
//! `VecEnv` (through `slipstream_trainer::evaluate::RaceRun` for a model) and draws its state.
//!
//! * [`geometry`]: the scene's meshes from the track (road, lines, ground, boxes) and the
//!   top-down view's projection, without a renderer.
//! * [`source`]: what is shown, step by step: a live race or a trace replay, as [`source::Snapshot`]s.
//! * [`hud`]: the HUD's text and the camera inset's pixels.
//! * [`app`]: the bevy app (scene, cameras, HUD, controls, screenshot and benchmark modes).
//! * [`cli`]: the command line (`slipstream-viewer`, and `sim view`, which runs it).

pub mod app;
pub mod cli;
pub mod geometry;
pub mod hud;
pub mod source;
