"""String enums whose members carry a Chinese and an English title."""
from __future__ import annotations

from enum import Enum


class TitledEnum(str, Enum):
    """A string enum; each member has `zh` and `en` display titles."""

    def __new__(cls, value: str, zh: str = "", en: str = ""):
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.zh = zh or value
        obj.en = en or value.replace("_", " ")
        return obj

    def __str__(self) -> str:
        return self.value

    def title_for(self, locale: str | None) -> str:
        return self.en if locale and str(locale).startswith("en") else self.zh

    @classmethod
    def values(cls) -> list[str]:
        return [m.value for m in cls]

    @classmethod
    def parse(cls, value):
        """The member for `value`, or None when it is not one."""
        try:
            return cls(value)
        except ValueError:
            return None
