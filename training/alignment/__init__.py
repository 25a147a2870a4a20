"""Alignment runners on TRL (SFT, reward model, DPO, GRPO, RLOO) and plumbline's own PPO. Imports torch."""
