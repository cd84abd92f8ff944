"""Two logged models' per-request compute, interleaved in one process: before/after figures for a serving change
that this machine's drift (up to 2x within an hour) cannot fake.

    python benchmarks/serving_ab.py --before sqlite:///old/mlflow.db --after sqlite:///new/mlflow.db [--calls 2000]

Each store holds `models:/forecaster/1`, trained by the code to compare (e.g. from a worktree of the old commit:
`forecast train --data examples/hourly_load.csv --max-steps 5 --health-every 0`). Each model loads with its own
logged code (pipelines/serving/pyfunc_model.py imports it in isolation), so both live in this process. The
request is one series' last 30 hourly rows of examples/hourly_load.csv, as benchmarks/serving.py sends it, through
MLflow's `invocations` (parse, predict, JSON: what a server worker runs); calls alternate between the models, on
one thread. Reports the median ms of each and whether their JSON answers are the same bytes.
"""
import argparse
import statistics
import time

import mlflow
import torch
from mlflow.pyfunc.scoring_server import invocations
from serving import request_body  # benchmarks/serving.py: the same request

WARM_UP = 20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, help="tracking URI of the store with the old code's model")
    parser.add_argument("--after", required=True, help="tracking URI of the store with the new code's model")
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    torch.set_num_threads(1)   # as `forecast serve` runs each worker
    models = {}
    for name, uri in (("before", args.before), ("after", args.after)):
        mlflow.set_tracking_uri(uri)
        models[name] = mlflow.pyfunc.load_model("models:/forecaster/1")
    body = request_body()
    times, answers = {name: [] for name in models}, {}
    for i in range(args.calls + WARM_UP):
        for name, model in models.items():
            start = time.perf_counter()
            answer = invocations(body, "application/json", model, None)
            if i >= WARM_UP:
                times[name].append((time.perf_counter() - start) * 1e3)
            assert answer.status == 200, answer.response
            answers[name] = answer.response
    before, after = (statistics.median(times[name]) for name in ("before", "after"))
    print(f"median ms per request: before {before:.2f}, after {after:.2f} (ratio {after / before:.2f}); "
          f"answers {'identical' if answers['before'] == answers['after'] else 'DIFFER'}")


if __name__ == "__main__":
    main()
