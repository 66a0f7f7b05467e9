#!/usr/bin/env bash
# One command for a newcomer: install dependencies, select or create the dev stack, and deploy.
# State: Pulumi.yaml's backend.url keeps it in a file backend inside the project (.pulumi-state/, gitignored), so
# every later pulumi command run in this directory, in any shell, finds the stack; PULUMI_BACKEND_URL, when set,
# wins over it (Pulumi Cloud, S3, ...). Secrets in a file backend are encrypted with PULUMI_CONFIG_PASSPHRASE (or
# PULUMI_CONFIG_PASSPHRASE_FILE); without either, the script asks for the passphrase on a terminal and stops
# elsewhere.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

command -v pulumi >/dev/null || { echo "Pulumi CLI not found: see https://www.pulumi.com/docs/install/" >&2; exit 1; }
command -v node >/dev/null || { echo "Node.js 20 or newer is needed" >&2; exit 1; }

node scripts/dev/ensure-deps.mjs

stack="${STACK:-dev}"
project_state="file://./.pulumi-state" # Pulumi.yaml backend.url, relative to this directory
backend="${PULUMI_BACKEND_URL:-$project_state}"
if [[ -n "${PULUMI_BACKEND_URL:-}" ]]; then
  echo "State: $backend (PULUMI_BACKEND_URL)"
else
  mkdir -p .pulumi-state
  echo "State: $backend (Pulumi.yaml backend.url)"
fi

passphrase_given() { [[ -n "${PULUMI_CONFIG_PASSPHRASE:-}" || -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; }
if [[ "$backend" == file://* ]] && ! passphrase_given && [[ ! -t 0 ]]; then
  echo "Local state: set PULUMI_CONFIG_PASSPHRASE (it encrypts this stack's secrets) and run again." >&2
  exit 1
fi

new_stack=0
pulumi stack select "$stack" 2>/dev/null || new_stack=1

if ((new_stack)); then
  # Before Pulumi.yaml named the project's state, a CLI logged in to a backend kept the stack there. Creating the
  # stack anew in .pulumi-state/ would deploy a second cluster beside that one: ask which is meant.
  if [[ -z "${PULUMI_BACKEND_URL:-}" ]] && login=$(cd / && pulumi whoami --non-interactive </dev/null 2>/dev/null); then
    cat >&2 <<MSG
Stack $stack is not in this project's state (.pulumi-state/), and your Pulumi CLI is logged in (as ${login:-?}).
If $stack was deployed from that login before, go on using it there (pulumi whoami -v names the backend;
Pulumi Cloud is https://api.pulumi.com):
  PULUMI_BACKEND_URL=<that URL> npm run deploy
To create $stack in .pulumi-state/ instead, say so:
  PULUMI_BACKEND_URL=$project_state npm run deploy
Nothing was created.
MSG
    exit 4
  fi
fi

if [[ "$backend" == file://* ]] && ! passphrase_given; then
  # On a terminal: asked once here, for every pulumi command below. Later shells give it the same way (README).
  read -rsp "Passphrase for the secrets of stack $stack (PULUMI_CONFIG_PASSPHRASE): " PULUMI_CONFIG_PASSPHRASE
  echo
  if ((new_stack)); then
    read -rsp "The same passphrase again: " again
    echo
    [[ "$again" == "$PULUMI_CONFIG_PASSPHRASE" ]] || { echo "The passphrases differ; nothing was done." >&2; exit 1; }
  fi
  [[ -n "$PULUMI_CONFIG_PASSPHRASE" ]] || { echo "An empty passphrase protects nothing; nothing was done." >&2; exit 1; }
  export PULUMI_CONFIG_PASSPHRASE
fi

if ((new_stack)); then
  pulumi stack init "$stack"
fi

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
if [[ "$backend" == file://* ]] && [[ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
  echo "In a new shell, run pulumi commands from this directory; they ask for the passphrase, or read it from"
  echo "PULUMI_CONFIG_PASSPHRASE or the file PULUMI_CONFIG_PASSPHRASE_FILE names."
fi
