//! The bevy app: the scene (ground, road, lines, the car, object boxes), the cameras, the HUD, the
//! camera inset, playback controls, and the headless modes (screenshot after N frames, frame-rate
//! benchmark).
//!
//! Drawing uses bevy's 2-D mesh pipeline (unlit vertex-coloured meshes, depth-tested) seen through
//! 3-D cameras: a perspective projection for the chase and orbit views, an orthographic one from
//! straight above. That needs no PBR pipeline, which keeps the cold build short (see BENCHMARKS.md).
//!
//! One plugin per concern, their systems ordered by [`Phase`] each frame: [`controls`] (keys,
//! stepping the source), [`scene`] (the meshes and where the cars and boxes are), [`view`] (the
//! camera views), [`overlay`] (the HUD and the camera inset), [`capture`] (the headless modes).

mod capture;
mod controls;
mod overlay;
mod scene;
mod view;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bevy::prelude::*;
use bevy::window::{PresentMode, WindowResolution};

use crate::geometry::{TopDownView, colors};
use crate::source::{CameraImage, Snapshot, Source};

/// Playback speeds (× real time) the `+`/`-` keys step through.
pub const SPEEDS: [f64; 6] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0];

/// The camera views.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CameraView {
    /// Behind and above the car, following it.
    #[default]
    Chase,
    /// Circling the car.
    Orbit,
    /// The whole track from straight above, north up.
    TopDown,
}

impl CameraView {
    fn next(self) -> Self {
        match self {
            CameraView::Chase => CameraView::Orbit,
            CameraView::Orbit => CameraView::TopDown,
            CameraView::TopDown => CameraView::Chase,
        }
    }

    fn name(self) -> &'static str {
        match self {
            CameraView::Chase => "chase",
            CameraView::Orbit => "orbit",
            CameraView::TopDown => "top-down",
        }
    }
}

/// How the app runs.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub width: u32,
    pub height: u32,
    pub camera: CameraView,
    /// Initial playback speed (one of [`SPEEDS`]).
    pub speed: f64,
    pub paused: bool,
    /// Save a PNG of the window here after `frames` frames, then exit.
    pub screenshot: Option<PathBuf>,
    /// Run this many frames, then (with `screenshot`) save the picture or (with `bench`) print
    /// the frame rate, and exit. With either, the simulation advances exactly one step per frame
    /// (deterministic, whatever the frame rate).
    pub frames: Option<u64>,
    /// Print the frames per second over `frames` frames as JSON.
    pub bench: bool,
    /// The track's name, for the HUD.
    pub track_name: String,
}

/// The simulator side: the source and its latest state (main thread only: a model holds libtorch
/// tensors).
struct Viewer {
    source: Source,
    snapshot: Snapshot,
    camera_image: Option<CameraImage>,
    step_s: f64,
}

/// Errors that end the app, read after it has run (the app's world is gone by then).
#[derive(Resource, Clone, Debug, Default)]
struct Outcome(Arc<Mutex<Vec<String>>>);

impl Outcome {
    fn fail(&self, message: String) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(message);
    }
}

#[derive(Resource, Debug)]
struct Settings {
    opts: RunOptions,
    label: String,
    view: TopDownView,
    car_size: (f64, f64),
}

/// The order of the plugins' systems, at start-up and every frame: keys, then the simulation's
/// step, the scene's placing, the camera, the HUD and inset, and the headless modes' end.
#[derive(SystemSet, Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Phase {
    Input,
    Step,
    Place,
    Camera,
    Overlay,
    Finish,
}

impl Phase {
    const ORDER: (Phase, Phase, Phase, Phase, Phase, Phase) = (
        Phase::Input,
        Phase::Step,
        Phase::Place,
        Phase::Camera,
        Phase::Overlay,
        Phase::Finish,
    );
}

/// Run the viewer until its window closes (or, headless, until its frames are done).
pub fn run(source: Source, opts: RunOptions) -> anyhow::Result<()> {
    let mut source = source;
    let snapshot = source.start()?;
    let camera_image = source.camera_image();
    let settings = Settings {
        label: source.label(),
        view: TopDownView::of(source.track()),
        car_size: source.car_size(),
        opts: opts.clone(),
    };
    let step_s = source.step_seconds();
    let headless = opts.frames.is_some();
    let speed = SPEEDS.iter().position(|s| (s - opts.speed).abs() < 1e-9).unwrap_or(2);
    let mut window = Window {
        title: format!("Slipstream — {}", opts.track_name),
        resolution: WindowResolution::new(opts.width, opts.height).with_scale_factor_override(1.0),
        present_mode: if headless {
            PresentMode::AutoNoVsync
        } else {
            PresentMode::AutoVsync
        },
        ..default()
    };
    window.resizable = !headless;
    let outcome = Outcome::default();
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: Some(window),
                ..default()
            })
            .set(bevy::log::LogPlugin {
                filter: "warn,wgpu=error,wgpu_hal=error,naga=warn,bevy_render=warn,bevy_winit=warn".into(),
                ..default()
            }),
    )
    .insert_resource(ClearColor(srgb(colors::SKY)))
    .insert_resource(settings)
    .insert_resource(outcome.clone())
    .insert_non_send(Viewer {
        source,
        snapshot,
        camera_image,
        step_s,
    })
    .configure_sets(Startup, Phase::ORDER.chain())
    .configure_sets(Update, Phase::ORDER.chain())
    .add_plugins((
        controls::ControlsPlugin {
            paused: opts.paused,
            speed,
        },
        scene::ScenePlugin,
        view::ViewPlugin { view: opts.camera },
        overlay::OverlayPlugin,
        capture::CapturePlugin,
    ));
    let exit = app.run();
    let errors = outcome.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if !errors.is_empty() {
        anyhow::bail!(errors.join("; "));
    }
    if exit.is_error() {
        anyhow::bail!("the viewer stopped with an error");
    }
    Ok(())
}

/// An sRGB colour given as 0–255 components.
fn srgb(c: [u8; 3]) -> Color {
    Color::srgb_u8(c[0], c[1], c[2])
}

fn linear(c: [u8; 3]) -> [f32; 4] {
    srgb(c).to_linear().to_f32_array()
}
