"""Summarise a py-spy `--format raw` profile (collapsed stacks): where a worker's CPU went, as text.

    .venv/bin/python bench/mass_rescue.py --cases 50 --runs 1 --py-spy prof --py-spy-format raw
    .venv/bin/python bench/profile_summary.py prof/engine-*.txt                 # inclusive share per function
    .venv/bin/python bench/profile_summary.py prof/engine-*.txt --match sinergi/ --top 40
    .venv/bin/python bench/profile_summary.py prof/engine-*.txt --callers get_serialization_context

Inclusive: the share of samples with the function anywhere on the stack (each function once per sample).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

LINE = re.compile(r":\d+\)")


def frames(path: Path):
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            yield [LINE.sub(")", f) for f in stack.split(";")], int(count)


def main(args: argparse.Namespace) -> None:
    total = 0
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    callers: Counter[str] = Counter()
    for path in args.files:
        for stack, count in frames(path):
            total += count
            own[stack[-1]] += count
            for name in set(stack):
                inclusive[name] += count
            if args.callers:
                for i, name in enumerate(stack):
                    if args.callers in name:
                        callers[" <- ".join(reversed(stack[max(0, i - args.depth):i]))] += count
                        break
    if not total:
        raise SystemExit("no samples (was the profile written with --format raw?)")
    print(f"{total} samples from {len(args.files)} file(s)")
    table = callers if args.callers else inclusive
    title = f"callers of {args.callers}" if args.callers else "inclusive"
    print(f"--- {title}")
    shown = 0
    for name, count in table.most_common():
        if args.match and args.match not in name:
            continue
        print(f"{100 * count / total:5.1f}%  {name[:150]}")
        shown += 1
        if shown >= args.top:
            break
    if not args.callers:
        print("--- self (the frame on top)")
        for name, count in own.most_common(min(args.top, 15)):
            print(f"{100 * count / total:5.1f}%  {name[:150]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--match", help="only functions whose frame contains this (e.g. sinergi/)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--callers", help="who calls the function whose frame contains this")
    parser.add_argument("--depth", type=int, default=3, help="caller frames shown with --callers")
    main(parser.parse_args())
