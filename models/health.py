"""The gradient-health monitor: a Lightning callback for any LightningModule that measures what
docs/gradient_health.md defines, names causes through models/diagnoses.py, and reports through the trainer's
logger. Our forecaster's own parts (projection, time profile, attention, aggregator) are measured by its
subclass in models/forecaster_health.py.

Hand-written: no library measures gradients per input column or dead units and names the cause (wandb.watch,
Lightning's grad_norm and TensorBoard histograms show norms only; Lightning's GradientStatsMonitor proposal,
#21589, is still open).

For any model it measures, at each check:
- per parameter group (`group_of`): gradient norm, exact-zero and tiny shares, size against the first checks,
  and the update ratio across the step;
- per input column, where `inputs(batch)` says which tensor holds the named columns (last axis): the gradient
  that reaches the column through the layers that first consume it, as sum |x * dL/dx| over the batch. For a
  first Linear layer W this is |<W[:, j], dL/dW[:, j]>|: zero exactly when the column's weights get no
  gradient. A column that is zero in the whole batch is a dead input; a non-zero column whose gradient is
  exactly zero is an underflow;
- per activation module (ReLU, GELU, ...): the share of units never active over the batch;
- non-finite loss, gradient or input values, every step (one fused norm, `torch._foreach_norm`).

Between checks the hooks return at once; every step costs one fused norm.

What a check logs (`split`): MLflow charts the whole gradient, the input layer's group (the first) in full, the
gradient reaching each input column, and per kind of per-layer measure its worst layer (`grad/update_ratio_max`,
`grad/rel_init_min`, `units/dead_frac_max`, ...); every value of every check, per layer and column, goes to the
detail table (`detail`, logged as `health/checks.csv`). MLflow has no histogram type and one chart per layer and
measure made 140 charts that buried the test score; the gradient-flow heatmap shows the per-layer norms.
"""
import logging
import math
import re
from typing import Callable

import lightning as L
import torch
from torch import nn

from forecast.models.config import HealthConfig
from forecast.models.diagnoses import Diagnoser, FeatureCheck, HealthCheck

log = logging.getLogger("forecast")
# activation modules and the pre-activation at or below which a unit counts as inactive
ACTIVATIONS = {nn.ReLU: 0.0, nn.ReLU6: 0.0, nn.LeakyReLU: 0.0, nn.PReLU: 0.0, nn.ELU: -3.0, nn.GELU: -3.0,
               nn.SiLU: -3.0, nn.Mish: -3.0}


class NonFiniteError(RuntimeError):
    """A non-finite loss or gradient stopped training; the message names the first parameter concerned."""


def metric_name(text: str) -> str:
    return re.sub(r"[^\w\-. /]", "_", text)


def first_tensor(batch) -> torch.Tensor | None:
    """The default input: the batch's first item (`(x, y, ...)`), or None where it is not a tensor."""
    first = batch[0] if isinstance(batch, (tuple, list)) and batch else None
    return first if isinstance(first, torch.Tensor) else None


class GradientHealthMonitor(L.Callback):
    """`feature_names` name the last axis of the tensor `inputs(batch)` returns (default: the batch's first item)."""

    def __init__(self, feature_names: list[str], config: HealthConfig = HealthConfig(),
                 inputs: Callable[[object], torch.Tensor | None] = first_tensor):
        self.features = [metric_name(f) for f in feature_names]
        self.raw_features = list(feature_names)
        self.inputs = inputs
        self.every, self.config = config.health_every, config
        self.diagnoser = Diagnoser(config.health_persistence)
        self.checks: list[HealthCheck] = []          # one summary per check (what the diagnoses read)
        self.detail: list[dict] = []                 # every metric of every check, with its step
        self.flow: list[tuple[int, dict]] = []       # (step, {group: grad norm}) for the heatmap
        self._armed, self._cap, self._pending, self._hooks = False, {}, None, []
        self._init_norms: dict[str, list[float]] = {}
        self._since = {"max": 0.0, "sum": 0.0, "n": 0}

    # ---- wiring ------------------------------------------------------------------------------------
    @staticmethod
    def group_of(name: str) -> str:
        """Parameter name -> group: the path of its module down to the first numbered child (`model.blocks.0`,
        `net.1`), else its first two parts (`model.head`)."""
        path = name.split(".")[:-1] or name.split(".")
        numbered = next((i for i, part in enumerate(path) if part.isdigit()), None)
        return ".".join(path[:numbered + 1] if numbered is not None else path[:2])

    def setup(self, trainer, module, stage):
        self.params = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        groups = [self.group_of(n) for n, _ in self.params]
        self.groups = {g: torch.tensor([i for i, x in enumerate(groups) if x == g]) for g in dict.fromkeys(groups)}
        self._hooks = [m.register_forward_hook(self._activation_hook(name, ACTIVATIONS[type(m)]))
                       for name, m in module.named_modules() if type(m) in ACTIVATIONS]
        self._hooks += self.model_hooks(module)

    def model_hooks(self, module) -> list:
        """Hooks on parts of a known architecture (models/forecaster_health.py); none for any model."""
        return []

    def teardown(self, trainer, module, stage):
        for h in self._hooks:
            h.remove()
        self._hooks = []

    def _activation_hook(self, name: str, threshold: float):
        def hook(module, inputs, output):   # a unit is dead when its pre-activation is low for every token
            if self._armed and inputs and isinstance(inputs[0], torch.Tensor) and inputs[0].ndim >= 2:
                dead = (inputs[0].detach() <= threshold).flatten(0, -2).all(0).float().mean()
                self._cap.setdefault("units", {})[name] = dead
        return hook

    # ---- the training loop -------------------------------------------------------------------------
    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        self._armed = self.every > 0 and trainer.global_step % self.every == 0
        if self._armed:
            self._cap = {}
            self._watch_inputs(batch)

    def _watch_inputs(self, batch) -> None:
        """Ask autograd for the gradient reaching the input columns (a leaf of the batch: no values change)."""
        x = self.inputs(batch) if self.inputs else None
        if x is not None and x.is_leaf and x.is_floating_point() and x.shape[-1] == len(self.features):
            x.requires_grad_(True)
            self._cap["input"] = x

    def on_before_optimizer_step(self, trainer, module, optimizer):
        step = trainer.global_step
        named = [(n, p.grad) for n, p in self.params if p.grad is not None]
        if not named:
            return
        norms = torch.stack(torch._foreach_norm([g for _, g in named]))
        total = float(torch.linalg.vector_norm(norms))
        if not math.isfinite(total):
            bad = next(n for (n, _), v in zip(named, norms.tolist()) if not math.isfinite(v))
            raise NonFiniteError(f"non-finite gradient in {bad} at step {step}")
        since = self._since
        self._since = {"max": max(since["max"], total), "sum": since["sum"] + total, "n": since["n"] + 1}
        if self._armed and len(named) == len(self.params):
            self._pending = self._measure(step, [g for _, g in named], norms, total)
            self._before = [p.detach().clone() for _, p in self.params]

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if loss is not None and not torch.isfinite(loss).all():
            raise NonFiniteError(f"non-finite loss at step {trainer.global_step}")
        self._release_inputs()
        if self._pending is None:
            self._armed = False
            return
        metrics, summary = self._pending
        with torch.no_grad():
            after = [p.detach() for _, p in self.params]
            delta = torch.stack(torch._foreach_norm(torch._foreach_sub(after, self._before)))
            size = torch.stack(torch._foreach_norm(self._before))
        for g, idx in self.groups.items():
            ratio = float(delta[idx].square().sum().sqrt() / size[idx].square().sum().sqrt().clamp_min(1e-12))
            metrics[f"grad/{g}/update_ratio"] = ratio
            summary.update_ratio[g] = ratio
        self.detail.append({"step": summary.step, **metrics})
        if trainer.logger is not None:
            trainer.logger.log_metrics(self.split(metrics), step=summary.step)
        self.checks.append(summary)
        for d in self.diagnoser.update(summary):
            if trainer.is_global_zero:
                log.warning(d.message)
        self._pending, self._before, self._cap, self._armed = None, None, {}, False

    LAYERED = ("grad", "units", "ffn", "attn")    # `<kind>/<layer>/<measure>` metrics: charted as their worst layer
    LOWEST = ("rel_init", "entropy")             # measures whose worst is the lowest (else the highest)

    def split(self, metrics: dict) -> dict:
        """The metrics of one check that MLflow charts (module docstring): per-layer measures as their worst layer,
        except the first group's (the input layer); the rest as they are."""
        first = f"grad/{next(iter(self.groups), '')}/"      # the input layer's group, charted in full
        charted, worst = {}, {}
        for key, value in metrics.items():
            parts = key.split("/")
            if len(parts) == 3 and parts[0] in self.LAYERED and not key.startswith(first):
                if parts[2] != "norm":                       # the per-layer norms: the heatmap and the table
                    worst.setdefault(f"{parts[0]}/{parts[2]}", []).append(value)
            elif not key.endswith(("/zero_share", "/abs_mean")):   # the input columns' values: the table
                charted[key] = value
        for key, values in worst.items():
            lowest = key.split("/")[1] in self.LOWEST
            charted[f"{key}_{'min' if lowest else 'max'}"] = min(values) if lowest else max(values)
        return charted

    def _release_inputs(self) -> None:
        x = self._cap.get("input")
        if x is not None:
            x.requires_grad_(False)
            x.grad = None

    # ---- one check ---------------------------------------------------------------------------------
    @torch.no_grad()
    def _measure(self, step, grads, norms, total) -> tuple[dict, HealthCheck]:
        """One check: the metrics logged (names as in docs/gradient_health.md) and the check the rules read."""
        m = {"grad/global_norm": total, "grad/global_norm_max": self._since["max"],
             "grad/global_norm_mean": self._since["sum"] / max(1, self._since["n"])}
        self._since = {"max": 0.0, "sum": 0.0, "n": 0}
        self._gradient_flow(m, step, grads, norms)
        units = {name: float(share) for name, share in self._cap.get("units", {}).items()}
        for name, share in units.items():
            m[f"units/{metric_name(name)}/dead_frac"] = share
        x = self._cap.get("input")
        check = HealthCheck(step, self._feature_checks(m), dead_units=units,
                            inputs_finite=bool(torch.isfinite(x).all()) if x is not None else True)
        return m, check

    def _gradient_flow(self, m: dict, step: int, grads, norms) -> None:
        """Per parameter group: gradient norm, exact-zero and tiny shares, size relative to the first checks."""
        zeros = torch.stack([(g == 0).sum() for g in grads]).double()
        sizes = torch.tensor([g.numel() for g in grads], dtype=torch.float64)
        flow = {}
        for g, idx in self.groups.items():
            norm = norms[idx].square().sum().sqrt()
            rms = norm / sizes[idx].sum().sqrt()
            tiny = sum(int((grads[i].abs() <= 1e-3 * rms).sum()) for i in idx.tolist())
            flow[g] = float(norm)
            inits = self._init_norms.setdefault(g, [])
            if len(inits) < 3:
                inits.append(flow[g])
            m[f"grad/{g}/norm"] = flow[g]
            m[f"grad/{g}/zero_frac"] = float(zeros[idx].sum() / sizes[idx].sum())
            m[f"grad/{g}/tiny_frac"] = tiny / float(sizes[idx].sum())
            m[f"grad/{g}/rel_init"] = flow[g] / max(sorted(inits)[len(inits) // 2], 1e-30)
        self.flow.append((step, flow))

    def _feature_checks(self, m: dict) -> list[FeatureCheck]:
        """Per input column: the gradient reaching it through its first consumers (sum |x * dL/dx|) and whether
        it is zero in the whole batch."""
        x = self._cap.get("input")
        if x is None or x.grad is None:
            return []
        values, grads = x.detach().flatten(0, -2), x.grad.flatten(0, -2)        # (rows, F)
        reached = (values * grads).abs().sum(0)
        input_zero = (values == 0).all(0)
        for j, name in enumerate(self.features):
            m[f"input/{name}/grad_reached"] = float(reached[j])
            m[f"input/{name}/zero_share"] = float((values[:, j] == 0).float().mean())
        return [FeatureCheck(n, bool(r == 0), bool(z))
                for n, r, z in zip(self.raw_features, reached.tolist(), input_zero.tolist())]

    # ---- the result --------------------------------------------------------------------------------
    def report(self, final_step: int) -> dict:
        for d in self.diagnoser.finish(final_step):
            log.warning(d.message)
        return {"status": self.diagnoser.status, "diagnoses": [d.to_dict() for d in self.diagnoser.diagnoses],
                "checks": len(self.checks), "every": self.every, "features": self.raw_features}
