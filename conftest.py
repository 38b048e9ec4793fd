"""Hypothesis profiles: `dev` (quick, the default) and `ci` (more examples, no
deadline), chosen by CI=true."""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=100, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "dev")

# PyTorch programs run as scripts by tests/test_pytorch_programs.py (their record.py needs
# torch): never imported by --doctest-modules
collect_ignore = ["tests/pytorch_programs"]
