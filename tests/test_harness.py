"""The test harness itself: the hypothesis profile in force is one of ours, with a database.

A profile without an example database (hypothesis's own "ci" profile, loaded whenever $CI is
set) makes its pytest plugin recurse through one settings object per parametrized case, and
the suite fails about a thousand cases in with RecursionError.
"""

import os

from hypothesis import settings


def test_loaded_profile_is_ours_and_keeps_a_database():
    name = os.environ.get("HYPOTHESIS_PROFILE", "dev")
    assert settings.default.max_examples == settings.get_profile(name).max_examples
    assert settings.default.database is not None
    assert settings.default.derandomize is False
