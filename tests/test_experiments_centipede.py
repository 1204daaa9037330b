"""The Chapter 5 full-mode driver: policies per model, resumable runs, one CSV row per evaluation."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("mujoco")

from gnnrl_lite.experiments import ResultsFile  # noqa: E402
from gnnrl_lite.experiments import centipede as exp  # noqa: E402
from gnnrl_lite.nervenet import NerveNetActorCritic  # noqa: E402
from gnnrl_lite.policies import MLPActorCritic  # noqa: E402


def test_make_policy_builds_each_model_and_rejects_unknown():
    assert isinstance(exp.make_policy("mlp", 4), MLPActorCritic)
    nerve, snow = exp.make_policy("nervenet", 4), exp.make_policy("snowflake", 4)
    assert isinstance(nerve, NerveNetActorCritic) and isinstance(snow, NerveNetActorCritic)
    trainable = lambda p: sum(x.numel() for x in p.parameters() if x.requires_grad)  # noqa: E731
    assert trainable(snow) < trainable(nerve), "Snowflake freezes part of NerveNet"
    with pytest.raises(ValueError, match="model"):
        exp.make_policy("transformer", 4)


def test_ppo_config_is_snowflakes():
    cfg = exp.ppo_config(4096)
    assert (cfg.batch_size, cfg.minibatch_size, cfg.update_epochs, cfg.clip_coef, cfg.learning_rate) == (2048, 256, 10, 0.1, 3e-4)


def test_run_writes_one_row_per_evaluation_resumes_and_skips_finished(tmp_path):
    from gnnrl_lite.algos import ppo

    cfg = ppo.PPOConfig(total_timesteps=128, num_envs=2, num_steps=16, num_minibatches=2, update_epochs=1)
    out = ResultsFile(tmp_path / "r.csv")
    kw = dict(out=out, checkpoints=tmp_path / "ck", weights=tmp_path / "w", eval_every=64, eval_episodes=2, num_envs=2, cfg=cfg)
    exp.run("snowflake", 4, 0, 128, **kw)
    rows = out.read()
    assert rows["step"].tolist() == [64, 128] and rows["final"].tolist() == [0, 1]
    assert set(rows.columns) >= {"eval_return", "approx_kl", "clipfrac", "command", "commit", "date"}
    state = torch.load(tmp_path / "w" / "snowflake-n4-s0.pt", weights_only=True)
    policy = exp.make_policy("snowflake", 4)
    policy.load_state_dict(state)  # the saved weights load into a fresh policy
    assert (tmp_path / "ck" / "snowflake-n4-s0.pt").exists()
    exp.run("snowflake", 4, 0, 128, **kw)  # finished: skipped, nothing written
    assert len(out.read()) == 2


def test_an_interrupted_run_resumes_without_duplicate_rows(tmp_path):
    from gnnrl_lite.algos import ppo

    cfg = ppo.PPOConfig(total_timesteps=192, num_envs=2, num_steps=16, num_minibatches=2, update_epochs=1)
    out = ResultsFile(tmp_path / "r.csv")
    kw = dict(out=out, checkpoints=tmp_path / "ck", weights=tmp_path / "w", eval_every=64, eval_episodes=1, num_envs=2)
    short = ppo.PPOConfig(**{**cfg.as_dict(), "total_timesteps": 192})
    calls = {"n": 0}
    original = ppo.train

    def interrupted(*args, **kwargs):  # stop after the 5th iteration, as a killed process would (checkpoint every 5)
        user = kwargs["callback"]
        kwargs["callback"] = lambda log: user(log) or (calls.__setitem__("n", calls["n"] + 1) or calls["n"] >= 5)
        return original(*args, **kwargs)

    ppo.train = interrupted
    try:
        exp.run("mlp", 4, 1, 192, cfg=short, **kw)
    finally:
        ppo.train = original
    assert out.read()["step"].tolist() == [64, 128] and (out.read()["final"] == 0).all()
    ckpt = tmp_path / "ck" / "mlp-n4-s1.pt"
    saved = ckpt.read_bytes()
    ckpt.unlink()
    with pytest.raises(RuntimeError, match="checkpoint"):  # rows of an unfinished run without its state: refuse to mix
        exp.run("mlp", 4, 1, 192, cfg=short, **kw)
    ckpt.write_bytes(saved)
    exp.run("mlp", 4, 1, 192, cfg=short, **kw)  # resumes from the checkpoint and finishes
    rows = out.read()
    assert rows["step"].tolist() == [64, 128, 192] and rows["final"].tolist() == [0, 0, 1]


def test_evaluate_is_greedy_and_repeatable():
    policy = exp.make_policy("nervenet", 4)
    first, second = exp.evaluate(policy, 4, 2), exp.evaluate(policy, 4, 2)
    assert first == second and first[1] >= 1  # fixed seeds and greedy actions: the same episodes
    assert exp.evaluate(policy, 6, 1)[1] >= 1  # the NerveNet actor runs on another size


def test_parse_weights_name_reads_model_legs_seed_and_rejects_others():
    assert exp.parse_weights_name("results/ch05_weights/snowflake-n12-s0.pt") == ("snowflake", 12, 0)
    for bad in ("snowflake-12-s0.pt", "gcn-n6-s0.pt", "mlp-n6.pt", "mlp-nsix-s0.pt"):
        with pytest.raises(ValueError, match="<model>-n<legs>-s<seed>"):
            exp.parse_weights_name(bad)


def test_transfer_writes_one_row_per_policy_and_size_mlp_only_its_own_and_resumes(tmp_path):
    weights, out = tmp_path / "w", ResultsFile(tmp_path / "t.csv")
    weights.mkdir()
    torch.manual_seed(0)
    for model in ("mlp", "snowflake"):
        torch.save(exp.make_policy(model, 4).state_dict(), weights / f"{model}-n4-s0.pt")
    rows = exp.transfer(weights, [4, 6], 1, out=out, command="test", progress=False)
    pairs = sorted(zip(rows["model"], rows["n_test"]))
    assert pairs == [("mlp", 4), ("snowflake", 4), ("snowflake", 6)]  # no MLP row on 6 legs: it cannot take them
    assert (rows["n"] == 4).all() and (rows["eval_length"] >= 1).all() and set(rows["command"]) == {"test"}
    again = exp.transfer(weights, [4, 6, 8], 1, out=out, progress=False)  # only the new size is evaluated
    assert len(out.read()) == 4 and len(again) == 4
    assert again.loc[again["n_test"] == 4, "eval_return"].tolist() == rows.loc[rows["n_test"] == 4, "eval_return"].tolist()


def test_transfer_rejects_bad_input(tmp_path):
    out = ResultsFile(tmp_path / "t.csv")
    with pytest.raises(FileNotFoundError, match="no weights"):
        exp.transfer(tmp_path, [4], 1, out=out)
    torch.save(exp.make_policy("nervenet", 4).state_dict(), tmp_path / "nervenet-n4-s0.pt")
    with pytest.raises(ValueError, match="even"):
        exp.transfer(tmp_path, [5], 1, out=out)
    with pytest.raises(ValueError, match="at least one"):
        exp.transfer(tmp_path, [], 1, out=out)
    with pytest.raises(ValueError, match="episodes"):
        exp.transfer(tmp_path, [4], 0, out=out)


def test_main_transfer_evaluates_saved_weights_instead_of_training(tmp_path):
    torch.save(exp.make_policy("snowflake", 4).state_dict(), tmp_path / "snowflake-n4-s0.pt")
    out = tmp_path / "t.csv"
    assert exp.main(["--transfer", "4,6", "--weights", str(tmp_path), "--transfer-out", str(out), "--eval-episodes", "1",
                     "--out", str(tmp_path / "never.csv")]) == 0
    rows = ResultsFile(out).read()
    assert rows["n_test"].tolist() == [4, 6] and rows["command"].str.contains("--transfer 4,6").all()
    assert not (tmp_path / "never.csv").exists()  # nothing trained


@pytest.mark.parametrize("bad", [dict(eval_every=0), dict(eval_episodes=0), dict(steps=-1), dict(num_envs=2.5)])
def test_run_rejects_non_positive_counts(tmp_path, bad):
    kw = dict(out=ResultsFile(tmp_path / "r.csv"), checkpoints=tmp_path / "ck", weights=tmp_path / "w",
              eval_every=64, eval_episodes=1, num_envs=2)
    steps = bad.pop("steps", 128)
    with pytest.raises(ValueError, match="positive integer"):
        exp.run("mlp", 4, 0, steps, **{**kw, **bad})
    assert not (tmp_path / "r.csv").exists()
