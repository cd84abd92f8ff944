"""The training loss."""
import torch


def pinball_loss(pred: torch.Tensor, target: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """Mean quantile (pinball) loss: mean over b, h, q of max(q * e, (q - 1) * e), e = y[b,h] - pred[b,h,q].

    pred (B, H, Q), target (B, H), quantiles (Q,).
    """
    error = target.unsqueeze(-1) - pred                          # (B, H, Q)
    return torch.maximum(quantiles * error, (quantiles - 1) * error).mean()
