"""The BC-RNN network: LSTM -> MLP -> action (MSE) or a Gaussian mixture over actions (GMM)."""

from __future__ import annotations

import torch
from torch import distributions as dist
from torch import nn
from torch.nn import functional as F  # noqa: N812 (torch convention)

from dexmg_bench.baselines.bc_rnn.config import BCRNNConfig
from dexmg_bench.baselines.encoders import StepEncoder


class BCRNN(nn.Module):
    """``forward(obs (B, T, D), state, images) -> (output, state)``; ``loss``/``act`` build on it.

    With ``image_shape`` (cameras, H, W, 3) a visual encoder's features join the LSTM input.
    """

    def __init__(
        self,
        config: BCRNNConfig,
        obs_dim: int,
        action_dim: int,
        image_shape: tuple[int, ...] | None = None,
    ):
        super().__init__()
        self.config, self.obs_dim, self.action_dim = config, obs_dim, action_dim
        self.encoder = StepEncoder(config.encoder, obs_dim, image_shape)
        self.rnn = nn.LSTM(
            self.encoder.out_dim, config.hidden_dim, config.num_layers, batch_first=True
        )
        layers: list[nn.Module] = []
        width = config.hidden_dim
        for h in config.head_dims:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.trunk = nn.Sequential(*layers)
        k = config.num_modes if config.gmm else config.chunk
        self.mean = nn.Linear(width, k * action_dim)
        if config.gmm:
            self.log_std = nn.Linear(width, k * action_dim)
            self.logits = nn.Linear(width, k)

    def forward(
        self,
        obs: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor] | None = None,
        images: torch.Tensor | None = None,
    ) -> tuple[dict[str, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
        """Per-step head outputs; means are tanh-squashed into the action box."""
        h, state = self.rnn(self.encoder(obs, images), state)
        h = self.trunk(h)
        b, t = obs.shape[:2]
        if not self.config.gmm:
            return {"mean": torch.tanh(self.mean(h))}, state
        k, a = self.config.num_modes, self.action_dim
        out = {
            "mean": torch.tanh(self.mean(h)).view(b, t, k, a),
            "std": F.softplus(self.log_std(h)).view(b, t, k, a) + self.config.min_std,
            "logits": self.logits(h),
        }
        return out, state

    def loss(
        self, obs: torch.Tensor, actions: torch.Tensor, images: torch.Tensor | None = None
    ) -> torch.Tensor:
        """MSE to the demonstrated actions, or their negative log-likelihood under the GMM.

        With ``chunk`` > 1 the windows are ``seq_len + chunk - 1`` long: the network reads the
        first ``seq_len`` observations and each step's target is its next ``chunk`` actions.
        """
        n = self.config.chunk
        if n > 1:
            seq = self.config.seq_len
            obs = obs[:, :seq]
            images = None if images is None else images[:, :seq]
            # (B, seq, A, chunk) -> (B, seq, chunk * A), the head's layout
            ahead = actions.unfold(1, n, 1).transpose(-1, -2)
            actions = ahead.reshape(*ahead.shape[:2], n * self.action_dim)
        out, _ = self(obs, None, images)
        if not self.config.gmm:
            return F.mse_loss(out["mean"], actions)
        comp = dist.Independent(dist.Normal(out["mean"], out["std"]), 1)
        gmm = dist.MixtureSameFamily(dist.Categorical(logits=out["logits"]), comp)
        return -gmm.log_prob(actions).mean()

    @torch.no_grad()
    def act(
        self,
        obs: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor] | None,
        generator: torch.Generator | None = None,
        image: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """One action for one observation ``(D,)``; a GMM picks a mode, then takes its mean.

        Taking the mode's mean is robomimic's low-noise evaluation of GMM policies.
        """
        images = None if image is None else image[None, None]
        out, state = self(obs.view(1, 1, -1), state, images)
        if not self.config.gmm:
            return out["mean"][0, 0], state
        probs = torch.softmax(out["logits"][0, 0], dim=-1)
        mode = torch.multinomial(probs, 1, generator=generator)[0]
        return out["mean"][0, 0, mode], state

    @torch.no_grad()
    def act_window(
        self,
        obs: torch.Tensor,
        generator: torch.Generator | None = None,
        images: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The action at the last of ``obs`` (T, D), the LSTM run over all T from a zero state.

        With ``chunk`` > 1: the next ``chunk`` actions, (chunk, A).
        """
        out, _ = self(obs[None], None, None if images is None else images[None])
        if not self.config.gmm:
            mean = out["mean"][0, -1]
            return mean if self.config.chunk == 1 else mean.view(self.config.chunk, -1)
        probs = torch.softmax(out["logits"][0, -1], dim=-1)
        mode = torch.multinomial(probs, 1, generator=generator)[0]
        return out["mean"][0, -1, mode]

    def actor(self, generator: torch.Generator | None = None) -> BCRNNActor:
        """A rollout-time stepper that carries the LSTM state."""
        return BCRNNActor(self, generator)


class BCRNNActor:
    """Steps the network one observation at a time, as ``config.rollout`` says.

    ``sliding``: the LSTM runs from a zero state over the last ``seq_len`` observations (fewer
    at the start of an episode; ``padded`` repeats the first one in front instead), and the
    action is its output at the newest one: exactly the context the last step of a training
    window has. A fixed-length pause in the data (a gripper
    closing while nothing else moves) can then be timed from its start, which ``reset`` cannot
    do once a reset falls inside the pause. ``reset``: robomimic's scheme, the state carried
    and zeroed every ``seq_len`` steps. With ``chunk`` > 1 the network is asked every ``chunk``
    steps and its actions are queued; the history still takes every observation.
    """

    def __init__(self, model: BCRNN, generator: torch.Generator | None):
        self.model, self.generator = model, generator
        self.reset()

    def reset(self) -> None:
        """Start a new episode."""
        self.state: tuple[torch.Tensor, torch.Tensor] | None = None
        self.t = 0
        self.history: list[torch.Tensor] = []
        self.image_history: list[torch.Tensor] = []
        self.queue: list[torch.Tensor] = []  # actions of the current chunk not yet executed

    def step(self, x: torch.Tensor, image: torch.Tensor | None = None) -> torch.Tensor:
        """Next action for the normalised observation ``x`` (D,) and camera images if any."""
        config = self.model.config
        if config.rollout in ("sliding", "padded"):
            pad = config.seq_len - 1 if config.rollout == "padded" else 0
            if not self.history:
                self.history = [x] * pad
                self.image_history = [image] * pad if image is not None else []
            self.history = [*self.history[-(config.seq_len - 1) :], x]
            images = None
            if image is not None:
                self.image_history = [*self.image_history[-(config.seq_len - 1) :], image]
                images = torch.stack(self.image_history)
            self.t += 1
            if not self.queue:
                out = self.model.act_window(torch.stack(self.history), self.generator, images)
                self.queue = [out] if config.chunk == 1 else list(out)
            return self.queue.pop(0)
        if self.t % config.seq_len == 0:
            self.state = None
        action, self.state = self.model.act(x, self.state, self.generator, image)
        self.t += 1
        return action
