"""The regular expressions and tables behind PII redaction, kept apart from the logic that validates matches."""

import re

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"

# Emails are found from each "@": the domain is matched forward from it, the local part backward (its tail).
EMAIL_DOMAIN = re.compile(
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?P<tld>[A-Za-z]{2,24})(?![\w-]|\.[A-Za-z0-9])"
)
EMAIL_LOCAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}\Z")
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
IPV6_HINT = re.compile(r":(?::|[0-9A-Fa-f]{1,4}:)")  # starts with a literal, so the engine skips ahead fast
IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}:|::?)(?:[0-9A-Fa-f]{0,4}:){1,7}"
    r"(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])"
)

# 4-4-4-4(-3), Amex-style 4-6-5, or 13-19 digits in one run; the separator must be consistent.
CARD = re.compile(
    r"(?<![\w-])(?:\d{4}([ -]?)\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{5}|\d{13,19})(?![\w-])"
)
# Issuer prefixes: Visa, Mastercard (51-55, 2221-2720), Amex, Discover, JCB, Diners, UnionPay, Maestro; and the
# lengths the big issuers use (a 19-digit "Amex" is not a card).
CARD_LENGTHS = {"34": (15,), "37": (15,), "4": (13, 16, 19), "5": (16,), "2": (16,)}
CARD_PREFIXES = tuple(
    ["4", "34", "37", "6011", "65", "35", "30", "36", "38", "39", "62", "50", "56", "57", "58", "63", "67"]
    + [str(p) for p in range(51, 56)]
    + [str(p) for p in range(644, 650)]
    + [str(p) for p in range(2221, 2721)]
)

IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])")

# Every number-like entity (IPv4, card, phone, and the account digits of an IBAN) lies inside a run of digits and
# separators; one scan for such runs replaces a scan per pattern, and the patterns then run only on those windows.
DIGIT_RUN = re.compile(r"[\d(+][\d .()/+\-]{5,}\d")
IBAN_LENGTHS = {
    "AD": 24,
    "AE": 23,
    "AL": 28,
    "AT": 20,
    "AZ": 28,
    "BA": 20,
    "BE": 16,
    "BG": 22,
    "BH": 22,
    "BR": 29,
    "BY": 28,
    "CH": 21,
    "CR": 22,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "DO": 28,
    "EE": 20,
    "EG": 29,
    "ES": 24,
    "FI": 18,
    "FO": 18,
    "FR": 27,
    "GB": 22,
    "GE": 22,
    "GI": 23,
    "GL": 18,
    "GR": 27,
    "GT": 28,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IL": 23,
    "IQ": 23,
    "IS": 26,
    "IT": 27,
    "JO": 30,
    "KW": 30,
    "KZ": 20,
    "LB": 28,
    "LC": 32,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MC": 27,
    "MD": 24,
    "ME": 22,
    "MK": 19,
    "MR": 27,
    "MT": 31,
    "MU": 30,
    "NL": 18,
    "NO": 15,
    "PK": 24,
    "PL": 28,
    "PS": 29,
    "PT": 25,
    "QA": 29,
    "RO": 24,
    "RS": 22,
    "SA": 24,
    "SC": 31,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "ST": 25,
    "SV": 28,
    "TL": 23,
    "TN": 24,
    "TR": 26,
    "UA": 29,
    "VA": 22,
    "VG": 24,
    "XK": 20,
}

PHONE_INTERNATIONAL = re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{2,4}\)?){2,5}(?![\w]|[.-]\d)")
PHONE_NANP = re.compile(r"(?<![\w.+-])(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w-]|\.\d)")

# Token secrets: one scan for their fixed prefixes (an alternation of literals is cheap for the regex engine), then
# the full pattern only around each hit. Values: (pattern, how far before the prefix the match may start).
SECRET_PREFIX = re.compile(
    r"A(?:KIA|SIA|BIA|CCA|GPA|IDA|IPA|NPA|NVA|PKA|ROA|SCA)|gh[pousr]_|github_pat_|xox[abposr]-|eyJ|AIza|k_live_|"
    r"T3BlbkFJ|hf_"
)
SECRET_TOKENS = {
    "A": (
        re.compile(r"(?<![A-Za-z0-9])A(?:KIA|SIA|BIA|CCA|GPA|IDA|IPA|NPA|NVA|PKA|ROA|SCA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
        0,
    ),
    "gh": (re.compile(r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"), 0),
    "xox": (re.compile(r"(?<![A-Za-z0-9_])xox[abposr]-[A-Za-z0-9-]{10,250}\b"), 0),
    "eyJ": (re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), 0),
    "AIza": (re.compile(r"(?<![A-Za-z0-9_])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])"), 0),
    "k_live_": (re.compile(r"(?<![A-Za-z0-9_])[sr]k_live_[0-9A-Za-z]{24,99}\b"), 1),
    "T3BlbkFJ": (re.compile(r"(?<![A-Za-z0-9_])sk-(?:proj-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}\b"), 200),
    "hf_": (re.compile(r"(?<![A-Za-z0-9_])hf_[A-Za-z]{34}\b"), 0),
}
# Secrets found by context, each behind a substring test: (substrings, pattern).
SECRET_CONTEXT = [
    (
        ("aws", "AWS", "Aws"),
        re.compile(
            r"(?i)aws.{0,20}?(?:secret|private).{0,20}?[\"'\s:=]+(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
        ),
    ),
    (
        ("hooks.slack.com",),
        re.compile(r"https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+"),
    ),
    (
        ("PRIVATE KEY",),
        re.compile(
            r"-----BEGIN ((?:RSA |DSA |EC |OPENSSH |PGP |ENCRYPTED )?)PRIVATE KEY((?: BLOCK)?)-----"
            r".*?-----END \1PRIVATE KEY\2-----",
            re.S,
        ),
    ),
]
# A quoted value assigned to a secret-looking name: found from the assignment (a literal-led scan), then the name
# before it is checked.
ASSIGNMENT = re.compile(r"[=:][ \t]*[\"'](?P<value>[^\"'\s]{8,200})[\"']")
SECRET_NAME = re.compile(
    r"(?i)(?:(?:api|access|auth|client|secret|private|app)[_-]?(?:key|token|secret)|secret|password|passwd|pwd|token)"
    r"[\"']?[ \t]*\Z"
)
PLACEHOLDER = re.compile(
    r"(?i)your|xxx|<|>|\$\{|\{\{|example|change.?me|dummy|fake|sample|placeholder|redacted|\*\*\*|\.\.\.|"
    r"^(?:secret|password|token|test|none|null)"
)
