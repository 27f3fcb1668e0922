"""Which stack is held to production's rules (the settings' refusals, the N-1 capacity check, the
guardrails' prod rules): one name, standard library only, so the policy pack can read it too; and
the tags every AWS resource of a stack carries, by which tools outside the program (make up's
preflight) tell the stack's own resources from others in the account."""

PROD_STACK = "prod"


def resource_tags(stack: str) -> dict[str, str]:
    return {"project": "celestials", "stack": stack}
