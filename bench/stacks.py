"""`python -m bench.stacks FILE [N]`: summarise a py-spy profile that `--profile` wrote
(collapsed stacks, one line per stack with its sample count): the N functions with the
most samples on the stack (inclusive), then the N with the most samples as the leaf."""

from __future__ import annotations

import sys
from collections import Counter


def summarise(path: str, top: int = 30) -> str:
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    total = 0
    with open(path) as stacks:
        for line in stacks:
            stack, _, count = line.rstrip().rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            total += n
            frames = stack.split(";")
            for frame in set(frames):
                inclusive[frame] += n
            leaf[frames[-1]] += n
    out = [f"{total} samples", "-- inclusive"]
    out += [f"{n / total:6.1%}  {frame}" for frame, n in inclusive.most_common(top)]
    out.append("-- leaf")
    out += [f"{n / total:6.1%}  {frame}" for frame, n in leaf.most_common(top)]
    return "\n".join(out)


if __name__ == "__main__":
    print(summarise(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 30))
