"""A complete new thinkgym environment in one file: a problem source, a verifier, one register call.

The task: sort a handful of words alphabetically. Run it with ``python examples/add_env.py``
(the contract checker, then two policies); after importing this module,
``thinkgym.make("examples/SortWords-v0")``, ``gymnasium.make(...)``, vector envs, ``thinkgym eval
--import`` and every policy work with no further code. See README "Adding an environment".
"""

from __future__ import annotations

import numpy as np

import thinkgym
from thinkgym import GeneratorSource, Problem, Reward, SingleTurnEnv
from thinkgym.verifiers import WeightedSum

WORDS = (
    "apple banana cherry delta echo falcon garnet harbor island jungle kettle lemon meadow "
    "nectar orbit pepper quartz river saddle timber umbra violet walnut xenon yellow zephyr"
).split()


# 1. The problem source: problem i is generated from its own seeded generator, so ids are stable.
def make_problem(rng: np.random.Generator, problem_id: str) -> Problem:
    words = [str(w) for w in rng.choice(WORDS, size=int(rng.integers(3, 7)), replace=False)]
    prompt = f"Sort these words alphabetically and answer as a comma-separated list: {', '.join(words)}"
    return Problem(problem_id, prompt, answer=", ".join(sorted(words)), meta={"words": words})


def parse_words(completion: str) -> list[str]:
    return [w.strip().lower() for w in completion.replace("\n", ",").split(",") if w.strip()]


# 2. The verifier: pure functions (completion, problem) -> Reward, composed with an existing rubric.
def exact_order(completion: str, problem: Problem) -> Reward:
    """1.0 iff the answer is exactly the gold sorted list."""
    got = parse_words(completion)
    ok = got == sorted(problem.meta["words"])
    return Reward(float(ok), {"exact": float(ok)}, {"parsed": got})


def pairs_in_order(completion: str, problem: Problem) -> Reward:
    """Partial credit: the fraction of adjacent pairs in order, only if the words are the right ones."""
    got = parse_words(completion)
    if sorted(got) != sorted(problem.meta["words"]):
        return Reward.zero("the answer must use each given word exactly once", parsed=got)
    ordered = sum(a <= b for a, b in zip(got, got[1:], strict=False))
    return Reward(ordered / max(len(got) - 1, 1))


VERIFIER = WeightedSum({"exact": exact_order, "pairs": pairs_in_order}, {"exact": 0.8, "pairs": 0.2})


# 3. One register call. The factory's keyword arguments become make()'s keyword arguments.
def make_env(split: str = "train", **kwargs) -> SingleTurnEnv:
    source = GeneratorSource("examples/sort-words-v0", make_problem, split=split)
    return SingleTurnEnv(source, VERIFIER, **kwargs)


thinkgym.register(
    "examples/SortWords-v0",
    make_env,
    description="Sort 3-6 words alphabetically; 0.8 for the exact order + 0.2 for pairs in order.",
    override=True,  # re-importing this file (e.g. in a notebook) re-registers instead of failing
)


if __name__ == "__main__":
    from thinkgym.agents import OraclePolicy, RandomPolicy, play_episode
    from thinkgym.utils import check_env

    print("check_env:", check_env(thinkgym.make("examples/SortWords-v0")))  # or a CheckError: what to fix
    env = thinkgym.make("examples/SortWords-v0")
    observation, info = env.reset(seed=0)
    print(info["problem_id"], "|", observation)
    for policy in (OraclePolicy(), RandomPolicy(seed=0)):
        rewards = [play_episode(env, policy, seed=s).total_reward for s in range(50)]
        print(f"{policy.name:>7}: mean reward {np.mean(rewards):.3f} over {len(rewards)} problems")
    env.reset(seed=0)
    _, reward, _, _, info = env.step("zephyr, apple")
    print("a wrong answer earns", reward, "because:", info.get("error"))
