//! A race's result and the summaries every consumer of lap times uses: best lap, total time, runs
//! of consecutive completed (or clean) laps, best window of consecutive laps — and the one lap
//! table that `sim drive` and `trainer evaluate` print.
//!
//! The summaries are written once, over any lap type ([`Lap`]): the simulator's [`LapResult`] in
//! seconds, and the league's stored laps in integer milliseconds (so its scores are exact sums of
//! integers, not re-rounded floats).

use std::fmt;
use std::iter::Sum;

use serde::Serialize;

use crate::episode::LapResult;

/// One lap, as anything that times laps sees it.
pub trait Lap {
    /// The unit of lap time (seconds as `f64`, milliseconds as `i64`, …).
    type Time: Copy + PartialOrd + Sum<Self::Time>;
    /// The lap's time, penalties included.
    fn time(&self) -> Self::Time;
    /// Whether the lap reached 100 % progress (false for a trial ended by an incident or a lap cut
    /// short by the time limit).
    fn completed(&self) -> bool;
    /// Incidents other than collisions: off-track, and DeepRacer's reversed and immobilized.
    fn off_track(&self) -> u32;
    fn collisions(&self) -> u32;
    /// Completed without an off-track or a collision.
    fn clean(&self) -> bool {
        self.completed() && self.off_track() == 0 && self.collisions() == 0
    }
}

impl Lap for LapResult {
    type Time = f64;
    fn time(&self) -> f64 {
        self.time_s
    }
    fn completed(&self) -> bool {
        self.completed
    }
    fn off_track(&self) -> u32 {
        self.off_track + self.reversed + self.immobilized
    }
    fn collisions(&self) -> u32 {
        self.collisions
    }
}

fn min_time<T: Copy + PartialOrd>(times: impl Iterator<Item = T>) -> Option<T> {
    times.fold(None, |best, t| match best {
        Some(b) if b <= t => Some(b),
        _ => Some(t),
    })
}

/// Summaries of a sequence of laps in the order they were driven. Implemented for every slice of
/// [`Lap`]s: `laps.best_lap()`, `laps.consecutive_clean()`, ….
pub trait Laps {
    type Time;
    /// Laps that reached 100 % progress.
    fn completed_laps(&self) -> usize;
    /// The fastest completed lap (penalties included).
    fn best_lap(&self) -> Option<Self::Time>;
    /// The sum of all laps driven, completed or not (penalties included).
    fn total_time(&self) -> Self::Time;
    fn off_track(&self) -> u32;
    fn collisions(&self) -> u32;
    /// The longest run of consecutive completed laps.
    fn consecutive_completed(&self) -> usize;
    /// The longest run of consecutive clean laps (completed, no off-track, no collision).
    fn consecutive_clean(&self) -> usize;
    /// The lowest sum of `n` consecutive laps that were all completed (`None` when there is no
    /// such window or `n` is 0).
    fn best_window_sum(&self, n: usize) -> Option<Self::Time>;
}

fn longest_run<L>(laps: &[L], ok: impl Fn(&L) -> bool) -> usize {
    let (mut best, mut current) = (0, 0);
    for lap in laps {
        current = if ok(lap) { current + 1 } else { 0 };
        best = best.max(current);
    }
    best
}

impl<L: Lap> Laps for [L] {
    type Time = L::Time;

    fn completed_laps(&self) -> usize {
        self.iter().filter(|l| l.completed()).count()
    }
    fn best_lap(&self) -> Option<L::Time> {
        min_time(self.iter().filter(|l| l.completed()).map(Lap::time))
    }
    fn total_time(&self) -> L::Time {
        self.iter().map(Lap::time).sum()
    }
    fn off_track(&self) -> u32 {
        self.iter().map(Lap::off_track).sum()
    }
    fn collisions(&self) -> u32 {
        self.iter().map(Lap::collisions).sum()
    }
    fn consecutive_completed(&self) -> usize {
        longest_run(self, Lap::completed)
    }
    fn consecutive_clean(&self) -> usize {
        longest_run(self, Lap::clean)
    }
    fn best_window_sum(&self, n: usize) -> Option<L::Time> {
        if n == 0 || self.len() < n {
            return None;
        }
        min_time(
            self.windows(n)
                .filter(|w| w.iter().all(Lap::completed))
                .map(|w| w.iter().map(Lap::time).sum()),
        )
    }
}

/// Places in a head-to-head race (one per car, in the order given): more completed laps are
/// ahead; among cars with as many, the one that completed its last lap earlier (the sum of its
/// completed laps' times, penalty holds included — in a continuous race, the moment it crossed the
/// line) is ahead. A car's place is 1 + the cars strictly ahead of it, so exactly equal cars share
/// a place (1, 1, 3).
pub fn finishing_places<L: Lap>(races: &[&[L]]) -> Vec<u32> {
    let key = |laps: &[L]| {
        let done = laps.completed_laps();
        let at: L::Time = laps.iter().filter(|l| l.completed()).map(Lap::time).sum();
        (done, at)
    };
    let keys: Vec<_> = races.iter().map(|l| key(l)).collect();
    keys.iter()
        .map(|(laps, at)| {
            let ahead = keys.iter().filter(|(l, t)| l > laps || (l == laps && t < at)).count();
            1 + ahead as u32
        })
        .collect()
}

/// A car's race, as [`crate::VecEnv::race_results`] reports it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RaceResult {
    pub car: usize,
    pub laps: Vec<LapResult>,
    /// All laps driven or the time limit reached.
    pub finished: bool,
}

impl RaceResult {
    pub fn completed_laps(&self) -> usize {
        self.laps.completed_laps()
    }
    /// Fastest completed lap (penalties included), seconds.
    pub fn best_lap(&self) -> Option<f64> {
        self.laps.best_lap()
    }
    /// Sum of all lap times (penalties included), seconds.
    pub fn total_time(&self) -> f64 {
        self.laps.total_time()
    }
    /// The race's laps as a human-readable table (see [`LapTable`]).
    pub fn table(&self) -> LapTable<'_> {
        LapTable(&self.laps)
    }
}

/// The lap table that `sim drive` and `trainer evaluate` print: one line per lap, then the best
/// lap and the total.
///
/// ```text
/// lap  1:  10.533 s  (off-track 0, collisions 0, penalty 0.0 s)
/// lap  2:  12.533 s  (off-track 1, collisions 0, penalty 2.0 s)
/// lap  3:   4.200 s  (off-track 1, collisions 0, penalty 0.0 s)  not completed: off_track
/// best lap 10.533 s, total 27.266 s, 2 completed
/// ```
#[derive(Clone, Copy, Debug)]
pub struct LapTable<'a>(pub &'a [LapResult]);

impl fmt::Display for LapTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let laps = self.0;
        for (i, l) in laps.iter().enumerate() {
            write!(
                f,
                "lap {:>2}: {:>7.3} s  (off-track {}, collisions {}",
                i + 1,
                l.time_s,
                l.off_track,
                l.collisions,
            )?;
            for (n, what) in [(l.reversed, "reversed"), (l.immobilized, "immobilized")] {
                if n > 0 {
                    write!(f, ", {what} {n}")?;
                }
            }
            write!(f, ", penalty {:.1} s)", l.penalty_s)?;
            if !l.completed {
                write!(f, "  not completed: {}", l.ended.as_str())?;
            }
            writeln!(f)?;
        }
        match laps.best_lap() {
            Some(best) => write!(
                f,
                "best lap {best:.3} s, total {:.3} s, {} completed",
                laps.total_time(),
                laps.completed_laps()
            ),
            None => write!(f, "no lap completed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::episode::EpisodeStatus;

    fn lap(time_s: f64, completed: bool, off_track: u32) -> LapResult {
        LapResult {
            time_s,
            raw_time_s: time_s - 2.0 * f64::from(off_track),
            penalty_s: 2.0 * f64::from(off_track),
            off_track,
            collisions: 0,
            reversed: 0,
            immobilized: 0,
            completed,
            ended: if completed {
                EpisodeStatus::LapComplete
            } else {
                EpisodeStatus::TimeUp
            },
        }
    }

    #[test]
    fn finishing_places_rank_laps_then_the_time_the_last_lap_ended() {
        let winner = [Ms(10_000, true), Ms(9_000, true)];
        let second = [Ms(9_500, true), Ms(9_600, true)];
        // Fastest lap of all but only one lap completed: behind every car that completed two.
        let one_lap = [Ms(8_000, true), Ms(3_000, false)];
        let none: [Ms; 1] = [Ms(30_000, false)];
        let tie = [Ms(9_000, true), Ms(10_000, true)];
        assert_eq!(
            finishing_places::<Ms>(&[&second, &one_lap, &winner, &none]),
            vec![2, 3, 1, 4]
        );
        // Equal cars share a place, and the next place is skipped.
        assert_eq!(finishing_places::<Ms>(&[&winner, &tie, &second]), vec![1, 1, 3]);
        // The incomplete lap's time does not count.
        let slow_dnf = [Ms(8_000, true), Ms(90_000, false)];
        assert_eq!(finishing_places::<Ms>(&[&slow_dnf, &one_lap]), vec![1, 1]);
        assert_eq!(finishing_places::<Ms>(&[]), Vec::<u32>::new());
    }

    #[derive(Clone, Copy)]
    struct Ms(i64, bool);
    impl Lap for Ms {
        type Time = i64;
        fn time(&self) -> i64 {
            self.0
        }
        fn completed(&self) -> bool {
            self.1
        }
        fn off_track(&self) -> u32 {
            0
        }
        fn collisions(&self) -> u32 {
            0
        }
    }

    #[test]
    fn summaries_of_seconds() {
        let laps = [
            lap(10.0, true, 0),
            lap(12.0, true, 1),
            lap(9.5, true, 0),
            lap(9.0, true, 0),
            lap(30.0, false, 0),
        ];
        assert_eq!(laps.completed_laps(), 4);
        assert_eq!(laps.best_lap(), Some(9.0));
        assert_eq!(laps.total_time(), 70.5);
        assert_eq!(laps.off_track(), 1);
        assert_eq!(laps.consecutive_completed(), 4);
        assert_eq!(laps.consecutive_clean(), 2);
        assert_eq!(laps.best_window_sum(2), Some(18.5));
        assert_eq!(laps.best_window_sum(5), None, "the last lap is incomplete");
        assert_eq!(laps.best_window_sum(0), None);
        let none: [LapResult; 0] = [];
        assert_eq!(none.best_lap(), None);
        assert_eq!(none.consecutive_completed(), 0);
    }

    #[test]
    fn summaries_of_milliseconds() {
        let laps = [Ms(9000, true), Ms(1000, false), Ms(8000, true), Ms(8001, true)];
        assert_eq!(laps.best_lap(), Some(8000));
        assert_eq!(laps.best_window_sum(2), Some(16_001));
        assert_eq!(laps.best_window_sum(3), None);
        assert_eq!(laps.consecutive_completed(), 2);
        assert_eq!(laps.total_time(), 26_001);
    }

    #[test]
    fn the_lap_table_shows_each_lap_then_the_summary() {
        let r = RaceResult {
            car: 0,
            laps: vec![lap(10.5, true, 0), lap(12.5, true, 1), lap(3.0, false, 0)],
            finished: true,
        };
        let text = r.table().to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(
            lines[0],
            "lap  1:  10.500 s  (off-track 0, collisions 0, penalty 0.0 s)"
        );
        assert_eq!(
            lines[1],
            "lap  2:  12.500 s  (off-track 1, collisions 0, penalty 2.0 s)"
        );
        assert!(lines[2].ends_with("penalty 0.0 s)  not completed: time_up"), "{text}");
        assert_eq!(lines[3], "best lap 10.500 s, total 26.000 s, 2 completed");
        let empty = RaceResult {
            car: 0,
            laps: vec![lap(3.0, false, 0)],
            finished: true,
        };
        assert!(empty.table().to_string().ends_with("no lap completed"));
    }
}
