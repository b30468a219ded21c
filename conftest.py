"""Loaded by every pytest run in this repository, `pytest --nbmake chapters` included.

Installs issue #10's nbclient fix and stall guard (`explainer.execution`) before
any notebook is executed.
"""

from explainer.execution import install

install()
