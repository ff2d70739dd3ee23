#!/usr/bin/env bash
# The onboarding exercise: run through the analysis runner as
#   Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'Run Bash' -OutputDir "onboarding/$me/hello-world" hello.sh $me
set -euo pipefail
echo "Hello, ${1:?usage: hello.sh NAME}!"
