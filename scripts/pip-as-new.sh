# Sourced by scripts/fresh-check and scripts/drift-check: pip as on a new machine, where
# packages come from PyPI alone: no pip cache, no configuration file, no local indexes,
# find-links or constraints from the environment.
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_CONSTRAINT PIP_REQUIRE_VIRTUALENV
export PIP_CONFIG_FILE=/dev/null PIP_NO_CACHE_DIR=1
