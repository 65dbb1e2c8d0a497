//! DeepRacer's front-facing camera, mono and stereo: a pure-CPU renderer with no engine in it.
//!
//! * [`config`]: [`CameraConfig`] (image size, lens, mount, stereo baseline; DeepRacer's simulator
//!   values as the default, the physical car's 120° lens as a preset) and its validation.
//! * [`tones`]: the palette, each surface's canonical luma.
//! * [`texture`]: each track pre-rasterised once into a mip-mapped luma texture.
//! * [`render`]: the per-row ground table, ground sampling, objects as shaded boxes, and a slow
//!   supersampled reference renderer for tests.
//! * [`randomize`]: seeded per-episode domain randomisation (off by default).
//!
//! Images are 8-bit luma (DeepRacer's grayscale of its RGB tones), row-major, channels first (a
//! stereo image is the left lens's picture then the right one's).

pub mod config;
pub mod randomize;
pub mod render;
pub mod texture;
pub mod tones;

pub use config::CameraConfig;
pub use randomize::{Randomization, RandomizeConfig};
pub use render::{Camera, CameraPose, RenderScratch, SceneObject};

use crate::math::Obb;

/// How the camera draws an obstacle box or a bot car with footprint `obb`.
pub fn scene_object(obb: Obb, is_bot: bool) -> SceneObject {
    if is_bot {
        SceneObject {
            obb,
            height: render::BOT_HEIGHT,
            tone: tones::TONE_BOT,
        }
    } else {
        SceneObject {
            obb,
            height: render::BOX_HEIGHT,
            tone: tones::TONE_BOX,
        }
    }
}
