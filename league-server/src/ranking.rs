//! The league's ranking rules, as pure functions.
//!
//! * A lap counts when progress reaches 100 %; its penalties are part of its time. Times are
//!   integer milliseconds (rounded from the simulator's seconds).
//! * **Best lap**: the fastest completed lap. **Best average**: the lowest mean over any window of
//!   `min_laps` consecutive completed laps (rounded to the millisecond). **Total time**: the sum of
//!   all laps (it requires `min_laps == laps`, so a qualifying result completed every lap).
//! * A result **qualifies** only if its longest run of consecutive completed laps is at least
//!   `min_laps`.
//! * **A tie is an equal score.** Tied results share a rank: **rank = 1 + the number of strictly
//!   better scores** (20 equal scores are all ranked 1; the next score is ranked 21).
//! * Within a tie, results are ordered by the key (score, submitted at, off-tracks): **the earlier
//!   submission first** — when the racer submitted, which re-evaluations, restarts and the order in
//!   which workers finish never change — **then fewer off-tracks**; results equal in all three are
//!   ordered by submission id. So the order is total: for display, and for which one is a racer's
//!   best. The order within a tie never changes a rank.
//! * One ranking row per user per race: their best qualifying result, the first of them in that
//!   order ([`best`]). So a new result replaces it only when it comes first: an equal score
//!   submitted later never does.
//!
//! [`order`] is the one place the order is decided: the store picks a racer's row with [`best`],
//! and leaderboards are sorted and updated with it. (The leaderboard query's `ORDER BY` only
//! pre-sorts; `tests/storage/ranking_order.rs` pins it to this order on both backends.)

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use slipstream_sim::Laps;

pub use slipstream_league_client::kinds::Timing;

/// One lap as the league stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lap {
    /// Including penalties.
    pub time_ms: i64,
    pub penalty_ms: i64,
    pub off_track: u32,
    pub collisions: u32,
    pub completed: bool,
}

/// Seconds → integer milliseconds (rounded half away from zero).
pub fn to_ms(seconds: f64) -> i64 {
    (seconds * 1000.0).round() as i64
}

impl slipstream_sim::Lap for Lap {
    type Time = i64;
    fn time(&self) -> i64 {
        self.time_ms
    }
    fn completed(&self) -> bool {
        self.completed
    }
    fn off_track(&self) -> u32 {
        self.off_track
    }
    fn collisions(&self) -> u32 {
        self.collisions
    }
}

// The lap summaries themselves (best lap, runs of completed laps, windows) are the simulator's
// (`slipstream_sim::Laps`), over the league's integer milliseconds; the functions below are the
// league's scoring on top of them.

/// The longest run of consecutive completed laps.
pub fn longest_completed_run(laps: &[Lap]) -> usize {
    laps.consecutive_completed()
}

/// Whether a result qualifies.
pub fn qualifies(laps: &[Lap], min_laps: usize) -> bool {
    min_laps >= 1 && longest_completed_run(laps) >= min_laps
}

/// The fastest completed lap.
pub fn best_lap(laps: &[Lap]) -> Option<i64> {
    laps.best_lap()
}

/// The lowest mean over any window of `n` consecutive completed laps, rounded to the millisecond.
pub fn best_average(laps: &[Lap], n: usize) -> Option<i64> {
    laps.best_window_sum(n)
        .map(|sum| (sum as f64 / n as f64).round() as i64)
}

/// The sum of all laps, if every lap was completed.
pub fn total_time(laps: &[Lap]) -> Option<i64> {
    (!laps.is_empty() && laps.completed_laps() == laps.len()).then(|| laps.total_time())
}

/// A result's score, or `None` if it does not qualify.
pub fn score(timing: Timing, min_laps: usize, laps: &[Lap]) -> Option<i64> {
    if !qualifies(laps, min_laps) {
        return None;
    }
    match timing {
        Timing::BestLap => best_lap(laps),
        Timing::BestAverage => best_average(laps, min_laps),
        Timing::TotalTime => total_time(laps),
    }
}

/// The ordering key of a result: lower is better. Compared field by field, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub score_ms: i64,
    /// When the submission was made (not when its evaluation finished).
    pub submitted_at_ms: i64,
    pub off_track: u32,
}

/// A result with a place in the order: a leaderboard row, or one of a racer's qualifying results.
pub trait Ranked {
    fn key(&self) -> Key;
    /// Orders results with equal keys; it never changes a rank.
    fn submission_id(&self) -> &str;
}

/// The order of results, best first: by [`Key`], then by submission id.
pub fn order<R: Ranked + ?Sized>(a: &R, b: &R) -> Ordering {
    a.key()
        .cmp(&b.key())
        .then_with(|| a.submission_id().cmp(b.submission_id()))
}

/// A racer's best result: the first in [`order`] (`None` if they have none).
pub fn best<R: Ranked>(results: impl IntoIterator<Item = R>) -> Option<R> {
    results.into_iter().min_by(|a, b| order(a, b))
}

/// Sort results into [`order`] (quick on rows that are sorted already).
pub fn sort<R: Ranked>(rows: &mut [R]) {
    rows.sort_by(|a, b| order(a, b));
}

/// Ranks for keys sorted ascending: 1 + the number of strictly better scores (equal scores share
/// a rank, whatever the rest of their keys).
pub fn ranks(sorted: &[Key]) -> Vec<u32> {
    let mut out = Vec::with_capacity(sorted.len());
    for (i, k) in sorted.iter().enumerate() {
        let r = if i > 0 && sorted[i - 1].score_ms == k.score_ms {
            out[i - 1]
        } else {
            i as u32 + 1
        };
        out.push(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lap(ms: i64) -> Lap {
        Lap {
            time_ms: ms,
            penalty_ms: 0,
            off_track: 0,
            collisions: 0,
            completed: true,
        }
    }
    fn dnf(ms: i64) -> Lap {
        Lap {
            completed: false,
            ..lap(ms)
        }
    }

    #[test]
    fn milliseconds_round() {
        assert_eq!(to_ms(5.9184), 5918);
        assert_eq!(to_ms(5.9185), 5919);
        assert_eq!(to_ms(0.0004), 0);
    }

    #[test]
    fn best_lap_ignores_incomplete_laps() {
        assert_eq!(best_lap(&[lap(9000), dnf(1000), lap(8000)]), Some(8000));
        assert_eq!(best_lap(&[dnf(1000)]), None);
    }

    #[test]
    fn best_average_uses_consecutive_completed_windows() {
        let laps = [lap(10_000), lap(9_000), dnf(1), lap(8_000), lap(8_001), lap(20_000)];
        // Windows of 2: (10000, 9000) = 9500; (8000, 8001) = 8000.5 → 8001 (rounded); windows with the
        // incomplete lap never count.
        assert_eq!(best_average(&laps, 2), Some(8001));
        assert_eq!(best_average(&laps, 3), Some(12_000)); // (8000 + 8001 + 20000) / 3 = 12000.33
        assert_eq!(best_average(&laps, 4), None);
        assert_eq!(best_average(&laps, 0), None);
    }

    #[test]
    fn total_time_needs_every_lap() {
        assert_eq!(total_time(&[lap(1), lap(2), lap(3)]), Some(6));
        assert_eq!(total_time(&[lap(1), dnf(2)]), None);
        assert_eq!(total_time(&[]), None);
    }

    #[test]
    fn qualification_needs_a_long_enough_run() {
        let laps = [lap(1), dnf(2), lap(3), lap(4)];
        assert_eq!(longest_completed_run(&laps), 2);
        assert!(qualifies(&laps, 2));
        assert!(!qualifies(&laps, 3));
        assert!(!qualifies(&laps, 0));
        assert_eq!(
            score(Timing::BestLap, 3, &laps),
            None,
            "a fast lap does not count without qualifying"
        );
        assert_eq!(score(Timing::BestLap, 2, &laps), Some(1));
        assert_eq!(score(Timing::BestAverage, 2, &laps), Some(4)); // (3 + 4) / 2 = 3.5 → 4
        assert_eq!(score(Timing::TotalTime, 4, &laps), None);
    }

    #[test]
    fn penalties_are_part_of_the_lap_time() {
        // The simulator adds penalties to a lap's time; the rules use that time as given.
        let penalised = Lap {
            time_ms: 9_000 + 2_000,
            penalty_ms: 2_000,
            off_track: 1,
            ..lap(0)
        };
        assert_eq!(best_lap(&[penalised, lap(10_000)]), Some(10_000));
    }

    #[test]
    fn ties_are_ordered_by_earlier_submission_then_fewer_off_tracks_and_share_a_rank() {
        let a = Key {
            score_ms: 8000,
            submitted_at_ms: 100,
            off_track: 2,
        };
        let b = Key {
            score_ms: 8000,
            submitted_at_ms: 50,
            off_track: 5,
        };
        let c = Key {
            score_ms: 8000,
            submitted_at_ms: 50,
            off_track: 1,
        };
        let d = Key {
            score_ms: 7999,
            submitted_at_ms: 999,
            off_track: 9,
        };
        let mut keys = vec![a, b, c, d];
        keys.sort();
        assert_eq!(keys, vec![d, c, b, a]);
        // Equal scores share a rank, however they are ordered; the next rank counts them.
        assert_eq!(ranks(&keys), vec![1, 2, 2, 2]);
        let e = Key {
            score_ms: 9000,
            submitted_at_ms: 1,
            off_track: 0,
        };
        assert_eq!(ranks(&[d, c, b, a, e]), vec![1, 2, 2, 2, 5]);
    }

    #[test]
    fn twenty_equal_scores_are_all_ranked_first() {
        let mut keys: Vec<Key> = (0..20)
            .map(|i| Key {
                score_ms: 8000,
                submitted_at_ms: 1_000 + i,
                off_track: (i % 3) as u32,
            })
            .collect();
        keys.push(Key {
            score_ms: 8001,
            submitted_at_ms: 0,
            off_track: 0,
        });
        keys.sort();
        let r = ranks(&keys);
        assert_eq!(&r[..20], &[1; 20]);
        assert_eq!(r[20], 21, "1 + the 20 strictly better scores");
    }

    /// A result for the order's tests.
    #[derive(Clone, Debug, PartialEq)]
    struct R(Key, String);

    impl Ranked for R {
        fn key(&self) -> Key {
            self.0
        }
        fn submission_id(&self) -> &str {
            &self.1
        }
    }

    fn r(score_ms: i64, submitted_at_ms: i64, off_track: u32, id: &str) -> R {
        R(
            Key {
                score_ms,
                submitted_at_ms,
                off_track,
            },
            id.to_string(),
        )
    }

    #[test]
    fn the_order_is_the_key_then_the_submission_id() {
        let expected = vec![
            r(7999, 999, 9, "s_z"),
            r(8000, 50, 1, "s_1"),
            r(8000, 50, 1, "s_9"), // an exact tie on the key: the submission id decides
            r(8000, 50, 2, "s_0"), // more off-tracks
            r(8000, 50, 1 << 31, "s_0"),
            r(8000, 50, u32::MAX, "s_0"),
            r(8000, 51, 0, "s_0"), // later
            r(8001, 0, 0, "s_0"),  // a worse score, whatever else
        ];
        let mut rows: Vec<R> = expected.iter().rev().cloned().collect();
        rows.swap(1, 5);
        sort(&mut rows);
        assert_eq!(rows, expected);
        assert_eq!(best(expected.iter().rev().cloned()), Some(expected[0].clone()));
        assert_eq!(best(Vec::<R>::new()), None);
        let keys: Vec<Key> = rows.iter().map(Ranked::key).collect();
        // Ranks follow the score alone.
        assert_eq!(ranks(&keys), vec![1, 2, 2, 2, 2, 2, 2, 8]);
    }

    #[test]
    fn the_order_is_the_columns_compared_in_turn() {
        // Many results with few distinct values (so that every kind of tie occurs): the order is the
        // lexicographic order of (score, submitted at, off-tracks, submission id), which is what the
        // leaderboard query's ORDER BY says.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let mut rows: Vec<R> = (0..500)
            .map(|_| {
                r(
                    8000 + next(3) as i64,
                    next(3) as i64,
                    next(3) as u32,
                    &format!("sub_{:02x}", next(40)),
                )
            })
            .collect();
        let mut by_columns = rows.clone();
        by_columns.sort_by(|a, b| {
            (a.0.score_ms, a.0.submitted_at_ms, a.0.off_track, &a.1).cmp(&(
                b.0.score_ms,
                b.0.submitted_at_ms,
                b.0.off_track,
                &b.1,
            ))
        });
        sort(&mut rows);
        assert_eq!(rows, by_columns);
        assert_eq!(best(rows.iter().rev().cloned()).as_ref(), rows.first());
    }

    #[test]
    fn a_best_is_replaced_only_by_a_result_that_comes_first() {
        let cur = r(8000, 100, 0, "sub_5");
        let with = |new: R| best([cur.clone(), new]).unwrap();
        assert_eq!(best([cur.clone()]), Some(cur.clone()));
        assert_eq!(
            with(r(8000, 200, 0, "sub_1")),
            cur,
            "the same score later does not replace"
        );
        assert_eq!(with(r(8000, 100, 1, "sub_1")), cur, "nor does it with more off-tracks");
        assert_eq!(with(r(8001, 1, 0, "sub_1")), cur, "nor a worse score submitted earlier");
        assert_eq!(
            with(r(8000, 100, 0, "sub_9")),
            cur,
            "an exact tie with a later id does not"
        );
        // An exact tie (submitted in the same millisecond) with an earlier id does: the order is total.
        assert_eq!(with(r(8000, 100, 0, "sub_1")).1, "sub_1");
        assert_eq!(
            with(r(7999, 300, 3, "sub_9")).1,
            "sub_9",
            "a better score does, whenever"
        );
        assert_eq!(
            with(r(8000, 99, 9, "sub_9")).1,
            "sub_9",
            "as does the same score earlier"
        );
    }
}
