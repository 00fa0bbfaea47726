#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd from the Go module proxy into $SLUICE_BIN.
# k8s.io/kubernetes pins its staging modules at v0.0.0, so a wrapper module requires
# it and replaces each staging module with its published v0.X.Y twin.
source "$(dirname "$0")/lib.sh"
K8S_VERSION="${K8S_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
STAGING="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms
kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller"

stamp="$SLUICE_BIN/.k8s-$K8S_VERSION-etcd-$ETCD_VERSION"
if [[ -f "$stamp" && -x "$SLUICE_BIN/kube-apiserver" && -x "$SLUICE_BIN/kubectl" && -x "$SLUICE_BIN/etcd" ]]; then
  log "kube-apiserver, kubectl and etcd $K8S_VERSION/$ETCD_VERSION already built"
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
log "building kube-apiserver and kubectl $K8S_VERSION (first time: tens of minutes)"
(cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$SLUICE_BIN/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl)

ework="$SLUICE_CACHE/src/etcd-$ETCD_VERSION"
mkdir -p "$ework"
printf 'module sluice.dev/etcd-wrapper\n\ngo 1.24.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" >"$ework/go.mod"
printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' >"$ework/main.go"
log "building etcd $ETCD_VERSION"
(cd "$ework" && go build -trimpath -ldflags "-s -w" -o "$SLUICE_BIN/etcd" .)
touch "$stamp"
log "built $(ls "$SLUICE_BIN")"
