"""The regular expressions and tables behind PII redaction, kept apart from the logic that validates matches."""

import re

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"

EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?P<tld>[A-Za-z]{2,24})(?![\w-]|\.[A-Za-z0-9])"
)
URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,15}://[^\s<>\"'`)\]]+")
# Generic TLDs that appear in real addresses (every two-letter country code is accepted as well); a longer "TLD"
# outside this list is usually code, such as ``x@self.weight``.
TOP_LEVEL_DOMAINS = frozenset(
    """com org net edu gov mil int info biz name pro aero coop museum mobi asia jobs travel tel cat post xxx
    dev app io ai cloud online site tech store shop blog email mail live news media space website xyz top club
    design agency company solutions digital network systems software services studio codes consulting expert
    group global world today life work academy center link team page one social""".split()  # noqa: SIM905
)

IPV4 = re.compile(rf"(?<![\w.]){_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}(?![\w]|\.\d)")
VERSION_BEFORE = re.compile(r"(?i)(?:version|release|ver\.?|v)\s*$")
IPV6_HINT = re.compile(r"[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}")
IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}:|::?)(?:[0-9A-Fa-f]{0,4}:){1,7}"
    r"(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])"
)

# 4-4-4-4(-3), Amex-style 4-6-5, or 13-19 digits in one run; the separator must be consistent.
CARD = re.compile(
    r"(?<![\w-])(?:\d{4}([ -]?)\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{5}|\d{13,19})(?![\w-])"
)
# Issuer prefixes: Visa, Mastercard (51-55, 2221-2720), Amex, Discover, JCB, Diners, UnionPay, Maestro.
CARD_PREFIXES = tuple(
    ["4", "34", "37", "6011", "65", "35", "30", "36", "38", "39", "62", "50", "56", "57", "58", "63", "67"]
    + [str(p) for p in range(51, 56)]
    + [str(p) for p in range(644, 650)]
    + [str(p) for p in range(2221, 2721)]
)

IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "BY": 28,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip

PHONE_INTERNATIONAL = re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?![\w]|[.-]\d)")
PHONE_NANP = re.compile(r"(?<![\w.+-])(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w-]|\.\d)")

SECRET_PATTERNS = [
    re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16}\b"),
    re.compile(r"(?i)aws.{0,20}?(?:secret|private).{0,20}?[\"'\s:=]+(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"),
    re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,250}\b"),
    re.compile(r"https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+"),
    re.compile(
        r"-----BEGIN ((?:RSA |DSA |EC |OPENSSH |PGP |ENCRYPTED )?)PRIVATE KEY( BLOCK)?-----"
        r".*?-----END \1PRIVATE KEY\2-----",
        re.S,
    ),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    re.compile(r"\b(?:sk|rk)_live_[0-9A-Za-z]{24,99}\b"),
    re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}\b"),
    re.compile(r"\bhf_[A-Za-z]{34}\b"),
]
GENERIC_SECRET = re.compile(
    r"(?i)\b(?:(?:api|access|auth|client|secret|private|app)[_-]?(?:key|token|secret)|secret|password|passwd|pwd|token)"
    r"\b[\"']?\s*[:=]\s*[\"'](?P<value>[^\"'\s]{8,200})[\"']"
)
PLACEHOLDER = re.compile(
    r"(?i)your|xxx|<|>|\$\{|\{\{|example|change.?me|dummy|fake|sample|placeholder|redacted|\*\*\*|\.\.\.|"
    r"^(?:secret|password|token|test|none|null)"
)
