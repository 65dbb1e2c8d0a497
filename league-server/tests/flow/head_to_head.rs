//! Head-to-head over the API: an admin's final, a double-elimination bracket raced by the queue
//! and advancing by itself, a rating ladder, matches repeating exactly, and who may see and make
//! them.

use super::*;

/// A race where slow models still rank: laps driven continuously, unlimited resets.
fn h2h_spec(name: &str) -> pb::RaceSpec {
    pb::RaceSpec {
        laps: 2,
        min_laps: 1,
        continuous: true,
        number_of_resets: 10_000,
        ..open_spec(name, "oval")
    }
}

/// Racers named `names`, each submitting `models[i]` to `race`; returns their submissions once
/// evaluated (all ranked).
async fn ranked(s: &TestServer, race: &str, names: &[&str], models: &[Vec<u8>]) -> Vec<pb::Submission> {
    let mut subs = Vec::new();
    for (name, bytes) in names.iter().zip(models) {
        let (_, _, mut c) = s.user(name, pb::Role::Racer).await;
        let m = upload(&mut c, bytes, &format!("{name}'s model"), None).await.unwrap();
        let sub = submit(&mut c, race, &m.id).await.unwrap().into_inner();
        let done = wait_finished(&mut c, &sub.id).await;
        assert!(done.qualified, "{name}: {done:?}");
        subs.push(done);
    }
    subs
}

async fn event(c: &mut Clients, id: &str) -> pb::Event {
    c.head_to_head
        .get_event(pb::GetEventRequest { event_id: id.into() })
        .await
        .unwrap()
        .into_inner()
}

/// Poll an event until `done` holds (at most a minute).
async fn wait_event(c: &mut Clients, id: &str, done: impl Fn(&pb::Event) -> bool) -> pb::Event {
    for _ in 0..600 {
        let e = event(c, id).await;
        if done(&e) {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("event {id} did not get there: {:?}", event(c, id).await);
}

async fn wait_match(c: &mut Clients, id: &str) -> pb::Match {
    for _ in 0..600 {
        let m = c
            .head_to_head
            .get_match(pb::GetMatchRequest { match_id: id.into() })
            .await
            .unwrap()
            .into_inner();
        if m.status == pb::MatchStatus::Done as i32 || m.status == pb::MatchStatus::Failed as i32 {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("match {id} was not raced");
}

/// A downloaded file's bytes.
async fn downloaded<T>(
    r: Result<tonic::Response<tonic::Streaming<T>>, tonic::Status>,
    data: fn(T) -> Vec<u8>,
) -> Vec<u8> {
    let mut stream = r.unwrap().into_inner();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.message().await.unwrap() {
        bytes.extend(data(chunk));
    }
    bytes
}

/// Clients signed in as an existing user.
async fn signed_in(s: &TestServer, user_id: &str) -> Clients {
    let token = s
        .admin()
        .await
        .users
        .issue_token(pb::IssueTokenRequest {
            user_id: user_id.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .token;
    s.client(Some(&token)).await
}

fn bracket(e: &pb::Event) -> &pb::Bracket {
    match &e.kind {
        Some(pb::event::Kind::Bracket(b)) => b,
        other => panic!("not a bracket: {other:?}"),
    }
}

#[tokio::test]
async fn an_admins_final_is_won_by_the_faster_model_and_repeats_exactly() {
    let s = TestServer::start(1).await;
    let mut admin = s.admin().await;
    let race = create_race(&mut admin, h2h_spec("Final race")).await;
    let subs = ranked(&s, &race.id, &["alice", "bob"], &[trained_model(), weak_model()]).await;

    // Racers may not make finals.
    let (_, _, mut rick) = s.user("rick", pb::Role::Racer).await;
    let r = rick
        .head_to_head
        .create_bracket(pb::CreateBracketRequest {
            race_id: race.id.clone(),
            name: "Final".into(),
            size: 2,
            ..Default::default()
        })
        .await;
    assert_eq!(code(r), Code::PermissionDenied);

    // A bracket of two is a final: seed 1 (alice, the faster time trial) starts in front.
    let e = admin
        .head_to_head
        .create_bracket(pb::CreateBracketRequest {
            race_id: race.id.clone(),
            name: "Grand final".into(),
            size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let b = bracket(&e);
    assert_eq!(b.entrants.len(), 2);
    assert_eq!(b.entrants[0].entrant.as_ref().unwrap().user_name, "alice");
    assert_eq!(b.matches.len(), 1);
    assert_eq!(b.matches[0].key, "W1-1");
    assert!(!b.matches[0].match_id.is_empty(), "the final is queued at once");

    let e = wait_event(&mut admin, &e.id, |e| bracket(e).champion_seed != 0).await;
    let b = bracket(&e);
    assert_eq!((b.champion_seed, b.runner_up_seed), (1, 2));
    let m = wait_match(&mut admin, &b.matches[0].match_id).await;
    assert_eq!(m.event_id, e.id);
    let places: Vec<u32> = m.seats.iter().map(|s| s.place).collect();
    assert_eq!(places, vec![1, 2]);
    assert_eq!(m.seats[0].completed_laps, 2, "{m:?}");
    assert!(m.has_replay, "the final's replay was drawn");

    // Its replay, for anyone who may see the race; each car's trace (SIM_TRACE_LOG, in grid
    // order: its lap rows are that car's) for its racer, the race's creator and admins.
    let mut anon = s.client(None).await;
    let replay = |match_id: &str| pb::DownloadMatchReplayRequest {
        match_id: match_id.into(),
    };
    let gif = downloaded(anon.head_to_head.download_match_replay(replay(&m.id)).await, |c| c.data).await;
    assert!(gif.starts_with(b"GIF89a") && gif.len() > 10_000, "{} bytes", gif.len());
    let trace = |seat: u32| pb::DownloadMatchTraceRequest {
        match_id: m.id.clone(),
        seat,
    };
    let mut alice = signed_in(&s, &subs[0].user_id).await;
    for (seat, who) in [(0, &mut alice), (1, &mut admin)] {
        assert!(m.seats[seat as usize].has_trace);
        let csv = downloaded(who.head_to_head.download_match_trace(trace(seat)).await, |c| c.data).await;
        let text = String::from_utf8(csv).unwrap();
        assert!(text.starts_with("episode,steps,X,Y,yaw,steer,throttle,action,reward,done"));
        let rows = slipstream_sim::trace::parse_trace(&text).unwrap();
        assert_eq!(
            rows.iter().filter(|r| r.status == "lap_complete").count() as u32,
            m.seats[seat as usize].completed_laps,
            "seat {seat}"
        );
        // The trace ends where the car's race ended (the winner does not wait in it): its one
        // `done` row is its last.
        let done: Vec<bool> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(9) == Some("True"))
            .collect();
        assert_eq!(done.iter().filter(|d| **d).count(), 1, "seat {seat}");
        assert!(done.last() == Some(&true), "seat {seat}");
    }
    assert_eq!(
        code(alice.head_to_head.download_match_trace(trace(1)).await),
        Code::PermissionDenied
    );
    assert_eq!(
        code(anon.head_to_head.download_match_trace(trace(0)).await),
        Code::Unauthenticated
    );
    let r = admin.head_to_head.download_match_trace(trace(2)).await;
    let e = r.unwrap_err();
    assert!(
        e.code() == Code::InvalidArgument && e.message().contains("seats 0 to 1, got 2"),
        "{}",
        e.message()
    );
    let r = anon.head_to_head.download_match_replay(replay("match_nope")).await;
    assert_eq!(code(r), Code::NotFound);
    // Only a failed match can be raced again, and only by its race's managers.
    let r = admin
        .head_to_head
        .retry_match(pb::RetryMatchRequest { match_id: m.id.clone() })
        .await;
    let e = r.unwrap_err();
    assert!(
        e.code() == Code::FailedPrecondition && e.message().contains("is done, not failed"),
        "{}",
        e.message()
    );
    let r = rick
        .head_to_head
        .retry_match(pb::RetryMatchRequest { match_id: m.id.clone() })
        .await;
    assert_eq!(code(r), Code::PermissionDenied);
    let r = admin
        .head_to_head
        .retry_match(pb::RetryMatchRequest {
            match_id: "match_nope".into(),
        })
        .await;
    assert_eq!(code(r), Code::NotFound);
    assert!(m.seats[0].finish_ms < m.seats[1].finish_ms || m.seats[1].completed_laps < 2);

    // The slower model in front does not save it; and a match raced again repeats exactly.
    let swapped = || pb::CreateMatchRequest {
        race_id: race.id.clone(),
        submission_ids: vec![subs[1].id.clone(), subs[0].id.clone()],
    };
    let a = admin.head_to_head.create_match(swapped()).await.unwrap().into_inner();
    let b = admin.head_to_head.create_match(swapped()).await.unwrap().into_inner();
    let (a, b) = (wait_match(&mut admin, &a.id).await, wait_match(&mut admin, &b.id).await);
    assert_eq!(a.seats[1].place, 1, "{a:?}");
    assert_eq!(a.seats, b.seats);
    assert!(a.event_id.is_empty());

    // Anyone may read a public race's matches; bad requests name the field.
    let seen = anon
        .head_to_head
        .get_match(pb::GetMatchRequest { match_id: a.id.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seen.seats, a.seats);
    let r = admin
        .head_to_head
        .create_match(pb::CreateMatchRequest {
            race_id: race.id.clone(),
            submission_ids: vec![subs[0].id.clone(), "sub_nope".into()],
        })
        .await;
    let e = r.unwrap_err();
    assert!(e.message().contains("submission_ids[1]"), "{}", e.message());
    let r = admin
        .head_to_head
        .create_bracket(pb::CreateBracketRequest {
            race_id: race.id.clone(),
            name: "Too big".into(),
            elimination: pb::Elimination::Double as i32,
            size: 8,
            ..Default::default()
        })
        .await;
    let e = r.unwrap_err();
    assert!(
        e.message().contains("3–64") && e.message().contains("2 ranked racers"),
        "{}",
        e.message()
    );
}

#[tokio::test]
async fn a_double_elimination_bracket_and_a_ladder_run_by_themselves() {
    let s = TestServer::start(1).await;
    let mut admin = s.admin().await;
    let race = create_race(&mut admin, h2h_spec("Spring cup")).await;
    let names = ["alice", "carol", "bob", "dave"];
    let models = [trained_model(), trained_model(), weak_model(), weak_model()];
    ranked(&s, &race.id, &names, &models).await;

    let e = admin
        .head_to_head
        .create_bracket(pb::CreateBracketRequest {
            race_id: race.id.clone(),
            name: "Spring bracket".into(),
            elimination: pb::Elimination::Double as i32,
            size: 4,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // Round 1 is queued at once: 1 v 4 and 2 v 3.
    let first: Vec<(String, Vec<u32>)> = bracket(&e)
        .matches
        .iter()
        .filter(|m| !m.match_id.is_empty())
        .map(|m| (m.key.clone(), m.slots.iter().map(|s| s.seed).collect()))
        .collect();
    assert_eq!(first, vec![("W1-1".into(), vec![1, 4]), ("W1-2".into(), vec![2, 3])]);
    let e = wait_event(&mut admin, &e.id, |e| bracket(e).champion_seed != 0).await;
    let b = bracket(&e);
    // Everyone but the undefeated champion lost twice: 6 matches, all raced, none failed.
    let raced = admin
        .head_to_head
        .list_matches(pb::ListMatchesRequest { event_id: e.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .matches;
    assert_eq!(raced.len(), 6, "{raced:?}");
    assert!(raced.iter().all(|m| m.status == pb::MatchStatus::Done as i32));
    let keys: Vec<&str> = raced.iter().map(|m| m.event_key.as_str()).collect();
    for k in ["W1-1", "W1-2", "W2-1", "L1-1", "L2-1", "GF"] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
    // The trained models beat the weak ones: the champion and the runner-up are the two.
    assert!(
        [1, 2].contains(&b.champion_seed) && [1, 2].contains(&b.runner_up_seed),
        "{b:?}"
    );

    // A ladder over the same leaderboard: 4 matches, then it stops; the trained models on top.
    let l = admin
        .head_to_head
        .create_ladder(pb::CreateLadderRequest {
            race_id: race.id.clone(),
            name: "Spring ladder".into(),
            max_matches: 4,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let l = wait_event(
        &mut admin,
        &l.id,
        |e| matches!(&e.kind, Some(pb::event::Kind::Ladder(l)) if l.matches_raced == 4),
    )
    .await;
    let Some(pb::event::Kind::Ladder(ladder)) = &l.kind else {
        unreachable!()
    };
    assert_eq!(ladder.rows.len(), 4);
    assert_eq!(ladder.rows.iter().map(|r| r.matches).sum::<u32>(), 8);
    assert!(ladder.world.contains("sensor"), "{}", ladder.world);
    let top = ladder.rows[0].entrant.as_ref().unwrap();
    assert!(["alice", "carol"].contains(&top.user_name.as_str()), "{ladder:?}");
    for r in &ladder.rows {
        assert!(r.uncertainty < 25.0 / 3.0, "{r:?}");
        assert!((r.conservative - (r.rating - 3.0 * r.uncertainty)).abs() < 1e-9);
    }
    // At its limit the ladder is finished (it queues a match only while `active` could hold), so
    // the match list is final: no waiting for a match that must not come.
    assert!(!ladder.active, "a ladder at its match limit is finished: {ladder:?}");
    let after = admin
        .head_to_head
        .list_matches(pb::ListMatchesRequest { event_id: l.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .matches;
    assert_eq!(after.len(), 4, "the ladder stopped at its limit");
    // The same matches give the same table.
    assert_eq!(event(&mut admin, &l.id).await.kind, l.kind);
}

#[tokio::test]
async fn events_of_a_private_race_stay_hidden() {
    let s = TestServer::start(1).await;
    let mut admin = s.admin().await;
    let race = create_race(
        &mut admin,
        pb::RaceSpec {
            private: true,
            ..h2h_spec("Secret cup")
        },
    )
    .await;
    // No ranked racer: a ladder cannot start (its world is the leader's model's).
    let r = admin
        .head_to_head
        .create_ladder(pb::CreateLadderRequest {
            race_id: race.id.clone(),
            name: "Nobody".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(code(r), Code::FailedPrecondition);
    let mut c = s.admin().await;
    let (_, _, mut a) = s.user("alice", pb::Role::Racer).await;
    let invite = c
        .races
        .create_invite(pb::CreateInviteRequest {
            race_id: race.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    a.races
        .join_race(pb::JoinRaceRequest {
            invite_token: invite.token.clone(),
        })
        .await
        .unwrap();
    let m = upload(&mut a, &weak_model(), "w", None).await.unwrap();
    let sub = submit(&mut a, &race.id, &m.id).await.unwrap().into_inner();
    assert!(wait_finished(&mut a, &sub.id).await.qualified);
    let l = admin
        .head_to_head
        .create_ladder(pb::CreateLadderRequest {
            race_id: race.id.clone(),
            name: "Secret ladder".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut anon = s.client(None).await;
    let r = anon
        .head_to_head
        .get_event(pb::GetEventRequest { event_id: l.id.clone() })
        .await;
    assert_eq!(code(r), Code::NotFound);
    let listed = anon
        .head_to_head
        .list_events(pb::ListEventsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .events;
    assert!(listed.is_empty(), "{listed:?}");
    // A ladder of one entrant waits for a second.
    assert!(
        admin
            .head_to_head
            .list_matches(pb::ListMatchesRequest { event_id: l.id.clone() })
            .await
            .unwrap()
            .into_inner()
            .matches
            .is_empty()
    );
}

#[tokio::test]
async fn a_remote_worker_races_matches_and_older_workers_are_not_given_them() {
    // No in-process workers: everything is raced remotely.
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let race = create_race(&mut admin, h2h_spec("Remote cup")).await;
    let (_, wtoken, mut old) = s.user("remote1", pb::Role::Worker).await;
    let (tx, rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(slipstream_league::worker::remote::run(
        s.client(Some(&wtoken)).await,
        "remote".into(),
        Duration::from_secs(60),
        rx,
    ));
    let subs = ranked(&s, &race.id, &["alice", "bob"], &[weak_model(), trained_model()]).await;
    // The time trial put bob (trained) first.
    let e = admin
        .head_to_head
        .create_bracket(pb::CreateBracketRequest {
            race_id: race.id.clone(),
            name: "Remote final".into(),
            size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let e = wait_event(&mut admin, &e.id, |e| bracket(e).champion_seed != 0).await;
    let b = bracket(&e);
    assert_eq!(b.champion_seed, 1);
    assert_eq!(b.entrants[0].entrant.as_ref().unwrap().submission_id, subs[1].id);
    let m = wait_match(&mut admin, &b.matches[0].match_id).await;
    assert_eq!(m.seats[0].place, 1);
    assert_eq!(m.seats[0].completed_laps, 2);
    assert!(m.has_replay, "drawn from the remote worker's traces");
    assert!(
        m.seats.iter().all(|s| s.has_trace),
        "the remote worker's traces are kept: {:?}",
        m.seats
    );
    let _ = tx.send(true);
    worker.await.unwrap();

    // A worker that does not say it races matches is never given one.
    let queued = admin
        .head_to_head
        .create_match(pb::CreateMatchRequest {
            race_id: race.id.clone(),
            submission_ids: vec![subs[0].id.clone(), subs[1].id.clone()],
        })
        .await
        .unwrap()
        .into_inner();
    let r = old
        .workers
        .lease_job(pb::LeaseJobRequest {
            worker_name: "old".into(),
            lease_seconds: 60,
            head_to_head: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(r.job.is_none(), "{r:?}");
    // One that does gets every seat's model, and a result with a wrong seat count is refused.
    let job = old
        .workers
        .lease_job(pb::LeaseJobRequest {
            worker_name: "new".into(),
            lease_seconds: 60,
            head_to_head: true,
        })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(job.match_id, queued.id);
    assert_eq!(job.seat_model_sha256.len(), 2);
    let r = old
        .workers
        .complete_job(pb::CompleteJobRequest {
            job_id: job.job_id.clone(),
            lease_token: job.lease_token.clone(),
            outcome: Some(pb::complete_job_request::Outcome::Result(pb::JobResult {
                seats: vec![pb::SeatOutcome {
                    place: 1,
                    ..Default::default()
                }],
                ..Default::default()
            })),
        })
        .await;
    let err = r.unwrap_err();
    assert!(err.message().contains("result.seats"), "{}", err.message());
}

#[tokio::test]
async fn a_bracket_advances_after_a_server_stopped_between_two_matches() {
    let s = TestServer::start(1).await;
    let mut admin = s.admin().await;
    let race = create_race(&mut admin, h2h_spec("Restart cup")).await;
    let models = [trained_model(), trained_model(), weak_model(), weak_model()];
    ranked(&s, &race.id, &["alice", "carol", "bob", "dave"], &models).await;
    let restart = |db, workers| {
        TestServer::start_with(
            slipstream_league::Config {
                workers,
                ..test_config()
            },
            Some(db),
        )
    };
    // No worker: the semi-finals wait in the queue.
    let s = restart(s.stop().await, 0).await;
    let e = s
        .admin()
        .await
        .head_to_head
        .create_bracket(pb::CreateBracketRequest {
            race_id: race.id.clone(),
            name: "Restart bracket".into(),
            size: 4,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // A queued match has no files yet: FailedPrecondition saying so, for its replay and traces.
    let semi = bracket(&e).matches[0].match_id.clone();
    let mut admin = s.admin().await;
    let r = admin
        .head_to_head
        .download_match_replay(pb::DownloadMatchReplayRequest { match_id: semi.clone() })
        .await;
    let err = r.expect_err("no replay yet");
    assert!(
        err.code() == Code::FailedPrecondition
            && err
                .message()
                .contains("is queued; its replay and traces exist once it is raced"),
        "{}",
        err.message()
    );
    let r = admin
        .head_to_head
        .download_match_trace(pb::DownloadMatchTraceRequest {
            match_id: semi.clone(),
            seat: 0,
        })
        .await;
    assert_eq!(code(r), Code::FailedPrecondition);
    let db = s.stop().await;

    // Both semi-finals are recorded, then the server stops before queueing the final.
    let store = slipstream_league::store::Store::connect(&db.0).await.unwrap();
    for _ in 0..2 {
        let j = store.lease_job("crashing", 60_000, true).await.unwrap().unwrap();
        let result = slipstream_league::matches::MatchResult {
            seats: [1, 2]
                .map(|place| slipstream_league::matches::SeatResult { place, laps: vec![] })
                .to_vec(),
        };
        store
            .complete_match(&j.job_id, &j.lease_token, &result, &[], None)
            .await
            .unwrap()
            .unwrap();
    }
    assert!(
        store.lease_job("crashing", 60_000, true).await.unwrap().is_none(),
        "no final queued"
    );
    drop(store);

    // The next start finds the bracket undecided, queues the final and races it.
    let s = restart(db, 1).await;
    let mut admin = s.admin().await;
    // A semi-final recorded without files (as the store was told): no replay, no traces.
    let err = admin
        .head_to_head
        .download_match_replay(pb::DownloadMatchReplayRequest { match_id: semi.clone() })
        .await
        .expect_err("no replay");
    assert!(err.message().contains("has no replay"), "{}", err.message());
    let err = admin
        .head_to_head
        .download_match_trace(pb::DownloadMatchTraceRequest {
            match_id: semi,
            seat: 1,
        })
        .await
        .expect_err("no trace");
    assert!(err.message().contains("seat 1 of match"), "{}", err.message());
    let e = wait_event(&mut admin, &e.id, |e| bracket(e).champion_seed != 0).await;
    let b = bracket(&e);
    assert_eq!(
        b.matches
            .iter()
            .find(|m| m.key == "W2-1")
            .unwrap()
            .slots
            .iter()
            .map(|s| s.seed)
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!([1, 2].contains(&b.champion_seed));
    s.stop().await;
}

#[test]
fn a_model_that_cannot_load_forfeits_and_the_others_race() {
    use slipstream_league::evaluation::{match_replay_gif, run_match};
    let run = slipstream_league::races::RaceRun {
        race_id: "race_t".into(),
        track_name: "oval".into(),
        rows: vec![],
        reverse: false,
        scenario: slipstream_sim::Scenario::TimeTrial {},
        rules: slipstream_sim::RaceConfig {
            laps: 1,
            max_time_s: 5.0,
            ..Default::default()
        },
        seed: 1,
    };
    let good = random_model(1);
    let garbage = b"not a model".to_vec();
    // Two racing, one forfeiting: the forfeit is placed behind both, with no laps or trace.
    let track = std::sync::Arc::new(run.track().unwrap());
    let o = run_match(
        &[good.clone(), garbage.clone(), good.clone()],
        &run,
        track.clone(),
        Duration::from_secs(60),
    )
    .unwrap();
    assert_eq!(o.result.seats[1].place, 3);
    assert!(o.result.seats[1].laps.is_empty() && o.traces[1].is_empty());
    for seat in [0, 2] {
        assert!((1..=2).contains(&o.result.seats[seat].place));
        assert!(!o.result.seats[seat].laps.is_empty());
        assert!(o.traces[seat].starts_with(b"episode,"));
    }
    // One left: it wins without racing (no traces, so no replay).
    let o = run_match(&[garbage, good], &run, track.clone(), Duration::from_secs(60)).unwrap();
    let places: Vec<u32> = o.result.seats.iter().map(|s| s.place).collect();
    assert_eq!(places, vec![2, 1]);
    assert!(o.traces.iter().all(Vec::is_empty));
    assert_eq!(match_replay_gif(&run, track, &o.result, &o.traces, &[]).unwrap(), None);
}
