# Reference for analysis.trend.independent_change: the 2025 and 2026 halves of
# tests/analysis/data/responses.csv as two independent samples, stacked as one design with the
# strata and PSUs of both (period-prefixed), the change of each item rate from the contrast of
# the two period domains. Run from the repository root:  Rscript tests/analysis/r/trend.R
# Writes tests/analysis/data/reference_trend.csv (proportions).
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "adjust", warn = 1)
d <- read.csv(file.path("tests", "analysis", "data", "responses.csv"), stringsAsFactors = FALSE,
              colClasses = c(period = "character", psu = "character"))
d$sp <- paste(d$period, d$stratum)
d$pp <- paste(d$period, d$psu)
items <- c("A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3",
           "D1", "D2", "D3", "E1", "E2", "E3")
des <- svydesign(ids = ~pp, strata = ~sp, fpc = ~fpc, weights = ~w, data = d, nest = TRUE)
out <- list()
for (it in items) {
  x <- d[[it]]
  des$variables$y <- as.numeric(!is.na(x) & x >= 4 & x <= 5)
  sub <- subset(des, !is.na(x) & x %in% 1:5)
  by <- svyby(~y, ~period, sub, svymean, covmat = TRUE)
  ch <- svycontrast(by, c(-1, 1))
  df <- degf(sub)
  t <- coef(ch) / SE(ch)
  out[[it]] <- data.frame(indicator = it, estimate_a = coef(by)[1], estimate_b = coef(by)[2],
                          difference = unname(coef(ch)), se = unname(SE(ch)), df = df,
                          p_value = unname(2 * pt(-abs(t), df)))
}
write.csv(do.call(rbind, out), file.path("tests", "analysis", "data", "reference_trend.csv"), row.names = FALSE)
