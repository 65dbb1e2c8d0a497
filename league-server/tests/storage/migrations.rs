//! Databases over time: an old database migrated without losing rows, and a server on PostgreSQL
//! that keeps its results across restarts.

use super::*;

on_both!(with_url: an_old_database_is_migrated_without_losing_rows);
on_both!(a_model_uploaded_before_settings_were_stored_has_them_read_from_its_file_once);

/// A database made before migration 2 keeps every row; its leaderboard rows are recomputed with the
/// new tie-break (the earlier submission of an equal score), and its bootstrap token is recognised.
async fn an_old_database_is_migrated_without_losing_rows(_store: Store, _url: String) {
    // (The store given is migrated already: make a fresh database at version 1.)
    let Some((url, _dir)) = fresh(_store.backend()).await else {
        return;
    };
    let old = Store::connect_at_version(&url, 1).await.unwrap();
    let admin = old.create_user("admin", Role::Admin).await.unwrap();
    let ann = old.create_user("ann", Role::Racer).await.unwrap();
    let race = old.insert_race(&spec("Old cup"), &admin.id).await.unwrap();
    old.put_blob("abc", b"xyz").await.unwrap();
    old.insert_token(
        &admin.id,
        &slipstream_league::util::secret_hash("old-boot"),
        "bootstrap admin token",
        0,
    )
    .await
    .unwrap();
    old.close().await;
    let mut db = sqlx::AnyConnection::connect(&url).await.unwrap();
    let t = 1_700_000_000_000_i64;
    // A model as version 1 stored it (no settings).
    sqlx::query(
        "INSERT INTO models (id, owner_id, name, sha256, size, uploaded_at, sensor, action_space_type, network, deleted) \
         VALUES ('mdl_old', $1, 'm', 'abc', 3, $2, 'lidar', 'discrete', 'mlp', 0)",
    )
    .bind(&ann.id)
    .bind(t)
    .execute(&mut db)
    .await
    .unwrap();
    let m = model_row(&ann.id, "m", "abc");
    let m = slipstream_league::store::ModelRow {
        id: "mdl_old".into(),
        ..m
    };
    let laps_json = serde_json::to_string(&laps(&[9000])).unwrap();
    // s1 was submitted first but its evaluation finished last: the old rule chose s2.
    for (id, submitted, finished) in [("sub_1", t, t + 500), ("sub_2", t + 100, t + 200)] {
        sqlx::query(
            "INSERT INTO submissions (id, race_id, model_id, user_id, status, laps_json, qualified, score_ms, off_track, \
             collisions, failure_reason, submitted_at, finished_at, attempts, trace_sha256) \
             VALUES ($1, $2, $3, $4, 'completed', $5, 1, 9000, 0, 0, '', $6, $7, 1, '')",
        )
        .bind(id)
        .bind(&race.id)
        .bind(&m.id)
        .bind(&ann.id)
        .bind(&laps_json)
        .bind(submitted)
        .bind(finished)
        .execute(&mut db)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO leaderboard (race_id, user_id, submission_id, score_ms, achieved_at, off_track, best_lap_ms, model_name) \
         VALUES ($1, $2, 'sub_2', 9000, $3, 0, 9000, 'm')",
    )
    .bind(&race.id)
    .bind(&ann.id)
    .bind(t + 200)
    .execute(&mut db)
    .await
    .unwrap();
    db.close().await.unwrap();

    let store = Store::connect(&url).await.unwrap();
    let board = store.leaderboard(&race.id).await.unwrap();
    assert_eq!(board.len(), 1);
    assert_eq!(
        (
            board[0].submission_id.as_str(),
            board[0].submitted_at,
            board[0].achieved_at,
            board[0].best_lap_ms
        ),
        ("sub_1", t, t + 500, 9000)
    );
    for id in ["sub_1", "sub_2"] {
        assert_eq!(
            store.submission(id).await.unwrap().unwrap().status,
            SubStatus::Completed
        );
    }
    let migrated = store.model(&m.id).await.unwrap().unwrap();
    assert_eq!((migrated.name.as_str(), migrated.spec_json.as_str()), ("m", ""));
    let tokens = store.list_tokens(None, false, now_ms(), 0, 10).await.unwrap();
    assert_eq!(tokens.len(), 1);
    assert!(tokens[0].bootstrap, "the old bootstrap token is recognised");
    // So a new --admin-token retires it.
    assert_eq!(store.set_bootstrap_token(&admin.id, "new-boot").await.unwrap(), 1);
    // Connecting again finds nothing left to do.
    store.close().await;
    let again = Store::connect(&url).await.unwrap();
    assert_eq!(again.leaderboard(&race.id).await.unwrap(), board);
}

/// The whole server on PostgreSQL: evaluate, rank, restart, and the results are still there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_on_postgres_evaluates_and_keeps_results_across_restarts() {
    use common::*;
    use slipstream_proto::v1 as pb;
    let Some(db) = fresh(Backend::Postgres).await else {
        return;
    };
    let s = TestServer::start_with(
        slipstream_league::Config {
            workers: 1,
            ..test_config()
        },
        Some(db),
    )
    .await;
    let mut admin = s.admin().await;
    let race = admin
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(pb::RaceSpec {
                laps: 1,
                ..open_spec("PG cup", "oval")
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let (_, _, mut a) = s.user("alice", pb::Role::Racer).await;
    let m = upload(&mut a, &trained_model(), "pg-model", None).await.unwrap();
    let sub = submit(&mut a, &race.id, &m.id).await.unwrap().into_inner();
    let done = wait_finished(&mut a, &sub.id).await;
    assert_eq!(
        done.status,
        pb::SubmissionStatus::Completed as i32,
        "{}",
        done.failure_reason
    );
    assert!(done.qualified, "{:?}", done.laps);
    let db = s.stop().await;
    let s = TestServer::start_with(
        slipstream_league::Config {
            workers: 0,
            ..test_config()
        },
        Some(db),
    )
    .await;
    let mut anon = s.client(None).await;
    let board = leaderboard(&mut anon, &race.id, 10, "").await.unwrap().into_inner();
    assert_eq!((board.total, board.rows[0].score_ms), (1, done.score_ms));
    s.stop().await;
}

/// A model stored without its settings (uploaded before migration 6) has them read from its file
/// the first time a head-to-head event needs them, and stored for every owner's copy.
async fn a_model_uploaded_before_settings_were_stored_has_them_read_from_its_file_once(store: Store) {
    let file = common::random_model(3);
    let sha = slipstream_league::util::sha256_hex(&file);
    store.put_blob(&sha, &file).await.unwrap();
    let ann = store.create_user("ann", Role::Racer).await.unwrap();
    let bob = store.create_user("bob", Role::Racer).await.unwrap();
    let (m, _) = store.upsert_model(&model_row(&ann.id, "m", &sha)).await.unwrap();
    let (copy, _) = store.upsert_model(&model_row(&bob.id, "copy", &sha)).await.unwrap();
    assert_eq!(m.spec_json, "");
    let ctx = slipstream_league::ctx::Ctx::new(store.clone(), slipstream_league::Config::default());
    let spec = ctx.model_spec(&m).await.unwrap().unwrap();
    let loaded = slipstream_trainer::Model::from_bytes(&file, std::path::Path::new("m"), tch::Device::Cpu).unwrap();
    assert_eq!(spec, loaded.spec);
    for id in [&m.id, &copy.id] {
        let stored = store.model(id).await.unwrap().unwrap().spec_json;
        let stored: slipstream_trainer::model::ModelSpec = serde_json::from_str(&stored).unwrap();
        assert_eq!(stored, loaded.spec, "{id}");
    }
    // A file that no longer loads: its error, and nothing stored.
    store.put_blob("bad", b"not a model").await.unwrap();
    let (bad, _) = store.upsert_model(&model_row(&ann.id, "bad", "bad")).await.unwrap();
    let err = ctx.model_spec(&bad).await.unwrap().unwrap_err();
    assert!(!err.is_empty());
    assert_eq!(store.model(&bad.id).await.unwrap().unwrap().spec_json, "");
}
