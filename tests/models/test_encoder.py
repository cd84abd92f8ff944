import pytest
import torch
from torch import nn

from forecast.models.encoder import EncoderLayer, dropout


def _pair(p: float, norm_first: bool = True, activation: str = "gelu"):
    """A stock PyTorch layer and ours with the same weights."""
    torch.manual_seed(0)
    kwargs = dict(d_model=16, nhead=4, dim_feedforward=32, dropout=p, activation=activation, batch_first=True,
                  norm_first=norm_first)
    stock, ours = nn.TransformerEncoderLayer(**kwargs), EncoderLayer(**kwargs)
    ours.load_state_dict(stock.state_dict())  # same keys: a bundle saved with the stock layer loads
    return stock, ours


@pytest.mark.parametrize("norm_first, activation", [(True, "gelu"), (False, "relu")])
def test_the_layer_computes_what_pytorchs_layer_computes_in_training_and_inference(norm_first, activation):
    stock, ours = _pair(0.0, norm_first, activation)
    x = torch.randn(8, 20, 16, requires_grad=True)
    torch.testing.assert_close(ours(x), stock(x), atol=1e-5, rtol=1e-5)                # training path
    torch.testing.assert_close(torch.autograd.grad(ours(x).square().sum(), x)[0],
                               torch.autograd.grad(stock(x).square().sum(), x)[0], atol=1e-4, rtol=1e-4)
    stock.eval(), ours.eval()
    with torch.no_grad():
        torch.testing.assert_close(ours(x), stock(x), atol=1e-5, rtol=1e-5)            # PyTorch's fast path


def test_dropout_zeroes_a_share_p_and_scales_the_rest_and_its_gradient():
    torch.manual_seed(0)
    x = torch.ones(400_000, requires_grad=True)
    y = dropout(x, 0.1, training=True)
    dropped = (y == 0).float().mean().item()
    assert abs(dropped - 0.1) < 0.002                      # 400,000 draws: the s.e. is 0.0005
    assert y.unique().tolist() == [0.0, pytest.approx(1 / 0.9)]
    (grad,) = torch.autograd.grad(y.sum(), x)
    torch.testing.assert_close(grad, y.detach())           # the same mask, the same scale, in the backward pass
    assert dropout(x, 0.1, training=False) is x and dropout(x, 0.0, training=True) is x


def test_dropout_masks_differ_between_calls_and_repeat_under_a_seed():
    x = torch.ones(64, 20, 32)
    torch.manual_seed(1)
    a, b = dropout(x, 0.5, True), dropout(x, 0.5, True)
    torch.manual_seed(1)
    assert not torch.equal(a, b) and torch.equal(dropout(x, 0.5, True), a)
    # the four 15-bit numbers of a 64-bit draw are independent: neighbouring entries agree half the time
    agree = (a.flatten()[1:] == a.flatten()[:-1]).float().mean().item()
    assert abs(agree - 0.5) < 0.01
