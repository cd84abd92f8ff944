"""The suite's aggregate from score tables: `bash ../shared/bench/score.sh` (the team's harness) or
benchmarks/score_suite.py print one row per dataset; this reads any number of those outputs (two streams, a
rerun of some datasets: the last row of a dataset wins) and prints, per dataset, ours / best peer and
ours / seasonal naive, then their geometric means over the datasets, with each peer's own geometric means
beside them where the peers' results are given (`--peers DIR` of <dataset>.json, the harness's format).

    python benchmarks/suite_table.py s1.txt s2.txt --peers ../shared/data/suite/peers
    python benchmarks/suite_table.py after*.txt --before before*.txt     # each dataset's change, and the aggregate's
"""
import argparse
import json
import math
from pathlib import Path


def best_peer(peers: Path, name: str) -> tuple[float, str]:
    """The best peer's MASE on a dataset and its name, as the harness picks it (peers that ran, lowest MASE)."""
    results = json.loads((peers / f"{name}.json").read_text())["results"]
    return min((r["mase"], p) for p, r in results.items() if r.get("status") == "ok" and r.get("mase") == r.get("mase"))


def read(paths: list[str], peers: Path | None = None) -> dict[str, dict]:
    """dataset -> {ours, best, which, snaive, train_s} from score tables: the harness's six columns, or
    score_suite.py's four (dataset, ours, snaive, train_s: the best peer then from `peers`). Headers, `work
    files:` and failures are skipped."""
    rows = {}
    for path in paths:
        for line in Path(path).read_text().splitlines():
            parts = line.split()
            try:
                if len(parts) == 6:
                    ours, best, which, snaive, train = (float(parts[1]), float(parts[2]), parts[3], float(parts[4]),
                                                        float(parts[5]))
                elif len(parts) == 4 and peers is not None:
                    ours, snaive, train = float(parts[1]), float(parts[2]), float(parts[3])
                    best, which = best_peer(peers, parts[0])
                else:
                    continue
            except (ValueError, FileNotFoundError):
                continue
            rows[parts[0]] = {"ours": ours, "best": best, "which": which, "snaive": snaive, "train_s": train}
    return rows


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def aggregate(rows: dict[str, dict]) -> dict:
    names = sorted(rows)
    return {"datasets": len(names),
            "vs_best": geomean([rows[n]["ours"] / rows[n]["best"] for n in names]),
            "vs_snaive": geomean([rows[n]["ours"] / rows[n]["snaive"] for n in names]),
            "ahead": sum(rows[n]["ours"] < rows[n]["best"] for n in names),
            "at_or_below_snaive": sum(rows[n]["ours"] <= rows[n]["snaive"] for n in names)}


def peer_aggregates(rows: dict[str, dict], peers: Path) -> dict[str, tuple[float, float, int]]:
    """Each peer's geometric mean of its MASE / the best peer's and / seasonal naive's, over the datasets in `rows`
    where it ran."""
    ratios: dict[str, tuple[list, list]] = {}
    for name, row in rows.items():
        results = json.loads((peers / f"{name}.json").read_text())["results"]
        for peer, r in results.items():
            if r.get("status") == "ok" and r.get("mase") == r.get("mase"):
                best, snaive = ratios.setdefault(peer, ([], []))
                best.append(r["mase"] / row["best"])
                snaive.append(r["mase"] / row["snaive"])
    return {p: (geomean(b), geomean(s), len(b)) for p, (b, s) in ratios.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", nargs="+")
    parser.add_argument("--before", nargs="*", default=[], help="score tables of the baseline")
    parser.add_argument("--peers", help="folder of the peers' <dataset>.json")
    args = parser.parse_args()
    peers = Path(args.peers) if args.peers else None
    rows, before = read(args.tables, peers), read(args.before, peers)
    print(f"{'dataset':<18} {'ours':>7} {'/best':>7} {'/snaive':>8} {'train_s':>8}" + ("  before  change" if before
                                                                                          else ""))
    for name in sorted(rows):
        r = rows[name]
        line = f"{name:<18} {r['ours']:7.3f} {r['ours'] / r['best']:7.3f} {r['ours'] / r['snaive']:8.3f} " \
               f"{r['train_s']:8.0f}"
        if name in before:
            b = before[name]["ours"]
            line += f"  {b:6.3f} {100 * (r['ours'] / b - 1):+6.1f} %"
        print(line)
    a = aggregate(rows)
    print(f"\nours: geometric mean over {a['datasets']} datasets: / best peer {a['vs_best']:.4f}, / seasonal naive "
          f"{a['vs_snaive']:.4f}; ahead of the best peer on {a['ahead']}, at or below seasonal naive on "
          f"{a['at_or_below_snaive']}")
    common = {n: before[n] for n in rows if n in before}
    if common:
        b = aggregate(common)
        now = aggregate({n: rows[n] for n in common})
        print(f"before, on the same {b['datasets']}: / best peer {b['vs_best']:.4f} (now {now['vs_best']:.4f}), "
              f"/ seasonal naive {b['vs_snaive']:.4f} (now {now['vs_snaive']:.4f}); ahead on {b['ahead']} "
              f"(now {now['ahead']})")
    if args.peers:
        print(f"\n{'peer':<18} {'/best':>7} {'/snaive':>8} {'datasets':>9}")
        for peer, (vs_best, vs_snaive, n) in sorted(peer_aggregates(rows, peers).items(),
                                                    key=lambda kv: kv[1][1]):
            print(f"{peer:<18} {vs_best:7.4f} {vs_snaive:8.4f} {n:9d}")


if __name__ == "__main__":
    main()
