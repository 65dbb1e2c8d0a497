//! Races: creation, validation, windows, visibility, invites and deletion.

use super::*;

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

/// The proto's rule for times, 0 = "not set", holds for the window: a race without one is open
/// from its creation and never closes; racers can submit to it and invites to it never expire.
#[tokio::test]
async fn races_without_a_window() {
    let s = TestServer::start(0).await;
    let (_, _, mut fac) = s.user("fiona", pb::Role::Facilitator).await;
    let (_, _, mut racer) = s.user("rick", pb::Role::Racer).await;
    let unset = |name: &str, private| pb::RaceSpec {
        opens_at_ms: 0,
        closes_at_ms: 0,
        private,
        ..open_spec(name, "oval")
    };
    let race = fac
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(unset("Forever", false)),
        })
        .await
        .expect("a race without a window is accepted")
        .into_inner();
    assert_eq!(race.state, pb::RaceState::Open as i32);
    let spec = race.spec.as_ref().unwrap();
    assert_eq!((spec.opens_at_ms, spec.closes_at_ms), (0, 0), "kept as not set");
    let model = upload(&mut racer, &random_model(1), "m", None).await.unwrap();
    let sub = submit(&mut racer, &race.id, &model.id).await.unwrap().into_inner();
    assert_eq!(sub.status, pb::SubmissionStatus::Queued as i32);
    let listed = racer
        .races
        .list_races(pb::ListRacesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.races.iter().any(|r| r.id == race.id));

    // Only one end unset.
    let now = slipstream_league::util::now_ms();
    for (opens, closes, state) in [
        (0, now + 60_000, pb::RaceState::Open),
        (0, now - 60_000, pb::RaceState::Closed),
        (now + 60_000, 0, pb::RaceState::Upcoming),
        (now - 60_000, 0, pb::RaceState::Open),
    ] {
        let r = fac
            .races
            .create_race(pb::CreateRaceRequest {
                spec: Some(pb::RaceSpec {
                    opens_at_ms: opens,
                    closes_at_ms: closes,
                    ..open_spec("One end", "oval")
                }),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.state, state as i32, "opens {opens}, closes {closes}");
    }
    // Negative times name their own field.
    for (opens, closes, field) in [(-5, 0, "spec.opens_at_ms"), (0, -5, "spec.closes_at_ms")] {
        let e = fac
            .races
            .create_race(pb::CreateRaceRequest {
                spec: Some(pb::RaceSpec {
                    opens_at_ms: opens,
                    closes_at_ms: closes,
                    ..open_spec("Bad", "oval")
                }),
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        assert!(e.message().contains(field), "{field}: {}", e.message());
    }

    // A private race that never closes: an invite "until the race closes" never expires.
    let private = fac
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(unset("Club", true)),
        })
        .await
        .unwrap()
        .into_inner();
    let inv = fac
        .races
        .create_invite(pb::CreateInviteRequest {
            race_id: private.id.clone(),
            expires_at_ms: 0,
        })
        .await
        .expect("an invite to a race that never closes")
        .into_inner();
    assert_eq!(inv.expires_at_ms, 0, "never expires");
    let joined = racer
        .races
        .join_race(pb::JoinRaceRequest {
            invite_token: inv.token,
        })
        .await
        .expect("joining with it")
        .into_inner();
    assert_eq!(joined.id, private.id);
    s.stop().await;
}

/// A race can take only some sensors (a class's final on the camera): it says so at creation and
/// in the API, and refuses other models at entry, naming both sensors.
#[tokio::test]
async fn a_race_for_one_sensor_refuses_models_with_another() {
    let s = TestServer::start(0).await;
    let (_, _, mut fac) = s.user("fiona", pb::Role::Facilitator).await;
    let (_, _, mut racer) = s.user("rick", pb::Role::Racer).await;
    let bad = fac
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(pb::RaceSpec {
                sensors: vec!["camera".into(), "radar".into()],
                ..open_spec("x", "oval")
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(
        bad.message().contains("spec.sensors[1]") && bad.message().contains("camera+lidar"),
        "{}",
        bad.message()
    );
    let race = create_race(
        &mut fac,
        pb::RaceSpec {
            sensors: vec!["camera".into(), "stereo_camera".into()],
            ..open_spec("Camera final", "oval")
        },
    )
    .await;
    assert_eq!(race.spec.as_ref().unwrap().sensors, ["camera", "stereo_camera"]);

    let state = upload(&mut racer, &random_model(1), "my-state-model", None)
        .await
        .unwrap();
    let e = submit(&mut racer, &race.id, &state.id).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(
        e.message(),
        "this race takes models with sensor camera or stereo_camera; model \"my-state-model\" has state"
    );
    let camera = upload(&mut racer, &random_camera_model(2), "my-camera-model", None)
        .await
        .unwrap();
    assert_eq!(camera.sensor, "camera");
    let sub = submit(&mut racer, &race.id, &camera.id).await.unwrap().into_inner();
    assert_eq!(sub.status, pb::SubmissionStatus::Queued as i32);
}

/// An open race can be renamed, closed early or kept open longer, but not re-ruled: what its
/// submissions were timed under stays, and the refusal names the field. A closed race is final.
#[tokio::test]
async fn an_open_race_can_close_early_or_run_longer_but_not_change_its_rules() {
    let s = TestServer::start(0).await;
    let (_, _, mut fac) = s.user("fiona", pb::Role::Facilitator).await;
    let spec = open_spec("Weekly", "oval");
    let race = create_race(&mut fac, spec.clone()).await;
    let longer = update(
        &mut fac,
        &race.id,
        pb::RaceSpec {
            name: "Weekly (extended)".into(),
            description: "One more day.".into(),
            closes_at_ms: spec.closes_at_ms + 86_400_000,
            ..spec.clone()
        },
    )
    .await
    .expect("renamed and kept open longer")
    .into_inner();
    let got = longer.spec.unwrap();
    assert_eq!(
        (got.name.as_str(), got.closes_at_ms),
        ("Weekly (extended)", spec.closes_at_ms + 86_400_000)
    );
    assert_eq!(longer.state, pb::RaceState::Open as i32);

    let e = update(&mut fac, &race.id, pb::RaceSpec { laps: 5, ..got.clone() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert!(
        e.message().starts_with("spec.laps: the race is open"),
        "{}",
        e.message()
    );
    // "Close now", with the client's "now" a moment behind the server's: a closing time already
    // past closes the race at the server's now (never refused for being a few milliseconds late).
    let before = s.clock.now_ms();
    let closed = update(
        &mut fac,
        &race.id,
        pb::RaceSpec {
            closes_at_ms: got.opens_at_ms + 1,
            ..got.clone()
        },
    )
    .await
    .expect("closed now")
    .into_inner();
    let closes = closed.spec.as_ref().unwrap().closes_at_ms;
    assert!(
        closes >= before && closes <= s.clock.now_ms(),
        "closed at the server's now: {closes}"
    );
    s.clock.advance(std::time::Duration::from_millis(10));
    let closed = fac
        .races
        .get_race(pb::GetRaceRequest { race_id: closed.id })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(closed.state, pb::RaceState::Closed as i32);
    let e = update(&mut fac, &race.id, got).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert!(e.message().contains("closed; its results are final"), "{}", e.message());
}

async fn update(
    c: &mut slipstream_league::client::Clients,
    id: &str,
    spec: pb::RaceSpec,
) -> Result<tonic::Response<pb::Race>, tonic::Status> {
    c.races
        .update_race(pb::UpdateRaceRequest {
            race_id: id.into(),
            spec: Some(spec),
        })
        .await
}
