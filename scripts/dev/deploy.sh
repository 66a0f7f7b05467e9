#!/usr/bin/env bash
# One command for a newcomer: install dependencies, pick a Pulumi backend, select or create the dev stack,
# and deploy. With no Pulumi login, state goes to a local file backend inside the project (.pulumi-state/,
# gitignored) whose secrets are protected by PULUMI_CONFIG_PASSPHRASE.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

command -v pulumi >/dev/null || { echo "Pulumi CLI not found: see https://www.pulumi.com/docs/install/" >&2; exit 1; }
command -v node >/dev/null || { echo "Node.js 20 or newer is needed" >&2; exit 1; }

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules ]]; then
  npm ci
fi

# Not logged in to any backend: keep state in a file backend inside the project, for this command only
# (PULUMI_BACKEND_URL, so the CLI's global login is left alone).
if [[ -z "${PULUMI_BACKEND_URL:-}" ]] && ! pulumi whoami >/dev/null 2>&1; then
  if [[ -z "${PULUMI_CONFIG_PASSPHRASE:-}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
    echo "Local state: set PULUMI_CONFIG_PASSPHRASE (it encrypts this stack's secrets) and run again." >&2
    exit 1
  fi
  mkdir -p .pulumi-state
  export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
  echo "State: $PULUMI_BACKEND_URL"
fi

stack="${STACK:-dev}"
pulumi stack select "$stack" 2>/dev/null || pulumi stack init "$stack"

# A stack with a deployment is only approved automatically when the update deletes or replaces no host, network
# interface, address, volume or file system (scripts/dev/preview-guard.ts). A new stack has nothing to lose.
guard() { npx tsx scripts/dev/preview-guard.ts "$@"; }
deployment="$(pulumi stack export --stack "$stack" | guard deployed)"
if [[ "$deployment" == "existing" ]]; then
  echo "Stack $stack has a deployment: previewing the update first."
  preview_status=0
  # The digest, not the event stream that PULUMI_ENABLE_STREAMING_JSON_PREVIEW would turn --json into.
  preview="$(env -u PULUMI_ENABLE_STREAMING_JSON_PREVIEW pulumi preview --json --stack "$stack" "$@")" ||
    preview_status=$?
  printf '%s\n' "$preview" | guard check "$preview_status" "$stack"
fi
pulumi up --yes --stack "$stack" "$@"
echo
echo "Clients connect with:  pulumi stack output failoverUrl"
echo "Credentials:           pulumi stack output brokerUser; pulumi stack output --show-secrets brokerPassword"
