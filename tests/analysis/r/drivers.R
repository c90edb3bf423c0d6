# Reference for analysis.drivers.fit_drivers: svyglm(quasibinomial) with design-based SEs.
# Regenerate from the repository root:  Rscript tests/analysis/r/drivers.R
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "adjust")
dir <- file.path("tests", "analysis", "data")
d <- read.csv(file.path(dir, "responses.csv"), stringsAsFactors = FALSE, colClasses = c(psu = "character"))
elements <- list(A = c("A1", "A2", "A3"), B = c("B1", "B2", "B3", "B4"), C = c("C1", "C2", "C3"),
                 D = c("D1", "D2", "D3"), E = c("E1", "E2", "E3"))
for (e in names(elements)) {
  x <- as.matrix(d[, elements[[e]]])
  valid <- !is.na(x) & x %in% 1:5
  dim(valid) <- dim(x)
  nv <- rowSums(valid)
  d[[paste0("score_", e)]] <- ifelse(nv > 0, rowSums(valid & x >= 4, na.rm = TRUE) / pmax(nv, 1), NA)
}
des <- svydesign(ids = ~psu, strata = ~stratum, fpc = ~fpc, weights = ~w, data = d, nest = TRUE)
m <- read.csv(file.path(dir, "margins_rake.csv"), stringsAsFactors = FALSE)
d$field_group <- factor(d$field_group); d$age <- factor(d$age)
des <- svydesign(ids = ~psu, strata = ~stratum, fpc = ~fpc, weights = ~w, data = d, nest = TRUE)
mm <- colnames(model.matrix(~field_group + age, d))
pop <- sum(m$total[m$variable == "field_group"])
for (nm in mm[-1]) {
  var <- if (startsWith(nm, "field_group")) "field_group" else "age"
  pop <- c(pop, m$total[m$variable == var & m$category == sub(paste0("^", var), "", nm)])
}
names(pop) <- mm
cal <- calibrate(des, ~field_group + age, pop, calfun = "raking", epsilon = 1e-12, maxit = 100)
out <- list()
for (nm in c("d1", "cal")) {
  ds <- if (nm == "d1") des else cal
  f <- svyglm(satisfied_overall ~ score_A + score_B + score_C + score_D + score_E + channel + age,
              design = ds, family = quasibinomial(), control = glm.control(epsilon = 1e-12, maxit = 100))
  out[[nm]] <- data.frame(case = nm, term = names(coef(f)), coef = unname(coef(f)),
                          se = unname(SE(f)), df = f$df.residual)
}
write.csv(do.call(rbind, out), file.path(dir, "reference_drivers.csv"), row.names = FALSE)
