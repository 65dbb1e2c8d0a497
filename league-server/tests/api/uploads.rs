//! Uploads: tracks and models, validated and stored once.

use super::*;

#[tokio::test]
async fn uploaded_tracks() {
    let s = TestServer::start(0).await;
    let (_, _, mut fac) = s.user("fiona", pb::Role::Facilitator).await;
    let (_, _, mut racer) = s.user("rick", pb::Role::Racer).await;
    let good = npy_file(&square_rows(4.0, 0.8));
    assert_eq!(
        code(
            racer
                .races
                .upload_track(pb::UploadTrackRequest {
                    name: "sq".into(),
                    npy: good.clone()
                })
                .await
        ),
        Code::PermissionDenied
    );
    let t = fac
        .races
        .upload_track(pb::UploadTrackRequest {
            name: "Square".into(),
            npy: good,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(t.id.starts_with("upload:") && !t.builtin && t.closed);
    assert!((t.length_m - 16.0).abs() < 1e-6);
    let mut bad_rows = square_rows(4.0, 0.8);
    bad_rows[10][2] = f64::NAN;
    let e = fac
        .races
        .upload_track(pb::UploadTrackRequest {
            name: "bad".into(),
            npy: npy_file(&bad_rows),
        })
        .await
        .unwrap_err();
    assert!(
        e.code() == Code::InvalidArgument && e.message().contains("waypoint 10"),
        "{}",
        e.message()
    );
    let e = fac
        .races
        .upload_track(pb::UploadTrackRequest {
            name: "junk".into(),
            npy: b"junk".to_vec(),
        })
        .await
        .unwrap_err();
    assert!(
        e.code() == Code::InvalidArgument && e.message().contains("npy"),
        "{}",
        e.message()
    );
    let huge = vec![0u8; (1 << 20) + 1];
    assert_eq!(
        code(
            fac.races
                .upload_track(pb::UploadTrackRequest {
                    name: "huge".into(),
                    npy: huge
                })
                .await
        ),
        Code::ResourceExhausted
    );
    let all = racer
        .races
        .list_tracks(pb::ListTracksRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(all.tracks.iter().any(|x| x.id == "oval" && x.builtin));
    assert!(all.tracks.iter().any(|x| x.id == t.id));
    // A race on the uploaded track.
    let race = fac
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(open_spec("On square", &t.id)),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(race.track.unwrap().name, "Square");
    s.stop().await;
}

#[tokio::test]
async fn model_uploads() {
    let s = TestServer::start_with(
        slipstream_league::Config {
            workers: 0,
            max_model_bytes: 200_000,
            ..test_config()
        },
        None,
    )
    .await;
    let (alice, _, mut a) = s.user("alice", pb::Role::Racer).await;
    let (_, _, mut b) = s.user("bob", pb::Role::Racer).await;
    let model = random_model(1);
    let m1 = upload(&mut a, &model, "first", None).await.unwrap();
    assert_eq!(m1.owner_id, alice.id);
    assert_eq!(m1.sha256, slipstream_league::util::sha256_hex(&model));
    assert_eq!(
        (m1.sensor.as_str(), m1.action_space_type.as_str()),
        ("state", "continuous")
    );
    assert!(!m1.already_uploaded);
    // Its settings are stored with it (for head-to-head: who can race whom).
    let store = slipstream_league::store::Store::connect(&s.db).await.unwrap();
    let stored = store.model(&m1.id).await.unwrap().unwrap().spec_json;
    let stored: slipstream_trainer::model::ModelSpec = serde_json::from_str(&stored).unwrap();
    let loaded = slipstream_trainer::Model::from_bytes(&model, std::path::Path::new("m"), tch::Device::Cpu).unwrap();
    assert_eq!(stored, loaded.spec);
    store.close().await;
    // The same bytes again: the same model, and the reply says so (the earlier name is kept).
    let m2 = upload(&mut a, &model, "again", None).await.unwrap();
    assert_eq!(m1.id, m2.id);
    assert!(m2.already_uploaded, "the reply says the bytes were already uploaded");
    assert_eq!(m2.name, "first");
    let got = a
        .models
        .get_model(pb::GetModelRequest {
            model_id: m1.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!got.already_uploaded, "only in UploadModel's reply");
    // Someone else's copy is their own model.
    let mb = upload(&mut b, &model, "bobs", None).await.unwrap();
    assert_ne!(mb.id, m1.id);
    assert!(!mb.already_uploaded);
    // Racers see only their own models.
    let list = a
        .models
        .list_models(pb::ListModelsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        list.models.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        vec![m1.id.clone()]
    );
    assert_eq!(
        code(
            b.models
                .get_model(pb::GetModelRequest {
                    model_id: m1.id.clone()
                })
                .await
        ),
        Code::NotFound
    );
    assert_eq!(
        code(
            b.models
                .delete_model(pb::DeleteModelRequest {
                    model_id: m1.id.clone()
                })
                .await
        ),
        Code::NotFound
    );
    // Oversized: announced, or only discovered while streaming.
    let e = upload(&mut a, &model, "big", Some(10_000_000)).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted);
    let mut too_big = model.clone();
    too_big.extend(std::iter::repeat_n(0u8, 200_000));
    let e = upload(&mut a, &too_big, "big", Some(0)).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{}", e.message());
    // Truncated: fewer bytes than announced, or a cut file.
    let e = upload(&mut a, &model[..model.len() / 2], "cut", Some(model.len() as u64))
        .await
        .unwrap_err();
    assert!(
        e.code() == Code::InvalidArgument && e.message().contains("truncated"),
        "{}",
        e.message()
    );
    let e = upload(&mut a, &model[..model.len() - 50], "cut", None)
        .await
        .unwrap_err();
    assert!(
        e.code() == Code::InvalidArgument && e.message().contains("model:"),
        "{}",
        e.message()
    );
    // Corrupted weights, and a file that is not a model at all.
    let mut nan = model.clone();
    let n = nan.len();
    nan[n - 4..].copy_from_slice(&f32::NAN.to_le_bytes());
    let e = upload(&mut a, &nan, "nan", None).await.unwrap_err();
    assert!(
        e.code() == Code::InvalidArgument && e.message().contains("non-finite"),
        "{}",
        e.message()
    );
    // A pickle or a TorchScript/.pt zip uploaded by mistake: named, and what is accepted instead.
    for (bytes, what) in [
        (&b"\x80\x04\x95pickled-state-dict"[..], "a Python pickle"),
        (&b"PK\x03\x04\x14\x00\x00\x00archive/constants.pkl"[..], "a zip archive"),
    ] {
        let e = upload(&mut a, bytes, "mistake", None).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{}", e.message());
        assert!(
            e.message().contains(&format!("this is {what}"))
                && e.message().contains("only .safetensors models are accepted"),
            "{}",
            e.message()
        );
    }
    // Protocol mistakes.
    let chunk_first = vec![pb::UploadModelRequest {
        part: Some(pb::upload_model_request::Part::Chunk(model.clone())),
    }];
    assert_eq!(
        code(a.models.upload_model(futures_iter(chunk_first)).await),
        Code::InvalidArgument
    );
    assert_eq!(
        code(
            a.models
                .upload_model(futures_iter(Vec::<pb::UploadModelRequest>::new()))
                .await
        ),
        Code::InvalidArgument
    );
    let e = upload(&mut a, &model, "", None).await.unwrap_err();
    assert!(e.code() == Code::InvalidArgument && e.message().contains("name"));
    let mut anon = s.client(None).await;
    assert_eq!(code(upload(&mut anon, &model, "x", None).await), Code::Unauthenticated);
    // Delete.
    a.models
        .delete_model(pb::DeleteModelRequest {
            model_id: m1.id.clone(),
        })
        .await
        .unwrap();
    assert!(
        a.models
            .list_models(pb::ListModelsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .models
            .is_empty()
    );
    s.stop().await;
}
