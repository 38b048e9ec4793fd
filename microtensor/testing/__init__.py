"""Tools to prove gradients: finite-difference checkers and (in `strategies`, which
needs hypothesis) generators of valid inputs. Public, so users test their own ops the
way microtensor tests its own."""
from .gradcheck import (GradcheckError, analytical_jacobian, gradcheck, gradgradcheck,
                        numerical_jacobian)

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "numerical_jacobian",
           "analytical_jacobian"]
