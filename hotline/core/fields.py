"""Reading and checking the fields of a request; every problem named, in the user's language."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from hotline.core.errors import Invalid

#: Ids and counts fit a 32-bit column everywhere; larger numbers are refused, not sent to the database.
MAX_INT = 2**31 - 1
#: Dates outside these years are mistakes, and would overflow date arithmetic.
YEARS = (1990, 2200)


def _storable(value: str) -> bool:
    """Text both databases can store: no NUL character, no lone surrogates."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Fields:
    """Collects field errors so the user learns everything to fix at once."""

    def __init__(self, data: Any):
        self.data = data if isinstance(data, dict) else {}
        self.errors: dict[str, str] = {}
        if data is not None and not isinstance(data, dict):
            self.errors["_"] = _("The request body must be a JSON object.")

    def _missing(self, name: str) -> None:
        self.errors[name] = _("This field is required.")

    def text(self, name: str, *, required: bool = False, max_len: int = 10000) -> str | None:
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self._missing(name)
            return None
        if not isinstance(value, str):
            self.errors[name] = _("Must be text.")
            return None
        value = value.strip()
        if not _storable(value):
            self.errors[name] = _("Contains characters that cannot be stored (such as NUL).")
            return None
        if len(value) > max_len:
            self.errors[name] = _("At most %(n)d characters (got %(got)d).", n=max_len, got=len(value))
            return None
        return value

    def boolean(self, name: str, *, required: bool = False, default: bool | None = None) -> bool | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self._missing(name)
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            return value.lower() in ("true", "1", "yes", "on")
        self.errors[name] = _("Must be true or false.")
        return default

    def integer(self, name: str, *, required: bool = False, low: int | None = None,
                high: int | None = MAX_INT) -> int | None:
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                self._missing(name)
            return None
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            number = int(value)
        except (TypeError, ValueError, OverflowError):
            self.errors[name] = _("Must be a whole number.")
            return None
        if low is None and number < -MAX_INT:
            low = -MAX_INT
        if (low is not None and number < low) or (high is not None and number > high):
            self.errors[name] = _("Must be between %(low)s and %(high)s.", low=low, high=high)
            return None
        return number

    def number(self, name: str, *, low: float, high: float) -> float | None:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            self.errors[name] = _("Must be a number.")
            return None
        if not low <= number <= high:
            self.errors[name] = _("Must be between %(low)s and %(high)s.", low=low, high=high)
            return None
        return number

    def choice(self, name: str, enum_cls, *, required: bool = False, default=None):
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                self._missing(name)
            return default
        member = enum_cls.parse(value) if isinstance(value, str) else None
        if member is None:
            self.errors[name] = _("Must be one of: %(values)s.", values=", ".join(enum_cls.values()))
            return default
        return member

    def id_list(self, name: str) -> list[int]:
        value = self.data.get(name)
        if value in (None, ""):
            return []
        if isinstance(value, (int, str)):
            value = [value]
        if not isinstance(value, list):
            self.errors[name] = _("Must be a list of ids.")
            return []
        out = []
        for item in value:
            try:
                if isinstance(item, bool) or (isinstance(item, float) and not item.is_integer()):
                    raise ValueError
                number = int(item)
                if not 1 <= number <= MAX_INT:
                    raise ValueError
            except (TypeError, ValueError, OverflowError):
                self.errors[name] = _("Must be a list of ids.")
                return []
            out.append(number)
        return out

    def datetime(self, name: str) -> datetime | None:
        value = self.data.get(name)
        if value in (None, ""):
            return None
        try:
            parsed = datetime.fromisoformat(str(value))
            if not YEARS[0] <= parsed.year <= YEARS[1]:
                raise ValueError
        except ValueError:
            self.errors[name] = _("Must be a date or time in ISO 8601, e.g. 2026-11-22 or 2026-11-22T09:30:00+08:00.")
            return None
        return parsed

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def done(self) -> None:
        """Raise Invalid (422) listing every field error, if any."""
        if self.errors:
            raise Invalid(_("Some fields need fixing."), fields=self.errors)
