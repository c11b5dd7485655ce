"""Reference checks of the exact Poisson (Garwood) interval, analysis.safety.compute_rate_ci.

Every expected value below is transcribed from an independent, printed source, named in the
test. Each is compared at the precision it was printed with, ``abs(x - v) <= 0.5 * 10**-d``
for ``d`` printed decimals (the project's rule for published values), never a looser blanket
tolerance.

``compute_rate_ci(k, PY)`` returns a rate per 100 patient-years, so

* a **count** interval (time base 1) is ``compute_rate_ci(k, 100)``: with 100 PY the rate per
  100 PY equals the number of events;
* a **rate** interval per unit of time ``T`` is ``compute_rate_ci(k, T) / 100``.

Sources
-------
* R package *epitools*, help page ``pois.exact`` (version 0.5-10.1),
  https://rdocumentation.org/link/pois.exact?package=epitools&version=0.5-10.1 (Details:
  for x = 0 the exact upper limit is 3.689).
* GraphPad, "How QuickCalcs computes the confidence interval of a count" (FAQ; the Garwood
  method), https://graphpad.com/support/faq/how-quickcalcs-computes-the-confidence-interval-of-a-count
  (a count of 25: 90 % 17.38-34.92, 95 % 16.18-36.90, 99 % 14.00-41.00).
* An R session printing ``poisson.test(x, t)$conf.int`` for x = 5 events in t = 94.32 time
  units (Johns Hopkins *Statistical Inference*, "Asymptopia" lecture, slide 27), transcribed in
  github.com/lgreski/datasciencectacontent, ``markdown/statinf-poissonInterval.md``
  (commit dbef5ba4264f594a1b33c7b730beef010394b0d3): ``[1] 0.01721254 0.12371005``.
* R package *statpsych* (D. G. Bonett), ``ci.poisson`` reference page, example
  ``ci.poisson(.05, 23, 5.25)`` with its printed result LL 2.777148, UL 6.57358,
  https://dgbonett.github.io/statpsych/reference/ci.poisson.html.
* Calculator Hub, "Poisson Confidence Interval Calculator" (Garwood method, chi-square
  quantiles), https://calculatorhub.com/tools/poisson-confidence-interval-calculator/
  (k = 0: upper about 3.689; k = 10: 4.80 to 18.39).
"""
from __future__ import annotations

import pytest

from analysis.safety import compute_rate_ci


def printed(decimals: int) -> float:
    """Half a unit of the last printed digit."""
    return 0.5 * 10.0 ** -decimals


def count_interval(k: int, alpha: float = 0.05) -> tuple[float, float]:
    """Exact interval of a Poisson count (time base 1), from the per-100-PY function."""
    return compute_rate_ci(k, 100.0, alpha=alpha)


def test_zero_events_upper_limit_against_epitools():
    """Test 1: epitools' pois.exact documentation: for x = 0 the exact upper limit is 3.689
    (3 decimals); the lower limit is 0."""
    low, high = count_interval(0)
    assert low == 0.0
    assert abs(high - 3.689) <= printed(3)


def test_ten_events_against_calculator_hub():
    """Test 2: Calculator Hub's Garwood calculator: k = 10 -> 4.80 to 18.39 (2 decimals), and
    k = 0 -> upper 3.689 (3 decimals)."""
    low, high = count_interval(10)
    assert abs(low - 4.80) <= printed(2)
    assert abs(high - 18.39) <= printed(2)
    assert abs(count_interval(0)[1] - 3.689) <= printed(3)


@pytest.mark.parametrize("level, low_ref, high_ref", [
    (0.90, 17.38, 34.92),
    (0.95, 16.18, 36.90),
    (0.99, 14.00, 41.00),
])
def test_count_of_25_against_graphpad(level, low_ref, high_ref):
    """Test 3: GraphPad QuickCalcs FAQ (Garwood method), a count of 25 at 90, 95 and 99 %
    confidence (2 decimals)."""
    low, high = count_interval(25, alpha=1 - level)
    assert abs(low - low_ref) <= printed(2)
    assert abs(high - high_ref) <= printed(2)


def test_rate_against_r_poisson_test():
    """Test 4: R ``poisson.test(5, 94.32)$conf.int`` printed ``0.01721254 0.12371005``
    (8 decimals): the exact interval of a rate, 5 events over 94.32 time units."""
    low, high = (x / 100 for x in compute_rate_ci(5, 94.32))
    assert abs(low - 0.01721254) <= printed(8)
    assert abs(high - 0.12371005) <= printed(8)


def test_rate_against_statpsych_ci_poisson():
    """Test 5: statpsych ``ci.poisson(.05, 23, 5.25)``: 23 events in 5.25 time units, printed
    LL 2.777148 (6 decimals) and UL 6.57358 (5 decimals)."""
    low, high = (x / 100 for x in compute_rate_ci(23, 5.25))
    assert abs(low - 2.777148) <= printed(6)
    assert abs(high - 6.57358) <= printed(5)
