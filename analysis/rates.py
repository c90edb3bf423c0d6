"""SIPAS item rates, indices over items (composites), shares and domain comparisons.

An item rate is a ratio estimator, ``P_j = sum w 1[x_j in success] / sum w 1[x_j in valid]``;
an index (:class:`Composite`) is the mean of its parts and its linearized variable the mean of
theirs (method section 2, variance as in section 5). Weights are sampling (inverse-probability)
or calibrated weights, never frequency weights; the variance is Taylor linearization with the
full design (strata, PSUs, fpc, lonely-PSU rule, GREG residual after calibration) through
:mod:`analysis.variance`.

=========================  ===================================================================
this module                R ``survey`` 4.x
=========================  ===================================================================
``estimate_rates``         ``svyby(~I(x >= 4), ~dom, subset(design, !is.na(x)), svyciprop)``
                           per item; indices: ``svycontrast`` of the item ratios
``estimate_shares``        the same with other success codes
``compare_domains``        ``svycontrast(svyby(..., covmat = TRUE), c(1, -1))``
=========================  ===================================================================

How it is computed: rows are grouped into *cells* that share a PSU, calibration categories and
a domain of every domain variable; per cell and item the weighted counts of valid answers and
successes are the sufficient statistics. Every domain estimate, linearized PSU total, variance
and degree of freedom is then a sum over cells (``np.bincount``), never a loop over rows.

References
----------
Lumley, T. (2010). *Complex Surveys*, Wiley, pp. 17-58 (designs), 135-146 (calibration).
Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed., p. 233 (ratios).
Kish, L. (1965). *Survey Sampling*, Wiley, pp. 257-259 (design effect).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from analysis.design import Design, DesignError, compact_codes, factorize_labels
from analysis.estimators import Difference
from analysis.intervals import ci_wald
from analysis.output import TableBlock, results_columns, results_table
from analysis.variance import (
    domain_degf,
    domain_psu_totals,
    domain_variance_and_degf,
    group_sums,
    stratified_variance,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Composite", "compare_domains", "estimate_rates", "estimate_shares", "rate_columns"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Composite:
    """An index that averages item rates or other composites (equal weight per part).

    ``parts`` name items or composites defined earlier in the list. With no valid answer for
    some part in a domain, the index averages the parts that have data and is flagged
    ``partial``.
    """

    name: str
    parts: tuple[str, ...]


def _cell_ids(keys: Sequence[tuple[IntArray, int]]) -> tuple[IntArray, IntArray]:
    """Cell id of every row from several integer keys ``(codes, number of codes)``.

    Returns ``(row_cell, some_row)``: the cell of every row and one row of every cell (cells
    are defined by the keys, so any of their rows gives the cell's codes).
    """
    combined = keys[0][0].astype(np.int64)
    cardinality = keys[0][1]
    limit = max(4 * combined.shape[0], 1 << 20)  # keep the codes small enough for a presence table
    for codes, n_codes in keys[1:]:
        if cardinality * n_codes > limit and cardinality > 1:
            combined, _ = compact_codes(combined, cardinality)
            cardinality = int(combined.max()) + 1 if combined.size else 1
        combined = combined * n_codes + codes
        cardinality *= n_codes
    return compact_codes(combined, cardinality)


def _few_cells(n_cells: int, n_rows: int) -> bool:
    """Cells hold 20 rows or more on average: loop over the cells' blocks of rows."""
    return n_cells * 20 <= n_rows


def _rows_by_cell(row_cell: IntArray, n_cells: int) -> tuple[IntArray | None, IntArray]:
    """The rows in cell order (None when they already are, e.g. a file sorted by PSU) and the
    bounds of every cell's block of rows."""
    bounds = np.zeros(n_cells + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_cell, minlength=n_cells), out=bounds[1:])
    if row_cell.shape[0] < 2 or bool(np.all(row_cell[:-1] <= row_cell[1:])):
        return None, bounds
    # a stable sort; numpy's radix sort for 16-bit keys is linear
    key = row_cell.astype(np.int16) if n_cells <= np.iinfo(np.int16).max else row_cell
    return np.argsort(key, kind="stable"), bounds


def _cell_block_sums(
    row_cell: IntArray,
    n_cells: int,
    success: BoolArray,
    valid: BoolArray,
    weights: FloatArray,
    counted: FloatArray,
    weights_over_g: FloatArray | None,
    *,
    gram: bool,
) -> tuple[FloatArray, FloatArray | None]:
    """Per cell, the totals of ``z = [success, valid]`` (shape ``(m, 3, 2J)``: weighted,
    counted, weighted over ``g``) and, with ``gram``, ``sum w z z'`` (shape ``(m, 4 J^2)``).

    One pass over the cells' blocks of rows (few cells of many rows): two small matrix
    products per cell instead of a ``np.bincount`` over every row per item and weight."""
    order, bounds = _rows_by_cell(row_cell, n_cells)
    z = np.concatenate([success, valid], axis=1)
    row_weights = np.stack([weights, counted] if weights_over_g is None else [weights, counted, weights_over_g])
    if order is not None:
        z = z[order]
        row_weights = row_weights[:, order]
    root_weights = np.sqrt(row_weights[0])  # weights are >= 0
    width = z.shape[1]
    sums = np.zeros((n_cells, 3, width))
    grams = np.zeros((n_cells, width, width)) if gram else None
    n_sums = row_weights.shape[0]
    for cell in range(n_cells):
        start, stop = bounds[cell], bounds[cell + 1]
        if stop == start:
            continue
        block = z[start:stop].astype(np.float64)
        sums[cell, :n_sums] = row_weights[:, start:stop] @ block
        if grams is not None:
            scaled = block * root_weights[start:stop, None]
            grams[cell] = scaled.T @ scaled
    return sums, None if grams is None else grams.reshape(n_cells, -1)


@dataclass(frozen=True, eq=False)
class _DomainPass:
    """Everything computed for one domain variable (``D`` domains, ``K`` indicators, ``m`` cells)."""

    labels: npt.NDArray[np.object_]  # (D,)
    cell_domain: IntArray  # (m,) domain code of every cell, -1 = in no domain
    estimate: FloatArray  # (D, K) proportions
    linearized: FloatArray  # (m, K) linearized values summed over each cell
    linearized_over_g: FloatArray | None  # (m, K) the same divided by g (calibrated designs)
    contributors: FloatArray  # (m, K) contributing respondents per cell
    n: FloatArray  # (D, K) contributing respondents per domain
    partial: BoolArray  # (D, K)
    variance: FloatArray  # (D, K)
    df: IntArray  # (D, K)
    deff: FloatArray  # (D, K)

    def table_block(self, domain_var: str) -> TableBlock:
        return TableBlock(
            domain_var, self.labels, self.estimate, self.variance, self.df, self.n, self.deff, self.partial
        )


def _combine_items(cell_values: FloatArray, coefficients: FloatArray, cell_domain: IntArray) -> FloatArray:
    """Indicator values per cell, ``cell_values[c] @ coefficients[cell_domain[c]]``, without
    materialising ``coefficients[cell_domain]`` when every domain has the same coefficients."""
    if coefficients.shape[0] == 1 or bool(np.all(coefficients == coefficients[:1])):
        same_for_all: FloatArray = cell_values @ coefficients[0]
        return same_for_all
    out = np.empty((cell_values.shape[0], coefficients.shape[2]))
    for k in range(coefficients.shape[2]):
        out[:, k] = np.einsum("cj,cj->c", cell_values, coefficients[cell_domain, :, k])
    return out


def _design_effect(
    variance: FloatArray, s2_population: FloatArray, n: FloatArray, weight_sum: FloatArray
) -> FloatArray:
    """R's ``deff = TRUE``: ``variance / [S^2 (1/n - 1/N)]``, ``S^2 = n/(n-1)`` times the weighted
    population variance, ``N`` the sum of the weights (``1/n`` alone when ``N <= n``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = s2_population * n / (n - 1)
        fpc = np.where(weight_sum > n, 1.0 / n - 1.0 / weight_sum, 1.0 / n)
        variance_srs = s2 * fpc
        deff: FloatArray = np.where((n >= 2) & (variance_srs > 0), variance / variance_srs, np.nan)
    return deff


class _RateEngine:
    """Cell-level sufficient statistics shared by all domain variables.

    Parameters
    ----------
    valid, success : bool arrays, shape (n, J)
        Valid answer and success (satisfied) of every respondent and item.
    item_names : sequence of str
    composites : sequence of Composite
    design : Design
    domains : mapping of domain variable name to labels, shape (n,)
    """

    def __init__(
        self,
        valid: BoolArray,
        success: BoolArray,
        item_names: Sequence[str],
        composites: Sequence[Composite],
        design: Design,
        domains: Mapping[str, npt.ArrayLike],
        levels: Mapping[str, Sequence[object]] | None = None,
    ) -> None:
        n_rows, n_items = valid.shape
        if success.shape != valid.shape or design.n != n_rows:
            raise DesignError("answers and design have different numbers of rows")
        if np.any(success & ~valid):
            raise DesignError("a success code lies outside the valid codes")
        self.design = design
        self.item_names = list(item_names)
        self.n_items = n_items
        self.composites = list(composites)
        # every composite as the positions of its parts among items and earlier composites
        position = {name: i for i, name in enumerate(self.item_names)}
        self.composite_parts: list[list[int]] = []
        for composite in self.composites:
            parts = []
            for part in composite.parts:
                if part not in position:
                    raise DesignError(f"index {composite.name} refers to unknown part {part}")
                parts.append(position[part])
            position[composite.name] = len(position)
            self.composite_parts.append(parts)
        self.indicator_names = [*self.item_names, *(c.name for c in self.composites)]

        # domain codes per row
        self.domain_labels: dict[str, npt.NDArray[np.object_]] = {}
        row_domain: dict[str, IntArray] = {}
        for name, labels in domains.items():
            codes, distinct = factorize_labels(labels)
            if codes.shape != (n_rows,):
                raise DesignError(f"domain variable {name} has {codes.shape[0]} rows, expected {n_rows}")
            # expected domains without respondents get a row too (estimate NaN, flag no_data)
            absent = sorted({str(v) for v in (levels or {}).get(name, ())} - {str(v) for v in distinct})
            if absent:
                distinct = np.concatenate([distinct, np.array(absent, dtype=object)])
            self.domain_labels[name] = distinct
            row_domain[name] = codes

        weights = design.weights
        calibration = design.calibration
        keys: list[tuple[IntArray, int]] = [(design.psu, design.n_psus)]
        if calibration is not None:
            keys += [(c, n_levels) for c, n_levels in zip(calibration.codes, calibration.n_levels, strict=True)]
        for name, codes in row_domain.items():
            keys.append((codes + 1, len(self.domain_labels[name]) + 1))
        row_cell, first_row = _cell_ids(keys)
        n_cells = first_row.shape[0]
        self.row_cell = row_cell
        self.n_cells = n_cells
        self.cell_psu: IntArray = design.psu[first_row]
        self.cell_calibration = None if calibration is None else tuple(c[first_row] for c in calibration.codes)
        self.cell_domain = {name: codes[first_row] for name, codes in row_domain.items()}

        counted = (weights != 0).astype(np.float64)
        weights_over_g = None if calibration is None else weights * calibration.g_inverse
        self._cell_gram_cache: FloatArray | None = None
        if _few_cells(n_cells, n_rows):
            sums, self._cell_gram_cache = _cell_block_sums(
                row_cell, n_cells, success, valid, weights, counted, weights_over_g, gram=bool(self.composites)
            )
            self.success_weight: FloatArray = sums[:, 0, :n_items]
            self.valid_weight: FloatArray = sums[:, 0, n_items:]
            self.valid_count: FloatArray = sums[:, 1, n_items:]
            self.over_g: tuple[FloatArray, FloatArray] | None = (
                None if weights_over_g is None else (sums[:, 2, n_items:], sums[:, 2, :n_items])
            )
            """``(valid_weight, success_weight)`` divided by ``g``, on a calibrated design."""
        else:
            self._state_sums(row_cell, n_cells, valid, success, weights, counted, weights_over_g)
        self.cell_weight = np.bincount(row_cell, weights=weights, minlength=n_cells)
        self.cell_count = np.bincount(row_cell, weights=counted, minlength=n_cells)
        self.valid = valid
        self.success = success

    def _state_sums(
        self,
        row_cell: IntArray,
        n_cells: int,
        valid: BoolArray,
        success: BoolArray,
        weights: FloatArray,
        counted: FloatArray,
        weights_over_g: FloatArray | None,
    ) -> None:
        """Per cell and item, totals over the answer states 0 = not valid, 1 = valid, 2 = success
        (one ``np.bincount`` per item: many cells)."""
        n_items = valid.shape[1]
        weight_by_state = np.empty((n_cells, n_items, 3))
        count_by_state = np.empty((n_cells, n_items, 3))
        weight_over_g_by_state = None if weights_over_g is None else np.empty((n_cells, n_items, 3))
        cell_offset = row_cell * 3
        for item in range(n_items):
            state = cell_offset + valid[:, item].astype(np.int64) + success[:, item].astype(np.int64)
            weight_by_state[:, item, :] = np.bincount(state, weights=weights, minlength=3 * n_cells).reshape(n_cells, 3)
            count_by_state[:, item, :] = np.bincount(state, weights=counted, minlength=3 * n_cells).reshape(n_cells, 3)
            if weight_over_g_by_state is not None:
                weight_over_g_by_state[:, item, :] = np.bincount(
                    state, weights=weights_over_g, minlength=3 * n_cells
                ).reshape(n_cells, 3)
        self.valid_weight = weight_by_state[:, :, 1] + weight_by_state[:, :, 2]
        self.success_weight = weight_by_state[:, :, 2]
        self.valid_count = count_by_state[:, :, 1] + count_by_state[:, :, 2]
        self.over_g = (
            None
            if weight_over_g_by_state is None
            else (
                weight_over_g_by_state[:, :, 1] + weight_over_g_by_state[:, :, 2],
                weight_over_g_by_state[:, :, 2],
            )
        )

    # ------------------------------------------------------------------
    def _coefficients(self, has_data: BoolArray) -> tuple[FloatArray, BoolArray]:
        """Item coefficients of every indicator ``(D, J, K)`` and partial flags ``(D, K)``.

        An item's coefficients are its unit vector; an index's the mean of its parts' over the
        parts that have data in the domain.
        """
        n_domains, n_items = has_data.shape
        n_indicators = n_items + len(self.composites)
        coefficients = np.zeros((n_domains, n_items, n_indicators))
        coefficients[:, np.arange(n_items), np.arange(n_items)] = 1.0
        has = np.zeros((n_domains, n_indicators), dtype=bool)
        has[:, :n_items] = has_data
        partial = np.zeros((n_domains, n_indicators), dtype=bool)
        for composite_index, parts in enumerate(self.composite_parts):
            k = n_items + composite_index
            part_has_data = has[:, parts]  # (D, p)
            n_parts_with_data = part_has_data.sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                part_weight = np.where(part_has_data, 1.0 / np.maximum(n_parts_with_data, 1)[:, None], 0.0)
            coefficients[:, :, k] = np.einsum("dp,djp->dj", part_weight, coefficients[:, :, parts])
            has[:, k] = n_parts_with_data > 0
            partial[:, k] = ((n_parts_with_data > 0) & (n_parts_with_data < len(parts))) | partial[:, parts].any(axis=1)
        return coefficients, partial

    def run(self, name: str | None) -> _DomainPass:
        """Estimates, variances, df and deff for one domain variable (None = overall)."""
        design = self.design
        if name is None:
            cell_domain = np.zeros(self.n_cells, dtype=np.int64)
            labels = np.array(["all"], dtype=object)
        else:
            cell_domain = self.cell_domain[name]
            labels = self.domain_labels[name]
        n_domains = labels.shape[0]
        if n_domains == 0:
            return self._no_domains(labels, cell_domain)
        in_domain = cell_domain >= 0
        domain_code = np.where(in_domain, cell_domain, 0)

        def domain_sum(cell_values: FloatArray) -> FloatArray:
            out = np.empty((n_domains, cell_values.shape[1]))
            for col in range(cell_values.shape[1]):
                out[:, col] = np.bincount(
                    domain_code[in_domain], weights=cell_values[in_domain, col], minlength=n_domains
                )
            return out

        valid_total = domain_sum(self.valid_weight)
        success_total = domain_sum(self.success_weight)
        valid_n = domain_sum(self.valid_count)
        has_data = valid_total > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(has_data, success_total / np.where(has_data, valid_total, 1.0), np.nan)
            inverse_denominator = np.where(has_data, 1.0 / np.where(has_data, valid_total, 1.0), 0.0)
        rate0 = np.nan_to_num(rate)
        coefficients, partial = self._coefficients(has_data)
        n_items = self.n_items
        # linearized cell totals for items, then any index through the coefficients
        item_linearized = (self.success_weight - rate0[domain_code] * self.valid_weight) * inverse_denominator[
            domain_code
        ]
        item_linearized[~in_domain] = 0.0
        linearized = _combine_items(item_linearized, coefficients, domain_code)
        linearized_over_g = None
        if self.over_g is not None:
            valid_over_g, success_over_g = self.over_g
            item_over_g = (success_over_g - rate0[domain_code] * valid_over_g) * inverse_denominator[domain_code]
            item_over_g[~in_domain] = 0.0
            linearized_over_g = _combine_items(item_over_g, coefficients, domain_code)
        estimate = np.einsum("dj,djk->dk", rate0, coefficients)
        has_estimate = np.concatenate([has_data, coefficients[:, :, n_items:].any(axis=1)], axis=1)
        estimate = np.where(has_estimate, estimate, np.nan)
        n_composites = len(self.composites)
        contributors = np.concatenate(
            [self.valid_count, np.repeat(self.cell_count[:, None], n_composites, axis=1)], axis=1
        )
        variance, df = domain_variance_and_degf(
            design,
            linearized,
            contributors,
            self.cell_psu,
            cell_domain,
            n_domains,
            linearized_over_g,
            self.cell_calibration,
        )
        domain_count = np.bincount(domain_code[in_domain], weights=self.cell_count[in_domain], minlength=n_domains)
        domain_weight = np.bincount(domain_code[in_domain], weights=self.cell_weight[in_domain], minlength=n_domains)
        n = np.concatenate([valid_n, np.repeat(domain_count[:, None], n_composites, axis=1)], axis=1)

        # design effects: item = R svymean(deff = TRUE) on the valid domain subset
        deff = np.full((n_domains, n_items + n_composites), np.nan)
        item_s2 = rate0 * (1 - rate0)
        deff[:, :n_items] = _design_effect(variance[:, :n_items], item_s2, valid_n, valid_total)
        if n_composites:
            sum_sq = self._composite_sumsq(cell_domain, rate0, inverse_denominator, coefficients[:, :, n_items:])
            s2 = domain_weight[:, None] * sum_sq  # sum w e^2 / W with e = q * W
            deff[:, n_items:] = _design_effect(
                variance[:, n_items:],
                s2,
                n[:, n_items:],
                np.repeat(domain_weight[:, None], n_composites, 1),
            )
        return _DomainPass(
            labels,
            cell_domain,
            estimate,
            linearized,
            linearized_over_g,
            contributors,
            n,
            partial,
            variance,
            df,
            deff,
        )

    def _no_domains(self, labels: npt.NDArray[np.object_], cell_domain: IntArray) -> _DomainPass:
        """A domain variable whose every row is in no domain (and no expected level): no rows."""
        k = len(self.indicator_names)
        empty = np.zeros((0, k))
        cells = np.zeros((self.n_cells, k))
        return _DomainPass(
            labels,
            cell_domain,
            empty,
            cells,
            None if self.over_g is None else cells,
            cells,
            empty,
            np.zeros((0, k), dtype=bool),
            empty,
            np.zeros((0, k), dtype=np.int64),
            empty,
        )

    def _cell_gram(self) -> FloatArray:
        """Per cell, ``sum w z z'`` with ``z = [success, valid]`` (shape ``(m, 4 J^2)``)."""
        if self._cell_gram_cache is None:
            row_order = np.argsort(self.row_cell, kind="stable")
            cell_bounds = np.concatenate(([0], np.cumsum(np.bincount(self.row_cell, minlength=self.n_cells))))
            success_valid = np.concatenate([self.success, self.valid], axis=1)[row_order]
            weights = self.design.weights[row_order]
            gram = np.empty((self.n_cells, success_valid.shape[1], success_valid.shape[1]))
            for cell in range(self.n_cells):
                rows = slice(cell_bounds[cell], cell_bounds[cell + 1])
                block = success_valid[rows].astype(np.float64)
                gram[cell] = block.T @ (block * weights[rows, None])
            self._cell_gram_cache = gram.reshape(self.n_cells, -1)
        return self._cell_gram_cache

    def _composite_sumsq(
        self,
        cell_domain: IntArray,
        rate0: FloatArray,
        inverse_denominator: FloatArray,
        coefficients: FloatArray,
    ) -> FloatArray:
        """Per domain and composite, ``sum_i w_i q_i^2`` over the domain rows, with
        ``q_i = sum_j coef_j (y_ij - p_j a_ij) / W_j`` (``W_j`` the item's weighted valid total)."""
        n_domains, n_items, n_composites = coefficients.shape
        success_factor = inverse_denominator  # (D, J): 1 / W_j
        valid_factor = rate0 * inverse_denominator  # (D, J): p_j / W_j
        if _few_cells(self.n_cells, self.row_cell.shape[0]):
            # few cells: sum w z z' per cell once (z = [y, a]); then quadratic forms per domain
            cell_gram = self._cell_gram()
            in_domain = cell_domain >= 0
            if n_domains <= 8:  # a few domains: one product with their indicators, no reordered copy
                indicator = np.zeros((n_domains, self.n_cells))
                indicator[cell_domain[in_domain], np.flatnonzero(in_domain)] = 1.0
                domain_gram = indicator @ cell_gram
            else:
                domain_gram = group_sums(cell_gram[in_domain], cell_domain[in_domain], n_domains)
            domain_gram = domain_gram.reshape(n_domains, 2 * n_items, 2 * n_items)
            z_coefficients = np.concatenate(
                [coefficients * success_factor[:, :, None], -coefficients * valid_factor[:, :, None]], axis=1
            )
            result: FloatArray = np.einsum("dpk,dpq,dqk->dk", z_coefficients, domain_gram, z_coefficients)
            return result
        weights = self.design.weights
        row_domain = cell_domain[self.row_cell]
        if n_domains == 1:
            row_order = np.flatnonzero(row_domain >= 0)
            domain_rows = np.array([row_order.size])
        else:
            row_order = np.argsort(row_domain, kind="stable")
            row_order = row_order[np.searchsorted(row_domain[row_order], 0) :]
            domain_rows = np.bincount(row_domain[row_order], minlength=n_domains)
        success_sorted = self.success[row_order]
        valid_sorted = self.valid[row_order]
        weights_sorted = weights[row_order]
        out = np.zeros((n_domains, n_composites))
        start = 0
        for d in range(n_domains):
            stop = start + int(domain_rows[d])
            if stop > start:
                q = (
                    success_sorted[start:stop] * success_factor[d] - valid_sorted[start:stop] * valid_factor[d]
                ) @ coefficients[d]
                out[d] = weights_sorted[start:stop] @ (q * q)
            start = stop
        return out


def _answer_states(
    answers: pd.DataFrame | npt.NDArray[np.float64] | npt.NDArray[np.int8],
    valid_codes: Sequence[float],
    success_codes: Sequence[float],
) -> tuple[BoolArray, BoolArray]:
    """``(valid, success)`` indicators of every answer; a success is always valid.

    Answers coded in one byte (``int8``/``uint8``, e.g. the command's typed reader) are
    looked up in a 256-entry table, one pass over the matrix; anything else is compared as
    float64 codes (NaN = blank)."""
    one_byte = (np.dtype(np.int8), np.dtype(np.uint8))
    pd = sys.modules.get("pandas")  # a DataFrame exists only once pandas is imported
    if pd is not None and isinstance(answers, pd.DataFrame):
        dtypes = set(answers.dtypes)
        small = len(dtypes) == 1 and next(iter(dtypes)) in one_byte
        if not small and all(dtype == np.float64 for dtype in dtypes):
            # column by column: a frame's float columns are contiguous, the (n, J) float
            # matrix would be a transposing copy of all of them
            valid = np.empty(answers.shape, dtype=bool)
            success = np.empty(answers.shape, dtype=bool)
            for j in range(answers.shape[1]):
                column = answers.iloc[:, j].to_numpy()
                valid[:, j], success[:, j] = _float_states(column, valid_codes, success_codes)
            return valid, success
        codes = answers.to_numpy() if small else np.asarray(answers, dtype=np.float64)
    else:
        codes = np.asarray(answers)
        if codes.dtype not in one_byte:
            codes = codes.astype(np.float64, copy=False)
    if codes.dtype in one_byte:
        low, high = (-128, 127) if codes.dtype == np.int8 else (0, 255)

        def table(selected: Sequence[float]) -> BoolArray:
            lookup = np.zeros(256, dtype=bool)
            for code in selected:
                if float(code).is_integer() and low <= code <= high:
                    lookup[np.array(int(code), dtype=codes.dtype).view(np.uint8)] = True
            return lookup

        # one look-up of the state (0 = not valid, 1 = valid, 2 = success), then two compares
        valid_table = table(valid_codes)
        state_table = valid_table.astype(np.uint8) + (table(success_codes) & valid_table)
        state = state_table[codes.view(np.uint8)]
        return state >= 1, state == 2
    return _float_states(codes, valid_codes, success_codes)


def _float_states(
    codes: npt.NDArray[np.float64], valid_codes: Sequence[float], success_codes: Sequence[float]
) -> tuple[BoolArray, BoolArray]:
    valid = np.zeros(codes.shape, dtype=bool)
    for code in valid_codes:
        valid |= codes == code
    success = np.zeros(codes.shape, dtype=bool)
    for code in success_codes:
        success |= codes == code
    return valid, success & valid


def estimate_rates(
    answers: pd.DataFrame,
    design: Design,
    *,
    valid_codes: Sequence[float] = (1, 2, 3, 4, 5),
    success_codes: Sequence[float] = (4, 5),
    composites: Sequence[Composite] = (),
    by: Mapping[str, npt.ArrayLike] | None = None,
    ci: str = "logit",
    level: float = 0.95,
    percent: bool = True,
    include_overall: bool = True,
    levels: Mapping[str, Sequence[object]] | None = None,
) -> pd.DataFrame:
    """Item rates and indices, overall and by domain, with design-based SEs and intervals.

    Item rate ``P_j = sum w 1[x_j in success] / sum w 1[x_j in valid]`` (codes outside
    ``valid_codes``, e.g. 9 or blank, leave the denominator); an index (:class:`Composite`) is
    the mean of its parts and its linearized variable the mean of theirs. Each item is R's
    ``svyciprop(~I(x >= 4), subset(design, !is.na(x)), method = "logit")`` per domain
    (``svyby``); the design effect is ``svymean(deff = TRUE)``'s.

    Parameters
    ----------
    answers : DataFrame, shape (n, J)
        One column per item (its name is the indicator), numeric codes, NaN for blank.
    design : Design
        Sampling or calibrated weights (calibration SEs when ``design.calibration`` is set).
    valid_codes, success_codes : sequence of numbers
        Codes in the denominator; codes counted as a success (satisfied).
    composites : sequence of Composite
        Indices in dependency order (e.g. elements A..E, then ``SIPAS``).
    by : mapping of name to labels, optional
        Domain variables (NaN/None label = in no domain of that variable). A domain's SE uses
        the full design; its df counts the PSUs with at least one contributing respondent
        (a valid answer in the domain for an item, domain membership for an index) minus
        their strata.
    ci : {"logit", "wilson"}
    level : float
    percent : bool
        Estimates, SEs and interval ends in percent (default) or as proportions.
    include_overall : bool
        Add the overall rows (``domain_var = domain = "all"``).
    levels : mapping of domain variable name to labels, optional
        Domains to report even without respondents (e.g. every field group): such a domain is
        a row with NaN estimate, ``n = 0`` and the ``no_data`` flag. A domain variable with no
        respondent in any domain and no expected level gives no rows (never an error).

    Returns
    -------
    DataFrame
        Columns :data:`analysis.output.OUTPUT_COLUMNS`; one row per domain and indicator.
    """
    blocks, indicators = _rate_blocks(
        answers,
        [str(c) for c in answers.columns],
        design,
        valid_codes=valid_codes,
        success_codes=success_codes,
        composites=composites,
        by=by,
        ci=ci,
        include_overall=include_overall,
        levels=levels,
    )
    return results_table(blocks, indicators, ci=ci, level=level, percent=percent)


def _rate_blocks(
    answers: pd.DataFrame | npt.NDArray[np.float64] | npt.NDArray[np.int8],
    item_names: Sequence[str],
    design: Design,
    *,
    valid_codes: Sequence[float],
    success_codes: Sequence[float],
    composites: Sequence[Composite],
    by: Mapping[str, npt.ArrayLike] | None,
    ci: str,
    include_overall: bool,
    levels: Mapping[str, Sequence[object]] | None,
) -> tuple[list[TableBlock], list[str]]:
    if ci not in ("logit", "wilson"):
        raise ValueError("ci must be 'logit' or 'wilson'")
    valid, success = _answer_states(answers, valid_codes, success_codes)
    engine = _RateEngine(valid, success, item_names, composites, design, dict(by or {}), levels)
    blocks: list[TableBlock] = []
    if include_overall:
        blocks.append(engine.run(None).table_block("all"))
    for domain_var in by or {}:
        blocks.append(engine.run(domain_var).table_block(domain_var))
    return blocks, engine.indicator_names


def rate_columns(
    answers: npt.NDArray[np.float64] | npt.NDArray[np.int8],
    item_names: Sequence[str],
    design: Design,
    *,
    valid_codes: Sequence[float] = (1, 2, 3, 4, 5),
    success_codes: Sequence[float] = (4, 5),
    composites: Sequence[Composite] = (),
    by: Mapping[str, npt.ArrayLike] | None = None,
    ci: str = "logit",
    level: float = 0.95,
    percent: bool = True,
) -> dict[str, np.ndarray]:
    """:func:`estimate_rates` on an ``(n, J)`` matrix of codes (``item_names`` its columns),
    the table returned column by column (:func:`analysis.output.results_columns`): the same
    numbers without pandas (the command's fast path)."""
    blocks, indicators = _rate_blocks(
        answers,
        item_names,
        design,
        valid_codes=valid_codes,
        success_codes=success_codes,
        composites=composites,
        by=by,
        ci=ci,
        include_overall=True,
        levels=None,
    )
    return results_columns(blocks, indicators, ci=ci, level=level, percent=percent)


def estimate_shares(
    answers: pd.DataFrame,
    design: Design,
    *,
    valid_codes: Sequence[float],
    report: Sequence[tuple[str, Sequence[float]]],
    by: Mapping[str, npt.ArrayLike] | None = None,
    ci: str = "logit",
    level: float = 0.95,
    percent: bool = True,
    levels: Mapping[str, Sequence[object]] | None = None,
) -> pd.DataFrame:
    """Expectation / perception shares: for every question and every reported code set, the
    weighted share of answers in the set among valid answers (method section 2).

    ``report`` is e.g. ``[("rat_mong_muon", [4]), ("mong_muon_tro_len", [3, 4])]`` or, for a
    full distribution, one entry per code (see :class:`analysis.questionnaire.ShareSpec`). The
    indicator is ``"<question>:<code>"``; everything else (weights, variance, R reference) is
    as :func:`estimate_rates`.
    """
    import pandas as pd

    frames = []
    for code, codes in report:
        table = estimate_rates(
            answers,
            design,
            valid_codes=valid_codes,
            success_codes=codes,
            by=by,
            ci=ci,
            level=level,
            percent=percent,
            levels=levels,
        )
        table["indicator"] = table["indicator"] + f":{code}"
        frames.append(table)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["domain_var", "domain"], kind="stable").reset_index(drop=True)


def compare_domains(
    answers: pd.DataFrame,
    design: Design,
    domain: npt.ArrayLike,
    a: str,
    b: str,
    *,
    valid_codes: Sequence[float] = (1, 2, 3, 4, 5),
    success_codes: Sequence[float] = (4, 5),
    composites: Sequence[Composite] = (),
    level: float = 0.95,
    percent: bool = True,
) -> list[Difference]:
    """Differences ``a - b`` between two domains (or two periods) for every indicator.

    Sampling or calibrated weights. The SE of the difference uses the covariance of the two
    domain estimates under the full design (linearized variable ``u_a - u_b``), as
    ``svycontrast(svyby(..., covmat = TRUE), c(1, -1))``. ``p`` is two-sided from t with
    ``df`` PSUs minus strata among PSUs that contribute to either estimate.
    """
    label_codes, distinct = factorize_labels(domain)
    labels = np.where(label_codes >= 0, distinct[np.maximum(label_codes, 0)], np.full(label_codes.shape, None))
    for label in (a, b):
        if not (labels == label).any():
            raise DesignError(f"domain {label} has no respondents")
    pair_labels = np.where((labels == a) | (labels == b), labels, np.full(labels.shape, None))
    item_names = [str(c) for c in answers.columns]
    valid, success = _answer_states(answers, valid_codes, success_codes)
    engine = _RateEngine(valid, success, item_names, composites, design, {"pair": pair_labels})
    pair = engine.run("pair")
    index_a = int(np.flatnonzero(pair.labels == a)[0])
    index_b = int(np.flatnonzero(pair.labels == b)[0])
    sign = np.where(pair.cell_domain == index_a, 1.0, np.where(pair.cell_domain == index_b, -1.0, 0.0))
    in_pair = np.where(sign != 0, 0, -1)
    linearized = pair.linearized * sign[:, None]
    linearized_over_g = None if pair.linearized_over_g is None else pair.linearized_over_g * sign[:, None]
    psu_totals = domain_psu_totals(
        design, linearized, engine.cell_psu, in_pair, 1, linearized_over_g, engine.cell_calibration
    )
    variance = stratified_variance(design, psu_totals)[0]
    df = domain_degf(design, pair.contributors, engine.cell_psu, in_pair, 1)[0]
    scale = 100.0 if percent else 1.0
    out = []
    for k, name in enumerate(engine.indicator_names):
        difference = pair.estimate[index_a, k] - pair.estimate[index_b, k]
        se = float(np.sqrt(variance[k]))
        ci_low, ci_high = ci_wald(difference, se, df[k], level)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = difference / se if se > 0 else np.nan
        from scipy import special  # only for a difference's p-value (not in the command's estimates)

        p_value = float(2 * special.stdtr(df[k], -abs(t))) if df[k] > 0 and np.isfinite(t) else np.nan
        out.append(
            Difference(
                name,
                a,
                b,
                float(pair.estimate[index_a, k] * scale),
                float(pair.estimate[index_b, k] * scale),
                float(difference * scale),
                se * scale,
                float(ci_low) * scale,
                float(ci_high) * scale,
                int(df[k]),
                float(t),
                p_value,
            )
        )
    return out
