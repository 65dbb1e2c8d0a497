//! Who may see and manage what: every visibility and management decision of the league — gRPC
//! services, web pages and the store's listings — goes through a [`Viewer`].
//!
//! The rules:
//! * A **race** is seen by everyone when public; a private one by its creator, admins and racers
//!   who joined it with an invite. Whatever a viewer may not see answers NotFound, the same as an
//!   id that never existed, so private races stay hidden.
//! * A race is **managed** (edited, deleted, invited to, given brackets, ladders and matches) by
//!   its creator and admins.
//! * A **submission** (and a head-to-head seat's trace) is seen **whole** — its model, its
//!   evaluation's trace and replay — by its racer, the race's creator and admins; everyone else sees
//!   what the public leaderboard shows.
//! * What a user **owns** (models, submissions) is theirs and admins'.
//! * A **season** is managed by its creator and admins; seasons group public races only.
//! * Events and matches are as visible as their race.

use crate::ctx::Ctx;
use crate::error::{LeagueError, Result};
use crate::store::{EventRow, MatchRow, RaceRow, RaceScope, Role, SeasonRow, SubmissionRow, User};

/// Who is asking: a signed-in user, or the public (an anonymous caller, the web site).
#[derive(Clone, Copy, Debug)]
pub struct Viewer<'a> {
    user: Option<&'a User>,
}

/// The roles that may create and run races, seasons and head-to-head events (what they may then
/// change is decided per race and season by [`Viewer`]).
pub const ORGANISERS: &[Role] = &[Role::Facilitator, Role::Admin];
/// The roles that may upload models and enter races.
pub const RACERS: &[Role] = &[Role::Racer, Role::Facilitator, Role::Admin];
/// The roles that may lease and run jobs (remote workers).
pub const WORKERS: &[Role] = &[Role::Worker, Role::Admin];
/// Admins only (users, tokens, re-evaluations).
pub const ADMINS: &[Role] = &[Role::Admin];

/// Whether a race is open to the public (anyone, signed in or not).
pub fn is_public(race: &RaceRow) -> bool {
    !race.spec.private
}

impl<'a> Viewer<'a> {
    /// The anonymous public: what the web site and unauthenticated gRPC calls see.
    pub const PUBLIC: Viewer<'static> = Viewer { user: None };

    pub fn new(user: Option<&'a User>) -> Self {
        Viewer { user }
    }

    pub fn user(user: &'a User) -> Self {
        Viewer { user: Some(user) }
    }

    /// Whether the viewer is the user `id` or an admin.
    fn is_or_admin(&self, id: &str) -> bool {
        self.user.is_some_and(|u| u.role == Role::Admin || u.id == id)
    }

    /// Whether the viewer may see `race` (a private race: its creator, admins, invited racers).
    pub async fn sees_race(&self, ctx: &Ctx, race: &RaceRow) -> Result<bool> {
        if is_public(race) {
            return Ok(true);
        }
        let Some(u) = self.user else { return Ok(false) };
        Ok(self.manages_race(race) || ctx.store.is_member(&race.id, &u.id).await?)
    }

    /// The races a listing may show this viewer.
    pub fn race_scope(&self) -> RaceScope<'a> {
        match self.user {
            Some(u) if u.role == Role::Admin => RaceScope::All,
            Some(u) => RaceScope::PublicAnd(&u.id),
            None => RaceScope::Public,
        }
    }

    /// The race, if it exists and the viewer may see it (otherwise NotFound, so private races stay
    /// hidden).
    pub async fn race(&self, ctx: &Ctx, race_id: &str) -> Result<RaceRow> {
        let missing = || LeagueError::not_found(format!("race_id: no race {race_id:?}"));
        let race = ctx.race(race_id).await?.ok_or_else(missing)?;
        if !self.sees_race(ctx, &race).await? {
            return Err(missing());
        }
        Ok(race)
    }

    /// Whether the viewer manages `race`: its creator or an admin.
    pub fn manages_race(&self, race: &RaceRow) -> bool {
        self.is_or_admin(&race.created_by)
    }

    /// The race, if the viewer may see and manage it: NotFound if it may not see it,
    /// PermissionDenied ("only the race's creator or an admin can {action}") if it may not manage it.
    pub async fn managed_race(&self, ctx: &Ctx, race_id: &str, action: &str) -> Result<RaceRow> {
        let race = self.race(ctx, race_id).await?;
        if !self.manages_race(&race) {
            return Err(LeagueError::denied(format!(
                "only the race's creator or an admin can {action}"
            )));
        }
        Ok(race)
    }

    /// Whether the viewer sees a submission (or a head-to-head seat) of racer `racer_id` on `race`
    /// whole: the racer, the race's creator and admins.
    pub fn sees_whole(&self, racer_id: &str, race: &RaceRow) -> bool {
        self.is_or_admin(racer_id) || self.manages_race(race)
    }

    /// Whether the viewer owns what `owner_id` owns (a model, a submission): the owner or an admin.
    pub fn owns(&self, owner_id: &str) -> bool {
        self.is_or_admin(owner_id)
    }

    /// Whose submissions a listing of "mine" shows: every racer's for admins, else the viewer's own.
    pub fn own_scope(&self) -> Option<&'a str> {
        match self.user {
            Some(u) if u.role != Role::Admin => Some(&u.id),
            _ => None,
        }
    }

    /// The viewer's own submission (admins: any), otherwise NotFound.
    pub async fn own_submission(&self, ctx: &Ctx, id: &str) -> Result<SubmissionRow> {
        match ctx.store.submission(id).await? {
            Some(s) if self.owns(&s.user_id) => Ok(s),
            _ => Err(LeagueError::not_found(format!(
                "submission_id: you have no submission {id:?}"
            ))),
        }
    }

    /// A submission the viewer sees whole (its evaluation's trace and replay), otherwise NotFound.
    pub async fn whole_submission(&self, ctx: &Ctx, id: &str) -> Result<SubmissionRow> {
        let s = ctx
            .store
            .submission(id)
            .await?
            .ok_or_else(|| LeagueError::not_found(format!("submission_id: no submission {id:?}")))?;
        let whole = match ctx.race(&s.race_id).await? {
            Some(race) => self.sees_whole(&s.user_id, &race),
            None => self.owns(&s.user_id),
        };
        if !whole {
            return Err(LeagueError::not_found(format!(
                "submission_id: you have no submission {id:?}"
            )));
        }
        Ok(s)
    }

    /// The event, if its race is visible to the viewer (otherwise NotFound, like an unknown id).
    pub async fn event(&self, ctx: &Ctx, id: &str) -> Result<(EventRow, RaceRow)> {
        let missing = || LeagueError::not_found(format!("event_id: no event {id:?}"));
        let e = ctx.store.event(id).await?.ok_or_else(missing)?;
        match ctx.race(&e.spec.race_id).await? {
            Some(r) if self.sees_race(ctx, &r).await? => Ok((e, r)),
            _ => Err(missing()),
        }
    }

    /// The match and its race, if the race is visible to the viewer (otherwise NotFound, like an
    /// unknown id).
    pub async fn match_row(&self, ctx: &Ctx, id: &str) -> Result<(MatchRow, RaceRow)> {
        let missing = || LeagueError::not_found(format!("match_id: no match {id:?}"));
        let m = ctx.store.match_row(id).await?.ok_or_else(missing)?;
        match ctx.race(&m.race_id).await? {
            Some(r) if self.sees_race(ctx, &r).await? => Ok((m, r)),
            _ => Err(missing()),
        }
    }

    /// Whose tokens a listing for `user_id` shows ("" = the viewer's own; admins: "" = everyone's,
    /// or any user's): `None` for everyone's. PermissionDenied for another user's, unless an admin.
    pub fn tokens_to_list<'b>(&self, user_id: &'b str) -> Result<Option<&'b str>>
    where
        'a: 'b,
    {
        let Some(me) = self.user else {
            return Err(LeagueError::Unauthenticated("listing tokens needs a token".into()));
        };
        match (me.role, user_id) {
            (Role::Admin, "") => Ok(None),
            (_, "") => Ok(Some(&me.id)),
            (Role::Admin, id) => Ok(Some(id)),
            (_, id) if id == me.id => Ok(Some(id)),
            _ => Err(LeagueError::denied(
                "user_id: listing another user's tokens needs the admin role; leave it empty for your own",
            )),
        }
    }

    /// Whether the viewer manages `season`: its creator or an admin.
    pub fn manages_season(&self, season: &SeasonRow) -> bool {
        self.is_or_admin(&season.created_by)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::races::RaceSpec;

    fn user(id: &str, role: Role) -> User {
        User {
            id: id.into(),
            name: id.into(),
            role,
            created_at: 0,
        }
    }

    fn race(private: bool) -> RaceRow {
        RaceRow {
            id: "race_1".into(),
            spec: RaceSpec {
                private,
                ..RaceSpec::time_trial("Cup", "oval", 0, 0)
            },
            created_by: "creator".into(),
            created_at: 0,
        }
    }

    #[test]
    fn a_race_is_managed_by_its_creator_and_admins_only() {
        let r = race(false);
        assert!(Viewer::user(&user("creator", Role::Facilitator)).manages_race(&r));
        assert!(Viewer::user(&user("boss", Role::Admin)).manages_race(&r));
        assert!(!Viewer::user(&user("other", Role::Facilitator)).manages_race(&r));
        assert!(!Viewer::PUBLIC.manages_race(&r));
    }

    #[test]
    fn a_submission_is_whole_to_its_racer_the_race_creator_and_admins() {
        let r = race(false);
        assert!(Viewer::user(&user("racer", Role::Racer)).sees_whole("racer", &r));
        assert!(Viewer::user(&user("creator", Role::Facilitator)).sees_whole("racer", &r));
        assert!(Viewer::user(&user("boss", Role::Admin)).sees_whole("racer", &r));
        assert!(!Viewer::user(&user("rival", Role::Racer)).sees_whole("racer", &r));
        assert!(!Viewer::PUBLIC.sees_whole("racer", &r));
    }

    #[test]
    fn listings_are_scoped_by_role() {
        let admin = user("boss", Role::Admin);
        let racer = user("racer", Role::Racer);
        assert_eq!(Viewer::user(&admin).race_scope(), RaceScope::All);
        assert_eq!(Viewer::user(&racer).race_scope(), RaceScope::PublicAnd("racer"));
        assert_eq!(Viewer::PUBLIC.race_scope(), RaceScope::Public);
        assert_eq!(Viewer::user(&admin).own_scope(), None);
        assert_eq!(Viewer::user(&racer).own_scope(), Some("racer"));
    }

    #[test]
    fn tokens_are_listed_for_oneself_and_by_admins_for_anyone() {
        let (admin, racer) = (user("boss", Role::Admin), user("racer", Role::Racer));
        assert_eq!(Viewer::user(&admin).tokens_to_list("").unwrap(), None, "everyone's");
        assert_eq!(Viewer::user(&admin).tokens_to_list("racer").unwrap(), Some("racer"));
        assert_eq!(Viewer::user(&racer).tokens_to_list("").unwrap(), Some("racer"));
        assert_eq!(Viewer::user(&racer).tokens_to_list("racer").unwrap(), Some("racer"));
        let e = Viewer::user(&racer).tokens_to_list("boss").unwrap_err();
        assert!(matches!(e, LeagueError::PermissionDenied(_)), "{e}");
        assert!(Viewer::PUBLIC.tokens_to_list("").is_err());
    }

    #[test]
    fn only_public_races_are_public() {
        assert!(is_public(&race(false)));
        assert!(!is_public(&race(true)));
    }
}
