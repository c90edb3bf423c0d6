"""``sipas-analysis``: SIPAS estimates and weights from a CSV file, on the command line.

::

    sipas-analysis estimate RESPONSES.csv --questionnaire questionnaires/sipas-dich-vu/v1.yaml
        [--strata COL] [--psu COL] [--fpc COL] [--weight COL] [--rake MARGINS.csv]
        [--by COL]... [--ci logit|wilson] [--format csv|json] [--out PATH]
    sipas-analysis weights RESPONSES.csv --weight COL --rake MARGINS.csv [--trim K] --out WEIGHTED.csv

Bad input exits with status 2 and one line on stderr; see docs/analysis-cli.md.
"""

from __future__ import annotations

# ruff: noqa: E402  (the BLAS thread variables must be set before numpy is imported)
import os

# The engine's matrices are small (at most a few thousand rows by a few hundred columns):
# BLAS threads only cost there, and on a busy machine their spinning costs seconds. Set before
# numpy is imported; a value the user has set is kept.
for _variable in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # not OMP_NUM_THREADS: Arrow reads it
    os.environ.setdefault(_variable, "1")

import argparse
import csv
import importlib
import json
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.questionnaire import IndexSpec, QuestionnaireError, load_index_spec

if TYPE_CHECKING:
    import pandas as pd

    from analysis.design import Design, Labels

# pandas and the statistics engine (analysis.design, .weighting, .rates: pandas and scipy) are
# imported when needed: `estimate` imports them in a thread while Arrow parses the file.

__all__ = ["CliError", "main"]

PROG = "sipas-analysis"
#: Trim-and-rerake rounds before `weights --trim` gives up: the alternation converges slowly
#: on some feasible problems (hundreds to a few thousand rounds), so the default is generous.
DEFAULT_TRIM_ROUNDS = 5000


class CliError(ValueError):
    """Bad input on the command line (one-line message)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="SIPAS estimates with design-based standard errors.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    e = sub.add_parser("estimate", help="item rates, element indices and SIPAS with SEs")
    e.add_argument("responses", help="CSV, one row per respondent, items named by code")
    e.add_argument("--questionnaire", required=True, help="questionnaire YAML file")
    e.add_argument("--strata", help="stratum column")
    e.add_argument("--psu", help="primary sampling unit (cluster) column")
    e.add_argument("--fpc", help="column: stratum population size in PSUs (or dossiers)")
    e.add_argument("--weight", help="weight column (fixed weights unless --rake)")
    e.add_argument("--rake", help="MARGINS.csv (variable,category,total): rake and use calibration standard errors")
    e.add_argument("--by", action="append", default=[], help="domain column (repeatable)")
    e.add_argument("--ci", choices=["logit", "wilson"], default="logit")
    e.add_argument("--format", choices=["csv", "json"], default="csv")
    e.add_argument("--out", help="output file (default: standard output)")
    w = sub.add_parser("weights", help="rake (and trim) weights, write them as column 'weight'")
    w.add_argument("responses")
    w.add_argument("--weight", required=True, help="starting (design) weight column")
    w.add_argument("--rake", required=True, help="MARGINS.csv (variable,category,total)")
    w.add_argument("--trim", type=float, help="cap at K x median weight, then re-rake")
    w.add_argument(
        "--max-rounds",
        type=int,
        default=DEFAULT_TRIM_ROUNDS,
        help=f"trim-and-rerake rounds before giving up (default {DEFAULT_TRIM_ROUNDS})",
    )
    w.add_argument("--out", required=True, help="output CSV: the input plus column 'weight'")
    return p


def _check_header(path: str) -> None:
    """Refuse what pandas would silently accept: a file separated by ``;`` or tabs (read as one
    column), and a column name given twice (pandas renames the second ``A1.1``)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), [])
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        msg = " ".join(str(exc).split())
        raise CliError(f"{path}: cannot read CSV: {msg}") from None
    if len(header) == 1:
        for sep, name in ((";", "semicolons"), ("\t", "tabs")):
            if sep in header[0]:
                raise CliError(
                    f"{path}: line 1: the columns are separated by {name}, not commas; "
                    "save the file as comma-separated CSV (UTF-8)"
                )
    seen: dict[str, int] = {}
    for number, name in enumerate(header, start=1):
        key = name.strip()
        if key in seen:
            raise CliError(f"{path}: line 1: column {key!r} appears twice (columns {seen[key]} and {number})")
        seen[key] = number


#: A table as the command reads it: column name -> values. The typed reader gives float64
#: numbers and ``int8`` item codes (:data:`BLANK` = no answer) as numpy arrays and labels as
#: :class:`analysis.design.Labels`; the text reader gives pandas Series of strings.
Columns = dict[str, Any]

#: The code of a blank answer in the typed reader's ``int8`` item columns.
BLANK = -128


def _read_csv(path: str) -> pd.DataFrame:
    import pandas as pd

    _check_header(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = " ".join(str(exc).split())
        raise CliError(f"{path}: cannot read CSV: {msg}") from None
    if df.shape[0] == 0:
        raise CliError(f"{path}: no data rows")
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _read_margins(path: str) -> dict[str, dict[str, float]]:
    """MARGINS.csv as ``{variable: {category: total}}``. A regular file (every row as long as
    the header) is read with the csv module, as strings, exactly as :func:`_read_csv` reads it
    with pandas; anything else goes through pandas, whose messages name the problem."""
    from analysis.weighting import margins_from_frame, margins_from_rows

    _check_header(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = [row for row in csv.reader(fh) if row]  # pandas skips blank lines
    except (OSError, UnicodeDecodeError, csv.Error):
        rows = []
    if len(rows) < 2 or any(len(row) != len(rows[0]) for row in rows):
        return margins_from_frame(_read_csv(path))
    header = [name.strip() for name in rows[0]]

    def records() -> Iterable[tuple[str, str, str]]:
        where = [header.index(name) for name in ("variable", "category", "total")]
        return ((row[where[0]], row[where[1]], row[where[2]]) for row in rows[1:])

    return margins_from_rows(header, records)


def _read_typed(
    path: str,
    *,
    numbers: Sequence[str],
    labels: Sequence[str],
    codes: Sequence[str] = (),
) -> Columns | None:
    """The fast path for a clean file: Arrow's multi-threaded CSV reader parses, reading only
    the columns asked for, the numeric columns straight to float64 (blank = NaN), the item
    ``codes`` to ``int8`` (blank = :data:`BLANK`) and the label columns to dictionary-encoded
    strings, which become :class:`analysis.design.Labels` with the labels stripped (blank =
    missing) — no Python object per cell, and neither pandas nor ``pyarrow.compute``
    imported. Returns None when the file is not that clean (a value that is not a number,
    spaces around a number, a ragged row, a missing column…): the caller then reads every cell
    as text, which names the first bad line and column."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    wanted = [*numbers, *labels, *codes]
    if len(set(wanted)) != len(wanted):  # one column in two roles: leave it to the text reader
        return None
    convert = pacsv.ConvertOptions(
        include_columns=wanted,
        column_types={
            **{c: pa.dictionary(pa.int32(), pa.string()) for c in labels},
            **{c: pa.float64() for c in numbers},
            **{c: pa.int8() for c in codes},
        },
        null_values=[""],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    try:
        table = pacsv.read_csv(path, convert_options=convert)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, KeyError, OSError, UnicodeDecodeError):
        return None
    if table.num_rows == 0 or set(table.column_names) != set(wanted):
        return None
    out: Columns = {}
    for name in numbers:
        out[name] = _arrow_values(table.column(name).combine_chunks(), np.float64, np.nan)
    for name in codes:
        out[name] = _arrow_values(table.column(name).combine_chunks(), np.int8, BLANK)
    for name in labels:
        out[name] = _stripped_labels(table.column(name))
    return out


def _arrow_values(array: Any, dtype: type[np.generic], fill: float) -> np.ndarray:
    """A fixed-width Arrow array (one chunk) as a numpy array, nulls replaced by ``fill``,
    read from its buffers (no ``pyarrow.compute``)."""
    size, offset = len(array), array.offset
    if size == 0:
        return np.zeros(0, dtype=dtype)
    validity, data = array.buffers()[:2]
    values = np.frombuffer(data, dtype=dtype, count=offset + size)[offset:]
    if array.null_count:
        present = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), count=offset + size, bitorder="little")
        return np.where(present[offset:].view(bool), values, np.array(fill, dtype=dtype))
    return values.copy()  # writable, not tied to Arrow's buffer


def _stripped_labels(column: Any) -> Labels:
    """A dictionary-encoded Arrow column as :class:`Labels` of stripped labels (sorted), blank
    labels missing; only the dictionary (the distinct labels) is handled in Python."""
    from analysis.design import Labels

    combined = column.unify_dictionaries().combine_chunks()  # one dictionary, one array
    stripped = [str(label).strip() for label in combined.dictionary.to_pylist()]
    categories = sorted(set(stripped) - {""})
    position = {label: i for i, label in enumerate(categories)}
    recode = np.array([position.get(label, -1) for label in stripped] + [-1], dtype=np.int32)
    indices = _arrow_values(combined.indices, np.int32, len(stripped))  # a null label: the last entry, -1
    return Labels(recode[indices], np.array(categories, dtype=object))


def _text_columns(df: pd.DataFrame) -> Columns:
    return {str(name): df[name] for name in df.columns}


def _column(df: Columns, col: str, path: str, what: str) -> Any:
    if col not in df:
        raise CliError(f"{path}: unknown column {col!r} (given as {what})")
    return df[col]


def _numeric(s: Any, name: str, path: str, what: str, *, allow_blank: bool = False) -> np.ndarray:
    if isinstance(s, np.ndarray) and s.dtype == np.float64:  # the typed reader's: only blanks to check
        blank_rows = np.flatnonzero(np.isnan(s))
        if blank_rows.size and not allow_blank:
            raise CliError(f"{path}: line {int(blank_rows[0]) + 2}: column {name!r} ({what}) is blank")
        typed: np.ndarray = s
        return typed
    import pandas as pd

    txt = s.str.strip()
    blank = txt == ""
    if blank.any() and not allow_blank:
        line = int(np.flatnonzero(blank.to_numpy())[0]) + 2
        raise CliError(f"{path}: line {line}: column {name!r} ({what}) is blank")
    num = pd.to_numeric(txt.where(~blank), errors="coerce")
    bad = num.isna() & ~blank
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise CliError(f"{path}: line {i + 2}: column {name!r} ({what}) has non-numeric value {txt.iloc[i]!r}")
    numbers: np.ndarray = num.to_numpy(dtype=np.float64)
    return numbers


def _labels(s: Any) -> Labels:
    """Stripped labels, blank = missing, as :class:`Labels` (the typed reader's already are)."""
    from analysis.design import Labels

    if isinstance(s, Labels):
        return s
    txt = s.str.strip()
    categorical = txt.where(txt != "").astype("category")
    return Labels(categorical.cat.codes.to_numpy(), np.asarray(categorical.cat.categories, dtype=object))


def _design_labels(s: Any, name: str, path: str, what: str) -> Labels:
    """Stratum or PSU labels: every row needs one."""
    labels = _labels(s)
    blank = np.flatnonzero(labels.codes < 0)
    if blank.size:
        raise CliError(f"{path}: line {int(blank[0]) + 2}: column {name!r} ({what}) is blank")
    return labels


def _weights_column(s: Any, name: str, path: str, what: str) -> np.ndarray:
    """Weights: numeric, not negative, not all zero."""
    weights = _numeric(s, name, path, what)
    negative = np.flatnonzero(weights < 0)
    if negative.size:
        i = int(negative[0])
        raise CliError(f"{path}: line {i + 2}: column {name!r} ({what}) has negative weight {weights[i]:g}")
    if not (weights > 0).any():
        raise CliError(f"{path}: column {name!r} ({what}): every weight is 0")
    return weights


def _item_matrix(df: Columns, items: Sequence[str], codes: Sequence[float], path: str) -> np.ndarray:
    """The answers as one ``(n, J)`` matrix, each code checked against the scale (first bad
    line and column named): ``int8`` from the typed reader (one table look-up per column),
    float64 with NaN for blanks from the text reader."""
    scale = np.array(sorted(codes), dtype=np.float64)
    allowed = ", ".join(f"{c:g}" for c in scale)

    def outside(item: str, i: int, value: float) -> CliError:
        return CliError(
            f"{path}: line {i + 2}: column {item!r} has code {value:g} outside the scale ({allowed} or blank)"
        )

    columns = [_column(df, item, path, "questionnaire item") for item in items]
    if all(isinstance(s, np.ndarray) and s.dtype == np.int8 for s in columns):
        # column-major, so that every column is one contiguous copy; one table look-up checks
        # every code, and only a file with a bad code is searched column by column
        small = np.empty((len(columns[0]), len(items)), dtype=np.int8, order="F")
        for j, values in enumerate(columns):
            small[:, j] = values
        outside_scale = np.ones(256, dtype=bool)
        outside_scale[np.array([BLANK, *scale.astype(np.int64)], dtype=np.int8).view(np.uint8)] = False
        bad = outside_scale[small.view(np.uint8)]
        if bad.any():
            for j, item in enumerate(items):
                off = np.flatnonzero(bad[:, j])
                if off.size:
                    raise outside(item, int(off[0]), float(small[off[0], j]))
        return small
    matrix = np.empty((len(columns[0]), len(items)), dtype=np.float64)
    for j, (item, s) in enumerate(zip(items, columns, strict=True)):
        if isinstance(s, np.ndarray) and s.dtype == np.int8:
            x = np.where(s == BLANK, np.nan, s.astype(np.float64))
        else:
            x = _numeric(s, item, path, "item", allow_blank=True)
        off = np.flatnonzero(~np.isnan(x) & ~np.isin(x, scale))
        if off.size:
            raise outside(item, int(off[0]), float(x[off[0]]))
        matrix[:, j] = x
    return matrix


def _margin_variables(path: str) -> list[str]:
    """The variables named in MARGINS.csv, read with the csv module before the responses are
    parsed (their columns are read as labels). Anything unexpected gives no names: the file
    is parsed and checked properly afterwards."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = [name.strip() for name in next(reader, [])]
            if "variable" not in header:
                return []
            column = header.index("variable")
            return list(dict.fromkeys(row[column] for row in reader if len(row) > column))
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def _estimate_inputs(args: argparse.Namespace, spec: IndexSpec) -> tuple[np.ndarray, Design, dict[str, Labels]]:
    """Read and check the file: the answers (an ``(n, J)`` matrix of codes), the design (raked
    when asked) and the domains."""
    from analysis.design import make_design  # numpy only, as analysis.weighting
    from analysis.weighting import calibrate_design

    path = args.responses
    codes = sorted({*spec.valid_codes, *spec.missing_codes})
    numbers = list(dict.fromkeys(c for c in (args.fpc, args.weight) if c is not None))
    labels = [c for c in (args.strata, args.psu, *args.by) if c is not None]
    labels = list(dict.fromkeys([*labels, *(_margin_variables(args.rake) if args.rake is not None else ())]))
    # item codes fit one byte (the questionnaire schema allows 0-9): read them as int8
    small_codes = all(float(c).is_integer() and -127 <= c <= 127 for c in codes)
    df = _read_typed(
        path,
        numbers=numbers if small_codes else [*spec.items, *numbers],
        labels=labels,
        codes=spec.items if small_codes else (),
    )
    margins = None if args.rake is None else _read_margins(args.rake)
    _check_header(path)
    if df is None or any(str(var) not in labels for var in margins or ()):
        df = _text_columns(_read_csv(path))
    n_rows = len(next(iter(df.values())))
    answers = _item_matrix(df, spec.items, codes, path)

    def design_labels(col: str, what: str) -> Labels:
        return _design_labels(_column(df, col, path, what), col, path, what)

    strata = None if args.strata is None else design_labels(args.strata, "--strata")
    psu = None if args.psu is None else design_labels(args.psu, "--psu")
    fpc = None
    if args.fpc is not None:
        fpc = _numeric(_column(df, args.fpc, path, "--fpc"), args.fpc, path, "--fpc")
    weight = None
    if args.weight is not None:
        weight = _weights_column(_column(df, args.weight, path, "--weight"), args.weight, path, "--weight")
    by = {}
    for col in args.by:
        if col in by:
            raise CliError(f"--by {col} given twice")
        by[col] = _labels(_column(df, col, path, "--by"))
        if (by[col].codes < 0).all():
            raise CliError(f"{path}: column {col!r} (--by) is blank in every row")
    design = make_design(n=n_rows, weights=weight, strata=strata, psu=psu, fpc=fpc)
    if margins is not None:
        factors = {var: _labels(_column(df, var, path, f"a variable of {args.rake}")) for var in margins}
        design, _ = calibrate_design(design, factors, margins)
    return answers, design, by


def _estimate(args: argparse.Namespace) -> dict[str, np.ndarray]:
    spec = load_index_spec(args.questionnaire)
    # the engine's imports (scipy.special for the intervals) run in a thread while Arrow,
    # which releases the GIL, parses the file and the design is built; pandas is not imported
    # for a clean file
    engine_import = threading.Thread(target=importlib.import_module, args=("analysis.rates",), daemon=True)
    engine_import.start()
    try:
        answers, design, by = _estimate_inputs(args, spec)
    finally:  # never leave the import running at exit (also after a bad-input error)
        engine_import.join()
    from analysis.rates import rate_columns

    return rate_columns(
        answers,
        spec.items,
        design,
        valid_codes=spec.valid_codes,
        success_codes=spec.satisfied_codes,
        composites=spec.composites(),
        by=by,
        ci=args.ci,
    )


def _write_table(columns: dict[str, np.ndarray], fmt: str, out: str | None) -> None:
    from analysis.output import OUTPUT_COLUMNS, results_csv

    columns = {name: columns[name] for name in OUTPUT_COLUMNS}
    if fmt == "json":
        import pandas as pd

        table = pd.DataFrame(columns)
        records = json.loads(table.to_json(orient="records", double_precision=10))
        text = json.dumps(records, ensure_ascii=False, indent=1) + "\n"
    else:
        text = results_csv(columns)
    if out is None:
        sys.stdout.write(text)
    else:
        try:
            Path(out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"{out}: cannot write: {exc.strerror}") from None


def _weights(args: argparse.Namespace) -> None:
    from analysis.weighting import rake, trim_and_rake, weight_diagnostics

    path = args.responses
    df = _read_csv(path)
    columns = _text_columns(df)
    d = _weights_column(_column(columns, args.weight, path, "--weight"), args.weight, path, "--weight")
    if "weight" in df.columns and args.weight != "weight":
        raise CliError(f"{path}: already has a column 'weight'; rename it first")
    margins = _read_margins(args.rake)
    factors = {var: _labels(_column(columns, var, path, f"a variable of {args.rake}")) for var in margins}
    if args.trim is not None:
        if args.max_rounds < 1:
            raise CliError(f"--max-rounds must be at least 1, got {args.max_rounds}")
        res = trim_and_rake(d, factors, margins, args.trim, max_rounds=args.max_rounds)
    else:
        res = rake(d, factors, margins)
    out = df.copy()
    out["weight"] = res.weights
    try:
        out.to_csv(args.out, index=False, float_format="%.10g", lineterminator="\n")
    except OSError as exc:
        raise CliError(f"{args.out}: cannot write: {exc.strerror}") from None
    s = weight_diagnostics(res.weights)
    trim = f", {res.trim_rounds} trim round(s), {res.n_trimmed} capped" if args.trim else ""
    sys.stderr.write(
        f"raked to {len(margins)} margins in {res.iterations} iterations "
        f"(max relative error {res.max_rel_error:.2g}){trim}; weights min {s.min:.6g}, "
        f"median {s.median:.6g}, max {s.max:.6g}, sum {s.total:.10g}, "
        f"Kish effective n {s.kish_n_eff:.1f} of {s.n} (deff_w {s.deff_w:.3f})\n"
    )


def _input_errors() -> tuple[type[Exception], ...]:
    """The errors that mean bad input (exit status 2); the engine's only if it was imported."""
    errors: list[type[Exception]] = [CliError, QuestionnaireError]
    for module, name in (("analysis.design", "DesignError"), ("analysis.weighting", "WeightingError")):
        if module in sys.modules:
            errors.append(getattr(sys.modules[module], name))
    return tuple(errors)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``sipas-analysis`` and ``python -m analysis``; returns the exit status."""
    try:
        args = _parser().parse_args(argv)
        if args.command == "estimate":
            _write_table(_estimate(args), args.format, args.out)
        else:
            _weights(args)
    except Exception as exc:
        if not isinstance(exc, _input_errors()):
            raise
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
