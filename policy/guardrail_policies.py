"""The guardrails (celestials/guardrails) as Pulumi policies: one mandatory policy per rule, with
the rule's own name and description, so a blocked preview names the rule and the resource; and one
advisory policy per advisory rule, which warns without blocking, as of the day `policies` is given."""

from __future__ import annotations

from datetime import date

from pulumi_policy import (EnforcementLevel, ReportViolation, ResourceValidationArgs,
                           ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy)

from celestials.guardrails import (ADVISORY_RULES, RESOURCE_RULES, STACK_RULES, AdvisoryRule, Resource,
                                   ResourceRule, StackRule)

#: Why a rule that needs to know which inputs are secret cannot run in the pack.
SECRETNESS_UNAVAILABLE = ("Pulumi's Python policy SDK unwraps secret inputs before a policy sees them, "
                          "so whether a Secret's data was a Pulumi secret is not visible here; the offline "
                          "run over the synth (make test) enforces this rule")


def resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in rule.types:
            return
        if rule.needs_secretness:
            args.not_applicable(SECRETNESS_UNAVAILABLE)
        for message in rule.check(Resource(urn=args.urn, type=args.resource_type, name=args.name, props=args.props)):
            report_violation(message, args.urn)

    return ResourceValidationPolicy(name=rule.name, description=rule.description, validate=validate,
                                    enforcement_level=EnforcementLevel.MANDATORY)


def stack_policy(rule: StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [Resource(urn=r.urn, type=r.resource_type, name=r.name, props=r.props) for r in args.resources]
        for resource, message in rule.check(resources):
            report_violation(message, resource.urn)

    return StackValidationPolicy(name=rule.name, description=rule.description, validate=validate,
                                 enforcement_level=EnforcementLevel.MANDATORY)


def advisory_policy(rule: AdvisoryRule, today: date) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in rule.types:
            return
        resource = Resource(urn=args.urn, type=args.resource_type, name=args.name, props=args.props)
        for message in rule.check(resource, today):
            report_violation(message, args.urn)

    return ResourceValidationPolicy(name=rule.name, description=rule.description, validate=validate,
                                    enforcement_level=EnforcementLevel.ADVISORY)


#: the mandatory policies (they do not depend on the day)
POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    *(resource_policy(rule) for rule in RESOURCE_RULES), *(stack_policy(rule) for rule in STACK_RULES)]


def policies(today: date) -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """The whole pack as of `today`: the mandatory policies, then the advisory ones."""
    return [*POLICIES, *(advisory_policy(rule, today) for rule in ADVISORY_RULES)]
