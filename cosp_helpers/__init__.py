"""cosp_helpers: the tested machinery behind the Compositional Sparsity notebooks.

One module per concept; everything public is re-exported here, so a notebook needs only
``import cosp_helpers as cosp``.

* :mod:`~cosp_helpers.runtime` -- seeding and the ``COSP_SEED`` knob, device, the ``COSP_SCALE`` knob, versions
* :mod:`~cosp_helpers.claims` -- checked results: claims and sanity checks with printed margins
* :mod:`~cosp_helpers.curse` -- counts and concentration of measure in high dimension
* :mod:`~cosp_helpers.approximation` -- approximants and the error-vs-parameters runner
* :mod:`~cosp_helpers.rates` -- log-log slope fits
* :mod:`~cosp_helpers.plotting` -- figures for the back row
* :mod:`~cosp_helpers.widgets` -- explorers: sliders driving a tested compute function
* :mod:`~cosp_helpers.exercises` -- self-checks for exercises
* :mod:`~cosp_helpers.course` -- the course map
* :mod:`~cosp_helpers.superposition` -- Kolmogorov's superposition theorem, constructively; Vitushkin's counting
* :mod:`~cosp_helpers.graphs` -- compositional DAGs: build, validate, depth, evaluate, draw
* :mod:`~cosp_helpers.boolean` -- Boolean circuits and Walsh--Hadamard spectra
* :mod:`~cosp_helpers.training` -- one seeded training loop for every experiment
* :mod:`~cosp_helpers.networks` -- shallow, deep and graph-shaped networks
* :mod:`~cosp_helpers.convolution` -- patches, locally connected and convolutional layers, Toeplitz matrices
* :mod:`~cosp_helpers.bounds` -- norm-based Rademacher bounds and Monte Carlo estimates
* :mod:`~cosp_helpers.regularization` -- l1 and l2 penalties, near-zero weights, threshold pruning
* :mod:`~cosp_helpers.relu` -- hand-wired ReLU constructions: indicators, min, threshold
* :mod:`~cosp_helpers.lemma2` -- Lemma 2 built: deep ReLU networks for binary-tree functions
* :mod:`~cosp_helpers.depth` -- depth separation: sawtooth, Yarotsky's square, Takagi
* :mod:`~cosp_helpers.signals` -- image-like signals on a ring: non-linear Gaussian processes and their Gaussian control
* :mod:`~cosp_helpers.pruning` -- magnitude pruning with rewinding, beta-lasso, locality metrics
* :mod:`~cosp_helpers.pointer` -- a sequence task with a known, input-dependent graph; graph recovery
* :mod:`~cosp_helpers.attention` -- a small transformer with exposed attention, sparse attention, Lemma 3
* :mod:`~cosp_helpers.memory` -- associative memories and soft look-up
* :mod:`~cosp_helpers.hierarchical` -- hierarchical Gaussian targets, layer-wise training
* :mod:`~cosp_helpers.splines` -- path norms and knot counting for 1-D ReLU fits
"""

from .approximation import *  # noqa: F403
from .attention import *  # noqa: F403
from .boolean import *  # noqa: F403
from .claims import *  # noqa: F403
from .bounds import *  # noqa: F403
from .convolution import *  # noqa: F403
from .course import *  # noqa: F403
from .curse import *  # noqa: F403
from .depth import *  # noqa: F403
from .exercises import *  # noqa: F403
from .graphs import *  # noqa: F403
from .hierarchical import *  # noqa: F403
from .lemma2 import *  # noqa: F403
from .memory import *  # noqa: F403
from .networks import *  # noqa: F403
from .plotting import *  # noqa: F403
from .pointer import *  # noqa: F403
from .pruning import *  # noqa: F403
from .rates import *  # noqa: F403
from .regularization import *  # noqa: F403
from .relu import *  # noqa: F403
from .runtime import *  # noqa: F403
from .signals import *  # noqa: F403
from .splines import *  # noqa: F403
from .superposition import *  # noqa: F403
from .training import *  # noqa: F403
from .widgets import *  # noqa: F403
from . import (  # noqa: E402
    approximation,
    attention,
    boolean,
    claims,
    bounds,
    convolution,
    course,
    curse,
    depth,
    exercises,
    graphs,
    hierarchical,
    lemma2,
    memory,
    networks,
    plotting,
    pointer,
    pruning,
    rates,
    regularization,
    relu,
    runtime,
    signals,
    splines,
    superposition,
    training,
    widgets,
)

__version__ = "0.1.0"

__all__ = (
    approximation.__all__
    + attention.__all__
    + boolean.__all__
    + claims.__all__
    + bounds.__all__
    + convolution.__all__
    + course.__all__
    + curse.__all__
    + depth.__all__
    + exercises.__all__
    + graphs.__all__
    + hierarchical.__all__
    + lemma2.__all__
    + memory.__all__
    + networks.__all__
    + plotting.__all__
    + pointer.__all__
    + pruning.__all__
    + rates.__all__
    + regularization.__all__
    + relu.__all__
    + runtime.__all__
    + signals.__all__
    + splines.__all__
    + superposition.__all__
    + training.__all__
    + widgets.__all__
)
