//! The headless modes: a screenshot after a number of frames, or the frame rate over them.

use std::time::Instant;

use bevy::image::Image;
use bevy::prelude::*;
use bevy::render::view::window::screenshot::{Screenshot, ScreenshotCaptured};

use super::{Outcome, Phase, Settings, Viewer};

pub(super) struct CapturePlugin;

impl Plugin for CapturePlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(Progress::default())
            .add_systems(Update, finish.in_set(Phase::Finish));
    }
}

#[derive(Resource, Debug, Default)]
pub(super) struct Progress {
    pub(super) frames: u64,
    pub(super) shot_requested: bool,
    shot_saved: Option<Result<(u32, u32), String>>,
    bench_start: Option<(Instant, u64)>,
    finished: bool,
}

/// The headless modes' end: request the screenshot after the frames, exit once it is saved; or
/// print the frame rate.
fn finish(
    mut commands: Commands,
    mut progress: ResMut<Progress>,
    settings: Res<Settings>,
    viewer: NonSend<Viewer>,
    windows: Query<&Window>,
    outcome: Res<Outcome>,
    mut exit: MessageWriter<AppExit>,
) {
    let Some(n) = settings.opts.frames else { return };
    if progress.finished {
        return;
    }
    // Frame-rate benchmark: time frames after a short warm-up (pipelines compiled, first uploads).
    let warmup = (n / 10).clamp(1, 30);
    if progress.frames == warmup {
        progress.bench_start = Some((Instant::now(), progress.frames));
    }
    if progress.frames < n {
        return;
    }
    if let Some(path) = &settings.opts.screenshot {
        if !progress.shot_requested {
            progress.shot_requested = true;
            let path = path.clone();
            commands.spawn(Screenshot::primary_window()).observe(
                move |captured: On<ScreenshotCaptured>, mut progress: ResMut<Progress>| {
                    progress.shot_saved = Some(save_png(&captured.image, &path));
                },
            );
            return;
        }
        let Some(saved) = &progress.shot_saved else { return };
        match saved {
            Err(e) => outcome.fail(e.clone()),
            Ok((w, h)) => {
                let snap = &viewer.snapshot;
                let car = snap
                    .car
                    .map(|p| serde_json::json!({"x": p.pos.x, "y": p.pos.y, "heading": p.heading}));
                let rivals: Vec<_> = snap
                    .rivals
                    .iter()
                    .map(|r| serde_json::json!({"x": r.pose.pos.x, "y": r.pose.pos.y, "heading": r.pose.heading}))
                    .collect();
                println!(
                    "{}",
                    serde_json::json!({
                        "screenshot": path.display().to_string(), "width": w, "height": h,
                        "frames": progress.frames, "sim_steps": snap.step, "car": car, "rivals": rivals,
                    })
                );
            }
        }
    }
    if settings.opts.bench {
        let (w, h) = windows.iter().next().map_or((0, 0), |w| {
            (w.resolution.physical_width(), w.resolution.physical_height())
        });
        if let Some((t0, f0)) = progress.bench_start {
            let frames = progress.frames - f0;
            let secs = t0.elapsed().as_secs_f64();
            println!(
                "{}",
                serde_json::json!({
                    "bench": "viewer", "track": settings.opts.track_name, "width": w, "height": h,
                    "camera": settings.opts.camera.name(), "frames": frames, "seconds": secs,
                    "frames_per_s": frames as f64 / secs, "sim_steps": viewer.snapshot.step,
                })
            );
        }
    }
    progress.finished = true;
    exit.write(AppExit::Success);
}

/// Save a captured window image as an 8-bit RGB PNG; its size.
fn save_png(image: &Image, path: &std::path::Path) -> Result<(u32, u32), String> {
    let dynamic = image
        .clone()
        .try_into_dynamic()
        .map_err(|e| format!("the screenshot's pixel format cannot be saved: {e}"))?;
    let rgb = dynamic.to_rgb8();
    let (w, h) = (rgb.width(), rgb.height());
    let file = std::fs::File::create(path).map_err(|e| format!("{}: cannot create: {e}", path.display()))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let write = |enc: png::Encoder<_>| -> Result<(), png::EncodingError> {
        let mut writer = enc.write_header()?;
        writer.write_image_data(rgb.as_raw())?;
        writer.finish()
    };
    write(enc).map_err(|e| format!("{}: cannot write the PNG: {e}", path.display()))?;
    Ok((w, h))
}
