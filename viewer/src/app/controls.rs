//! Playback controls: the keys (pause, single step, speed, camera view) and stepping the source in
//! real time × the speed, or one step per frame in the headless modes.

use bevy::input::ButtonInput;
use bevy::input::keyboard::KeyCode;
use bevy::prelude::*;

use super::capture::Progress;
use super::view::ViewState;
use super::{CameraView, Outcome, Phase, SPEEDS, Settings, Viewer};

/// Pause and speed at the start.
pub(super) struct ControlsPlugin {
    pub paused: bool,
    /// Index into [`SPEEDS`].
    pub speed: usize,
}

impl Plugin for ControlsPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(Playback {
            paused: self.paused,
            speed: self.speed,
            owed_s: 0.0,
            single_step: false,
        })
        .add_systems(Update, keys.in_set(Phase::Input))
        .add_systems(Update, advance.in_set(Phase::Step));
    }
}

#[derive(Resource, Debug)]
pub(super) struct Playback {
    pub(super) paused: bool,
    pub(super) speed: usize,
    /// Simulated seconds owed to the simulation (real time × speed, not yet stepped).
    owed_s: f64,
    single_step: bool,
}

fn keys(
    input: Res<ButtonInput<KeyCode>>,
    mut play: ResMut<Playback>,
    mut view: ResMut<ViewState>,
    mut exit: MessageWriter<AppExit>,
) {
    if input.just_pressed(KeyCode::Escape) || input.just_pressed(KeyCode::KeyQ) {
        exit.write(AppExit::Success);
    }
    if input.just_pressed(KeyCode::Space) {
        play.paused = !play.paused;
        play.owed_s = 0.0;
    }
    if input.just_pressed(KeyCode::KeyN) || input.just_pressed(KeyCode::Period) {
        play.paused = true;
        play.single_step = true;
    }
    if input.just_pressed(KeyCode::Equal)
        || input.just_pressed(KeyCode::NumpadAdd)
        || input.just_pressed(KeyCode::BracketRight)
    {
        play.speed = (play.speed + 1).min(SPEEDS.len() - 1);
    }
    if input.just_pressed(KeyCode::Minus)
        || input.just_pressed(KeyCode::NumpadSubtract)
        || input.just_pressed(KeyCode::BracketLeft)
    {
        play.speed = play.speed.saturating_sub(1);
    }
    if input.just_pressed(KeyCode::KeyC) {
        view.view = view.view.next();
        view.chase_eye = None;
    }
    for (key, v) in [
        (KeyCode::Digit1, CameraView::Chase),
        (KeyCode::Digit2, CameraView::Orbit),
        (KeyCode::Digit3, CameraView::TopDown),
    ] {
        if input.just_pressed(key) {
            view.view = v;
            view.chase_eye = None;
        }
    }
    if input.pressed(KeyCode::ArrowLeft) {
        view.orbit_angle -= 0.03;
    }
    if input.pressed(KeyCode::ArrowRight) {
        view.orbit_angle += 0.03;
    }
}

/// Step the simulation: in real time × the speed, or one step per frame in the headless modes.
fn advance(
    mut viewer: NonSendMut<Viewer>,
    mut play: ResMut<Playback>,
    mut progress: ResMut<Progress>,
    settings: Res<Settings>,
    time: Res<Time>,
    outcome: Res<Outcome>,
    mut exit: MessageWriter<AppExit>,
) {
    progress.frames += 1;
    let steps = if let Some(n) = settings.opts.frames {
        u64::from(progress.frames <= n && !progress.shot_requested)
    } else if play.paused {
        u64::from(std::mem::take(&mut play.single_step))
    } else {
        play.owed_s += time.delta_secs_f64() * SPEEDS[play.speed];
        let n = (play.owed_s / viewer.step_s).floor();
        play.owed_s -= n * viewer.step_s;
        // After a stall (a slow frame, a dragged window), catch up at most half a second.
        (n as u64).min((0.5 * SPEEDS[play.speed] / viewer.step_s).ceil() as u64)
    };
    let v = &mut *viewer;
    for _ in 0..steps {
        if v.source.finished() {
            break;
        }
        match v.source.step() {
            Ok(s) => v.snapshot = s,
            Err(e) => {
                outcome.fail(format!("the simulation failed: {e}"));
                exit.write(AppExit::error());
                return;
            }
        }
    }
    if steps > 0 {
        v.camera_image = v.source.camera_image();
    }
}
