//! The camera's palette: the canonical luma of every surface it draws (DeepRacer's grayscale of
//! each RGB colour), shared by the track texture, the renderer and the randomisation.

/// ITU-R BT.601 luma of an RGB tone (DeepRacer's grayscale conversion: 0.2989 R + 0.587 G + 0.114 B).
pub const fn luma(r: u8, g: u8, b: u8) -> u8 {
    let y = 2989 * r as u32 + 5870 * g as u32 + 1140 * b as u32;
    ((y + 5000) / 10000) as u8
}

/// Asphalt (64, 64, 70).
pub const TONE_ROAD: u8 = luma(64, 64, 70);
/// Off-road (110, 140, 95): a green-grey surface.
pub const TONE_OFFROAD: u8 = luma(110, 140, 95);
/// Border lines: white (240, 240, 240).
pub const TONE_LINE: u8 = luma(240, 240, 240);
/// Dashed centre line: yellow (240, 190, 40).
pub const TONE_CENTER: u8 = luma(240, 190, 40);
/// The distant wall band just above the horizon (150, 140, 130).
pub const TONE_WALL: u8 = luma(150, 140, 130);
/// Sky at the wall's top (215, 225, 240) and straight up (150, 185, 230).
pub const TONE_SKY_LOW: u8 = luma(215, 225, 240);
pub const TONE_SKY_HIGH: u8 = luma(150, 185, 230);
/// Obstacle boxes: cardboard (200, 165, 120). Bot cars: a blue shell (40, 90, 180).
pub const TONE_BOX: u8 = luma(200, 165, 120);
pub const TONE_BOT: u8 = luma(40, 90, 180);
/// Every canonical tone (the randomisation's anchors).
pub const TONES: [u8; 9] = [
    TONE_ROAD,
    TONE_OFFROAD,
    TONE_LINE,
    TONE_CENTER,
    TONE_WALL,
    TONE_SKY_LOW,
    TONE_SKY_HIGH,
    TONE_BOX,
    TONE_BOT,
];
