#!/usr/bin/env bash
# Builds the Kubernetes binaries the testbed runs (kube-apiserver, kubectl, and for its real
# node kubelet, kube-scheduler, kube-controller-manager, kube-proxy), etcd and
# metrics-server from the Go module proxy into $SLUICE_BIN.
# k8s.io/kubernetes pins its staging modules at v0.0.0, so a wrapper module requires
# it and replaces each staging module with its published v0.X.Y twin.
source "$(dirname "$0")/lib.sh"
K8S_VERSION="${K8S_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
METRICS_SERVER_VERSION="${METRICS_SERVER_VERSION:-v0.8.0}"
K8S_CMDS="kube-apiserver kubectl kubelet kube-scheduler kube-controller-manager kube-proxy"
STAGING="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms
kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller"

stamp="$SLUICE_BIN/.k8s-$K8S_VERSION-etcd-$ETCD_VERSION-ms-$METRICS_SERVER_VERSION"
built() { for b in $K8S_CMDS etcd metrics-server; do [[ -x "$SLUICE_BIN/$b" ]] || return 1; done; }
if [[ -f "$stamp" ]] && built; then
  log "Kubernetes $K8S_VERSION, etcd $ETCD_VERSION and metrics-server $METRICS_SERVER_VERSION already built"
  exit 0
fi
export GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0
work="$SLUICE_CACHE/src/k8s-$K8S_VERSION"
mkdir -p "$work"
staging_v="v0.${K8S_VERSION#v1.}"
{
  echo "module sluice.dev/k8s-wrapper"
  echo "go 1.24.0"
  echo "require k8s.io/kubernetes $K8S_VERSION"
  for m in $STAGING; do echo "replace k8s.io/$m => k8s.io/$m $staging_v"; done
} >"$work/go.mod"
# A blank import keeps the requirement without tidying (tidy would fail on the wrapper).
printf 'package wrapper\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver/app"\n' >"$work/wrapper.go"
minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitTreeState=clean"
log "building $K8S_CMDS $K8S_VERSION (first time: tens of minutes)"
pkgs=(); for c in $K8S_CMDS; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
(cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$SLUICE_BIN/" "${pkgs[@]}")

ework="$SLUICE_CACHE/src/etcd-$ETCD_VERSION"
mkdir -p "$ework"
printf 'module sluice.dev/etcd-wrapper\n\ngo 1.24.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" >"$ework/go.mod"
printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' >"$ework/main.go"
log "building etcd $ETCD_VERSION"
(cd "$ework" && go build -trimpath -ldflags "-s -w" -o "$SLUICE_BIN/etcd" .)
# metrics-server serves the resource metrics API the collector's CPU HorizontalPodAutoscaler
# reads. It runs on the host next to the API server (no image needed), scraping the kubelet.
mwork="$SLUICE_CACHE/src/metrics-server-$METRICS_SERVER_VERSION"
mkdir -p "$mwork"
printf 'module sluice.dev/metrics-server-wrapper\n\ngo 1.24.0\n\nrequire sigs.k8s.io/metrics-server %s\n' "$METRICS_SERVER_VERSION" >"$mwork/go.mod"
printf 'package wrapper\n\nimport _ "sigs.k8s.io/metrics-server/cmd/metrics-server/app"\n' >"$mwork/wrapper.go"
log "building metrics-server $METRICS_SERVER_VERSION"
(cd "$mwork" && go build -trimpath -ldflags "-s -w" -o "$SLUICE_BIN/metrics-server" sigs.k8s.io/metrics-server/cmd/metrics-server)
touch "$stamp"
log "built $(ls "$SLUICE_BIN")"
