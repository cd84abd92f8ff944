"""Diagnoses: turn gradient-health checks into named causes and fixes (docs/gradient_health.md).

A condition must hold for `persistence` consecutive checks before it is diagnosed (sparse features are
legitimately zero in some batches), or, in a run with fewer checks than that, at every one of its checks
(diagnosed when the run ends). Each diagnosis is raised once per (code, subject).
"""
from dataclasses import asdict, dataclass, field

SEVERITY = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class Diagnosis:
    code: str       # dead_input | sparse_input | underflow | dead_units | collapse | update_ratio | order_blind |
                    # degenerate_attention | degenerate_aggregator | nonfinite
    severity: str   # info | warning | critical
    subject: str    # the feature, layer, group or parameter concerned
    message: str    # what is wrong, why it matters and the fix
    step: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class FeatureCheck:
    name: str
    col_zero: bool      # no gradient reaches it: its column of the first layer's weight gradient is exactly zero
    input_zero: bool    # the feature itself is zero over the whole batch


@dataclass
class HealthCheck:
    """One gradient-health check (models/health.py measures it; the rules below read it). The defaults are a
    healthy check, so a test states only what it is about. Any model fills the first block; our forecaster's
    monitor (models/forecaster_health.py) the rest."""
    step: int
    features: list[FeatureCheck] = field(default_factory=list)
    dLdh_zero_frac: float = 0.0         # exact zeros in the gradient reaching the projection output
    inputs_finite: bool = True
    dead_units: dict[str, float] = field(default_factory=dict)  # per activation module: never-active share
    update_ratio: dict[str, float] = field(default_factory=dict)  # per parameter group: |update| / |weights|
    # our forecaster's parts
    ffn_dead: list[float] = field(default_factory=list)       # per encoder layer: never-active share of units
    attn_entropy: list[float] = field(default_factory=list)   # per encoder layer
    proj_dead_rows: float = 0.0         # share of projection output units with no gradient
    proj_zero_frac: float = 0.0         # exact zeros in the projection's weight gradient
    proj_rel_init: float = 1.0          # projection gradient norm over its initial size
    loss_baseline_ratio: float = 0.5    # loss over that of predicting the mean
    agg_entropy: float | None = None    # the aggregator's weights over time (learnable ones only)
    gate_mean: float | None = None      # the weighted aggregator's gate
    last_quarter_share: float | None = None  # gradient share of the window's last quarter of timesteps


class Diagnoser:
    def __init__(self, persistence: int = 3):
        self.persistence = persistence
        self.found: dict[tuple[str, str], Diagnosis] = {}
        self._streak: dict[tuple[str, str], int] = {}
        self._zero_seen: dict[str, int] = {}
        self._checks = 0
        self._held: dict[tuple[str, str], tuple[str, str]] = {}   # the latest (severity, message) of each condition

    @property
    def diagnoses(self) -> list[Diagnosis]:
        return sorted(self.found.values(), key=lambda d: (-SEVERITY[d.severity], d.step))

    @property
    def status(self) -> str:
        worst = max((SEVERITY[d.severity] for d in self.found.values() if d.severity != "info"), default=0)
        return {0: "healthy", 1: "warning", 2: "critical"}[worst]

    def add(self, code, severity, subject, message, step) -> Diagnosis | None:
        """Record a diagnosis unless (code, subject) is already known; return it when new."""
        key = (code, subject)
        if key in self.found:
            return None
        self.found[key] = Diagnosis(code, severity, subject, message, step)
        return self.found[key]

    def _persists(self, code: str, subject: str, condition: bool) -> bool:
        key = (code, subject)
        self._streak[key] = self._streak.get(key, 0) + 1 if condition else 0
        return self._streak[key] >= self.persistence

    def update(self, c: HealthCheck) -> list[Diagnosis]:
        """Apply every rule to one check; return the new diagnoses."""
        step, new = c.step, []
        self._checks += 1

        def fire(code, severity, subject, condition, message):
            if condition:
                self._held[(code, subject)] = (severity, message)
            if self._persists(code, subject, condition):
                d = self.add(code, severity, subject, message, step)
                if d:
                    new.append(d)

        self._any_model(c, fire)
        self._forecaster(c, fire)
        return new

    def _any_model(self, c: HealthCheck, fire) -> None:
        """The rules every model gets: dead inputs and underflow per input column, dead units, update ratios."""
        for f in c.features:
            if f.col_zero:
                self._zero_seen[f.name] = self._zero_seen.get(f.name, 0) + 1
            fire("dead_input", "warning", f.name, f.col_zero and f.input_zero,
                 f"feature {f.name!r} is all zero in training windows (constant scaled to 0, or filled with 0): "
                 "its first layer's weights never learn. Drop it (--covariates) or fix the data.")
            fire("underflow", "critical", f.name, f.col_zero and not f.input_zero,
                 f"no gradient reaches feature {f.name!r} (exactly zero) although the feature is not zero: "
                 "gradient underflow. Use bf16 or a gradient scaler; rescale the targets.")
        for name, dead in c.dead_units.items():
            fire("dead_units", "warning", name, dead > 0.25,
                 f"{dead:.0%} of the units entering {name} never activate: their weights get no gradient. Lower the "
                 "learning rate, or use an activation without a flat side (GELU).")
        for group, ratio in c.update_ratio.items():
            fire("update_ratio", "warning", group, ratio < 1e-5 or ratio > 1e-1,
                 f"parameters of {group} change by {ratio:.1e} of their size per step "
                 f"({'frozen: raise --lr' if ratio < 1e-5 else 'unstable: lower --lr or clip harder'}).")

    @staticmethod
    def _forecaster(c: HealthCheck, fire) -> None:
        """The rules on our forecaster's own parts (models/forecaster_health.py measures them; other models
        leave these fields at their healthy defaults)."""
        fire("underflow", "critical", "temporal_projection output", c.inputs_finite and c.dLdh_zero_frac > 0.01,
             f"{c.dLdh_zero_frac:.1%} of the gradient reaching the projection output is exactly zero: "
             "underflow. Use bf16 or a gradient scaler; rescale the targets.")
        collapsed = c.loss_baseline_ratio > 0.9
        for i, dead in enumerate(c.ffn_dead):
            fire("dead_units", "critical" if collapsed else "warning", f"encoder layer {i}", dead > 0.25,
                 f"{dead:.0%} of the feed-forward units of encoder layer {i} never activate"
                 f"{' and the loss is that of predicting the mean' if collapsed else ''}. Lower --lr, keep pre-LN "
                 "layers (--norm-first) and GELU (--activation gelu).")
        fire("dead_units", "warning", "temporal_projection", c.proj_dead_rows > 0.25,
             f"{c.proj_dead_rows:.0%} of temporal_projection's output units get no gradient. Lower --lr.")
        fire("collapse", "critical", "model", c.proj_rel_init < 1e-3 and collapsed,
             "the projection gradient fell below 1/1000 of its initial size and the loss equals predicting the "
             "mean: the model collapsed. Lower --lr; use pre-LN layers and GELU.")
        for i, entropy in enumerate(c.attn_entropy):
            fire("degenerate_attention", "warning", f"encoder layer {i}", entropy < 0.05,
                 f"attention of encoder layer {i} puts all weight on one timestep (entropy {entropy:.3f}).")
        if c.agg_entropy is not None:
            fire("degenerate_aggregator", "warning", "aggregator", c.agg_entropy < 0.05,
                 "the aggregator puts all weight on one timestep: the rest of the window is ignored.")
        if c.gate_mean is not None:
            fire("degenerate_aggregator", "warning", "aggregator gate", not 0.02 < c.gate_mean < 0.98,
                 f"the aggregator's gate is saturated (mean {c.gate_mean:.3f}): its gradient vanishes.")

    def finish(self, step: int) -> list[Diagnosis]:
        """End-of-run diagnoses: conditions that held at every check of a run shorter than the persistence; and
        notes on features whose gradient column was zero at some checks but never persistently."""
        new = []
        for key, streak in self._streak.items():
            if 0 < streak == self._checks < self.persistence and key not in self.found:
                severity, message = self._held[key]
                new.append(self.add(key[0], severity, key[1], f"{message} (at every one of the run's "
                                    f"{self._checks} check(s))", step))
        for name, count in self._zero_seen.items():
            if ("dead_input", name) not in self.found and ("underflow", name) not in self.found:
                d = self.add("sparse_input", "info", name, f"feature {name!r} was zero in the whole batch at {count} "
                             "check(s): a sparse feature; its weights learn only from batches where it is "
                             "non-zero.", step)
                if d:
                    new.append(d)
        return new
