//! CheckReward: a student's reward function checked on the server, in its sandbox, before training.

use super::*;

fn check(code: &str, track: &str) -> pb::CheckRewardRequest {
    pb::CheckRewardRequest {
        code: code.into(),
        track: track.into(),
    }
}

/// A bug that shows only off the track is found at its line; the fixed function runs on an
/// uploaded track and says what it returned; bad requests name what is wrong.
#[tokio::test]
async fn a_reward_function_is_checked_in_the_sandbox_before_training() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let (_, _, mut racer) = s.user("rick", pb::Role::Racer).await;
    let buggy =
        "def reward_function(params):\n    if params['is_offtrack']:\n        return params['nope']\n    return 1.0\n";
    let r = racer
        .models
        .check_reward(check(buggy, "oval"))
        .await
        .unwrap()
        .into_inner();
    assert!(!r.ok);
    assert!(
        r.error.contains("reward_function.py:3") && r.error.contains("KeyError: 'nope'"),
        "{}",
        r.error
    );
    assert!(
        r.error.contains("'is_offtrack': True"),
        "the failing step's params: {}",
        r.error
    );

    let track = admin
        .races
        .upload_track(pb::UploadTrackRequest {
            name: "Square".into(),
            npy: npy_file(&square_rows(4.0, 0.8)),
        })
        .await
        .unwrap()
        .into_inner();
    let fixed = "import math\ndef reward_function(params):\n    return 1e-3 if params['is_offtrack'] else math.sqrt(params['speed'])\n";
    let r = racer
        .models
        .check_reward(check(fixed, &track.id))
        .await
        .unwrap()
        .into_inner();
    assert!(r.ok && r.error.is_empty(), "{r:?}");
    assert!(r.calls > 0 && r.offtrack_calls > 0 && r.max > r.min, "{r:?}");

    let mut anon = s.client(None).await;
    assert_eq!(
        code(anon.models.check_reward(check(fixed, "oval")).await),
        Code::Unauthenticated
    );
    assert_eq!(
        code(racer.models.check_reward(check("  ", "oval")).await),
        Code::InvalidArgument
    );
    let huge = "#".repeat(70_000);
    assert_eq!(
        code(racer.models.check_reward(check(&huge, "oval")).await),
        Code::InvalidArgument
    );
    let e = racer.models.check_reward(check(fixed, "nowhere")).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    assert!(e.message().starts_with("track: \"nowhere\""), "{}", e.message());
}
