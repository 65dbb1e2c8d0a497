//! Models: a model file checked and stored for its owner — what an upload (gRPC) and a training job
//! that finished (the console) both end with.

use crate::ctx::Ctx;
use crate::error::{LeagueError, Result};
use crate::evaluation::validate_model;
use crate::store::ModelRow;
use crate::util::{new_id, sha256_hex};

/// Validate `data` with the trainer's loader (format, metadata, shapes, dtypes, finite weights, the
/// action space within the car's limits; off the async threads) and store it as `owner`'s model
/// `name`. Returns the model and whether the owner had these bytes already (then returned as it
/// was, its earlier name kept). A file that does not load is InvalidArgument naming why.
pub async fn store_model(ctx: &Ctx, owner: &str, name: &str, data: Vec<u8>) -> Result<(ModelRow, bool)> {
    let shown = name.to_string();
    let (data, model) = tokio::task::spawn_blocking(move || {
        let r = validate_model(&data, &shown).map(|m| {
            (
                m.spec.sensor.kind().to_string(),
                m.spec.action_space.clone(),
                m.spec.network.name(),
                serde_json::to_string(&m.spec).expect("a model's settings serialise"),
            )
        });
        (data, r)
    })
    .await
    .map_err(|e| LeagueError::internal(format!("validation crashed: {e}")))?;
    let (sensor, space, network, spec_json) = model.map_err(|e| LeagueError::invalid(format!("model: {e}")))?;
    let action_space_type = match space {
        slipstream_trainer::config::ActionSpaceConfig::Discrete { .. } => "discrete",
        slipstream_trainer::config::ActionSpaceConfig::Continuous { .. } => "continuous",
    };
    let sha = sha256_hex(&data);
    ctx.store.put_blob(&sha, &data).await?;
    let row = ModelRow {
        id: new_id("mdl"),
        owner_id: owner.to_string(),
        name: name.to_string(),
        sha256: sha,
        size: data.len() as i64,
        uploaded_at: ctx.now_ms(),
        sensor,
        action_space_type: action_space_type.into(),
        network,
        deleted: false,
        spec_json,
    };
    ctx.store.upsert_model(&row).await
}
