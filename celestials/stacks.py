"""What every AWS resource of a stack carries, standard library only so the policy pack can read it too.

A stack is held to production's rules (the settings' refusals, the N-1 capacity check, deletion
protection, the guardrails' production rules) because its config says `celestials:production: true`,
never because of its name. The program cannot hand its settings to the policy pack, which runs
inside `pulumi preview` with nothing but the resources' inputs; so the property travels as a tag on
every AWS resource (`PRODUCTION_TAG`), which the guardrails read back (celestials/guardrails) and
anyone can see in the console, the bill and AWS Config.

The identity tags (`identity_tags`) are how tools outside the program (make up's preflight) tell
the stack's own resources from others in the account.
"""

#: the stack config key that says whether a stack is production (celestials.settings parses it)
PRODUCTION_KEY = "production"
#: the tag that carries it onto every AWS resource, "true" or "false"
PRODUCTION_TAG = "production"
PRODUCTION_TAG_VALUES = {True: "true", False: "false"}


def identity_tags(stack: str) -> dict[str, str]:
    """The tags that name the stack a resource belongs to."""
    return {"project": "celestials", "stack": stack}


def resource_tags(stack: str, production: bool) -> dict[str, str]:
    """The tags every AWS resource of the stack carries: its identity, and whether it is production."""
    return {**identity_tags(stack), PRODUCTION_TAG: PRODUCTION_TAG_VALUES[production]}
