"""cosp_helpers: the tested machinery behind the Compositional Sparsity notebooks.

``import cosp_helpers as cosp`` gives a small core that most notebooks use, at the top level: seeding and
the ``COSP_SEED``/``COSP_SCALE`` knobs, checked claims, exercises, figures and explorers, the training loop,
and the standard networks. Everything else lives in one namespace per concept, e.g. ``cosp.depth.sawtooth``
or ``cosp.circuits.walsh_hadamard``; ``cosp.<namespace>.__all__`` lists what each holds.

The core (its modules are namespaces too):

* :mod:`~cosp_helpers.runtime` -- seeding and the ``COSP_SEED`` knob, device, the ``COSP_SCALE`` knob, runs side by side
  on the cores (``COSP_WORKERS``), versions
* :mod:`~cosp_helpers.claims` -- checked results: claims and sanity checks with printed margins
* :mod:`~cosp_helpers.exercises` -- self-checks for exercises
* :mod:`~cosp_helpers.plotting` -- figures for the back row
* :mod:`~cosp_helpers.widgets` -- explorers: sliders driving a tested compute function
* :mod:`~cosp_helpers.training` -- one seeded training loop for every experiment, and ensembles trained as one
* :mod:`~cosp_helpers.networks` -- shallow, deep and binary-tree networks; parameter counts; the MP counts
* :mod:`~cosp_helpers.rates` -- log-log slope fits

The namespaces, in course order:

* :mod:`~cosp_helpers.course` -- the course map (00)
* :mod:`~cosp_helpers.curse` -- counts and concentration of measure in high dimension (01)
* :mod:`~cosp_helpers.approximation` -- approximants and the error-vs-parameters runner (01, 05)
* :mod:`~cosp_helpers.superposition` -- Kolmogorov's superposition theorem, constructively; Vitushkin's counting (02)
* :mod:`~cosp_helpers.circuits` -- compositional graphs (Definition 1), Boolean circuits, Walsh--Hadamard spectra (03)
* :mod:`~cosp_helpers.relu` -- hand-wired ReLU networks: indicators, min, threshold, and Lemma 2's deep network (05)
* :mod:`~cosp_helpers.depth` -- depth separation: sawtooth, Yarotsky's square, Takagi (06)
* :mod:`~cosp_helpers.bounds` -- convolution as a sparse matrix; norm-based Rademacher bounds and Monte Carlo estimates (07)
* :mod:`~cosp_helpers.pruning` -- penalties, near-zero weights, magnitude pruning, beta-lasso, locality (08, 09)
* :mod:`~cosp_helpers.signals` -- image-like signals on a ring: non-linear Gaussian processes and their Gaussian control (09)
* :mod:`~cosp_helpers.attention` -- a small transformer with exposed attention, sparse attention, Lemma 3, a pointer task (10)
* :mod:`~cosp_helpers.memory` -- associative memories and soft look-up (11)
* :mod:`~cosp_helpers.hierarchical` -- hierarchical Gaussian targets, layer-wise training (12)
* :mod:`~cosp_helpers.splines` -- path norms and knot counting for 1-D ReLU fits (13)
"""

from . import (
    approximation,
    attention,
    bounds,
    circuits,
    claims,
    course,
    curse,
    depth,
    exercises,
    hierarchical,
    memory,
    networks,
    plotting,
    pruning,
    rates,
    relu,
    runtime,
    signals,
    splines,
    superposition,
    training,
    widgets,
)
from .claims import CheckFailed, check, sanity
from .exercises import NOT_ANSWERED, check_answer
from .networks import BinaryTreeNet, DeepNet, ShallowNet, count_parameters, parameter_count, width_for_budget
from .plotting import lecture_rc, plot_loglog, show
from .rates import fit_loglog_slope
from .runtime import (
    base_seed,
    derive_seed,
    get_device,
    get_scale,
    parallel_map,
    run_seeds,
    scaled,
    seed_everything,
    versions,
)
from .training import evaluate, train, train_ensemble
from .widgets import Explorer, dropdown, float_slider, int_slider, log_slider

__version__ = "0.1.0"

#: The core: the names most notebooks use. Everything else is ``cosp.<namespace>.<name>``.
__all__ = [
    # runtime
    "base_seed",
    "derive_seed",
    "run_seeds",
    "seed_everything",
    "get_device",
    "get_scale",
    "scaled",
    "parallel_map",
    "versions",
    # checked claims and exercises
    "check",
    "sanity",
    "CheckFailed",
    "check_answer",
    "NOT_ANSWERED",
    # figures and explorers
    "lecture_rc",
    "plot_loglog",
    "show",
    "Explorer",
    "int_slider",
    "float_slider",
    "log_slider",
    "dropdown",
    # training and the standard networks
    "train",
    "train_ensemble",
    "evaluate",
    "ShallowNet",
    "DeepNet",
    "BinaryTreeNet",
    "count_parameters",
    "parameter_count",
    "width_for_budget",
    "fit_loglog_slope",
]

#: The namespaces, one per concept (the core's own modules included).
NAMESPACES = (
    "runtime", "claims", "exercises", "plotting", "widgets", "training", "networks", "rates",
    "course", "curse", "approximation", "superposition", "circuits", "relu", "depth", "bounds", "pruning",
    "signals", "attention", "memory", "hierarchical", "splines",
)  # fmt: skip
