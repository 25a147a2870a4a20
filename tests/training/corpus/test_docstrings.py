"""The regex docstring scanner against ``ast``, which defines what a docstring is."""

import ast
import sysconfig
from pathlib import Path

import pytest

from training.corpus.docstrings import extract_docstrings, module_document


def _ast_docstrings(source: str) -> list[tuple[str, str]]:
    tree = ast.parse(source)
    out = []
    doc = ast.get_docstring(tree, clean=True)
    if doc and doc.strip():
        out.append(("", doc))

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                name = [*prefix, child.name]
                doc = ast.get_docstring(child, clean=True)
                if doc and doc.strip():
                    out.append((".".join(name), doc))
                visit(child, name)
            else:
                visit(child, prefix)

    visit(tree, [])
    return out


def _stdlib_sample() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    names = [
        "argparse.py", "ast.py", "abc.py", "ftplib.py", "imaplib.py", "hashlib.py", "inspect.py", "json/decoder.py",
        "json/__init__.py", "collections/__init__.py", "asyncio/tasks.py", "email/message.py", "typing.py",
        "dataclasses.py", "textwrap.py", "unittest/case.py", "logging/__init__.py", "http/client.py",
    ]  # fmt: skip
    return [root / name for name in names if (root / name).exists()]


@pytest.mark.parametrize("path", _stdlib_sample(), ids=lambda p: p.name)
def test_same_docstrings_as_ast_on_the_standard_library(path):
    source = path.read_text(encoding="utf-8")
    found = [(d.qualname, d.text) for d in extract_docstrings(source)]
    assert found == _ast_docstrings(source)


def test_tricky_code():
    source = '''"""Module doc."""
x = """def fake():
    """


class A(
    Base,  # a comment with a quote "
    metaclass=Meta,
):
    r"""Raw class doc \\d."""

    def f(self, sep=":", d={"a": (1, 2)}) -> "Ret":  # trailing comment
        # a comment before the docstring
        \'\'\'Method doc.\'\'\'

    async def g(self): "One-line doc."

    def h(self):
        "not a docstring" + "but an expression"


if True:
    class B:
        """B doc."""

    def k():
        return f"{1}"


def fstring():
    f"""not a docstring"""


def bytes_doc():
    b"""not a docstring either"""
'''
    assert [(d.qualname, d.text) for d in extract_docstrings(source)] == _ast_docstrings(source)
    kinds = {d.qualname: d.kind for d in extract_docstrings(source)}
    assert kinds == {"": "module", "A": "class", "A.f": "def", "A.g": "def", "B": "class"}


def test_module_document_headings_and_empty_modules():
    text = module_document(
        "pkg.mod", '"""Top."""\n\nclass C:\n    """Cls."""\n\n    def m(self):\n        """Meth."""\n'
    )
    assert text == "module pkg.mod\n\nTop.\n\nclass pkg.mod.C\n\nCls.\n\npkg.mod.C.m()\n\nMeth."
    assert "#" not in text  # headings never feed Gopher's hash-symbol rule
    assert module_document("pkg.empty", "x = 1\n") == ""
