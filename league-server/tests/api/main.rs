//! Black-box tests over TCP: users and tokens, races, tracks, invites, models, health and reflection,
//! gRPC-web.

#[path = "../common/mod.rs"]
mod common;

use common::*;
use slipstream_proto::v1 as pb;
use tonic::Code;

mod grpc_web;
mod races;
mod rewards;
mod seasons;
mod uploads;

/// Tokens are listed without their secrets: a racer their own, an admin anyone's. Restarting with a
/// new `--admin-token` retires the previous one.
#[tokio::test]
async fn tokens_are_listed_and_a_new_admin_token_retires_the_old_one() {
    let s = TestServer::start(0).await;
    let (alice, alice_token, mut alice_c) = s.user("alice", pb::Role::Racer).await;
    let (bob, _, _) = s.user("bob", pb::Role::Racer).await;
    let mine = alice_c
        .users
        .list_tokens(pb::ListTokensRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mine.tokens.len(), 1);
    assert_eq!(
        (mine.tokens[0].user_id.as_str(), mine.tokens[0].bootstrap),
        (alice.id.as_str(), false)
    );
    assert!(mine.tokens[0].last_used_at_ms > 0, "it signed this request in");
    assert!(!format!("{mine:?}").contains(&alice_token), "never the secret");
    let e = alice_c
        .users
        .list_tokens(pb::ListTokensRequest {
            user_id: bob.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "{}", e.message());
    let mut admin = s.admin().await;
    let all = admin
        .users
        .list_tokens(pb::ListTokensRequest::default())
        .await
        .unwrap()
        .into_inner();
    let mut names: Vec<(&str, bool)> = all.tokens.iter().map(|t| (t.user_name.as_str(), t.bootstrap)).collect();
    // Listed by creation time (then id): alice's and bob's tokens may share a millisecond.
    names[1..].sort();
    assert_eq!(names, [("admin", true), ("alice", false), ("bob", false)]);
    let bobs = admin
        .users
        .list_tokens(pb::ListTokensRequest {
            user_id: bob.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(bobs.tokens.len(), 1);
    assert_eq!(bobs.tokens[0].user_id, bob.id);
    let old_bootstrap = all.tokens[0].token_id.clone();

    // Restart with another admin token: the old one no longer works.
    let db = s.stop().await;
    let rotated = "rotated-admin-token-0123456789abcdef";
    let s = TestServer::start_with(
        slipstream_league::Config {
            admin_token: Some(rotated.into()),
            workers: 0,
            ..test_config()
        },
        Some(db),
    )
    .await;
    let mut old = s.admin().await;
    assert_eq!(
        code(old.users.who_am_i(pb::WhoAmIRequest {}).await),
        Code::Unauthenticated
    );
    let mut new = s.client(Some(rotated)).await;
    let me = new.users.who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner();
    assert_eq!(me.role, pb::Role::Admin as i32);
    let mut alice_c = s.client(Some(&alice_token)).await;
    assert!(
        alice_c.users.who_am_i(pb::WhoAmIRequest {}).await.is_ok(),
        "other tokens stay"
    );
    let every = new
        .users
        .list_tokens(pb::ListTokensRequest {
            include_inactive: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let old_row = every.tokens.iter().find(|t| t.token_id == old_bootstrap).unwrap();
    assert!(old_row.bootstrap && old_row.revoked_at_ms > 0, "{old_row:?}");
    let active = new
        .users
        .list_tokens(pb::ListTokensRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(active.tokens.iter().filter(|t| t.bootstrap).count(), 1);
    s.stop().await;
}

#[tokio::test]
async fn tokens_roles_and_users() {
    let s = TestServer::start(0).await;
    let mut anon = s.client(None).await;
    assert_eq!(
        code(anon.users.who_am_i(pb::WhoAmIRequest {}).await),
        Code::Unauthenticated
    );
    let mut bad = s.client(Some("slp_not_a_real_token")).await;
    assert_eq!(
        code(bad.users.who_am_i(pb::WhoAmIRequest {}).await),
        Code::Unauthenticated
    );
    let mut admin = s.admin().await;
    let me = admin.users.who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner();
    assert_eq!((me.name.as_str(), me.role), ("admin", pb::Role::Admin as i32));

    let (alice, alice_token, mut alice_c) = s.user("alice", pb::Role::Racer).await;
    assert_eq!(
        alice_c
            .users
            .who_am_i(pb::WhoAmIRequest {})
            .await
            .unwrap()
            .into_inner()
            .id,
        alice.id
    );
    // Racers cannot do admin things.
    let r = alice_c
        .users
        .create_user(pb::CreateUserRequest {
            name: "mallory".into(),
            role: pb::Role::Admin as i32,
        })
        .await;
    let e = r.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    assert!(e.message().contains("admin"), "{}", e.message());
    assert_eq!(
        code(alice_c.users.list_users(pb::ListUsersRequest::default()).await),
        Code::PermissionDenied
    );
    // A racer issues tokens for herself (as on the console's token page), not for anyone else.
    assert_eq!(
        code(
            alice_c
                .users
                .issue_token(pb::IssueTokenRequest {
                    user_id: me.id.clone(),
                    ..Default::default()
                })
                .await
        ),
        Code::PermissionDenied
    );
    let own = alice_c
        .users
        .issue_token(pb::IssueTokenRequest {
            user_id: alice.id.clone(),
            description: "second laptop".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut second = s.client(Some(&own.token)).await;
    assert_eq!(
        second
            .users
            .who_am_i(pb::WhoAmIRequest {})
            .await
            .unwrap()
            .into_inner()
            .id,
        alice.id
    );
    second
        .users
        .revoke_token(pb::RevokeTokenRequest {
            token_id: own.token_id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(
        code(second.users.who_am_i(pb::WhoAmIRequest {}).await),
        Code::Unauthenticated
    );
    // Bad input.
    let e = admin
        .users
        .create_user(pb::CreateUserRequest {
            name: "alice".into(),
            role: pb::Role::Racer as i32,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists);
    let e = admin
        .users
        .create_user(pb::CreateUserRequest {
            name: "no spaces".into(),
            role: pb::Role::Racer as i32,
        })
        .await
        .unwrap_err();
    assert!(e.code() == Code::InvalidArgument && e.message().contains("name"));
    let e = admin
        .users
        .create_user(pb::CreateUserRequest {
            name: "bob".into(),
            role: 0,
        })
        .await
        .unwrap_err();
    assert!(e.code() == Code::InvalidArgument && e.message().contains("role"));
    assert_eq!(
        code(
            admin
                .users
                .issue_token(pb::IssueTokenRequest {
                    user_id: "usr_nope".into(),
                    ..Default::default()
                })
                .await
        ),
        Code::NotFound
    );
    let past = pb::IssueTokenRequest {
        user_id: alice.id.clone(),
        expires_at_ms: 1,
        description: String::new(),
    };
    assert_eq!(code(admin.users.issue_token(past).await), Code::InvalidArgument);
    // Listing pages.
    let all = admin
        .users
        .list_users(pb::ListUsersRequest {
            page_size: 1,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.users.len(), 1);
    assert!(!all.next_page_token.is_empty());
    assert_eq!(
        code(
            admin
                .users
                .list_users(pb::ListUsersRequest {
                    page_size: 1,
                    page_token: "x".into()
                })
                .await
        ),
        Code::InvalidArgument
    );

    // Revoking a token stops it at once; a short-lived one expires.
    let t2 = admin
        .users
        .issue_token(pb::IssueTokenRequest {
            user_id: alice.id.clone(),
            expires_at_ms: slipstream_league::util::now_ms() + 1500,
            description: "short".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut short = s.client(Some(&t2.token)).await;
    assert!(short.users.who_am_i(pb::WhoAmIRequest {}).await.is_ok());
    let list = admin
        .users
        .list_users(pb::ListUsersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(list.users.iter().any(|u| u.name == "alice"));
    let first_token_id = {
        // Issue a third token just to revoke it.
        let t3 = admin
            .users
            .issue_token(pb::IssueTokenRequest {
                user_id: alice.id.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let mut c3 = s.client(Some(&t3.token)).await;
        assert!(c3.users.who_am_i(pb::WhoAmIRequest {}).await.is_ok());
        admin
            .users
            .revoke_token(pb::RevokeTokenRequest {
                token_id: t3.token_id.clone(),
            })
            .await
            .unwrap();
        assert_eq!(
            code(c3.users.who_am_i(pb::WhoAmIRequest {}).await),
            Code::Unauthenticated
        );
        t3.token_id
    };
    assert_eq!(
        code(
            admin
                .users
                .revoke_token(pb::RevokeTokenRequest {
                    token_id: first_token_id
                })
                .await
        ),
        Code::NotFound
    );
    assert!(
        s.client(Some(&alice_token))
            .await
            .users
            .who_am_i(pb::WhoAmIRequest {})
            .await
            .is_ok()
    );
    // Past the expiry and the token cache's 5 s trust, by the server's clock.
    s.clock.advance(std::time::Duration::from_millis(6600));
    assert_eq!(
        code(short.users.who_am_i(pb::WhoAmIRequest {}).await),
        Code::Unauthenticated,
        "expired tokens stop working"
    );
    s.stop().await;
}

#[tokio::test]
async fn health_and_reflection_answer() {
    let s = TestServer::start(0).await;
    let channel = tonic::transport::Endpoint::from_shared(s.addr.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let r = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "slipstream.league.v1.LeaderboardService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        r.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    let mut refl = tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient::new(channel.clone());
    let req = tonic_reflection::pb::v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            tonic_reflection::pb::v1::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let mut stream = refl
        .server_reflection_info(futures_iter(vec![req]))
        .await
        .unwrap()
        .into_inner();
    let resp = stream.message().await.unwrap().unwrap();
    let Some(tonic_reflection::pb::v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        resp.message_response
    else {
        panic!("unexpected reflection answer")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for svc in [
        "slipstream.league.v1.RaceService",
        "slipstream.league.v1.ModelService",
        "grpc.health.v1.Health",
    ] {
        assert!(names.iter().any(|n| n == svc), "{svc} missing from {names:?}");
    }

    // grpc.reflection.v1alpha too: grpcio-reflection's Python client and older grpcurl speak it.
    use tonic_reflection::pb::v1alpha;
    let mut alpha = v1alpha::server_reflection_client::ServerReflectionClient::new(channel);
    let ask = |r| v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(r),
    };
    let mut stream = alpha
        .server_reflection_info(futures_iter(vec![
            ask(v1alpha::server_reflection_request::MessageRequest::ListServices(
                String::new(),
            )),
            ask(
                v1alpha::server_reflection_request::MessageRequest::FileContainingSymbol(
                    "slipstream.league.v1.LeaderboardService".into(),
                ),
            ),
        ]))
        .await
        .expect("grpc.reflection.v1alpha is served")
        .into_inner();
    let Some(v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        stream.message().await.unwrap().unwrap().message_response
    else {
        panic!("unexpected v1alpha reflection answer")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.iter().any(|n| n == "slipstream.league.v1.LeaderboardService"),
        "{names:?}"
    );
    let Some(v1alpha::server_reflection_response::MessageResponse::FileDescriptorResponse(files)) =
        stream.message().await.unwrap().unwrap().message_response
    else {
        panic!("unexpected v1alpha reflection answer")
    };
    assert!(!files.file_descriptor_proto.is_empty());
    s.stop().await;
}

/// Page sizes beyond their documented range are refused with INVALID_ARGUMENT naming the field
/// (they were quietly cut down); 0 still means the default.
#[tokio::test]
async fn page_sizes_beyond_their_range_are_refused() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let race = admin
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(open_spec("Pages", "oval")),
        })
        .await
        .unwrap()
        .into_inner();
    fn refused<T: std::fmt::Debug>(r: Result<T, tonic::Status>, field: &str, max: &str) {
        let e = r.expect_err("expected INVALID_ARGUMENT");
        assert_eq!(e.code(), Code::InvalidArgument, "{}", e.message());
        assert!(
            e.message().starts_with(&format!("{field}: expected 1–{max}")),
            "{}",
            e.message()
        );
    }
    for ok in [0, 1, 1000] {
        leaderboard(&mut admin, &race.id, ok, "").await.unwrap();
    }
    refused(leaderboard(&mut admin, &race.id, 1001, "").await, "page_size", "1000");
    refused(
        leaderboard(&mut admin, &race.id, u32::MAX, "").await,
        "page_size",
        "1000",
    );
    refused(
        admin
            .leaderboards
            .watch_leaderboard(pb::WatchLeaderboardRequest {
                race_id: race.id.clone(),
                top: 1001,
            })
            .await,
        "top",
        "1000",
    );
    refused(
        admin
            .users
            .list_users(pb::ListUsersRequest {
                page_size: 1001,
                page_token: String::new(),
            })
            .await,
        "page_size",
        "1000",
    );
    refused(
        admin
            .races
            .list_races(pb::ListRacesRequest {
                page_size: 501,
                page_token: String::new(),
            })
            .await,
        "page_size",
        "500",
    );
    refused(
        admin
            .models
            .list_models(pb::ListModelsRequest {
                page_size: 1001,
                page_token: String::new(),
            })
            .await,
        "page_size",
        "1000",
    );
    refused(
        admin
            .submissions
            .list_submissions(pb::ListSubmissionsRequest {
                race_id: race.id.clone(),
                page_size: 501,
                page_token: String::new(),
            })
            .await,
        "page_size",
        "500",
    );
    // The largest allowed sizes pass, and the server is still up.
    admin
        .races
        .list_races(pb::ListRacesRequest {
            page_size: 500,
            page_token: String::new(),
        })
        .await
        .unwrap();
    admin.users.who_am_i(pb::WhoAmIRequest {}).await.unwrap();
    s.stop().await;
}
