//! The server: `serve(listener, config, shutdown)` in the style of mini-redis's `run` — bind
//! outside, pass the listener in, stop when `shutdown` completes.

use std::future::Future;
use std::sync::Arc;

use slipstream_proto::v1::head_to_head_service_server::HeadToHeadServiceServer;
use slipstream_proto::v1::leaderboard_service_server::LeaderboardServiceServer;
use slipstream_proto::v1::model_service_server::ModelServiceServer;
use slipstream_proto::v1::race_service_server::RaceServiceServer;
use slipstream_proto::v1::season_service_server::SeasonServiceServer;
use slipstream_proto::v1::submission_service_server::SubmissionServiceServer;
use slipstream_proto::v1::user_service_server::UserServiceServer;
use slipstream_proto::v1::worker_service_server::WorkerServiceServer;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;

use crate::ctx::{Config, Ctx};
use crate::error::{LeagueError, Result};
use crate::service::{
    head_to_head::HeadToHead, models::Models, races::Races, seasons::Seasons, submissions::Leaderboards,
    submissions::Submissions, users::Users, worker::Workers,
};
use crate::store::{Backend, Store, SubStatus};

/// Connect to the database, register the bootstrap admin token (retiring an earlier one), recover jobs a killed process held,
/// start the evaluation workers, and serve gRPC on `listener` until `shutdown` completes. Running
/// evaluations then get `config.shutdown_grace` to finish before their jobs go back to the queue.
pub async fn serve(
    listener: TcpListener,
    db_url: &str,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<()> {
    let store = Store::connect(db_url).await?.with_clock(config.clock.clone());
    if let Some(token) = &config.admin_token {
        crate::auth::register_bootstrap(&store, token).await?;
    }
    // A single SQLite server owns every in-process lease: ones held by an earlier run died with it.
    let prefix = (store.backend() == Backend::Sqlite).then_some("local:");
    let recovered = store.requeue_expired(prefix).await?;
    let failed = recovered.iter().filter(|s| s.status == SubStatus::Failed).count();
    if failed > 0 {
        tracing::warn!(
            count = failed,
            "jobs of a stopped server failed for good after too many interruptions"
        );
    }
    // Evaluations are single-car forward passes: one libtorch thread each keeps them deterministic
    // and lets several run side by side.
    tch::set_num_threads(1);
    let mut ctx = Ctx::new(store.clone(), config.clone());
    if let Some(warning) = listener
        .local_addr()
        .ok()
        .and_then(|a| crate::league::accounts::in_clear_warning(a, config.secure_cookies))
    {
        tracing::warn!("{warning}");
        ctx.in_clear_warning = Some(warning);
    }
    let ctx = Arc::new(ctx);
    let mut workers = crate::worker::local::start(ctx.clone(), config.workers, ctx.stopping.subscribe());
    let requeued = store.requeue_expired_trainings(prefix).await?;
    if requeued > 0 {
        tracing::info!(
            count = requeued,
            "training jobs of a stopped server resume from their checkpoints"
        );
    }
    workers.extend(crate::worker::training::start(
        ctx.clone(),
        config.trainers,
        ctx.stopping.subscribe(),
    ));
    // On shutdown, tell the workers and end the watch streams at once: tonic's graceful shutdown
    // waits for every open stream, and a leaderboard watch never ends by itself.
    let signal = {
        let ctx = ctx.clone();
        async move {
            shutdown.await;
            tracing::info!("shutting down: no new jobs; running evaluations get the grace period");
            ctx.stopping.send_replace(true);
        }
    };

    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<UserServiceServer<Users>>().await;
    health.set_serving::<RaceServiceServer<Races>>().await;
    health.set_serving::<ModelServiceServer<Models>>().await;
    health.set_serving::<SubmissionServiceServer<Submissions>>().await;
    health.set_serving::<LeaderboardServiceServer<Leaderboards>>().await;
    health.set_serving::<SeasonServiceServer<Seasons>>().await;
    health.set_serving::<HeadToHeadServiceServer<HeadToHead>>().await;
    health.set_serving::<WorkerServiceServer<Workers>>().await;
    // Reflection in both versions: v1, and v1alpha for grpcio-reflection's Python client and older
    // grpcurl.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(slipstream_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_err = |e| LeagueError::internal(format!("reflection: {e}"));
    let reflection_v1 = reflection().build_v1().map_err(reflection_err)?;
    let reflection_v1alpha = reflection().build_v1alpha().map_err(reflection_err)?;

    let addr = listener.local_addr().ok();
    tracing::info!(?addr, db = db_url, workers = config.workers, "league server listening");
    // HTTP/1.1 too, for gRPC-web and the web site: browsers (and a team's own front end) call the
    // same services without a proxy, and read the pages, on this one port; plain gRPC clients are
    // unaffected. The site's router is the base; the gRPC services are routes on it.
    let site = tonic::service::Routes::from(crate::web::router(ctx.clone()));
    let result = tonic::transport::Server::builder()
        .accept_http1(true)
        .add_routes(site)
        .add_service(grpc_web(health_service))
        .add_service(grpc_web(reflection_v1))
        .add_service(grpc_web(reflection_v1alpha))
        .add_service(grpc_web(UserServiceServer::new(Users(ctx.clone()))))
        .add_service(grpc_web(
            RaceServiceServer::new(Races(ctx.clone())).max_decoding_message_size(2 << 20),
        ))
        .add_service(grpc_web(
            ModelServiceServer::new(Models(ctx.clone())).max_decoding_message_size(8 << 20),
        ))
        .add_service(grpc_web(SubmissionServiceServer::new(Submissions(ctx.clone()))))
        .add_service(grpc_web(LeaderboardServiceServer::new(Leaderboards(ctx.clone()))))
        .add_service(grpc_web(SeasonServiceServer::new(Seasons(ctx.clone()))))
        .add_service(grpc_web(HeadToHeadServiceServer::new(HeadToHead(ctx.clone()))))
        .add_service(grpc_web(
            WorkerServiceServer::new(Workers(ctx.clone())).max_decoding_message_size(64 << 20),
        ))
        .serve_with_incoming_shutdown(incoming(listener), signal)
        .await;
    ctx.stopping.send_replace(true);
    for w in workers {
        let _ = w.await;
    }
    store.close().await;
    result.map_err(|e| LeagueError::internal(format!("server: {e}")))
}

/// A gRPC service that also answers gRPC-web (browsers, over HTTP/1.1). Per service, not around the
/// whole server: tonic-web refuses every other HTTP/1.1 request, and the web site's pages are such
/// requests.
fn grpc_web<S>(service: S) -> tonic_web::GrpcWebService<S> {
    tower::Layer::layer(&tonic_web::GrpcWebLayer::new(), service)
}

/// The connections `listener` accepts, with `TCP_NODELAY` set: without it a small answer's last
/// frames (the trailers) wait in the kernel for the client's delayed ACK, ~40 ms, so a client
/// calling one request after another got about 25 answers a second. (The builder's `tcp_nodelay`
/// applies only to listeners tonic binds itself.)
fn incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    /// Small answers to a client calling one request after another must not wait for the client's
    /// delayed ACK (~40 ms; a 20-row leaderboard page took 44 ms): every accepted socket has
    /// TCP_NODELAY.
    #[tokio::test]
    async fn accepted_connections_have_tcp_nodelay() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut incoming = super::incoming(listener);
        let _client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let accepted = incoming.next().await.expect("a connection").expect("accepted");
        assert!(accepted.nodelay().unwrap(), "TCP_NODELAY is set on accepted sockets");
    }
}
