//! DeepRacer's `LIDAR` and `SECTOR_LIDAR` presets through the public `VecEnv` API.

mod common;

use slipstream_sim::objects::ObstacleConfig;
use slipstream_sim::sensors::deepracer_lidar::{SAMPLES, SECTORS};
use slipstream_sim::sensors::{CameraLidarConfig, DeepRacerLidarConfig, DeepRacerLidarKind};
use slipstream_sim::{EnvConfig, ObsConfig, Scenario, VecEnv};

/// The first observation of one car on built-in `track` with a box on the centre line 0.45 m behind
/// the start, under `obs`.
fn first_obs(track: &str, obs: ObsConfig) -> Vec<f32> {
    first_obs_and_image(track, obs).0
}

/// The first observation and camera image (empty without a camera), as [`first_obs`].
fn first_obs_and_image(track: &str, obs: ObsConfig) -> (Vec<f32>, Vec<u8>) {
    let track = common::builtin(track);
    let frac = (track.length() - 0.45) / track.length();
    let mut cfg = EnvConfig::new(track);
    cfg.obs = obs;
    cfg.scenario = Scenario::ObjectAvoidance(ObstacleConfig {
        count: 1,
        positions: vec![[frac, 0.0]],
        ..Default::default()
    });
    let mut env = VecEnv::new(cfg, 1).unwrap();
    let mut out = env.buffers(true);
    env.reset(0, &mut out).unwrap();
    (out.obs.clone(), out.image.clone())
}

#[test]
fn lidar_preset_reads_64_clipped_ranges_then_speed_and_steering() {
    let obs = ObsConfig::DeepracerLidar(DeepRacerLidarConfig::default());
    assert_eq!(
        (obs.dim(), obs.sensor_names(), obs.kind()),
        (66, vec!["LIDAR"], "deepracer_lidar")
    );
    assert_eq!(obs.feature_names()[63], "lidar_63");
    let v = first_obs("oval", obs);
    assert_eq!(v.len(), SAMPLES + 2);
    let rear = (SAMPLES - 1) / 2;
    assert!(v[rear] > 0.15 && v[rear] < 0.5, "the box behind: {}", v[rear]);
    assert_eq!(v[0], 1.0, "nothing ahead-left, and the painted borders are invisible");
    assert_eq!(v[16], 1.0, "nothing to the left");
    assert!(v[..SAMPLES].iter().all(|&r| (0.15..=1.0).contains(&r)));
    assert_eq!(&v[SAMPLES..], &[0.0, 0.0], "at rest, wheels straight");
}

#[test]
fn sector_lidar_preset_reads_8_binary_sectors() {
    let obs = ObsConfig::SectorLidar(DeepRacerLidarConfig::default());
    assert_eq!(
        (obs.dim(), obs.sensor_names(), obs.kind()),
        (10, vec!["SECTOR_LIDAR"], "sector_lidar")
    );
    let v = first_obs("oval", obs);
    assert_eq!(
        &v[..SECTORS],
        &[0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0],
        "the two rear sectors"
    );
    // With the borders as walls (about 0.3 m away on harbour's 0.6 m wide road), the side sectors fill.
    let v = first_obs(
        "harbour",
        ObsConfig::SectorLidar(DeepRacerLidarConfig { borders: true }),
    );
    assert!(v[1] == 1.0 && v[6] == 1.0, "{v:?}");
}

#[test]
fn presets_parse_by_name_and_slipstreams_lidar_keeps_its_own_name() {
    let obs: ObsConfig = serde_json::from_str(r#"{"type": "sector_lidar"}"#).unwrap();
    assert_eq!(obs, ObsConfig::SectorLidar(DeepRacerLidarConfig { borders: false }));
    let obs: ObsConfig = serde_json::from_str(r#"{"type": "deepracer_lidar", "borders": true}"#).unwrap();
    assert_eq!(obs, ObsConfig::DeepracerLidar(DeepRacerLidarConfig { borders: true }));
    let e = serde_json::from_str::<ObsConfig>(r#"{"type": "sector_lidar", "rays": 8}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("rays"), "{e}");
    let ours = ObsConfig::Lidar(Default::default());
    assert_eq!(ours.sensor_names(), ["SLIPSTREAM_LIDAR"]);
}

#[test]
fn a_camera_with_a_lidar_sees_what_each_sees_alone() {
    let (_, camera_image) = first_obs_and_image("oval", ObsConfig::Camera(Default::default()));
    for (kind, alone) in [
        (DeepRacerLidarKind::Lidar, ObsConfig::DeepracerLidar(Default::default())),
        (
            DeepRacerLidarKind::SectorLidar,
            ObsConfig::SectorLidar(Default::default()),
        ),
    ] {
        let both = ObsConfig::CameraLidar(CameraLidarConfig {
            lidar: kind,
            ..Default::default()
        });
        assert_eq!(both.sensor_names(), ["FRONT_FACING_CAMERA", kind.sensor_name()]);
        assert_eq!(both.image_shape(), Some([1, 120, 160]));
        assert_eq!(
            (both.dim(), both.lidar_readings()),
            (alone.dim(), Some(kind.readings()))
        );
        assert_eq!(both.feature_names(), alone.feature_names());
        let (v, image) = first_obs_and_image("oval", both);
        assert_eq!(
            v,
            first_obs("oval", alone),
            "the lidar's readings, then speed and steering"
        );
        assert!(
            v[..kind.readings()].iter().any(|&r| r != v[0]),
            "the box is seen: {v:?}"
        );
        assert_eq!(image, camera_image, "the camera's image");
    }
    let stereo = ObsConfig::CameraLidar(CameraLidarConfig {
        stereo: true,
        lidar: DeepRacerLidarKind::SectorLidar,
        ..Default::default()
    });
    assert_eq!(stereo.sensor_names(), ["STEREO_CAMERAS", "SECTOR_LIDAR"]);
    assert_eq!(stereo.kind(), "stereo_camera+sector_lidar");
    assert!(slipstream_sim::sensors::SENSOR_KINDS.contains(&stereo.kind()));
    assert_eq!(stereo.image_shape(), Some([2, 120, 160]));
}

#[test]
fn a_camera_with_a_lidar_parses_from_a_config() {
    let obs: ObsConfig =
        serde_json::from_str(r#"{"type": "camera_lidar", "lidar": "sector_lidar", "stereo": true}"#).unwrap();
    assert_eq!(obs.sensor_names(), ["STEREO_CAMERAS", "SECTOR_LIDAR"]);
    let obs: ObsConfig = serde_json::from_str(r#"{"type": "camera_lidar"}"#).unwrap();
    assert_eq!(
        obs.sensor_names(),
        ["FRONT_FACING_CAMERA", "LIDAR"],
        "DeepRacer's LIDAR by default"
    );
    let e = serde_json::from_str::<ObsConfig>(r#"{"type": "camera_lidar", "lidar": "radar"}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("radar") && e.contains("sector_lidar"), "{e}");
}
