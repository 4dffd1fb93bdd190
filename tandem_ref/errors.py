"""Errors that carry a one-line, user-facing message naming the offending field, file or line.

The command line turns every :class:`BadInput` into ``error: <message>`` on stderr and exit code 2
(no traceback); library users can catch it like any ``ValueError``.
"""


class BadInput(ValueError):
    """Invalid user input: a malformed mixture, spec, name or parameter."""


class UnknownName(BadInput, KeyError):
    """A method, schedule, signal, problem or suite name that is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0] if self.args else ""


def unknown(kind: str, name: str, known) -> UnknownName:
    known = sorted(known)
    return UnknownName(f"unknown {kind} {name!r} (known: {', '.join(known)})")


def require_int(label: str, value, minimum: int = 1) -> int:
    """``value`` as an int >= minimum, else BadInput "<label> must be an integer >= minimum, got value"."""
    import numbers

    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise BadInput(f"{label} must be an integer >= {minimum}, got {value!r}")
    return int(value)
