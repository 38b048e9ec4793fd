"""Hypothesis profiles: `dev` (quick, the default) and `ci` (more examples, no
deadline), chosen by CI=true; a test module's long end-to-end run started in the
background as soon as its tests are collected."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "dev")

# PyTorch programs run as scripts by tests/test_pytorch_programs.py (their record.py needs
# torch): never imported by --doctest-modules
collect_ignore = ["tests/pytorch_programs"]


def pytest_collection_finish(session) -> None:
    """Call `start_in_background()` of each test module that has one and a selected test
    (test_reproduce.py's minute-long `reproduce all --fast`): the run then uses the second
    core while the other tests run, and its tests wait only for what is left of it."""
    if session.config.option.collectonly or hasattr(session.config, "workerinput"):
        return  # nothing will run, or pytest-xdist runs tests side by side already
    for module in {getattr(item, "module", None) for item in session.items}:
        if hasattr(module, "start_in_background"):
            module.start_in_background()
