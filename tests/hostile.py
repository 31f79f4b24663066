"""Polluted variants of each extract, generated from the demo's own files, and the checks every variant must pass.

The families follow the Pollock CSV benchmark (file structure: header, preamble, delimiter,
line ends, truncation, duplicates, column count; row structure: separators, quotes, NUL,
field length) plus encoding pollutions (invalid CP932, lone lead bytes, byte-order marks, a
file in another encoding) and Japanese-format pollutions (full-width digits, signs, ▲, huge
numbers, decimals in codes, truncated dates, blanks).
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from demo.printing import wareki_print_macros
from ingest.loading import grammars
from ingest.loading.source import LoadSummary, load_source
from ingest.specs import ExtractSpec

KEY = b"hostile-test-key"
# A basic pension number as printed (half- or full-width, hyphen optional), not inside a longer token.
NUMBER = r"(^|[^0-9A-Za-z０-９])[0-9０-９]{4}[-－]?[0-9０-９]{6}($|[^0-9A-Za-z０-９])"
_FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


@dataclass(frozen=True)
class Extract:
    """Clean lines of one extract, decoded, with how the source prints them, all of one period."""

    spec: ExtractSpec
    header: str
    lines: tuple[str, ...]
    newline: str
    bom: bool
    period: dt.date  # the day or month every line belongs to: its file is ``name``

    @property
    def name(self) -> str:
        return self.spec.name_for(self.period)

    def moved_to(self, period: dt.date) -> Extract:
        """The same lines as rows of another period (a later one: each of its dates stays before the
        period's end), each period field printed as before in its own style."""
        return dataclasses.replace(
            self, lines=tuple(moved(self.spec, line, period) for line in self.lines), period=period
        )

    def encode(
        self, lines: list[str] | tuple[str, ...], header: str | None = None, newline: str | None = None
    ) -> bytes:
        newline = self.newline if newline is None else newline
        text = newline.join([self.header if header is None else header, *lines]) + newline
        return (codecs.BOM_UTF8 if self.bom else b"") + text.encode(self.spec.encoding.replace("-sig", ""))

    @property
    def numbers(self) -> list[str]:
        """The basic pension numbers of these lines in every printed form (for a spec without any: none)."""
        if not self.spec.has_personal_data:
            return []
        return printed_forms([line.split(self.spec.delimiter)[0] for line in self.lines])


# What a person or a spreadsheet types between the 4 and the 6 digits of a basic pension number:
# every form a hostile round once got past the masking, and more.
SEPARATORS = {
    "hyphen": "-",
    "full-width hyphen": "－",
    "none": "",
    "hyphen U+2010": "‐",
    "blank": " ",
    "long-vowel mark": "ー",
    "dot": ".",
    "slash": "/",
    "underscore": "_",
    "ideographic space": "\u3000",
    "spaced en dash": " – ",
    "minus sign": "−",
}


def every_form(number: str) -> dict[str, str]:
    """``number`` (4 + 6 digits) with every separator of SEPARATORS, in half- and full-width digits."""
    digits = re.sub(r"[^0-9]", "", number.translate(str.maketrans("０１２３４５６７８９", "0123456789")))
    forms = {}
    for name, separator in SEPARATORS.items():
        half = digits[:4] + separator + digits[4:]
        forms[name] = half
        forms[f"{name}, full-width digits"] = half.translate(_FULLWIDTH_DIGITS)
    return forms


_FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def encodable(spec: ExtractSpec, text: str) -> bool:
    try:
        text.encode(spec.encoding)
    except UnicodeEncodeError:
        return False
    return True


def planted_in(text: str, numbers: list[str]) -> list[str]:
    """The ``numbers`` that ``text`` holds in any print form: half- or full-width digits, any three
    characters or fewer that are not digits between the 4 and the 6. Independent of the product's
    own pattern, so that a form the product does not know is still found."""
    normal = unicodedata.normalize("NFKC", text)
    found = []
    for number in numbers:
        digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", number))
        if re.search(re.escape(digits[:4]) + r"\D{0,3}" + re.escape(digits[4:]), normal):
            found.append(number)
    return found


def printed_forms(numbers: list[str]) -> list[str]:
    """Each number as delivered, and as it may be printed: half-width with and without its hyphen, full-width."""
    out = set()
    for number in numbers:
        ascii_number = number.translate(str.maketrans("０１２３４５６７８９－", "0123456789-"))
        out |= {number, ascii_number, ascii_number.replace("-", ""), ascii_number.translate(_FULLWIDTH)}
    return sorted(out)


def covering_lines(spec: ExtractSpec, lines: list[str], first: int = 8) -> tuple[str, ...]:
    """The first lines, plus for every column the first line where it is not blank."""
    chosen = list(lines[:first])
    for i in range(len(spec.columns)):
        line = next((line for line in lines if len(f := line.split(spec.delimiter)) > i and f[i].strip()), None)
        if line is not None and line not in chosen:
            chosen.append(line)
    return tuple(chosen)


def _wareki_month(period: dt.date, like: str) -> str:
    """``period`` as a wareki month in the style of ``like`` (R02.09, R0209 or 令和２年９月)."""
    style = 2 if "年" in like else 0 if "." in like else 1
    with duckdb.connect() as con:
        con.execute(wareki_print_macros())
        return con.execute("select wareki_month_text(?, ?)", [period, style]).fetchone()[0]


def moved(spec: ExtractSpec, line: str, period: dt.date) -> str:
    """A line of ``spec`` as a row of ``period``: its own period field says so, in the style it had."""
    if spec.period_column is None:
        return line
    index = [c.name for c in spec.columns].index(spec.period_column)
    fields = line.split(spec.delimiter)
    if spec.columns[index].type == "TIMESTAMPTZ":  # a call: every time of the line moves to the day
        day = fields[index][:10]
        return line.replace(day, period.isoformat()).replace(day.replace("-", ""), f"{period:%Y%m%d}")
    if spec.columns[index].parse == grammars.ISO_MONTH:  # the contractor's 2020-09
        fields[index] = f"{period:%Y-%m}"
        return spec.delimiter.join(fields)
    fields[index] = _wareki_month(period, fields[index])
    return spec.delimiter.join(fields)


def extract_from(spec: ExtractSpec, files: list[Path]) -> Extract:
    """An Extract of covering lines taken from demo files (all printed alike), as rows of the last
    file's period (a row of another period than its file's is a reject)."""
    raw = files[0].read_bytes()
    newline = "\r\n" if b"\r\n" in raw else "\n"
    bom = raw.startswith(codecs.BOM_UTF8)
    period = max(p for p in map(spec.period, (f.name for f in files)) if p is not None)
    lines: list[str] = []
    for path in files:
        text = path.read_bytes().decode(spec.encoding)
        lines += text.split(newline)[1:-1]
    chosen = tuple(moved(spec, line, period) for line in covering_lines(spec, lines))
    return Extract(spec, spec.delimiter.join(spec.header), chosen, newline, bom, period)


@dataclass
class Loaded:
    summary: LoadSummary
    rows: dict[str, dict[int, tuple]]  # file -> line number -> typed values of the spec's columns
    rejects: list[tuple]  # (file, line, reason, raw_line)
    manifest: list[tuple]  # (file, rows_read, rows_loaded, rows_rejected)
    database: Path


def load(data_dir: Path, spec: ExtractSpec, files: dict[str, bytes | Callable[[Path], None]]) -> Loaded:
    """Deliver ``files`` (bytes, or a function making the entry) to a fresh landing folder and load them."""
    landing = data_dir / "landing" / spec.source
    landing.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if callable(content):
            content(landing / name)
        else:
            (landing / name).write_bytes(content)
    database = data_dir / "working" / "warehouse.duckdb"
    database.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(database)) as con:
        summary = load_source(
            con, spec, landing, data_dir / "scratch", "hostile", pseudonym_key=KEY, landing_root=landing.parent
        )
        names = ", ".join(c.name for c in spec.columns)
        rows: dict[str, dict[int, tuple]] = {}
        for source_file, line, *values in con.execute(
            f"select _source_file, _line_number, {names} from raw.{spec.raw_table}__current"
        ).fetchall():
            rows.setdefault(source_file, {})[line] = tuple(values)
        rejects = con.execute("select source_file, line_number, reason, raw_line from raw.rejects").fetchall()
        manifest = con.execute(
            "select file_name, rows_read, rows_loaded, rows_rejected from raw.load_manifest"
        ).fetchall()
    return Loaded(summary, rows, rejects, manifest, database)


def numbers_in_text(text: str, numbers: list[str], by_shape: bool = True) -> list[str]:
    """Personal numbers found in ``text``: each of the delivered ones, and (``by_shape``) anything shaped like one."""
    found = [m.group(0) for m in re.finditer(NUMBER, text)] if by_shape else []
    return found + [n for n in numbers if n and n in text]


# What a printed basic pension number is made of: digits and hyphens, half- or full-width, in
# UTF-8 or CP932. Ten digits with an optional hyphen, so an occurrence is 10 or 11 of them in a row.
_NUMBER_TOKEN = re.compile(
    b"|".join(re.escape(c.encode(e)) for c in "0123456789-０１２３４５６７８９－" for e in ("utf-8", "cp932"))
)
_NUMBER_RUN = re.compile(b"(?:" + _NUMBER_TOKEN.pattern + b"){10,}")
_NUMBER_LENGTHS = (10, 11)  # in tokens: ten digits, and a hyphen or not


def _token_runs(data: bytes) -> list[bytes]:
    """Every run of 10 or 11 number tokens in a row in ``data``, each start of each longer run included."""
    found = []
    for run in _NUMBER_RUN.finditer(data):
        tokens = _NUMBER_TOKEN.findall(run.group())
        found += [b"".join(tokens[i : i + n]) for n in _NUMBER_LENGTHS for i in range(len(tokens) - n + 1)]
    return found


def numbers_in_files(root: Path, numbers: list[str], skip: tuple[str, ...] = ("landing",)) -> list[str]:
    """Files under ``root`` (outside ``skip``) whose bytes hold a delivered number (or any other
    string given) in UTF-8 or CP932.

    A number can only occur inside a run of digits and hyphens: each file is read once for those
    runs, and each stretch of a run as long as a number is looked up among the numbers' printed
    forms. That finds what a substring search for each form finds, in one pass however many
    numbers there are (the search per form took a minute for one night's files). Strings that
    are not number-shaped are searched for as they are."""
    needles = {n.encode(e) for n in numbers for e in ("utf-8", "cp932") if n.encode(e, errors="ignore").decode(e) == n}
    shaped = {needle for needle in needles if needle in _token_runs(needle)}
    others = needles - shaped
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.relative_to(root).parts[0] not in skip:
            data = path.read_bytes()
            if not shaped.isdisjoint(_token_runs(data)) or any(needle in data for needle in others):
                hits.append(str(path.relative_to(root)))
    return hits


def numbers_in_database(database: Path, numbers: list[str], by_shape: bool = True) -> list[str]:
    """'schema.table.column' of every text column of a DuckDB file holding a number (by shape or a delivered one)."""
    found = []
    with duckdb.connect(str(database), read_only=True) as con:
        columns = con.execute(
            """select table_schema, table_name, column_name from information_schema.columns
               where data_type = 'VARCHAR' and table_catalog = current_database()"""
        ).fetchall()
        for schema, table, column in columns:
            ref = f'"{schema}"."{table}"."{column}"'
            pattern = "|".join(re.escape(n) for n in numbers) or "^$x"
            hits = con.execute(
                f'select count(*) from "{schema}"."{table}" where regexp_matches({ref}, ?) or regexp_matches({ref}, ?)',
                [NUMBER if by_shape else "^$x", pattern],
            ).fetchone()[0]
            if hits:
                found.append(f"{schema}.{table}.{column}")
    return found


def contained(rows: list[tuple], clean: list[tuple]) -> bool:
    """Every row is one of the clean rows (a duplicated line is the same row twice): nothing loaded with a changed meaning."""
    return set(rows) <= set(clean)


# ---- field mutations: one field of one clean line changed ----------------------------------------

FIELD_MUTATIONS: dict[str, Callable[[str], str]] = {
    "nul": lambda v: v + "\x00",
    "control": lambda v: v[:1] + "\x07" + v[1:],
    "carriage_return": lambda v: v + "\r",
    "trailing_letter": lambda v: v + "x",
    "decimal": lambda v: v + ".5",
    "decimal_zero": lambda v: v + ".0",
    "exponent": lambda v: v + "e1",
    "hex": lambda v: "0x" + v,
    "underscore": lambda v: v[:1] + "_" + v[1:],
    "plus": lambda v: "+" + v,
    "minus": lambda v: "-" + v,
    "triangle": lambda v: "▲" + v,
    "huge": lambda v: "9" * 25,
    "truncated": lambda v: v[:-1],
    "doubled": lambda v: v + v,
    "fullwidth": lambda v: v.translate(_FULLWIDTH),
    "padded": lambda v: "  " + v + " ",
    "ideographic_space": lambda v: "\u3000" + v + "\u3000",
    "inner_blank": lambda v: v[:1] + " " + v[1:],
    "quoted": lambda v: '"' + v + '"',
    "yes": lambda v: "yes",
    "one": lambda v: "1",
    "long": lambda v: v + "7" * 100_000,
}


def mutated_lines(extract: Extract) -> tuple[list[str], list[tuple[int, int, str]]]:
    """One line per (column, mutation) with the field not blank: the lines and, for each, (its clean
    line's index, the column changed, the field's new text)."""
    lines, origins = [], []
    delimiter = extract.spec.delimiter
    for column in range(len(extract.spec.columns)):
        for base_index, base in enumerate(extract.lines):  # noqa: B007 (the one it breaks on is used below)
            fields = base.split(delimiter)
            if fields[column].strip():
                break
        else:
            continue
        for mutate in FIELD_MUTATIONS.values():
            fields = base.split(delimiter)
            fields[column] = mutate(fields[column])
            lines.append(delimiter.join(fields))
            origins.append((base_index, column, fields[column]))
    return lines, origins


def faithful(loaded: tuple, clean: tuple, column: int, text: str) -> bool:
    """A mutated line's row means what its text says: the clean row, or (the mutation made another valid
    value) the changed field read literally: an identifier or a number exactly as printed."""
    if loaded == clean:
        return True
    others_equal = all(a == b for i, (a, b) in enumerate(zip(loaded, clean, strict=False)) if i != column)
    return others_equal and str(loaded[column]) == text.strip(" ").strip('"')


def delivered_numbers(ledger_landing: Path, per_file: int = 100) -> list[str]:
    """Basic pension numbers of the first records of every delivered ledger, in every printed form."""

    lines: list[str] = []
    for path in sorted(ledger_landing.glob("premium_ledger_*.csv")):
        lines += path.read_bytes().decode("cp932", errors="replace").split("\r\n")[1 : per_file + 1]
    return printed_forms([line.split(",")[0] for line in lines if line])


def empty(directory: Path) -> bool:
    """The folder holds nothing (or does not exist)."""
    return not directory.exists() or not any(directory.iterdir())


PSEUDONYM = re.compile(r"[0-9a-f]{32}")  # what a pseudonymised column holds (ingest.loading.pseudonyms)


def numbers_in_lake(lake_raw: Path, numbers: list[str]) -> list[str]:
    """'table.column' of every text column of the Parquet lake holding a number (by shape or a
    delivered one), read as values rather than bytes: a pseudonym's hex may hold ten digits in a
    row that spell someone's number by chance (seen: ...e3010056225556...), which is not that
    number. Pseudonymised columns must hold pseudonyms only, and are not searched otherwise."""
    from ingest import lake
    from ingest.specs import SPECS

    found = []
    with duckdb.connect() as con:
        for spec in SPECS.values():
            scan = f"read_parquet('{lake.load_glob(lake_raw, spec)}', hive_partitioning = true)"
            pseudonymised = {c.name for c in spec.columns if "pseudonym" in c.parse}
            for column in spec.columns:
                if column.type.lower() not in ("varchar", "text", "string"):
                    continue
                values = [v for (v,) in con.execute(f"select distinct {column.name} from {scan}").fetchall() if v]
                if column.name in pseudonymised:
                    found += [
                        f"{spec.raw_table}.{column.name}: not a pseudonym" for v in values if not PSEUDONYM.fullmatch(v)
                    ][:1]
                elif any(numbers_in_text(v, numbers) for v in values):
                    found.append(f"{spec.raw_table}.{column.name}")
    return found


def numbers_outside_raw(data_dir: Path, numbers: list[str]) -> list[str]:
    """Where a delivered number (or anything shaped like one) is found in a data directory outside
    the landing files and the working database: every file by its bytes, the lake by its values."""
    found = numbers_in_files(data_dir, numbers, skip=("landing", "working", "lake"))
    lake_raw = data_dir / "lake" / "raw"
    return found + (numbers_in_lake(lake_raw, numbers) if lake_raw.is_dir() else [])
