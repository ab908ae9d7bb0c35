"""The Hydra configs, shipped as package data (see nas.paths): a package only so that an editable
install maps it, as a wheel installs it, to ``nas.conf``."""
