/**
 * The server's `workspace/applyEdit`, as vscode-languageclient answers it, plus one step: the
 * files an applied preview changed are saved before the answer goes back. VS Code leaves a
 * single-file refactoring unsaved; the server then wrote the file itself, and the next
 * preview of that file met "has changed in the meantime" (or a save conflict later).
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
  const applied = await vscode.workspace.applyEdit(edit, { isRefactoring: true });
  if (applied) {
    for (const [uri] of edit.entries()) {
      const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      if (document?.isDirty) {
        await document.save();
      }
    }
  }
  return { applied };
}
