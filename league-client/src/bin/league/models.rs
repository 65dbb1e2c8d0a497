//! `league models …` (the ModelService).

use anyhow::{Context, Result};
use slipstream_league_client::client::Clients;
use slipstream_proto::v1 as pb;
use slipstream_proto::v1::upload_model_request::Part;

use crate::args::ModelsCmd;
use crate::output::{Output, human, json};
use crate::{Reply, file_stem};

/// Upload chunks: 1 MiB each.
const CHUNK: usize = 1 << 20;

pub async fn models(c: &mut Clients, out: Output, cmd: ModelsCmd) -> Result<()> {
    match cmd {
        ModelsCmd::Upload { file, name } => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let metadata = pb::ModelUploadMetadata {
                name: name.unwrap_or_else(|| file_stem(&file, "model")),
                size_bytes: bytes.len() as u64,
            };
            let parts = std::iter::once(Part::Metadata(metadata))
                .chain(bytes.chunks(CHUNK).map(|chunk| Part::Chunk(chunk.to_vec())))
                .map(|part| pb::UploadModelRequest { part: Some(part) })
                .collect::<Vec<_>>();
            let asked = metadata_name(&parts);
            let m = c.models.upload_model(futures::stream::iter(parts)).await.reply()?;
            out.emit(&json::Model::from(&m), || {
                if m.already_uploaded {
                    format!(
                        "already uploaded: these bytes are your model {} ({}, sha256 {}); its name is kept{}",
                        m.id,
                        m.name,
                        m.sha256,
                        if m.name == asked {
                            String::new()
                        } else {
                            format!(", not {asked:?}")
                        }
                    )
                } else {
                    format!(
                        "uploaded {} as {} ({} bytes, sha256 {})",
                        m.name, m.id, m.size_bytes, m.sha256
                    )
                }
            })
        }
        ModelsCmd::List => {
            let r = c
                .models
                .list_models(pb::ListModelsRequest {
                    page_size: 1000,
                    page_token: String::new(),
                })
                .await
                .reply()?;
            let models = json::Models {
                models: r.models.iter().map(json::Model::from).collect(),
            };
            out.emit(&models, || human::models(&r.models))
        }
        ModelsCmd::Delete { model } => {
            c.models
                .delete_model(pb::DeleteModelRequest {
                    model_id: model.clone(),
                })
                .await
                .reply()?;
            out.emit(&json::Deleted { deleted: &model }, || format!("deleted {model}"))
        }
    }
}

/// The name an upload's metadata asks for.
fn metadata_name(parts: &[pb::UploadModelRequest]) -> String {
    match parts.first().and_then(|p| p.part.as_ref()) {
        Some(Part::Metadata(m)) => m.name.clone(),
        _ => String::new(),
    }
}

/// `league check-reward FILE --track T`.
pub async fn check_reward(c: &mut Clients, out: Output, file: std::path::PathBuf, track: String) -> Result<()> {
    let code = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let r = c
        .models
        .check_reward(pb::CheckRewardRequest { code, track })
        .await
        .reply()?;
    out.emit(&json::RewardCheck::from(&r), || {
        if r.ok {
            format!(
                "ok: {} calls ({} off the track), rewards {:.4} to {:.4}, mean {:.4}",
                r.calls, r.offtrack_calls, r.min, r.max, r.mean
            )
        } else {
            r.error.clone()
        }
    })?;
    if r.ok {
        Ok(())
    } else {
        anyhow::bail!("{}: the reward function failed the check", file.display())
    }
}
