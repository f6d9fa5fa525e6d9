# omnimask-batch worker image: Beam's custom SDK container for the Go SDK,
# with GDAL and ONNX Runtime, installed the way `make deps` installs them on
# a fresh Debian machine. Runners start /opt/apache/beam/boot, which runs the
# staged worker binary (omnimask-batch itself; see README "Batches on a
# cluster"). Build from the repository root:
#
#   docker build -t REGISTRY/omnimask-batch:TAG .
#
# The driver should run from the same image, so that the worker binary it
# stages links against this image's GDAL and ONNX Runtime.
ARG BEAM_VERSION=2.77.0
FROM apache/beam_go_sdk:${BEAM_VERSION} AS beam

FROM debian:bookworm
ARG GO_VERSION=1.26.8
# What scripts/deps.sh expects on a fresh machine: root with apt-get (this
# image), make, npm (to fetch ONNX Runtime) and Go.
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends ca-certificates curl make npm \
 && rm -rf /var/lib/apt/lists/*
RUN curl -fsSL "https://go.dev/dl/go${GO_VERSION}.linux-amd64.tar.gz" | tar -C /usr/local -xz
ENV PATH=/usr/local/go/bin:$PATH
WORKDIR /src/omnimask
COPY . .
# 1. system packages (GDAL, pkg-config, g++), 2. ONNX Runtime, 3. Go modules.
RUN make deps
RUN make build \
 && install -m 0755 bin/omnimask bin/omnimask-batch /usr/local/bin/ \
 && install -m 0644 third_party/onnxruntime/libonnxruntime.so.1 /usr/local/lib/ \
 && ldconfig \
 && rm -rf /root/.cache/go-build
ENV ONNXRUNTIME_LIB=/usr/local/lib/libonnxruntime.so.1
COPY --from=beam /opt/apache/beam /opt/apache/beam
WORKDIR /
ENTRYPOINT ["/opt/apache/beam/boot"]
