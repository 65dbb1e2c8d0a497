#!/usr/bin/env python3
"""A Python client for the Slipstream league, generated from proto/ with grpcio-tools.

The example for Python users, and a test: league-server/tests/python.rs runs `flow` against a real
server on every `scripts/test`. It needs grpcio, grpcio-tools, grpcio-reflection and
grpcio-health-checking; `scripts/grpc-python` installs them once into a cache folder and prints that
Python:

    PY="$(scripts/grpc-python)"
    # The main flow: health, reflection, a racer, a race, upload, watch + submit, leaderboard, trace,
    # and a head-to-head final against a rival.
    "$PY" proto/examples/python/league_client.py flow --server 127.0.0.1:50051 \\
        --admin-token "$LEAGUE_ADMIN_TOKEN" --model runs/a/model_best.safetensors
    # Latency of one call after another: a 20-row leaderboard page.
    "$PY" proto/examples/python/league_client.py latency --server 127.0.0.1:50051 --race RACE_ID

The client code is generated at start into a temporary folder (`--generated DIR` keeps it): the
same `python -m grpc_tools.protoc` command works for your own project.
"""

import argparse
import importlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time

import grpc

PROTO_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PROTO_FILE = "slipstream/league/v1/league.proto"
FINISHED = ("SUBMISSION_STATUS_COMPLETED", "SUBMISSION_STATUS_FAILED", "SUBMISSION_STATUS_CANCELLED")


def generate(out_dir):
    """Generate league_pb2 and league_pb2_grpc from the .proto file and import them."""
    from grpc_tools import protoc
    import grpc_tools

    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        PROTO_FILE,
    ]
    if protoc.main(args) != 0:
        raise SystemExit(f"error: grpc_tools.protoc failed on {PROTO_ROOT}/{PROTO_FILE}")
    sys.path.insert(0, out_dir)
    pb = importlib.import_module("slipstream.league.v1.league_pb2")
    rpc = importlib.import_module("slipstream.league.v1.league_pb2_grpc")
    return pb, rpc


def bearer(token):
    """Call metadata for a token (public reads need none)."""
    return (("authorization", f"Bearer {token}"),) if token else ()


def check(ok, what):
    if not ok:
        raise SystemExit(f"error: {what}")


def racer_part(channel, pb, rpc, me, race_id, args, report):
    """A racer's part, with the racer's own token (`me`): upload a model, watch the race while
    submitting it, follow the submission to its result, read the leaderboard (public: no token) and
    download the evaluation's trace. Fills `report`; returns what the rest of the flow reuses."""
    # Upload: one metadata message, then the file in chunks (client streaming).
    with open(args.model, "rb") as f:
        data = f.read()

    def upload(name):
        yield pb.UploadModelRequest(metadata=pb.ModelUploadMetadata(name=name, size_bytes=len(data)))
        for i in range(0, len(data), 64 << 10):
            yield pb.UploadModelRequest(chunk=data[i : i + (64 << 10)])

    models = rpc.ModelServiceStub(channel)
    model = models.UploadModel(upload("python-model"), metadata=me)
    again = models.UploadModel(upload("renamed"), metadata=me)
    check(again.id == model.id and again.already_uploaded, "the same bytes again: the same model, said so")
    report["model"] = {"id": model.id, "sha256": model.sha256, "again_already_uploaded": again.already_uploaded}

    # Watch the race (a snapshot first, then events) on a thread, submit, and follow the submission
    # until it has finished and, if it qualified, until its rank arrives on the watch.
    boards = rpc.LeaderboardServiceStub(channel)
    events = boards.WatchLeaderboard(
        pb.WatchLeaderboardRequest(race_id=race_id, top=10), metadata=me, timeout=args.timeout
    )
    first = next(events)
    check(first.WhichOneof("event") == "snapshot", f"the watch starts with a snapshot, got {first}")
    watched = []

    def follow():
        try:
            for ev in events:
                watched.append(ev)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.CANCELLED:
                watched.append(e)

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    submissions = rpc.SubmissionServiceStub(channel)
    sub = submissions.Submit(pb.SubmitRequest(race_id=race_id, model_id=model.id), metadata=me)
    deadline = time.monotonic() + args.timeout
    final = sub
    while pb.SubmissionStatus.Name(final.status) not in FINISHED:
        check(time.monotonic() < deadline, f"the submission did not finish in {args.timeout} s")
        time.sleep(0.2)
        final = submissions.GetSubmission(pb.GetSubmissionRequest(submission_id=sub.id), metadata=me)

    def rank_event():
        return next((e.rank_change for e in watched if isinstance(e, pb.LeaderboardEvent)
                     and e.WhichOneof("event") == "rank_change" and e.rank_change.submission_id == sub.id), None)

    while final.qualified and rank_event() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    events.cancel()
    follower.join(5)
    errors = [e for e in watched if isinstance(e, grpc.RpcError)]
    check(not errors, f"the watch failed: {errors}")
    check(final.status == pb.SUBMISSION_STATUS_COMPLETED, f"submission: {final.failure_reason}")
    seen = []
    for e in watched:
        if e.WhichOneof("event") == "submission" and e.submission.id == sub.id:
            status = pb.SubmissionStatus.Name(e.submission.status)
            if not seen or seen[-1] != status:
                seen.append(status)
    ranked = rank_event()
    report["watched_statuses"] = seen
    report["submission"] = {
        "id": sub.id,
        "qualified": final.qualified,
        "score_ms": final.score_ms,
        "laps": [lap.time_ms for lap in final.laps],
        "rank_change": ranked.rank if ranked else None,
    }

    # The leaderboard: public for a public race, so no token.
    page = boards.GetLeaderboard(pb.GetLeaderboardRequest(race_id=race_id, page_size=20))
    report["leaderboard"] = [
        {"rank": r.rank, "user": r.user_name, "score_ms": r.score_ms, "submission_id": r.submission_id}
        for r in page.rows
    ]
    report["leaderboard_total"] = page.total
    # Out-of-range page sizes are refused with the field named.
    try:
        boards.GetLeaderboard(pb.GetLeaderboardRequest(race_id=race_id, page_size=5000))
        raise SystemExit("error: page_size 5000 was accepted")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.INVALID_ARGUMENT and "page_size" in e.details(), e.details())

    # The evaluation's trace (server streaming): DeepRacer SIM_TRACE_LOG CSV.
    trace = b"".join(c.data for c in submissions.DownloadTrace(pb.DownloadTraceRequest(submission_id=sub.id), metadata=me))
    lines = trace.decode().splitlines()
    report["trace"] = {"bytes": len(trace), "header": lines[0] if lines else "", "rows": max(len(lines) - 1, 0)}

    return models, submissions, sub, upload


def racer(args, pb, rpc):
    """The racer's part alone: a racer's token and a race an admin (or the league's web site)
    made; no admin token needed."""
    channel = grpc.insecure_channel(args.server)
    report = {}
    racer_part(channel, pb, rpc, bearer(args.token), args.race, args, report)
    print(json.dumps(report))


def flow(args, pb, rpc):
    channel = grpc.insecure_channel(args.server)
    admin = bearer(args.admin_token)
    report = {}

    # Health (grpc.health.v1) and reflection (v1alpha: grpcio-reflection's client speaks it).
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    health = health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service="slipstream.league.v1.LeaderboardService"), timeout=10
    )
    check(health.status == health_pb2.HealthCheckResponse.SERVING, f"health: {health}")
    report["health"] = health_pb2.HealthCheckResponse.ServingStatus.Name(health.status)

    from google.protobuf.descriptor_pool import DescriptorPool
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

    reflection = ProtoReflectionDescriptorDatabase(channel)
    services = sorted(reflection.get_services())
    check("slipstream.league.v1.LeaderboardService" in services, f"reflection lists {services}")
    described = DescriptorPool(reflection).FindServiceByName("slipstream.league.v1.ModelService")
    report["reflection_services"] = services
    report["reflection_model_methods"] = [m.name for m in described.methods]

    # A racer with a token (admin calls), and a race without a window (0 = not set: open now,
    # never closing).
    users = rpc.UserServiceStub(channel)
    racer = users.CreateUser(pb.CreateUserRequest(name=args.racer, role=pb.ROLE_RACER), metadata=admin)
    token = users.IssueToken(pb.IssueTokenRequest(user_id=racer.id, description="python example"), metadata=admin)
    me = bearer(token.token)
    check(users.WhoAmI(pb.WhoAmIRequest(), metadata=me).id == racer.id, "WhoAmI with the new token")
    races = rpc.RaceServiceStub(channel)
    race = races.CreateRace(
        pb.CreateRaceRequest(
            spec=pb.RaceSpec(
                name="Python cup",
                track="oval",
                timing=pb.TIMING_METHOD_BEST_LAP,
                laps=2,
                min_laps=1,
                off_track_penalty_s=2.0,
                collision_penalty_s=5.0,
            )
        ),
        metadata=admin,
    )
    check(race.state == pb.RACE_STATE_OPEN, f"the race is {pb.RaceState.Name(race.state)}")
    report["race_id"] = race.id

    # Everything a racer does, with the racer's own token only (the `racer` command alone).
    models, submissions, sub, upload = racer_part(channel, pb, rpc, me, race.id, args, report)
    deadline = time.monotonic() + args.timeout

    # Head-to-head: a second racer enters the same model; the admin seeds a final of the best two,
    # which the queue races; anyone follows the bracket (public race: no token).
    rival = users.CreateUser(pb.CreateUserRequest(name=args.racer + "-rival", role=pb.ROLE_RACER), metadata=admin)
    rival_token = bearer(users.IssueToken(pb.IssueTokenRequest(user_id=rival.id), metadata=admin).token)
    rival_model = models.UploadModel(upload("rival-model"), metadata=rival_token)
    rival_sub = submissions.Submit(pb.SubmitRequest(race_id=race.id, model_id=rival_model.id), metadata=rival_token)
    while pb.SubmissionStatus.Name(rival_sub.status) not in FINISHED:
        check(time.monotonic() < deadline, f"the rival's submission did not finish in {args.timeout} s")
        time.sleep(0.2)
        rival_sub = submissions.GetSubmission(pb.GetSubmissionRequest(submission_id=rival_sub.id), metadata=rival_token)
    h2h = rpc.HeadToHeadServiceStub(channel)
    event = h2h.CreateBracket(
        pb.CreateBracketRequest(race_id=race.id, name="Python final", elimination=pb.ELIMINATION_SINGLE, size=2),
        metadata=admin,
    )
    while event.bracket.champion_seed == 0:
        check(time.monotonic() < deadline, f"the final was not raced in {args.timeout} s")
        time.sleep(0.2)
        event = h2h.GetEvent(pb.GetEventRequest(event_id=event.id))
    final = h2h.GetMatch(pb.GetMatchRequest(match_id=event.bracket.matches[0].match_id))
    champion = event.bracket.entrants[event.bracket.champion_seed - 1].entrant
    report["final"] = {
        "event_id": event.id,
        "champion": champion.user_name,
        "places": [seat.place for seat in final.seats],
        "laps": [seat.completed_laps for seat in final.seats],
        "status": pb.MatchStatus.Name(final.status),
    }
    # The final's replay (GIF; anyone) and our own car's trace (SIM_TRACE_LOG; its racer).
    replay = b"".join(c.data for c in h2h.DownloadMatchReplay(pb.DownloadMatchReplayRequest(match_id=final.id)))
    seat = next(i for i, s in enumerate(final.seats) if s.entrant.user_name == args.racer)
    request = pb.DownloadMatchTraceRequest(match_id=final.id, seat=seat)
    final_trace = b"".join(c.data for c in h2h.DownloadMatchTrace(request, metadata=me)).decode()
    report["final"].update(
        replay_is_gif=replay.startswith(b"GIF89a"),
        my_seat=seat,
        my_trace_laps=sum(",lap_complete," in line for line in final_trace.splitlines()),
    )
    print(json.dumps(report))


def latency(args, pb, rpc):
    """GetLeaderboard pages of `--rows`, one call after another, on one channel."""
    channel = grpc.insecure_channel(args.server)
    boards = rpc.LeaderboardServiceStub(channel)
    req = pb.GetLeaderboardRequest(race_id=args.race, page_size=args.rows)
    for _ in range(args.warmup):
        boards.GetLeaderboard(req, metadata=bearer(args.token))
    ms = []
    for _ in range(args.calls):
        t0 = time.perf_counter()
        page = boards.GetLeaderboard(req, metadata=bearer(args.token))
        ms.append((time.perf_counter() - t0) * 1000.0)
    check(len(page.rows) == min(args.rows, page.total), f"{len(page.rows)} rows of {page.total}")
    ms.sort()
    pick = lambda p: ms[round((len(ms) - 1) * p)]
    print(
        json.dumps(
            {
                "client": f"python grpcio {grpc.__version__}",
                "rows": len(page.rows),
                "calls": len(ms),
                "p50_ms": pick(0.5),
                "p99_ms": pick(0.99),
                "max_ms": ms[-1],
                "mean_ms": statistics.fmean(ms),
            }
        )
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--generated", help="generate the client code here and keep it (default: a temporary folder)")
    sub = ap.add_subparsers(dest="command", required=True)
    f = sub.add_parser("flow", help="the main flow, as a racer and an admin; prints a JSON report")
    f.add_argument("--server", required=True, help="host:port")
    f.add_argument("--admin-token", required=True)
    f.add_argument("--model", required=True, help="a .safetensors model file (trainer train's output)")
    f.add_argument("--racer", default="py-racer", help="the racer's name (a new user)")
    f.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the evaluation")
    r = sub.add_parser("racer", help="a racer's part only (upload, watch + submit, leaderboard, trace): no admin token")
    r.add_argument("--server", required=True, help="host:port")
    r.add_argument("--token", required=True, help="the racer's own token (`league tokens issue`, or the league's web site)")
    r.add_argument("--race", required=True, help="the race to enter")
    r.add_argument("--model", required=True, help="a .safetensors model file (trainer train's output)")
    r.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the evaluation")
    lat = sub.add_parser("latency", help="p50/p99 of sequential GetLeaderboard calls; prints JSON")
    lat.add_argument("--server", required=True, help="host:port")
    lat.add_argument("--race", required=True, help="a race id")
    lat.add_argument("--token", help="needed for a private race")
    lat.add_argument("--rows", type=int, default=20)
    lat.add_argument("--calls", type=int, default=1000)
    lat.add_argument("--warmup", type=int, default=50)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        out = args.generated or tmp
        os.makedirs(out, exist_ok=True)
        pb, rpc = generate(out)
        try:
            {"flow": flow, "racer": racer, "latency": latency}[args.command](args, pb, rpc)
        except grpc.RpcError as e:
            raise SystemExit(f"error: {e.code().name}: {e.details()}")


if __name__ == "__main__":
    main()
