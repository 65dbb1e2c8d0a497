//! Submissions, evaluation, leaderboards and the remote-worker queue, black-box over TCP.

#[path = "../common/mod.rs"]
mod common;

use std::time::Duration;

use common::*;
use slipstream_league::client::Clients;
use slipstream_proto::v1 as pb;
use tonic::Code;

mod head_to_head;
mod workers;

fn lap(ms: i64, completed: bool) -> pb::LapTime {
    pb::LapTime {
        lap: 0,
        time_ms: ms,
        penalty_ms: 0,
        off_track: 0,
        collisions: 0,
        completed,
    }
}

/// Act as a remote worker: lease the next job and report `laps` for it.
async fn work(w: &mut Clients, laps: Vec<pb::LapTime>) -> pb::Job {
    for _ in 0..100 {
        if let Some(job) = w
            .workers
            .lease_job(pb::LeaseJobRequest {
                worker_name: "test".into(),
                lease_seconds: 60,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .job
        {
            let outcome = pb::complete_job_request::Outcome::Result(pb::JobResult {
                laps,
                trace: b"episode,steps\n".to_vec(),
                ..Default::default()
            });
            w.workers
                .complete_job(pb::CompleteJobRequest {
                    job_id: job.job_id.clone(),
                    lease_token: job.lease_token.clone(),
                    outcome: Some(outcome),
                })
                .await
                .unwrap();
            return job;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no job to lease");
}

#[tokio::test]
async fn a_trained_model_is_evaluated_and_ranked_with_a_trace() {
    let s = TestServer::start(1).await;
    let mut admin = s.admin().await;
    let race = admin
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(open_spec("Oval cup", "oval")),
        })
        .await
        .unwrap()
        .into_inner();
    let (alice, _, mut a) = s.user("alice", pb::Role::Racer).await;
    let trained = trained_model();
    let model = upload(&mut a, &trained, "oval-ace", None).await.unwrap();
    // Watch the race while the submission runs.
    let mut anon = s.client(None).await;
    let mut watch = anon
        .leaderboards
        .watch_leaderboard(pb::WatchLeaderboardRequest {
            race_id: race.id.clone(),
            top: 10,
        })
        .await
        .unwrap()
        .into_inner();
    let first = watch.message().await.unwrap().unwrap();
    assert!(matches!(first.event, Some(pb::leaderboard_event::Event::Snapshot(ref b)) if b.total == 0));
    let sub = submit(&mut a, &race.id, &model.id).await.unwrap().into_inner();
    assert_eq!(sub.status, pb::SubmissionStatus::Queued as i32);
    let done = wait_finished(&mut a, &sub.id).await;
    assert_eq!(
        done.status,
        pb::SubmissionStatus::Completed as i32,
        "{}",
        done.failure_reason
    );
    assert_eq!(done.laps.len(), 3);
    assert!(done.laps.iter().all(|l| l.completed), "{:?}", done.laps);
    assert!(done.qualified);
    let best = done.laps.iter().map(|l| l.time_ms).min().unwrap();
    assert_eq!(done.score_ms, best);
    assert!(best > 4000 && best < 30_000, "{best} ms");
    // Watchers saw the status change and the new rank.
    let mut saw_completed = false;
    let mut saw_rank = false;
    while !(saw_completed && saw_rank) {
        let ev = tokio::time::timeout(Duration::from_secs(10), watch.message())
            .await
            .expect("an event")
            .unwrap()
            .unwrap();
        match ev.event {
            Some(pb::leaderboard_event::Event::Submission(x)) if x.status == pb::SubmissionStatus::Completed as i32 => {
                saw_completed = true
            }
            Some(pb::leaderboard_event::Event::RankChange(r)) => {
                assert_eq!((r.rank, r.user_id.as_str(), r.score_ms), (1, alice.id.as_str(), best));
                saw_rank = true;
            }
            _ => {}
        }
    }
    // The leaderboard, readable without a token.
    let board = leaderboard(&mut anon, &race.id, 10, "").await.unwrap().into_inner();
    assert_eq!(board.total, 1);
    assert_eq!(board.rows[0].score_ms, best);
    assert_eq!(board.rows[0].model_name, "oval-ace");
    // The trace, in DeepRacer's layout.
    let mut stream = a
        .submissions
        .download_trace(pb::DownloadTraceRequest {
            submission_id: sub.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut trace = Vec::new();
    while let Some(c) = stream.message().await.unwrap() {
        trace.extend(c.data);
    }
    let text = String::from_utf8(trace).unwrap();
    assert!(text.starts_with("episode,steps,X,Y,yaw,steer,throttle,action,reward,done"));
    assert_eq!(text.lines().filter(|l| l.ends_with(",lap_complete,0.0")).count(), 3);
    // The replay, rendered from the trace when the evaluation completed: one frame per 1/15 s.
    let done = a
        .submissions
        .get_submission(pb::GetSubmissionRequest {
            submission_id: sub.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(done.has_replay);
    let mut stream = a
        .submissions
        .download_replay(pb::DownloadReplayRequest {
            submission_id: sub.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut gif = Vec::new();
    while let Some(c) = stream.message().await.unwrap() {
        gif.extend(c.data);
    }
    let rows = slipstream_sim::trace::parse_trace(&text).unwrap();
    let (expected, _) =
        slipstream_sim::plot::replay::frame_rows(&rows, 15.0, Some(slipstream_league::evaluation::REPLAY_MAX_FRAMES));
    let mut d = gif::DecodeOptions::new().read_info(&gif[..]).unwrap();
    let mut frames = 0;
    while d.read_next_frame().unwrap().is_some() {
        frames += 1;
    }
    assert_eq!(frames, expected.len());
    let (_, _, mut b) = s.user("bob", pb::Role::Racer).await;
    assert_eq!(
        code(
            b.submissions
                .download_trace(pb::DownloadTraceRequest {
                    submission_id: sub.id.clone()
                })
                .await
        ),
        Code::NotFound
    );
    assert_eq!(
        code(
            b.submissions
                .download_replay(pb::DownloadReplayRequest {
                    submission_id: sub.id.clone()
                })
                .await
        ),
        Code::NotFound
    );
    assert_eq!(
        code(
            b.submissions
                .get_submission(pb::GetSubmissionRequest {
                    submission_id: sub.id.clone()
                })
                .await
        ),
        Code::NotFound
    );

    // Re-evaluation (admins only) repeats the lap times exactly.
    assert_eq!(
        code(
            a.submissions
                .reevaluate(pb::ReevaluateRequest {
                    submission_id: sub.id.clone()
                })
                .await
        ),
        Code::PermissionDenied
    );
    admin
        .submissions
        .reevaluate(pb::ReevaluateRequest {
            submission_id: sub.id.clone(),
        })
        .await
        .unwrap();
    let again = wait_finished(&mut a, &sub.id).await;
    assert_eq!(again.laps, done.laps, "a fixed seed: identical lap times");
    s.stop().await;
}

#[tokio::test]
async fn ranking_rules_ties_and_best_results() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let (_, _, mut w) = s.user("worker1", pb::Role::Worker).await;
    let spec = pb::RaceSpec {
        timing: pb::TimingMethod::BestAverage as i32,
        min_laps: 2,
        laps: 4,
        ..open_spec("Averages", "oval")
    };
    let race = admin
        .races
        .create_race(pb::CreateRaceRequest { spec: Some(spec) })
        .await
        .unwrap()
        .into_inner();
    let mut racers = Vec::new();
    for name in ["ann", "ben", "cid", "dee"] {
        let (u, _, mut c) = s.user(name, pb::Role::Racer).await;
        let m = upload(&mut c, &random_model(u.name.len() as i64 + 10), name, None)
            .await
            .unwrap();
        racers.push((u, c, m));
    }
    let submit = |c: &Clients, m: &pb::ModelInfo, race: &str| {
        let req = pb::SubmitRequest {
            race_id: race.to_string(),
            model_id: m.id.clone(),
        };
        let mut c = c.clone();
        async move { c.submissions.submit(req).await.unwrap().into_inner() }
    };
    // ann: best average over 2 consecutive completed laps = (9000 + 9500) / 2 = 9250.
    let sa = submit(&racers[0].1, &racers[0].2, &race.id).await;
    work(
        &mut w,
        vec![
            lap(10_000, true),
            lap(9_000, true),
            lap(9_500, true),
            lap(20_000, false),
        ],
    )
    .await;
    // ben: a fast lap but no two consecutive completed laps: does not qualify.
    let sb = submit(&racers[1].1, &racers[1].2, &race.id).await;
    work(
        &mut w,
        vec![lap(5_000, true), lap(1, false), lap(6_000, true), lap(1, false)],
    )
    .await;
    // cid: the same 9250 as ann, submitted later: listed after her, sharing her rank.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let sc = submit(&racers[2].1, &racers[2].2, &race.id).await;
    work(
        &mut w,
        vec![lap(9_250, true), lap(9_250, true), lap(30_000, true), lap(30_000, true)],
    )
    .await;
    // dee: 8000.
    let sd = submit(&racers[3].1, &racers[3].2, &race.id).await;
    work(
        &mut w,
        vec![lap(8_000, true), lap(8_000, true), lap(8_000, true), lap(8_000, true)],
    )
    .await;

    let a = wait_finished(&mut racers[0].1, &sa.id).await;
    assert!(a.qualified && a.score_ms == 9250, "{a:?}");
    let b = wait_finished(&mut racers[1].1, &sb.id).await;
    assert!(!b.qualified && b.status == pb::SubmissionStatus::Completed as i32);
    wait_finished(&mut racers[2].1, &sc.id).await;
    wait_finished(&mut racers[3].1, &sd.id).await;
    let board = |c: &mut Clients, size: u32, token: String| {
        let mut c = c.clone();
        let race_id = race.id.clone();
        async move {
            c.leaderboards
                .get_leaderboard(pb::GetLeaderboardRequest {
                    race_id,
                    page_size: size,
                    page_token: token,
                })
                .await
                .unwrap()
                .into_inner()
        }
    };
    let full = board(&mut admin, 50, String::new()).await;
    let names: Vec<(u32, String, i64)> = full
        .rows
        .iter()
        .map(|r| (r.rank, r.user_name.clone(), r.score_ms))
        .collect();
    assert_eq!(
        names,
        vec![
            (1, "dee".into(), 8000),
            (2, "ann".into(), 9250),
            (2, "cid".into(), 9250)
        ]
    );
    assert_eq!(full.timing, pb::TimingMethod::BestAverage as i32);
    // Pages.
    let p1 = board(&mut admin, 2, String::new()).await;
    assert_eq!((p1.rows.len(), p1.total), (2, 3));
    let p2 = board(&mut admin, 2, p1.next_page_token.clone()).await;
    assert_eq!(p2.rows.len(), 1);
    assert_eq!(p2.rows[0].user_name, "cid");
    assert!(p2.next_page_token.is_empty());

    // ann's best is replaced only by a strictly better result.
    let worse = submit(&racers[0].1, &racers[0].2, &race.id).await;
    work(
        &mut w,
        vec![lap(9_250, true), lap(9_250, true), lap(9_250, true), lap(9_250, true)],
    )
    .await; // equal, later: no change
    wait_finished(&mut racers[0].1, &worse.id).await;
    let b2 = board(&mut admin, 50, String::new()).await;
    assert_eq!(
        b2.rows[1].submission_id, sa.id,
        "an equal score submitted later does not replace the best"
    );
    let better = submit(&racers[0].1, &racers[0].2, &race.id).await;
    work(
        &mut w,
        vec![lap(7_000, true), lap(7_500, true), lap(9_000, true), lap(9_000, true)],
    )
    .await;
    wait_finished(&mut racers[0].1, &better.id).await;
    let b3 = board(&mut admin, 50, String::new()).await;
    assert_eq!(
        (
            b3.rows[0].user_name.as_str(),
            b3.rows[0].score_ms,
            b3.rows[0].submission_id.as_str()
        ),
        ("ann", 7250, better.id.as_str())
    );
    assert_eq!(b3.total, 3, "one row per racer");
    s.stop().await;
}

/// The next event of a watch, which must be a submission's.
async fn next_submission(w: &mut tonic::Streaming<pb::LeaderboardEvent>) -> pb::Submission {
    match tokio::time::timeout(Duration::from_secs(10), w.message()).await {
        Ok(Ok(Some(pb::LeaderboardEvent {
            event: Some(pb::leaderboard_event::Event::Submission(s)),
        }))) => s,
        other => panic!("expected a submission event, got {other:?}"),
    }
}

/// Anonymous watchers of a public race, and other racers, hear of submissions only what the public
/// leaderboard shows; the submission's owner hears it whole.
#[tokio::test]
async fn public_watch_streams_carry_only_public_fields() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let race = admin
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(open_spec("Open cup", "oval")),
        })
        .await
        .unwrap()
        .into_inner();
    let (alice, _, mut alice_c) = s.user("alice", pb::Role::Racer).await;
    let (_, _, mut bob_c) = s.user("bob", pb::Role::Racer).await;
    let mut anon = s.client(None).await;
    let watch = |c: &mut Clients| {
        let mut c = c.clone();
        let race_id = race.id.clone();
        async move {
            let mut w = c
                .leaderboards
                .watch_leaderboard(pb::WatchLeaderboardRequest { race_id, top: 10 })
                .await
                .unwrap()
                .into_inner();
            assert!(matches!(
                w.message().await.unwrap().unwrap().event,
                Some(pb::leaderboard_event::Event::Snapshot(_))
            ));
            w
        }
    };
    let mut anon_w = watch(&mut anon).await;
    let mut bob_w = watch(&mut bob_c).await;
    let mut alice_w = watch(&mut alice_c).await;
    let mut admin_w = watch(&mut admin).await;
    let m = upload(&mut alice_c, &random_model(5), "secret-model", None)
        .await
        .unwrap();
    let sub = submit(&mut alice_c, &race.id, &m.id).await.unwrap().into_inner();
    alice_c
        .submissions
        .cancel_submission(pb::CancelSubmissionRequest {
            submission_id: sub.id.clone(),
        })
        .await
        .unwrap();
    for w in [&mut anon_w, &mut bob_w] {
        let queued = next_submission(w).await;
        let cancelled = next_submission(w).await;
        assert_eq!(
            (queued.id.as_str(), queued.user_id.as_str(), queued.status),
            (sub.id.as_str(), alice.id.as_str(), pb::SubmissionStatus::Queued as i32)
        );
        assert_eq!(cancelled.status, pb::SubmissionStatus::Cancelled as i32);
        for e in [&queued, &cancelled] {
            assert!(
                e.model_id.is_empty() && e.failure_reason.is_empty() && e.laps.is_empty(),
                "{e:?}"
            );
            assert_eq!((e.attempts, e.score_ms), (0, 0));
            assert_eq!(e.submitted_at_ms, sub.submitted_at_ms);
        }
    }
    for w in [&mut alice_w, &mut admin_w] {
        let queued = next_submission(w).await;
        let cancelled = next_submission(w).await;
        assert_eq!(queued.model_id, m.id);
        assert_eq!(cancelled.failure_reason, "cancelled");
    }
    s.stop().await;
}

#[tokio::test]
async fn submission_rules_caps_windows_and_cancellation() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let (_, _, mut a) = s.user("alice", pb::Role::Racer).await;
    let (_, _, mut b) = s.user("bob", pb::Role::Racer).await;
    let m = upload(&mut a, &random_model(5), "m", None).await.unwrap();
    let capped = admin
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(pb::RaceSpec {
                max_submissions_per_user: 3,
                ..open_spec("Capped", "oval")
            }),
        })
        .await
        .unwrap()
        .into_inner();
    // A flood past the cap: exactly 3 get in.
    let mut ok = 0;
    let mut exhausted = 0;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let mut c = a.clone();
        let req = pb::SubmitRequest {
            race_id: capped.id.clone(),
            model_id: m.id.clone(),
        };
        tasks.push(tokio::spawn(async move { c.submissions.submit(req).await }));
    }
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) if e.code() == Code::ResourceExhausted => exhausted += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!((ok, exhausted), (3, 9));
    // Cancelling frees a slot.
    let mine = a
        .submissions
        .list_submissions(pb::ListSubmissionsRequest {
            race_id: capped.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mine.submissions.len(), 3);
    let first = &mine.submissions[0];
    assert_eq!(
        code(
            b.submissions
                .cancel_submission(pb::CancelSubmissionRequest {
                    submission_id: first.id.clone()
                })
                .await
        ),
        Code::NotFound
    );
    let c = a
        .submissions
        .cancel_submission(pb::CancelSubmissionRequest {
            submission_id: first.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(c.status, pb::SubmissionStatus::Cancelled as i32);
    assert_eq!(
        code(
            a.submissions
                .cancel_submission(pb::CancelSubmissionRequest {
                    submission_id: first.id.clone()
                })
                .await
        ),
        Code::FailedPrecondition
    );
    submit(&mut a, &capped.id, &m.id).await.unwrap();
    // Other racers' models, unknown races, windows.
    assert_eq!(code(submit(&mut b, &capped.id, &m.id).await), Code::NotFound);
    assert_eq!(code(submit(&mut a, "race_nope", &m.id).await), Code::NotFound);
    let now = slipstream_league::util::now_ms();
    let later = admin
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(pb::RaceSpec {
                opens_at_ms: now + 3_600_000,
                closes_at_ms: now + 7_200_000,
                ..open_spec("Later", "oval")
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let e = submit(&mut a, &later.id, &m.id).await.unwrap_err();
    assert!(
        e.code() == Code::FailedPrecondition && e.message().contains("opens"),
        "{}",
        e.message()
    );
    let closing = admin
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(pb::RaceSpec {
                opens_at_ms: now - 2000,
                closes_at_ms: now + 400,
                ..open_spec("Closing", "oval")
            }),
        })
        .await
        .unwrap()
        .into_inner();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let e = submit(&mut a, &closing.id, &m.id).await.unwrap_err();
    assert!(
        e.code() == Code::FailedPrecondition && e.message().contains("closed"),
        "{}",
        e.message()
    );
    // Private races need an invite.
    let private = admin
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(pb::RaceSpec {
                private: true,
                ..open_spec("Private", "oval")
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(code(submit(&mut a, &private.id, &m.id).await), Code::NotFound);
    let inv = admin
        .races
        .create_invite(pb::CreateInviteRequest {
            race_id: private.id.clone(),
            expires_at_ms: 0,
        })
        .await
        .unwrap()
        .into_inner();
    a.races
        .join_race(pb::JoinRaceRequest {
            invite_token: inv.token,
        })
        .await
        .unwrap();
    submit(&mut a, &private.id, &m.id).await.unwrap();
    // The private leaderboard is hidden from strangers.
    let mut anon = s.client(None).await;
    assert_eq!(
        code(
            anon.leaderboards
                .get_leaderboard(pb::GetLeaderboardRequest {
                    race_id: private.id.clone(),
                    ..Default::default()
                })
                .await
        ),
        Code::NotFound
    );
    s.stop().await;
}
