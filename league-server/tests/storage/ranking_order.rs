//! The ranking order in storage: the board query and a racer's row agree with `ranking::order`.

use super::*;

on_both!(the_board_query_orders_rows_as_the_ranking_does);
on_both!(with_url: a_racers_row_is_their_first_result_in_the_ranking_order);

/// Results that tie in every way but one, and ids as the store makes them (`sub_` and 32 hex
/// digits): (score, submitted at, off-tracks, submission id), in the ranking order.
fn adversarial_ties() -> Vec<(i64, i64, i64, String)> {
    let t = 1_700_000_000_000; // a time in milliseconds, as stored
    let id = |tail: &str| format!("sub_{tail:0>32}");
    vec![
        (7999, t + 999, 9, id("ff")), // the best score, whatever else
        (8000, t, 1, id("01")),
        (8000, t, 1, id("09")), // an exact tie on the key: the id decides (digits before letters)
        (8000, t, 1, id("0a")),
        (8000, t, 2, id("00")),       // more off-tracks
        (8000, t, 1 << 31, id("02")), // past i32
        (8000, t, u32::MAX as i64, id("03")),
        (8000, t + 1, 0, id("04")), // submitted later
        (8001, 0, 0, id("05")),     // a worse score, whatever else
    ]
}

fn key_of(score_ms: i64, submitted_at_ms: i64, off_track: i64) -> Key {
    Key {
        score_ms,
        submitted_at_ms,
        off_track: off_track as u32,
    }
}

/// The leaderboard query's ORDER BY (there for speed: the board sorts with `ranking::order`) gives
/// exactly the ranking order, ties and all.
async fn the_board_query_orders_rows_as_the_ranking_does(store: Store) {
    let admin = store.create_user("boss", Role::Admin).await.unwrap();
    let race = store.insert_race(&spec("Ties"), &admin.id).await.unwrap();
    let expected = adversarial_ties();
    // Inserted in a scrambled order.
    let mut order: Vec<usize> = (0..expected.len()).rev().collect();
    order.swap(0, 4);
    order.swap(2, 7);
    for i in order {
        let (score_ms, submitted_at, off_track, submission_id) = expected[i].clone();
        let u = store.create_user(&format!("racer{i}"), Role::Racer).await.unwrap();
        let row = BoardRow {
            user_id: u.id,
            user_name: u.name,
            submission_id,
            score_ms,
            submitted_at,
            // When the evaluation finished, in the opposite order: it never decides.
            achieved_at: 2 * 1_700_000_000_000 - submitted_at,
            off_track,
            best_lap_ms: score_ms,
            model_name: "m".into(),
        };
        store.insert_board_row(&race.id, &row).await.unwrap();
    }
    let read = store.leaderboard(&race.id).await.unwrap();
    let got: Vec<(i64, i64, i64, String)> = read
        .iter()
        .map(|r| (r.score_ms, r.submitted_at, r.off_track, r.submission_id.clone()))
        .collect();
    assert_eq!(got, expected, "the query's order");
    let mut sorted = read.clone();
    ranking::sort(&mut sorted);
    assert_eq!(sorted, read, "the ranking order");
    assert!(read.is_sorted_by(|a, b| ranking::order(a, b).is_lt()));
}

/// A submission as a candidate for its racer's row, the way the store sees it.
struct Candidate(SubmissionRow);

impl Ranked for Candidate {
    fn key(&self) -> Key {
        key_of(self.0.score_ms, self.0.submitted_at, self.0.off_track)
    }
    fn submission_id(&self) -> &str {
        &self.0.id
    }
}

/// A racer's row is their first qualifying result in the ranking order (`ranking::best`), on ties
/// of every kind: it is recomputed on each result recorded, so qualifying results are taken away
/// one at a time (best first) and the next one must take the row.
async fn a_racers_row_is_their_first_result_in_the_ranking_order(store: Store, url: String) {
    let (race, user, model) = setup(&store, "tied", None).await;
    let record = |t: Vec<Lap>| {
        let (store, race, user, model) = (store.clone(), race.clone(), user.clone(), model.clone());
        async move {
            let s = store.insert_submission(&race.id, &model, &user, 0).await.unwrap();
            let j = store.lease_job("w", 60_000, true).await.unwrap().unwrap();
            assert_eq!(j.subject.submission_id(), Some(s.id.as_str()));
            let done = store
                .complete_job(&j.job_id, &j.lease_token, &t, b"t", None, &race)
                .await
                .unwrap();
            let Completion::Recorded { board, .. } = done else {
                panic!("not recorded")
            };
            (s.id, board)
        }
    };
    // Qualifying results, then made into the adversarial ones with SQL (the store sets the time a
    // submission is made, and makes the ids). Evaluations finish in the opposite order of
    // submission: the finishing time never decides.
    let expected = adversarial_ties();
    let mut db = sqlx::AnyConnection::connect(&url).await.unwrap();
    for (i, (score_ms, submitted_at, off_track, id)) in expected.iter().enumerate().rev() {
        let (sub, _) = record(laps(&[9000 + i as i64])).await;
        sqlx::query(
            "UPDATE submissions SET id = $1, score_ms = $2, submitted_at = $3, finished_at = $4, off_track = $5 WHERE id = $6",
        )
        .bind(id)
        .bind(*score_ms)
        .bind(*submitted_at)
        .bind(2 * 1_700_000_000_000 - *submitted_at)
        .bind(*off_track)
            .bind(&sub)
            .execute(&mut db)
            .await
            .unwrap();
    }
    let dnf = || {
        vec![Lap {
            time_ms: 1000,
            penalty_ms: 0,
            off_track: 0,
            collisions: 0,
            completed: false,
        }]
    };
    for (score_ms, _, _, id) in &expected {
        // What the ranking picks from the store's own rows...
        let mine = store
            .list_submissions(Some(&user), Some(&race.id), 0, 100)
            .await
            .unwrap();
        let best = ranking::best(
            mine.into_iter()
                .filter(|s| s.status == SubStatus::Completed && s.qualified)
                .map(Candidate),
        )
        .unwrap();
        assert_eq!(&best.0.id, id);
        // ...is the row recording a result (one that does not qualify) leaves.
        let (_, change) = record(dnf()).await;
        let BoardChange::Set(row) = change else {
            panic!("the row changes to {id}: {change:?}")
        };
        assert_eq!((&row.submission_id, row.score_ms), (id, *score_ms));
        assert_eq!(store.leaderboard(&race.id).await.unwrap(), [row]);
        sqlx::query("UPDATE submissions SET qualified = 0 WHERE id = $1")
            .bind(id)
            .execute(&mut db)
            .await
            .unwrap();
    }
    let (_, change) = record(dnf()).await;
    assert_eq!(change, BoardChange::Removed, "no qualifying result is left");
    assert!(store.leaderboard(&race.id).await.unwrap().is_empty());
    db.close().await.unwrap();
}
