//! The camera views: chase, orbit, top-down.

use bevy::camera::{OrthographicProjection, PerspectiveProjection, Projection, ScalingMode};
use bevy::prelude::*;

use super::scene::scene_pos;
use super::{CameraView, Phase, Settings, Viewer};

/// The view at the start.
pub(super) struct ViewPlugin {
    pub view: CameraView,
}

impl Plugin for ViewPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(ViewState {
            view: self.view,
            orbit_angle: 0.0,
            chase_eye: None,
        })
        .add_systems(Startup, setup_camera.in_set(Phase::Camera))
        .add_systems(Update, place_camera.in_set(Phase::Camera));
    }
}

#[derive(Resource, Debug)]
pub(super) struct ViewState {
    pub(super) view: CameraView,
    pub(super) orbit_angle: f32,
    pub(super) chase_eye: Option<Vec3>,
}

#[derive(Component)]
struct MainCamera;

fn setup_camera(mut commands: Commands) {
    commands.spawn((Camera2d, MainCamera, Transform::default(), perspective()));
}

fn perspective() -> Projection {
    Projection::Perspective(PerspectiveProjection {
        fov: 60f32.to_radians(),
        near: 0.02,
        ..default()
    })
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
