"""Tools to prove gradients: finite-difference checkers, (in `strategies`, which needs
hypothesis) generators of valid inputs, and random programs of ops, in-place ops and
views (`programs`) checked against finite differences. Public, so users test their own ops the
way microtensor tests its own."""

from .gradcheck import (
    CheckReport,
    GradcheckError,
    analytical_jacobian,
    check_grads,
    gradcheck,
    gradgradcheck,
    numerical_jacobian,
)
from .programs import Program, check_program, programs, random_program

__all__ = [
    "check_grads",
    "gradcheck",
    "gradgradcheck",
    "GradcheckError",
    "CheckReport",
    "numerical_jacobian",
    "analytical_jacobian",
    "Program",
    "programs",
    "random_program",
    "check_program",
]
