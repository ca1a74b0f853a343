"""trafilatura's and htmldate's XPath expressions, respelled so libxml2 does less per element.

Two spellings cost the libraries most of the time their expressions take, and each has an
exact, cheaper equivalent:

- ``.//*[self::div or self::section][...]``: libxml2 evaluates the ``self::`` predicate, in
  its interpreter, on every element of the page (~0.5 ms a page an expression, and
  trafilatura has some twenty). As a union of name steps,
  ``(descendant::div[...]|descendant::section[...])``, the names are matched as libxml2 walks
  the tree, and the union gives the same elements in the same (document) order, provided no
  predicate after the names is positional (``[1]``, ``[last()]``, any number count within
  the step, and the union would count per name): an expression that may have one is left as
  it is.
- ``re:test(@class, 'pattern')``: an EXSLT function lxml runs in Python, called on every
  element the step visits, whether it has the attribute or not (~3 µs a call; one
  expression of trafilatura's makes three a page element). Guarded,
  ``(@class and re:test(@class, 'pattern'))``, it is called only where the attribute is;
  without it the test sees "", so the guard is exact for a pattern that does not match ""
  (checked with the flags given); other tests are left as they are.

Neither library has an option for this, and both are pinned;
tests/test_extract_speed_respelled.py checks that each respelled expression selects what its
original selects on real pages, and that pages extract the same.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any

from lxml.etree import XPath

REGEXP_NS = "http://exslt.org/regular-expressions"  # the `re:` of both libraries' expressions
# A step ".//*[self::a or self::b]" (relative) or "//*[...]" (from the root), at the start of
# an expression or after "(", "|", "[" or a space.
NAME_LIST = re.compile(r"(?<![\w.:/)\]])(\.?)//\*\[\s*(self::[\w-]+(?:\s+or\s+self::[\w-]+)*)\s*\]")
# re:test(@a|@b, 'pattern'[, 'flags']): XPath 1.0 string literals hold no quote of their kind.
REGEX_TEST = re.compile(
    r"re:test\(\s*(@[\w-]+(?:\s*\|\s*@[\w-]+)*)\s*,\s*('[^']*'|\"[^\"]*\")\s*(?:,\s*('[^']*'|\"[^\"]*\")\s*)?\)"
)
# What may make a predicate count positions: a number, last(), position(), or a function that
# returns a number (conservatively, even where it is compared); such expressions are left alone.
POSITIONAL = re.compile(r"\[\s*\d|\b(?:last|position|count|sum|number|string-length|floor|ceiling|round)\(")


def _predicates_end(path: str, start: int) -> int | None:
    """Where the predicates (``[...][...]``) that follow ``start`` end; None if unbalanced.
    Brackets inside quoted strings (``re:test(@class, '[Aa]uthor')``) are text."""
    end = start
    while True:
        opening = end + len(path[end:]) - len(path[end:].lstrip())
        if not path.startswith("[", opening):
            return end
        depth, quote = 0, ""
        for at in range(opening, len(path)):
            char = path[at]
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char in "[]":
                depth += 1 if char == "[" else -1
                if depth == 0:
                    end = at + 1
                    break
        else:
            return None


def _guarded(test: re.Match) -> str:
    """A ``re:test`` on attributes, called only where one of them is (when that is exact)."""
    attributes, pattern, flags = test.group(1), test.group(2)[1:-1], (test.group(3) or "''")[1:-1]
    if re.compile(pattern, re.IGNORECASE if "i" in flags else 0).search(""):
        return test.group(0)  # the test is true without the attribute: no guard
    present = " or ".join(a.strip() for a in attributes.split("|"))
    return f"(({present}) and {test.group(0)})"


def respell(path: str) -> str:
    """``path`` with its name lists as name steps (``_by_name``) and its regular-expression
    tests on attributes guarded by the attributes (``_guarded``)."""
    return REGEX_TEST.sub(_guarded, _by_name(path))


def _by_name(path: str) -> str:
    """``path`` with each ``.//*[self::a or self::b][p]`` spelled ``(descendant::a[p]|descendant::b[p])``
    (``/descendant::`` for ``//*``, which starts at the root); as it is when a predicate after
    the names is positional or the brackets do not balance."""
    parts, done = [], 0
    for match in NAME_LIST.finditer(path):
        if match.start() < done:  # inside a step already respelled
            continue
        end = _predicates_end(path, match.end())
        if end is None:
            return path
        predicates = path[match.end() : end]
        if POSITIONAL.search(predicates):
            return path
        axis = "descendant::" if match.group(1) else "/descendant::"
        names = re.findall(r"self::([\w-]+)", match.group(2))
        union = "|".join(f"{axis}{name}{predicates}" for name in names)
        parts += [path[done : match.start()], f"({union})"]
        done = end
    return "".join([*parts, path[done:]])


@dataclass(frozen=True)
class Respelling:
    """One expression replaced where a module holds it: ``holder[key]`` (a list and an index)
    or ``holder.key`` (a module attribute)."""

    holder: Any
    key: int | str
    original: XPath
    respelled: XPath

    def put(self, expression: XPath) -> None:
        if isinstance(self.key, int):
            self.holder[self.key] = expression
        else:
            setattr(self.holder, self.key, expression)


def respell_libraries(packages: tuple[str, ...] = ("trafilatura", "htmldate")) -> list[Respelling]:
    """Respell every XPath expression the loaded modules of ``packages`` hold, as a module
    attribute or in a module-level list (where their functions look them up), in place."""
    made: dict[int, XPath | None] = {}  # one respelled object per original, wherever it is held

    def respelled(expression: XPath) -> XPath | None:
        if id(expression) not in made:
            path = respell(expression.path)
            same = path == expression.path
            made[id(expression)] = None if same else XPath(path, namespaces={"re": REGEXP_NS})
        return made[id(expression)]

    done = []
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] not in packages:
            continue
        for key, value in list(vars(module).items()):
            slots = list(enumerate(value)) if isinstance(value, list) else [(key, value)]
            holder = value if isinstance(value, list) else module
            for slot, expression in slots:
                if isinstance(expression, XPath) and (new := respelled(expression)) is not None:
                    done.append(Respelling(holder, slot, expression, new))
                    done[-1].put(new)
    return done
