"""mylib: a package of the requirements corpus."""

VERSION = "0.3.0"
