"""What debug mode's NaN/Inf guard costs a training step, off and on, against the step without it.

    .venv/bin/python benchmarks/debug_overhead.py [--grid o32] [--channels 64] [--steps 40]

Writes a synthetic store to a temporary folder, builds the plan's model, loss and data, and times three
training steps side by side on the same model, batches and optimiser:
- baseline: the training step as it was before debug mode (no guard checks);
- guard off: today's ``ForecastModule.training_step`` (``guard`` is None: three ``is not None`` tests);
- guard on: the same with the guard attached (a synchronising check per tensor and model component).
A step is ``training_step`` (normalise, rollout, loss), backward and the AdamW step. The variants take
turns step by step (A B C, B C A, C A B, ...), so a shared machine's slow patches fall on all alike
(timing whole Lightning fits one after another varied by +-30% on the 2 shared cores, far more than the
effect). Batches are read before timing: the guard does not touch data loading. Prints the median step
of each variant and the median of its per-step ratios to the baseline; off must stay within 5%
(docs/runtime.md "Debug mode" has the numbers of the last run).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grid", default="o32")
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--steps", type=int, default=40, help="timed steps per variant (after 2 warm-up rounds)")
    args = parser.parse_args()

    import torch

    from anemoic.datasets.synth import write_synthetic_store
    from anemoic.runtime.methods import Stream
    from anemoic.runtime.training.build import build_components
    from anemoic.runtime.training.debug import build_guard
    from anemoic.runtime.training.module import ForecastModule
    from tests.factories import make_plan

    class Baseline(ForecastModule):
        def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:  # before debug mode
            x = self.normalise(batch)
            loss = self.task.training_loss(self.bound_model(Stream.TRAIN, batch_idx), self.loss_fn, x,
                                           self.current_epoch, self.missing(batch))
            self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True, sync_dist=True,
                     batch_size=x.shape[0])
            self.log("train/rollout", float(self.task.rollout_for_epoch(self.current_epoch)), on_step=True,
                     on_epoch=False, batch_size=x.shape[0])
            return loss

    warnings.filterwarnings("ignore", message=".*self.log.*")  # no Trainer here: logging is a no-op
    warnings.filterwarnings("ignore", message=".*`srun` command is available.*")
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        store = write_synthetic_store(Path(tmp) / "bench.zarr", grid=args.grid, end="2020-01-31T18:00")
        plan = make_plan(str(store), str(Path(tmp) / "run"), **{
            "model.channels": args.channels, "model.heads": 4, "model.layers": 2})
        parts = build_components(plan)
        dataset = parts.data.dataset("train")
        batches = [dataset[i % len(dataset)].unsqueeze(0) for i in range(args.steps + 2)]
        variants = {}
        for name in ("baseline", "guard off", "guard on"):
            cls = Baseline if name == "baseline" else ForecastModule
            variants[name] = cls(plan, parts.model, parts.loss, parts.preprocessor, parts.task, parts.node_weights,
                                 total_steps=10 * args.steps, lineage={})
        guard = build_guard(plan, parts.data, lambda: None)
        variants["guard on"].guard = guard
        optimiser = torch.optim.AdamW(parts.model.parameters(), lr=1e-4)
        names = list(variants)
        times: dict[str, list[float]] = {name: [] for name in names}
        grid = parts.data.store.metadata.grid_size
        print(f"{args.grid} grid ({grid} points), {args.channels} channels, {args.steps} steps per variant, "
              f"torch threads {torch.get_num_threads()}")
        for step, batch in enumerate(batches):
            for name in names[step % 3:] + names[:step % 3]:
                module = variants[name]
                if module.guard is not None:
                    guard.attach(parts.model)
                started = time.perf_counter()
                loss = module.training_step(batch, step)
                loss.backward()
                optimiser.step()
                optimiser.zero_grad(set_to_none=True)
                elapsed = time.perf_counter() - started
                if module.guard is not None:
                    guard.detach()
                if step >= 2:
                    times[name].append(elapsed)
        base = times["baseline"]
        for name, values in times.items():
            ratio = statistics.median(v / b for v, b in zip(values, base))
            print(f"{name:10s} median step {statistics.median(values) * 1e3:8.2f} ms   "
                  f"median per-step ratio to baseline {ratio:.3f}")


if __name__ == "__main__":
    main()
