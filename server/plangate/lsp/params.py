"""Custom params in, JSON out: pygls hands the params of `plangate/` requests over as
namedtuples and a command's arguments as a list; the request models (protocol.py) validate
both, and a wrong field or argument answers -32602 naming it."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import to_fs_path

# The request models (pydantic) load with the first request, not before `initialize`.
if TYPE_CHECKING:
    from pydantic import BaseModel
    from pygls.workspace import TextDocument

T = TypeVar("T", bound="BaseModel")


def plain(value: Any) -> Any:
    """pygls hands custom params over as namedtuples: back to plain JSON values."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def parse(model: type[T], params: Any) -> T:
    """Validate params; -32602 naming the field when they are wrong."""
    from pydantic import ValidationError

    try:
        return model.model_validate(plain(params) or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "params"
        raise JsonRpcInvalidParams(f"invalid params: '{field}': {first['msg']}") from exc


def arguments(names: tuple[str, ...], given: tuple[Any, ...], required: int) -> dict[str, Any]:
    """A command's positional arguments as named params (lens commands take the same fields
    as the requests, in order); -32602 when there are too few or too many."""
    if not required <= len(given) <= len(names):
        expected = ", ".join(names[:required]) + (
            f" (then optionally {', '.join(names[required:])})" if len(names) > required else ""
        )
        raise JsonRpcInvalidParams(
            f"invalid params: 'arguments': expected {expected}; got {len(given)} argument(s)"
        )
    return {name: plain(value) for name, value in zip(names, given, strict=False)}


def dump(model: BaseModel) -> dict[str, Any]:
    """A result model as the client reads it (camelCase JSON)."""
    return model.model_dump(mode="json", by_alias=True)


def uri_path(uri: str) -> Path:
    """The file a `file://` URI names, percent-decoded (`my%20ws` is `my ws`; Windows drive
    letters included). A bare path is taken as it is."""
    if "://" not in uri:
        return Path(uri)
    path = to_fs_path(uri)
    if path is None:
        raise ValueError(f"not a file URI: {uri}")
    return Path(path)


def buffer_of(documents: Mapping[str, TextDocument], path: Path) -> TextDocument | None:
    """The client's open buffer of `path`, found by path: a client may spell the URI
    differently (percent-encoding, drive letter case) from `Path.as_uri()`."""
    found = documents.get(path.as_uri())
    if found is not None:
        return found
    for uri, document in documents.items():
        with contextlib.suppress(ValueError):
            if uri_path(uri) == path:
                return document
    return None
