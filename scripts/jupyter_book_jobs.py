"""``jupyter-book`` with Sphinx's parallel reading: the chapters are executed a few at a time.

Jupyter Book 1's ``build_sphinx`` takes a ``jobs`` argument, but its command line has no
option for it and always builds with one process, so the book's 17 notebooks were executed
one after another. This runs the same command line with ``jobs`` set::

    python scripts/jupyter_book_jobs.py JOBS build . -W -n --keep-going

The HTML is the same as a serial build's (compared file by file). Measured on the 2-core
machine, full build: serial 67 s, 2 jobs 57 s, 3 jobs 41 s, 4 jobs 47 s (a job is a Sphinx
worker process; while its notebook's kernel computes, it mostly waits). Every extension the
book loads must declare itself safe for parallel reading, or Sphinx reads serially and warns
(``explainer.book`` marks the two Jupyter Book extensions that do not declare it).
"""

from __future__ import annotations

import functools
import sys

import jupyter_book.sphinx
import sphinx.util.parallel

_join_one = sphinx.util.parallel.ParallelTasks._join_one


def _join_one_saying_why(self) -> bool:
    """Sphinx's ``_join_one``, but a worker's failure is printed in full.

    When a chapter fails in a worker process (a cell raises), Sphinx raises
    ``SphinxParallelError`` carrying only the exception's first line, "ExecutionError:
    <notebook>", and drops the worker's log; the traceback, with the failing cell and its
    error, is in the error's ``traceback``. A serial build prints it; so does this.
    """
    try:
        return _join_one(self)
    except sphinx.util.parallel.SphinxParallelError as err:
        print(f"A chapter failed in a parallel build worker:\n{err.traceback}", file=sys.stderr)
        raise


def main(argv: list[str]) -> int:
    if not argv or not argv[0].isdigit() or int(argv[0]) < 1:
        print(__doc__, file=sys.stderr)
        print(f"JOBS must be a whole number of processes, 1 or more; got {argv[:1]}", file=sys.stderr)
        return 2
    jobs = int(argv[0])
    jupyter_book.sphinx.build_sphinx = functools.partial(jupyter_book.sphinx.build_sphinx, jobs=jobs)
    sphinx.util.parallel.ParallelTasks._join_one = _join_one_saying_why
    from jupyter_book.cli.main import main as jupyter_book_main  # imports build_sphinx when run

    return jupyter_book_main(args=argv[1:], prog_name="jupyter-book")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
