"""covgate: a coverage gate with a threshold for each class of code."""

__version__ = "0.1.0"
