"""Windows per second: brr_lab's Trainer against a plain hand-written loop, same model.

Both train ``EEGWindowCNN`` (19 channels, 128 samples: 2 s at 64 Hz) with the same
focal loss, Adam and batch size, on windows already on the device; the loop uses
the same mixed-precision setting as the trainer (bfloat16 autocast on CUDA, none on
CPU), so the ratio is the trainer's own overhead: its diagnostics (gradient share,
running AUROC), batching and bookkeeping. No validation set is passed.

Run: ``.venv/bin/python benchmarks/bench_trainer.py [--windows N] [--epochs E] [--repeats R]``.
CPU always (at 1 thread and at torch's default), CUDA when present. Medians over repeats.
On a shared machine, figures are noisy: compare the two columns of one run.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from brr_lab.losses import BinaryFocalLoss
from brr_lab.training.models import EEGWindowCNN
from brr_lab.training.trainer import Trainer, seed_everything


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def plain_loop(x, y, device, epochs, batch_size, amp_dtype) -> float:
    """The loop anyone would write; returns seconds."""
    seed_everything(0)
    model = EEGWindowCNN(n_channels=x.shape[1]).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = BinaryFocalLoss(alpha=0.25, gamma=2.0)
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(epochs):
        for idx in torch.randperm(len(y), device=device).split(batch_size):
            with torch.autocast(device.type, dtype=amp_dtype or torch.float32,
                                enabled=amp_dtype is not None):
                loss = loss_fn(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    _sync(device)
    return time.perf_counter() - t0


def trainer_run(x, y, device, epochs, batch_size) -> float:
    seed_everything(0)
    trainer = Trainer(EEGWindowCNN(n_channels=x.shape[1]), BinaryFocalLoss(alpha=0.25, gamma=2.0),
                      epochs=epochs, batch_size=batch_size, device=str(device), progress=False,
                      verbose=False)
    _sync(device)
    t0 = time.perf_counter()
    trainer.fit((x, y))
    _sync(device)
    return time.perf_counter() - t0


def bench(device: torch.device, n: int, epochs: int, repeats: int, batch_size: int) -> tuple[float, float]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 19, 128, generator=g)
    y = (torch.rand(n, generator=g) < 1 / 13).float()
    amp_dtype = None
    if device.type == "cuda":
        amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    xd, yd = x.to(device), y.to(device)
    plain_loop(xd, yd, device, 1, batch_size, amp_dtype)  # warm-up (kernels, allocator)
    trainer_run(xd, yd, device, 1, batch_size)
    loop_s, trainer_s = [], []
    for _ in range(repeats):  # interleaved, so drifting load hits both alike
        loop_s.append(plain_loop(xd, yd, device, epochs, batch_size, amp_dtype))
        # The trainer gets CPU tensors on CUDA on purpose: keeping them on the GPU is its job.
        trainer_s.append(trainer_run(x if device.type == "cuda" else xd, y if device.type == "cuda" else yd,
                                     device, epochs, batch_size))
    windows = n * epochs
    return windows / statistics.median(loop_s), windows / statistics.median(trainer_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=1192, help="windows per epoch (data_sample/ has 1192)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    print(f"torch {torch.__version__}; {args.windows} windows x {args.epochs} epochs, batch "
          f"{args.batch_size}, median of {args.repeats}")
    print(f"{'device':10s} {'threads':>7s} {'loop win/s':>11s} {'trainer win/s':>14s} {'trainer/loop':>13s}")
    default_threads = torch.get_num_threads()
    settings = [("cpu", 1)] + ([("cpu", default_threads)] if default_threads != 1 else [])
    if torch.cuda.is_available():
        settings.append(("cuda", default_threads))
    for name, threads in settings:
        torch.set_num_threads(threads)
        loop, trainer = bench(torch.device(name), args.windows, args.epochs, args.repeats, args.batch_size)
        label = torch.cuda.get_device_name() if name == "cuda" else "cpu"
        print(f"{name:10s} {threads:7d} {loop:11.0f} {trainer:14.0f} {trainer / loop:12.0%}  ({label})")
    torch.set_num_threads(default_threads)


if __name__ == "__main__":
    main()
