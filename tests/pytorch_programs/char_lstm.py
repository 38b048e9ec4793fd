# A character-level LSTM language model, the step after makemore's MLP: an embedding, a
# one-layer LSTM over windows of a names text, a linear head, cross_entropy over (N, C, T)
# logits, gradient-norm clipping and Adam. The weights start from numpy's seeded
# generator (torch's random numbers differ between frameworks); training is full-batch.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

text = ".".join(["emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia",
                 "harper", "evelyn", "abigail", "emily", "elizabeth", "mila", "ella",
                 "avery", "sofia", "camila", "aria", "scarlett", "victoria", "madison"]) + "."
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
itos = {i: c for c, i in stoi.items()}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
T = 8
starts = range(0, len(data) - T - 1, 3)
X = torch.stack([data[i:i + T] for i in starts])
Y = torch.stack([data[i + 1:i + T + 1] for i in starts])
print(len(chars), X.shape, Y.shape)


class CharLSTM(nn.Module):
    def __init__(self, vocab, n_embd=8, n_hidden=32):
        super().__init__()
        self.emb = nn.Embedding(vocab, n_embd)
        self.rnn = nn.LSTM(n_embd, n_hidden, batch_first=True)
        self.head = nn.Linear(n_hidden, vocab)

    def forward(self, idx, state=None):
        out, state = self.rnn(self.emb(idx), state)
        return self.head(out), state


model = CharLSTM(len(chars))
rng = np.random.default_rng(0)
with torch.no_grad():
    for name, p in model.named_parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(p.shape))).float())
print([name for name, _ in model.named_parameters()])
print(sum(p.numel() for p in model.parameters()))

optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
for step in range(120):
    logits, _ = model(X)
    loss = F.cross_entropy(logits.transpose(1, 2), Y)
    optimizer.zero_grad()
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.1)
    optimizer.step()
    if step % 20 == 0:
        print(f"{step:4d} loss {loss.item():.4f} grad norm {norm.item():.4f}")

model.eval()
with torch.no_grad():
    logits, _ = model(X)
    print(f"final loss {F.cross_entropy(logits.transpose(1, 2), Y).item():.4f}")
    for prefix in ["em", "so", "ca", "vi"]:
        idx = torch.tensor([[stoi[c] for c in prefix]])
        out, state = model(idx)
        name = prefix
        for _ in range(10):
            nxt = out[0, -1].argmax().item()
            if itos[nxt] == ".":
                break
            name += itos[nxt]
            out, state = model(torch.tensor([[nxt]]), state)
        print(name)
