r"""Final answers of GSM8K and MATH: extracted from a generation or a reference solution, then normalized.

GSM8K: the reference is the number after ``####``; a generation's answer is its ``#### N`` when it writes one
(``strict``), else the last number it mentions (``flexible``, what lm-evaluation-harness also reports). Numbers are
compared as numbers: ``$1,000.00`` equals ``1000``.

MATH: the answer is the last ``\boxed{...}`` (or ``\fbox{...}``), compared after the usual normalization of Hendrycks
et al. (2021): no ``\left``/``\right``, ``\dfrac``/``\tfrac`` → ``\frac``, ``\frac12`` → ``\frac{1}{2}``,
``\sqrt2`` → ``\sqrt{2}``, ``a/b`` → ``\frac{a}{b}``, ``0.5`` → ``\frac{1}{2}``, no units after ``\text{ ``,
no degrees, percent or dollar signs, no spaces, a short ``x = `` dropped.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_NUMBER = re.compile(r"-?\$?\s?(?:\d[\d,]*(?:\.\d+)?|\.\d+)")
_STRICT = re.compile(r"####\s*(-?\$?\s?[\d,]*\.?\d+)")


def normalize_number(text: str) -> str:
    """A canonical spelling of a number (``'3.50'`` → ``'3.5'``, ``'$1,000'`` → ``'1000'``); other text stripped."""
    cleaned = text.strip().replace("$", "").replace(",", "").replace(" ", "").rstrip(".")
    cleaned = cleaned.removesuffix("%")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return text.strip().lower()
    if not value.is_finite():
        return text.strip().lower()
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def gsm8k_reference(answer: str) -> str:
    return normalize_number(answer.split("####")[-1])


def gsm8k_extract(generation: str) -> tuple[str | None, bool]:
    """(normalized answer or None, whether it came from a ``#### N`` line)."""
    strict = _STRICT.findall(generation)
    if strict:
        return normalize_number(strict[-1]), True
    numbers = _NUMBER.findall(generation)
    if numbers:
        return normalize_number(numbers[-1]), False
    return None, False


# --- MATH ----------------------------------------------------------------------------------------------------------


def last_boxed(text: str) -> str | None:
    r"""The content of the last ``\boxed{...}`` / ``\fbox{...}`` (braces balanced), or of ``\boxed 5``."""
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    rest = text[start:]
    command = "\\boxed" if rest.startswith("\\boxed") else "\\fbox"
    rest = rest[len(command) :]
    if rest.startswith(" "):
        return rest[1:].split("$")[0].strip()
    if not rest.startswith("{"):
        return None
    depth = 0
    for i, ch in enumerate(rest):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return rest[1:i]
    return None  # unbalanced: the generation was cut off


def math_extract(generation: str) -> str | None:
    boxed = last_boxed(generation)
    if boxed is not None:
        return boxed
    match = re.search(r"final answer is\s*\$?(.+?)\$?(?:\.\s|\.?$)", generation, flags=re.IGNORECASE | re.MULTILINE)
    return match.group(1).strip() if match else None


def _braced_argument(s: str, i: int) -> tuple[str, int]:
    """The argument starting at s[i]: a braced group, or one character; and where it ends."""
    if i < len(s) and s[i] == "{":
        depth = 0
        for j in range(i, len(s)):
            depth += {"{": 1, "}": -1}.get(s[j], 0)
            if depth == 0:
                return s[i : j + 1], j + 1
        return s[i:], len(s)
    if i < len(s):
        return "{" + s[i] + "}", i + 1
    return "", i


def _fix_command_arguments(s: str, command: str, arity: int) -> str:
    r"""``\frac12`` → ``\frac{1}{2}``, ``\sqrt3`` → ``\sqrt{3}`` (each argument braced)."""
    out, i = [], 0
    while True:
        j = s.find(command, i)
        if j < 0:
            out.append(s[i:])
            return "".join(out)
        out.append(s[i : j + len(command)])
        k = j + len(command)
        if k < len(s) and s[k].isalpha():  # another command that shares the prefix
            i = k
            continue
        for _ in range(arity):
            arg, k = _braced_argument(s, k)
            out.append(arg)
        i = k


def _slash_to_frac(s: str) -> str:
    match = re.fullmatch(r"(-?\d+)/(\d+)", s)
    return f"\\frac{{{match.group(1)}}}{{{match.group(2)}}}" if match else s


def _strip_text_wrappers(s: str) -> str:
    return re.sub(r"\\(?:text|textbf|mbox|mathrm)\{([^{}]*)\}", r"\1", s)


def normalize_math(answer: str) -> str:
    s = answer.strip().replace("\n", "")
    s = s.replace("\\!", "").replace("\\,", "").replace("\\;", "").replace("\\ ", "")
    s = s.replace("\\\\", "\\").replace("tfrac", "frac").replace("dfrac", "frac")
    s = s.replace("\\left", "").replace("\\right", "")
    s = s.replace("^{\\circ}", "").replace("^\\circ", "")
    s = s.replace("\\$", "").replace("$", "")
    if "\\text{ " in s:  # units: "5 \text{ cm}"
        s = s.split("\\text{ ")[0]
    s = _strip_text_wrappers(s)
    s = s.replace("\\%", "").replace("%", "")
    s = s.replace(" .", " 0.").replace("{.", "{0.")
    s = s.rstrip(".").strip()
    if not s:
        return s
    if s.startswith("."):
        s = "0" + s
    sides = s.split("=")
    if len(sides) == 2 and len(sides[0].strip()) <= 2:  # "x = 5", "k=3"
        s = sides[1]
    s = _fix_command_arguments(s, "\\sqrt", 1)
    s = s.replace(" ", "")
    s = _fix_command_arguments(s, "\\frac", 2)
    if re.fullmatch(r"-?[\d,]+(\.\d+)?", s) and "," in s and re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", s):
        s = s.replace(",", "")  # 1,000 (a thousands separator, not a tuple "1,2")
    if re.fullmatch(r"-?\d+\.\d+|-?\d+", s):
        s = normalize_number(s)
    if s == "0.5":
        s = "\\frac{1}{2}"
    return _slash_to_frac(s)


def math_equal(prediction: str | None, reference: str) -> bool:
    if prediction is None:
        return False
    return normalize_math(prediction) == normalize_math(reference)
