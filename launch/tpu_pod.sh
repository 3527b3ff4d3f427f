#!/usr/bin/env bash
# Trains on every worker of a Cloud TPU VM pod slice.
#
#   launch/tpu_pod.sh TPU_NAME ZONE WORKDIR [wtal_jax.main flags...]
#
# e.g.
#   launch/tpu_pod.sh my-v4-32 us-central2-b /mnt/shared/wtal_lgca \
#       --config=configs/thumos_lgca.py:synthetic
#
# Steps, all with `gcloud compute tpus tpu-vm ... --worker=all`:
#   1. copy this checkout to ~/wtal_jax on every worker;
#   2. install it with JAX for TPU into ~/wtal_venv (skipped when
#      SKIP_INSTALL=1, e.g. on a re-run after pre-emption);
#   3. run the same `python -m wtal_jax.main` on every worker. JAX detects the
#      pod's processes by itself, so no coordinator flags are needed.
#
# WORKDIR must be one directory that every worker sees (checkpoints are
# written collectively and read back by all workers): an NFS/Filestore mount
# or a Cloud Storage bucket mounted with gcsfuse at the same path on every
# worker. Datasets are read per worker from --config.data.data_dir (default
# ~/tensorflow_datasets; generated datasets are built there on first use).
# Re-running the same command resumes from the latest checkpoint.
set -euo pipefail

if [[ $# -lt 3 ]]; then
  sed -n '2,24p' "$0"
  exit 2
fi
TPU_NAME=$1
ZONE=$2
WORKDIR=$3
shift 3
PROJECT_FLAG=()
if [[ -n "${PROJECT:-}" ]]; then
  PROJECT_FLAG=(--project="${PROJECT}")
fi
REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)

ssh_all() {
  gcloud compute tpus tpu-vm ssh "${TPU_NAME}" --zone="${ZONE}" \
    "${PROJECT_FLAG[@]}" --worker=all --command="$1"
}

echo "Copying ${REPO_ROOT} to ~/wtal_jax on every worker of ${TPU_NAME}..."
tarball=$(mktemp --suffix=.tar.gz)
trap 'rm -f "${tarball}"' EXIT
tar -C "${REPO_ROOT}" --exclude=.git --exclude=.venv --exclude='*.egg-info' \
  --exclude=__pycache__ -czf "${tarball}" .
gcloud compute tpus tpu-vm scp "${tarball}" "${TPU_NAME}:~/wtal_jax.tar.gz" \
  --zone="${ZONE}" "${PROJECT_FLAG[@]}" --worker=all
ssh_all "rm -rf ~/wtal_jax && mkdir -p ~/wtal_jax && \
  tar -C ~/wtal_jax -xzf ~/wtal_jax.tar.gz"

if [[ "${SKIP_INSTALL:-0}" != "1" ]]; then
  echo "Installing wtal_jax and jax[tpu] on every worker..."
  ssh_all "python3 -m venv ~/wtal_venv && . ~/wtal_venv/bin/activate && \
    pip install -q -U pip && pip install -q -U 'jax[tpu]' && \
    pip install -q -e ~/wtal_jax"
fi

# Quote every flag for the remote shell.
args=""
for a in "$@"; do
  args+=" $(printf '%q' "${a}")"
done
echo "Training on every worker; logs come from worker 0 (process 0)."
ssh_all "cd ~/wtal_jax && . ~/wtal_venv/bin/activate && \
  python -m wtal_jax.main --workdir=$(printf '%q' "${WORKDIR}")${args}"
