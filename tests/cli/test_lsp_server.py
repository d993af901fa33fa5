"""`anemoic lsp` driven as an editor drives it: the real server process, JSON-RPC over stdio."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.lsp_client import Client

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart.anm"


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    c = Client()
    result = c.request("initialize", {"processId": None, "rootUri": ROOT.as_uri(), "capabilities": {}})
    caps = result["capabilities"]
    assert caps["hoverProvider"] and caps["documentFormattingProvider"] and caps["completionProvider"]
    assert caps["textDocumentSync"]["change"] == 1  # full text
    c.notify("initialized", {})
    yield c
    assert c.close() == 0
    assert not any("Traceback" in line for line in c.log), "".join(c.log)


def _open(client: Client, uri: str, text: str) -> list[dict]:  # type: ignore[type-arg]
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "anemoic", "version": 1,
                                                             "text": text}})
    return client.wait(method="textDocument/publishDiagnostics")["params"]["diagnostics"]


def _change(client: Client, uri: str, text: str, version: int) -> dict:  # type: ignore[type-arg]
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                             "contentChanges": [{"text": text}]})
    return client.wait(method="textDocument/publishDiagnostics")["params"]


def _line_of(text: str, needle: str) -> int:
    return next(i for i, row in enumerate(text.split("\n")) if needle in row)


def test_diagnostics_follow_the_text_with_checks_codes(client: Client) -> None:
    text = QUICKSTART.read_text()
    uri = QUICKSTART.as_uri()
    assert _open(client, uri, text) == []
    broken = text.replace("timestep = 1mo", "timestep = 1")
    params = _change(client, uri, broken, 2)
    assert params["version"] == 2
    [diag] = params["diagnostics"]
    line = _line_of(broken, "timestep = 1")
    assert diag["code"] == "E0101" and diag["source"] == "anemoic" and diag["severity"] == 1
    assert diag["range"]["start"] == {"line": line, "character": 13}
    assert "duration" in diag["message"] and "hint:" in diag["message"]
    assert _change(client, uri, text, 3)["diagnostics"] == []


def test_a_broken_document_is_a_diagnostic_and_the_server_lives_on(client: Client) -> None:
    uri = (ROOT / "scratch-broken.anm").as_uri()
    diagnostics = _open(client, uri, "train {\n  epochs =\n}\n")
    assert [d["code"] for d in diagnostics] == ["E0001"]
    for garbage in ("{{{{", "\x00\x01", "let = = =", "task f(", "}" * 100, "(" * 500):
        _change(client, uri, garbage, 2)
        answer = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                       "position": {"line": 0, "character": 2}})
        assert answer is None or "contents" in answer
        assert client.request("textDocument/formatting", {"textDocument": {"uri": uri},
                                                          "options": {"tabSize": 2, "insertSpaces": True}}) is None
        client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                   "position": {"line": 0, "character": 1}})
        assert client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}}) == []


def test_hover_shows_the_setting_its_resolved_value_and_where_it_was_set(client: Client) -> None:
    text = QUICKSTART.read_text()
    uri = QUICKSTART.as_uri()
    _change(client, uri, text, 10)
    line = _line_of(text, "epochs     = 20")
    value = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                  "position": {"line": line, "character": 4}})["contents"]["value"]
    assert "plan field `training.epochs`" in value and "`training.epochs` = `20`" in value
    assert f"quickstart.anm:{line + 1}:" in value
    line = _line_of(text, "model net")
    value = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                  "position": {"line": line, "character": 36}})["contents"]["value"]
    assert value == "parameter `channels` of `encoder_processor_decoder`: int, default required"


def test_completion_offers_settings_components_and_the_datasets_variables(client: Client) -> None:
    text = QUICKSTART.read_text()
    uri = QUICKSTART.as_uri()
    _change(client, uri, text, 20)
    line = _line_of(text, "epochs     = 20")
    items = client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                       "position": {"line": line, "character": 2}})["items"]
    labels = {i["label"] for i in items}
    assert {"epochs", "batch", "lr", "optimiser", "pin_memory"} <= labels and "cosine" not in labels
    line = _line_of(text, "prognostic = [sst")
    items = client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                       "position": {"line": line, "character": 16}})["items"]
    labels = {i["label"] for i in items}
    assert {"sst", "10u", "10v", "cosine", "graphtransformer"} <= labels
    items = client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                       "position": {"line": 5, "character": 0}})["items"]
    assert {i["label"] for i in items} >= {"dataset", "train", "task", "import"}


def test_formatting_and_symbols(client: Client) -> None:
    uri = (ROOT / "scratch-format.anm").as_uri()
    _open(client, uri, "train{epochs=2;batch   =  4}  // c\n")
    [edit] = client.request("textDocument/formatting", {"textDocument": {"uri": uri},
                                                        "options": {"tabSize": 2, "insertSpaces": True}})
    assert edit["newText"] == "train { epochs = 2; batch = 4 } // c\n"
    assert edit["range"]["start"] == {"line": 0, "character": 0}
    _change(client, uri, edit["newText"], 2)
    assert client.request("textDocument/formatting", {"textDocument": {"uri": uri},
                                                      "options": {"tabSize": 2, "insertSpaces": True}}) == []
    symbols = client.request("textDocument/documentSymbol", {"textDocument": {"uri": QUICKSTART.as_uri()}})
    assert [s["name"] for s in symbols][:4] == ["import std.models", "pacific", "variables pacific", "g"]


def test_definition_across_imports_into_the_stdlib(client: Client) -> None:
    example = ROOT / "examples" / "aifs_o96.anm"
    text = example.read_text()
    uri = example.as_uri()
    _open(client, uri, text)

    def at(needle: str, offset: int) -> dict:  # type: ignore[type-arg]
        line = _line_of(text, needle)
        return client.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": {
            "line": line, "character": text.split("\n")[line].index(needle) + offset}})

    stdlib = ROOT / "anemoic" / "stdlib"
    found = at("scalers.general_variable", 10)
    assert found["uri"] == (stdlib / "scalers.anm").as_uri()
    line = (stdlib / "scalers.anm").read_text().split("\n")[found["range"]["start"]["line"]]
    assert line.startswith("let general_variable =") and found["range"]["start"]["character"] == 4
    assert at("graphtransformer(g", 3)["uri"] == (stdlib / "models.anm").as_uri()
    assert at("./sites/atos.anm", 3)["uri"] == (ROOT / "examples" / "sites" / "atos.anm").as_uri()
    assert at("(g, grad", 1) == {"uri": uri, "range": {"start": {"line": _line_of(text, "graph g ="), "character": 6},
                                                         "end": {"line": _line_of(text, "graph g ="), "character": 7}}}
    assert at("epochs    = 200", 1) is None
