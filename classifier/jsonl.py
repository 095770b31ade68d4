"""JSON Lines in and out, strictly: one clear error per bad line, and only valid JSON written.

Python's json module accepts NaN, Infinity and 1e999 (as inf) and writes them back out, which
no other JSON reader accepts; it raises RecursionError on deeply nested input and ValueError on
integers of more than 4,300 digits. These helpers turn each of those into a LineError naming
the line, and decode each line on its own so a bad byte is blamed on the line that holds it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import IO


class LineError(ValueError):
    """A line that cannot be read: `number` is its 1-based line number, `message` says why."""

    def __init__(self, number: int, message: str):
        self.number = number
        self.message = message
        super().__init__(f"line {number}: {message}")


def _constant(token: str):
    raise ValueError(f"{token} is not a finite number")


def _float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise ValueError(f"{token} is not a finite number")
    return value


def loads(text: str, number: int = 1):
    """Parse one line of strict JSON, or raise LineError."""
    try:
        return json.loads(text, parse_constant=_constant, parse_float=_float)
    except json.JSONDecodeError as exc:
        raise LineError(number, f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise LineError(number, "not valid JSON (nested too deeply)") from None
    except ValueError as exc:  # a non-finite number, or an integer too long to convert
        message = str(exc) if "finite" in str(exc) else "a number too long to read"
        raise LineError(number, f"not valid JSON ({message})") from None


def lines(binary: IO[bytes]) -> Iterator[tuple[int, str]]:
    """(line number, text) for each line of a binary stream, each decoded as UTF-8 on its own."""
    for number, raw in enumerate(binary, 1):
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LineError(number, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})") from None


def dumps(value) -> str:
    """One line of JSON; refuses (ValueError) a value that is not valid JSON rather than write it."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False)
