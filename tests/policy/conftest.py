"""Shared fixtures for the policy tests: the demo policy, loaded once (the default one is the
suite's `policy` fixture), and Hypothesis's files kept out of the working tree."""

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from sellerflow.policy.model import Policy, load_policy

_HYPOTHESIS_HOME = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    # Hypothesis writes its caches while collecting; keep them out of the working tree
    # (the suite runs with -p no:cacheprovider for the same reason).
    home = Path(tempfile.mkdtemp(prefix="sellerflow-hypothesis-"))
    config.stash[_HYPOTHESIS_HOME] = home
    set_hypothesis_home_dir(home)


def pytest_unconfigure(config: pytest.Config) -> None:
    home = config.stash.get(_HYPOTHESIS_HOME, None)
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def demo_policy() -> Policy:
    return load_policy("demo")
