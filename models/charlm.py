"""A character-level language model, as makemore builds it: read a list of words, learn
to predict each character from the `block_size` characters before it, and sample new
words one character at a time.

'.' marks both the start and the end of a word (index 0 of the vocabulary): a word is
predicted from a context of '.'s, and ends when '.' is drawn. Two networks read the
context: CharMLP (Bengio et al. 2003: embeddings, concatenated, one hidden layer) and
CharRNN (embeddings through an LSTM, GRU or RNN; the last step's output predicts).
Everything random is drawn from generators seeded by `seed`: the same seed gives the
same split, the same run and the same samples.

>>> words = ["emma", "ava"]
>>> vocab = Vocabulary(words)
>>> vocab.chars, len(vocab)
('.aemv', 5)
>>> X, Y = build_dataset(["ava"], vocab, block_size=2)
>>> X.tolist(), Y.tolist()
([[0, 0], [0, 1], [1, 4], [4, 1]], [1, 4, 1, 0])
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

import microtensor as mt
from microtensor import nn
from microtensor.nn import functional as F

from .networks import activation as make_activation
from .training import _progress_enabled

__all__ = [
    "Vocabulary",
    "names",
    "read_words",
    "split_words",
    "build_dataset",
    "CharMLP",
    "CharRNN",
    "CELLS",
    "DEFAULT_STEPS",
    "TrainingLog",
    "train",
    "evaluate_loss",
    "sample",
    "plot_losses",
    "NAMES_FILE",
    "END",
]

END = "."
"""The mark before the first and after the last character of every word (index 0)."""
NAMES_FILE = Path(__file__).parent / "data" / "names.txt"
CELLS = ("LSTM", "GRU", "RNN")
"""The recurrent layers of microtensor.nn that CharRNN takes, by class name."""
DEFAULT_STEPS = {"CharMLP": 3000, "CharRNN": 1000}
"""Training steps (batches of 32, Adam lr 0.01) that bring each network with its default
sizes near its lowest validation loss on the shipped names: the recurrent one overfits
sooner."""


# ------------------------------------------------------------------- words and data
def read_words(path: str | Path) -> list[str]:
    """The words of a UTF-8 text file, one per line: surrounding whitespace is stripped
    and blank lines are skipped; any other character becomes part of the vocabulary. A
    missing file, an empty one or a word holding the end mark '.' is an error that names
    the file (and the line)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder; give a text file with one word per line") from None
    except UnicodeDecodeError as e:
        raise ValueError(
            f"{path} is not UTF-8 text (byte {e.start} cannot be read); give "
            f"a text file with one word per line"
        ) from None
    words = []
    for number, line in enumerate(text.splitlines(), 1):
        word = line.strip()
        if END in word:
            raise ValueError(
                f"{path}, line {number}: {word!r} holds {END!r}, which marks the "
                f"start and end of every word here; remove it from the word"
            )
        if word:
            words.append(word)
    if not words:
        raise ValueError(f"{path} holds no words (expected one word per line)")
    return words


def names() -> list[str]:
    """The 690 first names that ship with models (models/data/names.txt; its README says
    where they come from)."""
    return read_words(NAMES_FILE)


class Vocabulary:
    """The characters of a list of words: '.' at index 0, then the others sorted."""

    def __init__(self, words: Iterable[str]) -> None:
        self.chars = END + "".join(sorted(set("".join(words)) - {END}))
        self._index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, word: str) -> list[int]:
        """The indices of the characters of `word`."""
        try:
            return [self._index[c] for c in word]
        except KeyError as e:
            raise ValueError(
                f"Vocabulary: {word!r} holds {e.args[0]!r}, which is not one of "
                f"the characters {self.chars!r}"
            ) from None

    def decode(self, indices: Iterable[int]) -> str:
        """The characters of `indices`."""
        return "".join(self.chars[int(i)] for i in indices)


def split_words(
    words: Sequence[str], seed: int = 0, val_fraction: float = 0.1
) -> tuple[list[str], list[str]]:
    """The words shuffled by `seed` and split into training and validation words
    (`val_fraction` of them, at least one each)."""
    if len(words) < 2:
        raise ValueError(
            f"split_words: need at least 2 words (one to train on, one to "
            f"validate on), got {len(words)}"
        )
    order = mt.randperm(len(words), generator=mt.Generator().manual_seed(seed)).tolist()
    n_val = min(max(1, round(val_fraction * len(words))), len(words) - 1)
    return [words[i] for i in order[n_val:]], [words[i] for i in order[:n_val]]


def build_dataset(
    words: Iterable[str], vocab: Vocabulary, block_size: int
) -> tuple[mt.Tensor, mt.Tensor]:
    """Every (context, next character) pair of the words: X (N, block_size) holds the
    indices of the `block_size` characters before each character, '.'s before the
    word's start, and Y (N,) the character, the closing '.' included (int64 both)."""
    if block_size < 1:
        raise ValueError(f"build_dataset: block_size must be at least 1, got {block_size}")
    X, Y = [], []
    for word in words:
        context = [0] * block_size
        for ix in vocab.encode(word) + [0]:
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return (
        mt.tensor(np.array(X, dtype=np.int64).reshape(-1, block_size)),
        mt.tensor(np.array(Y, dtype=np.int64)),
    )


# ------------------------------------------------------------------- the networks
class CharMLP(nn.Module):
    """Bengio et al. (2003): the `block_size` previous characters embedded, the
    embeddings concatenated, one hidden layer (tanh, or any activation of the
    registry) and the logits of the next character.

    >>> import microtensor as mt
    >>> _ = mt.manual_seed(0)
    >>> CharMLP(27, block_size=3)(mt.zeros(5, 3, dtype=mt.int64)).shape
    microtensor.Size([5, 27])
    """

    def __init__(
        self,
        vocab_size: int,
        block_size: int = 3,
        embedding_dim: int = 10,
        hidden: int = 200,
        activation: str = "tanh",
    ) -> None:
        super().__init__()
        self.block_size = block_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.hidden = nn.Linear(block_size * embedding_dim, hidden)
        self.activation = make_activation(activation)
        self.out = nn.Linear(hidden, vocab_size)

    def forward(self, x: mt.Tensor) -> mt.Tensor:
        return self.out(self.activation(self.hidden(self.embedding(x).flatten(1))))


class CharRNN(nn.Module):
    """The context's embeddings through a recurrent layer (nn.LSTM, nn.GRU or nn.RNN,
    batch first); its output at the last character gives the logits of the next."""

    def __init__(
        self,
        vocab_size: int,
        block_size: int = 8,
        embedding_dim: int = 16,
        hidden: int = 64,
        cell: str = "LSTM",
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"CharRNN: cell must be one of {list(CELLS)}, got {cell!r}")
        self.block_size = block_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.rnn = getattr(nn, cell)(embedding_dim, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab_size)

    def forward(self, x: mt.Tensor) -> mt.Tensor:
        output, _ = self.rnn(self.embedding(x))
        return self.out(output[:, -1])


# ------------------------------------------------------------------- training
@dataclass
class TrainingLog:
    """What `train` recorded: the loss of every step's minibatch, and at each of
    `eval_steps` the loss on the whole training and validation sets (nats per
    character). `seconds` is the training time."""

    step_loss: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0


def evaluate_loss(model: nn.Module, X: mt.Tensor, Y: mt.Tensor) -> float:
    """The mean cross-entropy of `model` on (X, Y), in eval mode and without a graph."""
    was = model.training
    model.eval()
    with mt.no_grad():
        loss = F.cross_entropy(model(X), Y).item()
    model.train(was)
    return float(loss)


def train(
    model: nn.Module,
    train_set: tuple[mt.Tensor, mt.Tensor],
    val_set: tuple[mt.Tensor, mt.Tensor],
    *,
    optimizer: mt.optim.Optimizer,
    steps: int,
    batch_size: int | None = 32,
    seed: int = 0,
    max_norm: float = 1.0,
    evaluations: int = 50,
    progress: bool = True,
) -> TrainingLog:
    """Train `model` for `steps` steps of cross-entropy on minibatches of `batch_size`
        pairs drawn (with replacement) from `train_set` by a generator seeded with `seed`
        (None: the whole set each step), gradients clipped to norm `max_norm`; the lr falls
        along a cosine to zero. The losses on both sets are measured before the first step
    and `evaluations` times along the way."""
    X, Y = train_set
    draw = mt.Generator().manual_seed(seed)
    scheduler = mt.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    every = max(1, steps // evaluations)
    log = TrainingLog()
    start = time.perf_counter()
    model.train()
    bar = tqdm(
        range(1, steps + 1),
        unit="step",
        disable=not _progress_enabled(progress),
        file=sys.stderr,
        dynamic_ncols=True,
    )

    def measure(step: int) -> None:
        log.eval_steps.append(step)
        log.train_loss.append(evaluate_loss(model, X, Y))
        log.val_loss.append(evaluate_loss(model, *val_set))
        bar.set_postfix(
            train=f"{log.train_loss[-1]:.3f}", val=f"{log.val_loss[-1]:.3f}", refresh=False
        )

    measure(0)
    for step in bar:
        if batch_size is None:
            xb, yb = X, Y
        else:
            ix = mt.randint(0, len(X), (batch_size,), generator=draw)
            xb, yb = X[ix], Y[ix]
        loss = F.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        scheduler.step()
        log.step_loss.append(loss.item())
        if step % every == 0 or step == steps:
            measure(step)
    bar.close()
    log.seconds = time.perf_counter() - start
    return log


# ------------------------------------------------------------------- sampling
def sample(
    model: nn.Module,
    vocab: Vocabulary,
    n: int,
    *,
    seed: int = 0,
    temperature: float = 1.0,
    max_length: int = 40,
) -> list[str]:
    """`n` words drawn character by character from softmax(logits / temperature) by a
    generator seeded with `seed`, each ending when '.' is drawn (or at `max_length`
    characters)."""
    if not temperature > 0:
        raise ValueError(f"sample: temperature must be positive, got {temperature}")
    draw = mt.Generator().manual_seed(seed)
    context = np.zeros((n, model.block_size), dtype=np.int64)
    drawn = np.zeros((n, max_length), dtype=np.int64)
    was = model.training
    model.eval()
    with mt.no_grad():
        for t in range(max_length):
            probs = F.softmax(model(mt.tensor(context)) / temperature, dim=-1)
            drawn[:, t] = mt.multinomial(probs, 1, generator=draw).numpy()[:, 0]
            context = np.concatenate([context[:, 1:], drawn[:, t : t + 1]], axis=1)
            if (drawn[:, : t + 1] == 0).any(axis=1).all():
                break
    model.train(was)
    return [vocab.decode(row).split(END)[0] for row in drawn]


def plot_losses(log: TrainingLog, path: str | Path, *, vocab_size: int, title: str) -> Path:
    """The loss curve: each minibatch's loss (faint), the training and validation losses
    and, for scale, the loss of guessing uniformly, ln(vocab_size)."""
    from .plots import _figure, _save  # here: importing models stays light (matplotlib)

    fig = _figure(6.4, 4.2)
    ax = fig.subplots()
    ax.plot(
        range(1, len(log.step_loss) + 1),
        log.step_loss,
        color="#1f77b4",
        alpha=0.25,
        lw=0.6,
        label="minibatch",
    )
    ax.plot(log.eval_steps, log.train_loss, color="#1f77b4", label="train")
    ax.plot(log.eval_steps, log.val_loss, color="#ff7f0e", ls="--", label="validation")
    ax.axhline(math.log(vocab_size), color="#7f7f7f", ls=":", label=f"uniform, ln {vocab_size}")
    ax.set(title=title, xlabel="step", ylabel="cross-entropy (nats per character)")
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path)
