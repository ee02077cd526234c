#!/usr/bin/env bash
# Builds the real control plane used by the e2e tests (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok) and Prometheus from their Go
# modules, and caches them outside the repo, keyed by version.
# Prints the bin directory on the last line of stdout.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.36.3}
ETCD_VERSION=${ETCD_VERSION:-3.6.16}
KWOK_VERSION=${KWOK_VERSION:-0.8.0}
PROM_MODULE_VERSION=${PROM_MODULE_VERSION:-0.316.0}
ISTIO_API_VERSION=${ISTIO_API_VERSION:-1.31.4}
GATEWAY_API_VERSION=${GATEWAY_API_VERSION:-1.6.3}
PROMETHEUS_OPERATOR_VERSION=${PROMETHEUS_OPERATOR_VERSION:-0.85.0}
HELM_VERSION=${HELM_VERSION:-4.3.2}
ARGOCD_VERSION=${ARGOCD_VERSION:-3.5.7}
# argo-cd replaces its in-repo gitops-engine module by ./gitops-engine; the pseudo-version
# v3.5.x names is not served by the module proxy, so the wrapper pins a published one.
GITOPS_ENGINE_VERSION=${GITOPS_ENGINE_VERSION:-v0.0.0-20260914071520-c9c369efcc5b}

if ! command -v go >/dev/null 2>&1; then
  echo "build-binaries: Go is not installed. Install Go >= 1.25 (https://go.dev/doc/install or 'apt-get install golang') and run again." >&2
  exit 1
fi

key="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_prom-${PROM_MODULE_VERSION}"
root="${AVIARY_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aviary-testenv}"
out="$root/$key"
bin="$out/bin"
mkdir -p "$bin"
log() { echo "build-binaries: $*" >&2; }
# One build at a time per cache (several checkouts or worktrees may start one at once).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$root/.build.lock"
  flock 9
fi

# Everything the go command writes stays outside the repo.
export GOFLAGS="${GOFLAGS:-} -mod=mod"
export CGO_ENABLED=0

build_kube() {
  [[ -x "$bin/kube-apiserver" && -x "$bin/kube-controller-manager" && -x "$bin/kube-scheduler" ]] && return 0
  log "building kubernetes v${K8S_VERSION} (first run only; several minutes)"
  local mod="$out/src/kube"
  mkdir -p "$mod"
  # k8s.io/kubernetes has replace directives pointing at ./staging, so it cannot be
  # `go install`ed. A wrapper module replaces each staging module by its published version.
  local staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go
    cloud-provider cluster-bootstrap code-generator component-base component-helpers
    controller-manager cri-api cri-client cri-streaming csi-translation-lib
    dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator
    kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics mount-utils
    pod-security-admission sample-apiserver streaming)
  local minor="${K8S_VERSION#*.}"
  {
    echo "module aviary.dev/testenv/kube"
    echo
    echo "go 1.25"
    echo
    echo "require k8s.io/kubernetes v${K8S_VERSION}"
    echo
    echo "replace ("
    for m in "${staging[@]}"; do echo "	k8s.io/$m => k8s.io/$m v0.${minor}"; done
    echo ")"
  } >"$mod/go.mod"
  cat >"$mod/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
  (
    cd "$mod"
    go mod tidy -e >&2 2>&1 || go get k8s.io/kubernetes@v${K8S_VERSION} >&2
    local ld="-s -w"
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ld="$ld -X $p.gitVersion=v${K8S_VERSION} -X $p.gitMajor=1 -X $p.gitMinor=${minor%%.*} -X $p.gitTreeState=clean"
    done
    go build -tags tools -ldflags "$ld" -o "$bin/" \
      k8s.io/kubernetes/cmd/kube-apiserver \
      k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler >&2
  )
}

build_etcd() {
  [[ -x "$bin/etcd" ]] && return 0
  log "building etcd v${ETCD_VERSION}"
  local mod="$out/src/etcd"
  mkdir -p "$mod"
  printf 'module aviary.dev/testenv/etcd\n\ngo 1.25\n\nrequire go.etcd.io/etcd/server/v3 v%s\n' "$ETCD_VERSION" >"$mod/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >"$mod/tools.go"
  (cd "$mod" && go mod tidy >&2 && go build -tags tools -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3 >&2)
}

build_kwok() {
  [[ -x "$bin/kwok" ]] && return 0
  log "building kwok v${KWOK_VERSION}"
  GOBIN="$bin" go install -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v${KWOK_VERSION}" >&2
}

build_prometheus() {
  [[ -x "$bin/prometheus" ]] && return 0
  log "building prometheus (module v${PROM_MODULE_VERSION})"
  local mod="$out/src/prometheus"
  mkdir -p "$mod"
  printf 'module aviary.dev/testenv/prometheus\n\ngo 1.25\n\nrequire github.com/prometheus/prometheus v%s\n' "$PROM_MODULE_VERSION" >"$mod/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/prometheus/prometheus/cmd/prometheus"\n' >"$mod/tools.go"
  (cd "$mod" && go mod tidy >&2 && go build -tags tools -ldflags "-s -w" -o "$bin/prometheus" github.com/prometheus/prometheus/cmd/prometheus >&2)
}

# CRDs and kwok stage files come from the modules' source, via the module cache.
fetch_assets() {
  local assets="$out/assets"
  local wanted=(istio-crds.yaml gateway-httproutes.yaml kwok-node-initialize.yaml kwok-pod-ready.yaml
    kwok-pod-complete.yaml kwok-pod-delete.yaml servicemonitors.yaml)
  local missing=0 f
  for f in "${wanted[@]}"; do [[ -f "$assets/$f" ]] || missing=1; done
  [[ $missing == 0 ]] && return 0
  mkdir -p "$assets"
  local dir
  dir=$(go mod download -json "istio.io/api@v${ISTIO_API_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  cp -f "$dir/kubernetes/customresourcedefinitions.gen.yaml" "$assets/istio-crds.yaml"
  dir=$(go mod download -json "sigs.k8s.io/gateway-api@v${GATEWAY_API_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  cp -f "$dir/config/crd/standard/gateway.networking.k8s.io_httproutes.yaml" "$assets/gateway-httproutes.yaml"
  for f in gatewayclasses gateways grpcroutes referencegrants; do
    if [[ -f "$dir/config/crd/standard/gateway.networking.k8s.io_$f.yaml" ]]; then
      cp -f "$dir/config/crd/standard/gateway.networking.k8s.io_$f.yaml" "$assets/gateway-$f.yaml"
    fi
  done
  dir=$(go mod download -json "sigs.k8s.io/kwok@v${KWOK_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  cp -f "$dir/kustomize/stage/node/fast/node-initialize.yaml" "$assets/kwok-node-initialize.yaml"
  # Ready pods, completed Jobs, and deletion (no kubelet removes a deleted Pod otherwise).
  for f in pod-ready pod-complete pod-delete; do
    cp -f "$dir/kustomize/stage/pod/fast/$f.yaml" "$assets/kwok-$f.yaml"
  done
  # The ServiceMonitor CRD, so the chart's optional ServiceMonitor is checked by the API server.
  dir=$(go mod download -json "github.com/prometheus-operator/prometheus-operator@v${PROMETHEUS_OPERATOR_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  cp -f "$dir/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" "$assets/servicemonitors.yaml"
  chmod u+w "$assets"/*.yaml
}

# Test tools beside the cluster, each in a directory keyed by its version (and, for our own
# Go program, by the hash of its source), so a version bump builds anew and nothing else does.
tools="$root/tools"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

build_helm() {
  local dir="$tools/helm-v${HELM_VERSION}"
  [[ -x "$dir/helm" ]] && return 0
  log "building helm v${HELM_VERSION}"
  mkdir -p "$dir"
  GOBIN="$dir" go install -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=v${HELM_VERSION}" \
    "helm.sh/helm/v4/cmd/helm@v${HELM_VERSION}" >&2
}

# test/harness/argocd-lua/main.go on Argo CD's util/lua. argo-cd has replace directives (like
# k8s.io/kubernetes), so a wrapper module carries them: the k8s.io staging modules at the
# version the cluster uses (their compiled packages are then shared with its build).
build_argocd_lua() {
  local src="$here/argocd-lua/main.go" hash
  hash=$(sha256sum "$src" | cut -c1-12)
  local dir="$tools/argocd-lua-v${ARGOCD_VERSION}-${hash}"
  [[ -x "$dir/argocd-lua" ]] && return 0
  log "building argocd-lua on argo-cd v${ARGOCD_VERSION} (first run only; a few minutes)"
  local mod="$tools/src/argocd-lua"
  rm -rf "$mod" && mkdir -p "$mod" "$dir"
  cp "$src" "$mod/main.go"
  local minor="${K8S_VERSION#*.}"
  {
    echo "module aviary.dev/testenv/argocdlua"
    echo
    echo "go 1.26"
    echo
    echo "require github.com/argoproj/argo-cd/v3 v${ARGOCD_VERSION}"
    echo
    echo "replace ("
    echo "	github.com/argoproj/argo-cd/gitops-engine => github.com/argoproj/argo-cd/gitops-engine ${GITOPS_ENGINE_VERSION}"
    # argo-cd's own pins of libraries whose newer versions break its generated code.
    echo "	github.com/golang/protobuf => github.com/golang/protobuf v1.5.4"
    echo "	github.com/grpc-ecosystem/grpc-gateway => github.com/grpc-ecosystem/grpc-gateway v1.16.0"
    for m in api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider \
      cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api \
      cri-client cri-streaming csi-translation-lib dynamic-resource-allocation endpointslice externaljwt \
      kms kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics \
      mount-utils pod-security-admission sample-apiserver streaming; do
      echo "	k8s.io/$m => k8s.io/$m v0.${minor}"
    done
    echo ")"
  } >"$mod/go.mod"
  (cd "$mod" && go mod tidy >&2 && go build -ldflags "-s -w" -o "$dir/argocd-lua" . >&2)
}

start=$(date +%s)
fetch_assets
build_etcd
build_kwok
build_kube
build_helm
build_argocd_lua
# Prometheus is optional here: without it the harness uses Debian's prometheus package,
# which .ci/run installs when this build fails.
build_prometheus || log "WARNING: prometheus did not build; install Debian's package instead: apt-get install prometheus"
log "binaries ready in $(( $(date +%s) - start ))s"
echo "$out"
