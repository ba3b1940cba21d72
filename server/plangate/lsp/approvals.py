"""The engine's questions in the editor: approvals wait for a lens or a request, commands are
message requests, edits are a diff to review hunk by hunk (`plangate/reviewEdit`, for clients
that declare it), workspace-edit previews (clients that show annotated edits), or else a prompt
with the diff, after which the server writes the file and the editor reloads it.

Who writes a file, by what the client declares: with `reviewEdit`, the server (the client
only shows the diff); with previews, the client applies the edit to its buffer (the VS Code
extension saves it before answering) and the server writes only what the file does not hold
yet; with prompts, the server, and no buffer edit is sent."""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import os
import uuid
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pydantic import ValidationError
from pygls.exceptions import JsonRpcException

from plangate.layout import user
from plangate.lsp import dialogs
from plangate.lsp.capabilities import declares
from plangate.lsp.params import buffer_of, plain
from plangate.lsp.positions import lsp_lines, utf16_units
from plangate.lsp.protocol import ReviewEditParams, ReviewEditResult, ReviewHunk
from plangate.tools.hunks import hunks, matching, reviewable
from plangate.workflow.approvals import (
    Answer,
    ChangeOutdated,
    Question,
    Superseded,
    Unanswered,
)

if TYPE_CHECKING:
    from pygls.workspace import TextDocument

    from plangate.lsp.ports import Editor
    from plangate.tools.changes import ProposedChange

APPLY, REJECT = "Apply", "Reject"
REVIEW_EDIT = "plangate/reviewEdit"
# Seconds an editor has to answer a prompt, a preview or a diff before the session pauses
# (PLANGATE_ANSWER_TIMEOUT overrides it): long enough to read a diff, short enough that a lost
# question does not hold a session for good.
ANSWER_TIMEOUT = 900.0


def answer_timeout() -> float:
    """The bound on an editor's answer, from PLANGATE_ANSWER_TIMEOUT when it is a number."""
    try:
        return max(0.1, float(os.environ.get("PLANGATE_ANSWER_TIMEOUT", ANSWER_TIMEOUT)))
    except ValueError:
        return ANSWER_TIMEOUT


SETTLE = 0.3  # seconds after a file's didClose before it is previewed again


def _end(lines: list[str]) -> types.Position:
    """The position after the last character of the text these lines make up."""
    if not lines or lines[-1].endswith(("\n", "\r")):
        return types.Position(line=len(lines), character=0)
    return types.Position(line=len(lines) - 1, character=utf16_units(lines[-1]))


def text_edits(old: str, new: str) -> list[tuple[types.Range, str]]:
    """The changed lines only, so the Refactor Preview lists each hunk and its diff shows
    what changed rather than a whole file replaced."""
    before, after = lsp_lines(old), lsp_lines(new)
    end = _end(before)

    def at(line: int) -> types.Position:
        return types.Position(line=line, character=0) if line < len(before) else end

    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return [
        (types.Range(start=at(i1), end=at(i2)), "".join(after[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


class LspApprovals:
    """One per session: holds the approval the user has not given yet."""

    person = True

    def __init__(self, server: Editor) -> None:
        self.server = server
        info = server.client_info
        self.who = f"{user()} in {info.name if info else 'the editor'}"
        self.session_id = ""
        self.pending: Question | None = None
        self._future: asyncio.Future[Answer] | None = None
        self.waiting = asyncio.Event()  # set while an approval waits for the user
        self.answer_timeout = answer_timeout()
        # Files the client opened only to apply one of our previews (VS Code closes them again
        # soon after; eglot keeps them): a later preview of one carries no version, since the
        # one this server saw may be a buffer the client is about to drop.
        self._opened_for_edits: set[str] = set()
        # Open buffers as they were before the server wrote their file: until the editor
        # reloads it, a buffer holding this text is behind, not edited by the user.
        self._lagging: dict[str, str] = {}

    async def ask(self, question: Question) -> Answer:
        """Answer `question` the editor's way. What the editor is asked directly (a prompt, a
        preview, a diff) has a bound: an editor that lost the question (eglot unwinding a
        prompt) pauses the session, saying so, instead of hanging it."""
        if question.kind == "permission":
            return await self._bounded(dialogs.permission(self.server, question), question.title)
        if question.kind == "sign-in" and question.url:
            signing_in = dialogs.sign_in(self.server, question, question.url)
            return await self._bounded(signing_in, question.title)
        if question.kind == "edit" and question.change is not None:
            return await self._bounded(self._edit(question, question.change), question.title)
        self.pending = question
        self._future = asyncio.get_running_loop().create_future()
        self.waiting.set()
        self.server.session_changed(self.session_id)
        try:
            return await self._future
        finally:
            self.pending = None
            self._future = None
            self.waiting.clear()

    def answer(self, answer: Answer) -> None:
        """Answer the pending approval (from a code lens or `plangate/approvePhase`).

        It stops being pending at once; the engine gets the answer on the event loop's next
        turn, after the reply to the request that carried it: pygls sends a synchronous
        handler's reply as it returns, and an async one's from its task's done callback, which
        is scheduled before the engine's task can wake. So the reply goes out first, and what
        the engine does next (status, sessionChanged, new requests) follows it."""
        future = self._future
        if future is None or future.done():
            return
        self.pending, self._future = None, None
        self.waiting.clear()

        def release() -> None:
            if not future.done():  # the session may have been cancelled meanwhile
                future.set_result(answer)

        asyncio.get_running_loop().call_soon(release)

    def supersede(self) -> None:
        """The pending question no longer holds (the engine moved on by itself): the engine
        stops waiting for it, in the same task, and asks what it now waits for."""
        future = self._future
        if future is None or future.done():
            return
        self.pending, self._future = None, None
        self.waiting.clear()
        future.set_exception(Superseded("the session moved on"))

    async def _bounded(self, asking: Awaitable[Answer], what: str) -> Answer:
        try:
            return await asyncio.wait_for(asking, self.answer_timeout)
        except TimeoutError as exc:
            raise Unanswered(
                f"the editor did not answer within {self.answer_timeout:g} s: {what} "
                "Resume to be asked again."
            ) from exc

    def _supports_annotations(self) -> bool:
        workspace = self.server.client_capabilities.workspace
        edit = workspace.workspace_edit if workspace else None
        return bool(edit and edit.document_changes and edit.change_annotation_support)

    def _document(self, change: ProposedChange) -> TextDocument | None:
        """The client's open buffer of the changed file."""
        target = self.server.workspace_of(self.session_id) / change.path
        return buffer_of(self.server.workspace.text_documents, target)

    def _buffer_holds_change(self, change: ProposedChange) -> bool:
        """True when the open buffer already has the change (the user applied the preview
        and PlanGate stopped before the answer); raise ChangeOutdated when it has other
        unsaved text, on which the preview's ranges would land on the wrong lines."""
        document = self._document(change)
        if document is None:
            return False
        text = document.source
        if change.new_text is not None and text == change.new_text:
            return True
        if self._lagging.get(document.uri) == text:
            return False  # the editor has not reloaded the file the server wrote
        if text != (change.old_text or ""):
            raise ChangeOutdated(
                f"{change.path} has changes in the editor that the proposal was not made on."
            )
        return False

    async def _edit(self, question: Question, change: ProposedChange) -> Answer:
        if declares(self.server.client_capabilities, "reviewEdit") and reviewable(change):
            # The server writes the file and the engine checked it on disk; the open buffer
            # may lag behind the server's last write (the editor reloads it), and the client
            # itself declines a change to a file with unsaved edits.
            return await self._review(question, change)
        await self._settle(change)
        if self._buffer_holds_change(change):
            return Answer(choice="apply")
        annotated = self._supports_annotations()
        if not annotated:
            params = types.ShowMessageRequestParams(
                type=types.MessageType.Info,
                message=f"PlanGate: {question.title}\n{change.diff[:4000]}",
                actions=[
                    types.MessageActionItem(title=APPLY),
                    types.MessageActionItem(title=REJECT),
                ],
            )
            chosen = await self.server.window_show_message_request_async(params)
            if chosen is None or chosen.title != APPLY:
                return Answer(choice="reject", feedback="The user rejected the change.")
            # The user may have typed in the file while the prompt was up.
            if self._buffer_holds_change(change):
                return Answer(choice="apply")
            # One writer: the server writes the file (the engine applies the answer) and sends
            # no buffer edit; the editor reloads the file. An edit of the buffer as well left
            # it modified against a changed file ("changed on disk; really edit?").
            document = self._document(change)
            if document is not None:
                self._lagging[document.uri] = document.source
            return Answer(choice="apply")
        document = self._document(change)
        uri = document.uri if document is not None else None
        # Nothing awaited from the check to here: the edit carries the version checked.
        edit = self.workspace_edit(question, change, annotated)
        try:
            result = await self.server.workspace_apply_edit_async(
                types.ApplyWorkspaceEditParams(edit=edit, label=question.title)
            )
        except JsonRpcException as exc:
            # Some clients answer a declined edit with an error (eglot: "User cancelled server
            # edit"; a stale version). It is the editor's answer, not a PlanGate failure.
            if "version" in str(exc).lower():
                raise ChangeOutdated(f"the editor refused the preview: {exc}") from exc
            return Answer(choice="reject", feedback=f"The editor did not apply it: {exc}.")
        if result.applied:
            if uri is None:
                self._opened_for_edits.add(self._target_uri(edit))
            return self._what_was_applied(change)
        reason = f" ({result.failure_reason})" if result.failure_reason else ""
        return Answer(choice="reject", feedback=f"The change was not applied{reason}.")

    def _what_was_applied(self, change: ProposedChange) -> Answer:
        """A preview the editor says it applied: all of it, or the hunks the user left ticked
        (VS Code's Refactor Preview applies only those), as the file or its buffer now shows.
        Text that is neither (an editor that has not yet told its buffer) counts as all."""
        old, new = change.old_text or "", change.new_text or ""
        document = self._document(change)
        target = self.server.workspace_of(self.session_id) / change.path
        texts = [document.source] if document is not None else []
        with contextlib.suppress(OSError, UnicodeDecodeError):
            texts.append(target.read_bytes().decode("utf-8"))
        if new in texts or not reviewable(change):
            return Answer(choice="apply")
        for text in texts:
            if text == old:
                continue
            held = matching(old, new, text)
            if held is not None:
                return (
                    Answer(choice="apply", hunks=sorted(held))
                    if held
                    else Answer(choice="reject", feedback="The editor applied none of it.")
                )
        return Answer(choice="apply")

    async def _review(self, question: Question, change: ProposedChange) -> Answer:
        """The change as a diff in the client, answered hunk by hunk; the server writes the
        file afterwards (the client does not), so there is one writer."""
        from plangate.tools.changes import ChangeKind

        document = self._document(change)
        root = self.server.workspace_of(self.session_id)
        found = hunks(change.old_text or "", change.new_text or "")
        params = ReviewEditParams(
            session_id=self.session_id,
            question_id=question.id,
            title=self.label(question, change),
            uri=document.uri if document is not None else (root / change.path).as_uri(),
            path=change.path,
            kind="create" if change.kind is ChangeKind.CREATE else "modify",
            original=change.old_text or "",
            proposed=change.new_text or "",
            hunks=[
                ReviewHunk(
                    index=h.index,
                    original_start=h.old_start,
                    original_lines=h.old_lines,
                    proposed_start=h.new_start,
                    proposed_lines=h.new_lines,
                )
                for h in found
            ],
        )
        msg_id = f"review-{uuid.uuid4().hex[:12]}"
        protocol = self.server.protocol
        try:
            raw = await protocol.send_request_async(
                REVIEW_EDIT, params.model_dump(by_alias=True), msg_id=msg_id
            )
        except asyncio.CancelledError:
            # Cancelled, stopped or paused: the client closes the diff it is showing.
            protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
            raise
        except JsonRpcException as exc:
            return Answer(choice="reject", feedback=f"The editor did not show the change: {exc}.")
        try:
            result = ReviewEditResult.model_validate(plain(raw))
        except ValidationError as exc:
            return Answer(
                choice="reject", feedback=f"The editor's answer was not understood: {exc}"
            )
        reason = result.reason.strip()
        if result.decision == "reject":
            return Answer(choice="reject", feedback=reason)
        if result.hunks is None:
            return Answer(choice="apply", feedback=reason)
        unknown = sorted(set(result.hunks) - {h.index for h in found})
        if unknown:
            return Answer(
                choice="reject",
                feedback=f"The editor's answer named hunks that are not there: {unknown}.",
            )
        if not result.hunks:
            return Answer(choice="reject", feedback=reason)
        return Answer(choice="apply", feedback=reason, hunks=sorted(set(result.hunks)))

    async def _settle(self, change: ProposedChange) -> None:
        """VS Code closes a file it opened to apply our last edit once that edit is saved, and
        a Refactor Preview of the same file opened within milliseconds of that close meets the
        file's model being disposed under it ("has changed in the meantime"). A preview of a
        file closed less than SETTLE seconds ago waits out the rest (a wait on a time since an
        event that came, never on an event a client may not send)."""
        target = self.server.workspace_of(self.session_id) / change.path
        closed = self.server.closed_at.get(target.as_uri())
        if closed is not None:
            left = closed + SETTLE - asyncio.get_running_loop().time()
            if left > 0:
                await asyncio.sleep(left)

    @staticmethod
    def _target_uri(edit: types.WorkspaceEdit) -> str:
        """The URI of the document a preview edits."""
        return next(
            c.text_document.uri
            for c in edit.document_changes or []
            if isinstance(c, types.TextDocumentEdit)
        )

    def label(self, question: Question, change: ProposedChange) -> str:
        """Like "Phase 2 · API endpoints: change app/api.py" (the preview's heading)."""
        from plangate.tools.changes import ChangeKind

        verb = "create" if change.kind is ChangeKind.CREATE else "change"
        index = question.phase_index
        plan = self.server.plan_of(self.session_id)
        if not index or plan is None or not 0 < index <= len(plan.phases):
            return f"{verb} {change.path}"
        return f"Phase {index} · {plan.phases[index - 1].name}: {verb} {change.path}"

    def workspace_edit(
        self, question: Question, change: ProposedChange, annotated: bool
    ) -> types.WorkspaceEdit:
        """The change as documentChanges, annotated so VS Code opens its Refactor Preview."""
        from plangate.tools.changes import ChangeKind

        document = self._document(change)
        root = self.server.workspace_of(self.session_id)
        uri = document.uri if document is not None else (root / change.path).as_uri()
        annotation = "plangate" if annotated else None
        version = document.version if document is not None else None
        if uri in self._opened_for_edits:
            version = None  # the buffer seen may be the one the client opened just to apply
        changes: list[Any] = []
        old = change.old_text or ""
        if change.kind is ChangeKind.CREATE:
            changes.append(
                types.CreateFile(
                    uri=uri,
                    annotation_id=annotation,
                    options=types.CreateFileOptions(overwrite=False),
                )
            )
        edit_cls = types.AnnotatedTextEdit if annotated else types.TextEdit
        kwargs: dict[str, Any] = {"annotation_id": annotation} if annotated else {}
        edits = [
            edit_cls(range=where, new_text=text, **kwargs)
            for where, text in text_edits(old, change.new_text or "")
        ]
        changes.append(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=uri, version=version
                ),
                edits=edits,
            )
        )
        annotations = None
        if annotated:
            annotations = {
                "plangate": types.ChangeAnnotation(
                    label=self.label(question, change),
                    needs_confirmation=True,
                    description=question.title,
                )
            }
        return types.WorkspaceEdit(document_changes=changes, change_annotations=annotations)
