"""Tests for cosp_helpers.training: known optima, determinism, batching, schedules and every error."""

from __future__ import annotations

import copy
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from cosp_helpers.networks import BinaryTreeNet, DeepNet, ShallowNet
from cosp_helpers.training import TrainHistory, _lr_factor, _stacks_natively, evaluate, train, train_ensemble

CPU = "cpu"


def linear_data(n: int = 200, d: int = 3, noise: float = 0.1, seed: int = 0):
    """Linear data with noise, so that the least-squares optimum has a positive, known loss."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = x @ np.array([[1.0], [-2.0], [0.5]])[:d] + 0.3 + noise * rng.normal(size=(n, 1))
    return x, y


def least_squares(x: np.ndarray, y: np.ndarray, ridge: float = 0.0):
    """Minimiser of mean((x w + b - y)^2) + ridge / 2 * (|w|^2 + b^2), and its data loss."""
    design = np.hstack([x, np.ones((len(x), 1))])
    # gradient: (2/n) A^T (A t - y) + ridge t = 0  =>  (A^T A + ridge n / 2 I) t = A^T y
    theta = np.linalg.solve(design.T @ design + ridge * len(x) / 2 * np.eye(design.shape[1]), design.T @ y)
    return theta, float(np.mean((design @ theta - y) ** 2))


def linear_model(d: int = 3, seed: int = 0, dtype=torch.float64) -> torch.nn.Linear:
    torch.manual_seed(seed)  # tests may seed the global generator; the library never does
    return torch.nn.Linear(d, 1).to(dtype)


def theta_of(model: torch.nn.Linear) -> np.ndarray:
    return np.concatenate([model.weight.detach().numpy().ravel(), model.bias.detach().numpy()])[:, None]


# --- convergence to known optima -------------------------------------------------------------


@pytest.mark.parametrize("optimizer, lr, steps", [("adam", 0.05, 2000), ("sgd", 0.1, 2000)])
def test_full_batch_reaches_the_least_squares_optimum(optimizer, lr, steps):
    x, y = linear_data()
    theta, best = least_squares(x, y)
    model = linear_model()
    h = train(model, x, y, optimizer=optimizer, lr=lr, steps=steps, progress=False, device=CPU)
    assert isinstance(h, TrainHistory)
    # the loss decreases from the start and ends at the optimum: float64 and a convex problem, so
    # 1e-6 relative is far above round-off yet far below the loss gap of any wrong solution (~1e-2)
    assert h.train_loss[0] > 10 * best
    assert h.final_train_loss == pytest.approx(best, rel=1e-6)
    np.testing.assert_allclose(theta_of(model), theta, atol=1e-4)


def test_weight_decay_reaches_the_ridge_optimum():
    x, y = linear_data()
    ridge = 0.5
    theta, _ = least_squares(x, y, ridge=ridge)
    model = linear_model()
    train(model, x, y, optimizer="sgd", lr=0.1, steps=3000, weight_decay=ridge, progress=False, device=CPU)
    # gradient descent on a strongly convex quadratic converges geometrically; 3000 steps reach round-off
    np.testing.assert_allclose(theta_of(model), theta, atol=1e-8)


def test_a_penalty_callable_equals_weight_decay():
    x, y = linear_data()
    ridge = 0.5
    theta, _ = least_squares(x, y, ridge=ridge)
    model = linear_model()

    def l2(m):
        return ridge / 2 * sum((p**2).sum() for p in m.parameters())

    train(model, x, y, optimizer="sgd", lr=0.1, steps=3000, penalty=l2, progress=False, device=CPU)
    np.testing.assert_allclose(theta_of(model), theta, atol=1e-8)


def test_an_l1_penalty_soft_thresholds():
    # with an orthonormal design (X^T X / n = I) the minimiser of mean((Xw - y)^2) + lam * |w|_1 is the
    # soft threshold of the least-squares solution z: w = sign(z) * max(|z| - lam / 2, 0)
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(200, 4)))
    x = q * math.sqrt(200)
    z = np.array([2.0, 0.1, -0.05, -0.7])
    y = x @ z[:, None]
    lam = 0.4
    model = torch.nn.Linear(4, 1, bias=False).double()
    train(model, x, y, optimizer="sgd", lr=0.05, steps=2000, schedule="cosine", progress=False, device=CPU,
          penalty=lambda m: lam * m.weight.abs().sum())
    expected = np.sign(z) * np.maximum(np.abs(z) - lam / 2, 0)  # [1.8, 0, 0, -0.5]
    # the subgradient steps make zero weights jitter by about lr * lam; the cosine schedule shrinks the
    # last steps to ~1e-7 of lr, so 1e-4 is a comfortable bound on what remains
    np.testing.assert_allclose(model.weight.detach().numpy().ravel(), expected, atol=1e-4)


def test_cross_entropy_learns_a_separable_problem():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    labels = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 2)
    h = train(model, x, labels, loss="cross_entropy", lr=0.1, steps=300, progress=False, device=CPU)
    accuracy = (model(torch.from_numpy(x)).argmax(1).numpy() == labels).mean()
    # the classes are linearly separable through the origin, so a trained linear model gets (nearly) all
    # 200 points right; at initialisation it is at chance (loss ~ log 2) and a wrong loss would stay there
    assert h.final_train_loss < 0.5 * h.train_loss[0]
    assert accuracy > 0.97


def test_a_callable_loss_is_used():
    x, y = linear_data()
    model = linear_model()
    def mae(p, t):
        return (p - t).abs().mean()

    h = train(model, x, y, loss=mae, lr=0.05, steps=50, progress=False, device=CPU)
    mse = evaluate(model, x, y, device=CPU)
    assert h.final_train_loss == pytest.approx(evaluate(model, x, y, loss=mae, device=CPU))
    assert h.final_train_loss != pytest.approx(mse)  # it really was the callable, not the default


# --- history ---------------------------------------------------------------------------------


def test_history_records_train_and_test_losses_as_floats():
    x, y = linear_data()
    xt, yt = linear_data(seed=9)
    model = linear_model()
    h = train(model, x, y, x_test=xt, y_test=yt, lr=0.05, steps=100, eval_every=30, progress=False, device=CPU)
    assert h.steps == [0, 30, 60, 90, 100]
    assert len(h.train_loss) == len(h.test_loss) == 5
    assert all(type(v) is float for v in h.train_loss + h.test_loss + [h.final_train_loss, h.final_test_loss])
    assert h.final_test_loss == pytest.approx(evaluate(model, xt, yt, device=CPU))
    assert h.final_train_loss == pytest.approx(evaluate(model, x, y, device=CPU))
    assert h.seconds > 0


def test_default_evaluation_count_and_no_test_set():
    x, y = linear_data()
    h = train(linear_model(), x, y, steps=200, progress=False, device=CPU)
    assert h.steps == list(range(0, 201, 4))  # 200 // 50 = 4
    assert h.test_loss == [] and h.final_test_loss is None


def test_progress_bar_runs():
    x, y = linear_data()
    h = train(linear_model(), x, y, steps=5, progress=True, desc="test", device=CPU)
    assert h.steps[-1] == 5


# --- determinism and batching ----------------------------------------------------------------


def test_same_seed_same_result_minibatch():
    x, y = linear_data()
    runs = []
    for _ in range(2):
        model = linear_model(seed=4)
        h = train(model, x, y, batch_size=32, epochs=3, seed=7, progress=False, device=CPU)
        runs.append((h.train_loss, theta_of(model)))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_a_different_seed_shuffles_differently():
    x, y = linear_data()
    thetas = []
    for seed in (7, 8):
        model = linear_model(seed=4)
        train(model, x, y, batch_size=32, epochs=2, seed=seed, progress=False, device=CPU)
        thetas.append(theta_of(model))
    assert not np.array_equal(thetas[0], thetas[1])


def test_a_numpy_generator_is_accepted_as_seed():
    x, y = linear_data()
    a, b = linear_model(seed=4), linear_model(seed=4)
    train(a, x, y, batch_size=32, epochs=2, seed=np.random.default_rng(5), progress=False, device=CPU)
    train(b, x, y, batch_size=32, epochs=2, seed=np.random.default_rng(5), progress=False, device=CPU)
    np.testing.assert_array_equal(theta_of(a), theta_of(b))


def test_batch_size_n_is_full_batch():
    x, y = linear_data(n=50)
    a, b = linear_model(seed=4), linear_model(seed=4)
    ha = train(a, x, y, steps=20, progress=False, device=CPU)
    hb = train(b, x, y, steps=20, batch_size=50, seed=123, progress=False, device=CPU)
    assert ha.train_loss == hb.train_loss
    np.testing.assert_array_equal(theta_of(a), theta_of(b))


def test_epochs_count_minibatch_steps():
    x, y = linear_data(n=10)
    h = train(linear_model(), x, y, epochs=3, batch_size=4, progress=False, device=CPU)
    assert h.steps[-1] == 9  # ceil(10 / 4) = 3 steps per epoch
    h = train(linear_model(), x, y, epochs=3, progress=False, device=CPU)
    assert h.steps[-1] == 3  # one step per epoch when full-batch


def test_steps_with_minibatches_cross_epoch_boundaries():
    x, y = linear_data(n=10)
    h = train(linear_model(), x, y, steps=7, batch_size=4, eval_every=1, progress=False, device=CPU)
    assert h.steps == list(range(8))


def test_minibatch_sgd_reaches_the_optimum_within_its_noise():
    x, y = linear_data()
    _, best = least_squares(x, y)
    h = train(linear_model(), x, y, optimizer="sgd", lr=0.02, epochs=100, batch_size=20, schedule="cosine",
              progress=False, device=CPU)
    # the cosine schedule anneals the step to 0, removing most of the SGD noise: within 1% of the optimum
    assert h.final_train_loss == pytest.approx(best, rel=1e-2)


def test_sgd_momentum_converges():
    x, y = linear_data()
    _, best = least_squares(x, y)
    h = train(linear_model(), x, y, optimizer="sgd", lr=0.05, momentum=0.9, steps=1000, progress=False, device=CPU)
    assert h.final_train_loss == pytest.approx(best, rel=1e-6)


# --- data handling ---------------------------------------------------------------------------


def test_float_data_is_cast_to_the_model_dtype():
    x, y = linear_data()
    model = linear_model(dtype=torch.float32)
    h = train(model, x, y, steps=5, progress=False, device=CPU)  # float64 numpy into a float32 model
    assert model.weight.dtype == torch.float32 and math.isfinite(h.final_train_loss)


def test_integer_inputs_stay_integers():
    tokens = torch.randint(0, 5, (40, 3), generator=torch.Generator().manual_seed(0))
    labels = tokens[:, 0]  # predict the first token
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Embedding(5, 8), torch.nn.Flatten(), torch.nn.Linear(24, 5))
    h = train(model, tokens.numpy(), labels.numpy(), loss="cross_entropy", lr=0.05, steps=200, progress=False, device=CPU)
    # copying the first token is exactly representable: the loss falls from ~log 5 towards 0 (an embedding
    # cast to floats, or labels cast wrongly, would raise or stay near log 5)
    assert h.final_train_loss < 0.1 * h.train_loss[0]


def test_evaluate_in_chunks_equals_all_at_once():
    x, y = linear_data(n=101)
    model = linear_model()
    assert evaluate(model, x, y, batch_size=10, device=CPU) == pytest.approx(evaluate(model, x, y, device=CPU), rel=1e-12)


def test_evaluate_restores_training_mode():
    model = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Dropout(0.5))
    model.train()
    evaluate(model, np.zeros((4, 1)), np.zeros((4, 1)), device=CPU)
    assert model.training


def test_evaluate_leaves_the_model_where_it_is():
    moved = []

    class Recorded(torch.nn.Linear):
        def to(self, *args, **kwargs):  # noqa: D102
            moved.append(id(self))
            return super().to(*args, **kwargs)

    model = Recorded(1, 1)
    evaluate(model, np.zeros((4, 1)), np.zeros((4, 1)), device=CPU)
    evaluate(model, np.zeros((4, 1)), np.zeros((4, 1)))  # the default: where the parameters are
    assert id(model) not in moved


def test_lr_factor_values():
    assert _lr_factor(7, 10, "constant") == 1.0
    assert _lr_factor(0, 10, "cosine") == 1.0
    assert _lr_factor(5, 10, "cosine") == pytest.approx(0.5)
    assert _lr_factor(10, 10, "cosine") == pytest.approx(0.0)


def test_warmup_ramps_then_runs_the_schedule_over_the_remaining_steps():
    # 4 warm-up steps of 12: 1/4, 2/4, 3/4, 4/4 of lr, then the half cosine over the last 8 steps
    assert [_lr_factor(k, 12, "cosine", 4) for k in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert _lr_factor(4, 12, "cosine", 4) == 1.0
    assert _lr_factor(8, 12, "cosine", 4) == pytest.approx(0.5)
    assert _lr_factor(12, 12, "cosine", 4) == pytest.approx(0.0)
    assert [_lr_factor(k, 6, "constant", 2) for k in range(6)] == [0.5, 1.0, 1.0, 1.0, 1.0, 1.0]


def test_warmup_steps_are_smaller_and_the_run_ends_as_scheduled():
    # SGD without momentum moves a weight by lr * factor * gradient: the first steps show the ramp
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    x, y = torch.ones(4, 1), torch.ones(4, 1)  # gradient of the mean squared error at w = 0: -2
    train(model, x, y, optimizer="sgd", lr=0.01, steps=1, warmup=0, progress=False, device=CPU)
    full = float(model.weight)
    with torch.no_grad():
        model.weight.fill_(0.0)
    train(model, x, y, optimizer="sgd", lr=0.01, steps=5, warmup=4, progress=False, device=CPU)
    assert full == pytest.approx(0.02)
    w = float(model.weight)  # steps of 1/4, 2/4, 3/4, 1 and 1 of 0.01 * gradient 2 (1 - w)
    expected = 0.0
    for factor in (0.25, 0.5, 0.75, 1.0, 1.0):
        expected += 0.01 * factor * 2 * (1 - expected)
    assert w == pytest.approx(expected, rel=1e-6)


# --- errors ----------------------------------------------------------------------------------


def good_args():
    x, y = linear_data(n=20)
    return linear_model(), x, y


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"loss": "l2"}, ValueError, "loss must be one of"),
        ({"optimizer": "lbfgs"}, ValueError, "optimizer must be one of"),
        ({"schedule": "step"}, ValueError, "schedule must be one of"),
        ({"lr": 0.0}, ValueError, "lr must be > 0"),
        ({"lr": "0.1"}, TypeError, "lr must be a real number"),
        ({"weight_decay": -1.0}, ValueError, "weight_decay must be >= 0"),
        ({"momentum": 1.0, "optimizer": "sgd"}, ValueError, "momentum must be in"),
        ({"momentum": 0.9}, ValueError, "momentum applies to optimizer 'sgd' only"),
        ({"penalty": 3.0}, TypeError, "penalty must be a callable"),
        ({"steps": None}, ValueError, "give exactly one of steps and epochs"),
        ({"epochs": 2}, ValueError, "give exactly one of steps and epochs"),
        ({"steps": 0}, ValueError, "steps must be >= 1"),
        ({"steps": 2.5}, TypeError, "steps must be an int"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"batch_size": 21}, ValueError, "batch_size must be <= the number of training samples"),
        ({"warmup": -1}, ValueError, "warmup must be >= 0"),
        ({"warmup": 3}, ValueError, "warmup must be smaller than the number of steps"),
        ({"warmup": 1.5}, TypeError, "warmup must be an int"),
        ({"eval_every": 0}, ValueError, "eval_every must be >= 1"),
        ({"x_test": np.zeros((3, 3))}, ValueError, "give both x_test and y_test"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"progress": "yes"}, TypeError, "progress must be True or False"),
        ({"device": "tpu"}, ValueError, "device must be 'auto', 'cpu' or 'cuda'"),
        ({"device": 3}, TypeError, "device must be None, a string or a torch.device"),
    ],
)
def test_train_errors(kwargs, error, message):
    model, x, y = good_args()
    args = {"steps": 3, "progress": False, "device": CPU} | kwargs
    with pytest.raises(error, match=message):
        train(model, x, y, **args)


@pytest.mark.parametrize("which", ["x", "y"])
def test_non_finite_data_is_refused_before_training(which):
    # a NaN in the data is the caller's error, named as such, not a diverging run ("lower lr")
    model, x, y = good_args()
    bad = (x if which == "x" else y).clone() if isinstance(x, torch.Tensor) else (x if which == "x" else y).copy()
    bad[0] = float("nan")
    data = (bad, y) if which == "x" else (x, bad)
    with pytest.raises(ValueError, match=f"{which}_train must be finite"):
        train(model, *data, steps=3, progress=False, device=CPU)
    with pytest.raises(ValueError, match=f"{which}_eval must be finite"):
        evaluate(model, *data, device=CPU)


def test_epochs_must_be_a_positive_int():
    model, x, y = good_args()
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        train(model, x, y, epochs=0, progress=False, device=CPU)


def test_data_errors():
    model, x, y = good_args()
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        train(lambda v: v, x, y, steps=1, device=CPU)
    with pytest.raises(TypeError, match="x_train must be a numpy array or a torch tensor"):
        train(model, x.tolist(), y, steps=1, progress=False, device=CPU)
    with pytest.raises(TypeError, match="y_train must hold real numbers"):
        train(model, x, y.astype(complex), steps=1, progress=False, device=CPU)
    with pytest.raises(TypeError, match="x_train must hold real numbers"):
        train(model, x.astype(str), y, steps=1, progress=False, device=CPU)
    with pytest.raises(ValueError, match="x_train and y_train must have the same number of samples"):
        train(model, x, y[:-1], steps=1, progress=False, device=CPU)
    with pytest.raises(ValueError, match="x_train must have a first"):
        train(model, x[:0], y[:0], steps=1, progress=False, device=CPU)
    with pytest.raises(ValueError, match="x_test and y_test must have the same number of samples"):
        train(model, x, y, x_test=x, y_test=y[:3], steps=1, progress=False, device=CPU)
    with pytest.raises(ValueError, match=r"same shape, got \(20, 1\) and \(20,\)"):
        train(model, x, y.ravel(), steps=1, progress=False, device=CPU)
    with pytest.raises(TypeError, match="integer class labels"):
        train(torch.nn.Linear(3, 2), x, y.ravel(), loss="cross_entropy", steps=1, progress=False, device=CPU)
    with pytest.raises(ValueError, match="no trainable parameters"):
        train(torch.nn.ReLU(), x, x, steps=1, progress=False, device=CPU)


def test_divergence_raises():
    model, x, y = good_args()
    with pytest.raises(FloatingPointError, match="lower lr"):
        train(model, x * 1e3, y, optimizer="sgd", lr=10.0, steps=200, progress=False, device=CPU)


def test_evaluate_errors():
    model, x, y = good_args()
    with pytest.raises(ValueError, match="loss must be one of"):
        evaluate(model, x, y, loss="hinge", device=CPU)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        evaluate("model", x, y, device=CPU)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        evaluate(model, x, y, batch_size=0, device=CPU)
    with pytest.raises(ValueError, match="x_eval and y_eval must have the same number"):
        evaluate(model, x, y[:2], device=CPU)


def test_the_optimizer_is_fused_when_possible_and_plain_otherwise():
    from cosp_helpers.training import _Optimizer

    fast = _Optimizer("adam", [torch.nn.Parameter(torch.zeros(3))], momentum=0.0, weight_decay=0.0)
    assert fast.fused and not hasattr(fast, "torch_optimizer")
    # a dtype without a fused kernel (complex) goes through torch.optim's plain SGD, with the learning rate set per step
    w = torch.nn.Parameter(torch.ones(2, dtype=torch.complex64))
    plain = _Optimizer("sgd", [w], momentum=0.0, weight_decay=0.0)
    assert not plain.fused and isinstance(plain.torch_optimizer, torch.optim.SGD)
    w.grad = torch.full((2,), 2.0 + 0j, dtype=torch.complex64)
    plain.step(0.25)
    assert torch.equal(w.detach(), torch.full((2,), 0.5 + 0j, dtype=torch.complex64))  # 1 - 0.25 * 2, exact in binary


# --- train_ensemble: several models of one architecture as one batched model -------------------------------------------


def tree_data(n: int = 96, seed: int = 3):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 4, generator=g, dtype=torch.float64) * 2 - 1
    return x, torch.sin(2 * x[:, :2].sum(1, keepdim=True)) * x[:, 2:3]


ENSEMBLE_NETS = {
    "tree": lambda s: BinaryTreeNet(4, 5, seed=s),
    "tree on 8 inputs, 2 hidden layers per node, tanh": lambda s: BinaryTreeNet(8, 3, node_depth=2, activation="tanh",
                                                                                 seed=s),
    "shallow": lambda s: ShallowNet(4, 7, seed=s),
    "deep, softplus": lambda s: DeepNet(4, 6, depth=3, activation="softplus", seed=s),
}


def ensemble_data(name: str):
    x, y = tree_data()
    if "8 inputs" in name:
        x = torch.cat([x, x.flip(1)], 1)
    return x, y


@pytest.mark.parametrize("name", list(ENSEMBLE_NETS))
@pytest.mark.parametrize("batch_size, schedule, warmup", [(None, "constant", 0), (32, "cosine", 0), (None, "cosine", 8)])
def test_ensemble_follows_the_separate_runs_step_by_step(name, batch_size, schedule, warmup):
    # members share no parameters and Adam acts element by element, so each member's trajectory is the one train()
    # gives it alone; in float64 the two differ only by the order of summation in the batched kernels
    x, y = ensemble_data(name)
    alone = [ENSEMBLE_NETS[name](s).double() for s in range(3)]
    together = [ENSEMBLE_NETS[name](s).double() for s in range(3)]
    args = {"lr": 0.02, "steps": 40, "batch_size": batch_size, "schedule": schedule, "warmup": warmup, "seed": 5,
            "eval_every": 10, "progress": False, "device": CPU}
    separate = [train(m, x, y, x_test=x[:40], y_test=y[:40], **args) for m in alone]
    batched = train_ensemble(together, x, y, x_test=x[:40], y_test=y[:40], **args)
    for h1, h2 in zip(separate, batched):
        assert h1.steps == h2.steps == [0, 10, 20, 30, 40]
        np.testing.assert_allclose(h2.train_loss, h1.train_loss, rtol=1e-9)
        np.testing.assert_allclose(h2.test_loss, h1.test_loss, rtol=1e-9)
    for m1, m2 in zip(alone, together):  # the trained values are written back into the members
        for p1, p2 in zip(m1.parameters(), m2.parameters()):
            np.testing.assert_allclose(p2.detach().numpy(), p1.detach().numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", list(ENSEMBLE_NETS))
def test_stacked_forward_is_each_members_forward(name):
    # the package's networks run an ensemble as one batch of products; member i must be exactly its own forward
    x, _ = ensemble_data(name)
    members = [ENSEMBLE_NETS[name](s).double() for s in range(4)]
    params = torch.func.stack_module_state(members)[0]
    stacked = members[0]._stacked_forward(params, x)
    assert stacked.shape == (4, x.shape[0], 1)
    for i, member in enumerate(members):
        np.testing.assert_allclose(stacked[i].detach().numpy(), member(x).detach().numpy(), rtol=1e-13, atol=1e-15)


def test_ensemble_cross_entropy_and_the_generic_path_agree_with_train():
    # a 3-class DeepNet, on the native stacked path with cross-entropy; and a torch.nn.Sequential, which train_ensemble
    # runs through torch.func.vmap instead; both must follow train() step by step
    x, _ = tree_data()
    labels = (x[:, 0] > 0).long() + (x[:, 1] > 0.3).long()
    args = {"loss": "cross_entropy", "lr": 0.02, "steps": 30, "batch_size": 32, "seed": 2, "eval_every": 10,
            "progress": False, "device": CPU}
    alone = [DeepNet(4, 6, depth=2, n_outputs=3, seed=s).double() for s in range(2)]
    together = [DeepNet(4, 6, depth=2, n_outputs=3, seed=s).double() for s in range(2)]
    for h1, h2 in zip([train(m, x, labels, **args) for m in alone], train_ensemble(together, x, labels, **args)):
        np.testing.assert_allclose(h2.train_loss, h1.train_loss, rtol=1e-9)
    def generic(seed):  # not one of the package's networks: train_ensemble runs it through torch.func.vmap
        torch.manual_seed(seed)
        return torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 1)).double()

    assert _stacks_natively(alone[0], {}, "cross_entropy") and not _stacks_natively(generic(0), {}, "mse")
    y = torch.sin(x.sum(1, keepdim=True))
    args = args | {"loss": "mse"}
    separate = [train(generic(s), x, y, **args) for s in range(2)]
    for h1, h2 in zip(separate, train_ensemble([generic(s) for s in range(2)], x, y, **args)):
        np.testing.assert_allclose(h2.train_loss, h1.train_loss, rtol=1e-9)


def _pointer_transformers(seeds, **options):
    from cosp_helpers.attention import TinyTransformer, pointer_task

    task = pointer_task(200, seq_len=6, vocab=4, n_pointers=2, seed=3)
    nets = [TinyTransformer(task.field_sizes, 6, 4, d_model=8, n_heads=2, d_mlp=12, seed=s, **options).double()
            for s in seeds]
    return task, nets


TRANSFORMER_FORMS = [{}, {"block": "parallel", "n_layers": 2}, {"block": "memo"}, {"attention": "sparsemax"},
                     {"attention": "thresholded", "threshold": 0.2}]


@pytest.mark.parametrize("options", TRANSFORMER_FORMS, ids=lambda o: "-".join(map(str, o.values())) or "standard")
def test_a_transformer_ensemble_follows_the_separate_runs(options):
    # notebook 10's model: its stacked forward is each member's forward, and train_ensemble follows train() step by
    # step with the cross-entropy over every position (logits (n, T, classes), labels (n, T))
    task, alone = _pointer_transformers(range(3), **options)
    _, together = _pointer_transformers(range(3), **options)
    x = torch.as_tensor(task.tokens)
    stacked = alone[0]._stacked_forward(torch.func.stack_module_state(alone)[0], x)
    for i, member in enumerate(alone):
        np.testing.assert_allclose(stacked[i].detach().numpy(), member(x).detach().numpy(), rtol=1e-12, atol=1e-14)
    args = {"loss": "cross_entropy", "lr": 0.01, "steps": 20, "batch_size": 64, "schedule": "cosine", "seed": 4,
            "eval_every": 10, "progress": False, "device": CPU}
    assert _stacks_natively(alone[0], {}, "cross_entropy")
    separate = [train(m, task.tokens, task.labels, x_test=task.tokens[:50], y_test=task.labels[:50], **args) for m in alone]
    batched = train_ensemble(together, task.tokens, task.labels, x_test=task.tokens[:50], y_test=task.labels[:50], **args)
    for h1, h2 in zip(separate, batched):
        np.testing.assert_allclose(h2.train_loss, h1.train_loss, rtol=1e-9)
        np.testing.assert_allclose(h2.test_loss, h1.test_loss, rtol=1e-9)
    assert batched[0].final_train_loss < batched[0].train_loss[0]


def test_cross_entropy_over_positions_and_refused_shapes():
    # the class axis is the last: a (n, T, classes) output is scored at every position, as the mean of the per-position
    # losses; torch's own layout (classes on axis 1) would have read T as the number of classes
    logits = torch.randn(5, 3, 4, generator=torch.Generator().manual_seed(0))
    labels = torch.randint(0, 4, (5, 3), generator=torch.Generator().manual_seed(1))
    from cosp_helpers.training import _cross_entropy

    by_hand = np.mean([float(torch.nn.functional.cross_entropy(logits[:, t], labels[:, t])) for t in range(3)])
    assert float(_cross_entropy(logits, labels)) == pytest.approx(by_hand, rel=1e-6)
    with pytest.raises(ValueError, match=r"logits of shape \(n, \.\.\., classes\).*got logits \(5, 4, 3\)"):
        _cross_entropy(logits.transpose(1, 2), labels)
    model = torch.nn.Linear(3, 4)
    with pytest.raises(ValueError, match="labels of shape"):
        train(model, np.zeros((6, 3), np.float32), np.zeros((6, 2), np.int64), loss="cross_entropy", steps=1,
              progress=False, device=CPU)


def test_ensemble_members_must_compute_the_same_function():
    # same class and parameter shapes, another forward: the batch would run them all as the first one
    task, soft = _pointer_transformers([0])
    _, sparse = _pointer_transformers([1], attention="sparsemax")
    with pytest.raises(ValueError, match="computes another function of the same parameters"):
        train_ensemble(soft + sparse, task.tokens, task.labels, loss="cross_entropy", steps=1, progress=False, device=CPU)
    with pytest.raises(ValueError, match="computes another function"):
        train_ensemble([DeepNet(4, 6, depth=2, seed=0), DeepNet(4, 6, depth=2, activation="tanh", seed=1)], np.zeros((8, 4), np.float32),
                       np.zeros((8, 1), np.float32), steps=1, progress=False, device=CPU)


def test_ensemble_members_differ_and_fit():
    x, y = (t.float() for t in tree_data(128))  # float32: batched float64 products take a slow path in torch
    members = [DeepNet(4, 16, depth=2, seed=s) for s in range(2)]
    start = [evaluate(m, x, y, device=CPU) for m in members]
    hs = train_ensemble(members, x, y, lr=0.01, steps=300, progress=False, device=CPU)
    assert hs[0].final_train_loss != hs[1].final_train_loss  # different initialisations, different runs
    for h, before, m in zip(hs, start, members):
        assert h.train_loss[0] == pytest.approx(before, rel=1e-5)  # float32 sums in another order
        assert h.final_train_loss < before / 5
        assert evaluate(m, x, y, device=CPU) == pytest.approx(h.final_train_loss, rel=1e-5)
        assert h.final_test_loss is None and h.test_loss == []


def test_ensemble_weight_decay_matches_train():
    x, y = linear_data()
    alone, together = linear_model(seed=1), linear_model(seed=1)
    h1 = train(alone, x, y, lr=0.05, steps=50, weight_decay=0.1, progress=False, device=CPU)
    (h2,) = train_ensemble([together], x, y, lr=0.05, steps=50, weight_decay=0.1, progress=False, device=CPU)
    assert h2.final_train_loss == pytest.approx(h1.final_train_loss, rel=1e-9)


def test_ensemble_divergence_names_the_member():
    x, y = linear_data()
    with pytest.raises(FloatingPointError, match=r"models\[0\]"):
        train_ensemble([linear_model(seed=0), linear_model(seed=1)], x, y * 1e200, lr=1e3, steps=50, optimizer="sgd",
                       progress=False, device=CPU)


@pytest.mark.parametrize(
    "models, kwargs, error, message",
    [
        ("net", {}, TypeError, "models must be a non-empty list"),
        ([], {}, TypeError, "models must be a non-empty list"),
        (["net", 3], {}, TypeError, r"models\[1\] must be a torch.nn.Module"),
        (["net", "same"], {}, ValueError, "models must be distinct modules"),
        (["net", "other"], {}, ValueError, r"models must share one architecture .* models\[1\]"),
        (["net"], {"loss": "huber"}, ValueError, "loss must be one of"),
        (["net"], {"optimizer": "lbfgs"}, ValueError, "optimizer must be one of"),
        (["net"], {"schedule": "step"}, ValueError, "schedule must be one of"),
        (["net"], {"lr": -1.0}, ValueError, "lr must be > 0"),
        (["net"], {"steps": 0}, ValueError, "steps must be >= 1"),
        (["net"], {"weight_decay": -0.5}, ValueError, "weight_decay must be >= 0"),
        (["net"], {"batch_size": 500}, ValueError, "batch_size must be <= the number of training samples"),
        (["net"], {"warmup": 3}, ValueError, "warmup must be smaller than the number of steps"),
        (["net"], {"eval_every": 0}, ValueError, "eval_every must be >= 1"),
        (["net"], {"x_test": np.zeros((3, 3))}, ValueError, "give both x_test and y_test"),
        (["net"], {"progress": 1}, TypeError, "progress must be True or False"),
    ],
)
def test_train_ensemble_errors(models, kwargs, error, message):
    x, y = linear_data()
    net = linear_model()
    named = {"net": net, "same": net, "other": torch.nn.Linear(2, 1).double()}
    if isinstance(models, list):
        models = [named.get(m, m) if isinstance(m, str) else m for m in models]
    args = {"steps": 3, "progress": False, "device": CPU} | kwargs
    with pytest.raises(error, match=message):
        train_ensemble(models, x, y, **args)


def test_train_ensemble_refuses_frozen_parameters_and_nan_data():
    x, y = linear_data()
    frozen = linear_model()
    frozen.bias.requires_grad_(False)
    with pytest.raises(ValueError, match=r"models\[0\] has frozen parameters"):
        train_ensemble([frozen], x, y, steps=3, progress=False, device=CPU)
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="x_train must be finite"):
        train_ensemble([linear_model()], bad, y, steps=3, progress=False, device=CPU)


@pytest.mark.parametrize(
    "name, momentum, weight_decay, dtype",
    [("adam", 0.0, 0.0, torch.float32), ("adam", 0.0, 1e-3, torch.float64), ("sgd", 0.0, 1e-3, torch.float32),
     ("sgd", 0.9, 0.0, torch.float64)],
)  # fmt: skip
def test_the_optimizer_is_torch_optim_fused_bit_for_bit(name, momentum, weight_decay, dtype):
    """The fused kernels called directly, with the learning rate set each step, give exactly the parameters
    of ``torch.optim.Adam``/``SGD(fused=True)`` driven by ``LambdaLR`` with the same schedule."""
    from cosp_helpers.training import _lr_factor, _Optimizer

    torch.manual_seed(0)
    ref_model = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 1)).to(dtype)
    our_model = copy.deepcopy(ref_model)
    x, y = torch.randn(32, 5, dtype=dtype), torch.randn(32, 1, dtype=dtype)
    settings = {"lr": 0.01, "weight_decay": weight_decay} | ({"momentum": momentum} if name == "sgd" else {})
    ref = (torch.optim.Adam if name == "adam" else torch.optim.SGD)(ref_model.parameters(), fused=True, **settings)
    schedule = torch.optim.lr_scheduler.LambdaLR(ref, lambda k: _lr_factor(k, 50, "cosine"))
    ours = _Optimizer(name, list(our_model.parameters()), momentum=momentum, weight_decay=weight_decay)
    for k in range(50):
        for model, opt in ((ref_model, ref), (our_model, ours)):
            opt.zero_grad()
            ((model(x) - y) ** 2).mean().backward()
        ref.step()
        schedule.step()
        ours.step(0.01 * _lr_factor(k, 50, "cosine"))
    assert all(torch.equal(p, q) for p, q in zip(ref_model.parameters(), our_model.parameters()))


def test_training_does_not_import_dynamo():
    """torch.optim's step wrappers import torch._dynamo (seconds per kernel); train, train_ensemble and
    train_side_by_side do not."""
    code = (
        "import sys, torch, cosp_helpers as cosp\n"
        "x = torch.rand(64, 8); y = x.sum(1, keepdim=True)\n"
        "cosp.train(cosp.ShallowNet(8, 4, seed=0), x, y, steps=3, schedule='cosine', progress=False)\n"
        "cosp.train_ensemble([cosp.ShallowNet(8, 4, seed=s) for s in range(2)], x, y, steps=3, progress=False)\n"
        "cosp.hierarchical.train_side_by_side([cosp.ShallowNet(8, 4, seed=s) for s in range(2)], [(x.numpy(), y.numpy())] * 2, steps=3,\n"
        "                        batch_size=None, weight_decay=0.1)\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stdout + out.stderr
