//! The bevy app: the scene (ground, road, lines, the car, object boxes), the cameras, the HUD, the
//! camera inset, playback controls, and the headless modes (screenshot after N frames, frame-rate
//! benchmark).
//!
//! Drawing uses bevy's 2-D mesh pipeline (unlit vertex-coloured meshes, depth-tested) seen through
//! 3-D cameras: a perspective projection for the chase and orbit views, an orthographic one from
//! straight above. That needs no PBR pipeline, which keeps the cold build short (see BENCHMARKS.md).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bevy::asset::RenderAssetUsages;
use bevy::camera::{OrthographicProjection, PerspectiveProjection, Projection, ScalingMode};
use bevy::image::Image;
use bevy::input::ButtonInput;
use bevy::input::keyboard::KeyCode;
use bevy::mesh::{Mesh, Mesh2d, PrimitiveTopology};
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use bevy::render::view::window::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::sprite_render::{ColorMaterial, MeshMaterial2d};
use bevy::window::{PresentMode, WindowResolution};
use slipstream_sim::math::Vec2;

use crate::geometry::{self, TopDownView, Triangles, colors};
use crate::hud;
use crate::source::{BoxKind, CameraImage, Snapshot, Source};

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
struct Playback {
    paused: bool,
    speed: usize,
    /// Simulated seconds owed to the simulation (real time × speed, not yet stepped).
    owed_s: f64,
    single_step: bool,
}

#[derive(Resource, Debug)]
struct Settings {
    opts: RunOptions,
    label: String,
    view: TopDownView,
    car_size: (f64, f64),
}

#[derive(Resource, Debug, Default)]
struct Progress {
    frames: u64,
    shot_requested: bool,
    shot_saved: Option<Result<(u32, u32), String>>,
    bench_start: Option<(Instant, u64)>,
    finished: bool,
}

#[derive(Resource, Debug)]
struct ViewState {
    view: CameraView,
    orbit_angle: f32,
    chase_eye: Option<Vec3>,
}

#[derive(Component)]
struct MainCamera;

#[derive(Component)]
struct CarMarker;

/// A head-to-head replay's other car (its index among the rivals).
#[derive(Component)]
struct RivalMarker(usize);

#[derive(Component)]
struct ObjectMarker(usize);

#[derive(Component)]
struct HudText;

#[derive(Resource)]
struct ObjectMeshes {
    obstacle: Handle<Mesh>,
    bot: Handle<Mesh>,
    material: Handle<ColorMaterial>,
}

#[derive(Resource)]
struct Inset(Handle<Image>);

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
    .insert_resource(Playback {
        paused: opts.paused,
        speed,
        owed_s: 0.0,
        single_step: false,
    })
    .insert_resource(ViewState {
        view: opts.camera,
        orbit_angle: 0.0,
        chase_eye: None,
    })
    .insert_resource(settings)
    .insert_resource(Progress::default())
    .insert_resource(outcome.clone())
    .insert_non_send(Viewer {
        source,
        snapshot,
        camera_image,
        step_s,
    })
    .add_systems(Startup, setup)
    .add_systems(
        Update,
        (
            keys,
            advance,
            place_car,
            place_rivals,
            place_objects,
            place_camera,
            update_hud,
            update_inset,
            finish,
        )
            .chain(),
    );
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

fn mesh_of(t: Triangles) -> Mesh {
    Mesh::new(PrimitiveTopology::TriangleList, RenderAssetUsages::RENDER_WORLD)
        .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, t.positions)
        .with_inserted_attribute(Mesh::ATTRIBUTE_COLOR, t.colors)
}

fn setup(
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<ColorMaterial>>,
    mut images: ResMut<Assets<Image>>,
    settings: Res<Settings>,
    viewer: NonSend<Viewer>,
) {
    let track = viewer.source.track().clone();
    // Vertex colours carry the colour; the material is plain white, unlit.
    let white = materials.add(ColorMaterial::from(Color::WHITE));
    let (lo, hi) = geometry::bounds(&track);
    let extent = (hi.x - lo.x).max(hi.y - lo.y);
    let scene = [
        geometry::ground((lo + hi) * 0.5, extent + 60.0, linear(colors::GROUND)),
        geometry::road(&track, linear(colors::ROAD)),
        geometry::lines(&track, linear(colors::BORDER), linear(colors::CENTER)),
    ];
    for t in scene {
        commands.spawn((
            Mesh2d(meshes.add(mesh_of(t))),
            MeshMaterial2d(white.clone()),
            Transform::IDENTITY,
        ));
    }

    // The car: a red body and a dark camera/compute unit on top, towards the front; a
    // head-to-head replay's other cars the same in their colours.
    let car = |colour: [u8; 3]| {
        let (len, wid) = settings.car_size;
        let mut body = geometry::cuboid(len as f32, wid as f32, 0.03, 0.10, linear(colour));
        let mut roof = geometry::cuboid(0.10, 0.10, 0.10, 0.15, linear(colors::CAR_ROOF));
        for p in &mut roof.positions {
            p[0] += 0.05;
        }
        body.positions.extend(roof.positions);
        body.colors.extend(roof.colors);
        mesh_of(body)
    };
    commands.spawn((
        CarMarker,
        Mesh2d(meshes.add(car(colors::CAR))),
        MeshMaterial2d(white.clone()),
        Transform::IDENTITY,
        Visibility::Hidden,
    ));
    for (i, rival) in viewer.snapshot.rivals.iter().enumerate() {
        commands.spawn((
            RivalMarker(i),
            Mesh2d(meshes.add(car(rival.colour))),
            MeshMaterial2d(white.clone()),
            pose_transform(rival.pose),
        ));
    }
    commands.insert_resource(ObjectMeshes {
        obstacle: meshes.add(mesh_of(geometry::cuboid(1.0, 1.0, 0.0, 1.0, linear(colors::OBSTACLE)))),
        bot: meshes.add(mesh_of(geometry::cuboid(1.0, 1.0, 0.0, 1.0, linear(colors::BOT)))),
        material: white,
    });

    commands.spawn((Camera2d, MainCamera, Transform::default(), perspective()));

    // HUD: top left.
    commands.spawn((
        HudText,
        Text::new(""),
        TextFont::from_font_size(15.0),
        TextColor(Color::WHITE),
        Node {
            position_type: PositionType::Absolute,
            top: Val::Px(8.0),
            left: Val::Px(8.0),
            padding: UiRect::all(Val::Px(8.0)),
            ..default()
        },
        BackgroundColor(Color::srgba(0.0, 0.0, 0.0, 0.6)),
    ));

    // The model's camera image: bottom right, twice its size.
    if let Some(img) = &viewer.camera_image {
        let (w, h) = ((img.channels * img.width) as u32, img.height as u32);
        let image = Image::new_fill(
            Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
            TextureDimension::D2,
            &[0, 0, 0, 255],
            TextureFormat::Rgba8UnormSrgb,
            RenderAssetUsages::all(),
        );
        let handle = images.add(image);
        commands.spawn((
            ImageNode::new(handle.clone()),
            Node {
                position_type: PositionType::Absolute,
                bottom: Val::Px(8.0),
                right: Val::Px(8.0),
                width: Val::Px(2.0 * w as f32),
                height: Val::Px(2.0 * h as f32),
                border: UiRect::all(Val::Px(2.0)),
                ..default()
            },
            BorderColor::all(Color::WHITE),
        ));
        commands.insert_resource(Inset(handle));
    }
}

fn perspective() -> Projection {
    Projection::Perspective(PerspectiveProjection {
        fov: 60f32.to_radians(),
        near: 0.02,
        ..default()
    })
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

fn scene_pos(p: Vec2, h: f32) -> Vec3 {
    Vec3::from_array(geometry::to_scene(p, h))
}

/// A car standing at `pose` on the ground.
fn pose_transform(pose: crate::source::Pose) -> Transform {
    Transform::from_translation(scene_pos(pose.pos, 0.0))
        .with_rotation(Quat::from_rotation_y(geometry::yaw_to_scene(pose.heading)))
}

fn place_car(viewer: NonSend<Viewer>, mut car: Query<(&mut Transform, &mut Visibility), With<CarMarker>>) {
    let Ok((mut t, mut vis)) = car.single_mut() else { return };
    match viewer.snapshot.car {
        Some(pose) => {
            *t = pose_transform(pose);
            *vis = Visibility::Visible;
        }
        None => *vis = Visibility::Hidden,
    }
}

fn place_rivals(viewer: NonSend<Viewer>, mut rivals: Query<(&RivalMarker, &mut Transform)>) {
    for (m, mut t) in &mut rivals {
        if let Some(r) = viewer.snapshot.rivals.get(m.0) {
            *t = pose_transform(r.pose);
        }
    }
}

fn place_objects(
    mut commands: Commands,
    viewer: NonSend<Viewer>,
    meshes: Res<ObjectMeshes>,
    mut boxes: Query<(Entity, &ObjectMarker, &mut Transform)>,
) {
    let objects = &viewer.snapshot.objects;
    let mut seen = vec![false; objects.len()];
    for (e, m, mut t) in &mut boxes {
        match objects.get(m.0) {
            Some(o) => {
                *t = object_transform(o);
                seen[m.0] = true;
            }
            None => commands.entity(e).despawn(),
        }
    }
    for (i, o) in objects.iter().enumerate() {
        if !seen[i] {
            let mesh = match o.kind {
                BoxKind::Obstacle => meshes.obstacle.clone(),
                BoxKind::Bot => meshes.bot.clone(),
            };
            commands.spawn((
                ObjectMarker(i),
                Mesh2d(mesh),
                MeshMaterial2d(meshes.material.clone()),
                object_transform(o),
            ));
        }
    }
}

fn object_transform(o: &crate::source::ObjectBox) -> Transform {
    let height = match o.kind {
        BoxKind::Obstacle => o.length.min(o.width) as f32,
        BoxKind::Bot => 0.12,
    };
    Transform::from_translation(scene_pos(o.pose.pos, 0.0))
        .with_rotation(Quat::from_rotation_y(geometry::yaw_to_scene(o.pose.heading)))
        .with_scale(Vec3::new(o.length as f32, height, o.width as f32))
}

fn place_camera(
    viewer: NonSend<Viewer>,
    settings: Res<Settings>,
    mut state: ResMut<ViewState>,
    time: Res<Time>,
    mut camera: Query<(&mut Transform, &mut Projection), With<MainCamera>>,
) {
    let Ok((mut t, mut proj)) = camera.single_mut() else {
        return;
    };
    let pose = viewer.snapshot.car;
    let car_pos = pose.map_or(settings.view.center, |p| p.pos);
    let heading = pose.map_or(0.0, |p| p.heading) as f32;
    let forward = Vec3::new(heading.cos(), 0.0, -heading.sin());
    let target = scene_pos(car_pos, 0.0);
    let view = if pose.is_none() {
        CameraView::TopDown
    } else {
        state.view
    };
    match view {
        CameraView::TopDown => {
            let v = settings.view;
            let centre = scene_pos(v.center, 0.0);
            *t = Transform::from_translation(centre + Vec3::Y * 50.0).looking_at(centre, Vec3::NEG_Z);
            let wanted = ScalingMode::AutoMin {
                min_width: v.min_size.x as f32,
                min_height: v.min_size.y as f32,
            };
            let is_set = matches!(&*proj, Projection::Orthographic(o)
                if matches!(o.scaling_mode, ScalingMode::AutoMin { min_width, min_height }
                    if min_width == v.min_size.x as f32 && min_height == v.min_size.y as f32));
            if !is_set {
                *proj = Projection::Orthographic(OrthographicProjection {
                    scaling_mode: wanted,
                    near: 0.0,
                    far: 200.0,
                    ..OrthographicProjection::default_3d()
                });
            }
        }
        CameraView::Chase | CameraView::Orbit => {
            if !matches!(&*proj, Projection::Perspective(_)) {
                *proj = perspective();
            }
            let eye = if view == CameraView::Chase {
                let wanted = target - forward * 1.1 + Vec3::Y * 0.5;
                // Follow smoothly (a spring on the eye, not the car), snapping after a jump; the
                // headless modes snap always, so a screenshot does not depend on frame times.
                let eye = match state.chase_eye {
                    Some(e) if e.distance(wanted) < 3.0 && settings.opts.frames.is_none() => {
                        e.lerp(wanted, 1.0 - (-8.0 * time.delta_secs()).exp())
                    }
                    _ => wanted,
                };
                state.chase_eye = Some(eye);
                eye
            } else {
                if settings.opts.frames.is_none() {
                    state.orbit_angle += 0.25 * time.delta_secs();
                }
                let a = state.orbit_angle;
                target + Vec3::new(2.2 * a.cos(), 1.4, 2.2 * a.sin())
            };
            let look = if view == CameraView::Chase {
                target + forward * 0.8
            } else {
                target
            };
            *t = Transform::from_translation(eye).looking_at(look, Vec3::Y);
        }
    }
}

fn update_hud(
    viewer: NonSend<Viewer>,
    play: Res<Playback>,
    state: Res<ViewState>,
    settings: Res<Settings>,
    mut text: Query<&mut Text, With<HudText>>,
) {
    let Ok(mut text) = text.single_mut() else { return };
    let s = hud::text(
        &settings.opts.track_name,
        &settings.label,
        &viewer.snapshot.hud,
        SPEEDS[play.speed],
        play.paused,
        state.view.name(),
    );
    if text.0 != s {
        text.0 = s;
    }
}

fn update_inset(viewer: NonSend<Viewer>, inset: Option<Res<Inset>>, mut images: ResMut<Assets<Image>>) {
    let (Some(inset), Some(img)) = (inset, &viewer.camera_image) else {
        return;
    };
    if !viewer.is_changed() {
        return;
    }
    let Some(mut image) = images.get_mut(&inset.0) else {
        return;
    };
    let Some(data) = image.data.as_mut() else { return };
    hud::luma_to_rgba(img, data);
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
