"""gitlib: a package of the requirements corpus."""

VERSION = "1.0.0"
