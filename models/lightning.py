"""The LightningModule: the forecaster, its pinball loss, AdamW with warm-up and cosine decay."""
import math

import lightning as L
import torch

from forecast.models.config import ModelConfig, OptimConfig
from forecast.models.forecaster import Forecaster
from forecast.models.losses import pinball_loss


def warmup_cosine(step: int, total: int, warmup: int) -> float:
    """Learning-rate multiplier: linear from ~0 to 1 over `warmup` steps, then cosine down to 0.05."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * progress))


class ForecastModule(L.LightningModule):
    def __init__(self, config: ModelConfig, optim: OptimConfig, total_steps: int):
        super().__init__()
        self.config, self.optim, self.total_steps = config, optim, max(1, total_steps)
        self.model = Forecaster(config)
        self.register_buffer("quantiles", torch.tensor(config.quantiles), persistent=False)

    def forward(self, x: torch.Tensor, future: torch.Tensor) -> torch.Tensor:
        return self.model(x, future)  # (B, H, Q)

    def _loss(self, batch) -> torch.Tensor:
        x, y, future = batch
        return pinball_loss(self(x, future), y, self.quantiles)

    def training_step(self, batch, batch_idx):
        loss = self._loss(batch)
        self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True, batch_size=len(batch[0]))
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", self._loss(batch), on_epoch=True, prog_bar=True, batch_size=len(batch[0]),
                 sync_dist=True)  # averaged over ranks, so every rank takes the same early-stopping decision

    def configure_optimizers(self):
        decay = [p for n, p in self.named_parameters() if p.ndim >= 2]
        no_decay = [p for n, p in self.named_parameters() if p.ndim < 2]
        optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": self.optim.weight_decay},
                                       {"params": no_decay, "weight_decay": 0.0}], lr=self.optim.lr)
        warmup = max(1, int(self.optim.warmup_frac * self.total_steps))
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: warmup_cosine(step, self.total_steps, warmup))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
