"""The ``ieval`` command line: a thin face over functions callable from Python."""
