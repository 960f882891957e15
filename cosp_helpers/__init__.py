"""cosp_helpers: the tested machinery behind the Compositional Sparsity notebooks.

One module per concept; everything public is re-exported here, so a notebook needs only
``import cosp_helpers as cosp``.

* :mod:`~cosp_helpers.runtime` -- seeding, device, the ``COSP_SCALE`` knob, versions
* :mod:`~cosp_helpers.curse` -- counts and concentration of measure in high dimension
* :mod:`~cosp_helpers.approximation` -- approximants and the error-vs-parameters runner
* :mod:`~cosp_helpers.rates` -- log-log slope fits
* :mod:`~cosp_helpers.plotting` -- figures for the back row
* :mod:`~cosp_helpers.widgets` -- explorers: sliders driving a tested compute function
* :mod:`~cosp_helpers.exercises` -- self-checks for exercises
* :mod:`~cosp_helpers.course` -- the course map
"""

from .approximation import *  # noqa: F403
from .course import *  # noqa: F403
from .curse import *  # noqa: F403
from .exercises import *  # noqa: F403
from .plotting import *  # noqa: F403
from .rates import *  # noqa: F403
from .runtime import *  # noqa: F403
from . import approximation, course, curse, exercises, plotting, rates, runtime, widgets
from .widgets import *  # noqa: F403

__version__ = "0.1.0"

__all__ = (
    approximation.__all__
    + course.__all__
    + curse.__all__
    + exercises.__all__
    + plotting.__all__
    + rates.__all__
    + runtime.__all__
    + widgets.__all__
)
