//! Model files: a round trip keeps everything; every kind of damage is refused with the file and the
//! tensor or metadata key named.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, TensorView};
use slipstream_trainer::config::ActionSpaceConfig;
use slipstream_trainer::model::{Model, ModelSpec};
use slipstream_trainer::network::NetworkSpec;
use tch::Device;

fn spec() -> ModelSpec {
    ModelSpec {
        sensor: slipstream_sim::ObsConfig::default(),
        action_space: ActionSpaceConfig::default(),
        network: NetworkSpec::default(),
        car: slipstream_sim::CarParams::default(),
        agent_dt: 1.0 / 15.0,
        physics_substeps: 4,
    }
}

fn saved(dir: &Path) -> (Model, PathBuf) {
    tch::manual_seed(3);
    let mut m = Model::new(spec(), -0.5, true, Device::Cpu);
    m.obs_norm.as_mut().unwrap().update(&vec![0.5f32; 28 * 10]);
    m.info.tracks = vec!["oval".into()];
    let p = dir.join("m.safetensors");
    m.save(&p).unwrap();
    (m, p)
}

/// Rewrite a saved model's tensors and metadata through `edit`.
fn rewrite(
    src: &Path,
    dst: &Path,
    edit: impl FnOnce(&mut Vec<(String, Dtype, Vec<usize>, Vec<u8>)>, &mut HashMap<String, String>),
) {
    let bytes = std::fs::read(src).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut meta = header.metadata().clone().unwrap();
    let mut tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
        .collect();
    edit(&mut tensors, &mut meta);
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, d, s, b)| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    std::fs::write(dst, safetensors::serialize(views, Some(meta)).unwrap()).unwrap();
}

fn load_err(p: &Path) -> String {
    let e = Model::load(p, Device::Cpu).unwrap_err().to_string();
    assert!(
        e.contains(&p.display().to_string()),
        "error does not name the file: {e}"
    );
    e
}

#[test]
fn round_trip_keeps_weights_statistics_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let (m, p) = saved(dir.path());
    let back = Model::load(&p, Device::Cpu).unwrap();
    assert_eq!(back.spec, m.spec);
    assert_eq!(back.obs_norm, m.obs_norm);
    assert_eq!(back.info.tracks, vec!["oval".to_string()]);
    let (a, b) = (m.policy.vs.variables(), back.policy.vs.variables());
    assert_eq!(a.len(), b.len());
    for (name, t) in &a {
        let diff = (t - &b[name]).abs().max().double_value(&[]);
        assert_eq!(diff, 0.0, "{name} differs");
    }
    // DeepRacer's model_metadata.json beside it.
    let meta = slipstream_sim::ModelMetadata::read(&dir.path().join("model_metadata.json")).unwrap();
    assert_eq!(meta.action_space, m.spec.action_space());
    assert_eq!(meta.training_algorithm, "clipped_ppo");
}

#[test]
fn garbage_and_truncated_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, p) = saved(dir.path());
    let bytes = std::fs::read(&p).unwrap();
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"this is not a model").unwrap();
    assert!(load_err(&junk).contains("not a safetensors file"));
    let cut = dir.path().join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
    assert!(load_err(&cut).contains("not a safetensors file"));
    // Formats uploaded by mistake are named, with what is accepted instead.
    for (bytes, what) in [
        (&b"\x80\x04\x95pickle"[..], "a Python pickle"),
        (&b"\x80\x02\x8a\x0alegacy torch.save"[..], "a Python pickle"),
        (
            &b"PK\x03\x04\x00\x00\x08\x00archive/data.pkl"[..],
            "a zip archive (a PyTorch .pt/.pth file or a TorchScript",
        ),
        (&b"\x1f\x8b\x08\x00model.tar.gz"[..], "a gzip file"),
    ] {
        let p = dir.path().join("model.pt");
        std::fs::write(&p, bytes).unwrap();
        let e = load_err(&p);
        assert!(e.contains(&format!("this is {what}")), "{e}");
        assert!(e.contains("only .safetensors models"), "{e}");
        assert!(!e.contains("header too large"), "{e}");
    }
    // A safetensors file whose header is 0x480 bytes long starts like a pickle (80 04): only a
    // file that fails to parse is named, so this one gets the loader's real complaint.
    let data = [0u8; 4];
    let look_alike = (0..2000)
        .map(|pad| {
            let meta = HashMap::from([("pad".to_string(), "x".repeat(pad))]);
            let view = TensorView::new(Dtype::F32, vec![1], &data).unwrap();
            safetensors::serialize(vec![("t".to_string(), view)], Some(meta)).unwrap()
        })
        .find(|b| b[..8] == 0x480u64.to_le_bytes())
        .expect("a header of 0x480 bytes");
    assert_eq!(&look_alike[..2], b"\x80\x04");
    let p = dir.path().join("look-alike.safetensors");
    std::fs::write(&p, &look_alike).unwrap();
    let e = load_err(&p);
    assert!(e.contains("metadata 'format' is missing"), "{e}");
    assert!(load_err(&dir.path().join("missing.safetensors")).contains("cannot read"));
}

#[test]
fn metadata_problems_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (_, p) = saved(dir.path());
    let q = dir.path().join("q.safetensors");
    let cases: Vec<(Box<dyn Fn(&mut HashMap<String, String>)>, &str)> = vec![
        (Box::new(|m| drop(m.remove("spec"))), "'spec' is missing"),
        (
            Box::new(|m| drop(m.insert("format".into(), "other".into()))),
            "'format'",
        ),
        (
            Box::new(|m| drop(m.insert("format_version".into(), "99".into()))),
            "version 99",
        ),
        (
            Box::new(|m| drop(m.insert("spec".into(), "{not json".into()))),
            "'spec'",
        ),
        (
            Box::new(|m| {
                let s = m["spec"].replace("\"high\":30.0", "\"high\":45.0");
                m.insert("spec".into(), s);
            }),
            "steering_angle",
        ),
    ];
    for (edit, needle) in cases {
        rewrite(&p, &q, |_, m| edit(m));
        let e = load_err(&q);
        assert!(e.contains(needle), "{needle}: {e}");
    }
}

#[test]
fn tensor_problems_name_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let (_, p) = saved(dir.path());
    let q = dir.path().join("q.safetensors");
    let target = "policy.actor.out.weight";
    rewrite(&p, &q, |t, _| t.retain(|x| x.0 != target));
    assert!(load_err(&q).contains(&format!("'{target}' is missing")));
    rewrite(&p, &q, |t, _| {
        let x = t.iter_mut().find(|x| x.0 == target).unwrap();
        x.2 = vec![x.2[1], x.2[0]];
    });
    assert!(load_err(&q).contains("shape"));
    rewrite(&p, &q, |t, _| {
        let x = t.iter_mut().find(|x| x.0 == target).unwrap();
        x.3[0..4].copy_from_slice(&f32::NAN.to_le_bytes());
    });
    let e = load_err(&q);
    assert!(e.contains(target) && e.contains("non-finite"), "{e}");
    rewrite(&p, &q, |t, _| {
        let x = t.iter_mut().find(|x| x.0 == target).unwrap();
        x.1 = Dtype::F64;
        x.3 = x.3.iter().chain(x.3.iter()).copied().collect();
    });
    assert!(load_err(&q).contains("dtype"));
    rewrite(&p, &q, |t, _| {
        t.push(("evil.code".into(), Dtype::U8, vec![3], vec![1, 2, 3]))
    });
    assert!(load_err(&q).contains("unexpected tensor 'evil.code'"));
    rewrite(&p, &q, |t, _| {
        let x = t.iter_mut().find(|x| x.0 == "obs_norm.var").unwrap();
        x.3[0..8].copy_from_slice(&f64::INFINITY.to_le_bytes());
    });
    assert!(load_err(&q).contains("obs_norm.var"));
}

#[test]
fn lidar_models_saved_before_deepracers_lidar_preset_still_load() {
    let dir = tempfile::tempdir().unwrap();
    let spec = ModelSpec {
        sensor: slipstream_sim::ObsConfig::Lidar(Default::default()),
        ..spec()
    };
    let p = dir.path().join("lidar.safetensors");
    Model::new(spec, -0.5, false, Device::Cpu).save(&p).unwrap();
    // Such files named Slipstream's lidar "LIDAR" in their DeepRacer metadata.
    let q = dir.path().join("old.safetensors");
    rewrite(&p, &q, |_, m| {
        let old = m["model_metadata"].replace("SLIPSTREAM_LIDAR", "LIDAR");
        m.insert("model_metadata".into(), old);
    });
    Model::load(&q, Device::Cpu).expect("an older lidar model loads");
    // Any other mismatch is refused.
    rewrite(&p, &q, |_, m| {
        let lie = m["model_metadata"].replace("SLIPSTREAM_LIDAR", "FRONT_FACING_CAMERA");
        m.insert("model_metadata".into(), lie);
    });
    assert!(load_err(&q).contains("claims sensor"));
}
