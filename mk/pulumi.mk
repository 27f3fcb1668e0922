# Deploying and previewing stacks (the lead's area): synth works offline, the rest needs the
# Pulumi CLI and AWS credentials (tools/preflight.sh says what is missing and how to get it).
export PULUMI_BACKEND_URL ?= file://$(HOME)/.pulumi-celestials
export PULUMI_CONFIG_PASSPHRASE ?=

.PHONY: synth preview up destroy stack-select preflight

synth: install ## Offline: evaluate the program for STACK under Pulumi's mock runtime → build/synth/STACK
	$(PY) -m synth --stack $(STACK)

preflight:
	@bash tools/preflight.sh

stack-select: preflight
	pulumi stack select --create $(STACK) --secrets-provider passphrase

preview: preflight install stack-select ## pulumi preview for STACK (needs the Pulumi CLI and AWS credentials)
	pulumi preview --stack $(STACK) --diff

up: preflight install stack-select ## Deploy STACK (default dev) with pulumi up
	pulumi up --stack $(STACK) --yes

destroy: stack-select ## Delete everything of STACK (pulumi destroy)
	pulumi destroy --stack $(STACK) --yes
