#!/usr/bin/python3
"""bench/torch_bench.py - the PyTorch side of `make bench` (workloads W1-W6 of the performance
issue, in PyTorch eager).

It is a small server driven by bench/bench.c so the two engines run interleaved in one session:
each line on stdin is a command "<workload> <threads> <reps> [arg]"; the reply is one line of
<reps> measurements (the unit depends on the workload, see below), or "ERR <message>".
"quit" ends it. Run it with Debian's own python3 (/usr/bin/python3) with python3-torch installed.

  W1 threads reps          seconds per training step, seed MLP (100-32-10, batch 32, Adam, CE)
  W2 threads reps          seconds per training step, large MLP (784-512-512-10, batch 128)
  W3 threads reps          two numbers per rep: forward+record and backward seconds per op
  W4 threads reps n dtype  seconds per n x n matmul (torch.mm)
  W5 threads reps          seconds per full gradcheck of a float64 2-layer MLP
  W6 threads 1             peak resident set size in bytes after 1,000 W1 steps (own process)
"""
import resource
import sys
import time

import torch

torch.manual_seed(0)


def mlp_step_fn(sizes, batch):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.randn(batch, sizes[0])
    y = torch.randint(0, sizes[-1], (batch,))

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def time_steps(step, reps, warmup=20):
    for _ in range(warmup):
        step()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        out.append(time.perf_counter() - t0)
    return out


def w3(reps, chain=10000):
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    c = torch.tensor(1e-4, dtype=torch.float64)
    out = []
    for rep in range(-2, reps):
        t0 = time.perf_counter()
        y = x
        for i in range(chain):
            y = y * c if i & 1 else y + c
        t1 = time.perf_counter()
        y.backward()
        t2 = time.perf_counter()
        x.grad = None
        if rep >= 0:
            out.append(f"{(t1 - t0) / chain:.6e},{(t2 - t1) / chain:.6e}")
    return out


def w4(reps, n, dtype):
    dt = torch.float32 if dtype == "f32" else torch.float64
    a = torch.randn(n, n, dtype=dt)
    b = torch.randn(n, n, dtype=dt)
    return time_steps(lambda: torch.mm(a, b), reps, warmup=3)


def w5(reps):
    x = torch.randn(4, 10, dtype=torch.float64, requires_grad=True)
    w1 = torch.randn(10, 16, dtype=torch.float64, requires_grad=True)
    b1 = torch.randn(16, dtype=torch.float64, requires_grad=True)
    w2 = torch.randn(16, 3, dtype=torch.float64, requires_grad=True)
    b2 = torch.randn(3, dtype=torch.float64, requires_grad=True)

    def f(x, w1, b1, w2, b2):
        return torch.tanh(x @ w1 + b1) @ w2 + b2
    return time_steps(lambda: torch.autograd.gradcheck(f, (x, w1, b1, w2, b2)), reps, warmup=2)


def w6():
    step = mlp_step_fn([100, 32, 10], 32)
    for _ in range(1000):
        step()
    return [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024]


def run(cmd):
    w, threads, reps = cmd[0], int(cmd[1]), int(cmd[2])
    torch.set_num_threads(threads)
    if w == "W1":
        return time_steps(mlp_step_fn([100, 32, 10], 32), reps)
    if w == "W2":
        return time_steps(mlp_step_fn([784, 512, 512, 10], 128), reps, warmup=5)
    if w == "W3":
        return w3(reps)
    if w == "W4":
        return w4(reps, int(cmd[3]), cmd[4])
    if w == "W5":
        return w5(reps)
    if w == "W6":
        return w6()
    raise ValueError(f"unknown workload {w}")


def main():
    print(f"READY torch {torch.__version__}", flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "quit":
            break
        try:
            vals = run(cmd)
            print(" ".join(v if isinstance(v, str) else f"{v:.6e}" for v in vals), flush=True)
        except Exception as e:  # report, keep serving
            print(f"ERR {type(e).__name__}: {e}".replace("\n", " "), flush=True)


if __name__ == "__main__":
    main()
