"""The `thinkgym` command (also `python -m thinkgym`).

Each sub-command is a thin shell over a library function; heavy imports happen inside commands so
`thinkgym --help` stays instant.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    name="thinkgym",
    help=(
        "Text environments with verifiable rewards for RL of reasoning language models.\n\n"
        "Start with `thinkgym list` to see the envs, `thinkgym show ID` to see a problem and its "
        "gold answer, and `thinkgym play ID` to play one yourself."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
console = Console()


@app.command("list")
def list_command() -> None:
    """List every registered env (built-in and plugins) with a one-line description."""
    import thinkgym

    table = Table(title="thinkgym environments")
    table.add_column("id", style="bold cyan")
    table.add_column("description")
    for env_spec in thinkgym.list_envs():
        table.add_row(env_spec.id, env_spec.description)
    console.print(table)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
