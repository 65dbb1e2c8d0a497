//! Workers: leases, retries, failures, and a remote worker process.

use super::*;

#[tokio::test]
async fn worker_leases_retries_and_failures() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let (_, _, mut w) = s.user("worker1", pb::Role::Worker).await;
    let (_, _, mut a) = s.user("alice", pb::Role::Racer).await;
    assert_eq!(
        code(a.workers.lease_job(pb::LeaseJobRequest::default()).await),
        Code::PermissionDenied
    );
    assert_eq!(
        code(
            w.workers
                .lease_job(pb::LeaseJobRequest {
                    worker_name: "w".into(),
                    lease_seconds: 1,
                    ..Default::default()
                })
                .await
        ),
        Code::InvalidArgument
    );
    assert!(
        w.workers
            .lease_job(pb::LeaseJobRequest::default())
            .await
            .unwrap()
            .into_inner()
            .job
            .is_none(),
        "empty queue"
    );
    let race = admin
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(open_spec("Q", "oval")),
        })
        .await
        .unwrap()
        .into_inner();
    let bytes = random_model(9);
    let m = upload(&mut a, &bytes, "m", None).await.unwrap();
    let sub = submit(&mut a, &race.id, &m.id).await.unwrap().into_inner();

    // Lease: the job carries the race and the model's hash; the model streams back intact.
    let job = w
        .workers
        .lease_job(pb::LeaseJobRequest {
            worker_name: "w".into(),
            lease_seconds: 30,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(job.submission_id, sub.id);
    let run: slipstream_league::races::RaceRun = serde_json::from_str(&job.race_json).unwrap();
    assert_eq!((run.rules.laps, run.track_name.as_str()), (3, "oval"));
    let mut stream = w
        .workers
        .fetch_model(pb::FetchModelRequest {
            job_id: job.job_id.clone(),
            lease_token: job.lease_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut got = Vec::new();
    while let Some(c) = stream.message().await.unwrap() {
        got.extend(c.data);
    }
    assert_eq!(got, bytes);
    assert_eq!(
        a.submissions
            .get_submission(pb::GetSubmissionRequest {
                submission_id: sub.id.clone()
            })
            .await
            .unwrap()
            .into_inner()
            .status,
        pb::SubmissionStatus::Running as i32
    );
    // A wrong lease token is refused; heartbeats extend the lease.
    let bad = pb::HeartbeatRequest {
        job_id: job.job_id.clone(),
        lease_token: "lease_wrong".into(),
        lease_seconds: 30,
    };
    assert_eq!(code(w.workers.heartbeat(bad).await), Code::FailedPrecondition);
    let hb = w
        .workers
        .heartbeat(pb::HeartbeatRequest {
            job_id: job.job_id.clone(),
            lease_token: job.lease_token.clone(),
            lease_seconds: 60,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(hb.lease_expires_at_ms > job.lease_expires_at_ms);
    // Bad results are refused; failures are retried with back-off until the attempts run out.
    let empty = pb::CompleteJobRequest {
        job_id: job.job_id.clone(),
        lease_token: job.lease_token.clone(),
        outcome: Some(pb::complete_job_request::Outcome::Result(pb::JobResult::default())),
    };
    assert_eq!(code(w.workers.complete_job(empty).await), Code::InvalidArgument);
    let mut job = job;
    for attempt in 1..=3 {
        let fail = pb::CompleteJobRequest {
            job_id: job.job_id.clone(),
            lease_token: job.lease_token.clone(),
            outcome: Some(pb::complete_job_request::Outcome::Failure(format!("boom {attempt}"))),
        };
        w.workers.complete_job(fail).await.unwrap();
        if attempt < 3 {
            let status = a
                .submissions
                .get_submission(pb::GetSubmissionRequest {
                    submission_id: sub.id.clone(),
                })
                .await
                .unwrap()
                .into_inner();
            assert_eq!(status.status, pb::SubmissionStatus::Queued as i32, "retried");
            // Back-off: not due at once.
            let mut next = None;
            for _ in 0..100 {
                if let Some(j) = w
                    .workers
                    .lease_job(pb::LeaseJobRequest {
                        worker_name: "w".into(),
                        lease_seconds: 30,
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner()
                    .job
                {
                    next = Some(j);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            job = next.expect("the job comes back after its back-off");
        }
    }
    let failed = a
        .submissions
        .get_submission(pb::GetSubmissionRequest {
            submission_id: sub.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(failed.status, pb::SubmissionStatus::Failed as i32);
    assert!(
        failed.failure_reason.contains("boom 3") && failed.failure_reason.contains("3 attempt"),
        "{}",
        failed.failure_reason
    );
    assert_eq!(failed.attempts, 3);
    // A stale lease cannot complete.
    let stale = pb::CompleteJobRequest {
        job_id: job.job_id.clone(),
        lease_token: job.lease_token.clone(),
        outcome: Some(pb::complete_job_request::Outcome::Result(pb::JobResult {
            laps: vec![lap(1000, true)],
            trace: vec![],
            ..Default::default()
        })),
    };
    assert_eq!(code(w.workers.complete_job(stale).await), Code::FailedPrecondition);
    s.stop().await;
}

#[tokio::test]
async fn a_remote_worker_process_loop_evaluates() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let (_, wtoken, _) = s.user("remote1", pb::Role::Worker).await;
    let race = admin
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(pb::RaceSpec {
                laps: 1,
                ..open_spec("Remote", "oval")
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let (_, _, mut a) = s.user("alice", pb::Role::Racer).await;
    let m = upload(&mut a, &trained_model(), "m", None).await.unwrap();
    let sub = submit(&mut a, &race.id, &m.id).await.unwrap().into_inner();
    let clients = s.client(Some(&wtoken)).await;
    let (tx, rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(slipstream_league::worker::remote::run(
        clients,
        "remote".into(),
        Duration::from_secs(60),
        rx,
    ));
    let done = wait_finished(&mut a, &sub.id).await;
    assert_eq!(
        done.status,
        pb::SubmissionStatus::Completed as i32,
        "{}",
        done.failure_reason
    );
    assert_eq!(done.laps.len(), 1);
    assert!(done.laps[0].completed);
    tx.send(true).unwrap();
    worker.await.unwrap();
    s.stop().await;
}
