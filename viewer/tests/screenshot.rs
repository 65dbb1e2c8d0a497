//! The viewer without a GPU: run `slipstream-viewer` under a virtual X server (Xvfb) on Mesa's
//! software Vulkan (lavapipe), take screenshots, and check that the pictures show the track —
//! road, off-road ground and line colours where the track projects in the top-down view (the
//! projection computed here from the view's definition), the car where the simulator puts it, the
//! HUD — and, in the chase view, the car ahead of the camera with sky above.
//!
//! Needs the Debian packages of `scripts/viewer-deps` (Xvfb, mesa-vulkan-drivers). The screenshots
//! stay in the target folder (their paths are printed: CI keeps them as artifacts).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use slipstream_sim::driver::PurePursuit;
use slipstream_sim::math::Vec2;
use slipstream_sim::trace::TraceWriter;
use slipstream_sim::track::{Track, ValidateOptions};
use slipstream_sim::{Action, ActionSpace, EnvConfig, Mode, RaceConfig, RewardPreset, VecEnv};

const W: u32 = 1280;
const H: u32 = 720;
/// The scene's colours (sRGB), as `slipstream_viewer::geometry::colors` defines them.
use slipstream_viewer::geometry::colors;

/// A virtual X server on a free display, stopped when dropped.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Xvfb {
        for n in 90..200 {
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
            let lock = PathBuf::from(format!("/tmp/.X{n}-lock"));
            if socket.exists() || lock.exists() {
                continue;
            }
            let mut child = Command::new("Xvfb")
                .arg(format!(":{n}"))
                .args(["-screen", "0", &format!("{W}x{H}x24"), "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("Xvfb runs (install the viewer's packages: scripts/viewer-deps)");
            let t0 = Instant::now();
            while t0.elapsed() < Duration::from_secs(10) {
                if socket.exists() {
                    return Xvfb {
                        child,
                        display: format!(":{n}"),
                    };
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break; // the display was taken meanwhile: try the next
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("no free X display for Xvfb in :90–:199");
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // SIGTERM, so that Xvfb removes its lock file and socket (SIGKILL would leave them).
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the screenshots go: the target folder's test scratch space, kept after the test.
fn artifact_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("viewer-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Run the viewer to a screenshot; its JSON report.
fn screenshot(x: &Xvfb, png: &Path, frames: u64, args: &[&str]) -> serde_json::Value {
    let _ = std::fs::remove_file(png);
    let mut child = Command::new(env!("CARGO_BIN_EXE_slipstream-viewer"))
        .args(args)
        .args([
            "--width",
            &W.to_string(),
            "--height",
            &H.to_string(),
            "--frames",
            &frames.to_string(),
        ])
        .arg("--screenshot")
        .arg(png)
        .env("DISPLAY", &x.display)
        .env("WGPU_BACKEND", "vulkan")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the viewer starts");
    let mut stderr = child.stderr.take().unwrap();
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let t0 = Instant::now();
    let limit = Duration::from_secs(300);
    let watchdog_pid = child.id();
    let watchdog = std::thread::spawn(move || {
        while t0.elapsed() < limit {
            std::thread::sleep(Duration::from_millis(200));
            if !Path::new(&format!("/proc/{watchdog_pid}")).exists() {
                return;
            }
        }
        let _ = Command::new("kill").arg(watchdog_pid.to_string()).status();
    });
    let lines: Vec<String> = stdout.lines().map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    let _ = watchdog.join();
    let err = err_thread.join().unwrap();
    assert!(
        status.success(),
        "the viewer failed ({status}):\n{}\nstderr:\n{err}",
        lines.join("\n")
    );
    let json = lines
        .iter()
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .unwrap_or_else(|| panic!("no JSON report in the output: {lines:?}\nstderr:\n{err}"));
    println!("screenshot ({:.1} s): {}", t0.elapsed().as_secs_f64(), png.display());
    json
}

struct Picture {
    w: u32,
    h: u32,
    rgb: Vec<u8>,
}

impl Picture {
    fn load(path: &Path) -> Picture {
        let dec = png::Decoder::new(BufReader::new(std::fs::File::open(path).unwrap()));
        let mut r = dec.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb, "an RGB PNG");
        buf.truncate(info.buffer_size());
        Picture {
            w: info.width,
            h: info.height,
            rgb: buf,
        }
    }

    fn at(&self, x: f64, y: f64) -> Option<[u8; 3]> {
        let (x, y) = (x.round(), y.round());
        if x < 0.0 || y < 0.0 || x >= f64::from(self.w) || y >= f64::from(self.h) {
            return None;
        }
        let i = 3 * (y as usize * self.w as usize + x as usize);
        Some([self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]])
    }
}

fn close(a: [u8; 3], b: [u8; 3], tol: i32) -> bool {
    (0..3).all(|k| (i32::from(a[k]) - i32::from(b[k])).abs() <= tol)
}

/// The top-down view as the viewer defines it (README, `geometry::TopDownView`): an orthographic
/// camera straight above the centre of the borders' bounding box, north up, showing at least the
/// box plus 0.5 m on every side. Computed here from the track, independently of the viewer.
struct Projection {
    center: Vec2,
    k: f64,
    w: f64,
    h: f64,
}

impl Projection {
    fn of(track: &Track, w: u32, h: u32) -> Projection {
        let pts: Vec<Vec2> = track
            .left_border()
            .iter()
            .chain(track.right_border())
            .copied()
            .collect();
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in &pts {
            x0 = x0.min(p.x);
            y0 = y0.min(p.y);
            x1 = x1.max(p.x);
            y1 = y1.max(p.y);
        }
        let margin = 0.5;
        let (w, h) = (f64::from(w), f64::from(h));
        let k = (w / (x1 - x0 + 2.0 * margin)).min(h / (y1 - y0 + 2.0 * margin));
        Projection {
            center: Vec2::new(0.5 * (x0 + x1), 0.5 * (y0 + y1)),
            k,
            w,
            h,
        }
    }

    fn px(&self, p: Vec2) -> (f64, f64) {
        (
            0.5 * self.w + (p.x - self.center.x) * self.k,
            0.5 * self.h - (p.y - self.center.y) * self.k,
        )
    }
}

/// The HUD's corner (top left), left out of the scene checks.
fn under_hud(x: f64, y: f64) -> bool {
    x < 620.0 && y < 150.0
}

/// The fraction of `points` (ground positions) whose pixel matches `color`; points off the picture,
/// under the HUD or within `avoid_r` metres of `avoid` (the car) are skipped.
fn share(pic: &Picture, proj: &Projection, points: &[Vec2], color: [u8; 3], tol: i32, avoid: Vec2) -> (f64, usize) {
    let mut n = 0;
    let mut hits = 0;
    for p in points {
        if p.distance(avoid) < 0.5 {
            continue;
        }
        let (x, y) = proj.px(*p);
        if under_hud(x, y) {
            continue;
        }
        if let Some(c) = pic.at(x, y) {
            n += 1;
            hits += usize::from(close(c, color, tol));
        }
    }
    (hits as f64 / n.max(1) as f64, n)
}

/// `sim drive`'s race on the library path: the pure-pursuit driver for `steps` steps (writing a
/// trace when asked); the car's origin and heading then.
fn drive(track: &Track, steps: u64, trace: Option<&Path>) -> (Vec2, f64) {
    let mut cfg = EnvConfig::new(track.clone());
    cfg.action_space = ActionSpace::continuous(-30.0, 30.0, 0.1, 4.0);
    cfg.reward = Arc::new(RewardPreset::Zero);
    cfg.mode = Mode::Race(RaceConfig::default());
    let car = cfg.car.clone();
    let mut env = VecEnv::new(cfg, 1).unwrap();
    let mut out = env.buffers(true);
    env.reset(0, &mut out).unwrap();
    let mut w = trace.map(|p| TraceWriter::create(p).unwrap());
    if let Some(w) = &mut w {
        w.record_reset(&out, 0).unwrap();
    }
    let driver = PurePursuit::default();
    for _ in 0..steps {
        let (steer, speed) = driver.act(track, &car, &out.params[0]);
        env.step(&[Action::Continuous([steer as f32, speed as f32])], &mut out)
            .unwrap();
        if let Some(w) = &mut w {
            w.record_step(&out, 0).unwrap();
        }
    }
    if let Some(w) = &mut w {
        w.flush().unwrap();
    }
    let s = env.car_states().unwrap()[0].state;
    (s.pos, s.heading)
}

/// Red car pixels within `r` pixels of (cx, cy): their count and centroid.
fn car_pixels(pic: &Picture, cx: f64, cy: f64, r: f64) -> (usize, f64, f64) {
    pixels_of(pic, colors::CAR, cx, cy, r)
}

/// Pixels of `colour` within `r` pixels of (cx, cy): their count and centroid.
fn pixels_of(pic: &Picture, colour: [u8; 3], cx: f64, cy: f64, r: f64) -> (usize, f64, f64) {
    let (mut n, mut sx, mut sy) = (0usize, 0.0, 0.0);
    let r2 = r * r;
    for y in (cy - r).max(0.0) as u32..((cy + r) as u32).min(pic.h) {
        for x in (cx - r).max(0.0) as u32..((cx + r) as u32).min(pic.w) {
            let (dx, dy) = (f64::from(x) - cx, f64::from(y) - cy);
            if dx * dx + dy * dy > r2 {
                continue;
            }
            if let Some(c) = pic.at(f64::from(x), f64::from(y))
                && close(c, colour, 30)
            {
                n += 1;
                sx += f64::from(x);
                sy += f64::from(y);
            }
        }
    }
    (n, sx / n.max(1) as f64, sy / n.max(1) as f64)
}

/// Check a top-down picture of `track` with the car at `car`: road, ground, lines, car, HUD.
fn check_top_down(pic: &Picture, track: &Track, car: Vec2, heading: f64, car_len: f64) {
    assert_eq!((pic.w, pic.h), (W, H));
    let proj = Projection::of(track, pic.w, pic.h);
    let wps = track.waypoints();
    // Road: halfway between the centre line and each border (clear of the painted lines).
    let mut road_pts = Vec::new();
    let mut ground_pts = Vec::new();
    for (i, wp) in wps.iter().enumerate() {
        let (l, r) = (track.left_border()[i], track.right_border()[i]);
        road_pts.push(wp.center.lerp(l, 0.5));
        road_pts.push(wp.center.lerp(r, 0.5));
        // Off-road: 0.3 m beyond each border, where that is off the road everywhere.
        for b in [l, r] {
            let out = b + (b - wp.center).normalize_or_zero() * 0.3;
            let pr = track.project_global(out);
            let (hl, hr) = track.half_widths(pr.seg, pr.t);
            if pr.lateral.abs() > hl.max(hr) + 0.2 {
                ground_pts.push(out);
            }
        }
    }
    let (road, n_road) = share(pic, &proj, &road_pts, colors::ROAD, 12, car);
    let (ground, n_ground) = share(pic, &proj, &ground_pts, colors::GROUND, 12, car);
    let (left, n_left) = share(pic, &proj, track.left_border(), colors::BORDER, 24, car);
    let (right, n_right) = share(pic, &proj, track.right_border(), colors::BORDER, 24, car);
    let centre: Vec<Vec2> = wps.iter().map(|w| w.center).collect();
    let (yellow, n_centre) = share(pic, &proj, &centre, colors::CENTER, 24, car);
    println!(
        "road {road:.3} of {n_road}, ground {ground:.3} of {n_ground}, borders {left:.3}/{right:.3} of \
         {n_left}/{n_right}, centre line {yellow:.3} of {n_centre}"
    );
    assert!(
        n_road > 50 && road > 0.97,
        "road colour where the road projects: {road}"
    );
    assert!(n_ground > 20 && ground > 0.97, "ground colour off the road: {ground}");
    assert!(
        left > 0.9 && right > 0.9,
        "white border lines on the borders: {left}, {right}"
    );
    assert!(yellow > 0.9, "the yellow centre line: {yellow}");
    // The car: red pixels around where the simulator has it, centred on its body (the dark unit on
    // the roof sits 0.05 m ahead of the centre, so the red's centroid is a little behind it).
    let (cx, cy) = proj.px(car);
    let k = proj.k;
    let (n, mx, my) = car_pixels(pic, cx, cy, 0.4 * k);
    let footprint_px = car_len * 0.196 * k * k;
    assert!(
        n as f64 > 0.4 * footprint_px,
        "red car pixels near ({cx:.0}, {cy:.0}): {n} (footprint {footprint_px:.0} px)"
    );
    let off = ((mx - cx).powi(2) + (my - cy).powi(2)).sqrt() / k;
    assert!(
        off < 0.06,
        "the car's red centroid is {off:.3} m from its simulated position"
    );
    // No red anywhere else: the car is drawn once, where it is.
    let (all, _, _) = car_pixels(pic, f64::from(pic.w) / 2.0, f64::from(pic.h) / 2.0, f64::from(pic.w));
    assert!(all <= n + 5, "red pixels away from the car: {} of {all}", all - n);
    // Which way it faces: the dark unit on its roof sits ahead of the body's centre.
    let (mut rn, mut rx, mut ry) = (0usize, 0.0, 0.0);
    for y in (cy - 0.3 * k) as u32..(cy + 0.3 * k) as u32 {
        for x in (cx - 0.3 * k) as u32..(cx + 0.3 * k) as u32 {
            if let Some(c) = pic.at(f64::from(x), f64::from(y))
                && close(c, colors::CAR_ROOF, 16)
            {
                rn += 1;
                rx += f64::from(x);
                ry += f64::from(y);
            }
        }
    }
    assert!(rn > 0, "the roof unit is drawn");
    let (rx, ry) = (rx / rn as f64, ry / rn as f64);
    let ahead = ((rx - cx) * heading.cos() - (ry - cy) * heading.sin()) / k;
    assert!(
        ahead > 0.025,
        "the roof unit is {ahead:.3} m ahead of the car's centre along its heading"
    );
    // The HUD: light text on a dark panel in the top-left corner.
    let (mut dark, mut light, mut total) = (0, 0, 0);
    for y in 10..110 {
        for x in 10..300 {
            let c = pic.at(f64::from(x), f64::from(y)).unwrap();
            total += 1;
            let lum = c.iter().map(|&v| u32::from(v)).sum::<u32>();
            dark += usize::from(lum < 180);
            light += usize::from(lum > 600);
        }
    }
    assert!(
        dark > total / 2 && light > total / 100,
        "a HUD panel with text: {dark} dark, {light} light of {total}"
    );
}

#[test]
fn screenshots_under_xvfb_show_the_track_and_the_car() {
    let x = Xvfb::start();
    let dir = artifact_dir();
    let track = Track::resolve("oval", &ValidateOptions::default()).unwrap();
    let car_len = slipstream_sim::CarParams::default().length;

    // 1. The pure-pursuit car live, top-down.
    let png = dir.join("top-down-live.png");
    let report = screenshot(&x, &png, 40, &["--track", "oval", "--camera", "top-down"]);
    let steps = report["sim_steps"].as_u64().expect("sim_steps");
    assert_eq!(steps, 40, "one simulation step per frame");
    let (pos, heading) = drive(&track, steps, None);
    let shown = Vec2::new(
        report["car"]["x"].as_f64().unwrap(),
        report["car"]["y"].as_f64().unwrap(),
    );
    assert!(
        shown.distance(pos) < 1e-9,
        "the viewer's car {shown:?} is the simulator's {pos:?}"
    );
    assert!(
        pos.distance(Vec2::new(track.waypoints()[0].center.x, track.waypoints()[0].center.y)) > 0.5,
        "the car moved"
    );
    check_top_down(&Picture::load(&png), &track, pos, heading, car_len);

    // 2. A trace written on `sim drive`'s path, replayed: the car at the trace's row.
    let trace = dir.join("oval-trace.csv");
    let (end, end_heading) = drive(&track, 120, Some(&trace));
    let png = dir.join("top-down-trace.png");
    let replay = [
        "--track",
        "oval",
        "--camera",
        "top-down",
        "--trace",
        trace.to_str().unwrap(),
    ];
    let report = screenshot(&x, &png, 121, &replay);
    assert_eq!(report["sim_steps"].as_u64(), Some(120), "the last row shown");
    let shown = Vec2::new(
        report["car"]["x"].as_f64().unwrap(),
        report["car"]["y"].as_f64().unwrap(),
    );
    assert!(
        shown.distance(end) < 0.03,
        "replayed car {shown:?} vs the simulator's {end:?}"
    );
    check_top_down(&Picture::load(&png), &track, end, end_heading, car_len);

    // 3. A head-to-head replay: the rival's trace (the same driver, 60 steps: it stays where its
    // race ended) drawn in the first rival colour where its trace has it, the car in red.
    let rival = dir.join("oval-rival.csv");
    let (rival_end, _) = drive(&track, 60, Some(&rival));
    let png = dir.join("top-down-rival.png");
    let report = screenshot(
        &x,
        &png,
        121,
        &[&replay[..], &["--rival", rival.to_str().unwrap()]].concat(),
    );
    let shown = Vec2::new(
        report["rivals"][0]["x"].as_f64().unwrap(),
        report["rivals"][0]["y"].as_f64().unwrap(),
    );
    assert!(
        shown.distance(rival_end) < 0.03,
        "rival {shown:?} vs the simulator's {rival_end:?}"
    );
    let pic = Picture::load(&png);
    let proj = Projection::of(&track, pic.w, pic.h);
    let blue = slipstream_sim::plot::replay::RIVAL_COLOURS[0];
    for (what, colour, at) in [
        ("car", colors::CAR, end),
        ("rival", [blue.0, blue.1, blue.2], rival_end),
    ] {
        let (cx, cy) = proj.px(at);
        let (n, mx, my) = pixels_of(&pic, colour, cx, cy, 0.4 * proj.k);
        let off = ((mx - cx).powi(2) + (my - cy).powi(2)).sqrt() / proj.k;
        assert!(
            n > 20 && off < 0.06,
            "{what}: {n} pixels, centroid {off:.3} m from its position"
        );
    }
    let (all, _, _) = pixels_of(
        &pic,
        [blue.0, blue.1, blue.2],
        f64::from(W) / 2.0,
        f64::from(H) / 2.0,
        f64::from(W),
    );
    let (near, _, _) = pixels_of(
        &pic,
        [blue.0, blue.1, blue.2],
        proj.px(rival_end).0,
        proj.px(rival_end).1,
        0.4 * proj.k,
    );
    assert!(
        all <= near + 5,
        "the rival is drawn once: {} blue pixels elsewhere",
        all - near
    );

    // 4. The chase camera: the car ahead, low in the middle; sky above the horizon.
    let png = dir.join("chase-live.png");
    screenshot(&x, &png, 30, &["--track", "oval", "--camera", "chase"]);
    let pic = Picture::load(&png);
    let (n, mx, my) = car_pixels(&pic, f64::from(W) / 2.0, f64::from(H) * 0.6, f64::from(H) * 0.4);
    assert!(n > 1500, "a large red car in front of the chase camera: {n} pixels");
    assert!(
        (mx - f64::from(W) / 2.0).abs() < 0.15 * f64::from(W),
        "the car near the centre: x {mx}"
    );
    assert!(my > f64::from(H) / 2.0, "the car below the horizon: y {my}");
    let top_right = pic.at(f64::from(W) - 20.0, 20.0).unwrap();
    assert!(close(top_right, colors::SKY, 12), "sky at the top: {top_right:?}");
}
