"""The gradient-health monitor: a Lightning callback that measures what shared/GRADIENT_HEALTH.md defines,
names causes through models/diagnoses.py, and reports through the trainer's logger.

Hand-written: no library measures per-feature projection columns, per-timestep gradient shares or dead
units and names the cause (wandb.watch, Lightning's grad_norm and TensorBoard histograms show norms only).

Cost: every step, one fused norm over all gradients (`torch._foreach_norm`) for the global norm and the
non-finite check. Every `every` steps (a check), forward hooks arm for one batch and capture the
projection input/output gradient, FFN pre-activations, layer inputs and aggregator weights; parameters
are snapshot for the update ratio; one `log_metrics` call sends the whole check. Between checks the hooks
return at once.
"""
import logging
import math
import re

import lightning as L
import torch

from forecast.models.config import HealthConfig
from forecast.models.diagnoses import Diagnoser, FeatureCheck, HealthCheck

log = logging.getLogger("forecast")


class NonFiniteError(RuntimeError):
    """A non-finite loss or gradient stopped training; the message names the first parameter concerned."""


def group_of(name: str) -> str:
    """Parameter name -> readable group: temporal_projection, encoder.layer3, encoder.norm, aggregator, head."""
    parts = name.removeprefix("model.").split(".")
    if parts[0] == "encoder":
        return f"encoder.layer{parts[2]}" if parts[1] == "layers" else "encoder.norm"
    return parts[0]


def metric_name(text: str) -> str:
    return re.sub(r"[^\w\-. /]", "_", text)


def _entropy(p: torch.Tensor) -> torch.Tensor:
    """Normalised entropy H(p) / log(n) over the last axis, averaged over the rest (1 = uniform, 0 = one-hot)."""
    n = p.shape[-1]
    return (-(p * torch.log(p.clamp_min(1e-12))).sum(-1) / math.log(n)).mean() if n > 1 else torch.tensor(1.0)


class GradientHealthMonitor(L.Callback):
    def __init__(self, feature_names: list[str], config: HealthConfig = HealthConfig()):
        self.features = [metric_name(f) for f in feature_names]
        self.raw_features = list(feature_names)
        self.every, self.config = config.health_every, config
        self.diagnoser = Diagnoser(config.health_persistence)
        self.checks: list[HealthCheck] = []          # one summary per check (what the diagnoses read)
        self.flow: list[tuple[int, dict]] = []  # (step, {group: grad norm}) for the heatmap
        self.profiles: list[tuple[int, list[float]]] = []  # (step, per-timestep gradient share)
        self.time_weights: list[float] = []   # the aggregator's latest mean weights over time
        self.order_sensitivity: float | None = None
        self._armed, self._cap, self._pending, self._hooks = False, {}, None, []
        self._init_norms: dict[str, list[float]] = {}
        self._since = {"max": 0.0, "sum": 0.0, "n": 0}

    # ---- wiring ------------------------------------------------------------------------------------
    def setup(self, trainer, module, stage):
        model = self.model = module.model
        self.params = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        groups = [group_of(n) for n, _ in self.params]
        self.groups = {g: torch.tensor([i for i, x in enumerate(groups) if x == g]) for g in dict.fromkeys(groups)}
        act = model.config.activation
        hooks = [model.temporal_projection.register_forward_hook(self._on_projection),
                 model.aggregator.register_forward_hook(self._on_aggregator),
                 model.register_forward_hook(self._on_output)]
        if hasattr(model.aggregator, "gate"):   # the weighted aggregator's gate: sigmoid of this Linear's output
            hooks.append(model.aggregator.gate.register_forward_hook(self._on_gate))
        for i, layer in enumerate(model.encoder.layers):
            hooks.append(layer.linear1.register_forward_hook(self._ffn_hook(i, 0.0 if act == "relu" else -3.0)))
            hooks.append(layer.register_forward_pre_hook(self._layer_input_hook(i)))
        self._hooks = hooks

    def teardown(self, trainer, module, stage):
        for h in self._hooks:
            h.remove()
        self._hooks = []

    def _on_projection(self, module, inputs, output):
        if self._armed and output.requires_grad:
            self._cap["x"] = inputs[0].detach()
            output.register_hook(lambda g: self._cap.__setitem__("dLdh", g.detach()))

    def _ffn_hook(self, i, threshold):
        def hook(module, inputs, output):  # dead unit: pre-activation below threshold for every token
            if self._armed:
                self._cap[f"ffn{i}"] = (output.detach() <= threshold).flatten(0, -2).all(0).float().mean()
        return hook

    def _layer_input_hook(self, i):
        def hook(module, args):
            if self._armed:
                self._cap[f"src{i}"] = args[0][: self.config.attention_samples].detach()
        return hook

    @torch.no_grad()
    def _on_aggregator(self, module, inputs, output):
        if self._armed:
            w = module.time_weights(inputs[0])                       # (B, T)
            self._cap["agg_w"], self._cap["agg_entropy"] = w.mean(0), _entropy(w)

    @torch.no_grad()
    def _on_gate(self, module, inputs, output):
        if self._armed:
            self._cap["gate_mean"] = torch.sigmoid(output).mean()

    def _on_output(self, module, inputs, output):
        if self._armed:
            self._cap["pred"] = output.detach()

    # ---- the training loop -------------------------------------------------------------------------
    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if self.order_sensitivity is None and self.every > 0:
            self._order_check(module, batch, trainer)
        self._armed = self.every > 0 and trainer.global_step % self.every == 0
        if self._armed:
            self._cap = {"y": batch[1]}

    @torch.no_grad()
    def _order_check(self, module, batch, trainer):
        x = batch[0][:32]
        T = x.shape[1]
        perm = torch.roll(torch.arange(T), 1) if T > 1 else torch.arange(T)
        was_training = module.training
        module.eval()
        x = self.model.normalise(x, batch[2][:32])[0]  # the encoder path alone: the head's direct read of the target sees order anyway
        self.order_sensitivity = float((self.model.summary(x) - self.model.summary(x[:, perm])).abs().max())
        module.train(was_training)
        if self.order_sensitivity < 1e-5:
            d = self.diagnoser.add("order_blind", "warning", "model", "the encoder's summary does not change when "
                                   "the time order of the input is shuffled: the model cannot tell recent from old steps. "
                                   "Keep --positional-encoding on, or use a learnable aggregator.", trainer.global_step)
            if trainer.is_global_zero:  # every rank measures the same thing; one of them speaks
                log.warning(d.message)

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
        self._since = {"max": max(self._since["max"], total), "sum": self._since["sum"] + total, "n": self._since["n"] + 1}
        if self._armed and len(named) == len(self.params):
            self._pending = self._measure(step, [g for _, g in named], norms, total)
            self._before = [p.detach().clone() for _, p in self.params]

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if loss is not None and not torch.isfinite(loss).all():
            raise NonFiniteError(f"non-finite loss at step {trainer.global_step}")
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
        if trainer.logger is not None:
            trainer.logger.log_metrics(metrics, step=summary.step)
        self.checks.append(summary)
        for d in self.diagnoser.update(summary):
            if trainer.is_global_zero:
                log.warning(d.message)
        self._pending, self._before, self._cap, self._armed = None, None, {}, False

    # ---- one check ---------------------------------------------------------------------------------
    @torch.no_grad()
    def _measure(self, step, grads, norms, total) -> tuple[dict, HealthCheck]:
        """One check: the metrics logged (names as in shared/GRADIENT_HEALTH.md) and the check the rules read."""
        m = {"grad/global_norm": total, "grad/global_norm_max": self._since["max"],
             "grad/global_norm_mean": self._since["sum"] / max(1, self._since["n"])}
        self._since = {"max": 0.0, "sum": 0.0, "n": 0}
        self._gradient_flow(m, step, grads, norms)
        features, dead_rows = self._projection(m)
        dLdh_zero = self._time_profile(m, step)
        ffn = [float(self._cap.get(f"ffn{i}", 0.0)) for i in range(len(self.model.encoder.layers))]
        attn = self._attention_entropy()
        for i, (dead, ent) in enumerate(zip(ffn, attn)):
            m[f"ffn/layer{i}/dead_frac"], m[f"attn/layer{i}/entropy"] = dead, ent
        agg_entropy, gate_mean, ratio = self._aggregator_and_loss(m)
        x = self._cap.get("x")
        check = HealthCheck(step, features, dLdh_zero, bool(torch.isfinite(x).all()) if x is not None else True, ffn,
                            attn, dead_rows, m["health/projection_zero_frac"],
                            m["grad/temporal_projection/rel_init"], ratio, agg_entropy, gate_mean, {},
                            m.get("time/last_quarter_share"))
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

    def _projection(self, m: dict) -> tuple[list[FeatureCheck], float]:
        """temporal_projection's weight gradient per input feature (dead columns and rows, exact zeros); the
        per-feature checks and the share of output units (rows) with no gradient."""
        W = self.model.temporal_projection.linear.weight.grad             # (d_model, F)
        col_zero, row_zero = (W == 0).all(0), (W == 0).all(1)
        x = self._cap.get("x")                                            # (B, T, F) projection input
        input_zero = (x == 0).flatten(0, 1).all(0) if x is not None else torch.zeros_like(col_zero)
        col_norm = W.norm(dim=0)
        for j, name in enumerate(self.features):
            m[f"input/{name}/grad_col_norm"] = float(col_norm[j])
            if x is not None:
                m[f"input/{name}/abs_mean"] = float(x[..., j].abs().mean())
                m[f"input/{name}/zero_share"] = float((x[..., j] == 0).float().mean())
        m["health/projection_zero_frac"] = float((W == 0).float().mean())
        m["health/projection_dead_cols"] = float(col_zero.sum())
        m["health/projection_dead_rows"] = float(row_zero.sum())
        features = [FeatureCheck(n, bool(c), bool(z))
                    for n, c, z in zip(self.raw_features, col_zero.tolist(), input_zero.tolist())]
        return features, float(row_zero.float().mean())

    def _time_profile(self, m: dict, step: int) -> float:
        """The gradient's share per input timestep at the projection output; returns its exact-zero share."""
        if "dLdh" not in self._cap:
            return 0.0
        g = self._cap["dLdh"]                                             # (B, T, d_model)
        per_t = g.norm(dim=2).mean(0)                                     # (T,)
        share = per_t / per_t.sum().clamp_min(1e-30)
        quarter = max(1, math.ceil(len(share) / 4))
        m["time/last_quarter_share"] = float(share[-quarter:].sum())
        m["time/entropy"] = float(_entropy(share))
        self.profiles.append((step, share.tolist()))
        m["health/dLdh_zero_frac"] = float((g == 0).float().mean())
        return m["health/dLdh_zero_frac"]

    def _aggregator_and_loss(self, m: dict) -> tuple[float | None, float | None, float]:
        """The aggregator's time-weight entropy and gate (where it has them); the loss against the mean's."""
        cap, agg_entropy, gate_mean, ratio = self._cap, None, None, float("nan")
        if "agg_w" in cap:
            self.time_weights = cap["agg_w"].tolist()
            agg_entropy = m["agg/entropy"] = float(cap["agg_entropy"])
        if "gate_mean" in cap:
            gate_mean = m["agg/gate_mean"] = float(cap["gate_mean"])
        if "pred" in cap:
            y, median = cap["y"], cap["pred"][..., self.model.config.median_index]
            ratio = float(((median - y) ** 2).mean() / y.var().clamp_min(1e-12))
            m["health/loss_baseline_ratio"] = ratio
        return agg_entropy, gate_mean, ratio

    def _attention_entropy(self) -> list[float]:
        out = []
        for i, layer in enumerate(self.model.encoder.layers):
            src = self._cap.get(f"src{i}")
            if src is None:
                out.append(float("nan"))
                continue
            q = layer.norm1(src) if layer.norm_first else src
            was_training = layer.self_attn.training
            layer.self_attn.eval()  # no attention dropout: it would draw random numbers and change training
            _, w = layer.self_attn(q, q, q, need_weights=True, average_attn_weights=True)   # (n, T, T)
            layer.self_attn.train(was_training)
            out.append(float(_entropy(w)))
        return out

    # ---- the result --------------------------------------------------------------------------------
    def report(self, final_step: int) -> dict:
        for d in self.diagnoser.finish(final_step):
            log.warning(d.message)
        zero = [c.proj_zero_frac for c in self.checks]
        recent = [c.last_quarter_share for c in self.checks if c.last_quarter_share is not None]
        return {"status": self.diagnoser.status, "diagnoses": [d.to_dict() for d in self.diagnoser.diagnoses],
                "checks": len(self.checks), "every": self.every,
                "projection_zero_frac": {"final": zero[-1] if zero else None, "max": max(zero) if zero else None},
                "last_quarter_share": {"first": recent[0] if recent else None, "final": recent[-1] if recent else None},
                "order_sensitivity": self.order_sensitivity,
                "features": self.raw_features}
