//! Elimination brackets, as pure rules: which matches a bracket holds, who is in each, and who
//! advances — computed from the seeding and the winners recorded so far (so a bracket advances the
//! same way however often, and after however many restarts, it is recomputed).
//!
//! - **Seeding**: entrant `0` is the best seed (the fastest of the time trial that seeded the
//!   bracket). The bracket has `2^k ≥ entrants` places in the standard order (1 v 16, 8 v 9, …, so
//!   the best seeds can meet only late); places beyond the entrants are byes: the entrant drawn
//!   against a bye advances without racing.
//! - **Single elimination**: the winner of each match advances; the winner of the final is the
//!   champion.
//! - **Double elimination** (at least 3 entrants): a loser in the winners' bracket drops into the
//!   losers' bracket, where a second loss eliminates; the losers' rounds alternate between its
//!   own survivors playing each other and playing the next round's drop-downs. The grand final is
//!   one match between the winners' and the losers' champions (no reset match).
//! - In every match the better seed starts in front (seat 0 of the grid); when a head-to-head race
//!   cannot separate the two cars (equal laps and times) the better seed advances.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The most entrants a bracket takes.
pub const MAX_ENTRANTS: u32 = 64;

/// Single or double elimination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Elimination {
    Single,
    Double,
}

impl Elimination {
    pub fn as_str(self) -> &'static str {
        match self {
            Elimination::Single => "single",
            Elimination::Double => "double",
        }
    }
}

/// The part of a bracket a match belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Side {
    Winners,
    Losers,
    GrandFinal,
}

/// A match's place in its bracket: `W2-1` is the winners' bracket's second round, first match;
/// `L3-2` the losers' bracket's third round, second match; `GF` the grand final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MatchKey {
    pub side: Side,
    /// 1-based.
    pub round: u32,
    /// 0-based within the round (shown 1-based).
    pub index: u32,
}

impl MatchKey {
    fn new(side: Side, round: u32, index: u32) -> Self {
        Self { side, round, index }
    }
}

impl fmt::Display for MatchKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.side {
            Side::Winners => write!(f, "W{}-{}", self.round, self.index + 1),
            Side::Losers => write!(f, "L{}-{}", self.round, self.index + 1),
            Side::GrandFinal => write!(f, "GF"),
        }
    }
}

impl FromStr for MatchKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "GF" {
            return Ok(Self::new(Side::GrandFinal, 1, 0));
        }
        let bad = || format!("expected a bracket match like W1-1, L2-1 or GF, got {s:?}");
        let side = match s.get(..1) {
            Some("W") => Side::Winners,
            Some("L") => Side::Losers,
            _ => return Err(bad()),
        };
        let (round, index) = s[1..].split_once('-').ok_or_else(bad)?;
        let round: u32 = round.parse().map_err(|_| bad())?;
        let index: u32 = index.parse().map_err(|_| bad())?;
        if round == 0 || index == 0 {
            return Err(bad());
        }
        Ok(Self::new(side, round, index - 1))
    }
}

/// Who is in one of a match's two places.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// An entrant, by seed (0 = best).
    Entrant(u32),
    /// No one: the other entrant advances without racing.
    Bye,
    /// Decided by a match not yet raced.
    Pending,
}

/// One match of a bracket as the rules see it now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Planned {
    pub key: MatchKey,
    /// The better seed first (it starts in front).
    pub slots: [Slot; 2],
    /// Who advances (`None` while undecided).
    pub winner: Option<Slot>,
    /// Who does not (`None` while undecided).
    pub loser: Option<Slot>,
}

impl Planned {
    /// Two entrants and no winner yet: a match to race.
    pub fn is_ready(&self) -> bool {
        self.winner.is_none() && self.slots.iter().all(|s| matches!(s, Slot::Entrant(_)))
    }
}

/// The whole bracket now: every match, and the champion once decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub matches: Vec<Planned>,
    pub champion: Option<u32>,
    /// The last match's loser, once decided.
    pub runner_up: Option<u32>,
}

impl Plan {
    pub fn get(&self, key: MatchKey) -> Option<&Planned> {
        self.matches.iter().find(|m| m.key == key)
    }
    /// Matches whose two entrants are known and which have no winner yet.
    pub fn ready(&self) -> impl Iterator<Item = &Planned> {
        self.matches.iter().filter(|m| m.is_ready())
    }
    /// Rounds of a side, in order.
    pub fn rounds(&self, side: Side) -> Vec<Vec<&Planned>> {
        let mut rounds: BTreeMap<u32, Vec<&Planned>> = BTreeMap::new();
        for m in self.matches.iter().filter(|m| m.key.side == side) {
            rounds.entry(m.key.round).or_default().push(m);
        }
        rounds.into_values().collect()
    }
}

/// Check a bracket's size and kind.
pub fn validate(elimination: Elimination, entrants: u32) -> Result<(), String> {
    let min = match elimination {
        Elimination::Single => 2,
        Elimination::Double => 3,
    };
    if !(min..=MAX_ENTRANTS).contains(&entrants) {
        return Err(format!(
            "a {} elimination bracket takes {min}–{MAX_ENTRANTS} entrants, got {entrants}",
            elimination.as_str()
        ));
    }
    Ok(())
}

/// Seeds in bracket order for `size` (a power of two) places: `[0, 3, 1, 2]` for 4.
fn seed_order(size: u32) -> Vec<u32> {
    let mut order = vec![0u32];
    while (order.len() as u32) < size {
        let n = order.len() as u32 * 2;
        order = order.iter().flat_map(|&s| [s, n - 1 - s]).collect();
    }
    order
}

/// Decide a match from its places and the recorded winners (`winners`: match → winning seed).
fn decide(key: MatchKey, a: Slot, b: Slot, winners: &BTreeMap<MatchKey, u32>) -> Planned {
    // The better seed first; a bye or a pending place after an entrant.
    let rank = |s: &Slot| match s {
        Slot::Entrant(e) => (0, *e),
        Slot::Pending => (1, 0),
        Slot::Bye => (2, 0),
    };
    let mut slots = [a, b];
    slots.sort_by_key(rank);
    let (winner, loser) = match slots {
        [Slot::Pending, _] | [_, Slot::Pending] => (None, None),
        [x, Slot::Bye] => (Some(x), Some(Slot::Bye)),
        [Slot::Entrant(x), Slot::Entrant(y)] => match winners.get(&key) {
            Some(&w) if w == x => (Some(Slot::Entrant(x)), Some(Slot::Entrant(y))),
            Some(&w) if w == y => (Some(Slot::Entrant(y)), Some(Slot::Entrant(x))),
            _ => (None, None),
        },
        [Slot::Bye, _] => (Some(Slot::Bye), Some(Slot::Bye)),
    };
    Planned {
        key,
        slots,
        winner,
        loser,
    }
}

fn winner_of(m: &Planned) -> Slot {
    m.winner.unwrap_or(Slot::Pending)
}

fn loser_of(m: &Planned) -> Slot {
    m.loser.unwrap_or(Slot::Pending)
}

/// The bracket for `entrants` seeds (validated with [`validate`]) given the winners so far.
/// Recorded winners that are not in their match (a stale record) are ignored.
pub fn plan(elimination: Elimination, entrants: u32, winners: &BTreeMap<MatchKey, u32>) -> Plan {
    let size = entrants.max(2).next_power_of_two();
    let rounds = size.trailing_zeros();
    let place = |seed: u32| {
        if seed < entrants {
            Slot::Entrant(seed)
        } else {
            Slot::Bye
        }
    };
    let mut matches = Vec::new();
    // The winners' bracket.
    let order = seed_order(size);
    let mut wb: Vec<Vec<Planned>> = Vec::new();
    let first: Vec<Planned> = order
        .chunks(2)
        .enumerate()
        .map(|(i, p)| {
            decide(
                MatchKey::new(Side::Winners, 1, i as u32),
                place(p[0]),
                place(p[1]),
                winners,
            )
        })
        .collect();
    wb.push(first);
    for r in 2..=rounds {
        let prev = &wb[r as usize - 2];
        let round: Vec<Planned> = prev
            .chunks(2)
            .enumerate()
            .map(|(i, p)| {
                decide(
                    MatchKey::new(Side::Winners, r, i as u32),
                    winner_of(&p[0]),
                    winner_of(&p[1]),
                    winners,
                )
            })
            .collect();
        wb.push(round);
    }
    let wb_final = wb[rounds as usize - 1][0];
    matches.extend(wb.iter().flatten().copied());
    let last = match elimination {
        Elimination::Single => wb_final,
        Elimination::Double => {
            // The losers' bracket: round 1 pairs the first round's losers; an even round 2m
            // meets the survivors with the losers of winners' round m + 1 (in reverse order every
            // other time, so the same two meet again as late as possible); an odd round pairs the
            // survivors.
            let mut lb: Vec<Planned> = wb[0]
                .chunks(2)
                .enumerate()
                .map(|(i, p)| {
                    decide(
                        MatchKey::new(Side::Losers, 1, i as u32),
                        loser_of(&p[0]),
                        loser_of(&p[1]),
                        winners,
                    )
                })
                .collect();
            matches.extend(lb.iter().copied());
            let mut r = 1;
            for m in 1..rounds {
                let drops = &wb[m as usize];
                let n = drops.len();
                r += 1;
                lb = lb
                    .iter()
                    .enumerate()
                    .map(|(i, survivor)| {
                        let d = if m % 2 == 1 { &drops[n - 1 - i] } else { &drops[i] };
                        decide(
                            MatchKey::new(Side::Losers, r, i as u32),
                            winner_of(survivor),
                            loser_of(d),
                            winners,
                        )
                    })
                    .collect();
                matches.extend(lb.iter().copied());
                if lb.len() > 1 {
                    r += 1;
                    lb = lb
                        .chunks(2)
                        .enumerate()
                        .map(|(i, p)| {
                            decide(
                                MatchKey::new(Side::Losers, r, i as u32),
                                winner_of(&p[0]),
                                winner_of(&p[1]),
                                winners,
                            )
                        })
                        .collect();
                    matches.extend(lb.iter().copied());
                }
            }
            let gf = decide(
                MatchKey::new(Side::GrandFinal, 1, 0),
                winner_of(&wb_final),
                winner_of(&lb[0]),
                winners,
            );
            matches.push(gf);
            gf
        }
    };
    let entrant = |s: Option<Slot>| match s {
        Some(Slot::Entrant(e)) => Some(e),
        _ => None,
    };
    Plan {
        matches,
        champion: entrant(last.winner),
        runner_up: entrant(last.loser),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Play a bracket out with `pick` choosing each ready match's winner; returns the plan and the
    /// matches raced, in order.
    fn play(elimination: Elimination, entrants: u32, mut pick: impl FnMut(&Planned) -> u32) -> (Plan, Vec<Planned>) {
        let mut winners = BTreeMap::new();
        let mut raced = Vec::new();
        loop {
            let p = plan(elimination, entrants, &winners);
            let ready: Vec<Planned> = p.ready().copied().collect();
            if ready.is_empty() {
                return (p, raced);
            }
            for m in ready {
                winners.insert(m.key, pick(&m));
                raced.push(m);
            }
        }
    }

    fn better_seed(m: &Planned) -> u32 {
        match m.slots[0] {
            Slot::Entrant(e) => e,
            _ => unreachable!("ready matches hold two entrants"),
        }
    }

    fn seeds(m: &Planned) -> [u32; 2] {
        m.slots.map(|s| match s {
            Slot::Entrant(e) => e,
            _ => unreachable!(),
        })
    }

    #[test]
    fn seeding_puts_the_best_seeds_apart() {
        assert_eq!(seed_order(2), vec![0, 1]);
        assert_eq!(seed_order(4), vec![0, 3, 1, 2]);
        assert_eq!(seed_order(8), vec![0, 7, 3, 4, 1, 6, 2, 5]);
        let p = plan(Elimination::Single, 8, &BTreeMap::new());
        let first: Vec<[u32; 2]> = p.ready().map(seeds).collect();
        assert_eq!(first, vec![[0, 7], [3, 4], [1, 6], [2, 5]]);
    }

    #[test]
    fn single_elimination_favourites_meet_in_the_final() {
        for n in 2..=MAX_ENTRANTS {
            let (p, raced) = play(Elimination::Single, n, better_seed);
            assert_eq!(p.champion, Some(0), "{n} entrants");
            assert_eq!(p.runner_up, Some(1), "{n} entrants");
            // Every entrant but the champion loses exactly once: n − 1 matches raced minus byes.
            assert_eq!(raced.len() as u32, n - 1, "{n} entrants");
            assert!(p.ready().next().is_none());
        }
    }

    #[test]
    fn byes_advance_the_best_seeds_without_racing() {
        let p = plan(Elimination::Single, 5, &BTreeMap::new());
        // Places 5, 6 and 7 are byes: seeds 0, 1 and 2 go straight to round 2, where 1 v 2 can
        // be raced at once, beside round 1's 3 v 4.
        let ready: Vec<[u32; 2]> = p.ready().map(seeds).collect();
        assert_eq!(ready, vec![[3, 4], [1, 2]]);
        let w2 = p.get("W2-1".parse().unwrap()).unwrap();
        assert_eq!(w2.slots, [Slot::Entrant(0), Slot::Pending]);
        let w2b = p.get("W2-2".parse().unwrap()).unwrap();
        assert!(w2b.is_ready());
        assert_eq!(seeds(w2b), [1, 2]);
    }

    #[test]
    fn an_upset_sends_the_underdog_on() {
        // Seed 3 beats everyone in a single-elimination bracket of 4.
        let (p, raced) = play(Elimination::Single, 4, |m| {
            if seeds(m).contains(&3) { 3 } else { better_seed(m) }
        });
        assert_eq!(p.champion, Some(3));
        assert_eq!(p.runner_up, Some(1));
        assert_eq!(raced.len(), 3);
        // A recorded winner who is not in the match is ignored.
        let mut w = BTreeMap::new();
        w.insert("W1-1".parse().unwrap(), 2);
        assert!(
            plan(Elimination::Single, 4, &w)
                .get("W1-1".parse().unwrap())
                .unwrap()
                .is_ready()
        );
    }

    #[test]
    fn double_elimination_gives_everyone_a_second_life() {
        for n in 3..=MAX_ENTRANTS {
            let (p, raced) = play(Elimination::Double, n, better_seed);
            assert_eq!(p.champion, Some(0), "{n} entrants");
            // Every entrant but the undefeated champion is out after its second loss (the grand
            // final's loser too: it lost once in the winners' bracket): 2(n − 1) matches.
            assert_eq!(raced.len() as u32, 2 * (n - 1), "{n} entrants");
            let mut losses = vec![0; n as usize];
            for m in &raced {
                let [a, b] = seeds(m);
                losses[if better_seed(m) == a { b } else { a } as usize] += 1;
            }
            assert_eq!(losses[0], 0);
            for (seed, &l) in losses.iter().enumerate().skip(1) {
                assert_eq!(l, 2, "{n} entrants: seed {seed} lost {l} times");
            }
            // Seed 1 loses the winners' final and comes back through the losers' final.
            assert_eq!(p.runner_up, Some(1), "{n} entrants");
        }
    }

    #[test]
    fn double_elimination_loser_of_a_first_match_can_still_win() {
        // Seed 0 loses its first match to seed 7, then wins every match after.
        let (p, raced) = play(Elimination::Double, 8, |m| {
            let s = seeds(m);
            if m.key == "W1-1".parse().unwrap() {
                7
            } else if s.contains(&0) {
                0
            } else {
                better_seed(m)
            }
        });
        assert_eq!(p.champion, Some(0));
        let gf = p.get("GF".parse().unwrap()).unwrap();
        assert_eq!(gf.key.side, Side::GrandFinal);
        assert!(raced.iter().filter(|m| seeds(m).contains(&0)).count() >= 6);
        // The losers' bracket of 8 has 4 rounds: 2, 2, 1, 1 matches.
        let lb: Vec<usize> = p.rounds(Side::Losers).iter().map(Vec::len).collect();
        assert_eq!(lb, vec![2, 2, 1, 1]);
    }

    #[test]
    fn keys_print_and_parse() {
        for s in ["W1-1", "W3-4", "L2-1", "GF"] {
            assert_eq!(s.parse::<MatchKey>().unwrap().to_string(), s);
        }
        for bad in ["", "X1-1", "W0-1", "W1-0", "W1", "Wa-1", "W1-1-1"] {
            assert!(bad.parse::<MatchKey>().is_err(), "{bad}");
        }
        assert!(validate(Elimination::Single, 1).is_err());
        assert!(validate(Elimination::Double, 2).unwrap_err().contains("3–64"));
        assert!(validate(Elimination::Single, 65).is_err());
        assert!(validate(Elimination::Double, 64).is_ok());
    }
}
