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
import re
from collections import Counter
from dataclasses import dataclass

from .config import PIIConfig
from .pii_patterns import (
    CARD,
    CARD_PREFIXES,
    EMAIL,
    GENERIC_SECRET,
    IBAN,
    IBAN_LENGTHS,
    IPV4,
    IPV6,
    IPV6_HINT,
    PHONE_INTERNATIONAL,
    PHONE_NANP,
    PLACEHOLDER,
    SECRET_PATTERNS,
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
    urls = [(m.start(), m.end()) for m in URL.finditer(text)] if "://" in text else []
    out = []
    for m in EMAIL.finditer(text):
        tld = m.group("tld").lower()
        if len(tld) > 2 and tld not in TOP_LEVEL_DOMAINS:
            continue
        if any(start <= m.start() < end for start, end in urls):
            continue  # user@host inside a URL, or an @handle in its path: not an email address
        out.append(Finding(m.start(), m.end(), "email"))
    return out


def _ip_kept(address, keep_non_global: bool) -> bool:
    return keep_non_global and not address.is_global


def _ipv4(text: str, keep_non_global: bool) -> list[Finding]:
    out = []
    for m in IPV4.finditer(text):
        if VERSION_BEFORE.search(text, max(0, m.start() - 12), m.start()):
            continue  # "version 1.2.3.4", "v1.2.3.4"
        if not _ip_kept(ipaddress.IPv4Address(m.group()), keep_non_global):
            out.append(Finding(m.start(), m.end(), "ip_address"))
    return out


def _ipv6(text: str, keep_non_global: bool) -> list[Finding]:
    if IPV6_HINT.search(text) is None:
        return []
    out = []
    for m in IPV6.finditer(text):
        candidate = m.group()
        groups = [g for g in candidate.split(":") if g]
        if len(groups) < 3 and not ("::" in candidate and len(groups) >= 2 and any(c.isdigit() for c in candidate)):
            continue
        try:
            address = ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        if not _ip_kept(address, keep_non_global):
            out.append(Finding(m.start(), m.end(), "ip_address"))
    return out


def _cards(text: str) -> list[Finding]:
    out = []
    for m in CARD.finditer(text):
        digits = re.sub(r"[ -]", "", m.group())
        if 13 <= len(digits) <= 19 and digits.startswith(CARD_PREFIXES) and luhn_valid(digits):
            out.append(Finding(m.start(), m.end(), "credit_card"))
    return out


def _ibans(text: str) -> list[Finding]:
    return [Finding(m.start(), m.end(), "iban") for m in IBAN.finditer(text) if iban_valid(m.group())]


def _phones(text: str) -> list[Finding]:
    out = []
    if "+" in text:
        for m in PHONE_INTERNATIONAL.finditer(text):
            if 8 <= sum(c.isdigit() for c in m.group()) <= 15:
                out.append(Finding(m.start(), m.end(), "phone"))
    out.extend(Finding(m.start(), m.end(), "phone") for m in PHONE_NANP.finditer(text))
    return out


def _secrets(text: str) -> list[Finding]:
    out = []
    for pattern in SECRET_PATTERNS:
        for m in pattern.finditer(text):
            span = m.span("secret") if "secret" in pattern.groupindex else m.span()
            out.append(Finding(span[0], span[1], "secret"))
    for m in GENERIC_SECRET.finditer(text):
        if looks_secret(m.group("value")):
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
    if "credit_card" in wanted:
        found += _cards(text)
    if "iban" in wanted:
        found += _ibans(text)
    if "ip_address" in wanted:
        found += _ipv4(text, cfg.keep_non_global_ips) + _ipv6(text, cfg.keep_non_global_ips)
    if "phone" in wanted:
        found += _phones(text)
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
