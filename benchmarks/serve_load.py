"""`forecast serve` under mixed load: N concurrent clients for T seconds on 127.0.0.1, each request drawn from
good ones, bad ones (a text target, a missing column, no Content-Type) and oversized ones (a body announced over
the limit; a 153 kB Parquet body that decodes to 10 M rows).

    python benchmarks/serve_load.py [--clients 16] [--seconds 60] [--workers 2] [--seed 0]

The model is benchmarks/serving.py's (a default-size network, a few training steps on examples/hourly_load.csv,
in a temporary store). Reported: the count of each (kind, status) pair, connections dropped before an answer,
p50/p99 latency per kind, and the server's memory (the resident set of its process group: uvicorn and its
workers) before the load, after it, and its growth. Pass: no 500, no dropped connection for a good request, the
growth under 10 %. Bounded: the load stops at T seconds and the server is stopped at the end.
"""
import argparse
import http.client
import io
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving import request_body, start, train_model  # noqa: E402  (the neighbouring benchmark's model and server)


def group_rss_mb(pgid: int) -> float:
    """Resident memory of every process in the group, from /proc (Linux)."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.getpgid(int(pid)) != pgid:
                continue
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ProcessLookupError, IndexError, ValueError):
            continue
    return total / 2**20


def _split(frame: pd.DataFrame) -> bytes:
    return json.dumps({"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}).encode()


def bodies() -> dict[str, tuple[bytes, dict, str | None]]:
    """kind -> (body, headers, announced length: a header-only request that sends no body)."""
    good = request_body()
    frame = pd.DataFrame(json.loads(good)["dataframe_split"]["data"],
                         columns=json.loads(good)["dataframe_split"]["columns"])
    parquet = io.BytesIO()
    pd.DataFrame({"series_id": "north", "timestamp": "2024-01-01T00:00:00",
                  "value": np.zeros(10_000_000)}).to_parquet(parquet, index=False)
    json_type = {"Content-Type": "application/json"}
    return {"good": (good, json_type, None),
            "bad: text target": (_split(frame.assign(value="abc")), json_type, None),
            "bad: missing column": (_split(frame.drop(columns=["value"])), json_type, None),
            "bad: no Content-Type": (good, {}, None),
            "oversized: announced 64 MB": (b"", json_type, str(64 * 2**20)),
            "oversized: 10 M-row Parquet": (parquet.getvalue(), {"Content-Type": "application/vnd.apache.parquet"},
                                            None)}


WEIGHTS = {"good": 14, "bad: text target": 2, "bad: missing column": 1, "bad: no Content-Type": 1,
           "oversized: announced 64 MB": 1, "oversized: 10 M-row Parquet": 1}


def one(port: int, body: bytes, headers: dict, announced: str | None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.putrequest("POST", "/invocations")
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", announced or str(len(body)))
        connection.endheaders(None if announced else body)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def load(port: int, clients: int, seconds: float, seed: int):
    kinds = bodies()
    names = list(WEIGHTS)
    results, lock = [], threading.Lock()
    stop = time.monotonic() + seconds

    def client(i):
        rng, mine = random.Random(seed + i), []
        while time.monotonic() < stop:
            kind = rng.choices(names, weights=[WEIGHTS[n] for n in names])[0]
            started = time.perf_counter()
            try:
                status = one(port, *kinds[kind])
            except OSError as err:   # reset, refused, timed out: a dropped connection
                status = f"dropped ({type(err).__name__})"
            mine.append((kind, status, time.perf_counter() - started))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    forecast = str(Path(sys.executable).parent / "forecast")
    with tempfile.TemporaryDirectory() as tmp:
        uri = f"sqlite:///{tmp}/mlflow.db"
        train_model(forecast, uri, tmp)
        server, port = start(forecast, uri, args.workers, Path(tmp))
        try:
            kinds = bodies()
            for _ in range(20):   # warm-up: every worker loads the model and answers
                one(port, *kinds["good"])
            before = group_rss_mb(server.pid)
            results = load(port, args.clients, args.seconds, args.seed)
            time.sleep(2)
            after = group_rss_mb(server.pid)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
    counts = Counter((kind, status) for kind, status, _ in results)
    print(f"{args.clients} clients x {args.seconds:g} s against {args.workers} workers: {len(results)} requests "
          f"(the 10 M-row Parquet body: {len(bodies()['oversized: 10 M-row Parquet'][0]) / 1e3:.0f} kB)")
    print(f"{'kind':<30}{'status':>22}{'count':>8}{'p50 ms':>9}{'p99 ms':>9}")
    for (kind, status), count in sorted(counts.items(), key=lambda kv: (list(WEIGHTS).index(kv[0][0]), str(kv[0][1]))):
        times = np.array([s for k, st, s in results if k == kind and st == status]) * 1e3
        print(f"{kind:<30}{str(status):>22}{count:>8}{np.percentile(times, 50):>9.1f}{np.percentile(times, 99):>9.1f}")
    growth = after / before - 1
    five_hundreds = sum(c for (_, s), c in counts.items() if isinstance(s, int) and s >= 500)
    dropped_good = sum(c for (k, s), c in counts.items() if k == "good" and not isinstance(s, int))
    print(f"server memory: {before:.0f} MB before, {after:.0f} MB after ({growth:+.1%})")
    verdict = five_hundreds == 0 and dropped_good == 0 and growth < 0.10
    print(f"{'PASS' if verdict else 'FAIL'}: {five_hundreds} answers of 5xx, {dropped_good} good requests dropped, "
          f"memory {growth:+.1%} (under +10 % needed)")
    sys.exit(0 if verdict else 1)


if __name__ == "__main__":
    main()
