"""MongoDB query semantics in Python: filters, projections and sorts on plain documents.

Covers what maggma and jobflow stores are asked: equality (an array matches a value it
contains; None matches a missing field), ``$eq $ne $in $nin $gt $gte $lt $lte $exists $regex
$not $size $all $elemMatch`` on dotted paths (which reach into arrays of documents), and
``$and $or $nor``. Anything else is a ValueError rather than a silent mismatch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

MISSING = object()
"""What a path reaches in a document that lacks it."""


def values_at(doc: Any, path: str) -> list:
    """Every value ``path`` (dotted) reaches in ``doc``: arrays of documents are walked
    element by element, a numeric part also indexes an array; [MISSING] if none."""
    found = _walk(doc, path.split("."), 0)
    return found or [MISSING]


def _walk(value: Any, parts: list[str], i: int) -> list:
    if i == len(parts):
        return [value]
    part = parts[i]
    if isinstance(value, dict):
        return _walk(value[part], parts, i + 1) if part in value else []
    if isinstance(value, list):
        found = []
        if part.isdigit() and int(part) < len(value):
            found += _walk(value[int(part)], parts, i + 1)
        for item in value:
            if isinstance(item, dict):
                found += _walk(item, parts, i)
        return found
    return []


def matches(doc: dict, criteria: dict | None) -> bool:
    """Whether ``doc`` satisfies the MongoDB filter ``criteria``."""
    for key, condition in (criteria or {}).items():
        if key == "$and":
            ok = all(matches(doc, c) for c in condition)
        elif key == "$or":
            ok = any(matches(doc, c) for c in condition)
        elif key == "$nor":
            ok = not any(matches(doc, c) for c in condition)
        elif key.startswith("$"):
            raise ValueError(f"unsupported query operator {key}")
        else:
            ok = field_matches(values_at(doc, key), condition)
        if not ok:
            return False
    return True


def is_operator_dict(condition: Any) -> bool:
    return (
        isinstance(condition, dict)
        and bool(condition)
        and all(isinstance(k, str) and k.startswith("$") for k in condition)
    )


def field_matches(values: list, condition: Any) -> bool:
    """Whether the values a path reaches satisfy ``condition`` (operators or a value)."""
    if not is_operator_dict(condition):
        return any(equals(v, condition) for v in values)
    return all(
        _OPERATORS[op](values, arg, condition) if op in _OPERATORS else _unsupported(op)
        for op, arg in condition.items()
        if op != "$options"
    )


def _unsupported(op: str) -> bool:
    raise ValueError(f"unsupported query operator {op}")


def equals(value: Any, target: Any) -> bool:
    """MongoDB equality of a stored value and a query value (arrays match their elements)."""
    if isinstance(target, re.Pattern):
        return any(isinstance(v, str) and target.search(v) for v in elements(value))
    if target is None and value is MISSING:
        return True
    if isinstance(value, list) and any(same(v, target) for v in value):
        return True
    return same(value, target)


def same(a: Any, b: Any) -> bool:
    """Equality of two values as BSON compares them (booleans are not numbers)."""
    if a is MISSING or b is MISSING:
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) or isinstance(b, list):
        return (
            isinstance(a, list)
            and isinstance(b, list)
            and len(a) == len(b)
            and all(same(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and a.keys() == b.keys()
            and all(same(a[k], b[k]) for k in a)
        )
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, datetime) and isinstance(b, datetime):
        return utc(a) == utc(b)
    return a == b


def elements(value: Any) -> list:
    """A value and, for an array, its elements: what range and regex operators test."""
    if value is MISSING:
        return []
    return [value, *value] if isinstance(value, list) else [value]


def utc(moment: datetime) -> datetime:
    """A naive UTC datetime, so that aware and naive stored datetimes compare."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def bracket(value: Any) -> int:
    """BSON's type order: null, numbers, strings, objects, arrays, binary, booleans, dates."""
    if value is None or value is MISSING:
        return 1
    if isinstance(value, bool):
        return 8
    if isinstance(value, int | float):
        return 2
    if isinstance(value, str):
        return 3
    if isinstance(value, dict):
        return 4
    if isinstance(value, list):
        return 5
    if isinstance(value, bytes):
        return 6
    if isinstance(value, datetime):
        return 9
    return 7


def is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def comparable(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, float) and math.isnan(value):
        return -math.inf
    return value


def compare(test: Callable[[Any, Any], bool]) -> Callable[[list, Any, dict], bool]:
    def operator(values: list, arg: Any, condition: dict) -> bool:
        if arg is None:
            return test(0, 0) and any(equals(v, None) for v in values)
        kind = bracket(arg)
        return any(
            bracket(v) == kind
            and kind in (2, 3, 8, 9)
            and not (is_nan(v) or is_nan(arg))
            and test(comparable(v), comparable(arg))
            for value in values
            for v in elements(value)
        )

    return operator


def regex(values: list, arg: Any, condition: dict) -> bool:
    pattern = arg if isinstance(arg, re.Pattern) else re.compile(arg, flags(condition))
    return any(isinstance(v, str) and pattern.search(v) for x in values for v in elements(x))


def flags(condition: dict) -> int:
    table = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
    found = 0
    for letter in condition.get("$options", ""):
        found |= table[letter]
    return found


class StringTargets:
    """The strings of the last ``$in`` list seen, as a set (one query's list is matched
    against every row: build the set once); None where the list holds anything else."""

    def __init__(self) -> None:
        self.targets: tuple = ()
        self.strings: frozenset[str] | None = None

    def of(self, arg: Iterable) -> frozenset[str] | None:
        targets = tuple(arg)
        if targets != self.targets or not targets:  # compares the same items by identity
            plain = bool(targets) and all(type(t) is str for t in targets)
            self.targets, self.strings = targets, frozenset(targets) if plain else None
        return self.strings


string_targets = StringTargets()


def is_in(values: list, arg: Iterable, condition: dict) -> bool:
    if (wanted := string_targets.of(arg)) is not None:  # ids: a set lookup, same answer
        return any(
            v in wanted
            if type(v) is str
            else isinstance(v, list) and not wanted.isdisjoint(x for x in v if type(x) is str)
            for v in values
        )
    targets = list(arg)
    return any(equals(v, t) for v in values for t in targets)


def exists(values: list, arg: Any, condition: dict) -> bool:
    return bool(arg) == any(v is not MISSING for v in values)


def negation(values: list, arg: Any, condition: dict) -> bool:
    if isinstance(arg, re.Pattern | str):
        return not regex(values, arg, {})
    return not field_matches(values, arg)


def size(values: list, arg: Any, condition: dict) -> bool:
    return any(isinstance(v, list) and len(v) == arg for v in values)


def every(values: list, arg: Iterable, condition: dict) -> bool:
    return all(any(equals(v, t) for v in values) for t in arg)


def element_match(values: list, arg: dict, condition: dict) -> bool:
    def fits(item: Any) -> bool:
        if is_operator_dict(arg):
            return field_matches([item], arg)
        return isinstance(item, dict) and matches(item, arg)

    return any(isinstance(v, list) and any(fits(item) for item in v) for v in values)


_OPERATORS: dict[str, Callable[[list, Any, dict], bool]] = {
    "$eq": lambda values, arg, _: any(equals(v, arg) for v in values),
    "$ne": lambda values, arg, _: not any(equals(v, arg) for v in values),
    "$in": is_in,
    "$nin": lambda values, arg, c: not is_in(values, arg, c),
    "$gt": compare(lambda a, b: a > b),
    "$gte": compare(lambda a, b: a >= b),
    "$lt": compare(lambda a, b: a < b),
    "$lte": compare(lambda a, b: a <= b),
    "$exists": exists,
    "$regex": regex,
    "$not": negation,
    "$size": size,
    "$all": every,
    "$elemMatch": element_match,
}


def project(doc: dict, properties: dict | list | None) -> dict:
    """``doc`` with only the fields a MongoDB projection (a list of dotted fields, or a dict
    of field: 1 / 0) keeps; ``_id`` stays unless set to 0."""
    if properties is None:
        return doc
    spec = {p: 1 for p in properties} if isinstance(properties, list) else dict(properties)
    keep_id = spec.pop("_id", 1)
    included = [k for k, v in spec.items() if v]
    excluded = [k for k, v in spec.items() if not v]
    if included:
        projected = _include(doc, _tree(included))
    else:
        projected = dict(doc)
        for path in excluded:
            _exclude(projected, path.split("."))
    projected.pop("_id", None)
    if keep_id and "_id" in doc:
        return {"_id": doc["_id"], **projected}
    return projected


def _tree(paths: list[str]) -> dict:
    tree: dict = {}
    for path in paths:
        node = tree
        *parents, leaf = path.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if child is True:
                break
            node = child
        else:
            node[leaf] = True
    return tree


def _include(value: Any, tree: dict) -> Any:
    if isinstance(value, list):
        return [_include(v, tree) for v in value if isinstance(v, dict | list)]
    kept = {}
    for key, sub in tree.items():
        if key not in value:
            continue
        if sub is True:
            kept[key] = value[key]
        elif isinstance(value[key], dict | list):
            kept[key] = _include(value[key], sub)
    return kept


def _exclude(value: Any, parts: list[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _exclude(item, parts)
    elif isinstance(value, dict) and parts[0] in value:
        if len(parts) == 1:
            del value[parts[0]]
        else:
            value[parts[0]] = _copy(value[parts[0]])
            _exclude(value[parts[0]], parts[1:])


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def sort_key(value: Any, descending: bool) -> tuple:
    """Where a field's value goes in a MongoDB sort (an array sorts by its least element
    ascending, by its greatest descending; missing sorts with null)."""
    if isinstance(value, list) and value:
        keys = [sort_key(v, descending) for v in value]
        return max(keys) if descending else min(keys)
    kind = bracket(value)
    if kind == 1:
        return (kind, 0)
    if kind in (2, 3, 8, 9):
        return (kind, comparable(value))
    return (kind, repr(value))


def sort_docs(docs: list[dict], sort: dict) -> list[dict]:
    """``docs`` ordered as MongoDB orders them for ``sort`` ({field: 1 or -1, ...})."""
    for field, direction in reversed(list(sort.items())):
        descending = getattr(direction, "value", direction) == -1
        docs.sort(key=lambda d: sort_key(sortable(d, field), descending), reverse=descending)
    return docs


def sortable(doc: dict, field: str) -> Any:
    found = values_at(doc, field)
    return found if len(found) > 1 else found[0]


def grouped(docs: Iterable[dict], keys: list[str]) -> Iterator[tuple[dict, list[dict]]]:
    """``docs`` grouped by the values of ``keys`` as MongoDB's ``$group`` sees them (those
    lacking one left out), each group under ``{key: value}`` (dotted keys nested)."""
    present = [doc for doc in docs if all(values_at(doc, k)[0] is not MISSING for k in keys)]

    def grouping(doc: dict) -> tuple:
        return tuple(values_at(doc, k)[0] for k in keys)

    ordered = sorted(present, key=lambda d: [sort_key(v, False) for v in grouping(d)])
    for _, group in groupby(ordered, key=lambda d: repr(grouping(d))):
        members = list(group)
        head: dict = {}
        for key, value in zip(keys, grouping(members[0]), strict=True):
            nested(head, key, value)
        yield head, members


def nested(doc: dict, path: str, value: Any) -> None:
    """Set the dotted ``path`` of ``doc`` to ``value``, making the documents on the way."""
    *parents, leaf = path.split(".")
    for part in parents:
        doc = doc.setdefault(part, {})
    doc[leaf] = value
