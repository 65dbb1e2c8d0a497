//! ModelService: streamed uploads, validated with the trainer's loader.

use std::sync::Arc;

use slipstream_proto::v1 as pb;
use slipstream_proto::v1::model_service_server::ModelService;
use slipstream_proto::v1::upload_model_request::Part;
use tonic::{Request, Response, Status, Streaming};

use crate::convert::model_to_pb;
use crate::ctx::Ctx;
use crate::error::LeagueError;
use crate::league::Viewer;
use crate::league::access::RACERS;
use crate::league::paging::{page_size, parse_page_token};
use crate::reward_check::RewardVerdict;
use crate::store::{ModelRow, User};

#[derive(Debug, Clone)]
pub struct Models(pub Arc<Ctx>);

/// The model if `user` owns it (admins see all); otherwise NotFound, so others' models stay hidden.
async fn own_model(ctx: &Ctx, user: &User, id: &str) -> Result<ModelRow, LeagueError> {
    match ctx.store.model(id).await? {
        Some(m) if !m.deleted && Viewer::user(user).owns(&m.owner_id) => Ok(m),
        _ => Err(LeagueError::not_found(format!("model_id: you have no model {id:?}"))),
    }
}

#[tonic::async_trait]
impl ModelService for Models {
    async fn upload_model(
        &self,
        req: Request<Streaming<pb::UploadModelRequest>>,
    ) -> Result<Response<pb::ModelInfo>, Status> {
        let user = self.0.auth.require(req.metadata(), RACERS, "uploading models").await?;
        let cap = self.0.cfg.max_model_bytes;
        let mut stream = req.into_inner();
        let meta = match stream.message().await? {
            Some(pb::UploadModelRequest {
                part: Some(Part::Metadata(m)),
            }) => m,
            Some(_) => return Err(LeagueError::invalid("the first message of an upload must be its metadata").into()),
            None => {
                return Err(LeagueError::invalid("empty upload: send the metadata, then the file in chunks").into());
            }
        };
        let name = meta.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(LeagueError::invalid("metadata.name: expected 1–100 characters").into());
        }
        if meta.size_bytes as usize > cap {
            return Err(LeagueError::ResourceExhausted(format!(
                "the model is {} bytes; the limit is {cap} bytes",
                meta.size_bytes
            ))
            .into());
        }
        let started = std::time::Instant::now();
        let mut data: Vec<u8> = Vec::with_capacity((meta.size_bytes as usize).min(cap));
        while let Some(msg) = stream.message().await? {
            match msg.part {
                Some(Part::Chunk(c)) => {
                    if data.len() + c.len() > cap {
                        return Err(LeagueError::ResourceExhausted(format!(
                            "the upload is over the {cap}-byte limit for models"
                        ))
                        .into());
                    }
                    data.extend_from_slice(&c);
                }
                Some(Part::Metadata(_)) => {
                    return Err(LeagueError::invalid("metadata may only be sent once, first").into());
                }
                None => {
                    return Err(LeagueError::invalid("an upload message carried neither metadata nor a chunk").into());
                }
            }
        }
        if data.is_empty() {
            return Err(LeagueError::invalid("the upload carried no file bytes").into());
        }
        if meta.size_bytes != 0 && data.len() as u64 != meta.size_bytes {
            return Err(LeagueError::invalid(format!(
                "truncated upload: received {} of the {} bytes announced",
                data.len(),
                meta.size_bytes
            ))
            .into());
        }
        let received = started.elapsed();
        let (saved, already_uploaded) = crate::league::models::store_model(&self.0, &user.id, &name, data).await?;
        tracing::info!(
            model = %saved.id,
            owner = %user.id,
            bytes = saved.size,
            already_uploaded,
            received_s = received.as_secs_f64(),
            stored_s = started.elapsed().as_secs_f64(),
            "model uploaded"
        );
        Ok(Response::new(pb::ModelInfo {
            already_uploaded,
            ..model_to_pb(&saved)
        }))
    }

    async fn list_models(
        &self,
        req: Request<pb::ListModelsRequest>,
    ) -> Result<Response<pb::ListModelsResponse>, Status> {
        let user = self.0.auth.require(req.metadata(), RACERS, "listing models").await?;
        let r = req.into_inner();
        let offset = parse_page_token(&r.page_token)?;
        let n = page_size("page_size", r.page_size, 100, 1000)?;
        let rows = self.0.store.list_models(&user.id, offset, n + 1).await?;
        let next = if rows.len() > n {
            (offset + n).to_string()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListModelsResponse {
            models: rows.iter().take(n).map(model_to_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn get_model(&self, req: Request<pb::GetModelRequest>) -> Result<Response<pb::ModelInfo>, Status> {
        let user = self.0.auth.require(req.metadata(), RACERS, "reading models").await?;
        let m = own_model(&self.0, &user, &req.into_inner().model_id).await?;
        Ok(Response::new(model_to_pb(&m)))
    }

    async fn check_reward(
        &self,
        req: Request<pb::CheckRewardRequest>,
    ) -> Result<Response<pb::CheckRewardResponse>, Status> {
        self.0
            .auth
            .require(req.metadata(), RACERS, "checking reward functions")
            .await?;
        let r = req.into_inner();
        let reply = match self.0.check_reward(&r.code, r.track.trim()).await? {
            RewardVerdict::Ok(s) => pb::CheckRewardResponse {
                ok: true,
                error: String::new(),
                calls: s.calls,
                offtrack_calls: s.offtrack_calls,
                min: s.min,
                max: s.max,
                mean: s.mean,
            },
            RewardVerdict::Refused(error) => pb::CheckRewardResponse {
                error,
                ..Default::default()
            },
        };
        Ok(Response::new(reply))
    }

    async fn delete_model(
        &self,
        req: Request<pb::DeleteModelRequest>,
    ) -> Result<Response<pb::DeleteModelResponse>, Status> {
        let user = self.0.auth.require(req.metadata(), RACERS, "deleting models").await?;
        let m = own_model(&self.0, &user, &req.into_inner().model_id).await?;
        self.0.store.delete_model(&m.id).await?;
        Ok(Response::new(pb::DeleteModelResponse {}))
    }
}
