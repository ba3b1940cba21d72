"""Request bodies checked against the anthropic SDK's own request types, as the API checks them.

The SDK's `TypedDict`s (`MessageCreateParamsStreaming` and the block `*Param` types) list every
field a request may carry. The real API answers a field they lack with 400 "Extra inputs are
not permitted"; the scripted server uses this module to answer the same, so a request that
passes here does not fail for its shape against the API.
"""

from __future__ import annotations

import collections.abc
import functools
import types
import typing
from typing import Any

from pydantic import BaseModel
from typing_extensions import is_typeddict

MAX_ERRORS = 5


@functools.cache
def _hints(typed_dict: type) -> dict[str, Any]:
    return typing.get_type_hints(typed_dict, include_extras=True)


@functools.cache
def _required(typed_dict: type) -> frozenset[str]:
    """Keys a TypedDict requires: those marked `Required`, and those its own (total) class
    declares unmarked. The SDK's postponed annotations leave `__required_keys__` holding only
    the latter, so the markers are read from the hints."""
    keys = set(getattr(typed_dict, "__required_keys__", frozenset()))
    for key, hint in _hints(typed_dict).items():
        marker = getattr(typing.get_origin(hint), "__name__", "") or str(typing.get_origin(hint))
        if marker.endswith("Required") and not marker.endswith("NotRequired"):
            keys.add(key)
        elif marker.endswith("NotRequired"):
            keys.discard(key)
    return frozenset(keys)


def _unwrap(tp: Any) -> Any:
    """Strip Required/NotRequired/Annotated wrappers."""
    while True:
        origin = typing.get_origin(tp)
        if origin in (typing.Required, typing.NotRequired, typing.Annotated) or (
            origin is not None and getattr(origin, "__name__", "") in ("Required", "NotRequired")
        ):
            tp = typing.get_args(tp)[0]
        else:
            return tp


def _members(tp: Any) -> list[Any]:
    """A union's members; the SDK's response models (pydantic) are left out: on the wire they
    are the same JSON as the `*Param` TypedDicts beside them."""
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        members = [m for arg in typing.get_args(tp) for m in _members(_unwrap(arg))]
        return [m for m in members if not (isinstance(m, type) and issubclass(m, BaseModel))]
    return [tp]


def _shape_matches(value: Any, tp: Any) -> bool:
    """Whether `tp` is the kind of type (object, list, string...) that `value` is."""
    origin = typing.get_origin(tp)
    if isinstance(value, dict):
        return is_typeddict(tp) or tp is dict or origin in (dict, collections.abc.Mapping)
    if isinstance(value, list):
        return (
            origin is not None
            and origin is not dict
            and isinstance(origin, type)
            and issubclass(origin, collections.abc.Iterable)
        ) or getattr(tp, "__name__", "") == "SequenceNotStr"
    if isinstance(value, str):
        return tp is str or origin is typing.Literal
    return not is_typeddict(tp)


def _tag(typed_dict: type, field: str) -> tuple[Any, ...] | None:
    """The values a TypedDict's `field` (`type` or `role`) may take, or None."""
    hint = _hints(typed_dict).get(field)
    if hint is None:
        return None
    values: list[Any] = []
    for member in _members(_unwrap(hint)):
        if typing.get_origin(member) is typing.Literal:
            values += typing.get_args(member)
        elif member is type(None):
            values.append(None)
    return tuple(values)


def _describe(tp: Any) -> str:
    if is_typeddict(tp):
        return "object"
    if typing.get_origin(tp) is typing.Literal:
        return " | ".join(repr(v) for v in typing.get_args(tp))
    return getattr(tp, "__name__", str(tp))


def _check(value: Any, tp: Any, path: str, errors: list[str]) -> None:
    tp = _unwrap(tp)
    if tp is Any or tp is object:
        return
    members = _members(tp)
    if len(members) > 1:
        _check_union(value, members, path, errors)
        return
    origin = typing.get_origin(tp)
    if is_typeddict(tp):
        _check_typeddict(value, tp, path, errors)
    elif origin is typing.Literal:
        if value not in typing.get_args(tp):
            errors.append(f"{path}: Input should be {_describe(tp)}")
    elif tp is type(None):
        if value is not None:
            errors.append(f"{path}: Input should be null")
    elif origin in (dict, collections.abc.Mapping) or tp is dict:
        if not isinstance(value, dict):
            errors.append(f"{path}: Input should be a valid dictionary")
    elif (
        origin is not None
        and isinstance(origin, type)
        and issubclass(origin, collections.abc.Iterable)
    ):
        if not isinstance(value, list):
            errors.append(f"{path}: Input should be a valid list")
            return
        (item,) = typing.get_args(tp)[:1] or (Any,)
        for index, element in enumerate(value):
            _check(element, item, f"{path}.{index}", errors)
    elif tp is bool:
        if not isinstance(value, bool):
            errors.append(f"{path}: Input should be a valid boolean")
    elif tp in (int, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.append(f"{path}: Input should be a valid number")
        elif tp is int and not float(value).is_integer():
            errors.append(f"{path}: Input should be a valid integer")
    elif tp is str:
        if not isinstance(value, str):
            errors.append(f"{path}: Input should be a valid string")
    elif getattr(tp, "__name__", "") == "SequenceNotStr" and not isinstance(value, list):
        errors.append(f"{path}: Input should be a valid list")


def _check_union(value: Any, members: list[Any], path: str, errors: list[str]) -> None:
    candidates = [m for m in members if _shape_matches(value, m)] or members
    for field in ("type", "role"):
        if not isinstance(value, dict):
            break
        tagged = [m for m in candidates if is_typeddict(m) and _tag(m, field) is not None]
        if not tagged:
            continue
        matching = [m for m in tagged if value.get(field) in (_tag(m, field) or ())]
        if not matching and not [m for m in candidates if m not in tagged]:
            known = sorted({str(v) for m in tagged for v in (_tag(m, field) or ()) if v})
            errors.append(
                f"{path}.{field}: Input tag {value.get(field)!r} does not match any of the "
                f"expected tags: {', '.join(repr(k) for k in known)}"
            )
            return
        candidates = matching or [m for m in candidates if m not in tagged]
    best: list[str] | None = None
    for member in candidates:
        attempt: list[str] = []
        _check(value, member, path, attempt)
        if not attempt:
            return
        if best is None or len(attempt) < len(best):
            best = attempt
    errors.extend(best or [f"{path}: Input does not match any allowed type"])


def _check_typeddict(value: Any, typed_dict: type, path: str, errors: list[str]) -> None:
    if not isinstance(value, dict):
        errors.append(f"{path}: Input should be a valid dictionary or object")
        return
    hints = _hints(typed_dict)
    prefix = f"{path}." if path else ""
    # A few SDK types admit any extra key (a tool's JSON schema): they say so in their config.
    open_ended = (getattr(typed_dict, "__pydantic_config__", None) or {}).get("extra") == "allow"
    for key in value:
        if key not in hints and not open_ended:
            errors.append(f"{prefix}{key}: Extra inputs are not permitted")
    for key in sorted(_required(typed_dict)):
        if key not in value:
            errors.append(f"{prefix}{key}: Field required")
    for key, item in value.items():
        if key in hints:
            _check(item, hints[key], f"{prefix}{key}", errors)


def schema_errors(body: dict[str, Any], request_type: type) -> list[str]:
    """What is wrong with `body` as a `request_type` (an SDK TypedDict), first few only."""
    errors: list[str] = []
    _check_typeddict(body, request_type, "", errors)
    return errors[:MAX_ERRORS]
