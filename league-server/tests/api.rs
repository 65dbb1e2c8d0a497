//! Black-box tests over TCP: users and tokens, races, tracks, invites, models, health and reflection.

mod common;

use common::*;
use slipstream_proto::v1 as pb;
use tonic::Code;

#[tokio::test]
async fn tokens_roles_and_users() {
    let s = TestServer::start(0).await;
    let mut anon = s.client(None).await;
    assert_eq!(
        code(anon.users.who_am_i(pb::WhoAmIRequest {}).await),
        Code::Unauthenticated
    );
    let mut bad = s.client(Some("slp_not_a_real_token")).await;
    assert_eq!(
        code(bad.users.who_am_i(pb::WhoAmIRequest {}).await),
        Code::Unauthenticated
    );
    let mut admin = s.admin().await;
    let me = admin.users.who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner();
    assert_eq!((me.name.as_str(), me.role), ("admin", pb::Role::Admin as i32));

    let (alice, alice_token, mut alice_c) = s.user("alice", pb::Role::Racer).await;
    assert_eq!(
        alice_c
            .users
            .who_am_i(pb::WhoAmIRequest {})
            .await
            .unwrap()
            .into_inner()
            .id,
        alice.id
    );
    // Racers cannot do admin things.
    let r = alice_c
        .users
        .create_user(pb::CreateUserRequest {
            name: "mallory".into(),
            role: pb::Role::Admin as i32,
        })
        .await;
    let e = r.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    assert!(e.message().contains("admin"), "{}", e.message());
    assert_eq!(
        code(alice_c.users.list_users(pb::ListUsersRequest::default()).await),
        Code::PermissionDenied
    );
    assert_eq!(
        code(
            alice_c
                .users
                .issue_token(pb::IssueTokenRequest {
                    user_id: alice.id.clone(),
                    ..Default::default()
                })
                .await
        ),
        Code::PermissionDenied
    );
    // Bad input.
    let e = admin
        .users
        .create_user(pb::CreateUserRequest {
            name: "alice".into(),
            role: pb::Role::Racer as i32,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists);
    let e = admin
        .users
        .create_user(pb::CreateUserRequest {
            name: "no spaces".into(),
            role: pb::Role::Racer as i32,
        })
        .await
        .unwrap_err();
    assert!(e.code() == Code::InvalidArgument && e.message().contains("name"));
    let e = admin
        .users
        .create_user(pb::CreateUserRequest {
            name: "bob".into(),
            role: 0,
        })
        .await
        .unwrap_err();
    assert!(e.code() == Code::InvalidArgument && e.message().contains("role"));
    assert_eq!(
        code(
            admin
                .users
                .issue_token(pb::IssueTokenRequest {
                    user_id: "usr_nope".into(),
                    ..Default::default()
                })
                .await
        ),
        Code::NotFound
    );
    let past = pb::IssueTokenRequest {
        user_id: alice.id.clone(),
        expires_at_ms: 1,
        description: String::new(),
    };
    assert_eq!(code(admin.users.issue_token(past).await), Code::InvalidArgument);
    // Listing pages.
    let all = admin
        .users
        .list_users(pb::ListUsersRequest {
            page_size: 1,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.users.len(), 1);
    assert!(!all.next_page_token.is_empty());
    assert_eq!(
        code(
            admin
                .users
                .list_users(pb::ListUsersRequest {
                    page_size: 1,
                    page_token: "x".into()
                })
                .await
        ),
        Code::InvalidArgument
    );

    // Revoking a token stops it at once; a short-lived one expires.
    let t2 = admin
        .users
        .issue_token(pb::IssueTokenRequest {
            user_id: alice.id.clone(),
            expires_at_ms: slipstream_league::util::now_ms() + 1500,
            description: "short".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut short = s.client(Some(&t2.token)).await;
    assert!(short.users.who_am_i(pb::WhoAmIRequest {}).await.is_ok());
    let list = admin
        .users
        .list_users(pb::ListUsersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(list.users.iter().any(|u| u.name == "alice"));
    let first_token_id = {
        // Issue a third token just to revoke it.
        let t3 = admin
            .users
            .issue_token(pb::IssueTokenRequest {
                user_id: alice.id.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let mut c3 = s.client(Some(&t3.token)).await;
        assert!(c3.users.who_am_i(pb::WhoAmIRequest {}).await.is_ok());
        admin
            .users
            .revoke_token(pb::RevokeTokenRequest {
                token_id: t3.token_id.clone(),
            })
            .await
            .unwrap();
        assert_eq!(
            code(c3.users.who_am_i(pb::WhoAmIRequest {}).await),
            Code::Unauthenticated
        );
        t3.token_id
    };
    assert_eq!(
        code(
            admin
                .users
                .revoke_token(pb::RevokeTokenRequest {
                    token_id: first_token_id
                })
                .await
        ),
        Code::NotFound
    );
    assert!(
        s.client(Some(&alice_token))
            .await
            .users
            .who_am_i(pb::WhoAmIRequest {})
            .await
            .is_ok()
    );
    tokio::time::sleep(std::time::Duration::from_millis(6600)).await;
    assert_eq!(
        code(short.users.who_am_i(pb::WhoAmIRequest {}).await),
        Code::Unauthenticated,
        "expired tokens stop working"
    );
    s.stop().await;
}

#[tokio::test]
async fn races_lifecycle_and_validation() {
    let s = TestServer::start(0).await;
    let (_, _, mut fac) = s.user("fiona", pb::Role::Facilitator).await;
    let (_, _, mut racer) = s.user("rick", pb::Role::Racer).await;
    let mut anon = s.client(None).await;
    // Racers cannot create races.
    let r = racer
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(open_spec("x", "oval")),
        })
        .await;
    assert_eq!(code(r), Code::PermissionDenied);
    // Validation names the field.
    for (spec, field) in [
        (
            pb::RaceSpec {
                track: "nowhere".into(),
                ..open_spec("x", "oval")
            },
            "spec.track",
        ),
        (
            pb::RaceSpec {
                min_laps: 5,
                ..open_spec("x", "oval")
            },
            "spec.min_laps",
        ),
        (
            pb::RaceSpec {
                timing: pb::TimingMethod::TotalTime as i32,
                min_laps: 1,
                ..open_spec("x", "oval")
            },
            "total-time",
        ),
        (
            pb::RaceSpec {
                laps: 0,
                min_laps: 0,
                ..open_spec("x", "oval")
            },
            "spec.laps",
        ),
        (
            pb::RaceSpec {
                name: String::new(),
                ..open_spec("x", "oval")
            },
            "spec.name",
        ),
        (
            pb::RaceSpec {
                closes_at_ms: 1,
                ..open_spec("x", "oval")
            },
            "spec.closes_at_ms",
        ),
        (
            pb::RaceSpec {
                race_type: pb::RaceType::ObjectAvoidance as i32,
                ..open_spec("x", "oval")
            },
            "spec.obstacles.count",
        ),
        (
            pb::RaceSpec {
                race_type: 99,
                ..open_spec("x", "oval")
            },
            "spec.race_type",
        ),
    ] {
        let e = fac
            .races
            .create_race(pb::CreateRaceRequest { spec: Some(spec) })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{field}: {}", e.message());
        assert!(e.message().contains(field), "{field}: {}", e.message());
    }
    assert_eq!(
        code(fac.races.create_race(pb::CreateRaceRequest { spec: None }).await),
        Code::InvalidArgument
    );

    // An open race: anyone can read it; it cannot be edited or deleted while open.
    let open = fac
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(open_spec("Open race", "kidney")),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(open.state, pb::RaceState::Open as i32);
    assert!((open.track.as_ref().unwrap().length_m - 21.8).abs() < 0.1);
    let got = anon
        .races
        .get_race(pb::GetRaceRequest {
            race_id: open.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.spec.unwrap().name, "Open race");
    let e = fac
        .races
        .update_race(pb::UpdateRaceRequest {
            race_id: open.id.clone(),
            spec: Some(open_spec("New", "oval")),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(
        code(
            fac.races
                .delete_race(pb::DeleteRaceRequest {
                    race_id: open.id.clone()
                })
                .await
        ),
        Code::FailedPrecondition
    );
    assert_eq!(
        code(
            racer
                .races
                .delete_race(pb::DeleteRaceRequest {
                    race_id: open.id.clone()
                })
                .await
        ),
        Code::PermissionDenied
    );

    // An upcoming race can be edited and deleted.
    let now = slipstream_league::util::now_ms();
    let later = pb::RaceSpec {
        opens_at_ms: now + 3_600_000,
        closes_at_ms: now + 7_200_000,
        ..open_spec("Later", "oval")
    };
    let up = fac
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(later.clone()),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(up.state, pb::RaceState::Upcoming as i32);
    let edited = fac
        .races
        .update_race(pb::UpdateRaceRequest {
            race_id: up.id.clone(),
            spec: Some(pb::RaceSpec { laps: 5, ..later }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(edited.spec.unwrap().laps, 5);
    let (_, _, mut other_fac) = s.user("oscar", pb::Role::Facilitator).await;
    assert_eq!(
        code(
            other_fac
                .races
                .delete_race(pb::DeleteRaceRequest { race_id: up.id.clone() })
                .await
        ),
        Code::PermissionDenied
    );
    fac.races
        .delete_race(pb::DeleteRaceRequest { race_id: up.id.clone() })
        .await
        .unwrap();
    assert_eq!(
        code(anon.races.get_race(pb::GetRaceRequest { race_id: up.id.clone() }).await),
        Code::NotFound
    );

    // Private races are invisible until joined with a valid invite.
    let private = fac
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(pb::RaceSpec {
                private: true,
                ..open_spec("Secret", "oval")
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        code(
            racer
                .races
                .get_race(pb::GetRaceRequest {
                    race_id: private.id.clone()
                })
                .await
        ),
        Code::NotFound
    );
    assert_eq!(
        code(
            anon.races
                .get_race(pb::GetRaceRequest {
                    race_id: private.id.clone()
                })
                .await
        ),
        Code::NotFound
    );
    let listed = racer
        .races
        .list_races(pb::ListRacesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(!listed.races.iter().any(|r| r.id == private.id));
    assert!(listed.races.iter().any(|r| r.id == open.id));
    let anon_list = anon
        .races
        .list_races(pb::ListRacesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(!anon_list.races.iter().any(|r| r.id == private.id));
    assert_eq!(
        code(
            racer
                .races
                .create_invite(pb::CreateInviteRequest {
                    race_id: private.id.clone(),
                    expires_at_ms: 0
                })
                .await
        ),
        Code::PermissionDenied
    );
    assert_eq!(
        code(
            fac.races
                .create_invite(pb::CreateInviteRequest {
                    race_id: open.id.clone(),
                    expires_at_ms: 0
                })
                .await
        ),
        Code::FailedPrecondition
    );
    let inv = fac
        .races
        .create_invite(pb::CreateInviteRequest {
            race_id: private.id.clone(),
            expires_at_ms: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!inv.token.is_empty());
    assert_eq!(
        code(
            racer
                .races
                .join_race(pb::JoinRaceRequest {
                    invite_token: "inv_bogus".into()
                })
                .await
        ),
        Code::NotFound
    );
    racer
        .races
        .join_race(pb::JoinRaceRequest {
            invite_token: inv.token.clone(),
        })
        .await
        .unwrap();
    assert!(
        racer
            .races
            .get_race(pb::GetRaceRequest {
                race_id: private.id.clone()
            })
            .await
            .is_ok()
    );
    let invites = fac
        .races
        .list_invites(pb::ListInvitesRequest {
            race_id: private.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(invites.invites.len(), 1);
    assert_eq!(invites.invites[0].uses, 1);
    assert!(invites.invites[0].token.is_empty(), "secrets are never listed");
    fac.races
        .revoke_invite(pb::RevokeInviteRequest {
            invite_id: inv.id.clone(),
        })
        .await
        .unwrap();
    let (_, _, mut late) = s.user("lena", pb::Role::Racer).await;
    let e = late
        .races
        .join_race(pb::JoinRaceRequest {
            invite_token: inv.token.clone(),
        })
        .await
        .unwrap_err();
    assert!(e.code() == Code::FailedPrecondition && e.message().contains("revoked"));
    let past = fac
        .races
        .create_invite(pb::CreateInviteRequest {
            race_id: private.id.clone(),
            expires_at_ms: 5,
        })
        .await;
    assert_eq!(code(past), Code::InvalidArgument);
    s.stop().await;
}

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
    // The same bytes again: the same model.
    let m2 = upload(&mut a, &model, "again", None).await.unwrap();
    assert_eq!(m1.id, m2.id);
    // Someone else's copy is their own model.
    let mb = upload(&mut b, &model, "bobs", None).await.unwrap();
    assert_ne!(mb.id, m1.id);
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
    let e = upload(&mut a, b"\x80\x04pickle-or-torchscript", "pickle", None)
        .await
        .unwrap_err();
    assert!(
        e.code() == Code::InvalidArgument && e.message().contains("safetensors"),
        "{}",
        e.message()
    );
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

#[tokio::test]
async fn health_and_reflection_answer() {
    let s = TestServer::start(0).await;
    let channel = tonic::transport::Endpoint::from_shared(s.addr.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let r = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "slipstream.league.v1.LeaderboardService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        r.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    let mut refl = tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient::new(channel);
    let req = tonic_reflection::pb::v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            tonic_reflection::pb::v1::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let mut stream = refl
        .server_reflection_info(futures_iter(vec![req]))
        .await
        .unwrap()
        .into_inner();
    let resp = stream.message().await.unwrap().unwrap();
    let Some(tonic_reflection::pb::v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        resp.message_response
    else {
        panic!("unexpected reflection answer")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for svc in [
        "slipstream.league.v1.RaceService",
        "slipstream.league.v1.ModelService",
        "grpc.health.v1.Health",
    ] {
        assert!(names.iter().any(|n| n == svc), "{svc} missing from {names:?}");
    }
    s.stop().await;
}
