"""PII and secret redaction into typed placeholders: <EMAIL>, <PHONE>, <IP_ADDRESS>, <CREDIT_CARD>, <IBAN>, <SECRET>.

Precision matters as much as recall: documentation is full of version strings, dates, hex digests, ``a@b`` matrix
products and example URLs. So every pattern is checked beyond the regex: card numbers must pass Luhn and start like
a real card, IBANs must pass the mod-97 checksum, IP addresses must parse (and private, loopback and documentation
addresses are kept by default: they identify nobody), an ``@`` inside a URL is not an email, and a generic
``api_key = "..."`` value must look random rather than like a placeholder. Overlapping findings resolve to the
longest, then to the more specific kind.
"""

import ipaddress
import math
from collections import Counter
from dataclasses import dataclass

from .config import PIIConfig
from .pii_patterns import (
    ASSIGNMENT,
    CARD,
    CARD_LENGTHS,
    CARD_PREFIXES,
    DIGIT_RUN,
    EMAIL_DOMAIN,
    EMAIL_LOCAL,
    IBAN,
    IBAN_LENGTHS,
    IPV4,
    IPV6,
    IPV6_HINT,
    PHONE_INTERNATIONAL,
    PHONE_NANP,
    PLACEHOLDER,
    SECRET_CONTEXT,
    SECRET_NAME,
    SECRET_PREFIX,
    SECRET_TOKENS,
    TOP_LEVEL_DOMAINS,
    URL,
    VERSION_BEFORE,
)

PLACEHOLDERS = {
    "email": "<EMAIL>",
    "phone": "<PHONE>",
    "ip_address": "<IP_ADDRESS>",
    "credit_card": "<CREDIT_CARD>",
    "iban": "<IBAN>",
    "secret": "<SECRET>",
}
_PRIORITY = {"secret": 0, "credit_card": 1, "iban": 2, "email": 3, "ip_address": 4, "phone": 5}


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    kind: str


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = ord(char) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_plausible(digits: str) -> bool:
    """An issuer prefix and a length that issuer uses."""
    if not 13 <= len(digits) <= 19 or not digits.startswith(CARD_PREFIXES):
        return False
    lengths = CARD_LENGTHS.get(digits[:2]) or CARD_LENGTHS.get(digits[0])
    return lengths is None or len(digits) in lengths


def iban_valid(candidate: str) -> bool:
    iban = candidate.replace(" ", "").upper()
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return False
    if not 15 <= len(iban) <= 34:
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())


def looks_secret(value: str) -> bool:
    """A generic ``key = "value"``: random-looking, not a placeholder or an ordinary word."""
    if PLACEHOLDER.search(value) or len(set(value)) < 6:
        return False
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    mixed_case = value.lower() != value and value.upper() != value
    return has_alpha and (has_digit or (mixed_case and len(value) >= 20)) and _entropy(value) >= 3.0


def _emails(text: str) -> list[Finding]:
    if "@" not in text:
        return []
    urls = None
    out = []
    at = text.find("@")
    while at != -1:
        domain = EMAIL_DOMAIN.match(text, at)
        local = EMAIL_LOCAL.search(text, max(0, at - 64), at) if domain else None
        if domain and local:
            start = local.start()
            while start < at and not text[start].isalnum():
                start += 1  # the local part starts with a letter or digit
            before = text[start - 1] if start else ""
            tld = domain.group("tld").lower()
            git_remote = text.startswith("git@", start) and text.startswith(":", domain.end())  # git@host:org/repo
            if (
                not (before.isalnum() or before in "._%+-")
                and (len(tld) == 2 or tld in TOP_LEVEL_DOMAINS)
                and not git_remote
            ):
                if urls is None:
                    urls = [m.span() for m in URL.finditer(text)] if "://" in text else []
                # user@host inside a URL, or an @handle in its path, is not an email address
                if not any(s <= start < e for s, e in urls):
                    out.append(Finding(start, domain.end(), "email"))
        at = text.find("@", at + 1)
    return out


def _ip_kept(address, keep_non_global: bool) -> bool:
    return keep_non_global and not address.is_global


def _numeric(text: str, cfg: PIIConfig, wanted: set[str]) -> list[Finding]:
    """IPv4 addresses, cards, phones and IBANs, searched only inside runs of digits and separators."""
    out = []
    seen_ibans: set[tuple[int, int]] = set()
    for run in DIGIT_RUN.finditer(text):
        start, end = run.span()
        stop = min(len(text), end + 2)  # room for the patterns' look-ahead
        if "ip_address" in wanted and "." in run.group():
            for m in IPV4.finditer(text, start, stop):
                if VERSION_BEFORE.search(text, max(0, m.start() - 12), m.start()) or len(m.group()) == 7:
                    continue  # "version 1.2.3.4", "v1.2.3.4", and single-digit quads (2.7.2.2, 1.2.3.4: versions)
                if not _ip_kept(ipaddress.IPv4Address(m.group()), cfg.keep_non_global_ips):
                    out.append(Finding(m.start(), m.end(), "ip_address"))
        if "credit_card" in wanted:
            for m in CARD.finditer(text, start, stop):
                digits = m.group().replace(" ", "").replace("-", "")
                if card_plausible(digits) and luhn_valid(digits):
                    out.append(Finding(m.start(), m.end(), "credit_card"))
        if "phone" in wanted:
            if "+" in run.group():
                for m in PHONE_INTERNATIONAL.finditer(text, start, stop):
                    if 8 <= sum(c.isdigit() for c in m.group()) <= 15:
                        out.append(Finding(m.start(), m.end(), "phone"))
            out.extend(Finding(m.start(), m.end(), "phone") for m in PHONE_NANP.finditer(text, start, stop))
        if "iban" in wanted:
            for m in IBAN.finditer(text, max(0, start - 45), min(len(text), end + 45)):
                if m.span() not in seen_ibans and iban_valid(m.group()):
                    seen_ibans.add(m.span())
                    out.append(Finding(m.start(), m.end(), "iban"))
    return out


def _ipv6(text: str, keep_non_global: bool) -> list[Finding]:
    out = []
    seen: set[tuple[int, int]] = set()
    for hint in IPV6_HINT.finditer(text):
        for m in IPV6.finditer(text, max(0, hint.start() - 40), min(len(text), hint.end() + 45)):
            if m.span() not in seen:
                seen.add(m.span())
                out.extend(_ipv6_finding(m, keep_non_global))
    return out


def _ipv6_finding(m, keep_non_global: bool) -> list[Finding]:
    candidate = m.group()
    groups = [g for g in candidate.split(":") if g]
    # "1::2" in a slice, "a:b:c" in a dict: too few groups to be an address someone wrote down
    if len(groups) < 3 and not ("::" in candidate and len(groups) >= 2 and max(map(len, groups)) >= 3):
        return []
    try:
        address = ipaddress.IPv6Address(candidate)
    except ValueError:
        return []
    return [] if _ip_kept(address, keep_non_global) else [Finding(m.start(), m.end(), "ip_address")]


def _token_kind(prefix: str) -> str:
    if prefix == "AIza":
        return "AIza"
    if prefix.startswith(("gh", "github_pat_")):
        return "gh"
    return next(kind for kind in SECRET_TOKENS if prefix.startswith(kind))


def _secrets(text: str) -> list[Finding]:
    out = []
    seen: set[tuple[int, int]] = set()
    for hit in SECRET_PREFIX.finditer(text):
        pattern, back = SECRET_TOKENS[_token_kind(hit.group())]
        for m in pattern.finditer(text, max(0, hit.start() - back), min(len(text), hit.end() + 300)):
            if m.start() <= hit.start() < m.end() and m.span() not in seen:
                seen.add(m.span())
                out.append(Finding(m.start(), m.end(), "secret"))
    for triggers, pattern in SECRET_CONTEXT:
        if any(t in text for t in triggers):
            for m in pattern.finditer(text):
                span = m.span("secret") if "secret" in pattern.groupindex else m.span()
                out.append(Finding(span[0], span[1], "secret"))
    for m in ASSIGNMENT.finditer(text):
        if SECRET_NAME.search(text, max(0, m.start() - 48), m.start()) and looks_secret(m.group("value")):
            out.append(Finding(m.start("value"), m.end("value"), "secret"))
    return out


def find_pii(text: str, cfg: PIIConfig) -> list[Finding]:
    """Non-overlapping findings in text order."""
    wanted = set(cfg.types)
    found: list[Finding] = []
    if "secret" in wanted:
        found += _secrets(text)
    if "email" in wanted:
        found += _emails(text)
    if wanted & {"ip_address", "credit_card", "phone", "iban"}:
        found += _numeric(text, cfg, wanted)
    if "ip_address" in wanted:
        found += _ipv6(text, cfg.keep_non_global_ips)
    found.sort(key=lambda f: (f.start, -(f.end - f.start), _PRIORITY[f.kind]))
    chosen: list[Finding] = []
    for finding in found:
        if chosen and finding.start < chosen[-1].end:
            continue
        chosen.append(finding)
    return chosen


def redact(text: str, cfg: PIIConfig) -> tuple[str, list[Finding]]:
    """The text with every finding replaced by its placeholder, and the findings (positions in the input)."""
    findings = find_pii(text, cfg)
    if not findings:
        return text, findings
    parts, pos = [], 0
    for f in findings:
        parts.append(text[pos : f.start])
        parts.append(PLACEHOLDERS[f.kind])
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts), findings
