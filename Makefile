# omnimask — see README.md. `make demo` and `make test` work on a fresh machine.
GO       ?= go
BIN      := bin/omnimask
OUT      := out
SHARED   ?= ../shared/data
PYTHON   ?= /usr/bin/python3
BENCHTIME ?= 50x

.PHONY: all deps build demo test lint bench eval int8 testmodels train-model train-model-v1 dl-l8s2-uv embed-model probe-demo clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	$(GO) build -o $(BIN) ./cmd/omnimask
	$(GO) build -o $(BIN)-batch ./cmd/omnimask-batch

# The main job on the embedded default model: a synthetic scene (always) and
# real scenes from $(SHARED) when present.
demo: build
	@mkdir -p $(OUT)/demo
	$(GO) run ./tools/synthscene -size 1536 -o $(OUT)/demo/synthetic.tif -truth $(OUT)/demo/synthetic_truth.tif
	./$(BIN) version
	./$(BIN) info $(OUT)/demo/synthetic.tif
	./$(BIN) predict $(OUT)/demo/synthetic.tif --output-dir $(OUT)/demo --preview $(OUT)/demo/synthetic.png --confidence uint8
	@if [ -d $(SHARED)/scenes ]; then \
	  ./$(BIN) predict $(SHARED)/scenes/landsat8-sr/lc08_232066_20190727.tif $(SHARED)/scenes/naip-5m/naip_2020.tif \
	    --output-dir $(OUT)/demo --preview $(OUT)/demo; \
	fi
	@if [ -d $(SHARED)/water/s2-surface-water ]; then \
	  ./$(BIN) predict $(SHARED)/water/s2-surface-water/S2A_20190817_image.tif --product water \
	    -o $(OUT)/demo/S2A_20190817_water.tif --preview $(OUT)/demo/S2A_20190817_water.png; \
	fi
	@echo "demo: masks and previews in $(OUT)/demo"

# vet, staticcheck (pinned in go.mod as a tool, checked by go.sum) and the race-enabled
# test suite (plus the three omnimask-batch tests that stop a Beam job
# mid-bundle, run without -race: Beam v2.77 races there). Tests that need ../shared/data or python3-torch skip without them.
test: deps lint
	$(GO) test -race -count=1 -timeout 20m ./...
	$(GO) test -count=1 -run 'TestResumeAfterCancel|TestRetry' ./cmd/omnimask-batch/

lint: deps
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

bench: deps
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -benchmem ./preprocess/ ./tiling/ ./stitch/ ./internal/synth/
	$(GO) test -run '^$$' -bench 'Sanitize' -benchtime $(BENCHTIME) ./engine/
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./bench/

eval: build
	@if [ -d $(SHARED)/cloud ]; then \
	  for f in eval/runs/*.json eval/runs/*.yaml; do ./$(BIN) eval $$f --data $(SHARED) --scales 1,2 --out $(OUT)/eval/$$(basename $${f%.*}) || exit 1; done; \
	else echo "eval: $(SHARED) not found, nothing to evaluate"; fi

# Regenerate the tiny test networks (needs Debian python3-onnx).
testmodels:
	$(PYTHON) testdata/models/gen.py

# IPL-UV's DL-L8S2-UV cloud U-Nets (MIT) converted to ONNX with manifests into
# $(OUT)/models (git-ignored), checked against a numpy reference forward pass
# (needs Debian python3-h5py, python3-onnx; weights from $(PRETRAINED)).
PRETRAINED ?= ../shared/pretrained
dl-l8s2-uv: deps
	$(PYTHON) models/thirdparty/dl-l8s2-uv/convert.py --weights $(PRETRAINED) --out $(OUT)/models
	$(GO) run ./tools/parity $(OUT)/models/dl-l8s2-uv-*.parity.json

# Rebuild the shipped default omnicloud 2.0.0 (models/README.md "Run 5" and
# "Run 6"; needs python3-torch, python3-torchvision, python3-onnx,
# python3-rasterio; weights from $(PRETRAINED)): pack the development data,
# stage 1 = recipe C (MobileNetV2 U-Net from ImageNet, all data, batch 24)
# for STAGE1_ITERS iterations, stage 2 = run 6's fine-tune (frozen encoder,
# compositing, shadow Dice 1.0, batch 8) for STAGE2_ITERS, export ONNX +
# TorchScript + a parity case, checked with tools/parity. The defaults are
# the shipped budgets. On CUDA when torch sees a GPU, else CPU. Time on one
# CPU thread (2-core machine): stage 1 about 5.3 s CPU per iteration, ~2.7 h;
# stage 2 1.76 s CPU per iteration, ~47 min (~65 min wall when shared); on
# an H200 stage 1 took 130 s (sharing the GPU with five fold trainings),
# stage 2 was not timed on a GPU. Resumable: checkpoints every 4 min in
# TRAIN_DIR; rerun the same command to continue. Writes TRAIN_DIR only; to
# replace the built-in default ask for it: make train-model
# MODEL_DIR=models/builtin (then make int8 for the int8 variant).
TRAIN_DIR     ?= $(OUT)/train-model
MODEL_DIR     ?= $(TRAIN_DIR)
STAGE1_ITERS  ?= 1808
STAGE2_ITERS  ?= 1587
TRAIN_THREADS ?= 1
train-model: deps
	$(PYTHON) models/train/train_default.py --data $(SHARED) \
	  --pretrained $(PRETRAINED)/mobilenet_v2_imagenet_torchvision.pth --run $(TRAIN_DIR) \
	  --model-dir $(MODEL_DIR) --stage1-iters $(STAGE1_ITERS) --stage2-iters $(STAGE2_ITERS) \
	  --threads $(TRAIN_THREADS)
	$(GO) run ./tools/parity $(TRAIN_DIR)/parity/omnicloud.parity.json

# The version-1 recipe (omnicloud-v1, built in beside the default: from-scratch
# CloudUNet, val selection, logit biases; needs python3-torch, python3-onnx,
# python3-rasterio; 900 iterations, about 50 min on 2 CPU cores). Writes
# $(OUT)/train-model-v1/omnicloud-v1.onnx (manifest omnicloud-rgn 1.0.0, as
# shipped) and its TorchScript copy; checkpoints in $(OUT)/train-model-v1/ckpt.
# Not resumable. TRAIN_V1_ARGS adds train.py options (the shipped v1 stopped
# at 708 of 900 iterations on a 38 min budget: TRAIN_V1_ARGS=--max-minutes=38).
TRAIN_V1_DIR  ?= $(OUT)/train-model-v1
TRAIN_V1_ARGS ?=
train-model-v1:
	$(PYTHON) models/train/train.py --data $(SHARED) --out $(TRAIN_V1_DIR) --onnx-name omnicloud-v1.onnx \
	  --torchscript $(TRAIN_V1_DIR)/omnicloud-v1.torchscript.pt --ckpt $(TRAIN_V1_DIR)/ckpt $(TRAIN_V1_ARGS)

# Int8 (QDQ) variant of the default model, calibrated on real patches from
# $(SHARED) through the engine's own normalisation and ONNX Runtime.
int8: deps
	$(PYTHON) models/train/quantize.py augment models/builtin/omnicloud.onnx $(OUT)/int8-aug.onnx
	$(GO) run ./tools/calibrate -model $(OUT)/int8-aug.onnx -data $(SHARED) -out $(OUT)/int8-ranges.json
	$(PYTHON) models/train/quantize.py apply models/builtin/omnicloud.onnx $(OUT)/int8-ranges.json models/builtin/omnicloud_int8.onnx

# Built-in embedding encoder mobilenetv2-imagenet from the ImageNet weights in
# $(PRETRAINED) (needs Debian python3-torch, python3-torchvision, python3-onnx).
embed-model:
	$(PYTHON) models/train/export_embed.py --weights $(PRETRAINED)/mobilenet_v2_imagenet_torchvision.pth

# Embeddings demonstration: the L8 Biome patches embedded with the built-in
# encoder, leave-one-patch-out biome and cloud/clear probes vs raw band
# statistics (README "Embeddings"; about a minute on 2 vCPUs; PROBE_MODE=dense
# embeds each whole patch and takes its 32 px feature cells).
PROBE_MODE ?= chips
probe-demo: deps
	@if [ -d $(SHARED)/cloud/l8biome ]; then $(GO) run ./tools/biomeprobe -data $(SHARED)/cloud/l8biome -mode $(PROBE_MODE); \
	else echo "probe-demo: $(SHARED)/cloud/l8biome not found, nothing to do"; fi

# embed --mode chips against raw ONNX Runtime on the same batches (README
# "Embeddings"): makes the 5490² synthetic scene once, then alternates
# EMBED_BENCH_PAIRS engine/raw pairs and logs medians and the load average.
EMBED_BENCH_SCENE ?= /tmp/omnimask-embed-bench-5490.tif
EMBED_BENCH_PAIRS ?= 3
.PHONY: embed-bench
embed-bench: deps
	@[ -f $(EMBED_BENCH_SCENE) ] || $(GO) run ./tools/synthscene -size 5490 -o $(EMBED_BENCH_SCENE)
	GDAL_CACHEMAX=64 OMNIMASK_EMBED_BENCH=$(EMBED_BENCH_SCENE) OMNIMASK_EMBED_BENCH_PAIRS=$(EMBED_BENCH_PAIRS) $(GO) test ./embed -run '^TestChipsSpeed$$' -v -count=1 -timeout 30m

clean:
	rm -rf bin $(OUT)
