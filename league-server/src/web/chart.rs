//! A training job's chart as SVG, drawn on the server (no chart library, no script): DeepRacer's
//! series per iteration — the average reward and the average progress of the training episodes,
//! the progress of the evaluation races — with the best model's iteration marked.

use maud::{Markup, html};

use crate::league::training::ChartPoint;

const W: f64 = 720.0;
const H: f64 = 220.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 56.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 34.0;

/// `v` mapped from `[lo, hi]` onto `[a, b]`.
fn scale(v: f64, lo: f64, hi: f64, a: f64, b: f64) -> f64 {
    if hi > lo {
        a + (v - lo) / (hi - lo) * (b - a)
    } else {
        (a + b) / 2.0
    }
}

fn polyline(points: &[(f64, f64)]) -> String {
    points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A short number for an axis label.
fn label(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The chart: reward on the left axis, progress (%) on the right. With no points yet, the empty
/// frame and a line saying why.
pub fn draw(points: &[ChartPoint]) -> Markup {
    let (x0, x1) = (LEFT, W - RIGHT);
    let (y0, y1) = (H - BOTTOM, TOP);
    let first = points.first().map_or(0.0, |p| p.iteration as f64);
    let last = points.last().map_or(1.0, |p| p.iteration as f64).max(first + 1.0);
    let rewards: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| Some((p.iteration as f64, p.reward?)))
        .collect();
    let (rlo, rhi) = rewards
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, r)| {
            (lo.min(*r), hi.max(*r))
        });
    let (rlo, rhi) = if rewards.is_empty() {
        (0.0, 1.0)
    } else {
        (rlo.min(0.0), rhi.max(rlo + 1e-9))
    };
    let x = |i: f64| scale(i, first, last, x0, x1);
    let reward_line: Vec<(f64, f64)> = rewards
        .iter()
        .map(|(i, r)| (x(*i), scale(*r, rlo, rhi, y0, y1)))
        .collect();
    let progress_line: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| Some((x(p.iteration as f64), scale(p.progress?, 0.0, 100.0, y0, y1))))
        .collect();
    let evals: Vec<(f64, f64, bool, &ChartPoint)> = points
        .iter()
        .filter_map(|p| {
            Some((
                x(p.iteration as f64),
                scale(p.eval_progress?, 0.0, 100.0, y0, y1),
                p.best,
                p,
            ))
        })
        .collect();
    let best = points.iter().rev().find(|p| p.best);
    html! {
        svg.chart viewBox=(format!("0 0 {W} {H}")) role="img"
            aria-label=(format!("Training progress over {} iterations", points.len())) {
            rect.frame x=(x0) y=(y1) width=(x1 - x0) height=(y0 - y1) {}
            @for k in 0..=4 {
                @let f = k as f64 / 4.0;
                @let y = y0 + (y1 - y0) * f;
                line.grid x1=(x0) x2=(x1) y1=(y) y2=(y) {}
                text.axis x=(x0 - 6.0) y=(y + 4.0) text-anchor="end" { (label(rlo + (rhi - rlo) * f)) }
                text.axis x=(x1 + 6.0) y=(y + 4.0) { (format!("{:.0}%", 100.0 * f)) }
            }
            text.axis x=((x0 + x1) / 2.0) y=(H - 6.0) text-anchor="middle" {
                "iteration " (first as u64) "–" (last as u64)
            }
            @if points.is_empty() {
                text.empty x=((x0 + x1) / 2.0) y=((y0 + y1) / 2.0) text-anchor="middle" {
                    "The first iteration's figures appear here in a few seconds."
                }
            }
            polyline.reward points=(polyline(&reward_line)) {}
            polyline.progress points=(polyline(&progress_line)) {}
            @for (ex, ey, is_best, p) in &evals {
                circle class=(if *is_best { "eval best" } else { "eval" }) cx=(ex) cy=(ey) r=(if *is_best { 6 } else { 4 }) {
                    title { "iteration " (p.iteration) ": evaluation " (format!("{:.0}", p.eval_progress.unwrap_or(0.0))) "% of 3 laps"
                        @if let Some(b) = p.eval_best_lap_s { ", best lap " (format!("{b:.2}")) " s" } }
                }
            }
        }
        ul.legend {
            li.reward { "Average reward (training)" }
            li.progress { "Average progress, % of a lap (training)" }
            li.eval { "Evaluation, % of 3 laps" }
            @if let Some(b) = best {
                li.best { "Best model: iteration " (b.iteration)
                    @if let Some(s) = b.eval_best_lap_s { ", best lap " (format!("{s:.2}")) " s" } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(i: u64, reward: f64, progress: f64, eval: Option<f64>, best: bool) -> ChartPoint {
        ChartPoint {
            iteration: i,
            env_steps: i * 100,
            reward: Some(reward),
            progress: Some(progress),
            eval_progress: eval,
            eval_best_lap_s: eval.map(|_| 12.5),
            best,
        }
    }

    #[test]
    fn the_series_are_drawn_and_the_best_model_marked() {
        let pts = [
            point(1, 10.0, 20.0, None, false),
            point(2, 30.0, 60.0, Some(33.3), false),
            point(3, 50.0, 100.0, Some(100.0), true),
        ];
        let svg = draw(&pts).into_string();
        let line = |class: &str| {
            svg.split(&format!("<polyline class=\"{class}\" points=\""))
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap()
                .split(' ')
                .count()
        };
        assert_eq!((line("reward"), line("progress")), (3, 3));
        assert_eq!(svg.matches("<circle class=\"eval").count(), 2);
        assert!(svg.contains("class=\"eval best\""));
        assert!(svg.contains("Best model: iteration 3, best lap 12.50 s"), "{svg}");
        assert!(svg.contains(">100%<"), "the progress axis");
    }

    #[test]
    fn an_empty_chart_says_what_comes() {
        let svg = draw(&[]).into_string();
        assert!(svg.contains("appear here"));
    }
}
