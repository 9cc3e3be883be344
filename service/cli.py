"""The ``closedloop`` command."""

from __future__ import annotations

import click

from routing_rules.cli import rules


@click.group()
@click.version_option(package_name="closedloop")
def main() -> None:
    """closedloop: route, track and escalate enterprise demands (企业诉求五级化解闭环)."""


main.add_command(rules)

if __name__ == "__main__":  # pragma: no cover
    main()
