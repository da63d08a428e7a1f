# The two set-up commands of README.md live here.
#   make fashion-ablation   run the paper's headline study on Fashion-MNIST
#   make test               run the test suite
GO ?= go
BIN := bin/repro
FASHION_DIR ?= /usr/share/datasets/fashion-mnist

.PHONY: build test fashion-ablation data-fashion-mnist bench fuzz clean

build:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/repro

test:
	$(GO) vet ./...
	$(GO) test ./...

data-fashion-mnist:
	@scripts/ensure-fashion-mnist.sh "$(FASHION_DIR)"

fashion-ablation: build data-fashion-mnist
	$(BIN) run fashion-ablation --data-dir "$(FASHION_DIR)"

bench: build
	$(BIN) bench

# fuzz runs every fuzz target for FUZZTIME each (their seed corpora already
# run in 'make test').
FUZZTIME ?= 20s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzIDX$$' -fuzztime $(FUZZTIME) ./datasets
	$(GO) test -run '^$$' -fuzz '^FuzzCIFARBinary$$' -fuzztime $(FUZZTIME) ./datasets
	$(GO) test -run '^$$' -fuzz '^FuzzParseConfig$$' -fuzztime $(FUZZTIME) ./optimizers
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeSafetensors$$' -fuzztime $(FUZZTIME) ./experiments
	$(GO) test -run '^$$' -fuzz '^FuzzReadRun$$' -fuzztime $(FUZZTIME) ./results

clean:
	rm -rf bin
