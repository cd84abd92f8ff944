"""The encoder layer: PyTorch's `nn.TransformerEncoderLayer`, with its training-time attention and dropout
computed in fewer, cheaper kernels. Same parameters, same state_dict keys, same function: a bundle saved with the
stock layer loads into this one, and inference (eval mode) still takes PyTorch's fused fast path.

Hand-written because, measured on this model's shapes (batch 256, 20 steps, d_model 64, 4 heads) on 2 CPU threads
(benchmarks/train_speed.py, docs/benchmarks.md):
- dropout's `bernoulli_` draws one 32-bit random number per element on one thread: a third of a training step.
  `dropout` below draws 15-bit numbers, four per 64-bit draw, and keeps the mask as a scaled float tensor so the
  backward pass is one multiply;
- with dropout on, `nn.MultiheadAttention` reshapes through (T, B*h, d) and back; with it off, the fused CPU
  flash-attention kernel is slower than plain batched matmuls at T = 20. `_sa_block` below is the textbook
  attention on (B, h, T, d) views of three projections (one (3D, D) projection split into heads costs a
  stack and two strided copies in the backward pass).
"""
import torch
import torch.nn.functional as F
from torch import nn

SCALE_BITS = 15  # random bits per mask entry: keep probability within 2 ** -16 of 1 - p


def dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Inverted dropout, as F.dropout: each entry zeroed with probability p, the rest scaled by 1 / (1 - p)."""
    if not training or p == 0.0:
        return x
    n = x.numel()
    draws = torch.empty((n + 3) // 4, dtype=torch.int64, device=x.device).random_()   # 63 random bits each
    bits = draws.view(torch.int16)[:n] & (2 ** SCALE_BITS - 1)                        # four 15-bit numbers per draw
    keep = (bits >= round(p * 2 ** SCALE_BITS)).view(x.shape)
    return x * keep.to(x.dtype).mul_(1.0 / (1.0 - p))


class Dropout(nn.Dropout):
    """nn.Dropout with the mask of `dropout` above (no parameters: a drop-in replacement)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training)


class EncoderLayer(nn.TransformerEncoderLayer):
    """nn.TransformerEncoderLayer(batch_first=True) whose training-time blocks use the kernels above."""

    def _sa_block(self, x: torch.Tensor, attn_mask, key_padding_mask, is_causal: bool = False) -> torch.Tensor:
        if attn_mask is not None or key_padding_mask is not None:   # never in this model: keep PyTorch's own
            return super()._sa_block(x, attn_mask, key_padding_mask, is_causal)
        a = self.self_attn
        B, T, D = x.shape
        h = a.num_heads
        W, b = a.in_proj_weight, a.in_proj_bias                                       # (3 * D, D), (3 * D,)
        q, k, v = (F.linear(x, W[i * D:(i + 1) * D], b[i * D:(i + 1) * D]).view(B, T, h, D // h).transpose(1, 2)
                   for i in range(3))                                                 # 3 x (B, h, T, d)
        w = torch.softmax((q @ k.transpose(-2, -1)) * (D // h) ** -0.5, dim=-1)     # (B, h, T, T)
        w = dropout(w, a.dropout, self.training)
        out = (w @ v).transpose(1, 2).reshape(B, T, D)                                # (B, T, D)
        return dropout(a.out_proj(out), self.dropout1.p, self.training)

    def _ff_block(self, x: torch.Tensor) -> torch.Tensor:
        h = dropout(self.activation(self.linear1(x)), self.dropout.p, self.training)   # (B, T, ff)
        return dropout(self.linear2(h), self.dropout2.p, self.training)               # (B, T, D)
