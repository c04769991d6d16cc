"""A pure-Python package the `features` component bundles."""

GREETING = "hello from tinydep"
