//! The evaluation queue in storage: leases, retries, recovery, and workers that never share a job.

use super::*;

on_both!(
    the_queue_leases_retries_and_recovers,
    concurrent_workers_never_share_a_job,
    an_interrupted_evaluation_does_not_use_up_attempts,
    watchers_hear_of_every_status_a_lease_gives_a_submission,
);

async fn the_queue_leases_retries_and_recovers(store: Store) {
    let (race, user, model) = setup(&store, "q", None).await;
    assert!(store.lease_job("w", 60_000, true).await.unwrap().is_none(), "empty");
    let s1 = store.insert_submission(&race.id, &model, &user, 0).await.unwrap();
    tokio::time::sleep(Duration::from_millis(3)).await;
    let s2 = store.insert_submission(&race.id, &model, &user, 0).await.unwrap();
    // Oldest first.
    let j1 = store.lease_job("w", 60_000, true).await.unwrap().unwrap();
    assert_eq!((j1.subject.submission_id(), j1.attempts), (Some(s1.id.as_str()), 1));
    assert_eq!(
        store.submission(&s1.id).await.unwrap().unwrap().status,
        SubStatus::Running
    );
    // Heartbeats need the token.
    assert!(matches!(
        store.heartbeat(&j1.job_id, "wrong", 60_000).await,
        Err(LeagueError::FailedPrecondition(_))
    ));
    assert!(store.heartbeat(&j1.job_id, &j1.lease_token, 120_000).await.unwrap() > j1.lease_expires_at);
    // Completing records the laps and the leaderboard row; a second completion is ignored.
    let done = store
        .complete_job(
            &j1.job_id,
            &j1.lease_token,
            &laps(&[9000, 8000, 8500]),
            b"trace",
            Some(b"GIF89a"),
            &race,
        )
        .await
        .unwrap();
    let Completion::Recorded { submission: sub, board } = done else {
        panic!("not recorded")
    };
    // The trace and the replay are stored as blobs, named on the submission.
    assert_eq!(
        store.blob(&sub.trace_sha256).await.unwrap().as_deref(),
        Some(&b"trace"[..])
    );
    assert_eq!(
        store.blob(&sub.replay_sha256).await.unwrap().as_deref(),
        Some(&b"GIF89a"[..])
    );
    let BoardChange::Set(row) = board else {
        panic!("a first qualifying result enters the board: {board:?}")
    };
    assert_eq!((row.score_ms, row.submission_id.as_str()), (8000, sub.id.as_str()));
    assert_eq!(row.user_name, store.user(&user).await.unwrap().unwrap().name);
    assert_eq!(
        (sub.status, sub.score_ms, sub.qualified),
        (SubStatus::Completed, 8000, true)
    );
    assert_eq!(store.blob(&sub.trace_sha256).await.unwrap().unwrap(), b"trace");
    assert_eq!(
        store
            .complete_job(&j1.job_id, &j1.lease_token, &laps(&[1]), b"", None, &race)
            .await
            .unwrap(),
        Completion::Ignored
    );
    assert_eq!(store.leaderboard(&race.id).await.unwrap()[0].score_ms, 8000);

    // Failures back off, then fail for good after max_attempts.
    let j2 = store.lease_job("w", 60_000, true).await.unwrap().unwrap();
    assert_eq!(j2.subject.submission_id(), Some(s2.id.as_str()));
    let retried = store
        .fail_job(&j2.job_id, &j2.lease_token, "boom", 2, 60_000)
        .await
        .unwrap()
        .expect("the submission as the failure left it");
    assert_eq!(retried.status, SubStatus::Queued, "retried");
    assert_eq!(store.submission(&s2.id).await.unwrap().unwrap(), retried);
    assert!(
        store.lease_job("w", 60_000, true).await.unwrap().is_none(),
        "backing off for a minute"
    );
    // (A short back-off this time.)
    let s3 = store.insert_submission(&race.id, &model, &user, 0).await.unwrap();
    let j3 = store.lease_job("w", 60_000, true).await.unwrap().unwrap();
    assert_eq!(j3.subject.submission_id(), Some(s3.id.as_str()));
    store
        .fail_job(&j3.job_id, &j3.lease_token, "first", 2, 1)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let j3 = store.lease_job("w", 60_000, true).await.unwrap().unwrap();
    assert_eq!((j3.subject.submission_id(), j3.attempts), (Some(s3.id.as_str()), 2));
    let failed = store
        .fail_job(&j3.job_id, &j3.lease_token, "second", 2, 1)
        .await
        .unwrap()
        .expect("failed for good");
    assert_eq!(failed.status, SubStatus::Failed);
    assert!(
        failed.failure_reason.contains("second") && failed.failure_reason.contains("2 attempt"),
        "{}",
        failed.failure_reason
    );

    // Expired leases go back to the queue (not counting the attempt: an interruption); released ones
    // do not count either.
    let s4 = store.insert_submission(&race.id, &model, &user, 0).await.unwrap();
    let j4 = store.lease_job("local:boot1:0", 1, true).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let back = store.requeue_expired(None).await.unwrap();
    assert_eq!(back, vec![store.submission(&s4.id).await.unwrap().unwrap()]);
    assert_eq!(back[0].status, SubStatus::Queued);
    assert!(matches!(
        store.heartbeat(&j4.job_id, &j4.lease_token, 60_000).await,
        Err(LeagueError::FailedPrecondition(_))
    ));
    let j4b = store.lease_job("local:boot2:0", 60_000, true).await.unwrap().unwrap();
    assert_eq!((j4b.job_id.as_str(), j4b.attempts), (j4.job_id.as_str(), 1));
    let released = store.release_job(&j4b.job_id, &j4b.lease_token).await.unwrap();
    let s = store.submission(&s4.id).await.unwrap().unwrap();
    assert_eq!(released.as_ref(), Some(&s));
    assert_eq!((s.status, s.attempts), (SubStatus::Queued, 0));
    // A restarted single server reclaims its own dead leases at once, expired or not.
    let j4c = store.lease_job("local:boot3:0", 600_000, true).await.unwrap().unwrap();
    assert_eq!(j4c.submission.as_ref().map(|s| s.status), Some(SubStatus::Running));
    assert!(store.requeue_expired(None).await.unwrap().is_empty());
    assert_eq!(
        store.submission(&s4.id).await.unwrap().unwrap().status,
        SubStatus::Running,
        "not expired yet"
    );
    store.requeue_expired(Some("local:")).await.unwrap();
    assert_eq!(
        store.submission(&s4.id).await.unwrap().unwrap().status,
        SubStatus::Queued
    );
    assert_eq!(
        store
            .complete_job(&j4c.job_id, &j4c.lease_token, &laps(&[1]), b"", None, &race)
            .await
            .unwrap(),
        Completion::Ignored
    );

    // Re-evaluation queues a finished submission again.
    let again = store.requeue_submission(&s1.id).await.unwrap().unwrap();
    assert_eq!((again.status, again.attempts), (SubStatus::Queued, 0));
    assert!(
        store.requeue_submission(&s4.id).await.unwrap().is_none(),
        "only finished submissions"
    );
    let counts = store.job_counts().await.unwrap();
    assert!(counts.iter().any(|(s, n)| s == "queued" && *n >= 2), "{counts:?}");
}

async fn concurrent_workers_never_share_a_job(store: Store) {
    let (race, user, model) = setup(&store, "many", None).await;
    for _ in 0..24 {
        store.insert_submission(&race.id, &model, &user, 0).await.unwrap();
    }
    let mut tasks = Vec::new();
    for w in 0..6 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            let mut idle = 0;
            while idle < 20 {
                match store.lease_job(&format!("worker{w}"), 60_000, true).await.unwrap() {
                    Some(j) => got.push(j.job_id),
                    None => {
                        idle += 1;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!((n, all.len()), (24, 24), "every job leased exactly once");
}

/// A lost lease (the worker or the server stopped) returns the job without using up an attempt: the
/// third interruption of a 3-attempt job leaves it queued. Only a runaway number of interruptions
/// fails it.
async fn an_interrupted_evaluation_does_not_use_up_attempts(store: Store) {
    let (race, user, model) = setup(&store, "iris", None).await;
    let s = store.insert_submission(&race.id, &model, &user, 0).await.unwrap();
    for boot in 0..3 {
        let j = store
            .lease_job(&format!("local:boot{boot}:0"), 600_000, true)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(j.attempts, 1, "interruptions are not attempts");
        // A restart reclaims the dead server's lease; an expired lease (a remote worker) likewise.
        let back = store.requeue_expired(Some("local:")).await.unwrap();
        let now = store.submission(&s.id).await.unwrap().unwrap();
        assert_eq!((now.status, now.attempts), (SubStatus::Queued, 0), "boot {boot}");
        assert_eq!(back, vec![now]);
    }
    let j = store.lease_job("w", 1, true).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let back = store.requeue_expired(None).await.unwrap();
    assert_eq!(back.iter().map(|s| s.status).collect::<Vec<_>>(), [SubStatus::Queued]);
    // At once again (no back-off: it was not the model's failure), and it completes.
    let j2 = store.lease_job("w", 60_000, true).await.unwrap().unwrap();
    assert_eq!((j2.job_id.as_str(), j2.attempts), (j.job_id.as_str(), 1));
    let done = store
        .complete_job(&j2.job_id, &j2.lease_token, &laps(&[9000]), b"t", None, &race)
        .await
        .unwrap();
    let Completion::Recorded { submission, .. } = done else {
        panic!("not recorded")
    };
    assert_eq!((submission.status, submission.attempts), (SubStatus::Completed, 1));
    // A model that takes its worker down every time still ends, after MAX_INTERRUPTIONS.
    let s2 = store.insert_submission(&race.id, &model, &user, 0).await.unwrap();
    let mut failed = Vec::new();
    for _ in 0..slipstream_league::store::MAX_INTERRUPTIONS {
        let j = store.lease_job("local:boot:0", 600_000, true).await.unwrap().unwrap();
        assert_eq!(j.subject.submission_id(), Some(s2.id.as_str()));
        failed = store.requeue_expired(Some("local:")).await.unwrap();
    }
    assert_eq!(failed.len(), 1, "the last interruption: failed for good");
    assert_eq!(failed[0].status, SubStatus::Failed);
    assert!(
        failed[0].failure_reason.contains("interrupted"),
        "{}",
        failed[0].failure_reason
    );
}

/// A submission's watchers hear of each status the queue gives it: running when leased, queued
/// when its lease runs out or is given back, failed when a failure is its last attempt.
async fn watchers_hear_of_every_status_a_lease_gives_a_submission(store: Store) {
    let clock = slipstream_league::util::Clock::default();
    let store = store.with_clock(clock.clone());
    let (race, user, model) = setup(&store, "w", None).await;
    let ctx = slipstream_league::ctx::Ctx::new(
        store.clone(),
        slipstream_league::Config {
            max_attempts: 1,
            clock: clock.clone(),
            ..Default::default()
        },
    );
    let mut heard = ctx.boards.subscribe();
    let sub = store.insert_submission(&race.id, &model, &user, 0).await.unwrap();
    let mut next = || {
        let e = heard.try_recv().expect("an update");
        assert_eq!(
            (e.race_id.as_str(), e.submission.id.as_str()),
            (race.id.as_str(), sub.id.as_str())
        );
        slipstream_proto::v1::SubmissionStatus::try_from(e.submission.status).unwrap()
    };
    use slipstream_proto::v1::SubmissionStatus as S;
    ctx.lease_job("w", 1_000, true).await.unwrap().unwrap();
    assert_eq!(next(), S::Running);
    clock.advance(Duration::from_secs(2));
    assert_eq!(ctx.requeue_expired(None).await.unwrap(), 0, "none failed");
    assert_eq!(next(), S::Queued);
    let j = ctx.lease_job("w", 60_000, true).await.unwrap().unwrap();
    assert_eq!(next(), S::Running);
    ctx.release_job(&j.job_id, &j.lease_token).await.unwrap();
    assert_eq!(next(), S::Queued);
    let j = ctx.lease_job("w", 60_000, true).await.unwrap().unwrap();
    assert_eq!(next(), S::Running);
    ctx.fail_job(&j.job_id, &j.lease_token, "no model").await.unwrap();
    assert_eq!(next(), S::Failed);
    assert!(heard.try_recv().is_err(), "nothing else");
}
