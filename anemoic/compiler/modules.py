"""Loading a file and the modules it imports: stdlib (``std.x``) and local files; cycles refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from anemoic.compiler import ast
from anemoic.compiler.diagnostics import Sink, Span, did_you_mean
from anemoic.compiler.parser import parse

STDLIB_DIR = Path(__file__).resolve().parent.parent / "stdlib"
EXPORTED = ("let", "graph", "model", "loss", "dataset")


@dataclass
class LoadedModule:
    key: str  # absolute path, or "std.x" for stdlib modules
    file: str  # as shown in diagnostics
    tree: ast.Module
    directory: Path
    bindings: dict[str, ast.Binding] = field(default_factory=dict)
    imported: dict[str, tuple[str, str, Span]] = field(default_factory=dict)  # name -> (module key, name)
    module_aliases: dict[str, tuple[str, Span]] = field(default_factory=dict)  # alias -> module key
    local_imports: list[str] = field(default_factory=list)  # keys of imported local (non-std) modules
    broken: set[str] = field(default_factory=set)  # names whose import failed (already reported)


@dataclass
class Program:
    main: str
    modules: dict[str, LoadedModule]
    sources: dict[str, str]
    probed: list[str] = field(default_factory=list)  # local module paths looked for, found or not
    stores: list[str] = field(default_factory=list)  # dataset stores whose metadata was looked for
    metadata: dict[str, tuple[object, str | None]] = field(default_factory=dict)  # read once per compile


def stdlib_modules() -> list[str]:
    return sorted("std." + ".".join(p.relative_to(STDLIB_DIR).with_suffix("").parts)
                  for p in STDLIB_DIR.rglob("*.anm"))


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class Loader:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.modules: dict[str, LoadedModule] = {}
        self.sources: dict[str, str] = {}
        self.stack: list[str] = []
        self.probed: list[str] = []

    def load_text(self, text: str, file: str, key: str, directory: Path) -> LoadedModule | None:
        self.sources[file] = text
        tree = parse(text, file, self.sink)
        if tree is None:
            return None
        module = LoadedModule(key, file, tree, directory)
        self.modules[key] = module
        self.stack.append(key)
        self._collect(module)
        self.stack.pop()
        return module

    def _define(self, module: LoadedModule, name: str, span: Span, first: Span | None) -> bool:
        if first is not None:
            self.sink.error("E0304", f"`{name}` is defined twice", span,
                            hint="rename one of them or remove the duplicate", notes=(("first defined here", first),))
            return False
        return True

    def _first_span(self, module: LoadedModule, name: str) -> Span | None:
        if name in module.bindings:
            return module.bindings[name].name.span
        if name in module.imported:
            return module.imported[name][2]
        if name in module.module_aliases:
            return module.module_aliases[name][1]
        return None

    def _collect(self, module: LoadedModule) -> None:
        for decl in module.tree.decls:
            if isinstance(decl, ast.Import):
                self._import(module, decl)
            elif isinstance(decl, ast.Binding):
                if self._define(module, decl.name.id, decl.name.span, self._first_span(module, decl.name.id)):
                    module.bindings[decl.name.id] = decl

    def _resolve(self, module: LoadedModule, decl: ast.Import) -> tuple[str, Path] | None:
        if not decl.is_path and decl.module.split(".")[0] == "std":
            path = STDLIB_DIR.joinpath(*decl.module.split(".")[1:]).with_suffix(".anm")
            if decl.module != "std" and path.is_file():
                return decl.module, path
            hint = did_you_mean(decl.module, stdlib_modules(), "stdlib modules: " + ", ".join(stdlib_modules()))
            self.sink.error("E0301", f"there is no standard module `{decl.module}`", decl.span, hint=hint)
            return None
        relative = decl.module if decl.is_path else "/".join(decl.module.split(".")) + ".anm"
        path = (module.directory / relative).resolve()
        self.probed.append(str(path))
        if not path.is_file():
            self.sink.error("E0301", f"cannot find the module file `{relative}`", decl.span,
                            hint=f"paths are relative to the importing file's folder ({_display(module.directory)})")
            return None
        return str(path), path

    def _mark_broken(self, module: LoadedModule, decl: ast.Import) -> None:
        if decl.names:
            module.broken.update(n.id for n in decl.names)
        else:
            module.broken.add(decl.module.split(".")[-1] if not decl.is_path else Path(decl.module).stem)

    def _import(self, module: LoadedModule, decl: ast.Import) -> None:
        resolved = self._resolve(module, decl)
        if resolved is None:
            self._mark_broken(module, decl)
            return
        key, path = resolved
        if key in self.stack:
            chain = self.stack[self.stack.index(key):] + [key]
            names = " -> ".join(self.modules[k].file if k in self.modules else k for k in chain[:-1])
            self.sink.error("E0302", f"import cycle: {names} -> {self.modules[key].file}", decl.span,
                            hint="move the shared definitions into a third module that both import")
            self._mark_broken(module, decl)
            return
        if key not in self.modules:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                self.sink.error("E0301", f"cannot read the module `{decl.module}`: {exc.__class__.__name__}",
                                decl.span)
                self._mark_broken(module, decl)
                return
            file = _display(path) if not key.startswith("std") else f"<{key}>"
            self.load_text(text, file, key, path.parent)
        target = self.modules.get(key)
        if target is None:
            self._mark_broken(module, decl)
            return
        if not key.startswith("std"):
            module.local_imports.append(key)
        if decl.names:
            for name in decl.names:
                if name.id not in target.bindings:
                    self.sink.error("E0303", f"`{decl.module}` has no definition named `{name.id}`", name.span,
                                    hint=did_you_mean(name.id, target.bindings,
                                                      f"it defines: {', '.join(sorted(target.bindings)) or 'nothing'}"))
                    continue
                if self._define(module, name.id, name.span, self._first_span(module, name.id)):
                    module.imported[name.id] = (key, name.id, name.span)
        else:
            alias = decl.module.split(".")[-1] if not decl.is_path else Path(decl.module).stem
            if self._define(module, alias, decl.span, self._first_span(module, alias)):
                module.module_aliases[alias] = (key, decl.span)


def load_program(text: str, file: str, directory: Path, key: str, sink: Sink) -> Program:
    """Parse ``text`` and everything it imports; ``Program.modules`` lacks ``main`` if it did not parse."""
    loader = Loader(sink)
    loader.load_text(text, file, key, directory)
    return Program(key, loader.modules, loader.sources, loader.probed)
