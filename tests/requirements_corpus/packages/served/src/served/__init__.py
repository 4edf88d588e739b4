"""served: a package of the requirements corpus."""

VERSION = "2.0.0"
