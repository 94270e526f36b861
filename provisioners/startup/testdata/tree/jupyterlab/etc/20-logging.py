"""Stock IPython logging profile (test fixture)."""
import logging
logging.getLogger("lsst").setLevel(logging.INFO)
