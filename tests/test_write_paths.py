"""Every write goes through a service, and no write skips history (issue 19).

A static check over the apps' own modules, read with :mod:`ast` so formatting cannot
hide a call. "Tracked" models are the ones with a simple-history manager, found in
the app registry when the test runs, so a newly tracked model is covered at once.

The rules:

1. **Read-side modules never write.** Views, forms, admin, template tags, management
   commands, Celery tasks, selectors, middleware and context processors make no
   ``.save()``/``.delete()``/``.create()``/``.get_or_create()``/``.update_or_create()``/
   ``.update()``/``.bulk_create()``/``.bulk_update()``, no ``.add()``/``.remove()``/
   ``.set()``/``.clear()`` on a relation manager and no ``assign_perm``/``remove_perm``.
   The method names are flagged on any receiver (being conservative); the few calls
   that are not model writes are listed in ``NOT_A_MODEL_WRITE`` with the reason.
   Views are never Django's generic editing views, and forms never ``ModelForm``s:
   both write without saying so.
2. **Nothing skips history.** Anywhere, services included, ``.update()``,
   ``.bulk_create()`` and ``.bulk_update()`` on a tracked model (or on a queryset whose
   model cannot be told from the code) write no historical rows. Use a save, or
   simple-history's ``bulk_create_with_history``/``bulk_update_with_history``.
3. **Admin writes through services.** A ModelAdmin of a tracked model either cannot
   add/change/delete (``has_*_permission`` returns False) or its ``save_model``/
   ``delete_model``/``delete_queryset`` (and ``save_related`` where the model has
   many-to-many fields or the admin has inlines) call a service; inlines of tracked
   models are read-only.

Each violation is printed as ``path:line: what``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ("assessments", "cases", "consent", "csf_portal", "forums", "referrals", "reports", "pages")

# Demo and scale-data builders (the demo package, beside the apps) build a fresh
# database for a demonstration or a benchmark, not live data: no user acts, and
# speed matters more than history. They are exempt from these rules; their writes
# run inside csf_portal.history.unattributed, the history guard's exemption
# (tests/history_guard.py).
DATA_BUILDERS = frozenset(
    {
        *(f"demo/{app}.py" for app in ("assessments", "cases", "forums", "referrals", "reports")),
        "demo/scale.py",
        "demo/management/commands/seed_demo.py",
        "demo/management/commands/bench.py",
        "demo/management/commands/bench_pdf.py",
    }
)

WRITE_METHODS = frozenset(
    {
        "save",
        "delete",
        "create",
        "get_or_create",
        "update_or_create",
        "update",
        "bulk_create",
        "bulk_update",
        "add",
        "remove",
        "set",
        "clear",
    }
)
WRITE_FUNCTIONS = frozenset({"assign_perm", "remove_perm"})
HISTORY_SKIPPING = frozenset({"update", "bulk_create", "bulk_update"})
QUERYSET_HOPS = frozenset(
    {"objects", "filter", "exclude", "all", "select_for_update", "order_by", "using"}
)
GENERIC_EDIT_VIEWS = frozenset(
    {
        "CreateView",
        "UpdateView",
        "DeleteView",
        "BaseCreateView",
        "BaseUpdateView",
        "BaseDeleteView",
        "ModelFormMixin",
        "DeletionMixin",
    }
)


def is_read_side(path: str) -> bool:
    """Modules that must not write: they call services instead."""
    name = path.rsplit("/", 1)[-1]
    return (
        name
        in {
            "views.py",
            "forms.py",
            "admin.py",
            "admin_site.py",
            "tasks.py",
            "selectors.py",
            "middleware.py",
            "context_processors.py",
            "errors_views.py",
        }
        or "/templatetags/" in path
        or "/management/commands/" in path
    )


# Calls in read-side modules that are not model writes, keyed by
# (path, enclosing function, the call as written). Each says why it is allowed.
NOT_A_MODEL_WRITE: dict[tuple[str, str, str], str] = {
    ("forums/views.py", "AgendaAddView._page", "context.update"): (
        "dict.update on the template context"
    ),
    ("referrals/forms.py", "RiskForm.needing_a_risk", "form.errors.clear"): (
        "the form's ErrorDict, not a relation manager"
    ),
    ("csf_portal/middleware.py", "OTPMiddleware._verify_user_sync", "_known_devices.set"): (
        "a ContextVar holding this request's devices"
    ),
    ("referrals/selectors.py", "identity_comparisons", "seen.add"): (
        "a Python set of the people already compared"
    ),
}

# Real writes outside services, left for now because the code is being changed by
# another engineer. Each must go (and its entry with it) when moved into a service.
KNOWN_WRITES: dict[tuple[str, str, str], str] = {
    # TODO(issue 19): move the access-log rows into an access-layer helper (forums area).
    (
        "forums/selectors.py",
        "_log_case_reads",
        "AccessEvent.objects.bulk_create",
    ): "TODO(issue 19): the selector writes its own access-log rows",
}

# Admin classes of tracked models that still write without a service.
KNOWN_ADMIN_WRITES: dict[tuple[str, str], str] = {
    # TODO(issue 19): user_update / user_set_roles from save_model and save_related
    # (csf_portal/admin.py is being changed for the administrator duties).
    ("csf_portal/admin.py", "PortalUserAdmin"): (
        "TODO(issue 19): Django's UserAdmin saves the user and its groups itself"
    ),
}


def tracked_models() -> dict[str, type]:
    """Tracked models by class name, from the app registry and simple-history."""
    from simple_history.utils import get_history_manager_for_model

    tracked = {}
    for model in apps.get_models():
        if not hasattr(model._meta, "simple_history_manager_attribute"):
            continue
        get_history_manager_for_model(model)  # raises if the manager is not there
        tracked[model.__name__] = model
    return tracked


def untracked_model_names(tracked: dict[str, type]) -> frozenset[str]:
    return frozenset(m.__name__ for m in apps.get_models()) - set(tracked)


@dataclass
class Violation:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


@dataclass
class _Module:
    path: str
    tree: ast.Module
    aliases: dict[str, str] = field(default_factory=dict)
    service_modules: set[str] = field(default_factory=set)
    service_functions: set[str] = field(default_factory=set)


def _read(path: str, source: str) -> _Module:
    tree = ast.parse(source, filename=path)
    module = _Module(path=path, tree=tree)
    for node in ast.walk(tree):
        # ``D = GeneratedDocument``: follow the alias to the model.
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Name)
        ):
            module.aliases[node.targets[0].id] = node.value.id
        elif isinstance(node, ast.ImportFrom) and node.module:
            for name in node.names:
                bound = name.asname or name.name
                if name.asname:
                    module.aliases[name.asname] = name.name
                if name.name == "services" or name.name.endswith("_services"):
                    module.service_modules.add(bound)
                elif node.module.endswith("services"):
                    module.service_functions.add(bound)
        elif isinstance(node, ast.Import):
            for name in node.names:
                if name.name.endswith(".services") and name.asname:
                    module.service_modules.add(name.asname)
    return module


def _root(node: ast.expr) -> tuple[str | None, set[str]]:
    """The name a receiver chain starts from, and the attributes/methods on the way."""
    hops: set[str] = set()
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            hops.add(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Name):
            return node.id, hops
        else:
            return None, hops


def _skips_history(
    call: ast.Call, module: _Module, tracked: dict[str, type], untracked: frozenset[str]
) -> str | None:
    """What model a history-skipping call writes, if it is (or may be) a tracked one."""
    assert isinstance(call.func, ast.Attribute)
    root, hops = _root(call.func.value)
    if root is not None:
        root = module.aliases.get(root, root)
    if root in tracked:
        return root
    if root in untracked:
        return None
    method = call.func.attr
    only_keywords = not call.args and bool(call.keywords)
    if method != "update" or only_keywords or hops & QUERYSET_HOPS:
        return "a model the code does not name"
    return None  # ``something.update(mapping)``: a dict


def _walk(node: ast.AST, scope: tuple[str, ...] = ()) -> Iterator[tuple[ast.AST, str]]:
    """Every node with the dotted name of the function or class it is in."""
    for child in ast.iter_child_nodes(node):
        inner = scope
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            inner = (*scope, child.name)
        yield child, ".".join(inner)
        yield from _walk(child, inner)


def check_calls(
    module: _Module,
    tracked: dict[str, type],
    allowed: dict[tuple[str, str, str], str] | None = None,
) -> list[Violation]:
    allowed = {**NOT_A_MODEL_WRITE, **KNOWN_WRITES} if allowed is None else allowed
    untracked = untracked_model_names(tracked)
    found = []
    read_side = is_read_side(module.path)
    for node, scope in _walk(module.tree):
        if read_side and isinstance(node, ast.ClassDef):
            bases = {ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases}
            if bases & (GENERIC_EDIT_VIEWS | {"ModelForm"}):
                found.append(
                    Violation(
                        module.path,
                        node.lineno,
                        f"{node.name} is a {sorted(bases)[0]}: it writes without a service",
                    )
                )
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        written = ast.unparse(func)
        if (allowed.get((module.path, scope, written))) is not None:
            continue
        if isinstance(func, ast.Attribute) and func.attr in WRITE_METHODS:
            if read_side:
                found.append(
                    Violation(
                        module.path,
                        node.lineno,
                        f"{written}() in {scope or 'the module'}: writes belong in a service",
                    )
                )
            elif func.attr in HISTORY_SKIPPING:
                model = _skips_history(node, module, tracked, untracked)
                if model is not None:
                    found.append(
                        Violation(
                            module.path,
                            node.lineno,
                            f"{written}() on {model} writes no history: save, or use "
                            f"simple_history.utils.{func.attr.removeprefix('bulk_')}"
                            "_with_history"
                            if func.attr != "update"
                            else f"{written}() on {model} writes no history: save each row",
                        )
                    )
        elif read_side and (
            (isinstance(func, ast.Name) and func.id in WRITE_FUNCTIONS)
            or (isinstance(func, ast.Attribute) and func.attr in WRITE_FUNCTIONS)
        ):
            found.append(
                Violation(
                    module.path,
                    node.lineno,
                    f"{written}() in {scope or 'the module'}: permissions change in access.py",
                )
            )
    return found


def _registered(module: _Module) -> dict[str, list[str]]:
    """Admin class name -> the model names it is registered for."""
    registered: dict[str, list[str]] = {}
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ClassDef):
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and ast.unparse(decorator.func).rsplit(".", 1)[-1] == "register"
                ):
                    names = [a.id for a in decorator.args if isinstance(a, ast.Name)]
                    registered.setdefault(node.name, []).extend(names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "register"
            and len(node.args) >= 2
            and isinstance(node.args[0], ast.Name)
            and isinstance(node.args[1], ast.Name)
        ):
            registered.setdefault(node.args[1].id, []).append(node.args[0].id)
    return registered


def _returns_false(method: ast.FunctionDef | None) -> bool:
    if method is None:
        return False
    body = [s for s in method.body if not (isinstance(s, ast.Expr))]
    return (
        len(body) == 1
        and isinstance(body[0], ast.Return)
        and isinstance(body[0].value, ast.Constant)
        and body[0].value.value is False
    )


def _calls_a_service(method: ast.FunctionDef | None, module: _Module) -> bool:
    if method is None:
        return False
    for node in ast.walk(method):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in module.service_modules
        ):
            return True
        if isinstance(func, ast.Name) and func.id in module.service_functions:
            return True
    return False


def check_admin(
    module: _Module,
    tracked: dict[str, type],
    allowed: dict[tuple[str, str], str] | None = None,
) -> list[Violation]:
    allowed = KNOWN_ADMIN_WRITES if allowed is None else allowed
    found = []
    registered = _registered(module)
    for node in ast.walk(module.tree):
        if not isinstance(node, ast.ClassDef) or (module.path, node.name) in allowed:
            continue
        methods = {m.name: m for m in node.body if isinstance(m, ast.FunctionDef)}
        attributes = {
            t.id: s.value
            for s in node.body
            if isinstance(s, ast.Assign)
            for t in s.targets
            if isinstance(t, ast.Name)
        }
        bases = {ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases}
        if bases & {"TabularInline", "StackedInline", "InlineModelAdmin"}:
            model = attributes.get("model")
            if isinstance(model, ast.Name) and model.id in tracked:
                found.extend(
                    Violation(
                        module.path,
                        node.lineno,
                        f"inline {node.name} of tracked {model.id} can {verb}: "
                        "inlines of tracked models are read-only",
                    )
                    for verb in ("add", "change", "delete")
                    if not _returns_false(methods.get(f"has_{verb}_permission"))
                )
            continue
        for model_name in registered.get(node.name, []):
            if model_name not in tracked:
                continue
            model = tracked[model_name]
            may = {
                verb: not _returns_false(methods.get(f"has_{verb}_permission"))
                for verb in ("add", "change", "delete")
            }
            needed = []
            if may["add"] or may["change"]:
                needed.append("save_model")
                if model._meta.many_to_many or "inlines" in attributes:
                    needed.append("save_related")
            if may["delete"]:
                needed += ["delete_model", "delete_queryset"]
            found.extend(
                Violation(
                    module.path,
                    node.lineno,
                    f"{node.name} ({model_name}): {hook} does not call a service, "
                    "so the admin writes without one",
                )
                for hook in needed
                if not _calls_a_service(methods.get(hook), module)
            )
    return found


def app_modules() -> Iterable[tuple[str, str]]:
    for app in APPS:
        for file in sorted((ROOT / app).rglob("*.py")):
            path = file.relative_to(ROOT).as_posix()
            if "/migrations/" in path or path in DATA_BUILDERS:
                continue
            yield path, file.read_text(encoding="utf-8")


def all_violations() -> list[Violation]:
    tracked = tracked_models()
    found = []
    for path, source in app_modules():
        module = _read(path, source)
        found += check_calls(module, tracked)
        if path.rsplit("/", 1)[-1] in {"admin.py", "admin_site.py"}:
            found += check_admin(module, tracked)
    return found


def test_every_write_goes_through_a_service_and_history():
    found = all_violations()
    assert not found, "Writes outside services or past history:\n" + "\n".join(
        str(v) for v in found
    )


def test_the_allow_lists_name_calls_that_exist():
    """An entry outliving its call would let a new one through unseen."""
    tracked = tracked_models()
    modules = {path: _read(path, source) for path, source in app_modules()}
    stale = []
    for path, scope, written in {**NOT_A_MODEL_WRITE, **KNOWN_WRITES}:
        module = modules[path]
        if not any(
            isinstance(node, ast.Call) and s == scope and ast.unparse(node.func) == written
            for node, s in _walk(module.tree)
        ):
            stale.append(f"{path}: {scope}: {written}")
    for path, name in KNOWN_ADMIN_WRITES:
        others = {key: why for key, why in KNOWN_ADMIN_WRITES.items() if key != (path, name)}
        if not any(f" {name} (" in str(v) for v in check_admin(modules[path], tracked, others)):
            stale.append(f"{path}: {name} no longer writes: drop its entry")
    assert not stale, stale
    assert all(reason for reason in [*NOT_A_MODEL_WRITE.values(), *KNOWN_WRITES.values()])


def test_data_builders_exist():
    """The builders' exemption names real files (a renamed one would lose its cover)."""
    missing = [p for p in DATA_BUILDERS if not (ROOT / p).exists()]
    assert not missing


# --- history by construction (issue 25) ------------------------------------------------
#
# Services attribute history with ``csf_portal.history.acting_as(actor)``, never by
# setting ``_history_user`` on an instance by hand: a hand-set attribute outlives the
# service on the object (a later save elsewhere names the wrong person) and is easy to
# forget on one write of many. Every app module is read, data builders and migrations
# included. Justified exceptions: path -> reason (none today).
HISTORY_USER_ALLOWED: dict[str, str] = {
    "csf_portal/history.py": "acting_as itself: the one place that decides who a row names",
}


def history_user_assignments(path: str, source: str) -> list[str]:
    """``path:line: ...`` for each assignment to an attribute ``_history_user``."""
    found = []
    for node in ast.walk(ast.parse(source, filename=path)):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "_history_user"
        ):
            found.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
        while targets:
            target = targets.pop()
            if isinstance(target, ast.Tuple | ast.List):
                targets += target.elts
            elif isinstance(target, ast.Starred):
                targets.append(target.value)
            elif isinstance(target, ast.Attribute) and target.attr == "_history_user":
                found.append(f"{path}:{target.lineno}: {ast.unparse(target)} = ...")
    return found


def all_app_sources() -> Iterable[tuple[str, str]]:
    for app in APPS:
        for file in sorted((ROOT / app).rglob("*.py")):
            yield file.relative_to(ROOT).as_posix(), file.read_text(encoding="utf-8")


def test_no_history_user_set_by_hand():
    found = [
        hit
        for path, source in all_app_sources()
        if path not in HISTORY_USER_ALLOWED
        for hit in history_user_assignments(path, source)
    ]
    assert not found, (
        "History is attributed with `with acting_as(actor):` (csf_portal/history.py), not by "
        "setting _history_user by hand:\n" + "\n".join(found)
    )


def test_history_user_allow_list_names_real_files_with_reasons():
    assert all((ROOT / path).exists() and reason for path, reason in HISTORY_USER_ALLOWED.items())


def test_history_user_check_flags_every_form_of_assignment():
    source = """
def service(*, actor, case, risk, others):
    case._history_user = actor
    case.save()
    risk._history_user: object = actor
    a, (b.x, others[0]._history_user) = 1, (2, actor)
    setattr(risk, "_history_user", actor)
    with acting_as(actor):
        case.save()
    label = case._history_user_label
    actor._history_user
"""
    found = history_user_assignments("cases/services.py", source)
    assert sorted(int(hit.split(":")[1]) for hit in found) == [3, 5, 6, 7], found
    assert "cases/services.py:3: case._history_user = ..." in found


# --- the rules catch what they are for ------------------------------------------------

VIEW = """
from cases.models import Case
from guardian.shortcuts import assign_perm
from django.views.generic import UpdateView

def case_close(request, pk):
    case = Case.objects.get(pk=pk)
    case.status = "closed"
    case.save(
        update_fields=["status"],
    )
    case.agencies.add(request.user.agency)
    assign_perm("view_case", request.user, case)

class CaseEditView(UpdateView):
    model = Case
"""

SERVICE = """
from cases.models import Case, Risk
from referrals.models import Referral as R

def case_bulk_close(*, actor, ids):
    Case.objects.filter(pk__in=ids).update(status="closed")
    R.objects.bulk_create([])
    Risk.objects.bulk_update([], ["level"])
    rows = Case.objects.filter(pk__in=ids)
    rows.update(status="closed")
    data = {}
    data.update({"fine": "a dict"})
"""

ADMIN = """
from django.contrib import admin
from cases.models import Case, Risk
from cases import services

@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    def has_delete_permission(self, request, obj=None):
        return False

class RiskAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        services.risk_update(risk=obj, actor=request.user)

    def has_delete_permission(self, request, obj=None):
        return False

admin.site.register(Risk, RiskAdmin)

class RiskInline(admin.TabularInline):
    model = Risk
"""


def test_rule_one_flags_writes_in_a_view_however_they_are_formatted():
    found = check_calls(_read("cases/views.py", VIEW), tracked_models(), allowed={})
    text = "\n".join(map(str, found))
    assert "cases/views.py:9: case.save()" in text
    assert "cases/views.py:12: case.agencies.add()" in text
    assert "cases/views.py:13: assign_perm()" in text
    assert "cases/views.py:15: CaseEditView is a UpdateView" in text
    assert "Case.objects.get" not in text  # reads are fine


def test_rule_two_flags_history_skipping_writes_even_in_services():
    found = check_calls(_read("cases/services.py", SERVICE), tracked_models(), allowed={})
    lines = sorted(v.line for v in found)
    assert lines == [6, 7, 8, 10], "\n".join(map(str, found))
    assert "on Case writes no history" in str(found[0])
    assert "R.objects.bulk_create() on Referral" in str(found[1])  # through the alias


def test_rule_three_flags_admins_that_write_without_a_service():
    found = check_admin(_read("cases/admin.py", ADMIN), tracked_models(), allowed={})
    text = "\n".join(map(str, found))
    assert "CaseAdmin (Case): save_model does not call a service" in text
    assert "RiskAdmin" not in text
    assert "inline RiskInline of tracked Risk can add" in text


def test_tracked_models_come_from_the_registry():
    tracked = tracked_models()
    assert {"Case", "Risk", "ConsentRecord", "Referral", "User"} <= set(tracked)
    assert "GeneratedDocument" not in tracked
    assert not any(name.startswith("Historical") for name in tracked)


@pytest.mark.parametrize("path", ["demo/forums.py", "demo/scale.py"])
def test_builders_are_exempt(path):
    assert path in DATA_BUILDERS
