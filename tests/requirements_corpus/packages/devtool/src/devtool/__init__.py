"""devtool: a package of the requirements corpus."""

VERSION = "0.1.0"
