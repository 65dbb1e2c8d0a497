//! Training jobs in storage, on both backends: quotas checked in the insert (at once too), a
//! job's lease, progress and end, Stop, and a dead runner's job returned to the queue.

use slipstream_league::store::{NewTraining, TrainingLimits, TrainingProgress, TrainingStatus};

use super::*;

on_both!(
    quotas_hold_when_jobs_are_made_at_once,
    a_job_is_leased_reports_and_finishes_once,
    stop_and_requeue_move_a_job_as_they_should,
);

fn job<'a>(owner: &'a str, minutes: f64) -> NewTraining<'a> {
    NewTraining {
        owner_id: owner,
        name: "m",
        form_json: "{}",
        config_toml: "",
        reward_code: "def reward_function(params):\n    return 1.0\n",
        track: "oval",
        seed: 1,
        minutes,
        steps: 0,
        init_model_id: "",
    }
}

const NO_LIMITS: TrainingLimits = TrainingLimits {
    concurrent: 0,
    monthly_minutes: 0.0,
    models: 0,
    month_start_ms: 0,
};

/// Six jobs asked for at once against "2 at a time": two are made, four refused naming the limit;
/// then the month's minutes refuse a job that would pass them.
async fn quotas_hold_when_jobs_are_made_at_once(store: Store) {
    let ann = store.create_user("ann", Role::Racer).await.unwrap();
    let store = Arc::new(store);
    let limits = TrainingLimits {
        concurrent: 2,
        ..NO_LIMITS
    };
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (store, id) = (store.clone(), ann.id.clone());
            tokio::spawn(async move { store.insert_training(&job(&id, 1.0), &limits).await })
        })
        .collect();
    let mut made = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => made += 1,
            Err(LeagueError::ResourceExhausted(m)) => assert!(m.contains("the most allowed at once"), "{m}"),
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert_eq!(made, 2);
    let month = TrainingLimits {
        monthly_minutes: 2.5,
        ..NO_LIMITS
    };
    let e = store.insert_training(&job(&ann.id, 1.0), &month).await.unwrap_err();
    assert!(e.to_string().contains("past this month's 2.5 training minutes"), "{e}");
    store.insert_training(&job(&ann.id, 0.5), &month).await.unwrap();
}

async fn a_job_is_leased_reports_and_finishes_once(store: Store) {
    let ann = store.create_user("ann", Role::Racer).await.unwrap();
    let made = store.insert_training(&job(&ann.id, 1.0), &NO_LIMITS).await.unwrap();
    assert_eq!(made.status, TrainingStatus::Queued);
    let leased = store
        .lease_training("runner-1", "tok-1", 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (leased.id.as_str(), leased.status),
        (made.id.as_str(), TrainingStatus::Running)
    );
    assert!(
        store
            .lease_training("runner-2", "tok-2", 60_000)
            .await
            .unwrap()
            .is_none(),
        "leased once"
    );
    let progress = |m: &'static str, steps: i64| TrainingProgress {
        metrics: m,
        log_tail: "log",
        trained_ms: 1000,
        env_steps: steps,
    };
    assert_eq!(
        store
            .training_progress(&made.id, "tok-1", 60_000, &progress("{\"iteration\":1}\n", 2048))
            .await
            .unwrap(),
        Some(false)
    );
    store
        .training_progress(&made.id, "tok-1", 60_000, &progress("{\"iteration\":2}\n", 4096))
        .await
        .unwrap();
    assert_eq!(
        store
            .training_progress(&made.id, "tok-x", 60_000, &progress("", 0))
            .await
            .unwrap(),
        None,
        "another lease's report is not taken"
    );
    let row = store.training(&made.id).await.unwrap().unwrap();
    assert_eq!(row.metrics_jsonl, "{\"iteration\":1}\n{\"iteration\":2}\n");
    assert_eq!(row.env_steps, 4096);
    assert!(
        store
            .finish_training(&made.id, "tok-1", TrainingStatus::Completed, "mdl_1", "")
            .await
            .unwrap()
    );
    assert!(
        !store
            .finish_training(&made.id, "tok-1", TrainingStatus::Failed, "", "late")
            .await
            .unwrap()
    );
    let row = store.training(&made.id).await.unwrap().unwrap();
    assert_eq!(
        (row.status, row.model_id.as_str()),
        (TrainingStatus::Completed, "mdl_1")
    );
    store.set_training_replay(&made.id, "abc", 2).await.unwrap();
    let row = store.training(&made.id).await.unwrap().unwrap();
    assert_eq!((row.replay_sha256.as_str(), row.replay_iteration), ("abc", 2));
}

async fn stop_and_requeue_move_a_job_as_they_should(store: Store) {
    let ann = store.create_user("ann", Role::Racer).await.unwrap();
    let queued = store.insert_training(&job(&ann.id, 1.0), &NO_LIMITS).await.unwrap();
    let stopped = store.request_training_stop(&queued.id).await.unwrap().unwrap();
    assert_eq!(stopped.status, TrainingStatus::Stopped, "a queued job stops at once");
    let running = store.insert_training(&job(&ann.id, 1.0), &NO_LIMITS).await.unwrap();
    store
        .lease_training("local:boot1:train0", "tok", 60_000)
        .await
        .unwrap()
        .unwrap();
    let asked = store.request_training_stop(&running.id).await.unwrap().unwrap();
    assert_eq!(
        asked.status,
        TrainingStatus::Running,
        "a running one stops when its runner reports"
    );
    assert_eq!(
        store
            .training_progress(&running.id, "tok", 60_000, &TrainingProgress::default())
            .await
            .unwrap(),
        Some(true)
    );
    // The server that ran it starts again: its job goes back to the queue, to resume.
    assert_eq!(store.requeue_expired_trainings(Some("local:")).await.unwrap(), 1);
    let back = store.training(&running.id).await.unwrap().unwrap();
    assert_eq!((back.status, back.interruptions), (TrainingStatus::Queued, 1));
    assert_eq!(
        store.requeue_expired_trainings(None).await.unwrap(),
        0,
        "nothing else expired"
    );
}
