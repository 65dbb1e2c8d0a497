//! Databases over time: an old database migrated without losing rows, and a server on PostgreSQL
//! that keeps its results across restarts.

use super::*;

on_both!(with_url: an_old_database_is_migrated_without_losing_rows);

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
    let (m, _) = old.upsert_model(&model_row(&ann.id, "m", "abc")).await.unwrap();
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
    assert_eq!(store.model(&m.id).await.unwrap().unwrap().name, "m");
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
