//! The league layer: the operations every front end needs (gRPC services in `service/`, the web
//! site in `web/`, the workers), over the state in [`crate::ctx::Ctx`] and the store. Front ends
//! translate requests into these and results into their own form; they never import each other.
//!
//! * [`accounts`]: sign-up invites, passwords, sign-in and console sessions.
//! * [`access`]: who may see and manage what — every visibility and management decision.
//! * [`tracks`]: built-in and uploaded tracks, and what an evaluation of a race needs.
//! * [`submissions`], [`jobs`]: a submission's life (entered, cancelled, re-evaluated, leased,
//!   recorded, failed), its watchers told from there and nowhere else.
//! * [`events`]: head-to-head operations (matches, brackets, ladders, models' worlds).
//! * [`standings`]: leaderboard pages and season tables; [`paging`]: page tokens and sizes.
//! * [`models`]: a model file checked and stored for its owner (uploads, finished trainings).
//! * [`training`]: the console's "Create model" form as the trainer's config, quotas, stopping a job.
//! * [`rewards`]: a student's reward function checked in the sandbox, a few at a time.

pub mod access;
pub mod accounts;
pub mod events;
pub mod jobs;
pub mod models;
pub mod paging;
pub mod rewards;
pub mod standings;
pub mod submissions;
pub mod tracks;
pub mod training;

pub use access::Viewer;
