"""Which names a cell defines, may update and uses: read off its AST, cached by source.

Why static: instrumenting every statement (ipyflow) costs tens of ms per cell; one parse of the
cell, cached by its text, costs microseconds for a typical cell and nothing for a re-run. The
tracker confirms the result after the cell with an identity check of the namespace
(``NamespaceWatch``): which names were rebound or deleted, by ids only — values are never
copied, pickled or hashed.

The analysis errs toward including a dependency rather than missing one: a store inside an
``if``/``for``/``while``/``try`` does not hide a later load from earlier cells; an attribute or
item store (``df["c"] = …``), an ``inplace=True`` call, and a method call whose result is thrown
away (``model.fit(X)``, ``xs.append(1)``) count as a possible update of the name. ``exec``,
``eval``, ``globals()``, ``locals()``, ``vars()`` and ``%run`` make the cell *opaque*: it depends
on every earlier execution. See docs/capture.md for what it cannot see.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

# A call of one of these names makes a cell depend on every earlier execution.
OPAQUE_CALLS = frozenset({"exec", "eval", "globals", "locals", "vars", "execfile"})
# Magics whose argument (line) or body (cell) is Python run in the user's namespace.
CODE_MAGICS = frozenset({"time", "timeit", "prun", "capture", "debug"})
OPAQUE_MAGICS = frozenset({"run", "load", "macro", "recall", "rerun"})
# Method calls whose result is thrown away but which do not change their object: looking at a
# frame (``df.head()`` as a cell's last line) must not make the cell a writer of ``df``.
_PURE = (
    "head tail describe info copy count mean median sum min max std var nunique unique"
    " value_counts isna isnull notna notnull plot hist show savefig to_csv to_parquet to_json"
    " to_excel to_pickle to_dict to_list tolist to_numpy to_string to_markdown to_html"
    " predict predict_proba score transform get keys values items format startswith endswith"
    " get_params summary display print corr cov sample groupby agg apply map filter query"
    " sort_values sort_index reset_index set_index drop dropna fillna merge join rename astype"
    " round abs cumsum diff shift rolling pivot pivot_table melt explode isin between"
)
PURE_METHODS = frozenset(_PURE.split())
_DOLLAR = re.compile(r"(?<![\\$])\$([A-Za-z_]\w*)|\{([A-Za-z_]\w*)")
_TIMEIT_OPTIONS = re.compile(r"^\s*(?:-[a-zA-Z](?:\s*\d+)?\s+)*")


@dataclass(frozen=True, slots=True)
class Names:
    """What one cell's code does to the namespace, as far as its AST says."""

    defines: frozenset[str] = frozenset()
    updates: frozenset[str] = frozenset()  # possibly mutated in place (df["c"] = …, xs.append)
    uses: frozenset[str] = frozenset()  # loaded before this cell binds them
    deletes: frozenset[str] = frozenset()
    # a function or class defined here -> the globals it reads and may update when called
    functions: tuple[tuple[str, frozenset[str], frozenset[str]], ...] = ()
    opaque: bool = False  # exec/eval/globals()/%run: depends on every earlier execution
    # it may bind names its AST does not show (`from m import *`, a magic, exec): the
    # namespace is then checked whole after it
    hidden_binds: bool = False
    parsed: bool = True


UNPARSED = Names(parsed=False, hidden_binds=True)


@dataclass(slots=True)
class _Body:
    """Loads and stores of one function or class body, for what calling it reads."""

    locals: set[str] = field(default_factory=set)
    declared_global: set[str] = field(default_factory=set)
    loads: set[str] = field(default_factory=set)
    updates: set[str] = field(default_factory=set)
    opaque: bool = False


def _root(node: ast.expr) -> str | None:
    """``df`` of ``df.a.b[0]`` / ``df["c"]``: the name whose object an expression reaches into."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _inplace(call: ast.Call) -> bool:
    return any(
        k.arg == "inplace" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in call.keywords
    )


def _ipython_call(call: ast.Call) -> tuple[str, list[str]] | None:
    """``get_ipython().run_line_magic('time', 'x = 1')`` -> ("run_line_magic", ["time", …])."""
    func = call.func
    if not (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Call)
        and isinstance(func.value.func, ast.Name)
        and func.value.func.id == "get_ipython"
    ):
        return None
    args = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return func.attr, args


class _Cell(ast.NodeVisitor):
    """Module-level walk in execution order: loads of names not yet bound in the cell are uses."""

    def __init__(self, parse: Callable[[str], ast.Module | None]) -> None:
        self.parse = parse
        self.bound: set[str] = set()
        self.defines: set[str] = set()
        self.updates: set[str] = set()
        self.uses: set[str] = set()
        self.deletes: set[str] = set()
        self.functions: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self.opaque = False
        self.hidden_binds = False
        self._statement_call: ast.Call | None = None  # the call a bare expression statement is

    # -- names ----------------------------------------------------------------------------------
    def _load(self, name: str) -> None:
        if name not in self.bound:
            self.uses.add(name)

    def _store(self, name: str) -> None:
        self.defines.add(name)
        self.bound.add(name)
        self.deletes.discard(name)
        self.functions.pop(name, None)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._load(node.id)
        elif isinstance(node.ctx, ast.Store):
            self._store(node.id)
        else:
            self.deletes.add(node.id)
            self.defines.discard(node.id)
            self.bound.discard(node.id)

    def _reach(self, node: ast.Attribute | ast.Subscript) -> None:
        if not isinstance(node.ctx, ast.Load):
            name = _root(node)
            if name is not None:
                self.updates.add(name)
        self.generic_visit(node)

    visit_Attribute = _reach
    visit_Subscript = _reach

    # -- statements, in the order they run --------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self.visit(node.target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self._load(node.target.id)
            self._store(node.target.id)
        else:
            self.visit(node.target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self._store(node.target.id)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                self.hidden_binds = True
                continue  # the namespace check after the cell sees what it bound
            self._store(alias.asname or alias.name.split(".")[0])

    visit_ImportFrom = visit_Import

    def visit_Expr(self, node: ast.Expr) -> None:
        self._statement_call = node.value if isinstance(node.value, ast.Call) else None
        self.visit(node.value)

    def visit_Call(self, node: ast.Call) -> None:
        statement, self._statement_call = self._statement_call is node, None
        magic = _ipython_call(node)
        if magic is not None:
            self.hidden_binds = True
            self._magic(*magic)
        func = node.func
        if isinstance(func, ast.Name) and func.id in OPAQUE_CALLS:
            self.opaque = True
        if isinstance(func, ast.Attribute):
            name = _root(func.value)
            if name is not None and (
                _inplace(node) or (statement and func.attr not in PURE_METHODS)
            ):
                self.updates.add(name)
        self.generic_visit(node)

    def _magic(self, method: str, args: list[str]) -> None:
        kind = args[0] if args else ""
        if method in ("run_line_magic", "run_cell_magic") and kind in OPAQUE_MAGICS:
            self.opaque = True
            return
        code = None
        if method == "run_line_magic" and kind in CODE_MAGICS and len(args) > 1:
            code = _TIMEIT_OPTIONS.sub("", args[1], count=1)
        elif method == "run_cell_magic" and kind in CODE_MAGICS and len(args) > 2:
            code = args[2]
        tree = self.parse(code) if code is not None else None
        if tree is not None:
            for statement in tree.body:
                self.visit(statement)
            return
        texts = args[1:] if method.startswith("run_") else args
        for text in texts:  # `!ls $folder`, `%cd {where}`: IPython expands these names
            for match in _DOLLAR.finditer(text):
                self._load(match.group(1) or match.group(2))

    # -- blocks: a store inside one may not happen, so it hides nothing after the block ----------
    def _block(self, statements: Iterable[ast.stmt]) -> None:
        before = set(self.bound)
        for statement in statements:
            self.visit(statement)
        self.bound = before

    def visit_If(self, node: ast.If | ast.While) -> None:
        self.visit(node.test)
        self._block(node.body)
        self._block(node.orelse)

    visit_While = visit_If

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        before = set(self.bound)
        self.visit(node.target)
        for statement in node.body:
            self.visit(statement)
        self.bound = before
        self._block(node.orelse)

    visit_AsyncFor = visit_For

    def visit_Try(self, node: ast.Try | ast.TryStar) -> None:
        self._block(node.body)
        for handler in node.handlers:
            if handler.type is not None:
                self.visit(handler.type)
            self._block(handler.body)
        self._block(node.orelse)
        self._block(node.finalbody)

    visit_TryStar = visit_Try

    def visit_Global(self, node: ast.Global) -> None:
        return None

    # -- scopes: functions and classes run later, comprehensions and lambdas now ----------------
    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for expr in [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults]:
            if expr is not None:
                self.visit(expr)
        body = _Body(locals=_params(node.args))
        _scan_body(node.body, body)
        self._store(node.name)
        self._called(node.name, body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(expr)
        methods = _Body()
        for statement in node.body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                self.visit(statement)  # decorators and defaults run now
                self.defines.discard(statement.name)
                self.bound.discard(statement.name)
                calls = self.functions.pop(statement.name, (frozenset(), frozenset()))
                methods.loads.update(calls[0])
                methods.updates.update(calls[1])
            else:  # the class body runs now, in its own scope
                body = _Body()
                _scan_body([statement], body)
                for name in body.loads - methods.locals:
                    self._load(name)
                methods.locals |= body.locals
                self.opaque |= body.opaque
        self._store(node.name)
        self.functions[node.name] = (frozenset(methods.loads), frozenset(methods.updates))

    def _called(self, name: str, body: _Body) -> None:
        self.opaque |= body.opaque
        self.functions[name] = (
            frozenset(body.loads - body.locals),
            frozenset(body.updates | body.declared_global),
        )

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for expr in [*node.args.defaults, *node.args.kw_defaults]:
            if expr is not None:
                self.visit(expr)
        body = _Body(locals=_params(node.args))
        _scan_expr(node.body, body)
        for name in body.loads - body.locals:  # usually called at once (df.apply(lambda …))
            self._load(name)
        self.opaque |= body.opaque

    def _comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        generators = node.generators
        self.visit(generators[0].iter)  # evaluated in the cell's scope
        body = _Body()
        for gen in generators:
            _bind_targets(gen.target, body.locals)
        for gen in generators[1:]:
            _scan_expr(gen.iter, body)
        for gen in generators:
            for cond in gen.ifs:
                _scan_expr(cond, body)
        elements = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        for element in elements:
            _scan_expr(element, body)
        for name in body.loads - body.locals:
            self._load(name)
        for name in body.declared_global:  # walrus targets bind in the cell's scope
            self._store(name)
        self.opaque |= body.opaque

    visit_ListComp = _comprehension
    visit_SetComp = _comprehension
    visit_GeneratorExp = _comprehension
    visit_DictComp = _comprehension


def _params(args: ast.arguments) -> set[str]:
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    return {a.arg for a in every if a is not None}


def _bind_targets(target: ast.expr, into: set[str]) -> None:
    for node in ast.walk(target):
        if isinstance(node, ast.Name):
            into.add(node.id)


class _BodyScan(ast.NodeVisitor):
    """A function body (or an expression in a nested scope): what it binds, loads, mutates."""

    def __init__(self, body: _Body) -> None:
        self.body = body

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.body.loads.add(node.id)
        elif node.id not in self.body.declared_global:
            self.body.locals.add(node.id)

    def visit_Global(self, node: ast.Global) -> None:
        self.body.declared_global.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.body.locals.update(node.names)

    def _reach(self, node: ast.Attribute | ast.Subscript) -> None:
        if not isinstance(node.ctx, ast.Load):
            name = _root(node)
            if name is not None:
                self.body.updates.add(name)
        self.generic_visit(node)

    visit_Attribute = _reach
    visit_Subscript = _reach

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in OPAQUE_CALLS:
            self.body.opaque = True
        if isinstance(func, ast.Attribute):
            name = _root(func.value)
            if name is not None and (_inplace(node) or func.attr not in PURE_METHODS):
                self.body.updates.add(name)
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            self.body.locals.add(alias.asname or alias.name.split(".")[0])

    visit_ImportFrom = visit_Import

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        # in a comprehension this binds in the enclosing scope: the cell's, when at top level
        self.body.declared_global.add(node.target.id)

    def _nested(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        for expr in [*node.args.defaults, *node.args.kw_defaults]:
            if expr is not None:
                self.visit(expr)
        if not isinstance(node, ast.Lambda):
            for expr in node.decorator_list:
                self.visit(expr)
            self.body.locals.add(node.name)
        inner = _Body(locals=_params(node.args))
        if isinstance(node, ast.Lambda):
            _scan_expr(node.body, inner)
        else:
            _scan_body(node.body, inner)
        self._absorb(inner)

    visit_FunctionDef = _nested
    visit_AsyncFunctionDef = _nested
    visit_Lambda = _nested

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases]:
            self.visit(expr)
        self.body.locals.add(node.name)
        inner = _Body()
        _scan_body(node.body, inner)
        self._absorb(inner)

    def _comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        inner = _Body()
        for gen in node.generators:
            _bind_targets(gen.target, inner.locals)
            _scan_expr(gen.iter, inner)
            for cond in gen.ifs:
                _scan_expr(cond, inner)
        for element in [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]:
            _scan_expr(element, inner)
        self.body.locals.update(inner.declared_global)
        inner.declared_global.clear()
        self._absorb(inner)

    visit_ListComp = _comprehension
    visit_SetComp = _comprehension
    visit_GeneratorExp = _comprehension
    visit_DictComp = _comprehension

    def _absorb(self, inner: _Body) -> None:
        """A nested scope's free names are this scope's loads (or its globals)."""
        self.body.loads.update(inner.loads - inner.locals)
        self.body.updates.update(inner.updates - inner.locals)
        self.body.declared_global.update(inner.declared_global)
        self.body.opaque |= inner.opaque


def _scan_body(statements: Iterable[ast.stmt], body: _Body) -> None:
    scan = _BodyScan(body)
    for statement in statements:
        scan.visit(statement)
    body.updates -= body.locals - body.declared_global


def _scan_expr(node: ast.expr, body: _Body) -> None:
    _BodyScan(body).visit(node)


def _parse(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return None


class Analyzer:
    """``names(source)`` for each cell, cached by source text (a re-run costs a dict lookup).

    ``transform`` is IPython's ``shell.transform_cell``: used when the raw cell is not Python
    (magics, ``!`` lines), so they are read as IPython runs them.
    """

    MAX_CACHED = 4096

    def __init__(self, transform: Callable[[str], str] | None = None) -> None:
        self.transform = transform
        self._cache: dict[str, Names] = {}

    def names(self, source: str) -> Names:
        found = self._cache.get(source)
        if found is None:
            found = self._analyse(source)
            if len(self._cache) >= self.MAX_CACHED:
                self._cache.clear()
            self._cache[source] = found
        return found

    def _analyse(self, source: str) -> Names:
        tree = _parse(source)
        if tree is None and self.transform is not None:
            try:
                tree = _parse(self.transform(source))
            except Exception:
                tree = None
        if tree is None:
            return UNPARSED
        cell = _Cell(_parse)
        for statement in tree.body:
            cell.visit(statement)
        return Names(
            defines=frozenset(cell.defines),
            updates=frozenset(cell.updates - cell.defines),
            uses=frozenset(cell.uses),
            deletes=frozenset(cell.deletes),
            functions=tuple(
                (name, loads, updates) for name, (loads, updates) in cell.functions.items()
            ),
            opaque=cell.opaque,
            hidden_binds=cell.hidden_binds or cell.opaque,
        )
