//! One row of metrics per training iteration, written to `metrics.csv` and `metrics.jsonl`.
//!
//! Both files come from the one serde struct [`IterationMetrics`]: the CSV header is its field
//! names, the JSON keys the same names, so the two cannot drift. A value that is undefined for an
//! iteration (a mean over no finished episode, an evaluation that did not run) is empty in the CSV
//! and `null` in the JSON.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::TrainError;

/// One iteration's metrics (a row of `metrics.csv` / `metrics.jsonl`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct IterationMetrics {
    pub iteration: u64,
    /// Environment steps (car-steps) since the run began, resumed runs included.
    pub env_steps: u64,
    pub episodes: u64,
    pub wall_s: f64,
    pub steps_per_s: f64,
    /// Mean reward per environment step of this iteration's rollout (the reward function's values).
    pub mean_reward: f64,
    /// Episodes that ended this iteration (finished, or cut by the time limit).
    pub episodes_ended: u64,
    /// Over episodes that ended this iteration: the sum of the reward function's values.
    pub mean_return: Option<f64>,
    pub mean_progress: Option<f64>,
    pub lap_completion_rate: Option<f64>,
    pub mean_episode_steps: Option<f64>,
    pub policy_loss: f64,
    pub value_loss: f64,
    pub entropy: f64,
    pub approx_kl: f64,
    pub clip_fraction: f64,
    pub explained_variance: Option<f64>,
    /// The learning rate of this iteration's update.
    pub lr: f64,
    /// Deterministic 3-lap evaluation on the first track (when run this iteration).
    pub eval_completed_laps: Option<usize>,
    pub eval_clean_laps: Option<usize>,
    pub eval_best_lap_s: Option<f64>,
    pub eval_total_s: Option<f64>,
    /// This iteration's evaluation was the best so far (it became `model_best.safetensors`).
    pub best_so_far: bool,
    /// Environment steps of this run alone (a resumed run's earlier steps excluded).
    pub run_steps: u64,
}

/// A mean that is undefined (`None`) over nothing.
pub fn mean(sum: f64, count: u64) -> Option<f64> {
    (count > 0).then(|| sum / count as f64)
}

/// Read a run's `metrics.csv` (the rows [`MetricsLog`] wrote, in order). Errors name the file and
/// the line.
pub fn read_metrics(path: &Path) -> Result<Vec<IterationMetrics>, TrainError> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| TrainError::file(path, e.to_string()))?;
    let mut rows = Vec::new();
    for row in reader.deserialize() {
        rows.push(row.map_err(|e: csv::Error| TrainError::file(path, e.to_string()))?);
    }
    Ok(rows)
}

/// The two metrics files of a run, appended to one row per iteration.
#[derive(Debug)]
pub struct MetricsLog {
    csv_path: PathBuf,
    csv: csv::Writer<File>,
    jsonl_path: PathBuf,
    jsonl: File,
}

impl MetricsLog {
    /// Open `metrics.csv` and `metrics.jsonl` in `dir` for appending; the CSV header is written
    /// when the CSV file is new.
    pub fn open(dir: &Path) -> Result<Self, TrainError> {
        let csv_path = dir.join("metrics.csv");
        let jsonl_path = dir.join("metrics.jsonl");
        let append = |p: &Path| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| TrainError::file(p, e.to_string()))
        };
        let file = append(&csv_path)?;
        let new = file.metadata().map(|m| m.len() == 0).unwrap_or(true);
        let csv = csv::WriterBuilder::new().has_headers(new).from_writer(file);
        Ok(MetricsLog {
            csv,
            jsonl: append(&jsonl_path)?,
            csv_path,
            jsonl_path,
        })
    }

    /// Append one row to both files and flush them.
    pub fn record(&mut self, m: &IterationMetrics) -> Result<(), TrainError> {
        let csv_err = |e: String| TrainError::file(&self.csv_path, e);
        self.csv.serialize(m).map_err(|e| csv_err(e.to_string()))?;
        self.csv.flush().map_err(|e| csv_err(e.to_string()))?;
        let line = serde_json::to_string(m).expect("metrics serialise");
        writeln!(self.jsonl, "{line}")
            .and_then(|()| self.jsonl.flush())
            .map_err(|e| TrainError::file(&self.jsonl_path, e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_columns_and_json_keys_are_the_same_fields() {
        let dir = tempfile::tempdir().unwrap();
        let row = IterationMetrics {
            iteration: 1,
            env_steps: 100,
            run_steps: 100,
            mean_return: Some(2.5),
            eval_completed_laps: Some(3),
            best_so_far: true,
            ..Default::default()
        };
        MetricsLog::open(dir.path()).unwrap().record(&row).unwrap();
        // Re-opened (a resumed run): appended without a second header.
        let second = IterationMetrics {
            iteration: 2,
            ..row.clone()
        };
        MetricsLog::open(dir.path()).unwrap().record(&second).unwrap();

        let text = std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(lines.clone().count(), 2, "{text}");
        let json = std::fs::read_to_string(dir.path().join("metrics.jsonl")).unwrap();
        let first: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(json.lines().next().unwrap()).unwrap();
        let keys: Vec<&str> = first.keys().map(String::as_str).collect();
        let mut sorted_header = header.clone();
        sorted_header.sort_unstable();
        let mut sorted_keys = keys.clone();
        sorted_keys.sort_unstable();
        assert_eq!(sorted_header, sorted_keys);
        assert!(header.contains(&"run_steps") && header.contains(&"best_so_far"));
        // Values line up with their columns; undefined values are empty / null.
        let values: Vec<&str> = lines.next().unwrap().split(',').collect();
        let col = |name: &str| values[header.iter().position(|h| *h == name).unwrap()];
        assert_eq!(col("mean_return"), "2.5");
        assert_eq!(col("mean_progress"), "");
        assert_eq!(col("best_so_far"), "true");
        assert_eq!(first["mean_progress"], serde_json::Value::Null);
        let back: IterationMetrics = serde_json::from_str(json.lines().nth(1).unwrap()).unwrap();
        assert_eq!(back, second);
        // The CSV reads back into the same rows.
        assert_eq!(
            read_metrics(&dir.path().join("metrics.csv")).unwrap(),
            vec![row, second]
        );
    }

    #[test]
    fn a_bad_metrics_file_is_named_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        let e = read_metrics(&path).unwrap_err().to_string();
        assert!(e.contains("metrics.csv"), "{e}");
        MetricsLog::open(dir.path())
            .unwrap()
            .record(&IterationMetrics::default())
            .unwrap();
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("2,x\n");
        std::fs::write(&path, text).unwrap();
        let e = read_metrics(&path).unwrap_err().to_string();
        assert!(e.contains("metrics.csv") && e.contains("line: 3"), "{e}");
    }
}
