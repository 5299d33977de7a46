"""The one parser of training settings: a value (a `--set` string or a YAML value) -> its field's type.

`zoo train --set` and a bench matrix's `settings:` both come through here, typed by the annotation of
the `TrainConfig` field they set. YAML 1.1 reads `2e-4` as a string and `--set` gives strings only,
so both are converted the same way; a value that does not fit (`lr: fast`) is refused with one line
naming the key, the expected type and what was given.
"""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin, get_type_hints

from ..errors import ZooError

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})
_NONE = frozenset({"none", "null", "~", ""})


class _Mismatch(Exception):
    """The value does not fit the type (internal; turned into a ZooError naming the key)."""


def coerce_setting(config_class: type, key: str, value: Any, where: str = "--set") -> Any:
    """`value` converted to the type of field `key` of the dataclass `config_class`."""
    hint = get_type_hints(config_class)[key]
    try:
        return _coerce(value, hint)
    except _Mismatch:
        raise ZooError(f"{where} {key}: expected {_describe(hint)}, got {value!r}") from None


def _coerce(value: Any, hint: Any) -> Any:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        if type(None) in args and (value is None or (isinstance(value, str) and value.strip().lower() in _NONE)):
            return None
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, option)
            except _Mismatch:
                continue
        raise _Mismatch
    if origin is tuple:
        return tuple(_coerce(item, args[0]) for item in _sequence(value))
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise _Mismatch
        return dict(value)
    if hint is bool:
        return _boolean(value)
    if hint is int:
        return _integer(value)
    if hint is float:
        return _number(value)
    if hint is str:
        if not isinstance(value, str):
            raise _Mismatch
        return value
    if hint is Any:
        return value
    raise _Mismatch


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _Mismatch


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise _Mismatch
    if isinstance(value, int):
        return value
    number = _number(value)
    if not number.is_integer():
        raise _Mismatch
    return int(number)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise _Mismatch
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise _Mismatch from None
    raise _Mismatch


def _sequence(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        text = value.strip().removeprefix("[").removesuffix("]")
        return [part.strip() for part in text.split(",") if part.strip()]
    raise _Mismatch


def _describe(hint: Any) -> str:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        described = [_describe(a) for a in args if a is not type(None)]
        return " or ".join(described) + (" (or none)" if type(None) in args else "")
    if origin is tuple:
        plural = {int: "whole numbers", float: "numbers", str: "texts"}
        return f"a list of {plural.get(args[0], _describe(args[0]))}"
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "text", dict: "a mapping"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))
