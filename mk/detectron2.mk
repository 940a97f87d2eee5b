# Detectron2 and torch for the inference job (and its tests): `.[detectron2]` from pyproject
# (torch, torchvision and Detectron2's pure-Python deps), then the re-tagged Detectron2 wheel.
# torch's wheels come from this machine's wheelhouse once downloaded (scripts/torch-wheelhouse.sh).
.PHONY: deps-detectron2

$(VENV)/.deps-detectron2: pyproject.toml scripts/install-detectron2.sh $(VENV)/.deps-run
	$(PIP) install -q --find-links "$$(scripts/torch-wheelhouse.sh $(VPY))" -e ".[detectron2]"
	scripts/install-detectron2.sh --python $(VPY) --no-deps
	touch $@

deps-detectron2: $(VENV)/.deps-detectron2

test-prereqs:: deps-detectron2
