//! The camera's geometry, filtering, stereo and randomisation, checked on pictures we can reason
//! about (drag_strip: a straight 0.8 m wide along +x, centred on y = 0).

mod common;

use std::sync::Arc;

use slipstream_sim::camera::render::BOX_HEIGHT;
use slipstream_sim::camera::tones::{TONE_BOX, TONE_LINE};
use slipstream_sim::camera::{Camera, CameraConfig, CameraPose, Randomization, RandomizeConfig, SceneObject};
use slipstream_sim::math::{Obb, Vec2};
use slipstream_sim::rng::Rng;
use slipstream_sim::track::Track;

const W: usize = 160;
const H: usize = 120;

fn camera(track: &Arc<Track>, stereo: bool) -> Camera {
    Camera::new(CameraConfig::default(), stereo, std::slice::from_ref(track)).unwrap()
}

fn straight() -> Arc<Track> {
    Arc::new(common::builtin("drag_strip"))
}

fn render(cam: &Camera, pose: CameraPose, objects: &[SceneObject]) -> Vec<u8> {
    let mut img = vec![0u8; cam.image_len()];
    cam.render(
        0,
        &pose,
        objects,
        &Randomization::IDENTITY,
        0,
        &mut cam.scratch(),
        &mut img,
    );
    img
}

fn a_box(x: f64, y: f64) -> SceneObject {
    SceneObject {
        obb: Obb::new(Vec2::new(x, y), 0.0, 0.3, 0.3),
        height: BOX_HEIGHT,
        tone: TONE_BOX,
    }
}

/// Sub-pixel column of the bright border line in row `r`, searched in columns `cols`.
fn line_col(img: &[u8], r: usize, cols: std::ops::Range<usize>) -> Option<f64> {
    let (mut sum, mut wsum) = (0.0, 0.0);
    for c in cols {
        let v = f64::from(img[r * W + c]);
        if v > 150.0 {
            sum += c as f64 * (v - 150.0);
            wsum += v - 150.0;
        }
    }
    (wsum > 0.0).then(|| sum / wsum + 0.5)
}

/// Where the left and right border lines (fitted through rows `r0` and `r1`) meet: (column, row).
fn vanishing_point(img: &[u8], r0: usize, r1: usize) -> (f64, f64) {
    let half = W / 2;
    let l0 = line_col(img, r0, 0..half - 8).unwrap();
    let l1 = line_col(img, r1, 0..half - 8).unwrap();
    let q0 = line_col(img, r0, half + 8..W).unwrap();
    let q1 = line_col(img, r1, half + 8..W).unwrap();
    let (y0, y1) = (r0 as f64 + 0.5, r1 as f64 + 0.5);
    // x = l0 + (y − y0)·sl for each line; solve for the crossing.
    let sl = (l1 - l0) / (y1 - y0);
    let sq = (q1 - q0) / (y1 - y0);
    let y = y0 + (q0 - l0) / (sl - sq);
    (l0 + (y - y0) * sl, y)
}

#[test]
fn centred_on_a_straight_the_image_is_symmetric_and_the_borders_meet_at_the_horizon() {
    let t = straight();
    let cam = camera(&t, false);
    let img = render(&cam, CameraPose::new(Vec2::new(2.0, 0.0), 0.0), &[]);
    let mut diff = 0u64;
    for r in 0..H {
        for c in 0..W / 2 {
            diff += u64::from(img[r * W + c].abs_diff(img[r * W + W - 1 - c]));
        }
    }
    let mae = diff as f64 / (W * H / 2) as f64;
    assert!(mae < 1.0, "left-right asymmetry {mae}");
    // Horizon row predicted by the pitch: cy − f·tan(15°).
    let f = cam.config.focal_px();
    let horizon = 0.5 * H as f64 - f * 15f64.to_radians().tan();
    let (vx, vy) = vanishing_point(&img, 38, 50);
    assert!(
        (vy - horizon).abs() < 1.5,
        "borders meet at row {vy}, horizon {horizon}"
    );
    assert!((vx - 0.5 * W as f64).abs() < 1.0, "vanishing point column {vx}");
    // Sky above, road below.
    assert!(img[5 * W + 80] > 150 && img[110 * W + 40] < 80);
}

#[test]
fn moving_right_moves_the_lines_left_and_turning_moves_the_vanishing_point() {
    let t = straight();
    let cam = camera(&t, false);
    let centre = render(&cam, CameraPose::new(Vec2::new(2.0, 0.0), 0.0), &[]);
    let right = render(&cam, CameraPose::new(Vec2::new(2.0, -0.1), 0.0), &[]);
    for r in [40, 48] {
        let a = line_col(&centre, r, 0..72).unwrap();
        let b = line_col(&right, r, 0..72).unwrap();
        assert!(b < a - 1.0, "row {r}: left border at {a} → {b} after moving right");
        let a = line_col(&centre, r, 88..W).unwrap();
        let b = line_col(&right, r, 88..W).unwrap();
        assert!(b < a - 1.0, "row {r}: right border at {a} → {b} after moving right");
    }
    // Turned 2° left, the road's vanishing point moves right by about f·tan(2°) / cos(pitch).
    let turned = render(&cam, CameraPose::new(Vec2::new(2.0, 0.0), 2f64.to_radians()), &[]);
    let (x0, _) = vanishing_point(&centre, 38, 46);
    let (x1, _) = vanishing_point(&turned, 38, 46);
    let expect = cam.config.focal_px() * 2f64.to_radians().tan() / 15f64.to_radians().cos();
    assert!(
        (x1 - x0 - expect).abs() < 1.5,
        "vanishing point moved {} px, expected {expect}",
        x1 - x0
    );
}

fn silhouette(with: &[u8], without: &[u8]) -> Vec<usize> {
    (0..with.len()).filter(|&i| with[i].abs_diff(without[i]) > 12).collect()
}

#[test]
fn a_box_hides_the_line_behind_it_and_grows_as_the_car_approaches() {
    let t = straight();
    let cam = camera(&t, false);
    let pose = CameraPose::new(Vec2::new(2.0, 0.0), 0.0);
    let plain = render(&cam, pose, &[]);
    // A box standing on the left border line, 1.5 m and then 0.8 m ahead of the lens.
    let lens_x = 2.0 + cam.config.mount_x;
    let far = render(&cam, pose, &[a_box(lens_x + 1.5, 0.4)]);
    let near = render(&cam, pose, &[a_box(lens_x + 0.8, 0.4)]);
    let s_far = silhouette(&far, &plain);
    let s_near = silhouette(&near, &plain);
    assert!(s_far.len() > 50, "the box is seen ({} px)", s_far.len());
    assert!(
        s_near.len() > 2 * s_far.len(),
        "{} px near vs {} px far",
        s_near.len(),
        s_far.len()
    );
    // Border-line pixels of the plain image inside the box's silhouette are hidden, and they are
    // the line behind the box: above the box's foot in the image.
    let hidden: Vec<usize> = s_far
        .iter()
        .copied()
        .filter(|&i| plain[i] > 140 && plain[i] <= TONE_LINE)
        .collect();
    assert!(
        hidden.len() >= 5,
        "{} line pixels hidden of {}",
        hidden.len(),
        s_far.len()
    );
    let foot = s_far.iter().map(|i| i / W).max().unwrap();
    assert!(
        hidden.iter().all(|&i| i / W <= foot),
        "hidden pixels lie behind the box's foot"
    );
}

#[test]
fn stereo_disparity_has_the_right_sign() {
    let t = straight();
    let cam = camera(&t, true);
    assert_eq!(cam.image_len(), 2 * W * H);
    let pose = CameraPose::new(Vec2::new(2.0, 0.0), 0.0);
    let plain = render(&cam, pose, &[]);
    let lens_x = 2.0 + cam.config.mount_x;
    let with = render(&cam, pose, &[a_box(lens_x + 0.6, 0.0)]);
    let centroid = |ch: usize| {
        let s = silhouette(
            &with[ch * W * H..(ch + 1) * W * H],
            &plain[ch * W * H..(ch + 1) * W * H],
        );
        s.iter().map(|i| (i % W) as f64).sum::<f64>() / s.len() as f64
    };
    let (left, right) = (centroid(0), centroid(1));
    // The left lens sees the box further right; disparity = f·baseline / depth.
    let d = left - right;
    let f = cam.config.focal_px();
    let expect = f * 0.06 / 0.6;
    assert!(
        d > 0.5 * expect && d < 1.5 * expect,
        "disparity {d}, about {expect} expected"
    );
}

#[test]
fn the_same_pose_gives_the_same_bytes_and_randomisation_only_when_enabled() {
    let t = Arc::new(common::builtin("hairpins"));
    let cam = camera(&t, false);
    let (p, seg, _) = t.point_at_s(7.0, 0);
    let pose = CameraPose::new(p, t.heading_at(seg) + 0.1);
    let objs = [a_box(p.x + 0.7, p.y)];
    let a = render(&cam, pose, &objs);
    assert_eq!(a, render(&cam, pose, &objs));
    assert_eq!(a, render(&camera(&t, false), pose, &objs));
    let off = RandomizeConfig::default().draw(&mut Rng::new(5), &slipstream_sim::camera::tones::TONES);
    let mut b = vec![0u8; cam.image_len()];
    cam.render(0, &pose, &objs, &off, 3, &mut cam.scratch(), &mut b);
    assert_eq!(a, b, "randomisation off changes nothing");
    let on = RandomizeConfig {
        enabled: true,
        ..Default::default()
    };
    let r1 = on.draw(&mut Rng::new(5), &slipstream_sim::camera::tones::TONES);
    cam.render(0, &pose, &objs, &r1, 3, &mut cam.scratch(), &mut b);
    assert_ne!(a, b, "randomisation on changes the image");
    let mut c = vec![0u8; cam.image_len()];
    cam.render(0, &pose, &objs, &r1, 3, &mut cam.scratch(), &mut c);
    assert_eq!(b, c, "the same draw and frame give the same bytes");
}

/// Every field's check is a unit test of `CameraConfig::validate`; here, that building a camera
/// applies it (an error naming the field, not a panic).
#[test]
fn a_camera_with_bad_settings_is_an_error_naming_the_field() {
    let t = straight();
    let cfg = CameraConfig {
        fov_deg: 190.0,
        ..Default::default()
    };
    let e = Camera::new(cfg, false, std::slice::from_ref(&t))
        .unwrap_err()
        .to_string();
    assert!(e.contains("camera.fov_deg"), "{e}");
}

/// Mean absolute error (grey levels) against a 4 × 4-supersampled reference of the exact scene.
fn mae_vs_reference(t: &Arc<Track>, pose: CameraPose, objects: &[SceneObject]) -> f64 {
    let cam = camera(t, false);
    let fast = render(&cam, pose, objects);
    let mut reference = vec![0u8; cam.image_len()];
    cam.render_reference(t, &pose, objects, 4, &mut reference);
    let sum: u64 = fast
        .iter()
        .zip(&reference)
        .map(|(a, b)| u64::from(a.abs_diff(*b)))
        .sum();
    sum as f64 / fast.len() as f64
}

#[test]
fn frames_match_a_supersampled_reference() {
    let t = Arc::new(common::builtin("hairpins"));
    let mut worst: f64 = 0.0;
    for (s, dh, boxes) in [
        (3.0, 0.0, false),
        (12.0, 0.15, true),
        (20.0, -0.2, false),
        (30.0, 0.05, true),
    ] {
        let (p, seg, _) = t.point_at_s(s, 0);
        let h = t.heading_at(seg);
        let pose = CameraPose::new(p, h + dh);
        let f = Vec2::from_angle(h);
        let objs: Vec<SceneObject> = if boxes {
            vec![
                a_box(p.x + f.x * 1.2, p.y + f.y * 1.2),
                a_box(p.x + f.x * 2.5 - f.y * 0.2, p.y + f.y * 2.5 + f.x * 0.2),
            ]
        } else {
            vec![]
        };
        let mae = mae_vs_reference(&t, pose, &objs);
        println!("s = {s}: MAE {mae:.2} grey levels");
        worst = worst.max(mae);
    }
    assert!(worst < 3.0, "worst MAE {worst}");
}

mod env {
    use slipstream_sim::camera::{Camera, CameraConfig, CameraPose, Randomization};
    use slipstream_sim::{Action, EnvConfig, EpisodeConfig, Mode, ObsConfig, VecEnv};

    use super::common;

    #[test]
    fn the_environment_renders_each_cars_pose_and_the_last_image_of_truncated_episodes() {
        let mut cfg = EnvConfig::new(common::builtin("oval"));
        cfg.obs = ObsConfig::Camera(CameraConfig::default());
        cfg.mode = Mode::Train(EpisodeConfig {
            max_steps: 7,
            ..Default::default()
        });
        assert_eq!(cfg.obs.sensor_names(), ["FRONT_FACING_CAMERA"]);
        assert_eq!(cfg.obs.image_shape(), Some([1, 120, 160]));
        let tracks = cfg.tracks.clone();
        // The same cars without a time limit: at the step a truncated episode ends, their pose is the
        // pose the episode ended in.
        let mut long_cfg = cfg.clone();
        long_cfg.mode = Mode::Train(EpisodeConfig {
            max_steps: 1000,
            ..Default::default()
        });
        let mut long = VecEnv::new(long_cfg, 3).unwrap();
        let mut long_out = long.buffers(false);
        long.reset(1, &mut long_out).unwrap();
        let mut env = VecEnv::new(cfg, 3).unwrap();
        let mut out = env.buffers(false);
        assert_eq!(out.image.len(), 3 * 160 * 120);
        env.reset(1, &mut out).unwrap();
        let cam = Camera::new(CameraConfig::default(), false, &tracks).unwrap();
        let mut img = vec![0u8; cam.image_len()];
        let mut truncated_seen = false;
        for _ in 0..10 {
            env.step(&[Action::Discrete(4); 3], &mut out).unwrap();
            long.step(&[Action::Discrete(4); 3], &mut long_out).unwrap();
            let after = env.car_states().unwrap();
            let last_poses = long.car_states().unwrap();
            for i in 0..3 {
                // The image is what the camera sees at the car's pose after the step.
                render_at(&cam, &after[i].state, &mut img);
                assert_eq!(out.image_of(i), &img[..], "car {i}");
                if out.truncated[i] != 0 {
                    truncated_seen = true;
                    // The last image is at the pose the episode ended in, not the new start.
                    let final_image = &out.final_image[i * img.len()..(i + 1) * img.len()];
                    assert_ne!(final_image, &img[..]);
                    let mut last = vec![0u8; cam.image_len()];
                    render_at(&cam, &last_poses[i].state, &mut last);
                    assert_eq!(
                        final_image,
                        &last[..],
                        "car {i}: the image at the pose its episode ended in"
                    );
                }
            }
        }
        assert!(truncated_seen, "episodes of 7 steps are cut off within 10 steps");
    }

    /// The frame a car's camera sees at `state` on track 0, no objects, no randomisation.
    fn render_at(cam: &Camera, state: &slipstream_sim::car::CarState, out: &mut [u8]) {
        let pose = CameraPose {
            pos: state.pos,
            forward: state.forward(),
        };
        cam.render(0, &pose, &[], &Randomization::IDENTITY, 0, &mut cam.scratch(), out);
    }

    #[test]
    fn stereo_is_two_channels_named_stereo_cameras_and_bad_settings_fail_the_environment() {
        let mut cfg = EnvConfig::new(common::builtin("oval"));
        cfg.obs = ObsConfig::StereoCamera(CameraConfig::default());
        assert_eq!(cfg.obs.sensor_names(), ["STEREO_CAMERAS"]);
        assert_eq!(cfg.obs.image_len(), 2 * 160 * 120);
        let json = serde_json::to_string(&cfg.obs).unwrap();
        assert!(json.contains("\"type\":\"stereo_camera\""), "{json}");
        cfg.obs = ObsConfig::Camera(CameraConfig {
            fov_deg: 0.0,
            ..Default::default()
        });
        let e = VecEnv::new(cfg, 1).unwrap_err().to_string();
        assert!(e.contains("camera.fov_deg"), "{e}");
    }
}
