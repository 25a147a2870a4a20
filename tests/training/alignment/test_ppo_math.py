"""PPO's pieces against values worked out by hand: GAE, whitening, clipped losses, KL estimators and controller,
the end of a response, prompt extraction, the missing-EOS score, score normalization and the prompt stream."""

import math

import pytest

torch = pytest.importorskip("torch")

from training.alignment.ppo.advantages import gae, masked_mean, masked_var, masked_whiten  # noqa: E402
from training.alignment.ppo.kl import (  # noqa: E402
    AdaptiveKLController,
    FixedKLController,
    per_token_kl,
    shaped_rewards,
)
from training.alignment.ppo.losses import (  # noqa: E402
    approx_kl,
    clipped_policy_loss,
    clipped_value_loss,
    entropy_from_logits,
)
from training.alignment.ppo.prompts import prompt_of  # noqa: E402
from training.alignment.ppo.rewards import ScoreNormalizer, apply_missing_eos  # noqa: E402
from training.alignment.ppo.rollout import end_at_first_stop, token_logprobs  # noqa: E402
from training.alignment.ppo.state import PromptSampler  # noqa: E402


def close(actual, expected, tol=1e-5):
    assert torch.allclose(torch.as_tensor(actual, dtype=torch.float32), torch.tensor(expected), atol=tol), actual


def test_gae_by_hand_with_padding():
    rewards = torch.tensor([[0.0, 0.0, 1.0], [0.0, 2.0, 9.0]])
    values = torch.tensor([[0.5, 0.6, 0.7], [0.5, 1.0, 7.0]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]], dtype=torch.bool)
    advantages, returns = gae(rewards, values, mask, gamma=1.0, lam=0.5)
    # row 0: deltas 0.1, 0.1, 0.3 -> A2 = 0.3, A1 = 0.1 + 0.5 * 0.3, A0 = 0.1 + 0.5 * 0.25
    # row 1 ends after token 1 (the 9 and the 7 are padding): A1 = 2 - 1, A0 = (1.0 - 0.5) + 0.5 * 1
    close(advantages, [[0.225, 0.25, 0.3], [1.0, 1.0, 0.0]])
    close(returns, [[0.725, 0.85, 1.0], [1.5, 2.0, 0.0]])


def test_gae_discounts():
    advantages, _ = gae(
        torch.tensor([[0.0, 0.0, 1.0]]), torch.tensor([[0.5, 0.6, 0.7]]), torch.ones(1, 3, dtype=torch.bool),
        gamma=0.9, lam=0.5,
    )  # fmt: skip
    # deltas: 0.9 * 0.6 - 0.5 = 0.04, 0.9 * 0.7 - 0.6 = 0.03, 1 - 0.7 = 0.3; gamma * lam = 0.45
    close(advantages, [[0.04 + 0.45 * (0.03 + 0.45 * 0.3), 0.03 + 0.45 * 0.3, 0.3]])


def test_masked_statistics_and_whitening_ignore_padding():
    values = torch.tensor([[2.0, 4.0, 6.0, 100.0]])
    mask = torch.tensor([[1, 1, 1, 0]], dtype=torch.bool)
    assert masked_mean(values, mask).item() == pytest.approx(4.0)
    assert masked_var(values, mask).item() == pytest.approx(4.0)  # unbiased: (4 + 0 + 4) / 2
    close(masked_whiten(values, mask), [[-1.0, 0.0, 1.0, 0.0]])
    close(masked_whiten(values, mask, shift_mean=False), [[3.0, 4.0, 5.0, 0.0]])


def test_clipped_policy_loss_by_hand():
    ratios = torch.tensor([[1.5, 0.5, 1.1, 0.5, 3.0]])
    advantages = torch.tensor([[1.0, 1.0, -2.0, -1.0, 50.0]])
    mask = torch.tensor([[1, 1, 1, 1, 0]], dtype=torch.bool)  # the last token is padding
    loss, clipfrac = clipped_policy_loss(ratios.log(), torch.zeros_like(ratios), advantages, mask, cliprange=0.2)
    # per token: max(-1.5, -1.2) = -1.2 (clipped); max(-0.5, -0.8) = -0.5; 2.2 (tie, not clipped); max(0.5, 0.8) = 0.8
    assert loss.item() == pytest.approx((-1.2 - 0.5 + 2.2 + 0.8) / 4)
    assert clipfrac.item() == pytest.approx(0.5)


def test_clipped_value_loss_by_hand():
    old = torch.tensor([[0.0, 0.0, 1.0]])
    new = torch.tensor([[0.5, 0.1, 0.7]])
    returns = torch.tensor([[1.0, -1.0, 0.0]])
    loss, clipfrac = clipped_value_loss(new, old, returns, torch.ones(1, 3, dtype=torch.bool), cliprange=0.2)
    # clipped values 0.2, 0.1, 0.8 -> errors max(0.25, 0.64), max(1.21, 1.21), max(0.49, 0.64)
    assert loss.item() == pytest.approx(0.5 * (0.64 + 1.21 + 0.64) / 3)
    assert clipfrac.item() == pytest.approx(2 / 3)


def test_entropy_logprobs_and_approx_kl():
    assert entropy_from_logits(torch.zeros(1, 4)).item() == pytest.approx(math.log(4))
    logits = torch.tensor([[[1.0, 2.0, 3.0]]])
    expected = torch.log_softmax(logits / 0.5, -1)[0, 0, 2]
    assert token_logprobs(logits, torch.tensor([[2]]), 0.5).item() == pytest.approx(expected.item())
    new, old = torch.tensor([[0.0, -1.0]]), torch.tensor([[0.0, -2.0]])
    assert approx_kl(new, old, torch.ones(1, 2, dtype=torch.bool)).item() == pytest.approx(0.25)


def test_kl_estimators():
    logprobs, ref = torch.tensor([math.log(0.5)]), torch.tensor([math.log(0.25)])
    assert per_token_kl(logprobs, ref, "k1").item() == pytest.approx(math.log(2))
    assert per_token_kl(logprobs, ref, "k3").item() == pytest.approx(0.5 - 1 + math.log(2), abs=1e-6)
    with pytest.raises(ValueError):
        per_token_kl(logprobs, ref, "k9")


def test_shaped_rewards_put_the_score_on_the_last_valid_token():
    kl_tokens = torch.tensor([[0.5, 1.0, 2.0], [1.0, 3.0, 7.0]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]], dtype=torch.bool)
    rewards, non_score = shaped_rewards(torch.tensor([10.0, 20.0]), kl_tokens, mask, coef=0.1)
    close(non_score, [[-0.05, -0.1, -0.2], [-0.1, -0.3, 0.0]])
    close(rewards, [[-0.05, -0.1, 9.8], [-0.1, 19.7, 0.0]])


def test_adaptive_kl_controller_follows_ziegler():
    controller = AdaptiveKLController(0.1, target=6.0, horizon=100)
    controller.update(12.0, n_episodes=16)  # error clipped to +0.2
    assert controller.value == pytest.approx(0.1 * (1 + 0.2 * 16 / 100))
    controller.load_state_dict({"value": 0.1})
    controller.update(6.6, n_episodes=16)  # error +0.1
    assert controller.value == pytest.approx(0.1 * (1 + 0.1 * 16 / 100))
    controller.update(1.0, n_episodes=16)  # error clipped to -0.2
    assert controller.value == pytest.approx(0.1 * 1.016 * (1 - 0.2 * 16 / 100))
    fixed = FixedKLController(0.05)
    fixed.update(100.0, n_episodes=16)
    assert fixed.value == 0.05


def test_responses_end_at_the_first_stop_token():
    responses = torch.tensor([[5, 2, 7, 2], [5, 6, 7, 8], [2, 0, 0, 0], [9, 3, 9, 9]])
    mask, has_eos = end_at_first_stop(responses, [2, 3])
    assert mask.int().tolist() == [[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0], [1, 1, 0, 0]]
    assert has_eos.tolist() == [True, False, True, True]


def test_missing_eos_score_and_normalization():
    scores = torch.tensor([0.5, 0.7])
    assert apply_missing_eos(scores, torch.tensor([True, False]), -1.0).tolist() == [0.5, -1.0]
    assert apply_missing_eos(scores, torch.tensor([True, False]), None).tolist() == pytest.approx([0.5, 0.7])
    initial = ScoreNormalizer("initial")
    first = initial(torch.tensor([1.0, 2.0, 3.0]))
    assert first.mean().item() == pytest.approx(0.0, abs=1e-6) and first.std().item() == pytest.approx(1.0)
    assert initial(torch.tensor([4.0])).item() == pytest.approx(2.0)  # the same map, fixed on the first batch
    assert ScoreNormalizer("batch")(torch.tensor([5.0, 7.0])).tolist() == pytest.approx([-0.7071, 0.7071], abs=1e-3)


def test_prompts_from_any_snapshot_row():
    conversation = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi?"},
        {"role": "assistant", "content": "Hello."},
    ]
    assert prompt_of({"messages": conversation}) == conversation[:2]
    assert prompt_of({"prompt": "Say hi.", "completion": "hi"}) == "Say hi."
    assert prompt_of({"prompt": conversation[:2], "chosen": [], "rejected": []}) == conversation[:2]
    with pytest.raises(ValueError, match="neither 'prompt' nor 'messages'"):
        prompt_of({"text": "x"})


def test_prompt_stream_is_reproducible_from_its_position():
    sampler = PromptSampler(4, seed=7)
    first = sampler.take(6)  # crosses into the second epoch
    assert sorted(first[:4]) == [0, 1, 2, 3]
    state = sampler.state_dict()
    following = sampler.take(5)
    again = PromptSampler(4, seed=7)
    again.load_state_dict(state)
    assert again.take(5) == following
