"""Field grammars: how each kind of field is printed, as SQL templates over ``{v}`` (the field text).

A template yields the typed value when the text follows the grammar exactly, and NULL for
anything else, which the loader turns into a reject naming the column. DuckDB's casts are
lenient (``try_cast('41.6' as integer)`` is 42, ``'0x2A'`` is 42, ``'yes'`` is true,
``try_cast('1.5' as integer)`` is 2), so no grammar here casts a text that a regular
expression has not checked first: a value read with a changed meaning is worse than a reject.

Every column of every extract spec names one of these; the Japanese formats (wareki dates,
yen amounts, full-width digits) are macros of ``ingest.loading.japanese``.
"""

from __future__ import annotations

from ingest.loading.pseudonyms import STANDALONE_NUMBER_PATTERN


def sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def _template_str(text: str) -> str:
    """``text`` as a SQL string literal inside a template (formatted once more with the field)."""
    return "'" + text.replace("'", "''").replace("{", "{{").replace("}", "}}") + "'"


def matching(regex: str, then: str = "{v}", text: str = "{v}") -> str:
    """``then`` when the whole of ``text`` matches ``regex`` (RE2 syntax), else NULL."""
    regex = regex.replace("{", "{{").replace("}", "}}")  # the template is formatted once more with the field
    return f"case when regexp_full_match({text}, '{regex}') then {then} end"


def one_of(values: tuple[str, ...], text: str = "{v}") -> str:
    """The text itself when it is one of ``values`` exactly."""
    return f"case when {text} in {sql_list(values)} then {text} end"


# Platform identifiers and codes: ASCII letters, digits, '_' and '-', no blank or control character;
# an identifier is never a person's basic pension number (7394-058216, 7394058216, 7394_058216 are
# rejects: text that is not personal data must not carry it into a table).
IDENTIFIER = matching(
    r"[0-9A-Za-z][0-9A-Za-z_-]{0,63}",
    then=f"case when not regexp_matches({{v}}, {_template_str(STANDALONE_NUMBER_PATTERN)}) then {{v}} end",
)
CODE = matching(r"[a-z][a-z0-9_]{0,31}")
# Integers as the platform prints them: decimal digits with an optional minus, at most 9 digits
# (no decimals, exponents, hex, underscores or plus signs). A negative duration parses, so
# the row rule that forbids it can say so.
INTEGER = matching(r"-?[0-9]{1,9}", "cast({v} as integer)")
BOOLEAN = "case {v} when 'true' then true when 'false' then false end"
# ISO-8601 to the second with a numeric offset: 2020-04-01T09:00:00+09:00.
ISO_TIMESTAMPTZ = matching(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}",
    "try_strptime({v}, '%Y-%m-%dT%H:%M:%S%z')",
)

# A month as YYYY-MM (2020-09), its first day: 2020-9, 202009 or 2020-13 are rejects.
ISO_MONTH = matching(r"[0-9]{4}-(0[1-9]|1[0-2])", "cast(strptime({v} || '-01', '%Y-%m-%d') as date)")


def fixed_digits(width: int) -> str:
    """A code of exactly ``width`` digits, half- or full-width; its half-width text."""
    return matching(f"[0-9]{{{width}}}", then="halfwidth({v})", text="halfwidth({v})")


# JIS prefecture code, two digits '01'-'47' (half- or full-width): '1', '1.5' or '0x0D' are rejects.
PREFECTURE_CODE = matching(r"0[1-9]|[1-3][0-9]|4[0-7]", then="halfwidth({v})", text="halfwidth({v})")
WAREKI_DATE = "wareki_date({v})"
WAREKI_MONTH = "wareki_month({v})"
WAREKI_FISCAL_YEAR = "wareki_fiscal_year({v})"
YEN_AMOUNT = "yen_amount({v})"
YEN_AMOUNT_UNSIGNED = "yen_amount_unsigned({v})"
# The basic pension number: ingest.loading.pseudonyms's macro checks its grammar and keys it.
PENSION_NUMBER = "pseudonymise({v})"


def halfwidth_code(values: tuple[str, ...]) -> str:
    """One of ``values`` (single-character codes), half- or full-width; its half-width text."""
    return one_of(values, "halfwidth({v})")
