# Reference values for tests/analysis, computed with R's survey package.
#
# Regenerate from the repository root (R >= 4.2, survey >= 4.1; Debian: r-base-core r-cran-survey):
#   .venv/bin/python tests/analysis/r/make_data.py     # only if the data set should change
#   Rscript tests/analysis/r/reference.R
# Reads  tests/analysis/data/responses.csv, margins_rake.csv
# Writes tests/analysis/data/reference.csv (estimates), reference_weights.csv (weights),
#        reference_diff.csv (domain differences).
# Estimates are proportions (not percent). The Python tests never call R.
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "adjust", warn = 1)
dir <- file.path("tests", "analysis", "data")
d <- read.csv(file.path(dir, "responses.csv"), stringsAsFactors = FALSE,
              colClasses = c(period = "character", psu = "character"))
margins <- read.csv(file.path(dir, "margins_rake.csv"), stringsAsFactors = FALSE)
items <- c("A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3",
           "D1", "D2", "D3", "E1", "E2", "E3")
elements <- list(A = items[1:3], B = items[4:7], C = items[8:10], D = items[11:13], E = items[14:16])
for (it in items) {
  x <- d[[it]]
  valid <- !is.na(x) & x %in% 1:5
  d[[paste0("v_", it)]] <- as.numeric(valid)
  d[[paste0("s_", it)]] <- as.numeric(valid & x >= 4)
  d[[paste0("y_", it)]] <- ifelse(valid, as.numeric(x >= 4), NA)
}
d$score_A1 <- ifelse(!is.na(d$A1) & d$A1 %in% 1:5, d$A1, NA)
d$field_group <- factor(d$field_group)
d$age <- factor(d$age)

rows <- list()
add <- function(case, dvar, dom, ind, est, se, lo = NA, hi = NA, df = NA, deff = NA, n = NA) {
  rows[[length(rows) + 1]] <<- data.frame(
    case = case, domain_var = dvar, domain = dom, indicator = ind, estimate = est, se = se,
    ci_low = lo, ci_high = hi, df = df, deff = deff, n = n, stringsAsFactors = FALSE)
}
nobs <- function(des) sum(weights(des, "sampling") != 0)

expit <- function(x) 1 / (1 + exp(-x))

# item rates: svymean(deff = TRUE) and svyciprop(method = "logit") on the valid domain subset
items_ref <- function(des, case, dvar, dom, mask) {
  for (it in items) {
    y <- des$variables[[paste0("y_", it)]]
    keep <- mask & !is.na(y)
    if (!any(keep)) next
    sub <- des[keep, ]
    f <- as.formula(paste0("~s_", it))  # equals y_ on the valid subset, no NA outside it
    m <- svymean(f, sub, deff = TRUE)
    p <- unname(coef(m))
    ci <- c(NA, NA)
    if (p > 0 && p < 1 && degf(sub) > 0) {
      ci <- suppressWarnings(as.vector(attr(svyciprop(f, sub, method = "logit"), "ci")))
    }
    add(case, dvar, dom, it, p, unname(SE(m)), ci[1], ci[2], degf(sub), unname(deff(m)), nobs(sub))
  }
}

# indices: svyratio of the item totals with covmat = TRUE, then the linear contrast (average)
index_ref <- function(des, case, dvar, dom, mask, rule = "items") {
  sub <- des[mask, ]
  avail <- items[sapply(items, function(it) sum(sub$variables[[paste0("v_", it)]] * weights(sub)) > 0)]
  num <- as.formula(paste("~", paste0("s_", avail, collapse = "+")))
  den <- as.formula(paste("~", paste0("v_", avail, collapse = "+")))
  r <- svyratio(num, den, sub, covmat = TRUE)
  k <- length(avail)
  diagpos <- seq_len(k) + (seq_len(k) - 1) * k
  est <- as.vector(r$ratio)[diagpos]
  V <- r$vcov[diagpos, diagpos]
  df <- degf(sub)
  n <- nobs(sub)
  emit <- function(name, wv) {
    p <- sum(wv * est)
    se <- sqrt(drop(t(wv) %*% V %*% wv))
    q <- qt(0.975, df)
    lo <- if (df > 0) expit(qlogis(p) - q * se / (p * (1 - p))) else NA
    hi <- if (df > 0) expit(qlogis(p) + q * se / (p * (1 - p))) else NA
    add(case, dvar, dom, name, p, se, lo, hi, df, NA, n)
  }
  ew <- list()
  for (e in names(elements)) {
    its <- intersect(elements[[e]], avail)
    wv <- as.numeric(avail %in% its) / length(its)
    ew[[e]] <- wv
    emit(e, wv)
  }
  if (rule == "items") emit("SIPAS", rep(1 / k, k)) else emit("SIPAS", Reduce(`+`, ew) / length(ew))
}

all_ref <- function(des, case, domvars, index = TRUE, rule = "items") {
  v <- des$variables
  all <- rep(TRUE, nrow(v))
  items_ref(des, case, "all", "all", all)
  if (index) index_ref(des, case, "all", "all", all, rule)
  for (dv in domvars) {
    for (lev in sort(unique(as.character(v[[dv]])))) {
      mask <- as.character(v[[dv]]) == lev
      items_ref(des, case, dv, lev, mask)
      if (index) index_ref(des, case, dv, lev, mask, rule)
    }
  }
}

# ---- designs
d1 <- svydesign(ids = ~psu, strata = ~stratum, fpc = ~fpc, weights = ~w, data = d, nest = TRUE)
d2 <- svydesign(ids = ~1, strata = ~stratum, fpc = ~fpc, data = transform(d, fpc = fpc * 40))
d3 <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = d, nest = TRUE)

all_ref(d1, "d1", c("field_group", "place", "channel", "level", "stratum"))
all_ref(d1, "d1_elements", c("field_group"), rule = "elements")
all_ref(d2, "d2", c("field_group"))
all_ref(d3, "d3", c("channel"))

# generic svymean / svytotal / svyratio, overall and in the qr domain
generic <- function(des, case) {
  for (dom in c("all", "qr")) {
    sub <- if (dom == "all") des else des[des$variables$channel == "qr", ]
    m <- svymean(~score_A1, sub, na.rm = TRUE, deff = TRUE)
    s <- des[(if (dom == "all") TRUE else des$variables$channel == "qr") & !is.na(des$variables$score_A1), ]
    ci <- confint(m, df = degf(s))
    add(case, "channel", dom, "mean_score_A1", unname(coef(m)), unname(SE(m)), ci[1], ci[2], degf(s), unname(deff(m)), nobs(s))
    t <- svytotal(~s_B2, sub, deff = TRUE)
    ci <- confint(t, df = degf(sub))
    add(case, "channel", dom, "total_s_B2", unname(coef(t)), unname(SE(t)), ci[1], ci[2], degf(sub), unname(deff(t)), nobs(sub))
    r <- svyratio(~s_C1, ~v_C1, sub, deff = TRUE)
    ci <- confint(r, df = degf(sub))
    add(case, "channel", dom, "ratio_C1", unname(coef(r)), unname(SE(r)), ci[1], ci[2], degf(sub), unname(attr(r, "deff")[1, 1]), nobs(sub))
  }
}
generic(d1, "d1")
generic(d2, "d2")
generic(d3, "d3")
options(survey.lonely.psu = "remove")
generic(d1, "d1_remove")
options(survey.lonely.psu = "adjust")

# ---- calibration
mm_names <- colnames(model.matrix(~field_group + age, d))
tot <- sum(margins$total[margins$variable == "field_group"])
pop <- c(tot)
for (nm in mm_names[-1]) {
  var <- if (startsWith(nm, "field_group")) "field_group" else "age"
  cat <- sub(paste0("^", var), "", nm)
  pop <- c(pop, margins$total[margins$variable == var & margins$category == cat])
}
names(pop) <- mm_names
cal <- calibrate(d1, ~field_group + age, pop, calfun = "raking", epsilon = 1e-12, maxit = 100)
all_ref(cal, "cal", c("field_group", "channel", "level"))
generic(cal, "cal")

age_pop <- data.frame(age = margins$category[margins$variable == "age"],
                      Freq = margins$total[margins$variable == "age"])
ps <- postStratify(d1, ~age, age_pop)
all_ref(ps, "ps", c("field_group", "channel"))
generic(ps, "ps")

upper <- unname(quantile(weights(cal), 0.9))
tr <- trimWeights(cal, upper = upper)
tr$call <- NULL  # svyglm (inside svyciprop) recurses on trimWeights' stored call
all_ref(tr, "trim", c("field_group"))

write.csv(data.frame(w_cal = weights(cal), w_ps = weights(ps), w_trim = weights(tr),
                     trim_upper = upper),
          file.path(dir, "reference_weights.csv"), row.names = FALSE)

# ---- differences between domains: svyby(covmat = TRUE) + svycontrast
diffs <- list()
for (des_name in c("d1", "cal")) {
  des <- get(des_name)
  for (it in c("A1", "C2", "E2")) {
    # both domain ratios in one svyratio on the full design: covariance from the full design
    v <- des$variables
    for (ch in c("paper", "qr")) {
      des$variables[[paste0("sc_", ch)]] <- v[[paste0("s_", it)]] * (v$channel == ch)
      des$variables[[paste0("vc_", ch)]] <- v[[paste0("v_", it)]] * (v$channel == ch)
    }
    r <- svyratio(~sc_paper + sc_qr, ~vc_paper + vc_qr, des, covmat = TRUE)
    est <- as.vector(r$ratio)[c(1, 4)]
    V <- r$vcov[c(1, 4), c(1, 4)]
    ct <- svycontrast(svyby(as.formula(paste0("~s_", it)), ~channel,
                            des[!is.na(v[[paste0("y_", it)]]), ], svymean), c(1, -1))
    se <- sqrt(V[1, 1] + V[2, 2] - 2 * V[1, 2])
    stopifnot(abs(coef(ct) - (est[1] - est[2])) < 1e-10)
    df <- degf(des[!is.na(v[[paste0("y_", it)]]), ])
    z <- (est[1] - est[2]) / se
    diffs[[length(diffs) + 1]] <- data.frame(case = des_name, indicator = it, a = "paper", b = "qr",
      est_a = est[1], est_b = est[2], difference = est[1] - est[2],
      se = se, df = df, p_value = 2 * pt(-abs(z), df))
  }
  # SIPAS 2026 - 2025: all item ratios of both periods in one svyratio, covariance from the full design
  v <- des$variables
  na <- c(); da <- c()
  for (per in c("2026", "2025")) for (it in items) {
    des$variables[[paste0("sn_", it, "_", per)]] <- v[[paste0("s_", it)]] * (v$period == per)
    des$variables[[paste0("dn_", it, "_", per)]] <- v[[paste0("v_", it)]] * (v$period == per)
    na <- c(na, paste0("sn_", it, "_", per)); da <- c(da, paste0("dn_", it, "_", per))
  }
  r <- svyratio(as.formula(paste("~", paste(na, collapse = "+"))),
                as.formula(paste("~", paste(da, collapse = "+"))), des, covmat = TRUE)
  k <- length(na)
  diagpos <- seq_len(k) + (seq_len(k) - 1) * k
  est <- as.vector(r$ratio)[diagpos]
  V <- r$vcov[diagpos, diagpos]
  wv <- c(rep(1 / 16, 16), rep(-1 / 16, 16))
  dd <- sum(wv * est)
  se <- sqrt(drop(t(wv) %*% V %*% wv))
  df <- degf(des)
  diffs[[length(diffs) + 1]] <- data.frame(case = des_name, indicator = "SIPAS", a = "2026", b = "2025",
    est_a = mean(est[1:16]), est_b = mean(est[17:32]), difference = dd, se = se, df = df,
    p_value = 2 * pt(-abs(dd / se), df))
}
write.csv(do.call(rbind, diffs), file.path(dir, "reference_diff.csv"), row.names = FALSE)
write.csv(do.call(rbind, rows), file.path(dir, "reference.csv"), row.names = FALSE)
cat("reference values written to", dir, "\n")
