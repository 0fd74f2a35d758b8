"""Exact-match rate of an editor on photo-ops, per level, with every miss listed.

An edit counts 1 when its image equals the exact target pixel for pixel, 0 otherwise (an edit that
ends as ``error`` counts 0). This is the measurement behind the photo-ops table of docs/TOOLS.md
("Results of the classical agents"):

    python bench/photo_ops_exact.py --split test --per-level 120 --misses L1
    python bench/photo_ops_exact.py --split train --per-level 400
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np

from harness.registry import editors
from harness.suites.photo_ops.suite import LEVELS, PhotoOpsSuite
from harness.types import EditRequest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--editor", default="classic-pipeline")
    parser.add_argument("--split", default="test", choices=("test", "train"))
    parser.add_argument("--per-level", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--misses", default="", help="comma-separated levels whose misses to list")
    args = parser.parse_args()

    suite = PhotoOpsSuite(seed=args.seed, size=args.size, n_per_level=args.per_level)
    samples = list(suite.samples(args.split))
    results = editors.create(args.editor).edit([EditRequest(s.id, s.source, s.instruction) for s in samples])
    hits: dict[str, list[int]] = defaultdict(list)
    show = set(filter(None, args.misses.split(",")))
    for sample, result in zip(samples, results, strict=True):
        exact = (
            result.status == "ok" and result.image is not None and np.array_equal(result.image, sample.target)
        )
        hits[sample.level].append(int(exact))
        if not exact and sample.level in show:
            why = result.error if result.status != "ok" else "wrong image"
            print(f"MISS {sample.id} [{sample.metadata['program']}] {sample.instruction!r}: {why}")
    print(f"{args.editor} photo-ops {args.split} seed {args.seed}, {args.per_level} per level:")
    for level in LEVELS:
        values = hits[level]
        print(f"  {level}: {sum(values) / len(values):.3f} ({sum(values)}/{len(values)})")


if __name__ == "__main__":
    main()
