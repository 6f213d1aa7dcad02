"""The package version, in a leaf module anything may import (exporters name it).

It must equal package.json's "version", from which the wheel's version is built
(hatch-nodejs-version): tests/test_house.py checks that they agree.
"""

__version__ = "0.1.0"
