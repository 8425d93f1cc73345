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


def _env_kwargs(args: list[str] | None) -> dict:
    """``key=value`` pairs from the command line; values are read as JSON when they parse (3, true)."""
    import json

    kwargs = {}
    for item in args or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--arg")
        try:
            kwargs[key] = json.loads(value)
        except json.JSONDecodeError:
            kwargs[key] = value
    return kwargs


_ARG_HELP = "Env keyword argument KEY=VALUE (repeatable), e.g. --arg layout=random --arg rows=6."


def _make_env(env_id: str, args: list[str] | None):
    """The env, or a clear message and exit code 1 (unknown id, bad keyword) instead of a traceback."""
    import thinkgym

    kwargs = _env_kwargs(args)
    try:
        return thinkgym.make(env_id, **kwargs)
    except (thinkgym.ThinkgymError, TypeError, ValueError) as exc:
        console.print(f"[red]cannot make {env_id!r}: {exc}[/]", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc


@app.command("check")
def check_command(
    env_ids: list[str] = typer.Argument(None, help="Env ids to check (default: every registered env)."),
    arg: list[str] | None = typer.Option(None, "--arg", "-a", help=_ARG_HELP),
    imports: list[str] | None = typer.Option(None, "--import", help="Module to import first (registers your own envs); repeatable."),
    skip: list[str] | None = typer.Option(None, "--skip", help="Rule to leave out (e.g. vector); repeatable."),
) -> None:
    """Run the contract checker (`thinkgym.utils.check_env`, every rule) on envs; exit 1 if one fails.

    Example: thinkgym check mylib/Backwards-v0 --import my_backwards_env
    """
    import importlib

    from rich.markup import escape

    import thinkgym
    from thinkgym.utils import CheckError, check_env

    for module in imports or []:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            console.print(f"[red]--import {module}: {exc}[/]", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from exc
    failed = 0
    for env_id in env_ids or [s.id for s in thinkgym.list_envs()]:
        if not env_ids:  # every registered env: one that needs data not present here is skipped, with why
            try:
                env = thinkgym.make(env_id, **_env_kwargs(arg))
            except thinkgym.errors.ConfigError as exc:
                console.print(f"[yellow]skip[/] {escape(env_id)}: {escape(str(exc))}", highlight=False, soft_wrap=True)
                continue
        else:
            env = _make_env(env_id, arg)
        try:
            ran = check_env(env, skip=set(skip or ()))
        except (CheckError, ValueError) as exc:
            failed += 1
            console.print(f"[red]FAIL[/] {escape(env_id)}: {escape(str(exc))}", highlight=False, soft_wrap=True)
        else:
            console.print(f"[green]ok[/]   {escape(env_id)}: {', '.join(ran)}", highlight=False, soft_wrap=True)
        finally:
            env.close()
    raise typer.Exit(1 if failed else 0)


@app.command("show")
def show_command(
    env_id: str = typer.Argument(..., help="Env id, e.g. thinkgym/Maze-v0 (see `thinkgym list`)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the problem to show."),
    arg: list[str] | None = typer.Option(None, "--arg", "-a", help=_ARG_HELP),
) -> None:
    """Show one problem as the model sees it, its gold answer, and what the oracle earns on it.

    Example: thinkgym show thinkgym/MazePath-v0 --arg layout=random --seed 3
    """
    from thinkgym.agents import OraclePolicy, play_episode

    env = _make_env(env_id, arg)
    observation, info = env.reset(seed=seed)
    console.rule(f"[bold]{env_id}[/] problem {info['problem_id']}")
    console.print(observation, markup=False, highlight=False)
    console.rule("gold answer")
    console.print(str(env.get_wrapper_attr("problem").answer), markup=False, highlight=False)
    episode = play_episode(env, OraclePolicy(), seed=seed)
    console.rule("oracle")
    console.print(f"actions: {episode.actions!r}", markup=False, highlight=False)
    console.print(f"reward: {episode.total_reward:g}  (terminated={episode.terminated}, truncated={episode.truncated})")


def _read_action(multiline: bool) -> str | None:
    """One action from stdin; None at end of input. Multi-line actions end with a line '.'."""
    import sys

    if not multiline:
        line = sys.stdin.readline()
        return None if line == "" else line.rstrip("\n")
    lines = []
    while True:
        line = sys.stdin.readline()
        if line == "":
            return "\n".join(lines) if lines else None
        if line.rstrip("\n") == ".":
            return "\n".join(lines)
        lines.append(line.rstrip("\n"))


@app.command("play")
def play_command(
    env_id: str = typer.Argument(..., help="Env id, e.g. thinkgym/Maze-v0 (see `thinkgym list`)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the problem to play."),
    arg: list[str] | None = typer.Option(None, "--arg", "-a", help=_ARG_HELP),
    multiline: bool = typer.Option(
        False, "--multiline", "-m", help="Actions span several lines; end each with a line holding only '.'."
    ),
) -> None:
    """Play an env yourself: read the observation, type an action, see the reward.

    You are the policy: whatever you type is exactly what a model's answer would be. In the maze,
    type R, L, U or D (one move per line). End of input (Ctrl-D) stops the episode.

    Example: thinkgym play thinkgym/Maze-v0 --arg layout=random --seed 7
    """
    env = _make_env(env_id, arg)
    observation, info = env.reset(seed=seed)
    console.rule(f"[bold]{env_id}[/] problem {info['problem_id']}")
    total = 0.0
    while True:
        console.print(observation, markup=False, highlight=False)
        valid = env.get_wrapper_attr("valid_actions")()
        hint = f" (one of {', '.join(valid)})" if valid else (" (end with a line '.')" if multiline else "")
        console.print(f"[bold green]your action{hint}>[/] ", end="")
        action = _read_action(multiline)
        if action is None:
            console.print("\n[yellow]end of input: episode stopped.[/]")
            break
        observation, reward, terminated, truncated, info = env.step(action)
        total += reward
        console.print(f"reward {reward:g}  total {total:g}", highlight=False)
        if "error" in info:
            console.print(f"[red]{info['error']}[/]", highlight=False)
        if terminated or truncated:
            if observation:
                console.print(observation, markup=False, highlight=False)
            console.print(f"[bold]episode {'finished' if terminated else 'cut off (turn limit)'}: return {total:g}[/]")
            break


@app.command("demo")
def demo_command(
    episodes: int = typer.Option(2000, "--episodes", "-n", help="Episodes per policy in the measured-vs-exact tables."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random policy, the mazes and the training run."),
    steps: int = typer.Option(60, "--steps", help="GRPO steps for the tiny model."),
    out: str = typer.Option("runs/demo", "--out", "-o", help="Folder for the reward curve, logs and the trained model."),
    train_model: bool = typer.Option(True, "--train/--no-train", help="Train the tiny model (--no-train: tables only)."),
) -> None:
    """The seed example of RL, end to end: exact vs measured returns, then RL that works.

    First random and oracle policies on the classic maze, measured against the exact expected
    return (dynamic programming over (cell, steps left)). Then the tiny model is trained from
    scratch with TRL GRPO in token-action mode (each generated token is a move) on CPU, and the
    table shows the exact uniform return, the measured mean reward before and after training and
    whether it got within 10 % of the optimum 10.0; the reward curve is saved as a PNG.
    """
    from thinkgym.demo import return_tables, run_demo

    if not train_model:
        return_tables(console, episodes, seed)
        return
    result = run_demo(console, steps=steps, seed=seed, output_dir=out, maze_table=lambda: return_tables(console, episodes, seed))
    raise typer.Exit(0 if result["target_met"] else 1)


@app.command("train")
def train_command(
    env: str = typer.Option(..., "--env", "-e", help="Env id to train on, e.g. thinkgym/MazePath-v0."),
    algo: str = typer.Option("grpo", "--algo", help="grpo | rloo (TRL) | ppo (thinkgym's own PPO)."),
    model: str = typer.Option("tiny", "--model", "-m", help="A local model folder, or 'tiny' (built here, no download)."),
    out: str = typer.Option("runs/train", "--out", "-o", help="Folder for checkpoints, rewards.jsonl and reward_curve.png."),
    steps: int = typer.Option(50, "--steps", help="Training steps."),
    num_generations: int = typer.Option(8, "--num-generations", "-g", help="Completions per prompt (group size)."),
    prompts_per_step: int = typer.Option(1, "--prompts-per-step", help="Distinct prompts per step."),
    lr: float | None = typer.Option(None, "--lr", help="Learning rate (default 3e-3 for tiny, 1e-6 otherwise)."),
    max_completion_length: int = typer.Option(64, "--max-completion-length", help="Token budget of a completion (a whole episode for multi-turn envs)."),
    temperature: float = typer.Option(1.0, "--temperature", help="Sampling temperature."),
    beta: float = typer.Option(0.0, "--beta", help="KL penalty coefficient against the initial model."),
    n_problems: int = typer.Option(256, "--n-problems", help="Problems in the training set."),
    seed: int = typer.Option(0, "--seed", help="Seed of the problems and the run."),
    token_actions: bool = typer.Option(False, "--token-actions", help="Each generated token is one env action (multi-turn envs)."),
    restrict: bool = typer.Option(False, "--restrict-to-valid-actions", help="Sample only the env's permitted actions (grpo, ppo)."),
    chat: bool = typer.Option(False, "--chat", help="Conversational prompts (the model's chat template)."),
    save_steps: int = typer.Option(0, "--save-steps", help="Checkpoint every N steps (0: only the final model)."),
    arg: list[str] | None = typer.Option(None, "--arg", "-a", help=_ARG_HELP),
) -> None:
    """Train a model on an env with GRPO, RLOO (TRL) or PPO; plots the reward curve.

    Example: thinkgym train --env thinkgym/Maze-v0 --algo grpo --model tiny --token-actions
    --restrict-to-valid-actions --max-completion-length 6 --num-generations 16 --steps 60
    """
    from thinkgym.agents.train import TrainConfig, train

    _make_env(env, arg).close()  # a clear message for an unknown id or a bad --arg
    try:
        config = TrainConfig(
            env_id=env, algo=algo, model=model, output_dir=out, steps=steps, num_generations=num_generations,
            prompts_per_step=prompts_per_step, learning_rate=lr, max_completion_length=max_completion_length,
            temperature=temperature, beta=beta, n_problems=n_problems, seed=seed, token_actions=token_actions,
            restrict_to_valid_actions=restrict, conversational=chat, save_steps=save_steps, env_kwargs=_env_kwargs(arg),
        )  # fmt: skip
    except ValueError as exc:
        console.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from exc
    result = train(config)
    table = Table(title=f"{algo.upper()} on {env}")
    table.add_column("step", justify="right")
    table.add_column("mean reward", justify="right")
    components = sorted({k for row in result.curve for k in row if k.startswith("rewards/")})
    for name in components:
        table.add_column(name.split("/", 1)[1], justify="right")
    shown = result.curve if len(result.curve) <= 12 else result.curve[:: max(1, len(result.curve) // 10)] + result.curve[-1:]
    for row in shown:
        table.add_row(f"{row['step']:.0f}", f"{row['reward']:.4g}", *(f"{row.get(c, float('nan')):.4g}" for c in components))
    console.print(table)
    console.print(
        f"model: {result.output_dir / 'final'}  rewards: {result.output_dir / 'rewards.jsonl'}  "
        f"plot: {result.plot}  wall time: {result.wall_s:.0f} s",
        highlight=False,
    )


@app.command("export-preferences")
def export_preferences_command(
    env: str = typer.Option(..., "--env", "-e", help="Env id whose verifier ranks the completions."),
    policy: list[str] = typer.Option(
        ..., "--policy", "-p",
        help="random | oracle | hf:PATH | openai:URL[#MODEL] | py:MODULE:NAME; repeat to sample round-robin from several.",
    ),
    n: int = typer.Option(..., "--n", help="Problems to sample."),
    samples: int = typer.Option(4, "--samples", "-k", help="Completions per problem (best vs worst form a pair)."),
    out: str = typer.Option("runs/preferences", "--out", "-o", help="Output folder (datasets.load_from_disk reads it)."),
    seed: int = typer.Option(0, "--seed", help="Picks the problems; sampling seed of the policies."),
    temperature: float | None = typer.Option(None, "--temperature", help="Sampling temperature for model policies."),
    max_tokens: int | None = typer.Option(None, "--max-tokens", help="Generation length limit for model policies."),
    chat: bool = typer.Option(False, "--chat", help="Write prompt/chosen/rejected as chat messages."),
    arg: list[str] | None = typer.Option(None, "--arg", "-a", help=_ARG_HELP),
) -> None:
    """Write (prompt, chosen, rejected) pairs ranked by the env's verifier, for TRL's DPOTrainer.

    Example: thinkgym export-preferences --env thinkgym/MazePath-v0 --policy oracle --policy random --n 50
    """
    from thinkgym.agents.preferences import collect_preferences, save_preferences
    from thinkgym.benchmarks.policy_spec import make_policy
    from thinkgym.errors import ConfigError

    _make_env(env, arg).close()
    try:
        policies = [make_policy(p, seed=seed, temperature=temperature, max_tokens=max_tokens) for p in policy]
    except ConfigError as exc:
        console.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from exc
    dataset, stats = collect_preferences(
        env, policies, n, samples=samples, seed=seed, conversational=chat, env_kwargs=_env_kwargs(arg)
    )
    for p in policies:
        p.close()
    path = save_preferences(dataset, out)
    console.print(
        f"{stats.pairs} pairs from {stats.problems} problems ({stats.ties} tied, {stats.errors} failed generations) -> {path}",
        highlight=False,
    )
    for example in stats.error_examples:
        console.print(f"[yellow]generation error: {example}[/]", highlight=False)
    if stats.pairs == 0:
        console.print("[red]no pairs: every problem's samples scored the same; sample more or mix policies[/]")
        raise typer.Exit(1)


@app.command("eval")
def eval_command(
    policy: str = typer.Option(
        ..., "--policy", "-p",
        help="random | oracle | hf:PATH | openai:URL or openai:URL#MODEL (e.g. openai:http://127.0.0.1:8000/v1#Qwen/Qwen3-0.6B) | py:MODULE:NAME",
    ),
    out: str = typer.Option(..., "--out", "-o", help="Output folder. Re-run the same command with the same --out to resume."),
    suite: str | None = typer.Option(None, "--suite", "-s", help="Built-in suite (quick-v0, reasoning-v0) or a .toml/.yaml suite file."),
    env: list[str] | None = typer.Option(None, "--env", "-e", help="Env id instead of a suite (repeatable); uses --n and --seed."),
    n: int = typer.Option(20, "--n", help="Problems per --env (suites fix their own counts)."),
    samples: int = typer.Option(1, "--samples", "-k", help="Samples per problem (pass@k is reported for every k up to this)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the run: each sample gets a seed derived from it and the sample's key (random, hf: and the seed field of openai: requests), so the same seed gives the same samples at any concurrency; picks the problems of --env runs."),
    concurrency: int = typer.Option(8, "--concurrency", "-c", help="Episodes (so generation requests) in flight at once."),
    batch_size: int = typer.Option(1, "--batch-size", help="Queries per policy call (hf: defaults to --concurrency)."),
    verify_workers: int = typer.Option(-1, "--verify-workers", help="Verification processes (0 = threads in this process; -1 = auto)."),
    temperature: float | None = typer.Option(None, "--temperature", help="Sampling temperature for model policies."),
    max_tokens: int | None = typer.Option(None, "--max-tokens", help="Generation length limit for model policies."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No live progress display."),
    imports: list[str] | None = typer.Option(None, "--import", help="Module to import first (registers your own envs); repeatable."),
    ray: str | None = typer.Option(
        None, "--ray", metavar="[ADDRESS]",
        help="Verify (and run code) on a Ray cluster: --ray alone (or --ray local) finds or starts a local Ray; --ray auto "
             "joins a running cluster; --ray ray://HOST:10001 a remote one. hf: policies generate on its GPUs. "
             "--verify-workers = actors.",
    ),
) -> None:
    """Benchmark a policy on a suite or on envs: concurrent, resumable, with CIs, report and plots.

    Example: thinkgym eval --suite quick-v0 --policy oracle --out runs/oracle
    """
    from thinkgym.benchmarks.commands import run_eval_command

    raise typer.Exit(
        run_eval_command(
            policy=policy, out=out, suite=suite, envs=env or [], n=n, samples=samples, seed=seed,
            concurrency=concurrency, batch_size=batch_size, verify_workers=verify_workers,
            temperature=temperature, max_tokens=max_tokens, progress=not no_progress, console=console,
            imports=imports or [], ray=ray,
        )
    )  # fmt: skip


@app.command("suites")
def suites_command(
    hashes: bool = typer.Option(False, "--hashes", help="Also generate the problems and print their SHA-256 per entry."),
) -> None:
    """List the built-in benchmark suites (frozen: same id, same problems, everywhere)."""
    from thinkgym.benchmarks.commands import run_suites_command

    raise typer.Exit(run_suites_command(hashes, console=console))


@app.command("report")
def report_command(out: str = typer.Argument(..., help="An output folder of `thinkgym eval`.")) -> None:
    """Re-render summary.json, report.md and the plots of an eval folder from its samples."""
    from thinkgym.benchmarks.commands import run_report_command

    raise typer.Exit(run_report_command(out, console=console))


@app.command("compare")
def compare_command(
    dir_a: str = typer.Argument(..., help="Eval folder A (the baseline)."),
    dir_b: str = typer.Argument(..., help="Eval folder B."),
    html: str | None = typer.Option(None, "--html", help="Where to write compare.html (default: in folder B)."),
) -> None:
    """Per-env differences B - A with 95 % intervals; flags differences within noise; writes compare.html."""
    from thinkgym.benchmarks.commands import run_compare_command

    raise typer.Exit(run_compare_command(dir_a, dir_b, console=console, html=html))


@app.command("pipeline")
def pipeline_command(
    out: str = typer.Option("runs/pipeline", "--out", "-o", help="Folder for each stage's model, results.json/.md and curves.png."),
    model: str = typer.Option("tiny", "--model", "-m", help="'tiny' (built here, no download) or a local causal-LM folder (fine-tuning learning rates; use a GPU)."),
    quick: bool = typer.Option(False, "--quick", help="A small run (tests, a first look): fewer mazes and steps."),
    rows: int | None = typer.Option(None, "--rows", help="Maze rows (default 3)."),
    cols: int | None = typer.Option(None, "--cols", help="Maze columns (default 3)."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the mazes, the models and the runs."),
    device: str | None = typer.Option(None, "--device", help="auto | cpu | cuda (auto: cuda when available)."),
    ppo_steps: int | None = typer.Option(None, "--ppo-steps", help="PPO steps (each PPO run)."),
    grpo_steps: int | None = typer.Option(None, "--grpo-steps", help="GRPO steps."),
    beta: float | None = typer.Option(None, "--beta", help="PPO's KL penalty to the SFT model."),
    beta0: bool = typer.Option(True, "--beta0/--no-beta0", help="Also run PPO with beta = 0 (shows reward hacking)."),
) -> None:
    """The seeds' pipeline on procedural mazes: base -> SFT -> reward model -> PPO / GRPO / DPO.

    Every stage is evaluated on held-out mazes no stage trains on, against the env's exact
    references (uniform policy, optimum). Prints one table and writes each stage's model.
    """
    from thinkgym.agents.pipeline.run import PipelineConfig, run_pipeline, with_overrides

    base = PipelineConfig.quick() if quick else PipelineConfig() if model == "tiny" else PipelineConfig.for_model(model)
    config = with_overrides(
        base, output_dir=out, model=model, rows=rows, cols=cols, seed=seed, device=device, ppo_steps=ppo_steps,
        grpo_steps=grpo_steps, ppo_beta=beta, ppo_beta0=beta0,
    )  # fmt: skip
    result = run_pipeline(config, log=lambda line: console.print(line, highlight=False))
    console.print(result.table(), highlight=False, soft_wrap=True)
    for name, met in result.targets().items():
        console.print(f"  {'[green]met[/]' if met else '[red]NOT met[/]'}: {name}", highlight=False)
    console.print(f"plot: {result.plot}   results: {out}/results.json   wall time: {result.wall_s:.0f} s", highlight=False)


def _optional_values(argv: list[str]) -> list[str]:
    """``--ray`` may come without its ADDRESS (typer has no optional option values): then it is
    ``--ray local``."""
    out = list(argv)
    for i in range(len(out) - 1, -1, -1):
        if out[i] == "--ray" and (i + 1 == len(out) or out[i + 1].startswith("-")):
            out.insert(i + 1, "local")
    return out


def main() -> None:
    """Console-script entry point."""
    import sys

    app(args=_optional_values(sys.argv[1:]))


if __name__ == "__main__":
    main()
