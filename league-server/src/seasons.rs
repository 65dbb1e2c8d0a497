//! Seasons: races grouped for points by finishing position, and the standings — pure rules, no
//! storage. The API (`SeasonSpec`, `StandingsRow` in league.proto) and `docs/league.md` state the
//! same rules.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{LeagueError, Result};

/// Points for 1st…10th when a season sets none (Formula 1's table, which DeepRacer's league
/// circuits also scaled from).
pub const DEFAULT_POINTS: [u32; 10] = [25, 18, 15, 12, 10, 8, 6, 4, 2, 1];
/// Most races in a season.
pub const MAX_RACES: usize = 100;

/// A season's settings (the API's `SeasonSpec`; stored as JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeasonSpec {
    pub name: String,
    pub description: String,
    /// Points for 1st, 2nd, … place; places beyond score 0.
    pub points: Vec<u32>,
    /// The races, in order.
    pub race_ids: Vec<String>,
}

impl SeasonSpec {
    /// Check every field but whether the races exist and are public (the service asks the store);
    /// an empty points table becomes [`DEFAULT_POINTS`]. Errors name the field as the API does.
    pub fn validated(mut self) -> Result<SeasonSpec> {
        let bad = |f: &str, m: String| Err(LeagueError::invalid(format!("spec.{f}: {m}")));
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return bad("name", "expected 1–100 characters".into());
        }
        self.name = name.to_string();
        if self.description.chars().count() > 2000 {
            return bad("description", "at most 2000 characters".into());
        }
        if self.points.is_empty() {
            self.points = DEFAULT_POINTS.to_vec();
        }
        if self.points.len() > 100 {
            return bad("points", format!("at most 100 places score, got {}", self.points.len()));
        }
        for (i, w) in self.points.windows(2).enumerate() {
            if w[1] > w[0] {
                return bad(
                    "points",
                    format!(
                        "place {} scores more than place {} ({} > {}); points never increase",
                        i + 2,
                        i + 1,
                        w[1],
                        w[0]
                    ),
                );
            }
        }
        if let Some(p) = self.points.iter().find(|&&p| p > 10_000) {
            return bad("points", format!("expected 0–10000 per place, got {p}"));
        }
        if self.race_ids.len() > MAX_RACES {
            return bad(
                "race_ids",
                format!("at most {MAX_RACES} races, got {}", self.race_ids.len()),
            );
        }
        for (i, id) in self.race_ids.iter().enumerate() {
            if let Some(j) = self.race_ids[..i].iter().position(|r| r == id) {
                return bad(&format!("race_ids[{i}]"), format!("{id:?} is already race_ids[{j}]"));
            }
        }
        Ok(self)
    }

    /// The points for a rank (1-based) on a race's leaderboard.
    pub fn points_for(&self, rank: u32) -> u32 {
        (rank as usize)
            .checked_sub(1)
            .and_then(|i| self.points.get(i))
            .copied()
            .unwrap_or(0)
    }
}

/// A racer's rank on one race's leaderboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placing {
    pub user_id: String,
    pub user_name: String,
    pub rank: u32,
}

/// A racer's line in the standings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standing {
    /// 1-based; shared by racers equal on points and count-back.
    pub position: u32,
    pub user_id: String,
    pub user_name: String,
    pub points: u32,
    /// Per race, in the season's order: the rank (0 = not ranked) and the points scored.
    pub ranks: Vec<u32>,
    pub race_points: Vec<u32>,
    /// Races in which the racer is ranked.
    pub races: u32,
}

impl Standing {
    /// The racer's places, best first: what count-back compares (see [`order`]).
    fn places(&self) -> Vec<u32> {
        let mut p: Vec<u32> = self.ranks.iter().copied().filter(|&r| r > 0).collect();
        p.sort_unstable();
        p
    }
}

/// The order of the standings, without the final listing by name: more points, then count-back
/// (more 1st places, then more 2nd places, … over every place held, so it also prefers a racer
/// ranked in more races). `Equal` = a shared position.
///
/// Count-back over the places sorted best first is a lexicographic comparison: at the first
/// position where two lists differ, the better (lower) place wins, as its owner holds more of that
/// place; a list that is a prefix of the other loses, as the other holds one place more.
fn order(a: &(Standing, Vec<u32>), b: &(Standing, Vec<u32>)) -> Ordering {
    b.0.points.cmp(&a.0.points).then_with(|| {
        a.1.iter()
            .zip(&b.1)
            .map(|(x, y)| x.cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| b.1.len().cmp(&a.1.len()))
    })
}

/// The standings of a season whose races (in order) have these leaderboards (`None`: a race that
/// no longer counts — not public, or deleted). Deterministic: the same placings give the same
/// standings, whatever order the boards list racers in.
pub fn standings(spec: &SeasonSpec, races: &[Option<Vec<Placing>>]) -> Vec<Standing> {
    let mut by_user: HashMap<&str, Standing> = HashMap::new();
    for (i, board) in races.iter().enumerate() {
        for p in board.iter().flatten() {
            let s = by_user.entry(&p.user_id).or_insert_with(|| Standing {
                position: 0,
                user_id: p.user_id.clone(),
                user_name: p.user_name.clone(),
                points: 0,
                ranks: vec![0; races.len()],
                race_points: vec![0; races.len()],
                races: 0,
            });
            let pts = spec.points_for(p.rank);
            s.ranks[i] = p.rank;
            s.race_points[i] = pts;
            s.points += pts;
            s.races += 1;
        }
    }
    let mut rows: Vec<(Standing, Vec<u32>)> = by_user
        .into_values()
        .map(|s| {
            let p = s.places();
            (s, p)
        })
        .collect();
    rows.sort_by(|a, b| {
        order(a, b)
            .then_with(|| a.0.user_name.cmp(&b.0.user_name))
            .then_with(|| a.0.user_id.cmp(&b.0.user_id))
    });
    let mut out: Vec<Standing> = Vec::with_capacity(rows.len());
    for i in 0..rows.len() {
        let position = if i > 0 && order(&rows[i - 1], &rows[i]).is_eq() {
            out[i - 1].position
        } else {
            i as u32 + 1
        };
        out.push(Standing {
            position,
            ..rows[i].0.clone()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(points: &[u32], races: usize) -> SeasonSpec {
        SeasonSpec {
            name: "S".into(),
            description: String::new(),
            points: points.to_vec(),
            race_ids: (0..races).map(|i| format!("race_{i}")).collect(),
        }
    }

    fn board(ranked: &[(&str, u32)]) -> Option<Vec<Placing>> {
        Some(
            ranked
                .iter()
                .map(|&(u, rank)| Placing {
                    user_id: format!("id_{u}"),
                    user_name: u.into(),
                    rank,
                })
                .collect(),
        )
    }

    fn table(s: &[Standing]) -> Vec<(u32, &str, u32)> {
        s.iter().map(|s| (s.position, s.user_name.as_str(), s.points)).collect()
    }

    #[test]
    fn points_by_place_summed_over_races() {
        let sp = spec(&[10, 6, 3], 2);
        let s = standings(
            &sp,
            &[
                board(&[("a", 1), ("b", 2), ("c", 3), ("d", 4)]),
                board(&[("b", 1), ("a", 2)]),
            ],
        );
        // a and b: 16 points each, one 1st and one 2nd each, two races each: a shared 1st place,
        // listed by name.
        assert_eq!(table(&s), [(1, "a", 16), (1, "b", 16), (3, "c", 3), (4, "d", 0)]);
        assert_eq!(s[0].ranks, [1, 2]);
        assert_eq!(s[0].race_points, [10, 6]);
        assert_eq!(
            (s[3].ranks.clone(), s[3].races),
            (vec![4, 0], 1),
            "ranked beyond the table: 0 points"
        );
    }

    #[test]
    fn ties_break_by_count_back() {
        // x: 1st + 3rd = 10 + 2 = 12; y: 2nd + 2nd = 6 + 6 = 12: x has more 1st places.
        let sp = spec(&[10, 6, 2], 2);
        let s = standings(
            &sp,
            &[board(&[("x", 1), ("y", 2)]), board(&[("z", 1), ("y", 2), ("x", 3)])],
        );
        assert_eq!(table(&s)[..2], [(1, "x", 12), (2, "y", 12)]);
        // Equal points and 1st places; p also has a 2nd place (beyond the points table): p first.
        let sp = spec(&[5], 2);
        let s = standings(&sp, &[board(&[("q", 1), ("p", 2)]), board(&[("p", 1)])]);
        assert_eq!(table(&s), [(1, "p", 5), (2, "q", 5)]);
    }

    #[test]
    fn a_tie_on_a_leaderboard_shares_the_points_and_dropped_races_score_nothing() {
        let sp = spec(&[10, 6, 3], 3);
        let s = standings(&sp, &[board(&[("a", 1), ("b", 1), ("c", 3)]), None, board(&[("c", 1)])]);
        assert_eq!(table(&s), [(1, "c", 13), (2, "a", 10), (2, "b", 10)]);
        assert_eq!(s[0].ranks, [3, 0, 1]);
        // The same placings in another order: the same standings.
        let s2 = standings(&sp, &[board(&[("c", 3), ("b", 1), ("a", 1)]), None, board(&[("c", 1)])]);
        assert_eq!(s, s2);
    }

    #[test]
    fn count_back_is_more_firsts_then_more_seconds_and_so_on() {
        // Against counting each place directly, over every pair of place lists from 0–3 races
        // with places 1–3 (equal points, so count-back decides).
        let counts = |p: &[u32]| {
            (1..=4)
                .map(|k| p.iter().filter(|&&r| r == k).count())
                .collect::<Vec<_>>()
        };
        let mut lists: Vec<Vec<u32>> = vec![vec![]];
        for _ in 0..3 {
            let longer: Vec<Vec<u32>> = lists
                .iter()
                .filter(|l| l.len() == lists.iter().map(Vec::len).max().unwrap())
                .flat_map(|l| (1..=3).map(move |r| [l.clone(), vec![r]].concat()))
                .collect();
            lists.extend(longer);
        }
        let standing = |p: &[u32]| {
            let s = Standing {
                position: 0,
                user_id: String::new(),
                user_name: String::new(),
                points: 7,
                ranks: p.to_vec(),
                race_points: vec![],
                races: p.len() as u32,
            };
            let places = s.places();
            (s, places)
        };
        for a in &lists {
            for b in &lists {
                // More of an earlier place wins: compare the counts, best place first.
                let want = counts(b).cmp(&counts(a));
                assert_eq!(order(&standing(a), &standing(b)), want, "{a:?} vs {b:?}");
            }
        }
        // Far-down places cost nothing: a 10,000th place is one number, not 10,000 counts.
        let s = standings(&spec(&[1], 1), &[board(&[("x", 10_000), ("y", 9_999)])]);
        assert_eq!(table(&s), [(1, "y", 0), (2, "x", 0)]);
    }

    #[test]
    fn specs_are_checked_field_by_field() {
        let ok = spec(&[], 2).validated().unwrap();
        assert_eq!(ok.points, DEFAULT_POINTS);
        assert_eq!(ok.points_for(1), 25);
        assert_eq!(ok.points_for(11), 0);
        assert_eq!(ok.points_for(0), 0);
        let e = |s: SeasonSpec| s.validated().unwrap_err().to_string();
        assert!(
            e(spec(&[3, 5], 1)).starts_with("spec.points: place 2 scores more"),
            "{}",
            e(spec(&[3, 5], 1))
        );
        assert!(e(spec(&[20_000], 1)).contains("0–10000"));
        let mut dup = spec(&[1], 2);
        dup.race_ids[1] = dup.race_ids[0].clone();
        assert_eq!(e(dup), "spec.race_ids[1]: \"race_0\" is already race_ids[0]");
        assert!(
            e(SeasonSpec {
                name: " ".into(),
                ..spec(&[], 0)
            })
            .starts_with("spec.name")
        );
        assert!(e(spec(&[], 101)).starts_with("spec.race_ids: at most 100"));
    }
}
