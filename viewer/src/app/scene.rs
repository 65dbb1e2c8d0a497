//! The scene: ground, road and lines, the car, a head-to-head replay's other cars and the object
//! boxes, placed where the latest snapshot has them.

use bevy::asset::RenderAssetUsages;
use bevy::mesh::{Mesh, Mesh2d, PrimitiveTopology};
use bevy::prelude::*;
use bevy::sprite_render::{ColorMaterial, MeshMaterial2d};
use slipstream_sim::math::Vec2;

use super::{Phase, Settings, Viewer, linear};
use crate::geometry::{self, Triangles, colors};
use crate::source::BoxKind;

pub(super) struct ScenePlugin;

impl Plugin for ScenePlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, setup_scene.in_set(Phase::Place)).add_systems(
            Update,
            (place_car, place_rivals, place_objects).chain().in_set(Phase::Place),
        );
    }
}

#[derive(Component)]
struct CarMarker;

/// A head-to-head replay's other car (its index among the rivals).
#[derive(Component)]
struct RivalMarker(usize);

#[derive(Component)]
struct ObjectMarker(usize);

#[derive(Resource)]
struct ObjectMeshes {
    obstacle: Handle<Mesh>,
    bot: Handle<Mesh>,
    material: Handle<ColorMaterial>,
}

fn mesh_of(t: Triangles) -> Mesh {
    Mesh::new(PrimitiveTopology::TriangleList, RenderAssetUsages::RENDER_WORLD)
        .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, t.positions)
        .with_inserted_attribute(Mesh::ATTRIBUTE_COLOR, t.colors)
}

/// The ground, road and lines, the car, a replay's other cars, the boxes' meshes.
fn setup_scene(
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<ColorMaterial>>,
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
}

pub(super) fn scene_pos(p: Vec2, h: f32) -> Vec3 {
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
