//! The HUD's text and the camera inset's pixels (pure functions, tested without a renderer).

use crate::source::{CameraImage, HudStats};

fn seconds(t: Option<f64>) -> String {
    t.map_or_else(|| "-".to_string(), |t| format!("{t:.2} s"))
}

/// The HUD (ASCII only: bevy's default font has no other glyphs): what is driving where, the lap, times, speed, progress and off-tracks, and the
/// playback state.
pub fn text(track: &str, driver: &str, s: &HudStats, speed_factor: f64, paused: bool, camera: &str) -> String {
    let state = if s.race_over {
        if s.replay { "end of trace" } else { "race over" }.to_string()
    } else if paused {
        "paused".to_string()
    } else {
        format!("x{speed_factor}")
    };
    format!(
        "{track} | {driver}\n\
         Lap {lap}{total}   lap time {lap_time}   best lap {best}\n\
         Speed {speed:.2} m/s   progress {progress:.1} %   off-tracks {off}\n\
         {status} | sim {sim:.1} s | {state} | camera {camera}\n\
         C/1/2/3 camera  Space pause  N step  +/- speed  Esc quit",
        lap = s.lap,
        total = if s.laps_total > 0 {
            format!("/{}", s.laps_total)
        } else {
            String::new()
        },
        lap_time = seconds(Some(s.lap_time_s)),
        best = seconds(s.best_lap_s),
        speed = s.speed,
        progress = s.progress,
        off = s.off_track,
        status = s.status,
        sim = s.sim_time_s,
    )
}

/// The camera image as RGBA (grey) pixels, the channels (a stereo pair's eyes) side by side:
/// `out` holds `channels × width` by `height` RGBA pixels.
pub fn luma_to_rgba(img: &CameraImage, out: &mut [u8]) {
    let (w, h, c) = (img.width, img.height, img.channels);
    let row = c * w;
    for ch in 0..c {
        for y in 0..h {
            for x in 0..w {
                let v = img.pixels[ch * w * h + y * w + x];
                let o = 4 * (y * row + ch * w + x);
                if o + 4 <= out.len() {
                    out[o..o + 4].copy_from_slice(&[v, v, v, 255]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hud_shows_every_number() {
        let s = HudStats {
            lap: 2,
            laps_total: 3,
            lap_time_s: 4.5,
            best_lap_s: Some(12.25),
            speed: 2.5,
            progress: 40.0,
            off_track: 1,
            status: slipstream_sim::episode::EpisodeStatus::InProgress,
            sim_time_s: 20.0,
            race_over: false,
            replay: false,
        };
        let t = text("oval", "model", &s, 2.0, false, "chase");
        for part in [
            "Lap 2/3",
            "lap time 4.50 s",
            "best lap 12.25 s",
            "Speed 2.50 m/s",
            "progress 40.0 %",
            "off-tracks 1",
            "x2",
            "camera chase",
        ] {
            assert!(t.contains(part), "{part:?} missing from {t}");
        }
        let paused = text(
            "oval",
            "model",
            &HudStats {
                best_lap_s: None,
                ..s.clone()
            },
            1.0,
            true,
            "orbit",
        );
        assert!(paused.contains("paused") && paused.contains("best lap -"), "{paused}");
        let replay = HudStats {
            laps_total: 0,
            race_over: true,
            replay: true,
            ..s
        };
        let t = text("oval", "trace replay", &replay, 1.0, false, "top-down");
        assert!(t.contains("Lap 2 ") && t.contains("end of trace"), "{t}");
    }

    #[test]
    fn stereo_images_sit_side_by_side() {
        // 2 channels of 2×1: left eye [10, 20], right eye [30, 40].
        let img = CameraImage {
            channels: 2,
            width: 2,
            height: 1,
            pixels: vec![10, 20, 30, 40],
        };
        let mut out = vec![0u8; 4 * 4];
        luma_to_rgba(&img, &mut out);
        let grey: Vec<u8> = out.chunks(4).map(|p| p[0]).collect();
        assert_eq!(grey, [10, 20, 30, 40]);
        assert!(out.chunks(4).all(|p| p[0] == p[1] && p[1] == p[2] && p[3] == 255));
    }
}
