"""Tools to prove gradients: finite-difference checkers and (in `strategies`, which
needs hypothesis) generators of valid inputs. Public, so users test their own ops the
way microtensor tests its own."""
from .gradcheck import (CheckReport, GradcheckError, analytical_jacobian, check_grads,
                        gradcheck, gradgradcheck, numerical_jacobian)

__all__ = ["check_grads", "gradcheck", "gradgradcheck", "GradcheckError", "CheckReport",
           "numerical_jacobian", "analytical_jacobian"]
