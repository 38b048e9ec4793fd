# Developer shortcuts. CI runs `python3 -m pytest`; `mutation` is opt-in, never in CI.
PYTHON ?= python3
MUTMUT ?= mutmut

.PHONY: test bench mutation mutation-summary

test:
	$(PYTHON) -m pytest

bench:
	$(PYTHON) -m benchmarks

# Mutation testing of microtensor/{ops,autograd,backend}.py: configured in
# [tool.mutmut] of pyproject.toml; install with `pip install -e ".[mutation]"`.
# Works in mutants/ (gitignored); a re-run retests only the functions changed since.
# Inspect a survivor with `mutmut show NAME`, or browse them all with `mutmut browse`.
mutation:
	$(MUTMUT) run
	@$(MAKE) --no-print-directory mutation-summary

# Per-file counts of the last run ("other": segfault, skipped, not checked yet), then
# every mutant that was not killed.
mutation-summary:
	@$(MUTMUT) results --all true | awk -F': ' ' \
	  function row(name, k, s, t, x, q, total) { \
	    printf "%-22s %7d %8d %8d %8d %10d %6d %7d   %5.1f%%\n", name, k, s, t, x, q, \
	      total - k - s - t - x - q, total, total ? 100 * k / total : 0 } \
	  { f = $$1; sub(/^ +/, "", f); sub(/\.x(_|ǁ).*/, "", f); \
	    n[f]++; c[f, $$2]++; N++; C[$$2]++ } \
	  END { printf "%-22s %7s %8s %8s %8s %10s %6s %7s   %6s\n", "module", "killed", \
	          "survived", "no tests", "timeout", "suspicious", "other", "total", "killed"; \
	        for (f in n) row(f, c[f, "killed"], c[f, "survived"], c[f, "no tests"], \
	                         c[f, "timeout"], c[f, "suspicious"], n[f]); \
	        row("all", C["killed"], C["survived"], C["no tests"], C["timeout"], \
	            C["suspicious"], N) }'
	@echo
	@$(MUTMUT) results
