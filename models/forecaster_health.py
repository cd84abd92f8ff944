"""The gradient-health monitor on our forecaster (models/forecaster.py): the generic checks of models/health.py,
with the input columns read where they enter the model, in temporal_projection's weight gradient, and the
parts only this architecture has: the gradient's share per input timestep, dead feed-forward units and the
attention entropy per encoder layer, the aggregator's weights and gate, the loss against predicting the mean,
and a one-off check that the summary depends on the time order.

Cost on top of the generic monitor: at each check, forward hooks capture the projection's input and output
gradient, FFN pre-activations, layer inputs and aggregator weights for one batch.
"""
import logging
import math

import torch

from forecast.models.config import HealthConfig
from forecast.models.diagnoses import FeatureCheck, HealthCheck
from forecast.models.health import GradientHealthMonitor

log = logging.getLogger("forecast")


def _entropy(p: torch.Tensor) -> torch.Tensor:
    """Normalised entropy H(p) / log(n) over the last axis, averaged over the rest (1 = uniform, 0 = one-hot)."""
    n = p.shape[-1]
    return (-(p * torch.log(p.clamp_min(1e-12))).sum(-1) / math.log(n)).mean() if n > 1 else torch.tensor(1.0)


class ForecasterHealthMonitor(GradientHealthMonitor):
    def __init__(self, feature_names: list[str], config: HealthConfig = HealthConfig()):
        super().__init__(feature_names, config, inputs=None)   # the columns are read at the projection instead
        self.profiles: list[tuple[int, list[float]]] = []  # (step, per-timestep gradient share)
        self.time_weights: list[float] = []   # the aggregator's latest mean weights over time
        self.order_sensitivity: float | None = None

    @staticmethod
    def group_of(name: str) -> str:
        """Parameter name -> readable group: temporal_projection, encoder.layer3, encoder.norm, aggregator, head."""
        parts = name.removeprefix("model.").split(".")
        if parts[0] == "encoder":
            return f"encoder.layer{parts[2]}" if parts[1] == "layers" else "encoder.norm"
        return parts[0]

    # ---- wiring ------------------------------------------------------------------------------------
    def model_hooks(self, module) -> list:
        model = self.model = module.model
        act = model.config.activation
        hooks = [model.temporal_projection.register_forward_hook(self._on_projection),
                 model.aggregator.register_forward_hook(self._on_aggregator),
                 model.register_forward_hook(self._on_output)]
        if hasattr(model.aggregator, "gate"):   # the weighted aggregator's gate: sigmoid of this Linear's output
            hooks.append(model.aggregator.gate.register_forward_hook(self._on_gate))
        for i, layer in enumerate(model.encoder.layers):
            hooks.append(layer.linear1.register_forward_hook(self._ffn_hook(i, 0.0 if act == "relu" else -3.0)))
            hooks.append(layer.register_forward_pre_hook(self._layer_input_hook(i)))
        return hooks

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
        super().on_train_batch_start(trainer, module, batch, batch_idx)
        if self._armed:
            self._cap["y"] = batch[1]

    @torch.no_grad()
    def _order_check(self, module, batch, trainer):
        x = batch[0][:32]
        T = x.shape[1]
        perm = torch.roll(torch.arange(T), 1) if T > 1 else torch.arange(T)
        was_training = module.training
        module.eval()
        # the encoder path alone: the head's direct read of the target sees order anyway
        x = self.model.normalise(x, batch[2][:32])[0]
        self.order_sensitivity = float((self.model.summary(x) - self.model.summary(x[:, perm])).abs().max())
        module.train(was_training)
        if self.order_sensitivity < 1e-5:
            d = self.diagnoser.add("order_blind", "warning", "model", "the encoder's summary does not change when "
                                   "the time order of the input is shuffled: the model cannot tell recent from old "
                                   "steps. "
                                   "Keep --positional-encoding on, or use a learnable aggregator.", trainer.global_step)
            if trainer.is_global_zero:  # every rank measures the same thing; one of them speaks
                log.warning(d.message)

    # ---- one check ---------------------------------------------------------------------------------
    @torch.no_grad()
    def _measure(self, step, grads, norms, total) -> tuple[dict, HealthCheck]:
        m, check = super()._measure(step, grads, norms, total)
        check.dLdh_zero_frac = self._time_profile(m, step)
        check.ffn_dead = [float(self._cap.get(f"ffn{i}", 0.0)) for i in range(len(self.model.encoder.layers))]
        check.attn_entropy = self._attention_entropy()
        for i, (dead, ent) in enumerate(zip(check.ffn_dead, check.attn_entropy)):
            m[f"ffn/layer{i}/dead_frac"], m[f"attn/layer{i}/entropy"] = dead, ent
        check.agg_entropy, check.gate_mean, check.loss_baseline_ratio = self._aggregator_and_loss(m)
        x = self._cap.get("x")
        check.inputs_finite = bool(torch.isfinite(x).all()) if x is not None else True
        check.proj_zero_frac = m["health/projection_zero_frac"]
        check.proj_dead_rows = m["health/projection_dead_rows"] / self.model.temporal_projection.linear.out_features
        check.proj_rel_init = m["grad/temporal_projection/rel_init"]
        check.last_quarter_share = m.get("time/last_quarter_share")
        return m, check

    def _feature_checks(self, m: dict) -> list[FeatureCheck]:
        """temporal_projection's weight gradient per input feature (dead columns and rows, exact zeros): the
        per-feature checks."""
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
        return [FeatureCheck(n, bool(c), bool(z))
                for n, c, z in zip(self.raw_features, col_zero.tolist(), input_zero.tolist())]

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
        zero = [c.proj_zero_frac for c in self.checks]
        recent = [c.last_quarter_share for c in self.checks if c.last_quarter_share is not None]
        return super().report(final_step) | {
            "projection_zero_frac": {"final": zero[-1] if zero else None, "max": max(zero) if zero else None},
            "last_quarter_share": {"first": recent[0] if recent else None, "final": recent[-1] if recent else None},
            "order_sensitivity": self.order_sensitivity}
