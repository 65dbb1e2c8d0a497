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
            ..Default::default()
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

#[tokio::test]
async fn standings_come_in_pages() {
    // A season over a race whose board has 120 ranked racers, seeded in the database.
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("league.db").display());
    let store = slipstream_league::store::Store::connect(&db).await.unwrap();
    let owner = store
        .create_user("owner", slipstream_league::store::Role::Admin)
        .await
        .unwrap();
    let now = slipstream_league::util::now_ms();
    let spec = slipstream_league::races::RaceSpec::time_trial("Cup", "oval", now - 1000, now + 86_400_000);
    let race = store.insert_race(&spec, &owner.id).await.unwrap();
    for i in 0..120i64 {
        let u = store
            .create_user(&format!("r{i:03}"), slipstream_league::store::Role::Racer)
            .await
            .unwrap();
        let row = slipstream_league::store::BoardRow {
            user_id: u.id.clone(),
            user_name: u.name.clone(),
            submission_id: format!("sub_{i}"),
            score_ms: 5000 + i,
            submitted_at: now,
            achieved_at: now,
            off_track: 0,
            best_lap_ms: 5000 + i,
            model_name: "m".into(),
        };
        store.insert_board_row(&race.id, &row).await.unwrap();
    }
    let season = slipstream_league::seasons::SeasonSpec {
        name: "2026".into(),
        description: String::new(),
        points: slipstream_league::seasons::DEFAULT_POINTS.to_vec(),
        race_ids: vec![race.id.clone()],
    };
    let season = store.insert_season(&season, &owner.id).await.unwrap();
    store.close().await;
    let s = TestServer::start_with(test_config(), Some((db, dir))).await;
    let mut anon = s.client(None).await;
    let page = |size: u32, token: &str| pb::GetStandingsRequest {
        season_id: season.id.clone(),
        page_size: size,
        page_token: token.into(),
    };

    // The default page is 50; pages follow each other to the end; positions count from the top.
    let mut rows = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let r = anon.seasons.get_standings(page(0, &token)).await.unwrap().into_inner();
        assert_eq!(r.total, 120);
        assert_eq!(r.race_names, ["Cup"]);
        rows.extend(r.rows);
        pages += 1;
        if r.next_page_token.is_empty() {
            break;
        }
        token = r.next_page_token;
    }
    assert_eq!(pages, 3);
    let names: Vec<String> = rows.iter().map(|r| r.user_name.clone()).collect();
    let expected: Vec<String> = (0..120).map(|i| format!("r{i:03}")).collect();
    assert_eq!(names, expected, "the fastest first, every racer once");
    assert_eq!(rows[50].position, 51);
    assert_eq!((rows[0].points, rows[9].points, rows[10].points), (25, 1, 0));
    let all = anon.seasons.get_standings(page(1000, "")).await.unwrap().into_inner();
    assert_eq!(all.rows, rows);
    assert!(all.next_page_token.is_empty());

    // Bad pages name the field.
    let e = anon.seasons.get_standings(page(5000, "")).await.unwrap_err();
    assert!(
        e.code() == Code::InvalidArgument && e.message().contains("page_size"),
        "{}",
        e.message()
    );
    let e = anon.seasons.get_standings(page(10, "nope")).await.unwrap_err();
    assert!(
        e.code() == Code::InvalidArgument && e.message().contains("page_token"),
        "{}",
        e.message()
    );
}
