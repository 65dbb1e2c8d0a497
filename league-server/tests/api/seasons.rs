//! Seasons: who may create and change them, validation naming the field, public reading.

use super::*;

fn season_spec(name: &str, races: &[&str]) -> pb::SeasonSpec {
    pb::SeasonSpec {
        name: name.into(),
        race_ids: races.iter().map(|r| r.to_string()).collect(),
        ..Default::default()
    }
}

#[tokio::test]
async fn seasons_are_managed_by_facilitators_and_read_by_anyone() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let (_, _, mut fac) = s.user("fiona", pb::Role::Facilitator).await;
    let (_, _, mut other) = s.user("oscar", pb::Role::Facilitator).await;
    let (_, _, mut racer) = s.user("rick", pb::Role::Racer).await;
    let mut anon = s.client(None).await;
    let cup = create_race(&mut fac, open_spec("March cup", "oval")).await;
    let april = create_race(&mut fac, open_spec("April cup", "oval")).await;
    let secret = create_race(
        &mut admin,
        pb::RaceSpec {
            private: true,
            ..open_spec("Secret", "oval")
        },
    )
    .await;

    // Racers cannot create seasons; facilitators can, with the default points table.
    let r = racer
        .seasons
        .create_season(pb::CreateSeasonRequest {
            spec: Some(season_spec("2026", &[&cup.id])),
        })
        .await;
    assert_eq!(code(r), Code::PermissionDenied);
    let season = fac
        .seasons
        .create_season(pb::CreateSeasonRequest {
            spec: Some(season_spec("  2026  ", &[&cup.id])),
        })
        .await
        .unwrap()
        .into_inner();
    let spec = season.spec.clone().unwrap();
    assert_eq!(spec.name, "2026");
    assert_eq!(spec.points, [25, 18, 15, 12, 10, 8, 6, 4, 2, 1]);

    // Validation names the field; a private race the caller cannot see is "no race".
    for (mut c, spec, want) in [
        (
            fac.clone(),
            season_spec("x", &["race_nope"]),
            "spec.race_ids[0]: no race \"race_nope\"",
        ),
        (
            fac.clone(),
            season_spec("x", &[&cup.id, &secret.id]),
            "spec.race_ids[1]: no race",
        ),
        (
            admin.clone(),
            season_spec("x", &[&secret.id]),
            "spec.race_ids[0]: \"race_",
        ),
        (fac.clone(), season_spec("x", &[&cup.id, &cup.id]), "spec.race_ids[1]: "),
        (
            fac.clone(),
            pb::SeasonSpec {
                points: vec![10, 12],
                ..season_spec("x", &[])
            },
            "spec.points: place 2 scores more than place 1",
        ),
        (fac.clone(), season_spec("", &[]), "spec.name"),
    ] {
        let e = c
            .seasons
            .create_season(pb::CreateSeasonRequest { spec: Some(spec) })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{}", e.message());
        assert!(e.message().starts_with(want), "{} (wanted {want})", e.message());
    }
    let e = admin
        .seasons
        .create_season(pb::CreateSeasonRequest {
            spec: Some(season_spec("x", &[&secret.id])),
        })
        .await
        .unwrap_err();
    assert!(
        e.message().ends_with("is private; seasons group public races"),
        "{}",
        e.message()
    );

    // Anyone reads seasons and standings (none ranked yet).
    let listed = anon
        .seasons
        .list_seasons(pb::ListSeasonsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.seasons.len(), 1);
    let st = anon
        .seasons
        .get_standings(pb::GetStandingsRequest {
            season_id: season.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(st.rows.is_empty());
    assert_eq!(st.race_names, ["March cup"]);

    // Only its creator or an admin changes it.
    let update = |spec: pb::SeasonSpec| pb::UpdateSeasonRequest {
        season_id: season.id.clone(),
        spec: Some(spec),
    };
    let r = other.seasons.update_season(update(season_spec("mine", &[]))).await;
    assert_eq!(code(r), Code::PermissionDenied);
    let updated = fac
        .seasons
        .update_season(update(season_spec("2026", &[&cup.id, &april.id])))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.spec.unwrap().race_ids, [cup.id.clone(), april.id.clone()]);
    let r = other
        .seasons
        .delete_season(pb::DeleteSeasonRequest {
            season_id: season.id.clone(),
        })
        .await;
    assert_eq!(code(r), Code::PermissionDenied);
    admin
        .seasons
        .delete_season(pb::DeleteSeasonRequest {
            season_id: season.id.clone(),
        })
        .await
        .unwrap();
    let r = anon
        .seasons
        .get_season(pb::GetSeasonRequest {
            season_id: season.id.clone(),
        })
        .await;
    assert_eq!(code(r), Code::NotFound);
}
