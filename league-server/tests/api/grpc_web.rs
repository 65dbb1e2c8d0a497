//! Browsers call the API too: gRPC-web over HTTP/1.1 on the same port, no proxy.

use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use slipstream_proto::v1 as pb;
use tonic::Code;
use tonic_web::GrpcWebClientLayer;

use super::common::*;

#[tokio::test]
async fn a_browser_calls_the_api_with_grpc_web_over_http1() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let race = admin
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(open_spec("Web cup", "oval")),
        })
        .await
        .unwrap()
        .into_inner();

    // An HTTP/1.1-only client speaking gRPC-web, as grpc-web's JavaScript client does.
    let http1 = Client::builder(TokioExecutor::new()).build_http::<tonic_web::GrpcWebCall<tonic::body::Body>>();
    let web = tower::ServiceBuilder::new()
        .layer(GrpcWebClientLayer::new())
        .service(http1);
    let origin: tonic::codegen::http::Uri = s.addr.parse().unwrap();
    let mut races = pb::race_service_client::RaceServiceClient::with_origin(web.clone(), origin.clone());
    let listed = races
        .list_races(pb::ListRacesRequest::default())
        .await
        .expect("public races over gRPC-web")
        .into_inner();
    assert!(listed.races.iter().any(|r| r.id == race.id), "{listed:?}");
    let mut boards = pb::leaderboard_service_client::LeaderboardServiceClient::with_origin(web.clone(), origin.clone());
    let board = boards
        .get_leaderboard(pb::GetLeaderboardRequest {
            race_id: race.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(board.total, 0);
    // Signed-in calls carry the token as gRPC metadata, as over HTTP/2; errors are gRPC statuses.
    let mut users = pb::user_service_client::UserServiceClient::with_origin(web, origin);
    let mut req = tonic::Request::new(pb::WhoAmIRequest {});
    req.metadata_mut()
        .insert("authorization", format!("Bearer {ADMIN}").parse().unwrap());
    assert_eq!(users.who_am_i(req).await.unwrap().into_inner().name, "admin");
    let e = users.who_am_i(pb::WhoAmIRequest {}).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated, "{}", e.message());
}
