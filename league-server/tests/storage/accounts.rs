//! Accounts in storage: an invite's uses counted exactly under concurrent sign-ups, a refused
//! sign-up uses nothing, sessions end by signing out, expiry and a password change.

use slipstream_league::store::NewSignupInvite;

use super::*;

on_both!(
    an_invites_last_use_goes_to_one_sign_up,
    a_refused_sign_up_uses_nothing,
    sessions_end_by_sign_out_expiry_and_password_change,
);

async fn invite(store: &Store, admin: &str, hash: &str, uses: i64) {
    store
        .insert_signup_invite(&NewSignupInvite {
            token_hash: hash,
            role: Role::Racer,
            note: "class",
            created_by: admin,
            expires_at: 0,
            max_uses: uses,
        })
        .await
        .unwrap();
}

/// Eight students race for an invite's three uses: three get accounts, five are told it is used
/// up, and the count stops at three.
async fn an_invites_last_use_goes_to_one_sign_up(store: Store) {
    let admin = store.create_user("admin", Role::Admin).await.unwrap();
    invite(&store, &admin.id, "h1", 3).await;
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.sign_up("h1", &format!("student{i}"), "$argon2id$x").await })
        })
        .collect();
    let mut made = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(u) => {
                assert_eq!(u.role, Role::Racer);
                made += 1;
            }
            Err(LeagueError::FailedPrecondition(m)) => assert!(m.contains("used up"), "{m}"),
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert_eq!(made, 3);
    let inv = &store.list_signup_invites(0, 10).await.unwrap()[0];
    assert_eq!((inv.uses, inv.max_uses), (3, 3));
    assert_eq!(store.list_users(0, 100).await.unwrap().len(), 4);
}

async fn a_refused_sign_up_uses_nothing(store: Store) {
    let admin = store.create_user("admin", Role::Admin).await.unwrap();
    invite(&store, &admin.id, "h1", 1).await;
    let taken = store.sign_up("h1", "admin", "$argon2id$x").await.unwrap_err();
    assert!(matches!(taken, LeagueError::AlreadyExists(_)), "{taken}");
    assert!(matches!(
        store.sign_up("nope", "ann", "$argon2id$x").await.unwrap_err(),
        LeagueError::NotFound(_)
    ));
    let inv = &store.list_signup_invites(0, 10).await.unwrap()[0];
    assert_eq!(inv.uses, 0, "the clash used nothing");
    store.revoke_signup_invite(&inv.id).await.unwrap();
    let withdrawn = store.sign_up("h1", "ann", "$argon2id$x").await.unwrap_err();
    assert!(withdrawn.to_string().contains("withdrawn"), "{withdrawn}");
    assert!(store.user_by_name("ann").await.unwrap().is_none());
}

async fn sessions_end_by_sign_out_expiry_and_password_change(store: Store) {
    let ann = store.create_user("ann", Role::Racer).await.unwrap();
    let now = store.now_ms();
    store.insert_session(&ann.id, "s1", now + 60_000).await.unwrap();
    store.insert_session(&ann.id, "s2", now + 60_000).await.unwrap();
    store.insert_session(&ann.id, "s3", now + 60_000).await.unwrap();
    assert_eq!(store.user_for_session("s1", now).await.unwrap(), Some(ann.clone()));
    assert_eq!(
        store.user_for_session("s1", now + 60_000).await.unwrap(),
        None,
        "expired"
    );
    store.end_session("s1").await.unwrap();
    assert_eq!(store.user_for_session("s1", now).await.unwrap(), None, "signed out");
    assert!(
        store.user_for_session("s2", now).await.unwrap().is_some(),
        "others stay"
    );
    assert!(store.set_password(&ann.id, "$argon2id$new").await.unwrap());
    assert_eq!(store.user_for_session("s2", now).await.unwrap(), None);
    assert_eq!(store.user_for_session("s3", now).await.unwrap(), None);
    let (u, hash) = store.user_with_password("ann").await.unwrap().unwrap();
    assert_eq!((u.id, hash.as_str()), (ann.id, "$argon2id$new"));
}
