"""Time per series of the combination's statistical members (models/members.py), fitted at every forecast of
a combined model: median over repeats of one fit and forecast, for histories of several lengths, against
statsmodels' own ETS fit (models/ets.py: `ets`, the benchmark's peer).

    python benchmarks/members.py [--repeats 20]
"""
import argparse
import time

import numpy as np

from forecast.models.ets import ets
from forecast.models.members import MEMBERS as REGISTERED

MEMBERS = {**REGISTERED, "statsmodels ETS": ets}   # each member (`ets`: the fast one), and statsmodels' own ETS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    lengths = (30, 100, 1000)
    print(f"{'member':<16}" + "".join(f"{n:>10} pts" for n in lengths) + "   (ms, median; season 12, horizon 12)")
    for name, method in MEMBERS.items():
        cells = []
        for n in lengths:
            t = np.arange(n)
            y = 100 + 0.3 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, n)
            method(y, 12, 12)                               # imports and first-call costs outside the timing
            times = []
            for _ in range(args.repeats if name != "statsmodels ETS" else max(3, args.repeats // 5)):
                started = time.perf_counter()
                method(y, 12, 12)
                times.append(time.perf_counter() - started)
            cells.append(f"{1000 * np.median(times):>14.2f}")
        print(f"{name:<16}" + "".join(cells))


if __name__ == "__main__":
    main()
