"""`anemoic lsp`: a Language Server over stdio (pygls), answering from ``anemoic.compiler.editor``.

Diagnostics are published on open, change and save (full-text sync: the documents are small and a
full check of the AIFS example takes tens of milliseconds warm); hover, go-to-definition,
completion, formatting and document symbols answer from the last text.  A handler that fails logs
and answers nothing: a broken document never stops the server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from anemoic.compiler import editor
from anemoic.compiler.api import CompileResult
from anemoic.compiler.formatter import FormatError, format_source

log = logging.getLogger("anemoic.lsp")
F = TypeVar("F", bound=Callable[..., Any])
KINDS = {"keyword": t.CompletionItemKind.Keyword, "setting": t.CompletionItemKind.Property,
         "component": t.CompletionItemKind.Function, "variable": t.CompletionItemKind.Variable,
         "value": t.CompletionItemKind.Constant}
SYMBOLS = {"import": t.SymbolKind.Module, "let": t.SymbolKind.Constant, "sweep": t.SymbolKind.Array}


class AnemoicServer(LanguageServer):
    def __init__(self) -> None:
        from anemoic import __version__

        super().__init__("anemoic", __version__, text_document_sync_kind=t.TextDocumentSyncKind.Full)
        self.results: dict[str, CompileResult] = {}  # uri -> the last check of its text


server = AnemoicServer()


def safe(default: Any = None) -> Callable[[F], F]:
    def wrap(handler: F) -> F:
        @wraps(handler)
        def run(*args: Any) -> Any:
            try:
                return handler(*args)
            except Exception:  # noqa: BLE001 - the editor session outlives any one bad document
                log.exception("%s failed", handler.__name__)
                return default
        return run  # type: ignore[return-value]
    return wrap


def _path(uri: str) -> str:
    return to_fs_path(uri) or uri


def _publish(ls: AnemoicServer, uri: str) -> None:
    document = ls.workspace.get_text_document(uri)
    issues, result = editor.check_text(document.source, _path(uri))
    ls.results[uri] = result
    ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=uri, version=document.version, diagnostics=[
        t.Diagnostic(range=t.Range(t.Position(i.line, i.column), t.Position(i.end_line, i.end_column)),
                     message=i.message, code=i.code, source="anemoic",
                     severity=t.DiagnosticSeverity.Error if i.severity == "error" else t.DiagnosticSeverity.Warning)
        for i in issues]))


@server.feature(t.TEXT_DOCUMENT_DID_OPEN)
@safe()
def did_open(ls: AnemoicServer, params: t.DidOpenTextDocumentParams) -> None:
    _publish(ls, params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
@safe()
def did_change(ls: AnemoicServer, params: t.DidChangeTextDocumentParams) -> None:
    _publish(ls, params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_DID_SAVE)
@safe()
def did_save(ls: AnemoicServer, params: t.DidSaveTextDocumentParams) -> None:
    _publish(ls, params.text_document.uri)  # an imported file or the store may have changed


@server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
@safe()
def did_close(ls: AnemoicServer, params: t.DidCloseTextDocumentParams) -> None:
    ls.results.pop(params.text_document.uri, None)
    ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


@server.feature(t.TEXT_DOCUMENT_HOVER)
@safe()
def hover(ls: AnemoicServer, params: t.HoverParams) -> t.Hover | None:
    uri, pos = params.text_document.uri, params.position
    text = editor.hover(ls.workspace.get_text_document(uri).source, pos.line, pos.character, ls.results.get(uri))
    return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=text)) if text else None


@server.feature(t.TEXT_DOCUMENT_COMPLETION, t.CompletionOptions(trigger_characters=["=", "(", ",", "["]))
@safe()
def completion(ls: AnemoicServer, params: t.CompletionParams) -> t.CompletionList | None:
    uri, pos = params.text_document.uri, params.position
    items = editor.completions(ls.workspace.get_text_document(uri).source, pos.line, pos.character, _path(uri))
    return t.CompletionList(is_incomplete=False, items=[
        t.CompletionItem(label=c.label, kind=KINDS[c.kind], detail=c.detail or None) for c in items])


@server.feature(t.TEXT_DOCUMENT_FORMATTING)
@safe()
def formatting(ls: AnemoicServer, params: t.DocumentFormattingParams) -> list[t.TextEdit] | None:
    text = ls.workspace.get_text_document(params.text_document.uri).source
    try:
        formatted = format_source(text, _path(params.text_document.uri))
    except FormatError:
        return None  # the diagnostics already say why
    if formatted == text:
        return []
    rows = text.split("\n")
    return [t.TextEdit(range=t.Range(t.Position(0, 0), t.Position(len(rows), 0)), new_text=formatted)]


@server.feature(t.TEXT_DOCUMENT_DEFINITION)
@safe()
def definition(ls: AnemoicServer, params: t.DefinitionParams) -> t.Location | None:
    uri, pos = params.text_document.uri, params.position
    found = editor.definition(ls.workspace.get_text_document(uri).source, pos.line, pos.character, _path(uri))
    if found is None:
        return None
    return t.Location(uri=Path(found.path).resolve().as_uri(), range=t.Range(
        t.Position(found.line, found.column), t.Position(found.line, found.end_column)))


@server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@safe()
def document_symbol(ls: AnemoicServer, params: t.DocumentSymbolParams) -> list[t.DocumentSymbol] | None:
    uri = params.text_document.uri
    out = []
    for s in editor.symbols(ls.workspace.get_text_document(uri).source, _path(uri)):
        where = t.Range(t.Position(s.line, s.column), t.Position(s.end_line, s.end_column))
        out.append(t.DocumentSymbol(name=s.name, kind=SYMBOLS.get(s.kind, t.SymbolKind.Object), range=where,
                                    selection_range=where, detail=s.kind))
    return out


def serve() -> None:
    logging.basicConfig(level=logging.WARNING)
    server.start_io()
