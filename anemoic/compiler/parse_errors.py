"""Turn Lark's parse errors into diagnostics that name what was expected in words."""

from __future__ import annotations

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from anemoic.compiler.diagnostics import Diagnostic, Span, did_you_mean

_WORDS = {
    "NAME": "a name",
    "INT": "a whole number",
    "FLOAT": "a number",
    "STRING": 'a string in double quotes ("...")',
    "DIGIT_WORD": "a duration or variable such as `6h` or `2t`",
    "DATE": "a date such as `2019-01-01`",
    "DATETIME": "a date and time such as `2019-01-01T06:00`",
    "EPOCH_WORD": "`epoch` or `epochs`",
    "$END": "the end of the file",
}
_VALUE_STARTS = {"INT", "FLOAT", "STRING", "NAME", "LSQB", "LBRACE", "DIGIT_WORD", "DATE", "DATETIME"}
_DECL_KEYWORDS = {"IMPORT", "LET", "DATASET", "VARIABLES", "GRAPH", "MODEL", "TASK", "LOSS", "TRAIN",
                  "PARALLEL", "SITE", "OUTPUTS", "TRACKING", "SWEEP"}
_OPERATORS = {"PLUS", "MINUS", "STAR", "SLASH", "WITH", "EXCEPT", "__ANON_0", "__ANON_1", "STEPS", "DOT",
              "LPAR", "BY", "EVERY"}


def _terminal_text(name: str, parser: Lark) -> str:
    if name in _WORDS:
        return _WORDS[name]
    try:
        pattern = parser.get_terminal(name).pattern
    except KeyError:
        return name.lower()
    if pattern.type == "str":
        return f"`{pattern.value}`"
    return name.lower()


def expected_words(expected: set[str], parser: Lark) -> str:
    """A short English list: folds value starts into 'a value' and keywords into 'a declaration'."""
    names = set(expected)
    words: list[str] = []
    if {"RBRACE", "NAME"} <= names and _DECL_KEYWORDS <= names:  # inside a `{ }` block
        names -= _DECL_KEYWORDS | {"NAME", "RBRACE", "SEMICOLON"}
        words.append("a setting (`name = value`)")
        words.append("`}`")
    if _DECL_KEYWORDS <= names:
        names -= _DECL_KEYWORDS
        names.discard("SEMICOLON")
        words.append("a declaration (`import`, `let`, `dataset`, `variables`, `graph`, `model`, `task`, "
                     "`train`, `parallel`, `site`, `outputs`, `tracking`, `sweep`)")
    if {"INT", "NAME", "LSQB"} <= names:
        names -= _VALUE_STARTS | {"TRUE", "FALSE", "MINUS", "LPAR"}
        words.append("a value")
    elif "NAME" in names and len(names & _DECL_KEYWORDS) >= 5:
        names -= _DECL_KEYWORDS
    operators = names & _OPERATORS
    if len(operators) >= 4:
        names -= _OPERATORS | {"__ANON_2", "DOTDOT", "SEMICOLON", "COMMA"}
        words.append("an operator")
    words.extend(sorted(_terminal_text(n, parser) for n in names))
    if not words:
        return "something else"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _found(token_type: str, value: str, parser: Lark) -> str:
    if token_type == "$END":
        return "the end of the file"
    text = value if len(value) <= 30 else value[:27] + "..."
    return f"`{text}`"


_KEYWORD_WORDS = ("import", "let", "dataset", "variables", "graph", "model", "task", "loss", "train", "parallel",
                  "site", "outputs", "tracking", "sweep")


def _hint(token_type: str, value: str, expected: set[str]) -> str | None:
    if token_type == "NAME" and _DECL_KEYWORDS <= expected:
        hint = did_you_mean(value, _KEYWORD_WORDS)
        if hint:
            return hint
    if value == ":" and "EQUAL" in expected:
        return "settings inside `{ }` are written `name = value`; `name: value` is only for records " \
               "such as `except { tp: std }`"
    if value == "=" and "COLON" in expected:
        return "records are written `{ name: value }`"
    if token_type in _DECL_KEYWORDS:
        for closer, opener in (("RSQB", "["), ("RPAR", "("), ("RBRACE", "{")):
            if closer in expected:
                return f"a `{opener}` before this line is never closed"
    if token_type == "$END" and "RBRACE" in expected:
        return "a `{` is never closed"
    if token_type == "$END" and "RPAR" in expected:
        return "a `(` is never closed"
    if token_type == "$END" and "RSQB" in expected:
        return "a `[` is never closed"
    if token_type in ("INT", "DIGIT_WORD") and expected <= {"NAME"} | _DECL_KEYWORDS:
        return "names start with a letter or `_`"
    if "EQUAL" in expected and token_type in ("NAME", "DIGIT_WORD", "INT"):
        return "each setting is written `name = value`; durations have no space (`6h`, not `6 h`)"
    if expected & {"COMMA", "RSQB", "RPAR"} and token_type in ("NAME", "DIGIT_WORD", "INT", "FLOAT", "STRING"):
        return "separate list items and arguments with `,`"
    if token_type == "RBRACE" and "EQUAL" in expected:
        return "a setting needs a value: `name = value`"
    return None


def _end_span(text: str, file: str) -> Span:
    """Just after the last character that is not white space."""
    body = text.rstrip()
    line = body.count("\n") + 1
    col = len(body) - (body.rfind("\n") + 1) + 1
    return Span(file, line, col, line, col + 1)


def describe_parse_error(exc: UnexpectedInput, text: str, file: str, parser: Lark) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else "?"
        span = Span(file, exc.line, exc.column, exc.line, exc.column + 1)
        hint = {"'": "strings use double quotes: \"...\"", ":": "settings are written `name = value`",
                "@": "a file cannot run code; components are plain names such as `mse`"}.get(char)
        if char == "=" and text[exc.pos_in_stream:exc.pos_in_stream + 2] == "==":
            hint = "settings use a single `=`"
        expected = expected_words(set(exc.allowed or ()), parser)
        return Diagnostic("E0002", f"unexpected character `{char}`; expected {expected}", span,
                          hint or "remove the character or put text in double quotes")
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        ttype = tok.type
        if ttype == "$END":
            span = _end_span(text, file)
            code = "E0003"
        else:
            span = Span(file, tok.line or 1, tok.column or 1, tok.end_line or tok.line or 1,
                        tok.end_column or (tok.column or 1) + 1)
            code = "E0001"
        expected = set(exc.expected or ())
        message = f"expected {expected_words(expected, parser)}, found {_found(ttype, str(tok), parser)}"
        if code == "E0003":
            message = f"the file ends too early; expected {expected_words(expected, parser)}"
        hint = _hint(ttype, str(tok), expected)
        lines = text.split("\n")
        row = lines[span.line - 1] if 1 <= span.line <= len(lines) else ""
        if code == "E0001" and row.split(" ", 1)[0] in _KEYWORD_WORDS and span.column > 1:
            for closer, opener in (("RPAR", "("), ("RSQB", "["), ("RBRACE", "{")):
                if closer in expected:
                    hint = f"a `{opener}` before this line is never closed"
                    break
        return Diagnostic(code, message, span, hint)
    if isinstance(exc, UnexpectedEOF):
        return Diagnostic("E0003", f"the file ends too early; expected "
                          f"{expected_words(set(exc.expected or ()), parser)}", _end_span(text, file))
    return Diagnostic("E0001", "this text cannot be read as an experiment", Span(file, 1, 1, 1, 2))
