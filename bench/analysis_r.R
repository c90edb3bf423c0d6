# R side of bench/analysis.py: items overall and by field group on the raked design.
# Usage: Rscript bench/analysis_r.R FOLDER OUT.csv   (writes OUT.csv and FOLDER/r_result.json)
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "adjust")
args <- commandArgs(trailingOnly = TRUE)
folder <- args[1]; out <- args[2]
t0 <- proc.time()[["elapsed"]]
d <- read.csv(file.path(folder, "responses.csv"), stringsAsFactors = FALSE)
m <- read.csv(file.path(folder, "margins.csv"), stringsAsFactors = FALSE)
t1 <- proc.time()[["elapsed"]]
items <- c("A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "D1", "D2", "D3", "E1", "E2", "E3")
for (it in items) {
  x <- d[[it]]
  ok <- !is.na(x) & x %in% 1:5
  d[[paste0("v_", it)]] <- ok
  d[[paste0("s_", it)]] <- as.numeric(ok & x >= 4)
}
d$place <- factor(d$place); d$field_group <- factor(d$field_group)
des <- svydesign(ids = ~psu, strata = ~stratum, fpc = ~fpc, weights = ~w, data = d, nest = TRUE)
mm <- colnames(model.matrix(~place + field_group, d[1:2, ]))
pop <- sum(m$total[m$variable == "place"])
for (nm in mm[-1]) {
  var <- if (startsWith(nm, "place")) "place" else "field_group"
  pop <- c(pop, m$total[m$variable == var & m$category == sub(paste0("^", var), "", nm)])
}
names(pop) <- mm
cal <- calibrate(des, ~place + field_group, pop, calfun = "raking", epsilon = 1e-12, maxit = 100)
rows <- list()
for (it in items) {
  f <- as.formula(paste0("~s_", it))
  sub <- cal[cal$variables[[paste0("v_", it)]], ]
  mn <- svymean(f, sub)
  p <- unname(coef(mn)); se <- unname(SE(mn)); df <- degf(sub)
  ci <- as.vector(attr(svyciprop(f, sub, method = "logit"), "ci"))
  rows[[length(rows) + 1]] <- data.frame(domain_var = "all", domain = "all", indicator = it,
    estimate = p, se = se, ci_low = ci[1], ci_high = ci[2], df = df, n = sum(weights(sub) != 0))
  for (g in levels(d$field_group)) {
    sg <- cal[cal$variables[[paste0("v_", it)]] & cal$variables$field_group == g, ]
    mn <- svymean(f, sg)
    p <- unname(coef(mn)); se <- unname(SE(mn)); df <- degf(sg)
    q <- qt(0.975, df)
    rows[[length(rows) + 1]] <- data.frame(domain_var = "field_group", domain = g, indicator = it,
      estimate = p, se = se, ci_low = plogis(qlogis(p) - q * se / (p * (1 - p))),
      ci_high = plogis(qlogis(p) + q * se / (p * (1 - p))), df = df, n = sum(weights(sg) != 0))
  }
}
t2 <- proc.time()[["elapsed"]]
write.csv(do.call(rbind, rows), out, row.names = FALSE)
writeLines(sprintf('{"read": %.3f, "compute": %.3f}', t1 - t0, t2 - t1), file.path(folder, "r_result.json"))
