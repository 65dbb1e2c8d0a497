//! `league submit`, `status`, `submissions`, `cancel`, `reevaluate` and `trace` (the
//! SubmissionService).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use slipstream_league_client::client::Clients;
use slipstream_league_client::convert::status_from_pb;
use slipstream_proto::v1 as pb;

use crate::output::{Output, human, json};
use crate::{Reply, rpc_error};

/// How often `--wait` asks.
const POLL: Duration = Duration::from_millis(250);

pub async fn submit(c: &mut Clients, out: Output, race: String, model: String, wait: bool) -> Result<()> {
    let mut s = c
        .submissions
        .submit(pb::SubmitRequest {
            race_id: race,
            model_id: model,
        })
        .await
        .reply()?;
    if wait {
        s = wait_for(c, &s.id).await?;
    }
    show(out, &s)
}

pub async fn status(c: &mut Clients, out: Output, submission: String, wait: bool) -> Result<()> {
    let s = if wait {
        wait_for(c, &submission).await?
    } else {
        get(c, submission).await?
    };
    show(out, &s)
}

pub async fn list(c: &mut Clients, out: Output, race: Option<String>) -> Result<()> {
    let r = c
        .submissions
        .list_submissions(pb::ListSubmissionsRequest {
            race_id: race.unwrap_or_default(),
            page_size: 500,
            page_token: String::new(),
        })
        .await
        .reply()?;
    let submissions = json::Submissions {
        submissions: r.submissions.iter().map(json::Submission::from).collect(),
    };
    out.emit(&submissions, || human::submissions(&r.submissions))
}

pub async fn cancel(c: &mut Clients, out: Output, submission: String) -> Result<()> {
    let s = c
        .submissions
        .cancel_submission(pb::CancelSubmissionRequest {
            submission_id: submission,
        })
        .await
        .reply()?;
    show(out, &s)
}

pub async fn reevaluate(c: &mut Clients, out: Output, submission: String) -> Result<()> {
    let s = c
        .submissions
        .reevaluate(pb::ReevaluateRequest {
            submission_id: submission,
        })
        .await
        .reply()?;
    show(out, &s)
}

/// The trace, to `file` or (as it is, whatever `--json` says) to standard output.
pub async fn trace(c: &mut Clients, out: Output, submission: String, file: Option<PathBuf>) -> Result<()> {
    let stream = c
        .submissions
        .download_trace(pb::DownloadTraceRequest {
            submission_id: submission,
        })
        .await
        .reply()?;
    save(out, &collect(stream, |c| c.data).await?, file)
}

/// The replay, to `file`.
pub async fn replay(c: &mut Clients, out: Output, submission: String, file: PathBuf) -> Result<()> {
    let stream = c
        .submissions
        .download_replay(pb::DownloadReplayRequest {
            submission_id: submission,
        })
        .await
        .reply()?;
    save(out, &collect(stream, |c| c.data).await?, Some(file))
}

/// A downloaded file's bytes, from its stream of chunks.
pub async fn collect<T>(mut stream: tonic::Streaming<T>, data: fn(T) -> Vec<u8>) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.message().await.map_err(rpc_error)? {
        bytes.extend_from_slice(&data(chunk));
    }
    Ok(bytes)
}

/// Downloaded bytes to `file` (reporting what was written), or as they are to standard output.
pub fn save(out: Output, data: &[u8], file: Option<PathBuf>) -> Result<()> {
    match file {
        Some(p) => {
            std::fs::write(&p, data).with_context(|| format!("cannot write {}", p.display()))?;
            let written = json::TraceFile {
                file: p.display().to_string(),
                bytes: data.len(),
            };
            out.emit(&written, || format!("wrote {} ({} bytes)", p.display(), data.len()))
        }
        None => Ok(std::io::stdout().write_all(data)?),
    }
}

fn show(out: Output, s: &pb::Submission) -> Result<()> {
    out.emit(&json::Submission::from(s), || human::submission(s))
}

async fn get(c: &mut Clients, id: String) -> Result<pb::Submission> {
    c.submissions
        .get_submission(pb::GetSubmissionRequest { submission_id: id })
        .await
        .reply()
}

/// Poll until the evaluation has finished (completed, failed or cancelled).
async fn wait_for(c: &mut Clients, id: &str) -> Result<pb::Submission> {
    loop {
        let s = get(c, id.into()).await?;
        if status_from_pb(s.status).is_some_and(|st| st.finished()) {
            return Ok(s);
        }
        tokio::time::sleep(POLL).await;
    }
}
