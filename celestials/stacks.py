"""Which stack is held to production's rules (the settings' refusals, the N-1 capacity check, the
guardrails' prod rules): one name, standard library only, so the policy pack can read it too."""

PROD_STACK = "prod"
