"""closedloop's routing rules engine (路由规则引擎): a pure library, case in, decision out.

    from routing_rules import load_ruleset, CaseInput
    rules = load_ruleset("routing_rules/luohe", vocabulary)
    decision = rules.route(CaseInput(title="土地证办不下来", description="..."))

No database, no web, no clock. See docs/rules.md for the rule language.
"""

from .checking import diff, run_examples
from .engine import TRIAGE, CaseInput, Decision, MatchedRule, RuleSet
from .language import Duration, TierDeadline
from .loader import DEFAULT_RULES, ActiveRuleSet, load_ruleset, ruleset_version
from .normalize import normalize
from .source import SourceError, SourceErrors
from .vocabulary import PRIORITIES, Tier, Vocabulary

__all__ = [
    "ActiveRuleSet", "CaseInput", "DEFAULT_RULES", "Decision", "Duration", "MatchedRule", "PRIORITIES",
    "RuleSet", "SourceError", "SourceErrors", "TRIAGE", "Tier", "TierDeadline", "Vocabulary", "diff",
    "load_ruleset", "normalize", "ruleset_version", "run_examples",
]
