#!/usr/bin/env python3
"""Fit the screening engine's logistic model on the development pairs.

Usage: scripts/fit-matcher.py [--data ../shared/data/eval] [--write]

Runs `tabadul eval pairs --features` on the development files, then fits
  1. the name weights and bias on the name-only files (xs_names, lv_names);
  2. the weights of the other evidence (dates, nationality, gender, documents) on the files
     with that evidence (xs_full, lv_full), the name part held fixed.
Prints the weights as Rust constants for crates/tabadul-engine/src/model.rs, and with
--write puts them there.

Pure Python (no numpy): Newton's method with an L2 penalty, 22 parameters.
Only the development files are read; the held-out records are not in them.
"""
import json
import math
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME_FEATURES = 15


def features(data, name):
    out = os.path.join(tempfile.gettempdir(), f"tabadul-features-{name}.jsonl")
    subprocess.run(
        ["cargo", "run", "-q", "--release", "-p", "tabadul", "--", "eval", "pairs",
         os.path.join(data, f"{name}_dev.jsonl"), "--features", out],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    rows = [json.loads(line) for line in open(out)]
    return [(r["features"], r["label"]) for r in rows]


def solve(a, b):
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(n):
            if r != c and m[c][c] != 0:
                f = m[r][c] / m[c][c]
                for k in range(c, n + 1):
                    m[r][k] -= f * m[c][k]
    return [m[i][n] / m[i][i] if m[i][i] != 0 else 0.0 for i in range(n)]


def fit(rows, penalty, offsets=None, iterations=25):
    """rows: (x, y); returns w (last element is the bias) maximising the penalised likelihood."""
    n = len(rows[0][0]) + 1
    w = [0.0] * n
    offsets = offsets or [0.0] * len(rows)
    for _ in range(iterations):
        grad = [0.0] * n
        hess = [[0.0] * n for _ in range(n)]
        for (x, y), off in zip(rows, offsets):
            xb = list(x) + [1.0]
            z = off + sum(wi * xi for wi, xi in zip(w, xb))
            p = 1.0 / (1.0 + math.exp(-max(min(z, 30), -30)))
            for i in range(n):
                grad[i] += (y - p) * xb[i]
                for j in range(n):
                    hess[i][j] += p * (1 - p) * xb[i] * xb[j]
        for i in range(n - 1):
            grad[i] -= penalty * w[i]
            hess[i][i] += penalty
        step = solve(hess, grad)
        w = [wi + si for wi, si in zip(w, step)]
        if max(abs(s) for s in step) < 1e-6:
            break
    return w


def main():
    data = os.path.join(ROOT, "..", "shared", "data", "eval")
    if "--data" in sys.argv:
        data = sys.argv[sys.argv.index("--data") + 1]
    names = features(data, "xs_names") + features(data, "lv_names")
    full = features(data, "xs_full") + features(data, "lv_full")
    name_rows = [(x[:NAME_FEATURES], y) for x, y in names]
    w = fit(name_rows, penalty=1.0)
    name_w, bias = w[:-1], w[-1]
    offsets = [bias + sum(a * b for a, b in zip(name_w, x[:NAME_FEATURES])) for x, _ in full]
    other_rows = [(x[NAME_FEATURES:], y) for x, y in full]
    other = fit(other_rows, penalty=20.0, offsets=offsets)[:-1]
    fmt = lambda ws: ", ".join(f"{v:.3f}" for v in ws)
    constants = (
        f"const NAME_BIAS: f32 = {bias:.3f};\n"
        f"const NAME_WEIGHTS: [f32; NameFeatures::COUNT] = [{fmt(name_w)}];\n"
        f"const OTHER_WEIGHTS: [f32; OtherFeatures::COUNT] = [{fmt(other)}];\n"
    )
    print(constants, end="")
    if "--write" in sys.argv:
        path = os.path.join(ROOT, "crates", "tabadul-engine", "src", "model.rs")
        text = open(path).read()
        start = text.index("const NAME_BIAS")
        end = text.index("/// The default hit threshold")
        open(path, "w").write(text[:start] + constants + "\n" + text[end:])
        subprocess.run(["cargo", "fmt", "-p", "tabadul-engine"], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
