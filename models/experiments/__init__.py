"""Experiments built on the networks, data sets and training of models/: `sweep` (many
independent runs from a TOML file, on all cores or a Dask cluster) and `reproduce` (the
five reports' experiments, each number beside the report's). Their commands are
`microtensor sweep` and `microtensor reproduce` (models.cli)."""
