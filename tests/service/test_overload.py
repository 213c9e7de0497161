"""The overload guards on their own: the texts-in-flight bound and the per-caller rate limit."""

from __future__ import annotations

import pytest

from toxicity_pyfunc.service.overload import Admission, RateLimiter, parse_rate


def test_the_bound_refuses_what_would_pass_it_and_frees_on_leave() -> None:
    admission = Admission(8)
    assert admission.enter(5)
    assert not admission.enter(4)  # 9 > 8
    assert admission.enter(3)
    admission.leave(5)
    assert admission.enter(5)
    assert admission.in_flight == 8


def test_a_request_larger_than_the_bound_runs_when_alone() -> None:
    admission = Admission(8)
    assert admission.enter(100)  # the row limit allows it: refusing it forever would be a bug
    assert not admission.enter(1)
    admission.leave(100)
    assert admission.in_flight == 0


def test_each_caller_has_its_own_window_and_is_told_when_to_come_back() -> None:
    limiter = RateLimiter("2/minute")
    assert limiter.retry_after("a") is None
    assert limiter.retry_after("a") is None
    wait = limiter.retry_after("a")
    assert wait is not None
    assert 1 <= wait <= 60
    assert limiter.retry_after("b") is None


@pytest.mark.parametrize("spec", ["ten per second", "10/fortnight", ""])
def test_a_rate_that_cannot_be_read_is_refused_with_the_form_expected(spec: str) -> None:
    with pytest.raises(ValueError, match="such as '10/second'"):
        parse_rate(spec)
