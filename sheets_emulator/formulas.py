"""A deliberately tiny formula evaluator.

Enough for a test to tell a formula from text: literals, arithmetic, `&`, comparisons, `SUM` and
`CONCATENATE` compute like Sheets; any other name (functions such as IMPORTXML, cell references)
gives `#NAME?` and unparsable text `#ERROR!`, so "Google turned this into a formula" is visible.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

Scalar = str | float | bool

_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<str>\"(?:[^\"]|\"\")*\")"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_.]*)|(?P<op><=|>=|<>|[-+*/^&=<>(),%]))"
)


class FormulaError(Exception):
    """Evaluation stopped with a Sheets error code such as `#NAME?`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def evaluate(formula: str) -> tuple[Scalar, bool]:
    """Value of `=…` and whether it is an error code rather than a result."""
    try:
        parser = _Parser(_tokenize(formula[1:]))
        value = parser.expression()
        if parser.peek() is not None:
            raise FormulaError("#ERROR!")
        return value, False
    except FormulaError as error:
        return error.code, True


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].isspace():
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FormulaError("#ERROR!")
        kind = match.lastgroup or "op"
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _number(value: Scalar) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    try:
        return float(value) if value.strip() else 0.0
    except ValueError:
        raise FormulaError("#VALUE!") from None


def _text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def _divide(a: float, b: float) -> float:
    if b == 0:
        raise FormulaError("#DIV/0!")
    return a / b


def _power(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except (OverflowError, ValueError):
        raise FormulaError("#NUM!") from None


_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _divide,
}
_COMPARISON = ("=", "<>", "<=", ">=", "<", ">")
_FUNCTIONS: dict[str, Callable[[list[Scalar]], Scalar]] = {
    "SUM": lambda args: sum((_number(a) for a in args), 0.0),
    "CONCATENATE": lambda args: "".join(_text(a) for a in args),
}


class _Parser:
    """Recursive descent over Sheets' precedence: comparison < & < +- < */ < ^ < unary < %."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FormulaError("#ERROR!")
        self.position += 1
        return token

    def accept(self, *ops: str) -> str | None:
        token = self.peek()
        if token is not None and token[0] == "op" and token[1] in ops:
            self.position += 1
            return token[1]
        return None

    def expression(self) -> Scalar:
        left = self.concatenation()
        while op := self.accept(*_COMPARISON):
            left = _compare(op, left, self.concatenation())
        return left

    def concatenation(self) -> Scalar:
        left = self.additive()
        while self.accept("&"):
            left = _text(left) + _text(self.additive())
        return left

    def additive(self) -> Scalar:
        left = self.term()
        while op := self.accept("+", "-"):
            left = _ARITHMETIC[op](_number(left), _number(self.term()))
        return left

    def term(self) -> Scalar:
        left = self.power()
        while op := self.accept("*", "/"):
            left = _ARITHMETIC[op](_number(left), _number(self.power()))
        return left

    def power(self) -> Scalar:
        left = self.unary()
        while self.accept("^"):
            left = _power(_number(left), _number(self.unary()))
        return left

    def unary(self) -> Scalar:
        if op := self.accept("-", "+"):
            operand = _number(self.unary())
            return -operand if op == "-" else operand
        value = self.primary()
        while self.accept("%"):
            value = _number(value) / 100
        return value

    def primary(self) -> Scalar:
        kind, text = self.take()
        if kind == "num":
            return float(text)
        if kind == "str":
            return text[1:-1].replace('""', '"')
        if kind == "name":
            return self.name(text)
        if text == "(":
            value = self.expression()
            if not self.accept(")"):
                raise FormulaError("#ERROR!")
            return value
        raise FormulaError("#ERROR!")

    def name(self, text: str) -> Scalar:
        upper = text.upper()
        if not self.accept("("):
            if upper in ("TRUE", "FALSE"):
                return upper == "TRUE"
            raise FormulaError("#NAME?")  # a cell reference or named range: not emulated
        args: list[Scalar] = []
        if not self.accept(")"):
            args.append(self.expression())
            while self.accept(","):
                args.append(self.expression())
            if not self.accept(")"):
                raise FormulaError("#ERROR!")
        function = _FUNCTIONS.get(upper)
        if function is None:
            raise FormulaError("#NAME?")
        return function(args)


def _compare(op: str, left: Scalar, right: Scalar) -> bool:
    """Sheets compares text case-insensitively, and as text when either side is text."""
    if isinstance(left, str) or isinstance(right, str):
        a, b = _text(left).lower(), _text(right).lower()
        order = (a > b) - (a < b)
    else:
        x, y = _number(left), _number(right)
        order = (x > y) - (x < y)
    outcomes = {
        "=": order == 0,
        "<>": order != 0,
        "<": order < 0,
        ">": order > 0,
        "<=": order <= 0,
        ">=": order >= 0,
    }
    return outcomes[op]
