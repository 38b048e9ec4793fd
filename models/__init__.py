"""Models and experiments of the reports in shared/seeds, written as microtensor
expressions. Depends on microtensor; microtensor never imports this package."""
