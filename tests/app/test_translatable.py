"""Admin-facing messages are translatable: the package's source passes no bare text to them.

Scans every module for text literals (plain, f-strings, or formatted with ``%``) given as the
message of ``messages.error/success/warning/info``, ``ValidationError`` and the import's
errors that the admin shows (``InvalidFile``, a row's ``RowError``), not wrapped in a gettext
call.
"""

import ast
from pathlib import Path

import wagtail_preferences

PACKAGE = Path(wagtail_preferences.__file__).parent
GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
MESSAGES = {"error", "success", "warning", "info"}
# Each call that shows text, and the position of its message among the arguments.
MESSAGE_ARGUMENT = {
    "ValidationError": 0,
    "InvalidFile": 0,
    "RowError": 1,
}


def called_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def is_bare_text(node: ast.AST) -> bool:
    """Text that reaches the reader untranslated: a literal, an f-string, ``"..." % x``, or
    text joined with ``+``."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(node.value.strip())
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return is_bare_text(node.left) or (
            isinstance(node.op, ast.Add) and is_bare_text(node.right)
        )
    return False


def message_of(call: ast.Call) -> ast.AST | None:
    name = called_name(call)
    if name in MESSAGES and isinstance(call.func, ast.Attribute):
        if getattr(call.func.value, "id", "") != "messages":
            return None
        position = 1
    elif name in MESSAGE_ARGUMENT:
        position = MESSAGE_ARGUMENT[name]
    else:
        return None
    if len(call.args) > position:
        return call.args[position]
    keyword = next((k for k in call.keywords if k.arg == "message"), None)
    return keyword.value if keyword else None


def untranslated() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            message = message_of(node)
            if message is not None and is_bare_text(message):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def test_admin_facing_messages_go_through_gettext():
    assert untranslated() == []


def test_the_scan_finds_bare_text():
    source = """
messages.error(request, "Not translated.")
messages.success(request, _("Translated."))
raise ValidationError(f"Not translated {x}.")
raise InvalidFile("Not %(x)s." % {"x": 1})
raise InvalidFile(_("Translated %(x)s.") % {"x": 1})
raise RowError("email", "Not translated.")
raise RowError("email", _("Translated."))
"""
    calls = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)]
    flagged = sorted(
        call.lineno for call in calls if (m := message_of(call)) is not None and is_bare_text(m)
    )
    assert flagged == [2, 4, 5, 7]
