//! Head-to-head matches and their events in storage: round trips, a bracket key raced once, and a
//! match's status moving with its job (lease, retry, interruption, failure, completion).

use slipstream_league::brackets::Elimination;
use slipstream_league::matches::{Entrant, EventKind, EventSpec, MatchResult, MatchStatus, SeatResult, Seeded};

use super::*;

on_both!(
    events_and_matches_round_trip_and_a_bracket_key_is_raced_once,
    a_match_moves_with_its_job,
);

fn entrant(i: usize) -> Entrant {
    Entrant {
        submission_id: format!("sub_{i}"),
        user_id: format!("user_{i}"),
        user_name: format!("racer {i}"),
        model_name: format!("model {i}"),
    }
}

fn bracket(race_id: &str) -> EventSpec {
    EventSpec {
        name: "Final".into(),
        description: "the last two".into(),
        race_id: race_id.into(),
        kind: EventKind::Bracket {
            elimination: Elimination::Single,
            entrants: (0..2)
                .map(|i| Seeded {
                    entrant: entrant(i),
                    rank: i as u32 + 1,
                    score_ms: 9_000 + i as i64,
                })
                .collect(),
        },
    }
}

fn result() -> MatchResult {
    MatchResult {
        seats: vec![
            SeatResult {
                place: 2,
                laps: laps(&[12_000]),
            },
            SeatResult {
                place: 1,
                laps: laps(&[9_000]),
            },
        ],
    }
}

async fn events_and_matches_round_trip_and_a_bracket_key_is_raced_once(store: Store) {
    let (race, _, _) = setup(&store, "e", None).await;
    let e = store.insert_event(&bracket(&race.id), "admin").await.unwrap();
    assert!(e.id.starts_with("bracket_"), "{}", e.id);
    assert_eq!(store.event(&e.id).await.unwrap().unwrap(), e);
    assert_eq!(store.list_events(0, 10).await.unwrap(), vec![e.clone()]);
    assert!(store.event("nope").await.unwrap().is_none());

    let seats = [entrant(0), entrant(1)];
    let m = store.insert_match(&race.id, &e.id, Some("W1-1"), &seats).await.unwrap();
    assert_eq!(m.status, MatchStatus::Queued);
    assert_eq!(store.match_row(&m.id).await.unwrap().unwrap(), m);
    // The same key again: the match already there, and no second job.
    let again = store.insert_match(&race.id, &e.id, Some("W1-1"), &seats).await.unwrap();
    assert_eq!(again.id, m.id);
    assert_eq!(store.job_counts().await.unwrap(), vec![("queued".to_string(), 1)]);
    // Matches of their own are keyed by their id: any number of them.
    let a = store.insert_match(&race.id, "", None, &seats).await.unwrap();
    let b = store.insert_match(&race.id, "", None, &seats).await.unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(a.event_key, a.id);
    assert_eq!(store.job_counts().await.unwrap(), vec![("queued".to_string(), 3)]);
    let listed: Vec<String> = store
        .event_matches(&e.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(listed, vec![m.id]);
}

async fn a_match_moves_with_its_job(store: Store) {
    let (race, user, model) = setup(&store, "m", None).await;
    let seats = [entrant(0), entrant(1)];
    let m = store.insert_match(&race.id, "", None, &seats).await.unwrap();
    // A worker that cannot race matches (a remote worker) is not given one; a submission still is.
    assert!(store.lease_job("remote", 60_000, false).await.unwrap().is_none());
    let s = store.insert_submission(&race.id, &model, &user, 0).await.unwrap();
    let j = store.lease_job("remote", 60_000, false).await.unwrap().unwrap();
    assert_eq!(j.subject, JobSubject::Evaluation(s.id.clone()));

    let status = |id: String| {
        let store = store.clone();
        async move { store.match_row(&id).await.unwrap().unwrap() }
    };
    // Leased: running. A failed attempt: queued again (after its back-off).
    let j = store.lease_job("w", 60_000, true).await.unwrap().unwrap();
    assert_eq!(j.subject, JobSubject::Match(m.id.clone()));
    assert_eq!(status(m.id.clone()).await.status, MatchStatus::Running);
    assert!(
        store
            .fail_job(&j.job_id, &j.lease_token, "boom", 3, 0)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(status(m.id.clone()).await.status, MatchStatus::Queued);
    // An interrupted lease: queued again without using up an attempt.
    let j = store.lease_job("w", 1, true).await.unwrap().unwrap();
    assert_eq!(j.attempts, 2);
    tokio::time::sleep(Duration::from_millis(5)).await;
    store.requeue_expired(None).await.unwrap();
    assert_eq!(status(m.id.clone()).await.status, MatchStatus::Queued);
    // Completed: done, with its result; a stale second completion changes nothing.
    let j = store.lease_job("w", 60_000, true).await.unwrap().unwrap();
    assert_eq!(j.attempts, 2);
    let done = store
        .complete_match(
            &j.job_id,
            &j.lease_token,
            &result(),
            &[b"tr0".to_vec(), Vec::new()],
            Some(b"GIF89a"),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.blob(&done.replay_sha256).await.unwrap().unwrap(), b"GIF89a");
    // Each seat's trace, in grid order ('' for a seat that forfeited); read back as stored.
    assert_eq!(done.trace_sha256s.len(), 2);
    assert_eq!(store.blob(&done.trace_sha256s[0]).await.unwrap().unwrap(), b"tr0");
    assert_eq!(done.trace_sha256s[1], "");
    assert_eq!(status(m.id.clone()).await.trace_sha256s, done.trace_sha256s);
    assert_eq!(done.status, MatchStatus::Done);
    assert_eq!(done.result, Some(result()));
    assert_eq!(done.result.unwrap().winner(), 1);
    assert!(done.finished_at > 0);
    assert!(
        store
            .complete_match(&j.job_id, &j.lease_token, &result(), &[], None)
            .await
            .unwrap()
            .is_none()
    );

    // A match that fails every attempt fails for good, with the reason.
    let f = store.insert_match(&race.id, "", None, &seats).await.unwrap();
    for _ in 0..2 {
        let j = store.lease_job("w", 60_000, true).await.unwrap().unwrap();
        store
            .fail_job(&j.job_id, &j.lease_token, "no model", 2, 0)
            .await
            .unwrap();
    }
    let failed = status(f.id.clone()).await;
    assert_eq!(failed.status, MatchStatus::Failed);
    assert!(failed.failure_reason.contains("no model"), "{}", failed.failure_reason);
    assert!(failed.result.is_none());
    // An admin retries it: queued again with a fresh job (only a failed match can be).
    assert!(store.requeue_match(&f.id).await.unwrap());
    assert!(!store.requeue_match(&f.id).await.unwrap());
    let again = status(f.id.clone()).await;
    assert_eq!((again.status, again.failure_reason.as_str()), (MatchStatus::Queued, ""));
    let j = store.lease_job("w", 60_000, true).await.unwrap().unwrap();
    assert_eq!((&j.subject, j.attempts), (&JobSubject::Match(f.id.clone()), 1));
}
