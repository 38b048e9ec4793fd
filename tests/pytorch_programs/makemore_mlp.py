# A character-level language model in the style of makemore part 2 (Bengio et al. 2003):
# a block of three characters -> an embedding table -> a tanh hidden layer -> logits over
# the next character. The parameters start from numpy's seeded generator (makemore uses
# torch.Generator().manual_seed, whose numbers differ between frameworks); training is
# full-batch so that no random minibatch enters the numbers, and names are completed
# greedily from a first letter.
import numpy as np
import torch
import torch.nn.functional as F

words = ["emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia",
         "harper", "evelyn", "abigail", "emily", "elizabeth", "mila", "ella", "avery",
         "sofia", "camila", "aria", "scarlett", "victoria", "madison", "luna", "grace",
         "chloe", "penelope", "layla", "riley", "zoey", "nora", "lily", "eleanor"]
chars = sorted(list(set(''.join(words))))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi['.'] = 0
itos = {i: s for s, i in stoi.items()}
vocab_size = len(itos)
print(vocab_size)

block_size = 3


def build_dataset(words):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + '.':
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    X = torch.tensor(X)
    Y = torch.tensor(Y)
    print(X.shape, Y.shape)
    return X, Y


Xtr, Ytr = build_dataset(words)

n_embd, n_hidden = 5, 64
rng = np.random.default_rng(2147483647)
C = torch.from_numpy(rng.standard_normal((vocab_size, n_embd))).float()
W1 = torch.from_numpy(rng.standard_normal((n_embd * block_size, n_hidden))).float() * (5 / 3) / (n_embd * block_size) ** 0.5
b1 = torch.from_numpy(rng.standard_normal(n_hidden)).float() * 0.01
W2 = torch.from_numpy(rng.standard_normal((n_hidden, vocab_size))).float() * 0.01
b2 = torch.zeros(vocab_size)
parameters = [C, W1, b1, W2, b2]
print(sum(p.nelement() for p in parameters))
for p in parameters:
    p.requires_grad = True

for i in range(300):
    emb = C[Xtr]
    h = torch.tanh(emb.view(-1, n_embd * block_size) @ W1 + b1)
    logits = h @ W2 + b2
    loss = F.cross_entropy(logits, Ytr)
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 0.5 if i < 200 else 0.05
    for p in parameters:
        p.data += -lr * p.grad
    if i % 50 == 0:
        print(f'{i:7d}: {loss.item():.4f}')

with torch.no_grad():
    emb = C[Xtr]
    h = torch.tanh(emb.view(emb.shape[0], -1) @ W1 + b1)
    logits = h @ W2 + b2
    print(f'train loss {F.cross_entropy(logits, Ytr).item():.4f}')
    probs = F.softmax(logits, dim=1)
    print(f'mean top probability {probs.max(dim=1).values.mean().item():.4f}')

for start in "aelmsz":
    out = [stoi[start]]
    context = [0, 0, stoi[start]]
    while True:
        emb = C[torch.tensor([context])]
        h = torch.tanh(emb.view(1, -1) @ W1 + b1)
        logits = h @ W2 + b2
        probs = F.softmax(logits, dim=1)
        ix = torch.argmax(probs, dim=1).item()
        context = context[1:] + [ix]
        out.append(ix)
        if ix == 0 or len(out) > 12:
            break
    print(''.join(itos[i] for i in out))
