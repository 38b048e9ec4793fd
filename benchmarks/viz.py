"""How long `to_dot` takes on a 5,000-node graph (the target: under a second).

`python3 -m benchmarks.viz` builds 1,000 layers of tanh(x @ W + b) (3 ops and 2 parameter
leaves each, plus the input and the output: 5,002 drawn nodes), then times to_dot, plain
and with show_values, and a module drawn with collapse="cluster". Prints the best of 5
rounds; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import time

import microtensor as mt
from microtensor import nn, viz


def _chain(layers: int):
    mt.manual_seed(0)
    x = mt.randn(4, 8)
    params = {}
    for i in range(layers):
        w = mt.randn(8, 8, requires_grad=True)
        b = mt.randn(8, requires_grad=True)
        params[f"w{i}"], params[f"b{i}"] = w, b
        x = (x @ w + b).tanh()
    return x, params


def _best(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m benchmarks.viz", description=__doc__)
    parser.add_argument("--layers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    out, params = _chain(args.layers)
    nodes = viz.to_dot(out, params=params).count(" [shape=")
    plain = _best(lambda: viz.to_dot(out, params=params), args.rounds)
    values = _best(lambda: viz.to_dot(out, params=params, show_values=True), args.rounds)
    net = nn.Sequential(*[m for _ in range(args.layers // 2) for m in (nn.Linear(8, 8), nn.Tanh())])
    x = mt.randn(4, 8)
    n_cluster = viz.to_dot(net, x, collapse="cluster").count(" [shape=")
    cluster = _best(lambda: viz.to_dot(net, x, collapse="cluster"), args.rounds)
    print(f"to_dot, {nodes} nodes:                    {plain * 1e3:8.1f} ms")
    print(f"to_dot, {nodes} nodes, show_values=True:  {values * 1e3:8.1f} ms")
    print(
        f"to_dot(module, x, collapse='cluster'), {n_cluster} nodes, forward included: "
        f"{cluster * 1e3:8.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
