"""Serving latency and throughput of `forecast serve` (MLflow's scoring server) on 127.0.0.1.

    python benchmarks/serving.py [--clients 1,8,32] [--workers 1,2] [--requests 300] [--repeats 3] [--no-theta]
                                 [--in-process CALLS]

A default-size model (d_model 64, 8 layers; a few training steps: accuracy is not the point) is trained on
examples/hourly_load.csv into a temporary store. Each request is one series' last 30 hourly rows as
`dataframe_split` JSON. Per (workers, clients): a warm-up, then `repeats` rounds of `requests` requests
spread over `clients` threads with keep-alive connections; reported: medians over rounds of p50/p95/p99
latency and of throughput. First, the same request through MLflow's `invocations` in-process (the compute
alone, steadier than end-to-end figures on a shared machine). Bounded: every loop has a fixed request count
and the server is stopped at the end.
"""
import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_model(forecast: str, uri: str, cwd, *extra: str) -> None:
    """The benchmarks' model: default size, 5 steps on the bundled example (accuracy is not the point)."""
    subprocess.run([forecast, "train", "--data", str(ROOT / "examples" / "hourly_load.csv"), "--tracking-uri", uri,
                    "--max-steps", "5", "--no-progress", "--health-every", "0", *extra], cwd=cwd, check=True,
                   capture_output=True)


def start(forecast: str, uri: str, workers: int, cwd: Path):
    port = free_port()
    server = subprocess.Popen([forecast, "serve", "--model", "models:/forecaster/1", "--port", str(port),
                               "--workers", str(workers), "--tracking-uri", uri], cwd=cwd, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/ping")
            if conn.getresponse().status == 200:
                return server, port
        except OSError:
            time.sleep(0.2)
    os.killpg(server.pid, signal.SIGKILL)
    raise RuntimeError("server did not start")


def round_trip(port: int, body: bytes, n: int, clients: int) -> tuple[list[float], float]:
    latencies, lock = [], threading.Lock()
    per_client = [n // clients + (1 if i < n % clients else 0) for i in range(clients)]

    def client(count):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for _ in range(count):
            t = time.perf_counter()
            conn.request("POST", "/invocations", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            assert response.status == 200, response.status
            mine.append(time.perf_counter() - t)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(c,)) for c in per_client]
    start_time = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, n / (time.perf_counter() - start_time)


def request_body() -> bytes:
    """One series' last 30 hourly rows of the bundled example, as `dataframe_split` JSON."""
    history = pd.read_csv(ROOT / "examples" / "hourly_load.csv")
    one = history[history["series_id"] == "north"].tail(30)
    return json.dumps({"dataframe_split": json.loads(one.to_json(orient="split", index=False))}).encode()


def in_process(uri: str, body: bytes, calls: int) -> float:
    """Median ms of MLflow's own `invocations` (what a server worker runs per request: parse, predict, JSON) in
    this process on one thread: the request's compute without HTTP, threads or scheduling in the way, steadier
    than the end-to-end figures on a shared machine."""
    import mlflow
    import torch
    from mlflow.pyfunc.scoring_server import invocations

    mlflow.set_tracking_uri(uri)
    model = mlflow.pyfunc.load_model("models:/forecaster/1")
    torch.set_num_threads(1)   # as `forecast serve` runs each worker
    schema, times = model.metadata.get_input_schema(), []
    for _ in range(calls + 20):  # the first 20: warm-up
        start = time.perf_counter()
        answer = invocations(body, "application/json", model, schema)
        times.append(time.perf_counter() - start)
        assert answer.status == 200, answer.response
    return statistics.median(times[20:]) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--in-process", type=int, default=300, metavar="CALLS",
                        help="also time this many calls of MLflow's invocations in-process (0: skip)")
    parser.add_argument("--no-theta", action="store_true",
                        help="train with --no-combination (a 5-step model is combined with statistical members "
                             "otherwise)")
    args = parser.parse_args()
    forecast = str(Path(sys.executable).parent / "forecast")
    body = request_body()
    with tempfile.TemporaryDirectory() as tmp:
        uri = f"sqlite:///{tmp}/mlflow.db"
        train_model(forecast, uri, tmp, *(["--no-combination"] if args.no_theta else []))
        if args.in_process:
            print(f"in-process (MLflow's invocations: parse, predict, JSON; no HTTP): p50 "
                  f"{in_process(uri, body, args.in_process):.1f} ms over {args.in_process} calls")
        print(f"{'workers':>7} {'clients':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8}")
        for workers in map(int, args.workers.split(",")):
            server, port = start(forecast, uri, workers, Path(tmp))
            try:
                round_trip(port, body, 40, 4)  # warm-up: every worker loads and runs once
                for clients in map(int, args.clients.split(",")):
                    rounds = [round_trip(port, body, args.requests, clients) for _ in range(args.repeats)]
                    q = [np.percentile(np.array(lat) * 1e3, [50, 95, 99]) for lat, _ in rounds]
                    med = [statistics.median(x[i] for x in q) for i in range(3)]
                    rate = statistics.median(r for _, r in rounds)
                    print(f"{workers:>7} {clients:>7} {med[0]:>8.1f} {med[1]:>8.1f} {med[2]:>8.1f} {rate:>8.0f}")
            finally:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=60)


if __name__ == "__main__":
    main()
