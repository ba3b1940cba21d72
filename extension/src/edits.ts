/**
 * The server's `workspace/applyEdit`, as vscode-languageclient answers it, plus two steps: the
 * files an applied preview changed are saved before the answer goes back (VS Code leaves a
 * single-file refactoring unsaved; the server then wrote the file itself, and the next
 * preview of that file met "has changed in the meantime"), and a Refactor Preview applied
 * with nothing ticked is answered as not applied, saying so: VS Code reports it applied.
 */
import * as vscode from 'vscode';
import {
  ApplyWorkspaceEditRequest,
  type ApplyWorkspaceEditParams,
  type ApplyWorkspaceEditResult,
  type LanguageClient,
  TextDocumentEdit,
} from 'vscode-languageclient/node';

/** Answer the server's edits through the Refactor Preview, then save what they changed. */
export function handleEdits(client: LanguageClient): vscode.Disposable {
  return client.onRequest(ApplyWorkspaceEditRequest.type, (params) => applyAndSave(client, params));
}

async function applyAndSave(
  client: LanguageClient,
  params: ApplyWorkspaceEditParams,
): Promise<ApplyWorkspaceEditResult> {
  // Edits meant for another version of an open document would land in the wrong place.
  for (const change of params.edit.documentChanges ?? []) {
    if (!TextDocumentEdit.is(change) || change.textDocument.version === null) {
      continue;
    }
    const uri = client.protocol2CodeConverter.asUri(change.textDocument.uri).toString();
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
    if (open !== undefined && open.version !== change.textDocument.version) {
      return { applied: false, failureReason: `${uri} changed since the server read it` };
    }
  }
  const edit = await client.protocol2CodeConverter.asWorkspaceEdit(params.edit);
  const uris = edit.entries().map(([uri]) => uri);
  const before = await Promise.all(uris.map(contents));
  const applied = await vscode.workspace.applyEdit(edit, { isRefactoring: true });
  if (!applied) {
    return { applied };
  }
  for (const uri of uris) {
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (document?.isDirty) {
      await document.save();
    }
  }
  const after = await Promise.all(uris.map(contents));
  if (uris.length > 0 && after.every((text, i) => text !== undefined && text === before[i])) {
    return { applied: false, failureReason: 'the user applied the Refactor Preview with nothing ticked' };
  }
  return { applied };
}

/** A file's text on disk, or undefined when it cannot be read (not there yet). */
async function contents(uri: vscode.Uri): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch {
    return undefined;
  }
}
