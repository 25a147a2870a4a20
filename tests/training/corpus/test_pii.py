"""PII redaction on a table of positive and negative cases: every kind must be found where it is and left alone
where only something like it is."""

import pytest

from training.corpus.config import PIIConfig
from training.corpus.pii import find_pii, iban_valid, luhn_valid, redact

POSITIVE = [
    # (text, kind, the exact span the finding must cover)
    ("Write to jane.doe+news@example.co.uk today.", "email", "jane.doe+news@example.co.uk"),
    ("Contact: <bob_smith@mail-server.org>", "email", "bob_smith@mail-server.org"),
    ("Click mailto:alice@company.com to reply.", "email", "alice@company.com"),
    ("Call +1 (415) 555-2671 now.", "phone", "+1 (415) 555-2671"),
    ("Call (415) 555-2671 now.", "phone", "(415) 555-2671"),
    ("Our office: +44 20 7946 0958.", "phone", "+44 20 7946 0958"),
    ("Or 415-555-2671 after six.", "phone", "415-555-2671"),
    ("The server at 93.186.135.91 answered.", "ip_address", "93.186.135.91"),
    ("Reach it on 2a00:1450:4001:81a::200e please.", "ip_address", "2a00:1450:4001:81a::200e"),
    ("Card 4111 1111 1111 1111 expires soon.", "credit_card", "4111 1111 1111 1111"),
    ("Card 5500-0000-0000-0004 on file.", "credit_card", "5500-0000-0000-0004"),
    ("Amex 378282246310005 charged.", "credit_card", "378282246310005"),
    ("Pay to DE89 3704 0044 0532 0130 00 by Friday.", "iban", "DE89 3704 0044 0532 0130 00"),
    ("IBAN GB29NWBK60161331926819.", "iban", "GB29NWBK60161331926819"),
    ("key AKIAIOSFODNN7EXAMPLE in the config", "secret", "AKIAIOSFODNN7EXAMPLE"),
    (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "secret",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    ("token ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "secret", "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
    ("slack xoxb-123456789012-abcdefABCDEF", "secret", "xoxb-123456789012-abcdefABCDEF"),
    (
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U end",
        "secret",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc123\n-----END RSA PRIVATE KEY-----",
        "secret",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc123\n-----END RSA PRIVATE KEY-----",
    ),
    ('client = Client(api_key="sk9Xq2LmP0vR7tZ4wB1n")', "secret", "sk9Xq2LmP0vR7tZ4wB1n"),
    ("password: 'hunter2Xk9!pQz'", "secret", "hunter2Xk9!pQz"),
]

NEGATIVE = [
    # (text, why nothing should be found)
    ("Card 4111 1111 1111 1112 fails Luhn.", "Luhn-invalid card number"),
    ("Order 1234567812345678 is not a card.", "16 digits, no issuer prefix and not Luhn-valid"),
    ("pi is 3.141592653589793 exactly.", "digits after a decimal point"),
    ("IBAN DE89 3704 0044 0532 0130 01 is mistyped.", "IBAN failing mod 97"),
    ("See https://user@example.com/path for details.", "userinfo inside a URL"),
    ("Posts at https://medium.com/@alice/notes.", "an @handle in a URL path"),
    ("Use the @property decorator and x @ y products.", "decorators and matrix products"),
    ("Compute a@self.weight in the layer.", "attribute access, not a TLD"),
    ("git clone git@github.com:org/repo.git", "a git remote"),
    ("Requires version 1.2.3.4 or later.", "a version number"),
    ("Tested with numpy 2.7.2.2.", "single-digit quad: a version"),
    ("Bind to 127.0.0.1 or 10.0.0.5 or 192.168.1.1.", "loopback and private addresses are kept"),
    ("Listen on ::1 and fe80::1 locally.", "loopback and link-local IPv6"),
    ("Slice it with x[1::2] and y[::3].", "Python slices"),
    ("At 10:30:00 on 2021-05-12 the build ran.", "times and dates"),
    ("MAC 00:1A:2B:3C:4D:5E is hardware.", "a MAC address"),
    ('api_key = "YOUR_API_KEY_HERE"', "a placeholder value"),
    ('password = "password123"', "a placeholder-like value"),
    ("The answer is 42 and the year is 2024.", "plain numbers"),
    ("sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "a hex digest"),
    ("Decimal('+35236450.6') rounds.", "a signed decimal number"),
]


@pytest.mark.parametrize(("text", "kind", "span"), POSITIVE, ids=[f"{k}-{i}" for i, (_, k, _) in enumerate(POSITIVE)])
def test_finds_each_kind(text, kind, span):
    found = find_pii(text, PIIConfig())
    assert [(f.kind, text[f.start : f.end]) for f in found] == [(kind, span)]


@pytest.mark.parametrize(("text", "why"), NEGATIVE, ids=[why for _, why in NEGATIVE])
def test_leaves_lookalikes_alone(text, why):
    assert find_pii(text, PIIConfig()) == []


def test_redaction_uses_typed_placeholders():
    text = "Mail jane@example.org or call +1 (415) 555-2671 from 93.186.135.91 with card 4111111111111111."
    redacted, findings = redact(text, PIIConfig())
    assert redacted == "Mail <EMAIL> or call <PHONE> from <IP_ADDRESS> with card <CREDIT_CARD>."
    assert [f.kind for f in findings] == ["email", "phone", "ip_address", "credit_card"]


def test_types_and_ip_policy_are_configurable():
    text = "Mail jane@example.org from 10.0.0.5"
    assert redact(text, PIIConfig(types=["ip_address"]))[0] == text  # private address kept, email not asked for
    assert (
        redact(text, PIIConfig(types=["ip_address"], keep_non_global_ips=False))[0]
        == "Mail jane@example.org from <IP_ADDRESS>"
    )


def test_checksums():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert luhn_valid("79927398713")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid("GB82 WEST 1234 5698 7654 33")
    assert not iban_valid("DE89370400440532013000X")  # wrong length for DE
