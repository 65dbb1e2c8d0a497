//! Connecting to a league server: a channel plus a bearer-token interceptor.

use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::transport::{Channel, Endpoint};

use slipstream_proto::v1::head_to_head_service_client::HeadToHeadServiceClient;
use slipstream_proto::v1::leaderboard_service_client::LeaderboardServiceClient;
use slipstream_proto::v1::model_service_client::ModelServiceClient;
use slipstream_proto::v1::race_service_client::RaceServiceClient;
use slipstream_proto::v1::season_service_client::SeasonServiceClient;
use slipstream_proto::v1::submission_service_client::SubmissionServiceClient;
use slipstream_proto::v1::user_service_client::UserServiceClient;
use slipstream_proto::v1::worker_service_client::WorkerServiceClient;

/// Adds `authorization: Bearer <token>` to every request (when a token is set).
#[derive(Clone, Debug, Default)]
pub struct Token(pub Option<MetadataValue<tonic::metadata::Ascii>>);

impl Token {
    pub fn new(token: Option<&str>) -> Result<Self, String> {
        match token {
            None => Ok(Token(None)),
            Some(t) => format!("Bearer {}", t.trim())
                .parse()
                .map(|v| Token(Some(v)))
                .map_err(|_| "the token contains characters a header cannot carry".to_string()),
        }
    }
}

impl Interceptor for Token {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

type I = tonic::service::interceptor::InterceptedService<Channel, Token>;

/// Clients for every service, sharing one connection.
#[derive(Clone, Debug)]
pub struct Clients {
    pub users: UserServiceClient<I>,
    pub races: RaceServiceClient<I>,
    pub models: ModelServiceClient<I>,
    pub submissions: SubmissionServiceClient<I>,
    pub leaderboards: LeaderboardServiceClient<I>,
    pub seasons: SeasonServiceClient<I>,
    pub head_to_head: HeadToHeadServiceClient<I>,
    pub workers: WorkerServiceClient<I>,
}

/// Connect to `server` (e.g. `http://127.0.0.1:50051`).
pub async fn connect(server: &str, token: Option<&str>) -> Result<Clients, String> {
    let endpoint = Endpoint::from_shared(server.to_string()).map_err(|e| format!("--server {server:?}: {e}"))?;
    let channel = endpoint
        .connect()
        .await
        .map_err(|e| format!("cannot connect to {server}: {e}"))?;
    let t = Token::new(token)?;
    Ok(Clients {
        users: UserServiceClient::with_interceptor(channel.clone(), t.clone()),
        races: RaceServiceClient::with_interceptor(channel.clone(), t.clone()),
        models: ModelServiceClient::with_interceptor(channel.clone(), t.clone()).max_decoding_message_size(64 << 20),
        submissions: SubmissionServiceClient::with_interceptor(channel.clone(), t.clone()),
        leaderboards: LeaderboardServiceClient::with_interceptor(channel.clone(), t.clone()),
        seasons: SeasonServiceClient::with_interceptor(channel.clone(), t.clone()),
        head_to_head: HeadToHeadServiceClient::with_interceptor(channel.clone(), t.clone()),
        workers: WorkerServiceClient::with_interceptor(channel, t)
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(64 << 20),
    })
}
