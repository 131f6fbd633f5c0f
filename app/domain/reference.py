"""References issued by the service: declarations, and the duty demands, receipts and refunds
of the revenue capability.

Format: ``HK`` + two-digit year + a kind letter (``D`` declaration, ``M`` duty demand, ``R``
receipt, ``F`` refund) + 10 random characters from 0-9A-Z + one ISO 7064 MOD 37,36 check
character, e.g. ``HK26DTIL5VL2ZAWH``. The random part makes references unguessable (ids leak
nothing about volumes or other parties); the check character catches a mistyped or truncated
reference before any look-up.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime

from stdnum.iso7064 import mod_37_36

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
RANDOM_LENGTH = 10
DECLARATION, DEMAND, RECEIPT, REFUND = "D", "M", "R", "F"
_FORMATS = {kind: re.compile(r"HK\d{2}%s[0-9A-Z]{%d}[0-9A-Z]" % (kind, RANDOM_LENGTH))
            for kind in (DECLARATION, DEMAND, RECEIPT, REFUND)}


def new_reference(now: datetime, kind: str) -> str:
    """Issue a fresh reference of ``kind`` (``D``, ``M``, ``R`` or ``F``) at ``now``."""
    body = f"HK{now.year % 100:02d}{kind}" + _random_part()
    return body + mod_37_36.calc_check_digit(body)


_SPACE = len(ALPHABET) ** RANDOM_LENGTH


def _random_part() -> str:
    """``RANDOM_LENGTH`` characters drawn uniformly from ``ALPHABET``: one draw from the OS's
    generator for all of them (a draw per character cost ten system calls per reference)."""
    number = secrets.randbelow(_SPACE)
    characters = []
    for _ in range(RANDOM_LENGTH):
        number, digit = divmod(number, len(ALPHABET))
        characters.append(ALPHABET[digit])
    return "".join(characters)


def is_valid_reference(reference: str, kind: str) -> bool:
    """True when ``reference`` is of ``kind``, has the right shape and its check character matches."""
    return bool(_FORMATS[kind].fullmatch(reference)) and mod_37_36.is_valid(reference)


def new_declaration_reference(now: datetime) -> str:
    """Issue a fresh reference for a declaration received at ``now``."""
    return new_reference(now, DECLARATION)


def is_valid_declaration_reference(reference: str) -> bool:
    """True when ``reference`` has the right shape and its check character matches."""
    return is_valid_reference(reference, DECLARATION)
