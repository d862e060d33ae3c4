"""Vietnamese phone numbers as people type them: "0909 123 456", "+84 909.123.456", "84909123456".

A mobile number is stored in the national form ("0909123456"): the form Vietnamese customers
write, and the one a Zalo link takes (zalo.me/0909123456). Hotlines keep their own shapes
(1900 xxxx, 1800 xxxx, 028 xxxx xxxx), so a support number is checked more loosely.
"""

import re

# Spaces, dots, dashes and brackets people put between the groups of digits.
_SEPARATORS = re.compile(r"[\s.\-()]")
# Vietnamese mobile prefixes since the 2018 renumbering: 03x, 05x, 07x, 08x, 09x, 9 digits after 0.
_VN_MOBILE = re.compile(r"(?:\+84|84|0)([35789]\d{8})")
# Any dialable number: an optional +, then 8 to 15 digits (E.164's longest).
_PHONE = re.compile(r"\+?\d{8,15}")


class NotAPhoneNumber(ValueError):
    """The text is not a number of the kind asked for."""


def _compact(text: str) -> str:
    return _SEPARATORS.sub("", text.strip())


def vn_mobile_normalize(text: str) -> str:
    """The national form of a Vietnamese mobile number; raises NotAPhoneNumber for anything else."""
    match = _VN_MOBILE.fullmatch(_compact(text))
    if match is None:
        raise NotAPhoneNumber(text)
    return "0" + match.group(1)


def phone_dial_string(text: str) -> str:
    """What a tel: link dials for a support number (a mobile, a landline or a 1900 hotline);
    raises NotAPhoneNumber when it is not a phone number."""
    compact = _compact(text)
    if _PHONE.fullmatch(compact) is None:
        raise NotAPhoneNumber(text)
    return compact
