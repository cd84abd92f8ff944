"""Gradient-health scenarios of docs/gradient_health.md, reproduced with tiny models and data.

Each trains a real ForecastModule with the real monitor through Lightning (no MLflow: logger off)."""
import lightning as L
import pytest
import torch

from forecast.models.config import HealthConfig, ModelConfig, OptimConfig
from forecast.models.diagnoses import Diagnoser, FeatureCheck, HealthCheck
from forecast.models.forecaster_health import ForecasterHealthMonitor
from forecast.models.health import NonFiniteError
from forecast.models.lightning import ForecastModule

T, H = 12, 4


def _data(n_features=2, zero=(), n=512, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, T, n_features, generator=g)
    for j in zero:
        x[:, :, j] = 0.0
    y = (x[:, -H:, 0] * 0.5 + 0.1 * torch.randn(n, H, generator=g)) * scale
    return torch.utils.data.TensorDataset(x * torch.tensor([scale] + [1.0] * (n_features - 1)), y, torch.zeros(n, H, 0))


# the scenarios with raw inputs (instance_norm=False) also turn off the covariate normalisation and dropout:
# the original report's users trained on their covariates as they are
def _fit(data, names, steps=40, every=5, lr=1e-3, batch=64, module_cls=ForecastModule, extra=(), **model):
    torch.manual_seed(0)
    config = ModelConfig(**{"d_model": 32, "n_heads": 4, "layers": 2, "dropout": 0.0, "seq_len": T, "horizon": H,
                            "n_features": len(names), **model})
    module = module_cls(config, OptimConfig(lr=lr, warmup_frac=0.0), steps)
    monitor = ForecasterHealthMonitor(names, HealthConfig(health_every=every, health_persistence=3))
    loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=True,
                                         generator=torch.Generator().manual_seed(0))
    trainer = L.Trainer(max_steps=steps, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, callbacks=[*extra, monitor], limit_val_batches=0,
                        accelerator="cpu", devices=1)
    trainer.fit(module, loader)
    return monitor, monitor.report(trainer.global_step), module


def _codes(report, severity=None):
    return {(d["code"], d["subject"]) for d in report["diagnoses"] if severity in (None, d["severity"])}


def test_healthy_training_is_healthy():
    monitor, report, _ = _fit(_data(3), ["value", "a", "b"])
    assert report["status"] == "healthy" and report["diagnoses"] == [], report["diagnoses"]
    assert report["projection_zero_frac"]["max"] == 0.0
    assert 0.0 < report["last_quarter_share"]["final"] < 1.0 and report["checks"] == 8


def test_two_all_zero_covariates_are_named_as_dead_inputs():
    names = ["value", "live", "zero_a", "zero_b"]
    monitor, report, _ = _fit(_data(4, zero=(2, 3)), names)
    assert _codes(report, "warning") == {("dead_input", "zero_a"), ("dead_input", "zero_b")}
    # the original report's 66.7 % was this: one dead column of d_model entries per all-zero feature
    assert report["projection_zero_frac"]["final"] == pytest.approx(2 / 4)
    assert all(c.proj_zero_frac == pytest.approx(0.5) for c in monitor.checks)


def test_dead_input_needs_persistence():
    diagnoser = Diagnoser(persistence=3)
    summary = lambda step, zero: HealthCheck(step, [FeatureCheck("f", zero, zero)])  # noqa: E731
    for step, zero in enumerate([True, True, False, True, True]):   # never three in a row: a sparse feature
        assert diagnoser.update(summary(step, zero)) == []
    (note,) = diagnoser.finish(5)
    assert (note.code, note.severity) == ("sparse_input", "info") and diagnoser.status == "healthy"
    assert [d.code for d in diagnoser.update(summary(6, True))] == ["dead_input"]  # the third in a row
    assert diagnoser.status == "warning"


def test_model_without_positions_and_mean_pooling_is_order_blind():
    _, report, _ = _fit(_data(2), ["value", "a"], steps=5, positional_encoding=False, aggregator="mean")
    assert ("order_blind", "model") in _codes(report)
    _, report, _ = _fit(_data(2), ["value", "a"], steps=5, positional_encoding=True, aggregator="mean")
    assert ("order_blind", "model") not in _codes(report)


def test_post_ln_relu_at_a_high_learning_rate_kills_units():
    monitor, report, _ = _fit(_data(2), ["value", "a"], steps=200, every=10, lr=3e-2, norm_first=False,
                              activation="relu", instance_norm=False, covariate_norm=False,
                              covariate_dropout=0.0)
    assert any(code == "dead_units" and subject.startswith("encoder layer") for code, subject in _codes(report))
    assert max(monitor.checks[-1].ffn_dead) > 0.25
    # and the projection shows no zeros: the zero count alone would have called this healthy
    assert report["projection_zero_frac"]["final"] == 0.0


class _Fp16Module(ForecastModule):
    """Training under fp16 autocast without a gradient scaler (what the original report's users ran)."""

    def training_step(self, batch, batch_idx):
        with torch.autocast("cpu", dtype=torch.float16):
            return super().training_step(batch, batch_idx)


def test_fp16_without_a_scaler_on_tiny_targets_underflows():
    """Targets around 1e-4: the fp16 product dL/dh * x for the target's weight column underflows to exactly 0
    although the target is not zero, which the monitor tells apart from a dead (all-zero) input."""
    monitor, report, _ = _fit(_data(2, scale=1e-4, n=1024), ["value", "a"], steps=15, every=5, batch=512,
                              module_cls=_Fp16Module, instance_norm=False, covariate_norm=False,
                              covariate_dropout=0.0)
    assert ("underflow", "value") in _codes(report, "critical"), monitor.checks[-1]
    assert ("dead_input", "value") not in _codes(report) and report["status"] == "critical"
    # the same run in fp32 is healthy
    _, report, _ = _fit(_data(2, scale=1e-4, n=1024), ["value", "a"], steps=15, every=5, batch=512,
                        instance_norm=False, covariate_norm=False, covariate_dropout=0.0)
    assert report["status"] == "healthy", report["diagnoses"]


def test_underflow_rule_on_the_projection_output_gradient():
    """dL/dh exact zeros above 1 % with finite inputs (constructed checks: the rule itself)."""
    diagnoser = Diagnoser(persistence=2)
    assert diagnoser.update(HealthCheck(0, dLdh_zero_frac=0.4)) == []
    (d,) = diagnoser.update(HealthCheck(1, dLdh_zero_frac=0.4))
    assert (d.code, d.severity, d.subject) == ("underflow", "critical", "temporal_projection output")
    assert "bf16 or a gradient scaler" in d.message


class _InjectNaN(L.Callback):
    def on_before_optimizer_step(self, trainer, module, optimizer):
        if trainer.global_step == 3:
            module.model.head.net[0].weight.grad[0, 0] = float("nan")


def test_a_nan_gradient_stops_training_naming_the_parameter():
    with pytest.raises(NonFiniteError, match=r"non-finite gradient in model\.head\.net\.0\.weight at step 3"):
        _fit(_data(2), ["value", "a"], steps=10, extra=[_InjectNaN()])


def test_the_monitor_does_not_change_training():
    _, _, watched = _fit(_data(2), ["value", "a"], steps=12, every=2, dropout=0.1, aggregator="weighted")
    torch.manual_seed(0)
    config = ModelConfig(d_model=32, n_heads=4, layers=2, dropout=0.1, seq_len=T, horizon=H, n_features=2,
                         aggregator="weighted")
    plain = ForecastModule(config, OptimConfig(lr=1e-3, warmup_frac=0.0), 12)
    loader = torch.utils.data.DataLoader(_data(2), batch_size=64, shuffle=True,
                                         generator=torch.Generator().manual_seed(0))
    L.Trainer(max_steps=12, logger=False, enable_checkpointing=False, enable_progress_bar=False,
              enable_model_summary=False,
              limit_val_batches=0, accelerator="cpu", devices=1).fit(plain, loader)
    for (name, a), b in zip(watched.state_dict().items(), plain.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)


def test_a_run_shorter_than_the_persistence_is_diagnosed_where_a_condition_held_at_every_check():
    diagnoser = Diagnoser(persistence=3)
    for step in (0, 50):
        features = [FeatureCheck("zero", True, True), FeatureCheck("live", False, False)]
        assert diagnoser.update(HealthCheck(step, features)) == []
    (d,) = diagnoser.finish(60)
    assert (d.code, d.subject, d.severity) == ("dead_input", "zero", "warning")
    assert "every one of the run's 2" in d.message


class _Plain(L.LightningModule):
    """Not our model: an MLP on flattened windows (B, T, F) -> (B, H), as any user might write."""

    def __init__(self, n_features):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(T * n_features, 32), torch.nn.ReLU(),
                                       torch.nn.Linear(32, H))

    def training_step(self, batch, batch_idx):
        x, y, _ = batch
        return torch.nn.functional.mse_loss(self.net(x), y)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def test_the_generic_monitor_names_dead_columns_of_any_lightning_module():
    from forecast.models.health import GradientHealthMonitor

    torch.manual_seed(0)
    monitor = GradientHealthMonitor(["value", "live", "zero_a", "zero_b"], HealthConfig(health_every=5))
    loader = torch.utils.data.DataLoader(_data(4, zero=(2, 3)), batch_size=64, shuffle=True,
                                         generator=torch.Generator().manual_seed(0))
    trainer = L.Trainer(max_steps=30, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, callbacks=[monitor], accelerator="cpu", devices=1)
    trainer.fit(_Plain(4), loader)
    report = monitor.report(trainer.global_step)
    assert _codes(report, "warning") == {("dead_input", "zero_a"), ("dead_input", "zero_b")}, report["diagnoses"]
    assert set(monitor.groups) == {"net.1", "net.3"} and report["checks"] == 6
    check = monitor.checks[-1]
    assert [f.col_zero for f in check.features] == [False, False, True, True]
    assert set(check.dead_units) == {"net.2"} and set(check.update_ratio) == {"net.1", "net.3"}


def test_mlflow_charts_each_per_layer_measure_at_its_worst_layer_and_the_detail_keeps_every_value():
    """Two layers: the charted metrics hold the projection's group in full, each input's gradient, and per kind
    of per-layer measure its worst layer; the detail table holds every layer's value at every check."""
    monitor, _, _ = _fit(_data(), ["a", "b"], steps=10, every=5)
    assert [row["step"] for row in monitor.detail] == [0, 5]
    for row in monitor.detail:
        charted = monitor.split(row)
        assert charted["attn/entropy_min"] == min(row["attn/layer0/entropy"], row["attn/layer1/entropy"])
        assert charted["ffn/dead_frac_max"] == max(row["ffn/layer0/dead_frac"], row["ffn/layer1/dead_frac"])
        ratios = [v for k, v in row.items() if k.startswith("grad/") and k.endswith("/update_ratio")]
        assert len(ratios) > 3 and charted["grad/update_ratio_max"] == max(ratios)
        assert {"grad/temporal_projection/zero_frac", "input/a/grad_col_norm", "grad/global_norm"} <= set(charted)
        assert not [k for k in charted if "layer0" in k or "layer1" in k or k.endswith("/zero_share")]
