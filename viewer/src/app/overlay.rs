//! The HUD's text and the model's camera inset.

use bevy::asset::RenderAssetUsages;
use bevy::image::Image;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};

use super::controls::Playback;
use super::view::ViewState;
use super::{Phase, SPEEDS, Settings, Viewer};
use crate::hud;

pub(super) struct OverlayPlugin;

impl Plugin for OverlayPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, setup_hud.in_set(Phase::Overlay))
            .add_systems(Update, (update_hud, update_inset).chain().in_set(Phase::Overlay));
    }
}

#[derive(Component)]
struct HudText;

#[derive(Resource)]
struct Inset(Handle<Image>);

/// The HUD's text (top left) and the model's camera inset (bottom right).
fn setup_hud(mut commands: Commands, mut images: ResMut<Assets<Image>>, viewer: NonSend<Viewer>) {
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
