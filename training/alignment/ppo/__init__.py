"""plumbline's PPO for RLHF: rollouts, scoring, KL-shaped rewards, GAE, clipped losses, the training loop.

One idea per module: ``prompts`` (what the policy is asked), ``rollout`` (sampling and log-probs), ``rewards``
(reward model, reward function, EOS handling, normalization), ``kl`` (penalty and its controller), ``advantages``
(GAE and whitening), ``losses`` (clipped objectives), ``models`` (policy, reference, critic), ``state``
(checkpoints) and ``trainer`` (the loop). Only ``trainer`` talks to the runner context.
"""
