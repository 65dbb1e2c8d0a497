//! Head-to-head matches and the events that make them, as pure rules: a match's entrants and
//! result, an event's settings (an elimination bracket seeded from a time trial, or an open rating
//! ladder), the bracket's state from its results ([`crate::brackets`]) and the ladder's ratings and
//! next pairing. The store keeps them (`store/matches.rs`, `store/events.rs`); the evaluation queue
//! races matches (`queue.rs`) and `league::events` (`Ctx::finish_match`) advances their event.
//!
//! A match races its entrants' models in one world (the simulator's head-to-head group) on its
//! race's track, under the race's rules made continuous (a head-to-head race cannot restart one
//! car's trial), with a seed derived from the match's id: racing it again gives the same result.
//!
//! **Ladder ratings** are Weng-Lin ratings (the `skillratings` crate; a Bayesian rating like
//! TrueSkill, mean 25 and uncertainty 25/3 at the start), replayed over the ladder's completed
//! matches in the order they were created — so the same matches always give the same ratings. A
//! ladder's entrants are its race's leaderboard (each racer's best submission, as ranked there);
//! it pairs them one match at a time while its race is open, up to its match limit: the entrant
//! with the fewest ladder matches (then the larger uncertainty, then the better leaderboard rank)
//! against the entrant whose rating is closest to it (then fewer matches, then better rank),
//! avoiding a rematch of the pair's last match when anyone else is left. The higher-rated of the
//! two starts in front. The table ranks by the conservative rating, mean − 3 × uncertainty.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use skillratings::Outcomes;
use skillratings::weng_lin::{WengLinConfig, WengLinRating, weng_lin};

use slipstream_trainer::model::ModelSpec;

use crate::brackets::{self, Elimination, MatchKey, Plan};
use crate::error::{LeagueError, Result};
use crate::ranking::Lap;

/// Where a match is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl MatchStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchStatus::Queued => "queued",
            MatchStatus::Running => "running",
            MatchStatus::Done => "done",
            MatchStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> std::result::Result<Self, String> {
        Ok(match s {
            "queued" => MatchStatus::Queued,
            "running" => MatchStatus::Running,
            "done" => MatchStatus::Done,
            "failed" => MatchStatus::Failed,
            other => return Err(format!("stored match status {other:?}")),
        })
    }
}

/// A car in a match: the submission whose model drives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entrant {
    pub submission_id: String,
    pub user_id: String,
    /// The racer's and the model's names when the match was made.
    pub user_name: String,
    pub model_name: String,
}

/// One seat's race in a completed match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatResult {
    /// 1 = won; equal cars share a place ([`slipstream_sim::finishing_places`]).
    pub place: u32,
    pub laps: Vec<Lap>,
}

/// A completed match, seat by seat in grid order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchResult {
    pub seats: Vec<SeatResult>,
}

impl MatchResult {
    /// The winning seat: first place, the seat further up the grid when places are shared (in a
    /// bracket, the better seed).
    pub fn winner(&self) -> usize {
        (0..self.seats.len())
            .min_by_key(|&i| (self.seats[i].place, i))
            .unwrap_or(0)
    }
}

/// What an event is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum EventKind {
    /// An elimination bracket; `entrants` in seed order (0 = best).
    Bracket {
        elimination: Elimination,
        entrants: Vec<Seeded>,
    },
    /// An open rating ladder over its race's leaderboard, raced until `max_matches`, between the
    /// models that share `world` (the settings of its best-ranked model when it was created).
    Ladder { max_matches: u32, world: Box<ModelSpec> },
}

/// A bracket's entrant with what seeded it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Seeded {
    pub entrant: Entrant,
    /// Its rank and score on the seeding race's leaderboard.
    pub rank: u32,
    pub score_ms: i64,
}

/// An event's settings (the `events.spec_json` column).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventSpec {
    pub name: String,
    pub description: String,
    /// The race whose track and rules every match uses (and, for a ladder, whose leaderboard
    /// are the entrants; for a bracket, which seeded it).
    pub race_id: String,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// The most matches a ladder may be set to race.
pub const MAX_LADDER_MATCHES: u32 = 10_000;

impl EventSpec {
    /// Check the name, description and kind; errors name the field.
    pub fn validate(&self) -> Result<()> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(LeagueError::invalid("name: expected 1–100 characters"));
        }
        if self.description.chars().count() > 2000 {
            return Err(LeagueError::invalid("description: expected at most 2000 characters"));
        }
        match &self.kind {
            EventKind::Bracket { elimination, entrants } => {
                brackets::validate(*elimination, entrants.len() as u32).map_err(LeagueError::invalid)?
            }
            EventKind::Ladder { max_matches, .. } => {
                if !(1..=MAX_LADDER_MATCHES).contains(max_matches) {
                    return Err(LeagueError::invalid(format!(
                        "max_matches: expected 1–{MAX_LADDER_MATCHES}, got {max_matches}"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// A world (the settings models must share to race together: sensor, car, step) in words:
/// `lidar sensor`.
pub fn world_in_words(spec: &ModelSpec) -> String {
    format!("{} sensor", spec.sensor.kind())
}

/// A match as the events' rules see it: its key in the event, its entrants and its result.
#[derive(Clone, Debug, PartialEq)]
pub struct Played<'a> {
    pub key: &'a str,
    pub entrants: &'a [Entrant],
    pub result: Option<&'a MatchResult>,
}

/// A bracket's state: its plan from the winners of its completed matches.
pub fn bracket_plan(elimination: Elimination, entrants: &[Seeded], played: &[Played<'_>]) -> Plan {
    let seed_of = |sub: &str| entrants.iter().position(|s| s.entrant.submission_id == sub);
    let mut winners = BTreeMap::new();
    for p in played {
        let (Ok(key), Some(result)) = (p.key.parse::<MatchKey>(), p.result) else {
            continue;
        };
        if let Some(seed) = p.entrants.get(result.winner()).and_then(|e| seed_of(&e.submission_id)) {
            winners.insert(key, seed as u32);
        }
    }
    brackets::plan(elimination, entrants.len() as u32, &winners)
}

/// An entrant's line on a ladder.
#[derive(Clone, Debug, PartialEq)]
pub struct LadderLine {
    pub entrant: Entrant,
    /// Its place on the race's leaderboard.
    pub board_rank: u32,
    pub rating: f64,
    pub uncertainty: f64,
    pub matches: u32,
    pub wins: u32,
}

impl LadderLine {
    /// The conservative rating the table ranks by.
    pub fn conservative(&self) -> f64 {
        self.rating - 3.0 * self.uncertainty
    }
}

/// The ladder's table: every entrant (in leaderboard order, `entrants` with their board ranks)
/// rated over the completed two-car matches of `played` (in creation order), sorted by
/// conservative rating (then board rank). Matches of submissions no longer entrants still move
/// their opponents' ratings.
pub fn ladder_table(entrants: &[(Entrant, u32)], played: &[Played<'_>]) -> Vec<LadderLine> {
    let config = WengLinConfig::new();
    let mut ratings: BTreeMap<&str, (WengLinRating, u32, u32)> = BTreeMap::new();
    for p in played {
        let (Some(result), [a, b]) = (p.result, p.entrants) else {
            continue;
        };
        let ra = ratings
            .get(a.submission_id.as_str())
            .map_or_else(WengLinRating::new, |r| r.0);
        let rb = ratings
            .get(b.submission_id.as_str())
            .map_or_else(WengLinRating::new, |r| r.0);
        let outcome = match result.seats[0].place.cmp(&result.seats[1].place) {
            std::cmp::Ordering::Less => Outcomes::WIN,
            std::cmp::Ordering::Greater => Outcomes::LOSS,
            std::cmp::Ordering::Equal => Outcomes::DRAW,
        };
        let (na, nb) = weng_lin(&ra, &rb, &outcome, &config);
        for (e, r, won) in [(a, na, outcome == Outcomes::WIN), (b, nb, outcome == Outcomes::LOSS)] {
            let line = ratings
                .entry(e.submission_id.as_str())
                .or_insert((WengLinRating::new(), 0, 0));
            line.0 = r;
            line.1 += 1;
            line.2 += u32::from(won);
        }
    }
    let mut lines: Vec<LadderLine> = entrants
        .iter()
        .map(|(e, rank)| {
            let (r, matches, wins) =
                ratings
                    .get(e.submission_id.as_str())
                    .copied()
                    .unwrap_or((WengLinRating::new(), 0, 0));
            LadderLine {
                entrant: e.clone(),
                board_rank: *rank,
                rating: r.rating,
                uncertainty: r.uncertainty,
                matches,
                wins,
            }
        })
        .collect();
    lines.sort_by(|a, b| {
        b.conservative()
            .total_cmp(&a.conservative())
            .then(a.board_rank.cmp(&b.board_rank))
    });
    lines
}

/// The ladder's next pairing (grid order: the higher-rated first), or `None` with fewer than two
/// entrants. `table` is [`ladder_table`]'s; `last` the entrants of the ladder's last match.
pub fn next_pairing(table: &[LadderLine], last: Option<&[Entrant]>) -> Option<[Entrant; 2]> {
    if table.len() < 2 {
        return None;
    }
    let first = table.iter().min_by(|a, b| {
        a.matches
            .cmp(&b.matches)
            .then(b.uncertainty.total_cmp(&a.uncertainty))
            .then(a.board_rank.cmp(&b.board_rank))
    })?;
    let was_last_pair = |o: &LadderLine| {
        last.is_some_and(|l| {
            l.len() == 2
                && l.iter().any(|e| e.submission_id == first.entrant.submission_id)
                && l.iter().any(|e| e.submission_id == o.entrant.submission_id)
        })
    };
    let others = || {
        table
            .iter()
            .filter(|o| o.entrant.submission_id != first.entrant.submission_id)
    };
    let pool: Vec<&LadderLine> = if table.len() > 2 {
        others().filter(|o| !was_last_pair(o)).collect()
    } else {
        others().collect()
    };
    let second = pool.into_iter().min_by(|a, b| {
        (a.rating - first.rating)
            .abs()
            .total_cmp(&(b.rating - first.rating).abs())
            .then(a.matches.cmp(&b.matches))
            .then(a.board_rank.cmp(&b.board_rank))
    })?;
    let (hi, lo) = if (second.rating, std::cmp::Reverse(second.board_rank))
        > (first.rating, std::cmp::Reverse(first.board_rank))
    {
        (second, first)
    } else {
        (first, second)
    };
    Some([hi.entrant.clone(), lo.entrant.clone()])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entrant(i: usize) -> Entrant {
        Entrant {
            submission_id: format!("sub_{i}"),
            user_id: format!("user_{i}"),
            user_name: format!("racer {i}"),
            model_name: format!("model {i}"),
        }
    }

    fn result(places: [u32; 2]) -> MatchResult {
        MatchResult {
            seats: places.iter().map(|&place| SeatResult { place, laps: vec![] }).collect(),
        }
    }

    /// Run a ladder of `n` entrants for `matches` matches, entrant `i` beating `j` when `i < j`.
    fn run_ladder(n: usize, matches: usize) -> (Vec<LadderLine>, Vec<[Entrant; 2]>) {
        let entrants: Vec<(Entrant, u32)> = (0..n).map(|i| (entrant(i), i as u32 + 1)).collect();
        let mut pairs: Vec<[Entrant; 2]> = Vec::new();
        let mut results: Vec<MatchResult> = Vec::new();
        fn played<'a>(pairs: &'a [[Entrant; 2]], results: &'a [MatchResult]) -> Vec<Played<'a>> {
            pairs
                .iter()
                .zip(results)
                .map(|(p, r)| Played {
                    key: "",
                    entrants: p,
                    result: Some(r),
                })
                .collect()
        }
        for _ in 0..matches {
            let table = ladder_table(&entrants, &played(&pairs, &results));
            let pair = next_pairing(&table, pairs.last().map(|p| p.as_slice())).unwrap();
            let idx = |e: &Entrant| e.submission_id[4..].parse::<usize>().unwrap();
            let r = if idx(&pair[0]) < idx(&pair[1]) { [1, 2] } else { [2, 1] };
            results.push(result(r));
            pairs.push(pair);
        }
        (ladder_table(&entrants, &played(&pairs, &results)), pairs)
    }

    #[test]
    fn a_ladder_sorts_entrants_by_strength_and_repeats_exactly() {
        let (table, pairs) = run_ladder(5, 40);
        let order: Vec<&str> = table.iter().map(|l| l.entrant.submission_id.as_str()).collect();
        assert_eq!(order, ["sub_0", "sub_1", "sub_2", "sub_3", "sub_4"]);
        // Everyone plays: matches are spread evenly (40 matches × 2 seats over 5 entrants).
        for l in &table {
            assert!((14..=18).contains(&l.matches), "{l:?}");
            assert!(l.uncertainty < 25.0 / 3.0);
        }
        assert_eq!(table[0].wins, table[0].matches);
        assert_eq!(table[4].wins, 0);
        // The same matches give the same ratings, to the bit.
        let (again, pairs_again) = run_ladder(5, 40);
        assert_eq!(pairs, pairs_again);
        for (a, b) in table.iter().zip(&again) {
            assert_eq!(a.rating.to_bits(), b.rating.to_bits());
            assert_eq!(a.uncertainty.to_bits(), b.uncertainty.to_bits());
        }
        // No pair plays twice in a row.
        for w in pairs.windows(2) {
            let same = w[0].iter().all(|e| w[1].contains(e));
            assert!(!same, "{w:?}");
        }
    }

    #[test]
    fn pairing_starts_with_the_unplayed_and_the_higher_rated_in_front() {
        let entrants: Vec<(Entrant, u32)> = (0..3).map(|i| (entrant(i), i as u32 + 1)).collect();
        let table = ladder_table(&entrants, &[]);
        // Nobody has played: the two best on the board, the better first.
        let pair = next_pairing(&table, None).unwrap();
        assert_eq!(pair, [entrant(0), entrant(1)]);
        // After 0 beat 1, entrant 2 (no matches) plays, against the rating closest to 25 — both
        // moved equally far from it, so the better board rank: 0, who is rated higher and starts
        // in front.
        let played = [Played {
            key: "",
            entrants: &pair,
            result: Some(&result([1, 2])),
        }];
        let table = ladder_table(&entrants, &played);
        assert_eq!(next_pairing(&table, Some(&pair)).unwrap(), [entrant(0), entrant(2)]);
        // Draws move no one's mean rating apart; fewer than two entrants: no pairing.
        assert!(next_pairing(&table[..1], None).is_none());
        let drawn = [Played {
            key: "",
            entrants: &pair,
            result: Some(&result([1, 1])),
        }];
        let t = ladder_table(&entrants, &drawn);
        assert_eq!(t[0].rating.to_bits(), t[1].rating.to_bits());
    }

    #[test]
    fn a_bracket_advances_from_its_results() {
        let seeded: Vec<Seeded> = (0..4)
            .map(|i| Seeded {
                entrant: entrant(i),
                rank: i as u32 + 1,
                score_ms: 10_000 + i as i64,
            })
            .collect();
        let p = bracket_plan(Elimination::Single, &seeded, &[]);
        assert_eq!(p.ready().count(), 2);
        // W1-1 is 0 v 3: seat 1 (seed 3) wins.
        let w11 = [entrant(0), entrant(3)];
        let r = result([2, 1]);
        let played = [Played {
            key: "W1-1",
            entrants: &w11,
            result: Some(&r),
        }];
        let p = bracket_plan(Elimination::Single, &seeded, &played);
        let w21 = p.get("W2-1".parse().unwrap()).unwrap();
        assert_eq!(w21.slots[0], brackets::Slot::Entrant(3));
        // A shared place goes to the seat in front.
        assert_eq!(result([1, 1]).winner(), 0);
        assert_eq!(result([2, 1]).winner(), 1);
    }

    fn world() -> Box<ModelSpec> {
        Box::new(ModelSpec {
            sensor: slipstream_sim::ObsConfig::default(),
            action_space: Default::default(),
            network: Default::default(),
            car: Default::default(),
            agent_dt: 1.0 / 15.0,
            physics_substeps: 4,
        })
    }

    #[test]
    fn event_specs_are_checked() {
        let mut spec = EventSpec {
            name: "Final".into(),
            description: String::new(),
            race_id: "race_1".into(),
            kind: EventKind::Ladder {
                max_matches: 0,
                world: world(),
            },
        };
        assert!(spec.validate().unwrap_err().to_string().contains("max_matches"));
        spec.kind = EventKind::Bracket {
            elimination: Elimination::Single,
            entrants: vec![],
        };
        assert!(spec.validate().unwrap_err().to_string().contains("2–64"));
        spec.kind = EventKind::Ladder {
            max_matches: 10,
            world: world(),
        };
        spec.name = " ".into();
        assert!(spec.validate().unwrap_err().to_string().contains("name"));
        // The stored form is tagged by kind.
        spec.name = "Ladder".into();
        let json = serde_json::to_string(&spec).unwrap();
        assert!(json.contains(r#""kind":"ladder""#), "{json}");
        assert_eq!(serde_json::from_str::<EventSpec>(&json).unwrap(), spec);
    }
}
