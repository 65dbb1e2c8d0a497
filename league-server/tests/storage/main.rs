//! The store, tested the same way against both backends: SQLite (always) and PostgreSQL (a real
//! server named by `SLIPSTREAM_TEST_POSTGRES_URL`; `scripts/test` starts a throwaway cluster and sets
//! it, together with `SLIPSTREAM_REQUIRE_POSTGRES=1`, which turns a missing server into a failure).
//!
//! Every test gets a fresh database: a new SQLite file, or a new PostgreSQL database.

#[path = "../common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::Duration;

use slipstream_league::LeagueError;
use slipstream_league::league::Viewer;
use slipstream_league::races::RaceSpec;
use slipstream_league::ranking::{self, Key, Lap, Ranked};
use slipstream_league::store::{
    Backend, BoardChange, BoardRow, Completion, JobSubject, ModelRow, RaceRow, Role, Store, SubStatus, SubmissionRow,
};
use slipstream_league::util::now_ms;
use sqlx::Connection;

/// A fresh, empty database of `backend`: (URL, the folder holding it for SQLite). `None` when
/// PostgreSQL is not configured (and not required).
async fn fresh(backend: Backend) -> Option<(String, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    match backend {
        Backend::Sqlite => Some((format!("sqlite://{}", dir.path().join("league.db").display()), dir)),
        Backend::Postgres => {
            let Ok(base) = std::env::var("SLIPSTREAM_TEST_POSTGRES_URL") else {
                assert!(
                    std::env::var("SLIPSTREAM_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                    "SLIPSTREAM_REQUIRE_POSTGRES=1 but SLIPSTREAM_TEST_POSTGRES_URL is not set"
                );
                eprintln!("skipped: SLIPSTREAM_TEST_POSTGRES_URL is not set (scripts/test sets it)");
                return None;
            };
            sqlx::any::install_default_drivers();
            let name = format!(
                "slipstream_test_{}",
                slipstream_league::util::new_id("db").trim_start_matches("db_")
            );
            let mut admin = sqlx::AnyConnection::connect(&base)
                .await
                .expect("the test PostgreSQL server answers");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .unwrap();
            admin.close().await.unwrap();
            let (head, tail) = base.split_once('?').map_or((base.as_str(), ""), |(h, t)| (h, t));
            let (server, _) = head.rsplit_once('/').expect("a URL like postgres://user@host:port/db");
            let url = if tail.is_empty() {
                format!("{server}/{name}")
            } else {
                format!("{server}/{name}?{tail}")
            };
            Some((url, dir))
        }
    }
}

/// Define `name` once per backend: `name::sqlite` and `name::postgres`. `name(store)` gets a fresh
/// store; after `with_url:`, `name(store, url)` also gets the database's URL (to arrange rows with
/// SQL the store does not offer).
macro_rules! on_both {
    (with_url: $($name:ident),* $(,)?) => {$( on_both!(@test $name, |store, url| super::$name(store, url)); )*};
    ($($name:ident),* $(,)?) => {$( on_both!(@test $name, |store, _url| super::$name(store)); )*};
    (@test $name:ident, |$store:ident, $url:ident| $call:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let ($url, _dir) = fresh(Backend::Sqlite).await.unwrap();
                let $store = Store::connect(&$url).await.unwrap();
                $call.await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(($url, _dir)) = fresh(Backend::Postgres).await {
                    let $store = Store::connect(&$url).await.unwrap();
                    assert_eq!($store.backend(), Backend::Postgres);
                    $call.await;
                }
            }
        }
    };
}

on_both!(
    users_and_tokens,
    races_visibility_invites_and_deletion,
    models_blobs_and_deduplication,
    submission_caps_hold_under_concurrency,
    leaderboard_rows_are_each_racers_best,
    ties_are_ordered_by_submission_not_by_when_evaluations_finish,
    a_new_bootstrap_token_retires_the_old_one,
    tokens_are_listed_without_secrets,
    seasons_round_trip_and_public_places_are_found,
);
mod accounts;
mod matches;
mod migrations;
mod queue;
mod ranking_order;
mod trainings;

fn spec(name: &str) -> RaceSpec {
    let now = now_ms();
    RaceSpec::time_trial(name, "oval", now - 1000, now + 3_600_000)
}

fn model_row(owner: &str, name: &str, sha: &str) -> ModelRow {
    ModelRow {
        id: slipstream_league::util::new_id("mdl"),
        owner_id: owner.into(),
        name: name.into(),
        sha256: sha.into(),
        size: 3,
        uploaded_at: now_ms(),
        sensor: "lidar".into(),
        action_space_type: "discrete".into(),
        network: "mlp".into(),
        deleted: false,
        spec_json: String::new(),
    }
}

fn laps(ms: &[i64]) -> Vec<Lap> {
    ms.iter()
        .map(|&t| Lap {
            time_ms: t,
            penalty_ms: 0,
            off_track: 0,
            collisions: 0,
            completed: true,
        })
        .collect()
}

/// A race, a racer with a model, ready to submit.
async fn setup(store: &Store, racer: &str, race: Option<&RaceRow>) -> (RaceRow, String, String) {
    let race = match race {
        Some(r) => r.clone(),
        None => {
            let admin = store.create_user(&format!("admin-{racer}"), Role::Admin).await.unwrap();
            store.insert_race(&spec("Cup"), &admin.id).await.unwrap()
        }
    };
    let u = store.create_user(racer, Role::Racer).await.unwrap();
    store.put_blob("abc", b"xyz").await.unwrap();
    let (m, _) = store.upsert_model(&model_row(&u.id, "m", "abc")).await.unwrap();
    (race, u.id, m.id)
}

async fn users_and_tokens(store: Store) {
    let alice = store.create_user("alice", Role::Racer).await.unwrap();
    assert!(matches!(
        store.create_user("alice", Role::Admin).await,
        Err(LeagueError::AlreadyExists(_))
    ));
    assert_eq!(store.user_by_name("alice").await.unwrap().unwrap(), alice);
    assert_eq!(store.user(&alice.id).await.unwrap().unwrap().role, Role::Racer);
    let now = now_ms();
    let tok = store.insert_token(&alice.id, "hash-1", "laptop", 0).await.unwrap();
    store
        .insert_token(&alice.id, "hash-old", "expired", now - 1)
        .await
        .unwrap();
    assert_eq!(
        store.user_for_token("hash-1", now).await.unwrap().unwrap().user.id,
        alice.id
    );
    assert!(
        store.user_for_token("hash-old", now).await.unwrap().is_none(),
        "expired"
    );
    assert!(store.user_for_token("hash-nope", now).await.unwrap().is_none());
    assert!(store.revoke_token(&tok).await.unwrap());
    assert!(!store.revoke_token(&tok).await.unwrap(), "already revoked");
    assert!(store.user_for_token("hash-1", now).await.unwrap().is_none(), "revoked");
    // The bootstrap token is registered once, however often the server starts.
    store.ensure_token(&alice.id, "boot", "bootstrap").await.unwrap();
    store.ensure_token(&alice.id, "boot", "bootstrap").await.unwrap();
    assert!(store.user_for_token("boot", now).await.unwrap().is_some());
    for i in 0..5 {
        store.create_user(&format!("u{i}"), Role::Racer).await.unwrap();
    }
    let page1 = store.list_users(0, 4).await.unwrap();
    let page2 = store.list_users(4, 4).await.unwrap();
    assert_eq!((page1.len(), page2.len()), (4, 2));
    assert!(page1.iter().all(|u| !page2.contains(u)));
}

async fn races_visibility_invites_and_deletion(store: Store) {
    let admin = store.create_user("root", Role::Admin).await.unwrap();
    let racer = store.create_user("rita", Role::Racer).await.unwrap();
    let public = store.insert_race(&spec("Public"), &admin.id).await.unwrap();
    let private = store
        .insert_race(
            &RaceSpec {
                private: true,
                ..spec("Private")
            },
            &admin.id,
        )
        .await
        .unwrap();
    assert_eq!(
        store.race(&public.id).await.unwrap().unwrap(),
        public,
        "the spec round-trips"
    );
    let names = |v: Vec<RaceRow>| v.into_iter().map(|r| r.spec.name).collect::<Vec<_>>();
    assert_eq!(
        names(store.list_races(Viewer::PUBLIC.race_scope(), 0, 10).await.unwrap()),
        ["Public"]
    );
    assert_eq!(
        names(
            store
                .list_races(Viewer::user(&racer).race_scope(), 0, 10)
                .await
                .unwrap()
        ),
        ["Public"]
    );
    assert_eq!(
        store
            .list_races(Viewer::user(&admin).race_scope(), 0, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    // Invites: stored by hash, revocable; joining makes the race visible.
    let inv = store
        .insert_invite(&private.id, "inv-hash", now_ms() + 60_000)
        .await
        .unwrap();
    assert_eq!(store.invite_by_hash("inv-hash").await.unwrap().unwrap(), inv);
    store.use_invite(&inv.id).await.unwrap();
    store.add_member(&private.id, &racer.id).await.unwrap();
    store.add_member(&private.id, &racer.id).await.unwrap();
    assert!(store.is_member(&private.id, &racer.id).await.unwrap());
    assert_eq!(
        store
            .list_races(Viewer::user(&racer).race_scope(), 0, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    store.revoke_invite(&inv.id).await.unwrap();
    let inv2 = store.invite(&inv.id).await.unwrap().unwrap();
    assert!(inv2.revoked && inv2.uses == 1);
    assert_eq!(store.list_invites(&private.id).await.unwrap().len(), 1);
    // Editing.
    let mut edited = private.spec.clone();
    edited.laps = 5;
    store.update_race(&private.id, &edited).await.unwrap();
    assert_eq!(store.race(&private.id).await.unwrap().unwrap().spec.laps, 5);
    // Deleting cancels queued work and removes members and invites; submissions stay as records.
    store.put_blob("abc", b"xyz").await.unwrap();
    let (m, _) = store.upsert_model(&model_row(&racer.id, "m", "abc")).await.unwrap();
    let sub = store.insert_submission(&private.id, &m.id, &racer.id, 0).await.unwrap();
    store.delete_race(&private.id).await.unwrap();
    assert!(store.race(&private.id).await.unwrap().is_none());
    assert!(!store.is_member(&private.id, &racer.id).await.unwrap());
    assert!(store.list_invites(&private.id).await.unwrap().is_empty());
    let s = store.submission(&sub.id).await.unwrap().unwrap();
    assert_eq!(s.status, SubStatus::Cancelled);
    assert!(
        store.lease_job("w", 60_000, true).await.unwrap().is_none(),
        "its job was cancelled"
    );
    // Uploaded tracks.
    store.insert_track("upload:ff", "mine", "{}", &admin.id).await.unwrap();
    store.insert_track("upload:ff", "mine", "{}", &admin.id).await.unwrap();
    assert_eq!(store.list_tracks().await.unwrap().len(), 1);
    assert_eq!(store.track("upload:ff").await.unwrap().unwrap().name, "mine");
}

async fn models_blobs_and_deduplication(store: Store) {
    let a = store.create_user("ann", Role::Racer).await.unwrap();
    let b = store.create_user("ben", Role::Racer).await.unwrap();
    // Blobs: binary-safe, large, stored once per hash.
    let big: Vec<u8> = (0..5 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let sha = slipstream_league::util::sha256_hex(&big);
    store.put_blob(&sha, &big).await.unwrap();
    store.put_blob(&sha, &big).await.unwrap();
    assert_eq!(store.blob(&sha).await.unwrap().unwrap(), big);
    assert!(store.blob("missing").await.unwrap().is_none());
    // The same bytes from the same owner are one model; another owner gets their own.
    let (m1, existed) = store.upsert_model(&model_row(&a.id, "first", &sha)).await.unwrap();
    assert!(!existed);
    let (m2, existed) = store.upsert_model(&model_row(&a.id, "again", &sha)).await.unwrap();
    assert_eq!((m1.id.as_str(), m2.name.as_str()), (m2.id.as_str(), "first"));
    assert!(existed, "the same bytes again: the earlier model, as it was");
    let (mb, existed) = store.upsert_model(&model_row(&b.id, "bens", &sha)).await.unwrap();
    assert_ne!(mb.id, m1.id);
    assert!(!existed);
    assert_eq!(store.list_models(&a.id, 0, 10).await.unwrap().len(), 1);
    // Deleting hides it; uploading the bytes again revives it under the new name.
    store.delete_model(&m1.id).await.unwrap();
    assert!(store.list_models(&a.id, 0, 10).await.unwrap().is_empty());
    assert!(store.model(&m1.id).await.unwrap().unwrap().deleted);
    let (back, existed) = store.upsert_model(&model_row(&a.id, "revived", &sha)).await.unwrap();
    assert!(!existed, "revived under the new name");
    assert_eq!(
        (back.id.as_str(), back.name.as_str(), back.deleted),
        (m1.id.as_str(), "revived", false)
    );
    // Concurrent uploads of the same bytes agree on one model.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (store, owner) = (store.clone(), b.id.clone());
        tasks.push(tokio::spawn(async move {
            store.upsert_model(&model_row(&owner, &format!("c{i}"), "shared")).await
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap().unwrap().0.id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
}

async fn submission_caps_hold_under_concurrency(store: Store) {
    let (race, user, model) = setup(&store, "flood", None).await;
    let store = Arc::new(store);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (store, race, user, model) = (store.clone(), race.id.clone(), user.clone(), model.clone());
        tasks.push(tokio::spawn(async move {
            store.insert_submission(&race, &model, &user, 3).await
        }));
    }
    let (mut ok, mut capped) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(LeagueError::ResourceExhausted(_)) => capped += 1,
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert_eq!((ok, capped), (3, 17));
    assert_eq!(store.count_submissions(&race.id, &user).await.unwrap(), 3);
    // Cancelling gives a slot back.
    let mine = store
        .list_submissions(Some(&user), Some(&race.id), 0, 10)
        .await
        .unwrap();
    let cancelled = store.cancel_submission(&mine[0].id).await.unwrap().unwrap();
    assert_eq!(
        (cancelled.id.as_str(), cancelled.status),
        (mine[0].id.as_str(), SubStatus::Cancelled)
    );
    assert!(
        store.cancel_submission(&mine[0].id).await.unwrap().is_none(),
        "already cancelled"
    );
    store.insert_submission(&race.id, &model, &user, 3).await.unwrap();
    assert!(matches!(
        store.insert_submission(&race.id, &model, &user, 3).await,
        Err(LeagueError::ResourceExhausted(_))
    ));
}

async fn leaderboard_rows_are_each_racers_best(store: Store) {
    let (race, ann, m_ann) = setup(&store, "ann", None).await;
    let (_, ben, m_ben) = setup(&store, "ben", Some(&race)).await;
    let run = |user: String, model: String, t: Vec<i64>| {
        let (store, race) = (store.clone(), race.clone());
        async move {
            let s = store.insert_submission(&race.id, &model, &user, 0).await.unwrap();
            let j = store.lease_job("w", 60_000, true).await.unwrap().unwrap();
            assert_eq!(j.subject, JobSubject::Evaluation(s.id.clone()));
            let done = store
                .complete_job(&j.job_id, &j.lease_token, &laps(&t), b"t", None, &race)
                .await
                .unwrap();
            let Completion::Recorded { board, .. } = done else {
                panic!("not recorded")
            };
            tokio::time::sleep(Duration::from_millis(3)).await;
            (s.id, board)
        }
    };
    let (a1, change) = run(ann.clone(), m_ann.clone(), vec![9000]).await;
    assert!(matches!(change, BoardChange::Set(ref r) if r.submission_id == a1));
    let _b1 = run(ben.clone(), m_ben.clone(), vec![9000]).await;
    let board = store.leaderboard(&race.id).await.unwrap();
    assert_eq!(
        board.iter().map(|r| r.user_name.as_str()).collect::<Vec<_>>(),
        ["ann", "ben"],
        "a tie: earlier first"
    );
    // An equal score later does not replace ann's row; a better one does.
    let (_, change) = run(ann.clone(), m_ann.clone(), vec![9000]).await;
    assert_eq!(change, BoardChange::Unchanged);
    assert_eq!(store.leaderboard(&race.id).await.unwrap()[0].submission_id, a1);
    let (b2, change) = run(ben.clone(), m_ben.clone(), vec![7000, 7100]).await;
    assert!(matches!(change, BoardChange::Set(ref r) if r.score_ms == 7000));
    let board = store.leaderboard(&race.id).await.unwrap();
    assert_eq!(
        (
            board[0].user_name.as_str(),
            board[0].submission_id.as_str(),
            board[0].best_lap_ms
        ),
        ("ben", b2.as_str(), 7000)
    );
    assert_eq!(board.len(), 2, "one row per racer");
    // A worse result never lowers a row.
    let (_, change) = run(ben.clone(), m_ben.clone(), vec![20_000]).await;
    assert_eq!(change, BoardChange::Unchanged);
    assert_eq!(store.leaderboard(&race.id).await.unwrap()[0].score_ms, 7000);
    // A submission that does not qualify never enters the board.
    let (_, cid, m_cid) = setup(&store, "cid", Some(&race)).await;
    let s = store.insert_submission(&race.id, &m_cid, &cid, 0).await.unwrap();
    let j = store.lease_job("w", 60_000, true).await.unwrap().unwrap();
    assert_eq!(j.subject, JobSubject::Evaluation(s.id.clone()));
    let dnf = vec![Lap {
        time_ms: 3000,
        penalty_ms: 0,
        off_track: 1,
        collisions: 0,
        completed: false,
    }];
    store
        .complete_job(&j.job_id, &j.lease_token, &dnf, b"t", None, &race)
        .await
        .unwrap();
    assert_eq!(store.leaderboard(&race.id).await.unwrap().len(), 2);
}

/// Two racers tie; the later submitter's evaluation finishes first, and the earlier submitter's result
/// is evaluated again after: the earlier submission stays first, and both share the rank.
async fn ties_are_ordered_by_submission_not_by_when_evaluations_finish(store: Store) {
    let (race, ann, m_ann) = setup(&store, "ann", None).await;
    let (_, ben, m_ben) = setup(&store, "ben", Some(&race)).await;
    let sa = store.insert_submission(&race.id, &m_ann, &ann, 0).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let sb = store.insert_submission(&race.id, &m_ben, &ben, 0).await.unwrap();
    let ja = store.lease_job("w1", 60_000, true).await.unwrap().unwrap();
    let jb = store.lease_job("w2", 60_000, true).await.unwrap().unwrap();
    assert_eq!(
        (ja.subject.submission_id().unwrap(), jb.subject.submission_id().unwrap()),
        (sa.id.as_str(), sb.id.as_str())
    );
    // ben's evaluation finishes first.
    store
        .complete_job(&jb.job_id, &jb.lease_token, &laps(&[9000]), b"t", None, &race)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    store
        .complete_job(&ja.job_id, &ja.lease_token, &laps(&[9000]), b"t", None, &race)
        .await
        .unwrap();
    let order = |rows: Vec<BoardRow>| rows.into_iter().map(|r| r.user_name).collect::<Vec<_>>();
    let board = store.leaderboard(&race.id).await.unwrap();
    assert_eq!(order(board.clone()), ["ann", "ben"], "the earlier submission first");
    assert_eq!(
        (board[0].submitted_at, board[1].submitted_at),
        (sa.submitted_at, sb.submitted_at)
    );
    assert!(
        board[0].achieved_at > board[1].achieved_at,
        "ann's evaluation finished later"
    );
    let cached = slipstream_league::boards::Board::new(board);
    assert_eq!(cached.ranks, [1, 1], "an equal score shares the rank");
    // An admin re-evaluates ann's result: it finishes last of all, and changes nothing.
    assert!(store.requeue_submission(&sa.id).await.unwrap().is_some());
    let j = store.lease_job("w1", 60_000, true).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let done = store
        .complete_job(&j.job_id, &j.lease_token, &laps(&[9000]), b"t", None, &race)
        .await
        .unwrap();
    assert!(
        matches!(
            done,
            Completion::Recorded {
                board: BoardChange::Set(_) | BoardChange::Unchanged,
                ..
            }
        ),
        "{done:?}"
    );
    assert_eq!(order(store.leaderboard(&race.id).await.unwrap()), ["ann", "ben"]);
}

async fn a_new_bootstrap_token_retires_the_old_one(store: Store) {
    let admin = store.create_user("admin", Role::Admin).await.unwrap();
    let now = now_ms();
    assert_eq!(store.set_bootstrap_token(&admin.id, "boot-a").await.unwrap(), 0);
    assert_eq!(
        store.set_bootstrap_token(&admin.id, "boot-a").await.unwrap(),
        0,
        "the same again"
    );
    assert!(store.user_for_token("boot-a", now).await.unwrap().is_some());
    // Another admin token issued through the API is not a bootstrap token: it stays.
    store.insert_token(&admin.id, "issued", "laptop", 0).await.unwrap();
    assert_eq!(store.set_bootstrap_token(&admin.id, "boot-b").await.unwrap(), 1);
    assert!(store.user_for_token("boot-a", now).await.unwrap().is_none(), "retired");
    assert!(store.user_for_token("boot-b", now).await.unwrap().is_some());
    assert!(store.user_for_token("issued", now).await.unwrap().is_some());
    // Going back to the first works again (and retires the second).
    assert_eq!(store.set_bootstrap_token(&admin.id, "boot-a").await.unwrap(), 1);
    assert!(store.user_for_token("boot-a", now).await.unwrap().is_some());
    assert!(store.user_for_token("boot-b", now).await.unwrap().is_none());
    // Another user's token cannot become the bootstrap token.
    let rita = store.create_user("rita", Role::Racer).await.unwrap();
    store.insert_token(&rita.id, "ritas", "", 0).await.unwrap();
    assert!(matches!(
        store.set_bootstrap_token(&admin.id, "ritas").await,
        Err(LeagueError::InvalidArgument(_))
    ));
    assert!(
        store.user_for_token("boot-a", now).await.unwrap().is_some(),
        "nothing changed"
    );
}

async fn tokens_are_listed_without_secrets(store: Store) {
    let ann = store.create_user("ann", Role::Racer).await.unwrap();
    let ben = store.create_user("ben", Role::Racer).await.unwrap();
    let now = now_ms();
    let t1 = store.insert_token(&ann.id, "h1", "laptop", 0).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2)).await;
    let t2 = store.insert_token(&ann.id, "h2", "old", now - 1).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2)).await;
    let t3 = store.insert_token(&ann.id, "h3", "gone", 0).await.unwrap();
    store.revoke_token(&t3).await.unwrap();
    let tb = store.insert_token(&ben.id, "hb", "", now + 60_000).await.unwrap();
    let ids = |v: Vec<slipstream_league::store::TokenRow>| v.into_iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list_tokens(Some(&ann.id), false, now, 0, 10).await.unwrap()),
        std::slice::from_ref(&t1)
    );
    assert_eq!(
        ids(store.list_tokens(Some(&ann.id), true, now, 0, 10).await.unwrap()),
        [t1.clone(), t2, t3.clone()]
    );
    let all = store.list_tokens(None, false, now, 0, 10).await.unwrap();
    assert_eq!(ids(all.clone()), [t1, tb]);
    assert_eq!((all[1].user_name.as_str(), all[1].expires_at), ("ben", now + 60_000));
    let gone = store.list_tokens(Some(&ann.id), true, now, 2, 10).await.unwrap();
    assert_eq!((gone[0].id.as_str(), gone[0].revoked_at > 0), (t3.as_str(), true));
    assert!(!format!("{all:?}").contains("h1"), "no hashes: {all:?}");
}

async fn seasons_round_trip_and_public_places_are_found(store: Store) {
    use slipstream_league::seasons::SeasonSpec;
    let admin = store.create_user("root", Role::Admin).await.unwrap();
    let public = store.insert_race(&spec("Public"), &admin.id).await.unwrap();
    let private = store
        .insert_race(
            &RaceSpec {
                private: true,
                ..spec("Private")
            },
            &admin.id,
        )
        .await
        .unwrap();
    let season = SeasonSpec {
        name: "2026".into(),
        description: "monthly cups".into(),
        points: vec![10, 5],
        race_ids: vec![public.id.clone()],
    };
    let a = store.insert_season(&season, &admin.id).await.unwrap();
    assert_eq!(store.season(&a.id).await.unwrap().unwrap(), a, "the spec round-trips");
    tokio::time::sleep(Duration::from_millis(2)).await;
    let b = store
        .insert_season(
            &SeasonSpec {
                name: "2027".into(),
                ..season.clone()
            },
            &admin.id,
        )
        .await
        .unwrap();
    let names = |v: Vec<slipstream_league::store::SeasonRow>| v.into_iter().map(|s| s.spec.name).collect::<Vec<_>>();
    assert_eq!(
        names(store.list_seasons(0, 10).await.unwrap()),
        ["2027", "2026"],
        "newest first"
    );
    assert_eq!(names(store.list_seasons(1, 10).await.unwrap()), ["2026"]);
    let mut more = season.clone();
    more.race_ids.push("race_later".into());
    store.update_season(&a.id, &more).await.unwrap();
    assert_eq!(store.season(&a.id).await.unwrap().unwrap().spec.race_ids.len(), 2);
    store.delete_season(&b.id).await.unwrap();
    assert!(store.season(&b.id).await.unwrap().is_none());

    // A racer's public places: rows on public boards only.
    let rita = store.create_user("rita", Role::Racer).await.unwrap();
    let row = |race: &str| BoardRow {
        user_id: rita.id.clone(),
        user_name: "rita".into(),
        submission_id: format!("sub_{race}"),
        score_ms: 9000,
        submitted_at: 1,
        achieved_at: 2,
        off_track: 0,
        best_lap_ms: 9000,
        model_name: "m".into(),
    };
    store.insert_board_row(&public.id, &row("a")).await.unwrap();
    store.insert_board_row(&private.id, &row("b")).await.unwrap();
    assert_eq!(store.public_races_ranking(&rita.id).await.unwrap(), [public.id]);
    assert!(store.public_races_ranking(&admin.id).await.unwrap().is_empty());
}
