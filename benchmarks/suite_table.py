"""The suite's aggregate from score tables: `bash ../shared/bench/score.sh` (the team's harness) or
benchmarks/score_suite.py print one row per dataset; this reads any number of those outputs (two streams, a
rerun of some datasets: the last row of a dataset wins) and prints, per dataset, ours / best peer and
ours / seasonal naive, then their geometric means over the datasets, with each peer's own geometric means
beside them where the peers' results are given (`--peers DIR` of <dataset>.json, the harness's format).

    python benchmarks/suite_table.py s1.txt s2.txt --peers ../shared/data/suite/peers
    python benchmarks/suite_table.py after*.txt --before before*.txt     # each dataset's change, and the aggregate's
    python benchmarks/suite_table.py after*.txt --before before*.txt --rerun seed1*.txt   # ... against seed noise

`--rerun` takes the baseline retrained with another seed (`TRAIN_ARGS="--seed 1"`): the spread between the two
measures how far a dataset's MASE moves by chance, and the change's aggregate is given in standard errors of that
(docs/benchmarks.md, "How far one run moves by chance").
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
    """dataset -> {ours, best, which, snaive, train_s, wql, coverage} from score tables: the harness's six columns
    (dataset, ours, best peer, which, snaive, train_s), score_suite.py's six (dataset, ours, snaive, wql, coverage,
    train_s; `-` where it trained nothing) or its older four (dataset, ours, snaive, train_s); the best peer from
    `peers` where the table lacks it. A dataset's rows from several tables are merged, the later one winning
    field by field. Headers, `work files:` and failures are skipped."""
    rows: dict[str, dict] = {}
    for path in paths:
        for line in Path(path).read_text().splitlines():
            parts = line.split()
            try:
                if len(parts) == 6 and not _number(parts[3]):      # the harness's
                    found = {"ours": float(parts[1]), "best": float(parts[2]), "which": parts[3],
                             "snaive": float(parts[4]), "train_s": float(parts[5])}
                elif len(parts) == 6:                              # score_suite.py's
                    found = {"ours": float(parts[1]), "snaive": float(parts[2]), "wql": float(parts[3]),
                             "coverage": float(parts[4]), **({"train_s": float(parts[5])} if _number(parts[5]) else {})}
                elif len(parts) == 4:
                    found = {"ours": float(parts[1]), "snaive": float(parts[2]), "train_s": float(parts[3])}
                else:
                    continue
            except ValueError:
                continue
            row = rows.setdefault(parts[0], {"train_s": float("nan")})
            row.update(found)
            if "best" not in row and peers is not None and (peers / f"{parts[0]}.json").exists():
                row["best"], row["which"] = best_peer(peers, parts[0])
    return {name: row for name, row in rows.items() if "best" in row}


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


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
    parser.add_argument("--rerun", nargs="*", default=[], help="score tables of the baseline retrained with "
                        "another seed: the change is judged against their spread")
    parser.add_argument("--peers", help="folder of the peers' <dataset>.json")
    parser.add_argument("--peers-prob", type=Path, help="benchmarks/peers_prob.py's JSON: the statistical peers' WQL "
                        "and coverage beside ours")
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
        rerun = read(args.rerun, peers)
        if rerun:
            noise(rows, common, rerun)
    if args.peers:
        print(f"\n{'peer':<18} {'/best':>7} {'/snaive':>8} {'datasets':>9}")
        for peer, (vs_best, vs_snaive, n) in sorted(peer_aggregates(rows, peers).items(),
                                                    key=lambda kv: kv[1][1]):
            print(f"{peer:<18} {vs_best:7.4f} {vs_snaive:8.4f} {n:9d}")
    if any("wql" in r for r in rows.values()):
        probabilistic(rows, json.loads(args.peers_prob.read_text()) if args.peers_prob else {})


def noise(rows: dict[str, dict], before: dict[str, dict], rerun: dict[str, dict]) -> float:
    """The change's aggregate (mean log MASE ratio over the datasets in `before`) in standard errors of seed noise,
    printed and returned. `rerun` is the baseline retrained with another seed: the squared log ratio of a dataset's
    two runs estimates the variance of the difference of two runs (pooled over the datasets both hold, as one pair
    per dataset is too few to estimate its own). Datasets whose MASE did not move at all (a change that does not
    touch them: their forecasts are deterministic) add no noise to the change."""
    pairs = [math.log(rerun[n]["ours"] / before[n]["ours"]) for n in before if n in rerun]
    if len(pairs) < 2:
        return float("nan")
    variance = sum(d * d for d in pairs) / len(pairs)                 # of the difference of two runs
    changes = [math.log(rows[n]["ours"] / before[n]["ours"]) for n in before]
    moved = sum(c != 0 for c in changes)
    se = math.sqrt(moved * variance) / len(changes)
    t = (sum(changes) / len(changes)) / se if se else float("nan")
    print(f"seed noise (the baseline against its rerun on {len(pairs)} datasets): one dataset's MASE moves by "
          f"{100 * math.sqrt(variance):.1f} % (root mean square log ratio); this change's aggregate, "
          f"{100 * (math.exp(sum(changes) / len(changes)) - 1):+.2f} % over {len(changes)} datasets ({moved} moved), "
          f"is {t:+.2f} standard errors of that noise")
    return t


def probabilistic(rows: dict[str, dict], peers: dict) -> None:
    """WQL over the deciles and the q0.1-q0.9 interval's coverage, ours beside each peer's; then, for each peer,
    the geometric mean of WQL over the datasets it ran on, ours over the same ones beside it."""
    names = sorted(n for n in rows if "wql" in rows[n])
    who = _prob_peers(peers)
    print(f"\n{'dataset':<18} {'wql':>7} {'cover':>6}" + "".join(f" {p + ' wql':>13} {'cover':>6}" for p in who))
    for n in names:
        theirs = [peers.get(n, {}).get(p) for p in who]
        print(f"{n:<18} {rows[n]['wql']:7.4f} {rows[n]['coverage']:6.3f}" + "".join(
            f" {r['wql']:13.4f} {r['coverage']:6.3f}" if r else f" {'-':>13} {'-':>6}" for r in theirs))
    print(f"\nWQL, geometric mean over the {len(names)} datasets: ours {geomean([rows[n]['wql'] for n in names]):.4f}"
          f"; coverage of the 0.8 interval, mean: ours {sum(rows[n]['coverage'] for n in names) / len(names):.3f}")
    for p in who:
        common = [n for n in names if p in peers.get(n, {})]
        if not common:
            continue
        print(f"  against {p} on the {len(common)} it ran on: ours {geomean([rows[n]['wql'] for n in common]):.4f}, "
              f"{p} {geomean([peers[n][p]['wql'] for n in common]):.4f}; coverage ours "
              f"{sum(rows[n]['coverage'] for n in common) / len(common):.3f}, {p} "
              f"{sum(peers[n][p]['coverage'] for n in common) / len(common):.3f}")


def _prob_peers(peers: dict) -> list[str]:
    return sorted({p for results in peers.values() for p in results})


if __name__ == "__main__":
    main()
