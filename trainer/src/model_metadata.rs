//! A student's DeepRacer `model_metadata.json` as training settings: its action space, sensors and
//! network mapped onto a [`TrainConfig`], and what Slipstream cannot train refused in plain words
//! (`trainer train --model-metadata FILE`, or `--config FILE.json`).
//!
//! DeepRacer's fields: `action_space` (a list of `{steering_angle, speed}` or
//! `{steering_angle: {low, high}, speed: {low, high}}`), `action_space_type`, `sensor` (a list of
//! `FRONT_FACING_CAMERA`, `STEREO_CAMERAS`, `LIDAR`, `SECTOR_LIDAR`), `neural_network`
//! (`DEEP_CONVOLUTIONAL_NETWORK_SHALLOW`, `DEEP_CONVOLUTIONAL_NETWORK`), `training_algorithm`
//! (`clipped_ppo`, `sac`) and `version`; parsed by [`slipstream_sim::ModelMetadata`].

use slipstream_sim::ModelMetadata;
use slipstream_sim::camera::CameraConfig;
use slipstream_sim::sensors::{CameraLidarConfig, DeepRacerLidarKind, ObsConfig};

use crate::config::{ActionSpaceConfig, TrainConfig};
use crate::network::NetworkSpec;

/// Set `cfg`'s action space, sensor and network from `m`. `Err` names the field and says what
/// Slipstream cannot do.
pub fn apply(cfg: &mut TrainConfig, m: &ModelMetadata) -> Result<(), String> {
    match m.training_algorithm.as_str() {
        "clipped_ppo" => {}
        "sac" => {
            return Err(
                "training_algorithm: SAC is not supported yet; Slipstream trains with PPO (write \"clipped_ppo\")"
                    .into(),
            );
        }
        other => {
            return Err(format!(
                "training_algorithm: {other:?} is not one of DeepRacer's (clipped_ppo, sac)"
            ));
        }
    }
    cfg.sensor = sensor(&m.sensor)?;
    let camera = cfg.sensor.image_shape().is_some();
    cfg.network = match m.neural_network.as_str() {
        "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW" if camera => NetworkSpec::DeepConvolutionalNetworkShallow {},
        "DEEP_CONVOLUTIONAL_NETWORK" if camera => NetworkSpec::DeepConvolutionalNetwork {},
        n @ ("DEEP_CONVOLUTIONAL_NETWORK_SHALLOW" | "DEEP_CONVOLUTIONAL_NETWORK") => {
            return Err(format!(
                "neural_network: {n} reads camera images, and sensor {:?} has no camera",
                m.sensor
            ));
        }
        other => {
            return Err(format!(
                "neural_network: {other:?} is not one of DeepRacer's networks \
                 (DEEP_CONVOLUTIONAL_NETWORK_SHALLOW, DEEP_CONVOLUTIONAL_NETWORK)"
            ));
        }
    };
    cfg.action_space = ActionSpaceConfig::from_space(&m.action_space);
    Ok(())
}

/// DeepRacer's sensor list as one of Slipstream's sensors.
fn sensor(names: &[String]) -> Result<ObsConfig, String> {
    let known = ["FRONT_FACING_CAMERA", "STEREO_CAMERAS", "LIDAR", "SECTOR_LIDAR"];
    if let Some(n) = names.iter().find(|n| !known.contains(&n.as_str())) {
        return Err(format!(
            "sensor: {n:?} is not one of DeepRacer's sensors ({})",
            known.join(", ")
        ));
    }
    let has = |n: &str| names.iter().any(|s| s == n);
    if has("FRONT_FACING_CAMERA") && has("STEREO_CAMERAS") || has("LIDAR") && has("SECTOR_LIDAR") {
        return Err(format!("sensor: {names:?}: give one camera and at most one lidar"));
    }
    let stereo = has("STEREO_CAMERAS");
    let camera = stereo || has("FRONT_FACING_CAMERA");
    let lidar = if has("LIDAR") {
        Some(DeepRacerLidarKind::Lidar)
    } else if has("SECTOR_LIDAR") {
        Some(DeepRacerLidarKind::SectorLidar)
    } else {
        None
    };
    Ok(match (camera, lidar) {
        (true, Some(lidar)) => ObsConfig::CameraLidar(CameraLidarConfig {
            stereo,
            lidar,
            ..Default::default()
        }),
        (false, Some(DeepRacerLidarKind::Lidar)) => ObsConfig::DeepracerLidar(Default::default()),
        (false, Some(DeepRacerLidarKind::SectorLidar)) => ObsConfig::SectorLidar(Default::default()),
        (true, None) if stereo => ObsConfig::StereoCamera(CameraConfig::default()),
        // DeepRacer's default (and what an empty list means there): the front-facing camera.
        _ => ObsConfig::Camera(CameraConfig::default()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(sensor: &str, network: &str, algorithm: &str) -> ModelMetadata {
        ModelMetadata::parse(&format!(
            r#"{{"action_space": [{{"steering_angle": -30, "speed": 0.8, "index": 0}}, {{"steering_angle": 0, "speed": 1.6, "index": 1}}],
                "sensor": {sensor}, "neural_network": "{network}", "training_algorithm": "{algorithm}",
                "action_space_type": "discrete", "version": "5"}}"#
        ))
        .unwrap()
    }

    fn applied(m: &ModelMetadata) -> Result<TrainConfig, String> {
        let mut cfg = TrainConfig::default();
        apply(&mut cfg, m)?;
        cfg.validate()?;
        Ok(cfg)
    }

    #[test]
    fn a_camera_model_maps_onto_the_trainers_settings() {
        let cfg = applied(&metadata(
            r#"["FRONT_FACING_CAMERA"]"#,
            "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
            "clipped_ppo",
        ))
        .unwrap();
        assert!(matches!(cfg.sensor, ObsConfig::Camera(_)));
        assert_eq!(cfg.network, NetworkSpec::DeepConvolutionalNetworkShallow {});
        match cfg.action_space {
            ActionSpaceConfig::Discrete { actions } => {
                assert_eq!(actions.len(), 2);
                assert_eq!((actions[1].steering_angle, actions[1].speed), (0.0, 1.6));
            }
            other => panic!("{other:?}"),
        }
        let cfg = applied(&metadata(
            r#"["STEREO_CAMERAS"]"#,
            "DEEP_CONVOLUTIONAL_NETWORK",
            "clipped_ppo",
        ))
        .unwrap();
        assert!(matches!(cfg.sensor, ObsConfig::StereoCamera(_)));
        assert_eq!(cfg.network, NetworkSpec::DeepConvolutionalNetwork {});
    }

    #[test]
    fn a_camera_with_a_lidar_maps_onto_deepracers_two_sensor_setups() {
        for (sensors, kind) in [
            (r#"["FRONT_FACING_CAMERA", "LIDAR"]"#, "camera+lidar"),
            (r#"["SECTOR_LIDAR", "FRONT_FACING_CAMERA"]"#, "camera+sector_lidar"),
            (r#"["STEREO_CAMERAS", "LIDAR"]"#, "stereo_camera+lidar"),
            (r#"["STEREO_CAMERAS", "SECTOR_LIDAR"]"#, "stereo_camera+sector_lidar"),
        ] {
            let cfg = applied(&metadata(sensors, "DEEP_CONVOLUTIONAL_NETWORK", "clipped_ppo")).unwrap();
            assert_eq!(cfg.sensor.kind(), kind, "{sensors}");
            let ObsConfig::CameraLidar(c) = &cfg.sensor else {
                panic!("{sensors}: {:?}", cfg.sensor)
            };
            assert!(
                !c.lidar_settings.borders,
                "DeepRacer's laser does not see painted borders"
            );
            assert_eq!(cfg.network, NetworkSpec::DeepConvolutionalNetwork {});
        }
    }

    #[test]
    fn what_slipstream_cannot_train_is_said_plainly() {
        let shallow = "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW";
        for (sensor, network, algorithm, needle) in [
            (r#"["FRONT_FACING_CAMERA"]"#, shallow, "sac", "SAC is not supported yet"),
            (
                r#"["FRONT_FACING_CAMERA", "STEREO_CAMERAS", "LIDAR"]"#,
                shallow,
                "clipped_ppo",
                "give one camera and at most one lidar",
            ),
            (r#"["SONAR"]"#, shallow, "clipped_ppo", "sensor: \"SONAR\""),
            (r#"["LIDAR"]"#, shallow, "clipped_ppo", "has no camera"),
            (
                r#"["FRONT_FACING_CAMERA"]"#,
                "RESNET",
                "clipped_ppo",
                "neural_network: \"RESNET\"",
            ),
        ] {
            let e = applied(&metadata(sensor, network, algorithm)).unwrap_err();
            assert!(e.contains(needle), "{sensor} {network} {algorithm}: {e}");
        }
    }
}
