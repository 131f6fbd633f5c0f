"""References issued by the service: declarations, and the duty demands, receipts and refunds
of the revenue capability.

Format: ``HK`` + two-digit year + a kind letter (``D`` declaration, ``M`` duty demand, ``R``
receipt, ``F`` refund) + 10 characters from 0-9A-Z + one ISO 7064 MOD 37,36 check character,
e.g. ``HK26DTIL5VL2ZAWH``. The check character catches a mistyped or truncated reference before
any look-up.

The 10 characters of a demand, receipt or refund are random. A declaration's are 5 characters
of the moment it was issued (tenths of a second, in base 36, wrapping every 70 days) and 5
random ones. Why: nine tables index their rows by the declaration's reference. Drawn wholly at
random, the declarations stored together landed on a different page of each of those indexes,
one page each; issued in time order, they land on one or two, and SQLite wrote half the bytes
per declaration (bench/RESULTS.md, tenth session). The random part keeps a reference
unguessable (60 million of them in each tenth of a second) and leaks nothing about volumes or
other parties; the time part tells only when the declaration was lodged, which its receipt
says anyway. Two declarations may draw the same reference (about one chance in 60 million for
each declaration issued in the same tenth of a second): the database refuses the second row,
and storage draws it a fresh reference (``app.declarations.service.submit_many``).
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime

from stdnum.iso7064 import mod_37_36

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
RANDOM_LENGTH = 10
#: A declaration reference's characters of time (tenths of a second) and of chance.
TIME_LENGTH, DECLARATION_RANDOM_LENGTH = 5, 5
DECLARATION, DEMAND, RECEIPT, REFUND = "D", "M", "R", "F"
_FORMATS = {kind: re.compile(r"HK\d{2}%s[0-9A-Z]{%d}[0-9A-Z]" % (kind, RANDOM_LENGTH))
            for kind in (DECLARATION, DEMAND, RECEIPT, REFUND)}


def new_reference(now: datetime, kind: str) -> str:
    """Issue a fresh reference of ``kind`` (``D``, ``M``, ``R`` or ``F``) at ``now``: random
    (a declaration's is issued by ``new_declaration_reference``)."""
    return _checked(f"HK{now.year % 100:02d}{kind}" + _random_part(RANDOM_LENGTH))


def _checked(body: str) -> str:
    return body + mod_37_36.calc_check_digit(body)


def _random_part(length: int) -> str:
    """``length`` characters drawn uniformly from ``ALPHABET``: one draw from the OS's
    generator for all of them (a draw per character cost ten system calls per reference)."""
    return _base36(secrets.randbelow(len(ALPHABET) ** length), length)


def _base36(number: int, length: int) -> str:
    """``number`` (below 36 ** ``length``) in ``length`` characters of ``ALPHABET``, most
    significant first (so that later moments sort after earlier ones)."""
    characters = []
    for _ in range(length):
        number, digit = divmod(number, len(ALPHABET))
        characters.append(ALPHABET[digit])
    return "".join(reversed(characters))


_TIME_SPACE = len(ALPHABET) ** TIME_LENGTH


def is_valid_reference(reference: str, kind: str) -> bool:
    """True when ``reference`` is of ``kind``, has the right shape and its check character matches."""
    return bool(_FORMATS[kind].fullmatch(reference)) and mod_37_36.is_valid(reference)


def new_declaration_reference(now: datetime) -> str:
    """Issue a fresh reference for a declaration received at ``now`` (an aware moment): its
    tenth of a second, then chance (see the module's docstring)."""
    tenths = int(now.timestamp() * 10) % _TIME_SPACE
    return _checked(f"HK{now.year % 100:02d}{DECLARATION}" + _base36(tenths, TIME_LENGTH)
                    + _random_part(DECLARATION_RANDOM_LENGTH))


def new_event_id(now: datetime) -> str:
    """A fresh id for a notification issued at ``now``: 32 hexadecimal characters, the
    moment's milliseconds (12) then 80 random bits (20), as UUID version 7 orders them. Why:
    its table keeps the ids unique in an index, which ids in time order fill at its end rather
    than a random page each (about a tenth of the bytes SQLite wrote per declaration)."""
    return f"{int(now.timestamp() * 1000) % (1 << 48):012x}{secrets.randbits(80):020x}"


def is_valid_declaration_reference(reference: str) -> bool:
    """True when ``reference`` has the right shape and its check character matches."""
    return is_valid_reference(reference, DECLARATION)
