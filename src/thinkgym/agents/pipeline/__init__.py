"""The seeds' alignment pipeline on procedural mazes: base → SFT → reward model → PPO / GRPO / DPO.

``thinkgym pipeline`` (and ``examples/maze_pipeline.py``) run it; `run_pipeline` is the entry.
The modules: `data` (the training/held-out split, evaluation against the env's exact references,
the pool env the RL stages train on), `stages` (one function per stage, over TRL and our PPO),
`run` (the orchestration and the table), `report` (the plot).
"""

from thinkgym.agents.pipeline.run import PipelineConfig, PipelineResult, StageResult, run_pipeline

__all__ = ["PipelineConfig", "PipelineResult", "StageResult", "run_pipeline"]
