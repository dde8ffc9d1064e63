"""interop.optim.lr_scheduler against PyTorch's: every scheduler, with two option sets,
sets the same learning rates (and cycled momenta or betas) as PyTorch's over 100 steps, bit
for bit; a state_dict taken mid-way resumes the same sequence; warnings and errors are
PyTorch's."""

import math
import warnings

import numpy as np
import pytest

import interop as it

torch = pytest.importorskip("torch")


def _sgd(lib):
    """SGD with momentum over two groups of different learning rates."""
    params = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
    return lib.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.5}], lr=0.1,
                         momentum=0.9)


def _adam(lib):
    """Adam over two groups (the cyclic schedulers cycle its beta1)."""
    params = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
    return lib.optim.Adam([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.02}], lr=0.01)


def _sched(lib):
    return lib.optim.lr_scheduler


class _Scale:
    """A callable object: its attributes go into the state_dict (a function's would not)."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate ** epoch


# name -> (optimizer, scheduler factory), two option sets per scheduler
CASES = {
    "StepLR-a": (_sgd, lambda s, o: s.StepLR(o, 7, gamma=0.5)),
    "StepLR-b": (_adam, lambda s, o: s.StepLR(o, step_size=30)),
    "MultiStepLR-a": (_sgd, lambda s, o: s.MultiStepLR(o, [10, 30, 30, 70], gamma=0.3)),
    "MultiStepLR-b": (_adam, lambda s, o: s.MultiStepLR(o, milestones=[5, 95])),
    "ExponentialLR-a": (_sgd, lambda s, o: s.ExponentialLR(o, 0.97)),
    "ExponentialLR-b": (_adam, lambda s, o: s.ExponentialLR(o, gamma=1.01)),
    "CosineAnnealingLR-a": (_sgd, lambda s, o: s.CosineAnnealingLR(o, T_max=17, eta_min=0.001)),
    "CosineAnnealingLR-b": (_adam, lambda s, o: s.CosineAnnealingLR(o, 100)),
    "CosineAnnealingWarmRestarts-a": (_sgd, lambda s, o: s.CosineAnnealingWarmRestarts(
        o, T_0=5, T_mult=2, eta_min=0.01)),
    "CosineAnnealingWarmRestarts-b": (_adam, lambda s, o: s.CosineAnnealingWarmRestarts(o, 13)),
    "CyclicLR-a": (_sgd, lambda s, o: s.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=7,
                                                  step_size_down=4, mode="triangular2")),
    "CyclicLR-b": (_adam, lambda s, o: s.CyclicLR(o, [0.001, 0.002], 0.1, step_size_up=6,
                                                   mode="exp_range", gamma=0.98,
                                                   base_momentum=0.85, max_momentum=0.95)),
    "CyclicLR-c": (_sgd, lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=9,
                                                  cycle_momentum=False)),
    "OneCycleLR-a": (_sgd, lambda s, o: s.OneCycleLR(o, 0.3, total_steps=100)),
    "OneCycleLR-b": (_adam, lambda s, o: s.OneCycleLR(o, [0.3, 0.6], epochs=12,
                                                       steps_per_epoch=10, three_phase=True,
                                                       anneal_strategy="linear")),
    "LambdaLR-a": (_sgd, lambda s, o: s.LambdaLR(o, lambda e: 0.95 ** e)),
    "LambdaLR-b": (_adam, lambda s, o: s.LambdaLR(o, [_Scale(0.9), lambda e: 1 / (e + 1)])),
    "MultiplicativeLR-a": (_sgd, lambda s, o: s.MultiplicativeLR(o, lambda e: 0.99)),
    "MultiplicativeLR-b": (_adam, lambda s, o: s.MultiplicativeLR(
        o, [lambda e: 1.01, _Scale(0.999)])),
    "LinearLR-a": (_sgd, lambda s, o: s.LinearLR(o, start_factor=0.2, end_factor=0.9,
                                                  total_iters=30)),
    "LinearLR-b": (_adam, lambda s, o: s.LinearLR(o)),
    "ConstantLR-a": (_sgd, lambda s, o: s.ConstantLR(o, factor=0.3, total_iters=12)),
    "ConstantLR-b": (_adam, lambda s, o: s.ConstantLR(o)),
    "PolynomialLR-a": (_sgd, lambda s, o: s.PolynomialLR(o, total_iters=40, power=2.0)),
    "PolynomialLR-b": (_adam, lambda s, o: s.PolynomialLR(o, total_iters=150, power=0.5)),
    "SequentialLR-a": (_sgd, lambda s, o: s.SequentialLR(
        o, [s.LinearLR(o, 0.1, total_iters=10), s.CosineAnnealingLR(o, 30),
            s.ExponentialLR(o, 0.9)], milestones=[10, 50])),
    "SequentialLR-b": (_adam, lambda s, o: s.SequentialLR(
        o, [s.ConstantLR(o, 0.5, total_iters=20), s.StepLR(o, 10, 0.5)], milestones=[30])),
    "ChainedScheduler-a": (_sgd, lambda s, o: s.ChainedScheduler(
        [s.ConstantLR(o, 0.1, total_iters=10), s.ExponentialLR(o, 0.95)])),
    "ChainedScheduler-b": (_adam, lambda s, o: s.ChainedScheduler(
        [s.LinearLR(o, 0.5, total_iters=20), s.CosineAnnealingLR(o, 25)], optimizer=o)),
}

_METRICS = list(np.cumsum(np.random.default_rng(0).standard_normal(100)) + 50)
PLATEAU = {
    "ReduceLROnPlateau-a": {},
    "ReduceLROnPlateau-b": {"mode": "max", "factor": 0.5, "patience": 3, "threshold": 0.1,
                            "threshold_mode": "abs", "cooldown": 2, "min_lr": [0.01, 0.02]},
    "ReduceLROnPlateau-c": {"patience": 2, "threshold": 0.01, "cooldown": 1, "eps": 0.05},
}


def _observe(opt, scheduler):
    groups = opt.param_groups
    return (scheduler.get_last_lr(), [g["lr"] for g in groups],
            [g.get("momentum") for g in groups], [g.get("betas") for g in groups])


def _run(lib, make_opt, make_sched, steps, start=None):
    """The rates (and momenta) after each of ``steps`` steps; ``start``: a (optimizer state,
    scheduler state) pair to resume from."""
    opt = make_opt(lib)
    scheduler = make_sched(_sched(lib), opt)
    if start is not None:
        opt.load_state_dict(start[0])
        scheduler.load_state_dict(start[1])
    seen = []
    for i in range(steps):
        opt.step()
        if isinstance(scheduler, _sched(lib).ReduceLROnPlateau):
            k = i if start is None else i + 50
            scheduler.step(_METRICS[k])
        else:
            scheduler.step()
        seen.append(_observe(opt, scheduler))
    return seen, opt, scheduler


def _all_cases():
    cases = dict(CASES)
    for name, kwargs in PLATEAU.items():
        cases[name] = (_sgd, lambda s, o, kwargs=kwargs: s.ReduceLROnPlateau(o, **kwargs))
    return cases


ALL = _all_cases()


@pytest.mark.parametrize("name", list(ALL))
def test_sequence_equals_torch(name):
    make_opt, make_sched = ALL[name]
    ours, _, _ = _run(it, make_opt, make_sched, 100)
    theirs, _, _ = _run(torch, make_opt, make_sched, 100)
    assert ours == theirs


@pytest.mark.parametrize("name", list(ALL))
def test_state_dict_resumes_mid_way(name):
    make_opt, make_sched = ALL[name]
    straight, _, _ = _run(it, make_opt, make_sched, 100)
    _, opt, scheduler = _run(it, make_opt, make_sched, 50)
    start = (opt.state_dict(), scheduler.state_dict())
    resumed, _, _ = _run(it, make_opt, make_sched, 50, start=start)
    assert resumed == straight[50:]


def test_state_dict_keys_match_torch():
    for make_sched in (lambda s, o: s.StepLR(o, 3), lambda s, o: s.CosineAnnealingLR(o, 10),
                       lambda s, o: s.OneCycleLR(o, 1.0, total_steps=10)):
        keys = [sorted(make_sched(_sched(lib), _sgd(lib)).state_dict()) for lib in (it, torch)]
        assert keys[0] == keys[1]


def test_callable_lambda_state_is_saved_and_restored():
    opt = _sgd(it)
    scale = _Scale(0.9)
    scheduler = it.optim.lr_scheduler.LambdaLR(opt, [scale, lambda e: 1.0])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.9}, None]
    scale.rate = 0.5
    scheduler.load_state_dict(state)
    assert scale.rate == 0.9


def test_closed_form_step_with_epoch_matches_torch():
    out = []
    for lib in (it, torch):
        opt = _sgd(lib)
        scheduler = _sched(lib).StepLR(opt, 3, gamma=0.5)
        opt.step()
        with pytest.warns(UserWarning, match="epoch parameter"):
            scheduler.step(7)
        out.append(scheduler.get_last_lr())
    assert out[0] == out[1] == [0.1 * 0.25, 0.5 * 0.25]


def test_warm_restarts_take_fractional_epochs_as_torch():
    out = []
    for lib in (it, torch):
        opt = _sgd(lib)
        scheduler = _sched(lib).CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2)
        for epoch in (0.5, 1.25, 3.9, 4.0, 7.5, 13.0, 30.2):
            opt.step()
            scheduler.step(epoch)
            out.append(scheduler.get_last_lr())
    assert out[:7] == out[7:]


def test_warnings_match_torch():
    for lib in (it, torch):
        opt = _sgd(lib)
        scheduler = _sched(lib).StepLR(opt, 2)
        with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
            scheduler.step()
        with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
            scheduler.get_lr()
        opt = _sgd(lib)
        scheduler = _sched(lib).StepLR(opt, 2)
        opt.step()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            scheduler.step()


def _error(fn):
    try:
        fn()
    except Exception as e:          # noqa: BLE001 - the test compares whatever was raised
        return type(e), str(e)
    return None


_BAD = [
    lambda s, o: s.StepLR(object(), 3),
    lambda s, o: s.ConstantLR(o, factor=1.5),
    lambda s, o: s.LinearLR(o, start_factor=0),
    lambda s, o: s.LinearLR(o, end_factor=2),
    lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=0),
    lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3, eta_min="0"),
    lambda s, o: s.OneCycleLR(o, 0.1),
    lambda s, o: s.OneCycleLR(o, 0.1, total_steps=0),
    lambda s, o: s.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=-1),
    lambda s, o: s.OneCycleLR(o, 0.1, total_steps=10, pct_start=1.5),
    lambda s, o: s.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="exp"),
    lambda s, o: s.OneCycleLR(o, [0.1], total_steps=10),
    lambda s, o: s.CyclicLR(o, 0.1, 1.0, mode="square"),
    lambda s, o: s.LambdaLR(o, [lambda e: 1.0]),
    lambda s, o: s.MultiplicativeLR(o, 0.5),
    lambda s, o: s.ReduceLROnPlateau(o, factor=1.0),
    lambda s, o: s.ReduceLROnPlateau(o, mode="lowest"),
    lambda s, o: s.ReduceLROnPlateau(o, threshold_mode="log"),
    lambda s, o: s.ReduceLROnPlateau(o, min_lr=[0.1]),
    lambda s, o: s.SequentialLR(o, [], milestones=[]),
    lambda s, o: s.SequentialLR(o, [s.StepLR(o, 2), s.StepLR(o, 3)], milestones=[]),
    lambda s, o: s.SequentialLR(o, [s.ReduceLROnPlateau(o)], milestones=[]),
    lambda s, o: s.ChainedScheduler([]),
    lambda s, o: s.StepLR(o, 2, last_epoch=5),
]


@pytest.mark.parametrize("i", range(len(_BAD)))
def test_errors_match_torch(i):
    theirs = _error(lambda: _BAD[i](_sched(torch), _sgd(torch)))
    ours = _error(lambda: _BAD[i](_sched(it), _sgd(it)))
    assert theirs is not None and ours is not None and ours[0] == theirs[0]
    if i != 24:     # resuming without initial_lr: the same KeyError, our own explanation
        assert ours == theirs


def test_cycle_momentum_needs_momentum_and_one_cycle_stops_at_total_steps():
    for lib in (it, torch):
        p = lib.zeros(2, requires_grad=True)
        with pytest.raises(ValueError, match="must support momentum or beta1"):
            _sched(lib).CyclicLR(lib.optim.Adagrad([p]), 0.01, 0.1)
        opt = _sgd(lib)
        scheduler = _sched(lib).OneCycleLR(opt, 0.1, total_steps=3)
        for _ in range(2):
            opt.step()
            scheduler.step()
        with pytest.raises(ValueError, match="Tried to step 4 times"):
            opt.step()
            scheduler.step()
            scheduler.step()


def test_tensor_learning_rates_are_written_in_place():
    opt = it.optim.SGD([it.zeros(2, requires_grad=True)], lr=it.tensor(0.1, dtype=it.float64))
    lr = opt.param_groups[0]["lr"]
    scheduler = it.optim.lr_scheduler.ExponentialLR(opt, 0.5)
    opt.step()
    scheduler.step()
    assert opt.param_groups[0]["lr"] is lr and math.isclose(float(lr), 0.05)
    assert float(scheduler.get_last_lr()[0]) == 0.05 and scheduler.get_last_lr()[0] is not lr
