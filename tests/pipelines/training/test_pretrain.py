"""`forecast pretrain` and `forecast train`'s start from the shipped checkpoint."""
import logging
from dataclasses import replace

import mlflow
import torch

from forecast.models.config import HealthConfig, ModelConfig
from forecast.pipelines.config import DECILES, PretrainConfig, TrainConfig
from forecast.pipelines.training.pretrain import pretrain
from forecast.pipelines.training.pretrained import PRETRAINED_STEPS, checkpoint_path, read_checkpoint
from forecast.pipelines.training.train import _announce, _setup, train

SMALL = ModelConfig(d_model=16, n_heads=2, layers=1, quantiles=DECILES)


def test_pretraining_writes_one_checkpoint_per_layout_and_logs_its_run(tmp_path):
    config = PretrainConfig(series=60, max_steps=6, batch_size=32, horizon=6, output=str(tmp_path / "out"),
                            tracking_uri=f"sqlite:///{tmp_path}/mlflow.db", model=SMALL,
                            health=HealthConfig(health_every=2, health_persistence=1))
    results = pretrain(config)
    assert [r.layout for r in results] == ["plain", "seasonal"]
    for r in results:
        checkpoint, architecture = read_checkpoint(r.path)
        assert architecture.horizon == 6 and architecture.quantiles == DECILES and architecture.d_model == 16
        assert checkpoint["corpus"]["corpus_seed"] == 0 and checkpoint["corpus"]["series"] == 60
        assert checkpoint["roles"] == (["target"] if r.layout == "plain" else ["target", "lag"])
        run = mlflow.get_run(r.run_id)
        assert run.data.params["layout"] == r.layout and run.data.metrics["steps"] == 6
        assert "gradient_health.json" in {a.path for a in mlflow.MlflowClient().list_artifacts(r.run_id)}
        (dataset,) = run.inputs.dataset_inputs                  # the corpus, as MLflow's dataset of the run
        assert dataset.dataset.name == "synthetic corpus (seed 0, 60 series)"
        assert dataset.tags[0].value == "pretraining"


def _config(tmp_path, make_frame, **changes) -> TrainConfig:
    path = tmp_path / "data.csv"
    make_frame(n_series=2, length=300, covariates=0).to_csv(path, index=False)
    return TrainConfig(data_path=str(path), progress=False, **changes)


def test_training_starts_from_the_shipped_checkpoint_and_trains_from_it(tmp_path, make_frame):
    """The checkpoint ships in the package: the encoder starts as it is; a 5-step run from it completes and says
    where it started."""
    config = _config(tmp_path, make_frame, max_steps=5, register=False,
                     tracking_uri=f"sqlite:///{tmp_path}/mlflow.db")
    setup = _setup(config)
    assert setup.start.startswith("the pretrained seasonal checkpoint")
    state, _ = read_checkpoint(checkpoint_path("seasonal"))
    model = setup.module.model.state_dict()
    for name in ("encoder.layers.0.self_attn.in_proj_weight", "encoder.layers.7.linear2.weight"):
        assert torch.equal(model[name], state["state_dict"][name])
    result = train(config)
    assert mlflow.get_run(result.run_id).data.tags["forecast.start"] == setup.start
    assert result.history[-1]["step"] == 5


def test_an_architecture_the_checkpoint_does_not_fit_starts_from_random_weights_in_one_line(tmp_path, make_frame,
                                                                                           caplog):
    config = _config(tmp_path, make_frame)
    setup = _setup(replace(config, model=replace(config.model, layers=2)))
    assert setup.start.startswith("random weights") and setup.start_warning
    with caplog.at_level(logging.INFO, logger="forecast"):
        _announce(setup)    # said once the run's store is known to work, with the data's summary
    said = [r for r in caplog.records if "checkpoint" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.WARNING
    assert "layers=2 (checkpoint 8)" in said[0].getMessage()
    plain = _setup(replace(config, pretrained=False))
    assert plain.start == "random weights" and not plain.start_warning


def test_the_step_budget_is_200_from_the_checkpoint_and_unbounded_from_random_weights(tmp_path, make_frame):
    """--max-steps auto: 200 steps where training starts from the checkpoint (measured against 500 from random
    weights on the suite), no bound where it does not (random weights, a warm start, an architecture it does not
    fit); a given --max-steps is kept."""
    config = _config(tmp_path, make_frame)
    assert config.max_steps is None
    setup = _setup(config)
    assert setup.config.max_steps == PRETRAINED_STEPS and setup.total_steps == PRETRAINED_STEPS
    assert _setup(replace(config, pretrained=False)).config.max_steps == -1
    assert _setup(replace(config, model=replace(config.model, layers=2))).config.max_steps == -1
    assert _setup(replace(config, max_steps=37)).config.max_steps == 37
