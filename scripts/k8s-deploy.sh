#!/usr/bin/env bash
# Deploys one image (by digest) with an overlay: the migration Job first (waited for), then the
# Deployments, then waits for their rollout. A failed rollout is undone (kubectl rollout undo).
#   scripts/k8s-deploy.sh deploy/k8s/overlays/production ghcr.io/owner/kith@sha256:… [--skip-migrate]
set -euo pipefail
overlay=$1
image=$2
skip_migrate=${3:-}
ns=${KITH_NAMESPACE:-kith}
[[ "$image" == *@sha256:* ]] || { echo "k8s-deploy: deploy by digest (image@sha256:…), got $image" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r deploy/k8s "$work/"
(cd "$work/k8s/${overlay#deploy/k8s/}" && kubectl kustomize edit set image "kith=$image" 2>/dev/null || kustomize edit set image "kith=$image")
rendered="$work/rendered.yaml"
kubectl kustomize "$work/k8s/${overlay#deploy/k8s/}" >"$rendered"

if [ "$skip_migrate" != --skip-migrate ]; then
  kubectl -n "$ns" delete job kith-migrate --ignore-not-found --wait=true
  kubectl apply -f "$rendered" -l app.kubernetes.io/component=migrate
  kubectl -n "$ns" wait --for=condition=complete job/kith-migrate --timeout=15m
fi
kubectl apply -f "$rendered" -l 'app.kubernetes.io/component!=migrate'
for role in api realtime worker; do
  if ! kubectl -n "$ns" rollout status "deployment/kith-$role" --timeout=10m; then
    echo "k8s-deploy: kith-$role did not become ready; rolling back" >&2
    kubectl -n "$ns" rollout undo "deployment/kith-$role"
    exit 1
  fi
done
echo "k8s-deploy: $image is live in $ns"
