"""Signing in to a remote MCP server that asks for it: OAuth 2.1 with PKCE through the SDK's
`OAuthClientProvider` (discovery, client registration, token refresh are the SDK's).

What is PlanGate's: where tokens live (the user's data folder, one file per server URL,
readable by the user only; never `.plangate/`, a log or an event, like the API key), how the
user is shown the sign-in page (`SignIn`, answered by the front door), and the loopback
listener on 127.0.0.1 that takes the authorization server's answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import json
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from mcp.client.auth import OAuthClientProvider
    from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthToken

SIGN_IN_TIMEOUT = 300.0  # seconds for the user to finish signing in, in the browser
CALLBACK = "/callback"

# Shown the page to sign in at; False when the user would rather not.
SignIn = Callable[[str], Awaitable[bool]]


class SignInError(Exception):
    """Signing in did not happen: declined, timed out, or refused by the server."""


@dataclass(frozen=True)
class OAuthSettings:
    """What a configuration may say about signing in: a client registered beforehand (else
    the SDK registers one), the scope to ask for, the loopback port (else one is chosen and
    kept with the server's tokens, since it is part of the registered redirect)."""

    client_id: str = ""
    client_secret: str = ""
    scope: str = ""
    port: int = 0


def auth_folder() -> Path:
    """Where tokens are kept: `$XDG_DATA_HOME/plangate/mcp-auth` (~/.local/share/...)."""
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "plangate" / "mcp-auth"


def token_file(url: str) -> Path:
    """The file that holds one server's tokens: named by a hash of its URL (not the URL)."""
    return auth_folder() / f"{hashlib.sha256(url.encode()).hexdigest()[:24]}.json"


def sign_out(url: str) -> bool:
    """Forget a server's tokens and registration; False when there were none."""
    path = token_file(url)
    if not path.exists():
        return False
    path.unlink()
    return True


def signed_in(url: str) -> bool:
    """Whether tokens are kept for this server."""
    return bool(TokenFile(url).read().get("tokens"))


class TokenFile:
    """The SDK's `TokenStorage`, in a file of the user's own (mode 0600, written whole)."""

    def __init__(self, url: str, settings: OAuthSettings | None = None) -> None:
        self.url = url
        self.path = token_file(url)
        self.settings = settings or OAuthSettings()

    def read(self) -> dict[str, Any]:
        """The file's content; empty when missing or unreadable (then the user signs in)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) and data.get("url") == self.url else {}

    def _write(self, **changes: Any) -> None:
        data = {**self.read(), "url": self.url, **changes}
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = self.path.with_suffix(".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(partial, self.path)

    def port(self) -> int:
        """The loopback port of the redirect: configured, kept, or a free one (kept)."""
        if self.settings.port:
            return self.settings.port
        kept = self.read().get("port")
        if isinstance(kept, int) and kept > 0:
            return kept
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        self._write(port=port)
        return port

    async def get_tokens(self) -> OAuthToken | None:
        """The kept tokens, their lifetime counted from now (None: sign in)."""
        from mcp.shared.auth import OAuthToken

        kept = self.read().get("tokens")
        if not isinstance(kept, dict):
            return None
        expires_at = kept.pop("expires_at", None)
        if isinstance(expires_at, (int, float)):
            kept["expires_in"] = max(0, int(expires_at - time.time()))
        try:
            return OAuthToken.model_validate(kept)
        except ValueError:
            return None

    async def set_tokens(self, tokens: OAuthToken) -> None:
        """Keep new tokens, with when they expire."""
        data = tokens.model_dump(mode="json", exclude_none=True)
        if tokens.expires_in is not None:
            data["expires_at"] = time.time() + tokens.expires_in
        self._write(tokens=data)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        """The registered client: the configured one, else the one the SDK registered."""
        from mcp.shared.auth import OAuthClientInformationFull

        if self.settings.client_id:
            return OAuthClientInformationFull(
                client_id=self.settings.client_id,
                client_secret=self.settings.client_secret or None,
                redirect_uris=[_redirect(self.port())],  # type: ignore[list-item]
            )
        kept = self.read().get("client")
        if not isinstance(kept, dict):
            return None
        try:
            return OAuthClientInformationFull.model_validate(kept)
        except ValueError:
            return None

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        """Keep the client the SDK registered."""
        self._write(client=client_info.model_dump(mode="json", exclude_none=True))


class Callback:
    """The loopback listener the browser is sent back to, with the code (or an error)."""

    def __init__(self, port: int, server: str) -> None:
        self.port = port
        self.server = server
        self._answer: asyncio.Future[AuthorizationCodeResult] | None = None
        self._listener: asyncio.Server | None = None
        self._state: str | None = None

    async def open(self, authorization_url: str) -> None:
        """Listen on 127.0.0.1 (only) before the user is sent to sign in; only an answer that
        carries the `state` of this authorization request counts (another page's request to
        the port cannot end the sign-in)."""
        await self.close()
        self._state = parse_qs(urlsplit(authorization_url).query).get("state", [None])[0]
        self._answer = asyncio.get_running_loop().create_future()
        try:
            self._listener = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        except OSError as exc:
            raise SignInError(
                f"cannot listen on 127.0.0.1:{self.port} for the sign-in answer ({exc.strerror})"
            ) from exc

    async def wait(self) -> AuthorizationCodeResult:
        """The authorization code, once the browser brings it (bounded)."""
        if self._answer is None:
            raise SignInError("the sign-in listener is not open")
        try:
            return await asyncio.wait_for(asyncio.shield(self._answer), SIGN_IN_TIMEOUT)
        except TimeoutError as exc:
            raise SignInError(f"not signed in within {SIGN_IN_TIMEOUT:g} s") from exc
        finally:
            await self.close()

    async def close(self) -> None:
        """Stop listening."""
        if self._listener is not None:
            self._listener.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._listener.wait_closed(), 5)
            self._listener = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        from mcp.shared.auth import AuthorizationCodeResult

        try:
            line = await asyncio.wait_for(reader.readline(), 10)
            parts = line.decode("latin-1").split()
            target = urlsplit(parts[1] if len(parts) >= 2 else "")
            if target.path != CALLBACK or self._answer is None or self._answer.done():
                await _reply(writer, 404, "Not the sign-in PlanGate waits for.")
                return
            query = {k: v[0] for k, v in parse_qs(target.query).items()}
            if query.get("state") != self._state:
                await _reply(writer, 400, "This is not the sign-in PlanGate waits for.")
                return
            if "error" in query:
                why = query.get("error_description") or query["error"]
                self._answer.set_exception(SignInError(f"the server refused: {why}"))
                await _reply(writer, 400, f"Signing in to {self.server} failed: {why}")
                return
            self._answer.set_result(
                AuthorizationCodeResult(
                    code=query.get("code", ""), state=query.get("state"), iss=query.get("iss")
                )
            )
            await _reply(writer, 200, f"Signed in to {self.server}. You can close this tab.")
        except (OSError, TimeoutError, ValueError):
            pass
        finally:
            writer.close()


async def _reply(writer: asyncio.StreamWriter, status: int, text: str) -> None:
    body = f"<!doctype html><title>PlanGate</title><p>{html.escape(text)}</p>".encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()


def _redirect(port: int) -> str:
    return f"http://127.0.0.1:{port}{CALLBACK}"


def provider(
    server: str, url: str, settings: OAuthSettings, sign_in: SignIn
) -> OAuthClientProvider:
    """The SDK's OAuth handler for one server: it does nothing until the server answers 401;
    then the user is shown the sign-in page (`sign_in`) and the listener waits for the code."""
    from mcp.client.auth import OAuthClientProvider
    from mcp.shared.auth import OAuthClientMetadata

    store = TokenFile(url, settings)
    port = store.port()
    callback = Callback(port, server)

    async def redirect(authorization_url: str) -> None:
        await callback.open(authorization_url)
        try:
            went = await sign_in(authorization_url)
        except BaseException:
            await callback.close()
            raise
        if not went:
            await callback.close()
            raise SignInError(f"signing in to '{server}' was declined")

    metadata = OAuthClientMetadata(
        client_name="PlanGate",
        redirect_uris=[_redirect(port)],  # type: ignore[list-item]
        grant_types=["authorization_code", "refresh_token"],
        token_endpoint_auth_method="client_secret_post" if settings.client_secret else "none",
        scope=settings.scope or None,
    )
    return OAuthClientProvider(
        server_url=url,
        client_metadata=metadata,
        storage=store,
        redirect_handler=redirect,
        callback_handler=callback.wait,
    )
