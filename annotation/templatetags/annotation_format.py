"""Number formatting and bar widths for the quality page.

Every filter takes None, or a missing key (which templates pass as ""), as "no data yet" and shows a dash.
"""

from django import template

register = template.Library()

DASH = "—"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@register.filter
def pct(value: object) -> str:
    number = _number(value)
    return DASH if number is None else f"{100 * number:.1f}%"


@register.filter
def num(value: object) -> str:
    number = _number(value)
    return DASH if number is None else f"{number:.3f}"


@register.filter
def bar(value: object) -> str:
    """A CSS width for a share in [0, 1]; negative values (alpha below chance) draw an empty bar."""
    number = _number(value)
    return "0%" if number is None else f"{100 * min(max(number, 0.0), 1.0):.1f}%"


@register.filter
def alpha_level(value: object) -> str:
    """Krippendorff's rule of thumb: >= 0.8 reliable, >= 0.667 tentative, below that unreliable."""
    number = _number(value)
    if number is None:
        return "none"
    if number >= 0.8:
        return "good"
    return "fair" if number >= 0.667 else "low"
