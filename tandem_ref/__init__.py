"""tandem_ref: a reference implementation of TANDEM and its peers on one shared loop.

    from tandem_ref import get_method, QuadraticProblem
    trace = get_method("tandem", gamma=1.0).run(QuadraticProblem.random(seed=0), budget=500, seed=0)
    trace.weights  # {domain: weight}
"""

from .errors import BadInput, UnknownName
from .loop import LoopSpec, LoopState, load_state, save_state
from .problem import Cost, DomainGrads, PairedLosses, Problem, VectorProblem
from .quadratic import QuadraticProblem
from .registry import METHODS, get_method, method_names
from .schedules import SCHEDULES, make_schedule
from .simplex import mirror_step, project_simplex, projected_step, smooth, validate_mixture
from .trace import Trace

__version__ = "0.1.0"

__all__ = [
    "BadInput", "UnknownName", "LoopSpec", "LoopState", "load_state", "save_state", "Cost", "DomainGrads",
    "PairedLosses", "Problem", "VectorProblem", "QuadraticProblem", "METHODS", "get_method", "method_names",
    "SCHEDULES", "make_schedule", "mirror_step", "project_simplex", "projected_step", "smooth", "validate_mixture",
    "Trace", "__version__",
]
